package main

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

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/schema"
)

// defaultLeaseTTL is how long a lease lasts without renewal: how long a
// crashed apply blocks the next one. withLease renews at a third of it.
const defaultLeaseTTL = 2 * time.Minute

// leaseArgs configure the lease an apply holds on its fleet.
type leaseArgs struct {
	// timeout is how long to wait for another holder (--lock-timeout);
	// 0 refuses at once.
	timeout time.Duration
	// ttl is the lease's lifetime between renewals; 0 means
	// defaultLeaseTTL.
	ttl time.Duration
	// holder names this apply in the lease tag; "" means
	// <hostname>-<pid>-<random>.
	holder string
	// poll is the first delay between attempts while waiting (it grows to
	// 8 times that, with jitter); 0 means 2 s.
	poll time.Duration
}

// withLease runs fn while holding the fleet's lease, so that two applies
// of one fleet never interleave their changes: a second apply refuses, or
// waits up to a.timeout for the first to finish. The lease is renewed
// while fn runs; if it is lost (it expired, or was taken after a stall),
// fn's context is cancelled. It is released when fn returns, whatever fn
// returned, and also when ctx is cancelled. A fleet without an instance in
// the cloud has nothing to hold a lease on: fn runs without one, after a
// warning (its plan then reports the missing instance).
func withLease(ctx context.Context, c *ecs.Client, f *schema.Fleet, a leaseArgs, e env, fn func(context.Context) int) int {
	if a.ttl == 0 {
		a.ttl = defaultLeaseTTL
	}
	if a.poll == 0 {
		a.poll = 2 * time.Second
	}
	if a.holder == "" {
		a.holder = leaseHolder()
	}
	l, err := acquireLease(ctx, c, f, a, e)
	switch {
	case errors.Is(err, ecs.ErrNoLeaseResource):
		fmt.Fprintf(e.stderr, "ecsnet apply: warning: %v; going on without a lease, so a concurrent apply of this fleet would not be stopped\n", err)
		return fn(ctx)
	case err != nil:
		fmt.Fprintf(e.stderr, "ecsnet apply: %v\n", err)
		return exitError
	}

	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		keepLease(lctx, l, a.ttl, done, cancel)
	}()
	code := fn(lctx)
	close(done)
	wg.Wait()

	rctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer stop()
	if err := l.Release(rctx); err != nil {
		fmt.Fprintf(e.stderr, "ecsnet apply: warning: %v; the lease lapses at %s\n", err, l.Expires.Format(time.RFC3339))
	}
	if cause := context.Cause(lctx); errors.Is(cause, ecs.ErrLeaseLost) {
		fmt.Fprintf(e.stderr, "ecsnet apply: stopped: %v; another apply may have started, so run plan again before applying\n", cause)
		return exitError
	}
	return code
}

// acquireLease takes the lease, waiting while another holder has it until
// a.timeout passes.
func acquireLease(ctx context.Context, c *ecs.Client, f *schema.Fleet, a leaseArgs, e env) (*ecs.Lease, error) {
	deadline := time.Now().Add(a.timeout)
	delay := a.poll
	said := false
	for {
		l, err := c.AcquireLease(ctx, f, a.holder, a.ttl)
		var held *ecs.LeaseHeldError
		if !errors.As(err, &held) {
			return l, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			if a.timeout == 0 {
				return nil, fmt.Errorf("%w; wait for it with --lock-timeout DURATION", held)
			}
			return nil, fmt.Errorf("%w; gave up after --lock-timeout %s", held, a.timeout)
		}
		if !said {
			fmt.Fprintf(e.stderr, "ecsnet apply: waiting up to %s: %v\n", a.timeout, held)
			said = true
		}
		// Jitter, so that two contenders that collided do not collide
		// again.
		d := min(left, time.Duration((0.5+rand.Float64())*float64(delay)))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay = min(8*a.poll, 2*delay)
	}
}

// keepLease renews the lease every third of its TTL until done is closed.
// A failed renewal is tried again sooner; a lost lease cancels the apply.
func keepLease(ctx context.Context, l *ecs.Lease, ttl time.Duration, done <-chan struct{}, cancel context.CancelCauseFunc) {
	every := ttl / 3
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
		case errors.Is(err, ecs.ErrLeaseLost):
			cancel(err)
			return
		default:
			t.Reset(every / 4)
		}
	}
}

var notHolderChar = regexp.MustCompile(`[^A-Za-z0-9._@-]+`)

// leaseHolder names this process: host, process ID and a random suffix,
// in the characters a lease tag allows.
func leaseHolder() string {
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
