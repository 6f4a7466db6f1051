package schema

import "testing"

func TestCUEString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:        `"plain"`,
		`a "q" \(x)`:   `"a \"q\" \\(x)"`,
		"tab\tnl\n":    `"tab\tnl\n"`,
		"<b>&amp;</b>": `"<b>&amp;</b>"`,
	} {
		if got := cueString(in); got != want {
			t.Errorf("cueString(%q) = %s, want %s", in, got, want)
		}
	}
}
