package plan

import (
	"strings"
	"testing"
)

// TestMismatchPlural (issue 12 item 23): past the three differences a
// mismatch names, one more is "1 more difference".
func TestMismatchPlural(t *testing.T) {
	saved := &Plan{Fleet: "f", Region: "r"}
	for _, id := range []string{"a", "b", "c", "d"} {
		saved.Steps = append(saved.Steps, &Step{ID: id})
	}
	got := Mismatch(saved, &Plan{Fleet: "f", Region: "r"})
	if !strings.HasSuffix(got, "; and 1 more difference") {
		t.Errorf("Mismatch = %q, want it to end with \"; and 1 more difference\"", got)
	}
	saved.Steps = append(saved.Steps, &Step{ID: "e"})
	if got := Mismatch(saved, &Plan{Fleet: "f", Region: "r"}); !strings.HasSuffix(got, "; and 2 more differences") {
		t.Errorf("Mismatch = %q, want it to end with \"; and 2 more differences\"", got)
	}
}
