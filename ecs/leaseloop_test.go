package ecs

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/schema"
)

// TestWaitLeaseGivesUpWithHolder: while another holder has the lease,
// WaitLease refuses at once without a timeout and, with one, says once
// that it waits and then gives up with the holder's *LeaseHeldError.
func TestWaitLeaseGivesUpWithHolder(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	f := leaseFleet(t)
	ctx := context.Background()
	first, err := c.AcquireLease(ctx, f, "first", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release(ctx)

	for _, timeout := range []time.Duration{0, 150 * time.Millisecond} {
		waits := 0
		start := time.Now()
		l, err := c.WaitLease(ctx, f, "second", time.Minute, LeaseWait{
			Timeout: timeout,
			Poll:    10 * time.Millisecond,
			Waiting: func(*LeaseHeldError) { waits++ },
		})
		var held *LeaseHeldError
		if l != nil || !errors.As(err, &held) || held.Holder != "first" {
			t.Fatalf("timeout %s: got %v, %v; want the first holder's LeaseHeldError", timeout, l, err)
		}
		if took := time.Since(start); took < timeout {
			t.Errorf("timeout %s: gave up after %s", timeout, took)
		}
		want := 1 // said once, however many attempts
		if timeout == 0 {
			want = 0
		}
		if waits != want {
			t.Errorf("timeout %s: Waiting called %d times, want %d", timeout, waits, want)
		}
	}
}

// TestLeaseKeep: a kept lease is renewed past its first expiry; when its
// tag is removed behind its back, the context Keep returned is cancelled
// with ErrLeaseLost.
func TestLeaseKeep(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	f := leaseFleet(t)
	ctx := context.Background()
	l, err := c.AcquireLease(ctx, f, "keeper", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	firstExpiry := l.Expires
	held, stop := l.Keep(ctx)
	time.Sleep(time.Until(firstExpiry) + 200*time.Millisecond)
	if err := held.Err(); err != nil {
		t.Fatalf("kept lease cancelled: %v", context.Cause(held))
	}
	if _, err := c.WaitLease(ctx, f, "other", time.Second, LeaseWait{}); err == nil {
		t.Fatal("another holder took the kept lease after its first expiry")
	}

	if err := c.UntagResources(ctx, []string{l.ENIID()}, []string{LeaseTagPrefix + "keeper"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the context was not cancelled when the lease was lost")
	}
	stop()
	stop() // harmless
	if cause := context.Cause(held); !errors.Is(cause, ErrLeaseLost) {
		t.Errorf("cause %v, want ErrLeaseLost", cause)
	}
	if !l.Expires.After(firstExpiry) {
		t.Errorf("expiry %s not renewed past %s", l.Expires, firstExpiry)
	}
}

// leaseFleet is smallFleet without the instance the cloud does not have,
// which would come first by name and carry the lease.
func leaseFleet(t *testing.T) *schema.Fleet {
	f := loadFleet(t, smallFleet)
	f.Instances = slices.DeleteFunc(f.Instances, func(in *schema.Instance) bool { return in.Name == "ghost" })
	return f
}
