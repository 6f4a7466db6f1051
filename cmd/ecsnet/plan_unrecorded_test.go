package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/ecs"
)

// TestPlanFailOnUnrecorded: an address added by hand to a managed ENI
// leaves plan --detailed-exitcode at 0 (it is kept), but with
// --fail-on-unrecorded it counts as a change: exit 2, and the plan says
// why in every format. Once apply --prune removed it, the gate is green
// again. Without --detailed-exitcode the flag is refused (issue 12 item
// 27).
func TestPlanFailOnUnrecorded(t *testing.T) {
	c := appliedE2E(t, nil)
	if _, err := c.client().AssignPrivateIpAddresses(context.Background(), ecs.AssignInput{ENIID: c.lockedID("eni/vip"),
		IPs: addrs(t, "172.16.0.110"), ClientToken: "by-hand-1"}); err != nil {
		t.Fatal(err)
	}
	c.calls()

	c.must(exitOK, "plan", "--detailed-exitcode", c.dir)
	note := "--fail-on-unrecorded: 1 address the lock does not record (added outside ecsnet) counts as changes: exit 2."
	out, _ := c.must(exitChanges, "plan", "--detailed-exitcode", "--fail-on-unrecorded", c.dir)
	for _, want := range []string{"172.16.0.110", note, "ecsnet apply --prune",
		"No changes. The cloud holds what the desired state asks for, and 1 address the lock does not record (kept; plan --prune removes them)."} {
		if !strings.Contains(out, want) {
			t.Errorf("plan --fail-on-unrecorded does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "matches the desired state") {
		t.Errorf("plan claims the cloud matches while it exits 2 for an unrecorded address:\n%s", out)
	}
	out, _ = c.must(exitChanges, "plan", "--detailed-exitcode", "--fail-on-unrecorded", "--format", "markdown", c.dir)
	if !strings.Contains(out, note) {
		t.Errorf("markdown plan lacks the note:\n%s", out)
	}
	out, _ = c.must(exitChanges, "plan", "--detailed-exitcode", "--fail-on-unrecorded", "--format", "json", c.dir)
	var doc struct{ Notes []string }
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("JSON plan: %v\n%s", err, out)
	}
	if !strings.Contains(strings.Join(doc.Notes, "\n"), note) {
		t.Errorf("JSON notes %q lack %q", doc.Notes, note)
	}
	_, errs := c.must(exitError, "plan", "--fail-on-unrecorded", c.dir)
	if !strings.Contains(errs, "add --detailed-exitcode") {
		t.Errorf("plan --fail-on-unrecorded alone:\n%s", errs)
	}
	c.wantCalls(map[string]int{})

	c.apply("--prune")
	c.wantCalls(map[string]int{"UnassignPrivateIpAddresses": 1})
	out, _ = c.must(exitOK, "plan", "--detailed-exitcode", "--fail-on-unrecorded", c.dir)
	if strings.Contains(out, "--fail-on-unrecorded") {
		t.Errorf("plan without unrecorded addresses mentions the flag:\n%s", out)
	}
}
