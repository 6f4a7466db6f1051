package schema

import (
	"testing"
)

// TestSpliceAttachToRefusesBadName: the new value is spelt into the file
// unescaped (spell relies on instance names being DNS labels), so a value
// that is not one is refused before any bytes are made: a quote in it
// would otherwise end the literal and add fields of its own.
func TestSpliceAttachToRefusesBadName(t *testing.T) {
	for _, name := range []string{"fleet.cue", "fleet.json", "fleet.yaml"} {
		src := map[string]string{"fleet.cue": spliceCUE, "fleet.json": spliceJSON, "fleet.yaml": spliceYAML}[name]
		f := mustLoad(t, write(t, t.TempDir(), name, src))
		for _, to := range []string{`web-2", secondaryIps: ["10.0.0.9"], x: "`, "web 2", "Web-2", ""} {
			if s, err := SpliceAttachTo(f, "vip", to); err == nil {
				t.Errorf("%s: SpliceAttachTo(%q) made an edit:\n%s", name, to, s.Out)
			}
		}
	}
}
