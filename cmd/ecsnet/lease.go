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
	// command names the command in its messages; "" means "ecsnet
	// apply" (failover takes the lease too).
	command string
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
	if a.command == "" {
		a.command = "ecsnet apply"
	}
	l, err := c.WaitLease(ctx, f, a.holder, a.ttl, ecs.LeaseWait{
		Timeout: a.timeout,
		Poll:    a.poll,
		Waiting: func(held *ecs.LeaseHeldError) {
			fmt.Fprintf(e.stderr, "%s: waiting up to %s: %v\n", a.command, a.timeout, held)
		},
	})
	var held *ecs.LeaseHeldError
	switch {
	case errors.Is(err, ecs.ErrNoLeaseResource):
		fmt.Fprintf(e.stderr, "%s: warning: %v; going on without a lease, so a concurrent apply of this fleet would not be stopped\n", a.command, err)
		return fn(ctx)
	case errors.As(err, &held):
		refuseHeld(e, a.command, held, a.timeout)
		return exitError
	case err != nil:
		fmt.Fprintf(e.stderr, "%s: %v\n", a.command, err)
		return exitError
	}
	reportCleared(e, a.command, l.Cleared)

	lctx, stop := l.Keep(ctx)
	code := fn(lctx)
	stop()

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := l.Release(rctx); err != nil {
		fmt.Fprintf(e.stderr, "%s: warning: %v; the lease lapses at %s\n", a.command, err, l.Expires.Format(time.RFC3339))
	}
	if cause := context.Cause(lctx); errors.Is(cause, ecs.ErrLeaseLost) {
		fmt.Fprintf(e.stderr, "%s: stopped: %v; another apply may have started, so run plan again before applying\n", a.command, cause)
		return exitError
	}
	return code
}

// refuseHeld says that another apply holds the lease, and what to do;
// command names the command that refuses.
func refuseHeld(e env, command string, held *ecs.LeaseHeldError, timeout time.Duration) {
	how := "wait for it with --lock-timeout DURATION"
	if timeout > 0 {
		how = "gave up after --lock-timeout " + timeout.String()
	}
	if !held.Here {
		// A holder on this machine is running (or it would have been
		// found dead): no advice to break its lease.
		how += "; if that apply is no longer running (killed on another machine), break its lease with ecsnet unlock " + held.Holder + " PATH..."
	}
	fmt.Fprintf(e.stderr, "%s: %v; %s\n", command, held, how)
}

// reportCleared names the leases an apply removed: a holder that died on
// this machine is released at once, and the operator should know that an
// apply was killed there (its lock may record less than it did; this
// apply's plan reads the cloud again and finishes the job).
func reportCleared(e env, command string, cleared []ecs.ClearedLease) {
	for _, c := range cleared {
		who := c.Holder
		if d := c.Describe(); d != "" {
			who += " (" + d + ")"
		}
		if c.Dead {
			fmt.Fprintf(e.stderr, "%s: released the lease of %s: that process is no longer running on this machine (killed or crashed); the plan reads the cloud again and finishes what it left\n", command, who)
			continue
		}
		fmt.Fprintf(e.stderr, "%s: removed the expired lease of %s: its holder stopped renewing it\n", command, who)
	}
}

// applyNothing runs an apply whose plan is empty. It takes no lease, as
// it changes nothing in the cloud (but for removing the lease of a holder
// that died on this machine, or expired, which it names), yet it honours
// one: it still writes the lock from what the cloud shows, and an attach
// the cloud finished before its own apply saw it looks like nothing to do
// while that apply's lock does not yet record it. So when another apply
// holds the lease, this one refuses, naming it, or waits for it
// (--lock-timeout) and then plans again from the lock and cloud it left.
// An apply that takes the lease after the check re-reads the lock and the
// cloud under it and writes its lock after its steps, so its lock is the
// one that stays.
func applyNothing(ctx context.Context, a *applyArgs, e env, f *schema.Fleet, client *ecs.Client, lockPath string, r *applyRun) (int, error) {
	waited, cleared, err := client.WaitLeaseFree(ctx, f, ecs.LeaseWait{
		Timeout: a.lockTimeout,
		Poll:    2 * time.Second,
		Waiting: func(held *ecs.LeaseHeldError) {
			fmt.Fprintf(e.stderr, "ecsnet apply: nothing to do, but another apply is running; waiting up to %s for it: %v\n", a.lockTimeout, held)
		},
	})
	var held *ecs.LeaseHeldError
	switch {
	case errors.Is(err, ecs.ErrNoLeaseResource):
		// No instance to hold a lease: no apply can hold one either.
	case errors.As(err, &held):
		refuseHeld(e, "ecsnet apply", held, a.lockTimeout)
		return exitError, nil
	case err != nil:
		return 0, err
	case waited:
		reportCleared(e, "ecsnet apply", cleared)
		fmt.Fprintln(e.stderr, "ecsnet apply: the other apply finished; planning again")
		return applyFleet(ctx, a, e, f)
	}
	reportCleared(e, "ecsnet apply", cleared)
	return executeApply(ctx, a, e, f, client, lockPath, r), nil
}
