package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestHostsE2EProbeWrongGateway: issue 15's "a render with a wrong
// gateway: the probe fails and the host rolls back by itself", in hosts
// mode, where the emulator's wire answers each vSwitch's gateway at .253
// only. The example is applied to the cloud alone (apply without
// --hosts), so edge-1 (iproute2) has its ENIs but not yet ecsnet's
// configuration. Then the file's app-h block is a /25 where the cloud's is
// a /24, with a lock that does not record the cloud's blocks (one written
// before it did, so render cannot refuse the file): edge-1's render has
// gateway 172.16.0.125 for its primary ENI. push delivers it: the apply
// and its verification pass, the gateway probe does not, and edge-1 rolls
// back: push reports it "rolled back" with the probe on its line (text and
// JSON) and exits 1, and edge-1 is as before. A push of the right render
// then applies, and edge-1 is as rendered. (--skip-probes: guest's
// TestProbeWrongGateway.)
func TestHostsE2EProbeWrongGateway(t *testing.T) {
	t.Parallel() // hosts mode: each test has its own emulator and namespaces
	c := newHostsE2E(t)
	c.must(exitOK, "apply", "--auto-approve", c.dir)
	before := c.liveState("edge-1")
	right, err := os.ReadFile(c.fleetPath())
	if err != nil {
		t.Fatal(err)
	}
	rightLock, err := os.ReadFile(c.lockPath())
	if err != nil {
		t.Fatal(err)
	}
	var lock map[string]any
	if err := json.Unmarshal(rightLock, &lock); err != nil {
		t.Fatal(err)
	}
	delete(lock, "vswitches")
	old, err := json.MarshalIndent(lock, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.lockPath(), old, 0o644); err != nil {
		t.Fatal(err)
	}
	c.edit(`cidr: "172.16.0.0/24"`, `cidr: "172.16.0.0/25"`)

	code, out, errs := c.run("push", "--instance", "edge-1", c.dir)
	if code != exitError {
		t.Fatalf("push with a wrong gateway: exit %d, want %d\n%s\n%s", code, exitError, out, errs)
	}
	line := regexp.MustCompile(`(?m)^ +edge-1 +\S+ +rolled back +[0-9.]+s +exit 5: rolled back: probe failed: gateway primary: no answer from 172\.16\.0\.125 to a ping from 172\.16\.0\.15 .*; the host is as it was before$`)
	if !line.MatchString(out) {
		t.Errorf("push does not report edge-1 rolled back with the gateway probe on its line:\n%s\n%s", out, errs)
	}
	if !strings.Contains(out, "probe: gateway primary: failed: no answer from 172.16.0.125") {
		t.Errorf("push's output lacks the primary ENI's failed probe:\n%s", out)
	}
	if got := c.liveState("edge-1"); !got.equal(before) {
		t.Errorf("edge-1 after the rollback differs from before\n--- got\n%s\n--- want\n%s", got, before)
	}
	code, out, _ = c.run("push", "--instance", "edge-1", "--format", "json", c.dir)
	if code != exitError || !strings.Contains(out, `"outcome": "rolled back"`) || !strings.Contains(out, `rolled back: probe failed: gateway primary: `) {
		t.Errorf("push --format json: exit %d, want the rolled-back outcome with the probe\n%s", code, out)
	}
	if got := c.liveState("edge-1"); !got.equal(before) {
		t.Errorf("edge-1 after the second rollback differs from before\n--- got\n%s\n--- want\n%s", got, before)
	}

	c.writeFleet(string(right))
	if err := os.WriteFile(c.lockPath(), rightLock, 0o644); err != nil {
		t.Fatal(err)
	}
	c.must(exitOK, "push", "--instance", "edge-1", c.dir)
	if got, want := c.liveState("edge-1"), c.wantState("edge-1"); !got.equal(want) {
		t.Errorf("edge-1 after a push of the right render differs from the render\n--- got\n%s\n--- want\n%s", got, want)
	}
}
