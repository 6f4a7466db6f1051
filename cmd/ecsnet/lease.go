package main

import (
	"context"
	"errors"
	"fmt"
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
		a.holder = ecs.LeaseHolder()
	}
	l, err := c.WaitLease(ctx, f, a.holder, a.ttl, ecs.LeaseWait{
		Timeout: a.timeout,
		Poll:    a.poll,
		Waiting: func(held *ecs.LeaseHeldError) {
			fmt.Fprintf(e.stderr, "ecsnet apply: waiting up to %s: %v\n", a.timeout, held)
		},
	})
	var held *ecs.LeaseHeldError
	switch {
	case errors.Is(err, ecs.ErrNoLeaseResource):
		fmt.Fprintf(e.stderr, "ecsnet apply: warning: %v; going on without a lease, so a concurrent apply of this fleet would not be stopped\n", err)
		return fn(ctx)
	case errors.As(err, &held):
		how := "wait for it with --lock-timeout DURATION"
		if a.timeout > 0 {
			how = "gave up after --lock-timeout " + a.timeout.String()
		}
		fmt.Fprintf(e.stderr, "ecsnet apply: %v; %s\n", held, how)
		return exitError
	case err != nil:
		fmt.Fprintf(e.stderr, "ecsnet apply: %v\n", err)
		return exitError
	}

	lctx, stop := l.Keep(ctx)
	code := fn(lctx)
	stop()

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := l.Release(rctx); err != nil {
		fmt.Fprintf(e.stderr, "ecsnet apply: warning: %v; the lease lapses at %s\n", err, l.Expires.Format(time.RFC3339))
	}
	if cause := context.Cause(lctx); errors.Is(cause, ecs.ErrLeaseLost) {
		fmt.Fprintf(e.stderr, "ecsnet apply: stopped: %v; another apply may have started, so run plan again before applying\n", cause)
		return exitError
	}
	return code
}
