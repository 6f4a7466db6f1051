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
	deadline := c.now().Add(c.waitTimeout)
	delay := c.waitInterval
	var (
		last        *plan.ObservedENI
		sawAttach   bool
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
		case len(got) == 0:
			if want == ENIGone {
				return nil, nil
			}
			return nil, fmt.Errorf("ecs WaitENI: ENI %s disappeared while waiting for %s", id, want)
		default:
			last = got[0]
			lastPollErr = nil
			switch last.Status {
			case want:
				return last, nil
			case plan.ENIAttaching:
				sawAttach = true
			case plan.ENIAvailable:
				if want == plan.ENIInUse && sawAttach {
					return last, fmt.Errorf("ecs WaitENI: attaching ENI %s to %s failed: it is Available again", id, last.InstanceID)
				}
			case plan.ENICreateFailed:
				return last, fmt.Errorf("ecs WaitENI: ENI %s is CreateFailed", id)
			}
		}
		now := c.now()
		if !now.Before(deadline) {
			status := "not seen"
			if last != nil {
				status = string(last.Status)
			}
			if lastPollErr != nil {
				return last, fmt.Errorf("ecs WaitENI: ENI %s: %w for %s after %s (last poll: %w)", id, ErrWaitTimeout, want, c.waitTimeout, lastPollErr)
			}
			return last, fmt.Errorf("ecs WaitENI: ENI %s: %w for %s after %s (still %s)", id, ErrWaitTimeout, want, c.waitTimeout, status)
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
