package ecs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ecsnet/ecsnet/schema"
)

// This file looks at a fleet's lease without taking it: a command that
// changes nothing in the cloud but must not run beside an apply (an apply
// with nothing to do still writes the lock) checks it, and `ecsnet unlock`
// breaks it on purpose.

// HeldLease returns the live lease another holder has on the fleet, or
// nil when there is none. It makes only read calls: a lease whose holder
// died on this machine, or that expired, counts as not held (and stays).
// The error wraps ErrNoLeaseResource when the fleet has no instance to
// hold one.
func (c *Client) HeldLease(ctx context.Context, f *schema.Fleet) (*LeaseHeldError, error) {
	held, _, _, err := c.heldLease(ctx, f, leaseSightings{})
	return held, err
}

// heldLease is HeldLease, also returning the leases that are not held
// (dead here, or expired) and the ENI that carries them.
func (c *Client) heldLease(ctx context.Context, f *schema.Fleet, seen leaseSightings) (*LeaseHeldError, []ClearedLease, string, error) {
	eniID, err := c.leaseENI(ctx, f)
	if err != nil {
		return nil, nil, "", err
	}
	leases, err := c.readLeases(ctx, eniID)
	if err != nil {
		return nil, nil, "", err
	}
	var stale []ClearedLease
	held := judgeLeases(f.Name, eniID, "", thisProcess(), leases, c.now(), seen, &stale)
	return held, stale, eniID, nil
}

// WaitLeaseFree waits, as WaitLease does, until no other holder has the
// fleet's lease, without taking it. waited says whether the lease was
// held at first (so whatever the holder changed must be read again); when
// it is still held after w.Timeout, the error is the holder's
// *LeaseHeldError. Once it is free, the leases of holders dead on this
// machine, and expired ones, are removed (as taking the lease would) and
// returned as cleared; when there are none, it made only read calls.
func (c *Client) WaitLeaseFree(ctx context.Context, f *schema.Fleet, w LeaseWait) (waited bool, cleared []ClearedLease, err error) {
	type free struct {
		stale []ClearedLease
		eniID string
	}
	seen := leaseSightings{}
	got, waited, err := whileHeld(ctx, w, func() (free, error) {
		held, stale, eniID, err := c.heldLease(ctx, f, seen)
		if err != nil {
			return free{}, err
		}
		if held != nil {
			return free{}, held
		}
		return free{stale, eniID}, nil
	})
	if err != nil {
		return waited, nil, err
	}
	if err := c.removeStale(ctx, got.eniID, got.stale); err != nil {
		return waited, nil, err
	}
	return waited, got.stale, nil
}

// BrokenLease is a lease BreakLease removed.
type BrokenLease struct {
	LeaseRecord
	ENIID string // the ENI that carried it
	// Here is set when its holder is a process still running on this
	// machine: it stops at its next renewal, when it finds its tag gone.
	Here bool
	// Expired is set when the lease had lapsed (its holder had stopped
	// renewing, or its clock is behind); Dead when its holder ran on this
	// machine and is gone.
	Expired, Dead bool
}

// ErrNoLease says that BreakLease found no lease with the ID it was given.
var ErrNoLease = errors.New("no such lease")

// BreakLease removes the fleet's lease whose ID (its holder, as the
// lease-held message names it) is id, and nothing else: like `terraform
// force-unlock`, for a holder that is gone. When the fleet's lease has
// another ID, or none, it changes nothing and the error wraps ErrNoLease
// and names the leases there are, so that a command copied from an old
// message cannot break a newer apply's lease.
func (c *Client) BreakLease(ctx context.Context, f *schema.Fleet, id string) (*BrokenLease, error) {
	if !holderPattern.MatchString(id) {
		return nil, fmt.Errorf("lease ID %q is not one: lease IDs are 1-100 letters, digits and ._@- (the holder the lease-held message names)", id)
	}
	eniID, err := c.leaseENI(ctx, f)
	if err != nil {
		return nil, err
	}
	leases, err := c.readLeases(ctx, eniID)
	if err != nil {
		return nil, err
	}
	key := LeaseTagPrefix + id
	v, ok := leases[key]
	if !ok {
		if len(leases) == 0 {
			return nil, fmt.Errorf("%w: fleet %s holds no lease (ENI %s carries no %s tag), so there is nothing to unlock", ErrNoLease, f.Name, eniID, LeaseTagPrefix)
		}
		var others []string
		for k, v := range leases {
			r := parseLeaseRecord(k, v)
			s := r.Holder
			if d := r.Describe(); d != "" {
				s += " (" + d + ")"
			}
			others = append(others, s)
		}
		slices.Sort(others)
		return nil, fmt.Errorf("%w: fleet %s's lease is not %s: it is held by %s; nothing was changed (a newer apply may have taken the lease: check that it is not running before you unlock it by its own ID)",
			ErrNoLease, f.Name, id, strings.Join(others, ", "))
	}
	proc := thisProcess()
	r := parseLeaseRecord(key, v)
	b := &BrokenLease{LeaseRecord: r, ENIID: eniID, Here: proc.aliveHere(r), Dead: proc.deadHere(r)}
	b.Expired = !r.Expires.IsZero() && !c.now().Before(r.Expires)
	if err := c.UntagResources(ctx, []string{eniID}, []string{key}); err != nil {
		return nil, fmt.Errorf("ecs lease: break %s: %w", id, err)
	}
	return b, nil
}
