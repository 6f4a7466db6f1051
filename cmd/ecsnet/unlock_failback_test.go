package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/plan"
)

// TestUnlockAfterKilledFailback: an apply --allow-failback moving the VIP
// back from where ecsnet failover put it was killed after its detach (the
// source's host-remove had run), leaving the fleet's lease and the VIP
// attached to no instance. unlock breaks the lease and names the command
// that finishes the job, apply --allow-failback with the cloud flags and
// paths, and says the VIP is served nowhere; a plain apply is refused,
// saying the same and that finishing is urgent, with no call that changes
// the cloud; the pasted command attaches the VIP where the desired state
// says and clears the record. Without a failover record, unlock names the
// plain apply.
func TestUnlockAfterKilledFailback(t *testing.T) {
	c := appliedE2E(t, nil)
	f, cl := c.fleet(), c.client()
	ctx := context.Background()
	before, err := os.ReadFile(c.fleetPath())
	if err != nil {
		t.Fatal(err)
	}
	c.must(exitOK, "failover", "vip", "--to", "lb-2", c.dir)
	c.writeFleet(string(before)) // main still attaches the VIP to lb-1

	// The killed apply's leftovers: its lease, and the VIP detached from
	// lb-2 but not attached to lb-1.
	vip := fleetENIs(c.srv.State())["vip"][0].NetworkInterfaceId
	if err := cl.DetachNetworkInterface(ctx, vip, "i-bp1lb0000002"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.WaitENI(ctx, vip, plan.ENIAvailable); err != nil {
		t.Fatal(err)
	}
	leave := func(holder string) {
		t.Helper()
		_, eni := modelLease(t, cl, f)
		now := time.Now().UTC().Truncate(time.Second)
		value := now.Add(2*time.Minute).Format(time.RFC3339) + " ttl=120 since=" + now.Format(time.RFC3339) + " pid=4242 start=5 m=000000000000 n=3"
		if err := cl.TagResources(ctx, []string{eni}, map[string]string{ecs.LeaseTagPrefix + holder: value}); err != nil {
			t.Fatal(err)
		}
		c.calls()
	}
	leave("far-host-4242-cafe")

	out, errs := c.must(exitOK, "unlock", "far-host-4242-cafe", c.dir)
	finish := "ecsnet apply --allow-failback --endpoint " + c.url + " " + c.dir
	for _, want := range []string{
		"ENI vip (" + vip + ") carries the record of a failover to lb-2, and the desired state attaches it to lb-1: a plain apply refuses to move it.\n",
		"ENI vip is attached to no instance now: its addresses are served nowhere until it is attached; finish the move now.\n",
		"run ecsnet plan --endpoint " + c.url + " " + c.dir + " to see what it left, then finish it (add --hosts if it configured hosts):\n  " + finish + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("unlock's advice lacks %q:\nstdout:\n%s\nstderr:\n%s", want, out, errs)
		}
	}
	if strings.Contains(out, "the next apply finishes it") {
		t.Errorf("unlock says a plain apply finishes it:\n%s", out)
	}
	if mut, calls := c.calls(); mut != 1 || calls["UntagResources"] != 1 {
		t.Errorf("unlock made %d calls that change something (%v), want one UntagResources", mut, calls)
	}

	code, _, errs := c.run("apply", "--auto-approve", c.dir)
	for _, want := range []string{
		"ecsnet failover moved ENI " + vip + " to lb-2 (i-bp1lb0000002) at ",
		"and it is attached to no instance now: its addresses are served nowhere",
		"finishing the move is urgent: rerun with --allow-failback to attach it to lb-1",
	} {
		if code != exitError || !strings.Contains(errs, want) {
			t.Errorf("a plain apply: exit %d, want 1 and %q:\n%s", code, want, errs)
		}
	}
	if strings.Contains(errs, "would move it back") {
		t.Errorf("the refusal says the apply would move the unattached ENI back:\n%s", errs)
	}
	c.wantCalls(map[string]int{})

	words := shellWords(t, finish)
	e, so, se := c.env("")
	if code := run(append([]string{"apply", "--auto-approve"}, words[2:]...), e); code != exitOK {
		t.Fatalf("%s: exit %d\n%s\n%s", finish, code, so, se)
	}
	if on, record := c.vipOn(); on != lb1ID || record != "" {
		t.Errorf("after %s: vip on %s, record %q; want lb-1 and none", finish, on, record)
	}
	c.converged(nil)

	// No record left: the plain apply finishes what a killed apply left.
	leave("far-host-4242-beef")
	out, _ = c.must(exitOK, "unlock", "far-host-4242-beef", c.dir)
	if want := "then finish it (add --hosts if it configured hosts):\n  ecsnet apply --endpoint " + c.url + " " + c.dir + "\n"; !strings.Contains(out, want) || strings.Contains(out, "allow-failback") {
		t.Errorf("unlock without a failover record: want %q and no --allow-failback:\n%s", want, out)
	}
}
