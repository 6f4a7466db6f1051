package main

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/plan"
)

// TestHostsE2EDeadSource: in hosts mode, with lb-1 and lb-2 real ifupdown
// guests, lb-1 (which holds the VIP) is stopped through the API and the
// VIP moves to lb-2 with apply --hosts. lb-1's host-remove is skipped as
// not reachable; lb-2 ends holding and serving the address exactly as
// rendered; apply exits 1 (a step was skipped) and names the push that
// cleans lb-1. Once lb-1 is started again, that push removes the
// configuration lb-1 kept, and verify is clean on both (issue 16). The
// boot-time reconcile that would clean lb-1 by itself is not built yet.
func TestHostsE2EDeadSource(t *testing.T) {
	t.Parallel() // hosts mode: each test has its own emulator and namespaces
	c := newHostsE2E(t)
	c.must(exitError, "apply", "--auto-approve", "--hosts", c.dir) // the recorded guests are not executed
	c.hostsRight("after the first apply --hosts")
	vip := c.lock().Secondary("vip").Addrs()[0].String() + "/24"

	c.power("StopInstance", lb1ID, plan.InstanceStopped)
	c.edit(`attachTo: "lb-1"`, `attachTo: "lb-2"`)
	code, out, errs := c.run("apply", "--auto-approve", "--hosts", c.dir)
	t.Logf("failover from a stopped lb-1:\n%s\n%s", out, errs)
	if code != exitError {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(out, "host-remove host/lb-1 cannot run: lb-1 (i-bp1lb0000001) is Stopped.") ||
		!strings.Contains(errs, "  lb-1       i-bp1lb0000001   not reachable ") {
		t.Errorf("lb-1's host-remove is not reported as not reachable")
	}
	if got, want := c.liveState("lb-2"), c.wantState("lb-2"); !got.equal(want) || !slices.Contains(got.Addrs, "eth1 "+vip) {
		t.Errorf("lb-2 does not hold the VIP as rendered\n--- got\n%s\n--- want\n%s", got, want)
	}
	if !strings.HasSuffix(errs, "run:\n  ecsnet push --instance lb-1 --endpoint "+c.url+" "+c.dir+"\n") {
		t.Errorf("apply does not end with the push that cleans lb-1")
	}

	c.power("StartInstance", lb1ID, plan.InstanceRunning)
	if pout, perr := c.must(exitOK, "push", "--instance", "lb-1", "--endpoint", c.url, c.dir); !strings.Contains(pout, "Push: 1 host done of 1: 1 applied") {
		t.Errorf("push lb-1:\n%s\n%s", pout, perr)
	}
	c.hostsRight("after lb-1 came back and was pushed to")
	if got := c.liveState("lb-1"); slices.ContainsFunc(got.Addrs, func(a string) bool { return strings.HasSuffix(a, " "+vip) }) {
		t.Errorf("lb-1 still holds the VIP: %v", got.Addrs)
	}
	if code, vout := c.verify(); code != exitOK || !strings.Contains(vout, "Verify: 3 in sync, 0 with drift") {
		t.Errorf("verify: exit %d\n%s", code, vout)
	}
}

// TestHostsE2EOneFailsOthersConfigured: every real guest gains an
// address; edge-1's ENI interface lost its MAC, so its payload refuses.
// With --max-failures 0 (the default) the rollout stops, but lb-1 and
// lb-2, admitted with edge-1 (one batch), are finished: configured as
// rendered, not left with addresses the cloud gave them and they never
// got (issue 16). apply exits 1 and names the push for edge-1 alone.
func TestHostsE2EOneFailsOthersConfigured(t *testing.T) {
	t.Parallel() // hosts mode: each test has its own emulator and namespaces
	c := newHostsE2E(t)
	c.must(exitError, "apply", "--auto-approve", "--hosts", c.dir) // the recorded guests are not executed
	c.edit(`ip: "172.16.0.15", securityGroups: ["web"], secondaryIps: ["172.16.0.51"]`, `ip: "172.16.0.15", securityGroups: ["web"], secondaryIps: ["172.16.0.51", "172.16.0.52"]`)
	c.edit(`secondaryIps: ["172.16.0.31"]`, `secondaryIps: ["172.16.0.31", "172.16.0.33"]`)
	c.edit(`ip: "172.16.0.13", securityGroups: ["web"]`, `ip: "172.16.0.13", securityGroups: ["web"], secondaryIps: ["172.16.0.34"]`)
	if _, stderr, err := c.guest("edge-1").Exec(context.Background(), nil, "ip", "link", "set", "dev", "eth1", "address", "02:00:00:00:00:99"); err != nil {
		t.Fatalf("ip link set: %v: %s", err, stderr)
	}
	code, out, errs := c.run("apply", "--auto-approve", "--hosts", c.dir)
	t.Logf("apply:\n%s\n%s", out, errs)
	if code != exitError {
		t.Fatalf("exit %d, want 1", code)
	}
	if !regexp.MustCompile(`(?m)^  edge-1 +i-\S+ +refused `).MatchString(errs) {
		t.Errorf("edge-1 is not reported refused")
	}
	for _, name := range []string{"lb-1", "lb-2"} {
		if !regexp.MustCompile(`(?m)^  ` + name + ` +i-\S+ +applied `).MatchString(errs) {
			t.Errorf("%s is not reported applied", name)
		}
		if got, want := c.liveState(name), c.wantState(name); !got.equal(want) {
			t.Errorf("%s differs from the render\n--- got\n%s\n--- want\n%s", name, got, want)
		}
	}
	if !strings.HasSuffix(errs, "run:\n  ecsnet push --instance edge-1 --endpoint "+c.url+" "+c.dir+"\n") {
		t.Errorf("apply does not end with the push for edge-1")
	}
}
