package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/schema"
)

// leaseTags returns the lease tags on the ENI that carries the fleet's
// lease (the primary ENI of its first instance by name).
func leaseTags(t *testing.T, cl *ecs.Client, f *schema.Fleet) map[string]string {
	t.Helper()
	ctx := context.Background()
	ins, err := cl.DescribeInstances(ctx, []string{f.Instances[0].ID})
	if err != nil || len(ins) != 1 {
		t.Fatalf("describe %s: %v", f.Instances[0].ID, err)
	}
	enis, err := cl.DescribeNetworkInterfaces(ctx, ecs.ENIQuery{IDs: []string{ins[0].PrimaryENI}})
	if err != nil || len(enis) != 1 {
		t.Fatalf("describe %s: %v", ins[0].PrimaryENI, err)
	}
	out := map[string]string{}
	for k, v := range enis[0].Tags {
		if strings.HasPrefix(k, ecs.LeaseTagPrefix) {
			out[k] = v
		}
	}
	return out
}

// exclusive counts the "applies" inside their critical section and
// records the most seen at once.
type exclusive struct {
	inside, most atomic.Int32
	ran          atomic.Int32
}

func (x *exclusive) enter() {
	n := x.inside.Add(1)
	for {
		m := x.most.Load()
		if n <= m || x.most.CompareAndSwap(m, n) {
			break
		}
	}
	x.ran.Add(1)
}

func (x *exclusive) leave() { x.inside.Add(-1) }

// TestLeaseSecondApplyRefusesOrWaits: while one apply holds the fleet's
// lease, a second refuses at once without --lock-timeout, and a third
// with it waits and runs after the first; they never overlap, and no
// lease tag is left behind.
func TestLeaseSecondApplyRefusesOrWaits(t *testing.T) {
	c := newE2E(t, nil)
	f, cl := c.fleet(), c.client()
	ctx := context.Background()
	var x exclusive
	started, release := make(chan struct{}), make(chan struct{})

	var wg sync.WaitGroup
	var codeA, codeC int
	wg.Add(1)
	go func() {
		defer wg.Done()
		e, _, _ := c.env("")
		codeA = withLease(ctx, cl, f, leaseArgs{holder: "apply-a", poll: 10 * time.Millisecond}, e, func(context.Context) int {
			x.enter()
			defer x.leave()
			close(started)
			<-release
			return exitOK
		})
	}()
	<-started
	if got := leaseTags(t, cl, f); len(got) != 1 || got[ecs.LeaseTagPrefix+"apply-a"] == "" {
		t.Errorf("lease tags while A holds it: %v", got)
	}

	e, _, errb := c.env("")
	code := withLease(ctx, cl, f, leaseArgs{holder: "apply-b", poll: 10 * time.Millisecond}, e, func(context.Context) int {
		t.Error("B ran while A held the lease")
		return exitOK
	})
	if code != exitError || !strings.Contains(errb.String(), "fleet shop-prod is being changed by apply-a") ||
		!strings.Contains(errb.String(), "--lock-timeout") {
		t.Errorf("B: exit %d, stderr:\n%s", code, errb)
	}

	var cWaited atomic.Bool
	eC, _, errC := c.env("")
	wg.Add(1)
	go func() {
		defer wg.Done()
		codeC = withLease(ctx, cl, f, leaseArgs{holder: "apply-c", timeout: 30 * time.Second, poll: 10 * time.Millisecond}, eC, func(context.Context) int {
			x.enter()
			defer x.leave()
			cWaited.Store(true)
			return exitOK
		})
	}()
	time.Sleep(200 * time.Millisecond)
	if cWaited.Load() {
		t.Error("C ran while A held the lease")
	}
	close(release)
	wg.Wait()
	if codeA != exitOK || codeC != exitOK || !cWaited.Load() {
		t.Errorf("A exit %d, C exit %d, C ran %v; C's stderr:\n%s", codeA, codeC, cWaited.Load(), errC)
	}
	if !strings.Contains(errC.String(), "waiting up to 30s") {
		t.Errorf("C did not say it waits:\n%s", errC)
	}
	if m := x.most.Load(); m != 1 {
		t.Errorf("%d applies inside at once", m)
	}
	if got := leaseTags(t, cl, f); len(got) != 0 {
		t.Errorf("lease tags left behind: %v", got)
	}
}

// TestLeaseManyContenders: applies that start together, all willing to
// wait, run one at a time, and all of them run.
func TestLeaseManyContenders(t *testing.T) {
	c := newE2E(t, nil)
	f, cl := c.fleet(), c.client()
	var x exclusive
	var wg sync.WaitGroup
	const n = 5
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, _, _ := c.env("")
			codes[i] = withLease(context.Background(), cl, f, leaseArgs{holder: "apply-" + string(rune('a'+i)), timeout: time.Minute, poll: 5 * time.Millisecond}, e,
				func(context.Context) int {
					x.enter()
					defer x.leave()
					time.Sleep(20 * time.Millisecond)
					return exitOK
				})
		}()
	}
	wg.Wait()
	for i, code := range codes {
		if code != exitOK {
			t.Errorf("contender %d: exit %d", i, code)
		}
	}
	if x.ran.Load() != n || x.most.Load() != 1 {
		t.Errorf("%d of %d ran; at most %d at once, want 1", x.ran.Load(), n, x.most.Load())
	}
	if got := leaseTags(t, cl, f); len(got) != 0 {
		t.Errorf("lease tags left behind: %v", got)
	}
}

// TestLeaseCrashedHolderLapses: a holder that dies without releasing
// blocks the fleet only until its lease expires; the next apply then
// removes the stale tag and takes the lease.
func TestLeaseCrashedHolderLapses(t *testing.T) {
	c := newE2E(t, nil)
	f, cl := c.fleet(), c.client()
	ctx := context.Background()
	crashed, err := cl.AcquireLease(ctx, f, "crashed", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = crashed // never released nor renewed: the process died

	e, _, errb := c.env("")
	if code := withLease(ctx, cl, f, leaseArgs{holder: "next"}, e, func(context.Context) int { return exitOK }); code != exitError ||
		!strings.Contains(errb.String(), "being changed by crashed") || !strings.Contains(errb.String(), "a crashed holder's lease lapses then") {
		t.Errorf("before expiry: exit %d, stderr:\n%s", code, errb)
	}

	start := time.Now()
	var saw map[string]string
	e, _, errb = c.env("")
	code := withLease(ctx, cl, f, leaseArgs{holder: "next", timeout: 10 * time.Second, poll: 50 * time.Millisecond}, e, func(context.Context) int {
		saw = leaseTags(t, cl, f)
		return exitOK
	})
	if code != exitOK {
		t.Fatalf("after expiry: exit %d, stderr:\n%s", code, errb)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("took %s to take over a 1 s lease", waited)
	}
	if len(saw) != 1 || saw[ecs.LeaseTagPrefix+"next"] == "" {
		t.Errorf("lease tags while the next apply held it: %v (the stale one must be gone)", saw)
	}
}

// TestLeaseRenewed: an apply that runs longer than the TTL keeps its lease
// (another apply is still refused after the first expiry would have
// passed); one whose tag is removed behind its back is cancelled and
// exits 1.
func TestLeaseRenewed(t *testing.T) {
	c := newE2E(t, nil)
	f, cl := c.fleet(), c.client()
	ctx := context.Background()
	var refusedLate atomic.Bool
	e, _, errb := c.env("")
	code := withLease(ctx, cl, f, leaseArgs{holder: "long", ttl: time.Second}, e, func(ctx context.Context) int {
		time.Sleep(2500 * time.Millisecond) // past the first expiry (at most 2 s after taking it)
		e2, _, _ := c.env("")
		refusedLate.Store(withLease(ctx, cl, f, leaseArgs{holder: "other"}, e2, func(context.Context) int { return exitOK }) == exitError)
		return exitOK
	})
	if code != exitOK || !refusedLate.Load() {
		t.Errorf("exit %d, other refused after the first expiry: %v\n%s", code, refusedLate.Load(), errb)
	}

	e, _, errb = c.env("")
	var cancelled bool
	code = withLease(ctx, cl, f, leaseArgs{holder: "robbed", ttl: 3 * time.Second}, e, func(ctx context.Context) int {
		tags := leaseTags(t, cl, f)
		if len(tags) != 1 {
			t.Errorf("tags: %v", tags)
		}
		ins, _ := cl.DescribeInstances(ctx, []string{f.Instances[0].ID})
		if err := cl.UntagResources(ctx, []string{ins[0].PrimaryENI}, []string{ecs.LeaseTagPrefix + "robbed"}); err != nil {
			t.Error(err)
		}
		select {
		case <-ctx.Done():
			cancelled = errors.Is(context.Cause(ctx), ecs.ErrLeaseLost)
		case <-time.After(5 * time.Second):
		}
		return exitOK
	})
	if code != exitError || !cancelled || !strings.Contains(errb.String(), "the lease was lost") {
		t.Errorf("robbed: exit %d, cancelled %v, stderr:\n%s", code, cancelled, errb)
	}
}

// modelLease returns the value of a lease tag this process writes (so it
// records this machine), and the ID of the ENI that carries the fleet's
// lease; the lease itself is released.
func modelLease(t *testing.T, cl *ecs.Client, f *schema.Fleet) (value, eniID string) {
	t.Helper()
	ctx := context.Background()
	l, err := cl.AcquireLease(ctx, f, "model", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	value = leaseTags(t, cl, f)[ecs.LeaseTagPrefix+"model"]
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{" ttl=60 ", " since=", fmt.Sprintf(" pid=%d ", os.Getpid()), " start=", " m=", " n=0"} {
		if !strings.Contains(value, field) {
			t.Fatalf("lease tag %q does not record %q", value, field)
		}
	}
	return value, l.ENIID()
}

var (
	pidField     = regexp.MustCompile(`pid=\d+ start=\d+`)
	machineField = regexp.MustCompile(`m=[0-9a-f]+`)
)

// TestLeaseHolderJudgedByMachine: a lease whose holder ran on this
// machine and is gone (here, its process ID now belongs to a process
// started at another time: this one) is released at once, naming the
// holder and saying it was dead; the same lease written on another
// machine (another boot and PID namespace) is never judged dead here, and
// the refusal names ecsnet unlock.
func TestLeaseHolderJudgedByMachine(t *testing.T) {
	c := newE2E(t, nil)
	f, cl := c.fleet(), c.client()
	ctx := context.Background()
	model, eni := modelLease(t, cl, f)

	dead := pidField.ReplaceAllString(model, fmt.Sprintf("pid=%d start=1", os.Getpid()))
	if err := cl.TagResources(ctx, []string{eni}, map[string]string{ecs.LeaseTagPrefix + "ghost-7-aa": dead}); err != nil {
		t.Fatal(err)
	}
	e, _, errb := c.env("")
	if code := withLease(ctx, cl, f, leaseArgs{holder: "next"}, e, func(context.Context) int { return exitOK }); code != exitOK {
		t.Fatalf("with a dead holder here: exit %d, stderr:\n%s", code, errb)
	}
	want := fmt.Sprintf("ecsnet apply: released the lease of ghost-7-aa (pid %d, since ", os.Getpid())
	if !strings.Contains(errb.String(), want) || !strings.Contains(errb.String(), "that process is no longer running on this machine") {
		t.Errorf("stderr does not say the dead holder was released (%q):\n%s", want, errb)
	}
	if got := leaseTags(t, cl, f); len(got) != 0 {
		t.Errorf("lease tags left: %v", got)
	}

	elsewhere := machineField.ReplaceAllString(pidField.ReplaceAllString(model, "pid=999999999 start=1"), "m=000000000000")
	if err := cl.TagResources(ctx, []string{eni}, map[string]string{ecs.LeaseTagPrefix + "far-8-bb": elsewhere}); err != nil {
		t.Fatal(err)
	}
	e, _, errb = c.env("")
	if code := withLease(ctx, cl, f, leaseArgs{holder: "next"}, e, func(context.Context) int { return exitOK }); code != exitError ||
		!strings.Contains(errb.String(), "is being changed by far-8-bb (pid 999999999, since ") ||
		!strings.Contains(errb.String(), "break its lease with ecsnet unlock far-8-bb PATH...") {
		t.Errorf("a holder on another machine: exit %d, stderr:\n%s", code, errb)
	}
	if got := leaseTags(t, cl, f); got[ecs.LeaseTagPrefix+"far-8-bb"] != elsewhere {
		t.Errorf("the other machine's lease was touched: %v", got)
	}
}

// TestLeaseClockAhead: a holder whose clock runs 10 minutes ahead writes
// an expiry 10 minutes out although its TTL is 1 s. Once it stops
// renewing, a contender takes the lease one TTL after it first saw the
// tag, by its own clock, not 10 minutes later; the refusal shows the
// expiry by this machine's clock and says the holder's clock is ahead.
func TestLeaseClockAhead(t *testing.T) {
	c := newE2E(t, nil)
	f, cl := c.fleet(), c.client()
	ctx := context.Background()
	_, eni := modelLease(t, cl, f)
	now := time.Now().UTC().Truncate(time.Second)
	value := now.Add(10*time.Minute).Format(time.RFC3339) + " ttl=1 since=" + now.Add(10*time.Minute).Format(time.RFC3339) +
		" pid=4242 start=5 m=000000000000 n=0"
	if err := cl.TagResources(ctx, []string{eni}, map[string]string{ecs.LeaseTagPrefix + "fast-clock": value}); err != nil {
		t.Fatal(err)
	}

	e, _, errb := c.env("")
	if code := withLease(ctx, cl, f, leaseArgs{holder: "next"}, e, func(context.Context) int { return exitOK }); code != exitError ||
		!strings.Contains(errb.String(), "the holder's clock is ahead of this machine's") {
		t.Errorf("refusal: exit %d, stderr:\n%s", code, errb)
	}
	if strings.Contains(errb.String(), "until "+now.Add(10*time.Minute).Format(time.RFC3339)) {
		t.Errorf("the refusal takes the holder's clock for this machine's:\n%s", errb)
	}

	start := time.Now()
	e, _, errb = c.env("")
	if code := withLease(ctx, cl, f, leaseArgs{holder: "next", timeout: 20 * time.Second, poll: 50 * time.Millisecond}, e,
		func(context.Context) int { return exitOK }); code != exitOK {
		t.Fatalf("waiting: exit %d after %s, stderr:\n%s", code, time.Since(start), errb)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("took %s to take over a lease with a 1 s TTL", took)
	}
	if !strings.Contains(errb.String(), "removed the expired lease of fast-clock") {
		t.Errorf("stderr does not name the expired lease:\n%s", errb)
	}
}
