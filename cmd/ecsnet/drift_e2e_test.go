package main

import (
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/ecs"
)

// TestE2ELostCountedAddressRestored pins issue 12 item 9 against the
// emulator: a counted address unassigned outside ecsnet is assigned again
// from the lock, so the lock (and every host configuration rendered from
// it) ends as it was; the plan labels the step drift (item 11). When the
// lost address is taken by then, the cloud picks another and the plan
// says why.
func TestE2ELostCountedAddressRestored(t *testing.T) {
	c := appliedE2E(t, nil)
	ctx := context.Background()
	cl := c.client()
	id := c.lockedID("eni/app-1-data")
	before := c.lockedAddrs("eni/app-1-data")
	lost := netip.MustParseAddr(before[0])
	if err := cl.UnassignPrivateIpAddresses(ctx, id, []netip.Addr{lost}); err != nil {
		t.Fatal(err)
	}
	c.calls()

	out, _ := c.must(exitChanges, "plan", "--detailed-exitcode", c.dir)
	for _, want := range []string{"+ " + before[0], "assign eni/app-1-data [drift]: restoring " + before[0], "Drift: 1 step (marked [drift])"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan does not say %q:\n%s", want, out)
		}
	}
	js, _ := c.must(exitChanges, "plan", "--detailed-exitcode", "--format", "json", c.dir)
	var doc struct {
		Steps []struct {
			ID    string       `json:"id"`
			IPs   []netip.Addr `json:"ips"`
			Count int          `json:"count"`
			Drift bool         `json:"drift"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Steps) != 1 || !doc.Steps[0].Drift || doc.Steps[0].Count != 0 || !slices.Equal(doc.Steps[0].IPs, []netip.Addr{lost}) {
		t.Errorf("JSON plan: %+v", doc.Steps)
	}
	c.apply()
	c.wantCalls(map[string]int{"AssignPrivateIpAddresses": 1})
	c.converged(nil)
	if got := c.lockedAddrs("eni/app-1-data"); !slices.Equal(got, before) {
		t.Errorf("lock after the restore: %v, was %v", got, before)
	}

	// Lost again, and taken by another ENI by hand before the next plan:
	// the cloud picks another address.
	if err := cl.UnassignPrivateIpAddresses(ctx, id, []netip.Addr{lost}); err != nil {
		t.Fatal(err)
	}
	cache := c.lockedID("eni/cache-1-data")
	if _, err := cl.AssignPrivateIpAddresses(ctx, ecs.AssignInput{ENIID: cache, IPs: []netip.Addr{lost}, ClientToken: "by-hand-1"}); err != nil {
		t.Fatal(err)
	}
	c.calls()
	out, _ = c.must(exitChanges, "plan", "--detailed-exitcode", c.dir)
	if want := before[0] + ", which the lock records, was unassigned outside ecsnet and is now held by ENI " + cache + ": the cloud picks another address in its place"; !strings.Contains(out, want) {
		t.Errorf("plan does not say %q:\n%s", want, out)
	}
	c.apply()
	c.wantCalls(map[string]int{"AssignPrivateIpAddresses": 1})
	c.converged(map[string][]string{cache: {before[0]}})
	got := c.lockedAddrs("eni/app-1-data")
	kept := slices.DeleteFunc(slices.Clone(got), func(a string) bool { return !slices.Contains(before, a) })
	if len(got) != 4 || slices.Contains(got, before[0]) || !slices.Equal(kept, before[1:]) {
		t.Errorf("lock after the new pick: %v (was %v)", got, before)
	}
}

// TestE2EDetachedByHandIsDrift pins item 11 against the emulator: an ENI
// detached outside ecsnet is attached again, and all three views say it is
// drift; the same move asked for by the file is not.
func TestE2EDetachedByHandIsDrift(t *testing.T) {
	c := appliedE2E(t, nil)
	cl := c.client()
	vip := c.lockedID("eni/vip")
	if err := cl.DetachNetworkInterface(context.Background(), vip, "i-bp1lb0000001"); err != nil {
		t.Fatal(err)
	}
	c.calls()
	text, _ := c.must(exitChanges, "plan", "--detailed-exitcode", c.dir)
	md, _ := c.must(exitChanges, "plan", "--detailed-exitcode", "--format", "markdown", c.dir)
	js, _ := c.must(exitChanges, "plan", "--detailed-exitcode", "--format", "json", c.dir)
	const why = "detached outside ecsnet; the lock records it on lb-1: attaching it again"
	for view, out := range map[string]string{"text": text, "markdown": md} {
		for _, want := range []string{"attach eni/vip [drift]: " + why, "(drift: " + why + ")"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s plan does not say %q:\n%s", view, want, out)
			}
		}
	}
	if !strings.Contains(js, `"drift": true`) || !strings.Contains(js, why) {
		t.Errorf("JSON plan does not label the attach drift:\n%s", js)
	}
	c.apply()
	c.wantCalls(map[string]int{"AttachNetworkInterface": 1})
	c.converged(nil)

	c.edit(`attachTo: "lb-1"`, `attachTo: "lb-2"`)
	text, _ = c.must(exitChanges, "plan", "--detailed-exitcode", c.dir)
	if strings.Contains(text, "drift") {
		t.Errorf("a move the file asks for is labelled drift:\n%s", text)
	}
}
