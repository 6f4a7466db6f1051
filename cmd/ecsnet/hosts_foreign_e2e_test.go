package main

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestHostsE2EForeignAddress: push and verify share one definition of
// converged (issue 15). An address added by hand on an interface ecsnet
// manages, which ecsnet did not write, is foreign: verify warns and exits
// 0, push leaves it, and push --prune removes it (and nothing else). (An address ecsnet wrote, deleted by hand, is
// drift that push restores: TestHostsE2E, "a host changed by hand shows
// as drift".)
func TestHostsE2EForeignAddress(t *testing.T) {
	t.Parallel() // hosts mode: each test has its own emulator and namespaces
	c := newHostsE2E(t)
	// exit 1: the guests of the stacks the emulator only records are
	// "not executed".
	c.must(exitError, "apply", "--auto-approve", "--hosts", c.dir)
	if code, vout := c.verify(); code != exitOK {
		t.Fatalf("verify after apply --hosts: exit %d\n%s", code, vout)
	}

	const foreign = "172.16.0.250/24"
	g := c.guest("lb-1")
	if _, stderr, err := g.Exec(context.Background(), nil, "ip", "addr", "add", foreign, "dev", "eth0"); err != nil {
		t.Fatalf("ip addr add: %v: %s", err, stderr)
	}
	// Another on the secondary ENI's interface, found by its MAC.
	const foreign2 = "172.16.0.251/24"
	if _, stderr, err := g.Exec(context.Background(), nil, "ip", "addr", "add", foreign2, "dev", "eth1"); err != nil {
		t.Fatalf("ip addr add: %v: %s", err, stderr)
	}
	warning := "warning: primary ENI on eth0: " + foreign + " was not added by ecsnet"
	code, vout := c.verify()
	if code != exitOK || !strings.Contains(vout, warning) || !strings.Contains(vout, "Verify: 3 in sync, 0 with drift") {
		t.Fatalf("verify with a foreign address: exit %d, want %d and %q\n%s", code, exitOK, warning, vout)
	}
	if !strings.Contains(vout, "warning: ENI ") || !strings.Contains(vout, "on eth1: "+foreign2+" was not added by ecsnet") {
		t.Errorf("verify does not warn about %s on eth1:\n%s", foreign2, vout)
	}
	code, out, _ := c.run("verify", "--format", "json", c.dir)
	if code != exitOK || !strings.Contains(out, `"foreign": [`) || !strings.Contains(out, foreign+" was not added by ecsnet") {
		t.Errorf("verify --format json with a foreign address: exit %d\n%s", code, out)
	}

	c.must(exitOK, "push", "--instance", "lb-1", c.dir)
	has := func(addr string) bool {
		return slices.ContainsFunc(c.liveState("lb-1").Addrs, func(a string) bool { return strings.Contains(a, addr) })
	}
	if !has(foreign) || !has(foreign2) {
		t.Errorf("push removed a foreign address: lb-1 has %v", c.liveState("lb-1").Addrs)
	}
	if code, vout := c.verify(); code != exitOK || !strings.Contains(vout, warning) {
		t.Errorf("verify after push: exit %d\n%s", code, vout)
	}

	c.must(exitOK, "push", "--prune", "--instance", "lb-1", c.dir)
	if has(foreign) || has(foreign2) {
		t.Errorf("push --prune left a foreign address: lb-1 has %v", c.liveState("lb-1").Addrs)
	}
	c.hostsRight("after push --prune")
	if code, vout := c.verify(); code != exitOK || strings.Contains(vout, "warning:") {
		t.Errorf("verify after push --prune: exit %d\n%s", code, vout)
	}
	// Windows payloads cannot prune: refused, before anything runs, and
	// without stopping the Linux hosts pushed beside it.
	if code, out, errs := c.run("push", "--prune", "--instance", "win-1", c.dir); code != exitError || !strings.Contains(out+errs, "not supported on Windows hosts") {
		t.Errorf("push --prune to a Windows host: exit %d\n%s\n%s", code, out, errs)
	}
	if _, stderr, err := g.Exec(context.Background(), nil, "ip", "addr", "add", foreign, "dev", "eth0"); err != nil {
		t.Fatalf("ip addr add: %v: %s", err, stderr)
	}
	code, out, errs := c.run("push", "--prune", "--instance", "win-1,lb-1", c.dir)
	if code != exitError || !strings.Contains(out+errs, "not supported on Windows hosts") || has(foreign) ||
		!regexp.MustCompile(`win-1 +\S+ +refused`).MatchString(out) || !regexp.MustCompile(`lb-1 +\S+ +applied`).MatchString(out) {
		t.Errorf("push --prune to win-1 and lb-1: exit %d, lb-1 has %v\n%s\n%s", code, c.liveState("lb-1").Addrs, out, errs)
	}
}
