package plural

import "testing"

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{
		{0, "0 hosts"},
		{1, "1 host"},
		{2, "2 hosts"},
		{-1, "-1 hosts"},
		{21, "21 hosts"},
	} {
		if got := Count(tt.n, "host", "hosts"); got != tt.want {
			t.Errorf("Count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := Count(1, "secondary address", "secondary addresses"); got != "1 secondary address" {
		t.Errorf("Count(1, address) = %q", got)
	}
	if got, want := Word(1, "needs", "need")+" "+Word(3, "needs", "need"), "needs need"; got != want {
		t.Errorf("Word = %q, want %q", got, want)
	}
}
