package ecs

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/ecsnet/ecsnet/schema"
)

// This file holds a lease over time: waiting for another holder to let
// go, and renewing while the work the lease guards runs.

// LeaseWait says how WaitLease waits for another holder.
type LeaseWait struct {
	// Timeout is how long to wait; 0 refuses at once.
	Timeout time.Duration
	// Poll is the first delay between attempts (it grows to 8 times that,
	// with jitter); it must be positive when Timeout is.
	Poll time.Duration
	// Waiting, if not nil, is called once, when WaitLease first finds the
	// lease held and is about to wait.
	Waiting func(*LeaseHeldError)
}

// WaitLease takes the fleet's lease as AcquireLease does, trying again
// while another holder has it until w.Timeout passes. Then the error is
// the holder's *LeaseHeldError, as the last attempt found it.
func (c *Client) WaitLease(ctx context.Context, f *schema.Fleet, holder string, ttl time.Duration, w LeaseWait) (*Lease, error) {
	seen := leaseSightings{}
	l, _, err := whileHeld(ctx, w, func() (*Lease, error) {
		return c.acquireLease(ctx, f, holder, ttl, seen)
	})
	return l, err
}

// whileHeld calls try until it returns an error that is not a
// *LeaseHeldError, or w.Timeout passes; then the error is the holder's, as
// the last try found it. waited says whether it found the lease held at
// least once. WaitLease and WaitLeaseFree wait the same way with it.
func whileHeld[T any](ctx context.Context, w LeaseWait, try func() (T, error)) (v T, waited bool, err error) {
	deadline := time.Now().Add(w.Timeout)
	delay := w.Poll
	for {
		v, err := try()
		var held *LeaseHeldError
		if !errors.As(err, &held) {
			return v, waited, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return v, waited, held
		}
		if !waited && w.Waiting != nil {
			w.Waiting(held)
		}
		waited = true
		// Jitter, so that two contenders that collided do not collide
		// again.
		d := min(left, time.Duration((0.5+rand.Float64())*float64(delay)))
		if err := sleepCtx(ctx, d); err != nil {
			return v, waited, err
		}
		delay = min(8*w.Poll, 2*delay)
	}
}

// Keep renews the lease every third of its TTL until stop is called; a
// failed renewal is tried again sooner. The returned context is ctx's
// child, cancelled with a cause wrapping ErrLeaseLost when the lease is
// lost, so that the work it guards stops changing the fleet. stop ends the
// renewals and waits for the last to finish; the lease is not used
// meanwhile, so the caller may Release it afterwards.
func (l *Lease) Keep(ctx context.Context) (held context.Context, stop func()) {
	held, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.renew(held, done, cancel)
	}()
	var once sync.Once
	return held, func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			// Frees the context; a lost lease's cause, set first, stays.
			cancel(nil)
		})
	}
}

// renew is Keep's loop.
func (l *Lease) renew(ctx context.Context, done <-chan struct{}, cancel context.CancelCauseFunc) {
	every := l.ttl / 3
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := l.Renew(ctx)
		switch {
		case err == nil:
			t.Reset(every)
		case errors.Is(err, ErrLeaseLost):
			cancel(err)
			return
		default:
			t.Reset(every / 4)
		}
	}
}

var notHolderChar = regexp.MustCompile(`[^A-Za-z0-9._@-]+`)

// LeaseHolder names this process for a lease: host, process ID and a
// random suffix, in the characters a lease tag allows.
func LeaseHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	host = notHolderChar.ReplaceAllString(host, "_")
	if len(host) > 60 {
		host = host[:60]
	}
	var b [4]byte
	crand.Read(b[:]) // never fails (crypto/rand, Go 1.24)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
