package ecs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ecsnet/ecsnet/plan"
)

// MaxCommandContent is RunCommand's limit on a script after Base64
// encoding (ecs-api.md §2.12): longer payloads are split
// (guest.Invocations).
const MaxCommandContent = maxCommandContent

// DefaultScriptTimeout bounds a script on a host when HostScript.Timeout
// is 0: long enough for an apply that waits for a network daemon and rolls
// back, far below Cloud Assistant's own ceiling.
const DefaultScriptTimeout = 10 * time.Minute

// deliveryGrace is how long, beyond a script's timeout, RunScript keeps
// polling for an answer: the agent must receive the command first, and
// report afterwards.
const deliveryGrace = 2 * time.Minute

var _ plan.HostRunner = (*Client)(nil)

// RunScript runs one script on instances with Cloud Assistant
// (RunShellScript, or RunPowerShellScript for Windows), Base64-encoded,
// at most 50 instances a call (several calls at once for more), each
// call with a ClientToken of its own so that a retried call never runs
// the script twice. It then polls DescribeInvocationResults, backing off
// from Config.WaitInterval to Config.WaitMaxInterval, until every
// instance finished or its timeout and a grace period passed, and
// returns one result per instance in the order given: status, exit code,
// the agent's error, the output (plain text) and the time from the call
// to the first poll that saw it finished.
func (c *Client) RunScript(ctx context.Context, s plan.HostScript) ([]plan.HostResult, error) {
	typ := RunShellScript
	if s.Windows {
		typ = RunPowerShellScript
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultScriptTimeout
	}
	timeout = timeout.Round(time.Second)
	if len(s.InstanceIDs) == 0 {
		return nil, nil
	}
	var chunks [][]string
	for ids := s.InstanceIDs; len(ids) > 0; {
		n := min(len(ids), instancesPerCall)
		chunks = append(chunks, ids[:n])
		ids = ids[n:]
	}
	results := make([][]plan.HostResult, len(chunks))
	errs := make([]error, len(chunks))
	var wg sync.WaitGroup
	for i, ids := range chunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = c.runChunk(ctx, typ, s, ids, timeout)
		}()
	}
	wg.Wait()
	var out []plan.HostResult
	for i := range chunks {
		if errs[i] != nil {
			return out, errs[i]
		}
		out = append(out, results[i]...)
	}
	return out, nil
}

func (c *Client) runChunk(ctx context.Context, typ string, s plan.HostScript, ids []string, timeout time.Duration) ([]plan.HostResult, error) {
	token, err := runToken()
	if err != nil {
		return nil, err
	}
	name := s.Name
	if len(name) > 128 {
		name = name[:128]
	}
	start := c.now()
	inv, err := c.RunCommand(ctx, RunCommandInput{Type: typ, Content: s.Content, Timeout: timeout, InstanceIDs: ids, Name: name, ClientToken: token})
	if refusedHost(err) {
		// The call names no instance when it refuses one (a stopped
		// instance, a script type that does not suit it, one that is
		// gone): ask each alone, so that only the hosts it refuses fail.
		if len(ids) > 1 {
			return c.runEach(ctx, typ, s, ids, timeout)
		}
		return []plan.HostResult{{InstanceID: ids[0], Status: "Refused", ExitCode: -1, Took: c.now().Sub(start),
			Error: "host not reachable: Cloud Assistant refused the command: " + apiMessage(err)}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("run %q on %s: %w", name, strings.Join(ids, ", "), err)
	}
	got := map[string]plan.HostResult{}
	deadline := start.Add(timeout + deliveryGrace)
	delay := c.waitInterval
	for {
		rs, err := c.DescribeInvocationResults(ctx, inv.InvokeID)
		if err != nil && ctx.Err() != nil {
			return nil, err
		}
		now := c.now()
		if err == nil {
			for _, r := range rs {
				if _, seen := got[r.InstanceID]; seen || !r.Finished() || !slices.Contains(ids, r.InstanceID) {
					continue
				}
				res := plan.HostResult{InstanceID: r.InstanceID, Status: r.InvocationStatus, ExitCode: int(r.ExitCode),
					Output: r.Output, Took: now.Sub(start)}
				if r.ErrorCode != "" || r.ErrorInfo != "" {
					res.Error = strings.TrimSpace(r.ErrorCode + ": " + r.ErrorInfo)
				}
				if why, ok := unreachable[r.ErrorCode]; ok {
					// The script never ran (or its end was not seen):
					// there is no exit code, whatever the answer holds.
					res.ExitCode = -1
					res.Error = "host not reachable: " + why + " (" + res.Error + ")"
				}
				if r.Dropped > 0 {
					res.Output = fmt.Sprintf("(the cloud kept the last 24 KB; %d bytes before were dropped)\n", r.Dropped) + res.Output
				}
				got[r.InstanceID] = res
			}
		}
		if len(got) == len(ids) {
			break
		}
		if !now.Before(deadline) {
			for _, id := range ids {
				if _, ok := got[id]; !ok {
					got[id] = plan.HostResult{InstanceID: id, Status: "Timeout", ExitCode: -1, Took: now.Sub(start),
						Error: fmt.Sprintf("no result from Cloud Assistant within %s (invocation %s)", timeout+deliveryGrace, inv.InvokeID)}
				}
			}
			break
		}
		if err := c.sleep(ctx, min(delay, deadline.Sub(now))); err != nil {
			return nil, fmt.Errorf("wait for invocation %s: %w", inv.InvokeID, err)
		}
		delay = min(c.waitMax, delay+delay/2)
		if delay <= 0 {
			delay = time.Millisecond
		}
	}
	out := make([]plan.HostResult, len(ids))
	for i, id := range ids {
		out[i] = got[id]
	}
	return out, nil
}

// unreachable explains the Cloud Assistant error codes that mean the
// script did not run to its end on the host, so the host's state is
// unknown rather than failed (the ErrorCode values of
// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describeinvocationresults).
var unreachable = map[string]string{
	"ClientNotRunning":     "its Cloud Assistant agent is not running",
	"ClientNotResponse":    "its Cloud Assistant agent does not respond",
	"ClientIsUpgrading":    "its Cloud Assistant agent is being upgraded",
	"ClientNeedUpgrade":    "its Cloud Assistant agent needs an upgrade",
	"DeliveryTimeout":      "the command could not be delivered in time",
	"InstanceNotRunning":   "the instance is not running",
	"InstanceNotExists":    "the instance does not exist",
	"InstanceReleased":     "the instance was released",
	"ExecutionInterrupted": "the script was interrupted",
}

// refusedHost reports whether RunCommand refused the call because of one
// of its instances (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-runcommand):
// InvalidInstance.NotMatch (not Running, or the script type does not suit
// its OS) or InvalidInstance.NotFound.
func refusedHost(err error) bool {
	return IsCode(err, "InvalidInstance.NotMatch") || IsCode(err, "InvalidInstance.NotFound")
}

// apiMessage is the code and message of an API error.
func apiMessage(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return strings.TrimSpace(ae.Code + ": " + ae.Message)
	}
	return err.Error()
}

// runEach runs the script on each instance with a call of its own, at
// once, and returns the results in the order given.
func (c *Client) runEach(ctx context.Context, typ string, s plan.HostScript, ids []string, timeout time.Duration) ([]plan.HostResult, error) {
	out := make([]plan.HostResult, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res []plan.HostResult
			res, errs[i] = c.runChunk(ctx, typ, s, []string{id}, timeout)
			if len(res) == 1 {
				out[i] = res[0]
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// runToken is a new ClientToken for one RunCommand call: unlike the ENI
// actions', it is random, since running the same script again (a second
// push) must run it again; the SDK call's own retries reuse it.
func runToken() (string, error) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("ClientToken: %w", err)
	}
	return "ecsnet-run-" + hex.EncodeToString(b[:]), nil
}
