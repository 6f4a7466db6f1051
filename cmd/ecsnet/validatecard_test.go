package main

import (
	"strings"
	"testing"
)

// TestValidateDescribeCard checks that validate --describe names the
// network card of an ENI the file puts on another card than 0: the
// example's edge-1-data sits on its two-card type's second card.
func TestValidateDescribeCard(t *testing.T) {
	code, out, errs := runCLI(t, "validate", "--describe", "../../fixtures/example/fleet.cue")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	want := "  ENI edge-1-data primary picked by the cloud in data-h; secondary: 2 picked by the cloud; network card 1\n"
	if !strings.Contains(out, want) {
		t.Errorf("describe:\n%s\nwant a line:\n%s", out, want)
	}
	if strings.Count(out, "network card") != 1 {
		t.Errorf("only edge-1-data names a card:\n%s", out)
	}
}
