package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs"
)

// TestUnlock: an apply killed on another machine left the fleet's lease.
// unlock with another ID refuses, names the holder and changes nothing;
// with the holder's ID it removes that tag only, saying who held it and
// since when; a second unlock finds nothing to break; apply then runs.
func TestUnlock(t *testing.T) {
	c := newE2E(t, nil)
	f, cl := c.fleet(), c.client()
	ctx := context.Background()
	_, eni := modelLease(t, cl, f)
	now := time.Now().UTC().Truncate(time.Second)
	since := now.Add(-time.Minute).Format(time.RFC3339)
	value := now.Add(2*time.Minute).Format(time.RFC3339) + " ttl=120 since=" + since + " pid=4242 start=5 m=000000000000 n=3"
	if err := cl.TagResources(ctx, []string{eni}, map[string]string{ecs.LeaseTagPrefix + "far-host-4242-cafe": value}); err != nil {
		t.Fatal(err)
	}
	c.calls()

	code, out, errs := c.run("unlock", "far-host-4242-beef", c.dir)
	if code != exitError || out != "" || !strings.Contains(errs, "is held by far-host-4242-cafe (pid 4242, since "+since+"); nothing was changed") {
		t.Errorf("unlock with a wrong ID: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	c.wantCalls(map[string]int{})
	if got := leaseTags(t, cl, f); got[ecs.LeaseTagPrefix+"far-host-4242-cafe"] != value {
		t.Errorf("lease tags after a refused unlock: %v", got)
	}

	code, out, errs = c.run("unlock", "far-host-4242-cafe", c.dir)
	if code != exitOK || !strings.Contains(out, "ecsnet unlock: broke the lease of fleet shop-prod held by far-host-4242-cafe (pid 4242, since "+since+") on ENI "+eni) {
		t.Errorf("unlock: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if mut, calls := c.calls(); mut != 1 || calls["UntagResources"] != 1 {
		t.Errorf("unlock made %d calls that change something (%v), want one UntagResources", mut, calls)
	}
	if got := leaseTags(t, cl, f); len(got) != 0 {
		t.Errorf("lease tags after unlock: %v", got)
	}

	code, _, errs = c.run("unlock", "far-host-4242-cafe", c.dir)
	if code != exitError || !strings.Contains(errs, "fleet shop-prod holds no lease") {
		t.Errorf("a second unlock: exit %d, stderr:\n%s", code, errs)
	}
	c.apply()

	// A holder running here: unlock breaks it too, and says it stops at
	// its next renewal.
	live, err := cl.AcquireLease(ctx, f, "live-here", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs = c.run("unlock", "live-here", c.dir)
	if code != exitOK || !strings.Contains(out, "its process is still running on this machine: it stops at its next renewal") {
		t.Errorf("unlock of a live holder here: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if err := live.Renew(ctx); !errors.Is(err, ecs.ErrLeaseLost) {
		t.Errorf("the broken lease renews: %v", err)
	}

	code, _, errs = c.run("unlock", c.dir)
	if code != exitError || !strings.Contains(errs, "ecsnet unlock LEASE_ID PATH...") {
		t.Errorf("unlock without an ID: exit %d, stderr:\n%s", code, errs)
	}
}
