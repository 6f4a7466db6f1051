package main

import (
	"strings"
	"testing"
)

// TestImportedNotYetAdded adopts an ENI and does not add its entry to the
// desired state: what import says about that time must be true. Plan and
// apply --allow-destroy leave the ENI alone, with a note, and make no call
// that touches it.
func TestImportedNotYetAdded(t *testing.T) {
	c := appliedE2E(t, importWorld)
	const id = "eni-bp1podpool00000001"
	_, errs := c.must(exitOK, "import", id, "--as", "pod-pool", c.dir)
	if strings.Contains(errs, "would delete") || !strings.Contains(errs, "Until it is added, ecsnet leaves the ENI alone: it never modifies or deletes an adopted ENI") {
		t.Errorf("import does not say what happens until the entry is added:\n%s", errs)
	}
	if _, help, _ := runCLI(t, "help", "import"); strings.Contains(help, "is deleted by apply --allow-destroy") || !strings.Contains(help, "ecsnet never\nmodifies or deletes an ENI it adopted") {
		t.Errorf("help import:\n%s", help)
	}
	c.wantCalls(map[string]int{"TagResources": 1})

	out, _ := c.must(exitOK, "plan", "--detailed-exitcode", c.dir)
	if !strings.Contains(out, id) || !strings.Contains(out, "never deletes it") {
		t.Errorf("plan does not list the adopted ENI as left alone:\n%s", out)
	}
	c.apply("--allow-destroy")
	c.wantCalls(map[string]int{})
	if eniByID(c.srv.State(), id) == nil {
		t.Fatalf("apply --allow-destroy deleted the adopted ENI %s", id)
	}
}
