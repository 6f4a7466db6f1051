package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestYAMLErrorAtBreakingLine pins issue 12 item 18: a YAML syntax error
// is reported at the line that breaks the file, not at the start of the
// block the decoder was parsing (which can be dozens of lines above).
func TestYAMLErrorAtBreakingLine(t *testing.T) {
	var long strings.Builder
	long.WriteString("fleet: shop-test\ninstances:\n")
	for i := range 12 {
		long.WriteString("  web-" + string(rune('a'+i)) + ":\n    id: x\n    os: centos7\n    primary: {vswitch: app-h}\n")
	}
	long.WriteString("  web-z:\n    id: x\n   os: centos7\n") // line 53
	for _, c := range []struct {
		name, src string
		want      string
	}{
		{"dedented key far below the block", long.String(), ":53:4: invalid YAML: did not find expected key"},
		{"key in a sequence entry", "a:\n  - x: 1\n    y: 2\n   z: 3\nb: 1\n", ":4:4: invalid YAML"},
		{"after a block scalar", "a:\n  t: |\n    text\n      more:\n  b: 1\n c: 2\n", ":6:2: invalid YAML"},
		{"after comments and blank lines", "a:\n  b: 1\n\n  # note\n  c: 2\n d: 3\n", ":6:2: invalid YAML"},
		{"tab", "a:\n  b: 1\n\tc: 2\n", ":3:1: invalid YAML"},
	} {
		p := filepath.Join(t.TempDir(), "fleet.yaml")
		if err := os.WriteFile(p, []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load([]string{p}, LoadOptions{})
		if err == nil || !strings.Contains(err.Error(), p+c.want) {
			t.Errorf("%s: got %v, want %s", c.name, err, c.want)
		}
	}
}
