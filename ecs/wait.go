package ecs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecsnet/ecsnet/plan"
)

// ENIGone is the pseudo-status WaitENI waits for after a delete: the ENI
// is no longer listed.
const ENIGone plan.ENIStatus = "(gone)"

// ErrWaitTimeout is wrapped by WaitENI's error when Config.WaitTimeout
// passes first.
var ErrWaitTimeout = errors.New("timed out waiting")

// StuckError is WaitENI's error when the wait timed out with the ENI still
// in a transitional state (Attaching, Detaching, Deleting): the cloud
// accepted the change and has not finished it. It wraps ErrWaitTimeout.
//
// Nothing is undone. The apply that waited records in the lock what the
// cloud shows (an ENI still Attaching counts as on its instance), and the
// next apply resumes: it plans the attach again, which the cloud answers
// as already in progress, and waits anew; a detach or delete is re-sent
// the same way. A failed attach (the ENI back to Available) is attached
// again.
type StuckError struct {
	ENI    string
	Status plan.ENIStatus // the state it is stuck in
	Want   string         // what the wait was for
	After  time.Duration  // the wait timeout
}

func (e *StuckError) Error() string {
	return fmt.Sprintf("ecs WaitENI: ENI %s is still %s after %s, the wait timeout (waiting for %s): the cloud has not finished the change; "+
		"run apply again to resume it, and if the ENI stays %s, look at the instance in the console (a guest that does not release a NIC keeps it Detaching)",
		e.ENI, e.Status, e.After, e.Want, e.Status)
}

// Unwrap makes errors.Is(err, ErrWaitTimeout) hold.
func (e *StuckError) Unwrap() error { return ErrWaitTimeout }

func transitional(s plan.ENIStatus) bool {
	return s == plan.ENIAttaching || s == plan.ENIDetaching || s == plan.ENIDeleting
}

// WaitENI polls DescribeNetworkInterfaces until the ENI has status want (or
// is gone, for ENIGone) and returns it as last seen (nil when gone). Polls
// back off from Config.WaitInterval to Config.WaitMaxInterval; the wait
// ends after Config.WaitTimeout or when ctx ends.
//
// Attach, detach and delete are asynchronous (ecs-api.md §3), so an
// executor waits after each. A failed attach falls back from Attaching to
// Available: waiting for InUse fails at once when that is seen, rather than
// at the timeout. CreateFailed also fails at once.
func (c *Client) WaitENI(ctx context.Context, id string, want plan.ENIStatus) (*plan.ObservedENI, error) {
	if id == "" || want == "" {
		return nil, errors.New("ecs WaitENI: ENI ID and status are required")
	}
	sawAttach, seen := false, false
	return c.waitFor(ctx, id, string(want), func(e *plan.ObservedENI) (bool, error) {
		switch {
		case e == nil && want == ENIGone:
			return true, nil
		case e == nil && !seen:
			// Not listed yet: reads may trail a create (ecs-api.md
			// §2.6), so only the deadline ends this wait.
			return false, nil
		case e == nil:
			return false, fmt.Errorf("ecs WaitENI: ENI %s disappeared while waiting for %s", id, want)
		}
		seen = true
		switch {
		case e.Status == want:
			return true, nil
		case e.Status == plan.ENIAttaching:
			sawAttach = true
		case e.Status == plan.ENIAvailable && want == plan.ENIInUse && sawAttach:
			return false, fmt.Errorf("ecs WaitENI: attaching ENI %s failed: it is Available again", id)
		case e.Status == plan.ENICreateFailed:
			return false, fmt.Errorf("ecs WaitENI: ENI %s is CreateFailed", id)
		}
		return false, nil
	})
}

// waitFor polls the ENI until done reports true or an error. what names
// the awaited state in a timeout message.
func (c *Client) waitFor(ctx context.Context, id, what string, done func(*plan.ObservedENI) (bool, error)) (*plan.ObservedENI, error) {
	deadline := c.now().Add(c.waitTimeout)
	delay := c.waitInterval
	var (
		last        *plan.ObservedENI
		lastPollErr error
	)
	for {
		got, err := c.DescribeNetworkInterfaces(ctx, ENIQuery{IDs: []string{id}})
		switch {
		case err != nil && ctx.Err() != nil:
			return last, err
		case err != nil:
			// A poll that fails after its own retries is not the end of
			// the wait; the deadline is.
			lastPollErr = err
		default:
			lastPollErr = nil
			last = nil
			if len(got) == 1 {
				last = got[0]
			}
			ok, err := done(last)
			if ok || err != nil {
				return last, err
			}
		}
		now := c.now()
		if !now.Before(deadline) {
			if lastPollErr != nil {
				return last, fmt.Errorf("ecs WaitENI: ENI %s: %w for %s after %s (last poll: %w)", id, ErrWaitTimeout, what, c.waitTimeout, lastPollErr)
			}
			if last != nil && transitional(last.Status) {
				return last, &StuckError{ENI: id, Status: last.Status, Want: what, After: c.waitTimeout}
			}
			status := "not seen"
			if last != nil {
				status = string(last.Status)
			}
			return last, fmt.Errorf("ecs WaitENI: ENI %s: %w for %s after %s (still %s)", id, ErrWaitTimeout, what, c.waitTimeout, status)
		}
		if err := c.sleep(ctx, min(delay, deadline.Sub(now))); err != nil {
			return last, fmt.Errorf("ecs WaitENI: ENI %s: %w", id, err)
		}
		delay = min(c.waitMax, delay+delay/2)
		if delay <= 0 {
			delay = time.Millisecond
		}
	}
}
