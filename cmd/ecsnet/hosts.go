package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/guest"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// hostArgs are the rollout flags of apply --hosts and push.
type hostArgs struct {
	batch       int
	canary      int
	maxFailures int
	timeout     time.Duration
}

func addHostFlags(fs *pflag.FlagSet, a *hostArgs) {
	fs.IntVar(&a.batch, "hosts-batch", 10, "hosts reconfigured at once (with apply --hosts: hosts whose cloud and host steps are under way)")
	fs.IntVar(&a.canary, "canary", 0, "reconfigure this many hosts first, alone; if one fails, stop the rollout (with apply --hosts, before the other hosts' cloud steps)")
	fs.IntVar(&a.maxFailures, "max-failures", 0, "stop the rollout once more than this many hosts failed; with apply --hosts, the hosts under way are finished and the others' cloud steps do not run")
	fs.DurationVar(&a.timeout, "hosts-timeout", ecs.DefaultScriptTimeout, "time a host's script may run (Cloud Assistant's Timeout)")
}

func (a *hostArgs) check() error {
	switch {
	case a.batch < 1:
		return errors.New("--hosts-batch must be at least 1")
	case a.canary < 0:
		return errors.New("--canary must not be negative")
	case a.maxFailures < 0:
		return errors.New("--max-failures must not be negative")
	case a.timeout < 10*time.Second || a.timeout > 24*time.Hour:
		return errors.New("--hosts-timeout must be between 10s and 24h (Cloud Assistant's range)")
	}
	return nil
}

// options builds the executor's host options; payload renders a host
// step's scripts.
func (a *hostArgs) options(runner plan.HostRunner, payload func(*plan.Step, *schema.Lock) (plan.HostPayload, error)) *plan.HostOptions {
	return &plan.HostOptions{Runner: runner, Payload: payload, Batch: a.batch, Canary: a.canary, MaxFailures: a.maxFailures, Timeout: a.timeout,
		ExitMeaning: guest.ExitMeaning, NotExecuted: guest.NotExecuted}
}

// lockedPayloads renders each host step of apply --hosts from the lock
// it is given (guest.LockedPayloads), split for RunCommand.
func lockedPayloads(f *schema.Fleet, opts guest.PayloadOptions) func(*plan.Step, *schema.Lock) (plan.HostPayload, error) {
	return guest.LockedPayloads(f, opts, ecs.MaxCommandContent)
}

// hostPayload packs a host's bundle into the scripts RunCommand takes.
func hostPayload(h *render.Host, opts guest.PayloadOptions) (plan.HostPayload, error) {
	return guest.HostPayload(h, opts, ecs.MaxCommandContent)
}

// hostLine is one host step's outcome in a text report: the step, then
// the instance, its outcome and the reason on one line, then the end of
// its output (more of it for a host that is not done).
func hostLine(w io.Writer, o guest.HostOutcome) {
	fmt.Fprintf(w, "  %s\n", o.Step)
	fmt.Fprintf(w, "  %-10s %-16s %-13s %6.1fs  %s\n", o.Instance, o.InstanceID, o.Outcome, o.Took.Seconds(), o.Reason)
	for _, l := range strings.Split(o.Output, "\n") {
		// The reason already said (the emulator's line, once per part).
		if l != "" && strings.TrimSpace(l) != o.Reason {
			fmt.Fprintf(w, "      | %s\n", l)
		}
	}
}

// hostReach says, by instance ID, why Cloud Assistant cannot reach a
// host of p's host steps (plan.Unreachable): the observed state of the
// instance, and for the Running ones the agent's status
// (DescribeCloudAssistantStatus). If that call fails (an account whose
// RAM policy lacks ecs:DescribeCloudAssistantStatus, say), only the
// instances' states count, with a note that says so: a failover must
// not wait on it.
func hostReach(ctx context.Context, client *ecs.Client, p *plan.Plan, obs *plan.Observed) (map[string]string, []string) {
	var ids []string
	seen := map[string]bool{}
	for _, s := range p.Steps {
		if !s.Action.Host() || seen[s.InstanceID] {
			continue
		}
		seen[s.InstanceID] = true
		if oi := obs.Instance(s.InstanceID); oi != nil && oi.Status == plan.InstanceRunning {
			ids = append(ids, s.InstanceID)
		}
	}
	var notes []string
	var agents map[string]bool
	if len(ids) > 0 {
		var err error
		if agents, err = client.AgentStatus(ctx, ids); err != nil {
			notes = append(notes, fmt.Sprintf("Cloud Assistant's agent status could not be read (%v): a host whose agent is down shows only when its step runs, as not reachable", err))
		}
	}
	return plan.Unreachable(p, obs, agents), notes
}
