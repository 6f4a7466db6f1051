package ecs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/plan"
)

// clockedClient is a client whose backoff and waits move the fake clock
// the emulator runs on, so that a test waits for nothing.
func clockedClient(t *testing.T, e *emu, clock *fakeClock) *Client {
	t.Helper()
	cfg := fastConfig(e.URL)
	cfg.Now, cfg.Sleep = clock.Now, clock.Sleep
	cfg.Retry = RetryPolicy{MaxAttempts: 8, BaseDelay: time.Second, MaxDelay: 8 * time.Second}
	cfg.WaitTimeout, cfg.WaitInterval, cfg.WaitMaxInterval = 2*time.Minute, time.Second, 5*time.Second
	return newClient(t, cfg)
}

// TestConflictsAreRetried: two attaches to one instance at once meet 403
// Operation.Conflict from a cloud with realistic timing; the second backs
// off with jitter and goes through once the first has finished. A
// conflict on assign (a fault) is retried the same way.
func TestConflictsAreRetried(t *testing.T) {
	clock := newFakeClock()
	e := startEmu(t, smallWorld(), emulator.Options{Now: clock.Now, Seed: 3, Timing: &emulator.Timing{},
		Faults: &emulator.Faults{Actions: map[string]emulator.FaultRates{"AssignPrivateIpAddresses": {ConflictRate: 0.6}}}})
	c := clockedClient(t, e, clock)
	ctx := context.Background()
	var ids []string
	for _, tok := range []string{"c1", "c2"} {
		eni, err := c.CreateNetworkInterface(ctx, CreateENIInput{VSwitchID: "vsw-bp1aaaa", SecurityGroupIDs: []string{"sg-bp1web1"}, ClientToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, eni.ID)
	}
	for _, id := range ids {
		if err := c.AttachNetworkInterface(ctx, id, "i-bp1web2"); err != nil {
			t.Fatalf("attach %s: %v", id, err)
		}
	}
	for _, id := range ids {
		if _, err := c.WaitENI(ctx, id, plan.ENIInUse); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		if _, err := c.AssignPrivateIpAddresses(ctx, AssignInput{ENIID: ids[0], Count: 1, ClientToken: "a" + string(rune('0'+i))}); err != nil {
			t.Fatalf("assign %d: %v", i, err)
		}
	}
	calls := e.Calls()
	if calls["AttachNetworkInterface"] < 3 || calls["AssignPrivateIpAddresses"] <= 5 {
		t.Errorf("no conflict was met and retried: %v", calls)
	}
	if !retryable(actAttach, &APIError{Code: "Operation.Conflict", HTTPStatus: 403}) ||
		!retryable(actDeleteENI, &APIError{Code: "OperationConflict", HTTPStatus: 409}) {
		t.Error("conflict codes are not retried on every changing action")
	}
}

// TestStuckAttachResumes: an attach that sticks ends its wait with a
// StuckError that says what to do; the next run's attach finds the ENI
// still Attaching, counts the attach as sent and waits again; when the
// stuck attach fails back to Available, the run after attaches anew.
func TestStuckAttachResumes(t *testing.T) {
	clock := newFakeClock()
	e := startEmu(t, smallWorld(), emulator.Options{Now: clock.Now, Timing: &emulator.Timing{Stuck: emulator.Duration(3 * time.Minute)},
		Faults: &emulator.Faults{Actions: map[string]emulator.FaultRates{"AttachNetworkInterface": {StuckRate: 1}}}})
	c := clockedClient(t, e, clock)
	ctx := context.Background()
	eni, err := c.CreateNetworkInterface(ctx, CreateENIInput{VSwitchID: "vsw-bp1aaaa", SecurityGroupIDs: []string{"sg-bp1web1"}, ClientToken: "s"})
	if err != nil {
		t.Fatal(err)
	}
	step := &plan.Step{ID: "attach eni/x", Action: plan.AttachENI, ENIID: eni.ID, InstanceID: "i-bp1web2"}

	// Run 1: the wait ends at its timeout, clearly.
	_, err = c.Do(ctx, step)
	var stuck *StuckError
	if !errors.As(err, &stuck) || !errors.Is(err, ErrWaitTimeout) || stuck.Status != plan.ENIAttaching {
		t.Fatalf("run 1: %v, want a StuckError in Attaching", err)
	}
	for _, want := range []string{"is still Attaching after 2m0s, the wait timeout", "run apply again to resume"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("run 1: %q lacks %q", err, want)
		}
	}
	attaches := e.Calls()["AttachNetworkInterface"]

	// Run 2: the attach is resumed, not refused; the stuck attach then
	// fails, which the wait reports at once.
	_, err = c.Do(ctx, step)
	if err == nil || !strings.Contains(err.Error(), "it is Available again") {
		t.Fatalf("run 2: %v, want the failed attach", err)
	}
	if e.Calls()["AttachNetworkInterface"] != attaches+1 {
		t.Errorf("run 2 sent %d attaches, want 1 (answered as in progress)", e.Calls()["AttachNetworkInterface"]-attaches)
	}

	// Run 3: the cloud behaves again; the ENI is attached.
	e.SetFaults(emulator.Faults{})
	if _, err := c.Do(ctx, step); err != nil {
		t.Fatalf("run 3: %v", err)
	}
	if got := eniByID(t, c, eni.ID); got.Status != plan.ENIInUse || got.InstanceID != "i-bp1web2" {
		t.Errorf("after run 3: %s on %q", got.Status, got.InstanceID)
	}
}
