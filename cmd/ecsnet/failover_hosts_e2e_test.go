package main

import (
	"slices"
	"strings"
	"testing"
)

// TestFailoverE2EHosts: in hosts mode (ifupdown guests lb-1 and lb-2 run
// for real), failover --hosts takes the VIP off lb-1's host before the
// detach and configures lb-2's after the attach: lb-2 then holds the
// VIP's addresses as the render says, lb-1 none of them, and verify is
// clean.
func TestFailoverE2EHosts(t *testing.T) {
	t.Parallel() // hosts mode: each test has its own emulator and namespaces
	c := newHostsE2E(t)
	// Other stacks are recorded, not executed, so this apply exits 1.
	c.must(exitError, "apply", "--auto-approve", "--hosts", c.dir)
	if got := c.liveState("lb-1"); !slices.Contains(got.Addrs, "eth1 172.16.0.100/24") {
		t.Fatalf("lb-1 does not hold the VIP before the failover: %v", got.Addrs)
	}
	out, errs := c.must(exitOK, "failover", "vip", "--to", "lb-2", "--hosts", c.dir)
	t.Logf("failover --hosts:\n%s\n%s", out, errs)
	for _, want := range []string{"host-remove host/lb-1", "host-apply host/lb-2"} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan lacks %s:\n%s", want, out)
		}
	}
	c.hostsRight("after failover --hosts")
	lb2 := c.liveState("lb-2")
	for _, a := range []string{"172.16.0.100/24", "172.16.0.101/24", "172.16.0.102/24"} {
		if !slices.Contains(lb2.Addrs, "eth1 "+a) {
			t.Errorf("lb-2 lacks %s on eth1: %v", a, lb2.Addrs)
		}
	}
	if got := c.liveState("lb-1"); slices.ContainsFunc(got.Addrs, func(a string) bool { return strings.Contains(a, "172.16.0.10") }) {
		t.Errorf("lb-1 keeps a VIP address: %v", got.Addrs)
	}
	if code, vout := c.verify(); code != exitOK {
		t.Errorf("verify after the failover: exit %d\n%s", code, vout)
	}
}
