package main

import (
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
	fs.IntVar(&a.batch, "hosts-batch", 10, "hosts reconfigured at once")
	fs.IntVar(&a.canary, "canary", 0, "reconfigure this many hosts first, alone; if one fails, stop the rollout")
	fs.IntVar(&a.maxFailures, "max-failures", 0, "stop the rollout once more than this many hosts failed")
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
		ExitMeaning: guest.ExitMeaning}
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

// hostLine is one host's outcome in a report.
func hostLine(w io.Writer, r plan.HostReport) {
	res := r.Result
	state := "ok"
	if r.Err != nil {
		state = "FAILED"
	}
	detail := ""
	switch {
	case r.Err != nil && res.Status == "":
		detail = r.Err.Error()
	default:
		detail = fmt.Sprintf("exit %d", res.ExitCode)
		if m := exitMeaning(res); m != "" && res.Status != "" {
			detail += " (" + m + ")"
		}
		if res.Status != "Success" && res.Status != "Failed" && res.Status != "" {
			detail = res.Status
			if res.Error != "" {
				detail += ": " + res.Error
			}
		}
	}
	fmt.Fprintf(w, "  %-10s %-16s %-6s %6.1fs  %s\n", r.Step.Instance, r.Step.InstanceID, state, res.Took.Seconds(), detail)
	tail := 1
	if r.Err != nil {
		tail = 12
	}
	for _, l := range strings.Split(res.Tail(tail), "\n") {
		if l != "" {
			fmt.Fprintf(w, "      | %s\n", l)
		}
	}
}

// exitMeaning explains a host's exit code; the emulator's guests that
// only record scripts say so instead.
func exitMeaning(r plan.HostResult) string {
	if r.ExitCode == 0 && guest.Recorded(r.Output) {
		return "recorded by the emulator, not run"
	}
	return guest.ExitMeaning(r.ExitCode)
}

// reportHosts prints what each host step did: instance, exit code, time
// and the end of its output (more of it for a failure).
func reportHosts(w io.Writer, reps []plan.HostReport, skipped []*plan.Step) {
	if len(reps) == 0 && !hasHostStep(skipped) {
		return
	}
	fmt.Fprintf(w, "\nHosts (Cloud Assistant):\n")
	for _, r := range reps {
		fmt.Fprintf(w, "  %s\n", r.Step.ID)
		hostLine(w, r)
	}
	for _, s := range skipped {
		if s.Action.Host() {
			fmt.Fprintf(w, "  %s: not run (a step it depends on failed, or the rollout stopped)\n", s.ID)
		}
	}
}

func hasHostStep(steps []*plan.Step) bool {
	for _, s := range steps {
		if s.Action.Host() {
			return true
		}
	}
	return false
}
