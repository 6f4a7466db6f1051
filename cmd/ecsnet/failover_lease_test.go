package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestFailoverLeaseHeldChangesNothing: a failover started while another
// apply holds the fleet's lease refuses, naming the holder, and changes
// nothing: not the cloud, and not the desired-state file (an edit left
// behind would say the ENI moved when it did not), and it prints no git
// commands to commit a failover that did not happen.
func TestFailoverLeaseHeldChangesNothing(t *testing.T) {
	c := appliedE2E(t, nil)
	before, err := os.ReadFile(c.fleetPath())
	if err != nil {
		t.Fatal(err)
	}
	busy, err := c.client().AcquireLease(context.Background(), c.fleet(), "busy-apply", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Release(context.Background())
	c.calls()
	code, out, errs := c.run("failover", "vip", "--to", "lb-2", c.dir)
	if code != exitError || !strings.Contains(errs, "ecsnet failover: fleet shop-prod is being changed by busy-apply") || strings.Contains(errs, "ecsnet apply:") {
		t.Errorf("failover under another's lease: exit %d, want 1 naming the holder\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if now, _ := os.ReadFile(c.fleetPath()); !bytes.Equal(now, before) {
		t.Errorf("the refused failover edited the desired state:\n%s", now)
	}
	if strings.Contains(out, "git ") || strings.Contains(out, "Commit the failover") {
		t.Errorf("the refused failover prints commit commands:\n%s", out)
	}
	c.wantCalls(map[string]int{})
	if on, record := c.vipOn(); on != "i-bp1lb0000001" || record != "" {
		t.Errorf("vip on %s, record %q; want lb-1 and none", on, record)
	}
}
