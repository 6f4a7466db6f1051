package main

import (
	"errors"
	"fmt"
	"io"
	"reflect"
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

// lockedPayloads renders a host step from the lock it is given (the
// executor's, minus pending removals for a remove step): what the cloud
// routes to the host at that moment, never more.
func lockedPayloads(f *schema.Fleet, opts guest.PayloadOptions) func(*plan.Step, *schema.Lock) (plan.HostPayload, error) {
	return func(s *plan.Step, lock *schema.Lock) (plan.HostPayload, error) {
		h, err := render.LockedHost(f, lock, s.Instance)
		if err != nil {
			return plan.HostPayload{}, err
		}
		return hostPayload(h, opts)
	}
}

// hostPayload packs a host's bundle into the scripts RunCommand takes.
func hostPayload(h *render.Host, opts guest.PayloadOptions) (plan.HostPayload, error) {
	files, err := render.ForHost(h)
	if err != nil {
		return plan.HostPayload{}, err
	}
	p, err := guest.Payload(h, files, guest.PayloadApply, opts)
	if err != nil {
		return plan.HostPayload{}, err
	}
	windows := h.Stack == schema.StackWindows
	scripts, err := guest.Invocations(p, windows, ecs.MaxCommandContent)
	if err != nil {
		return plan.HostPayload{}, err
	}
	return plan.HostPayload{Scripts: scripts, Windows: windows}, nil
}

// renderedHosts returns the render of every host that can be rendered, by
// name, refusing (in problems) the hosts whose render holds more than the
// lock records as assigned or attached: pushing those would configure an
// address the cloud does not route to the host.
func renderedHosts(f *schema.Fleet, lock *schema.Lock) (map[string]*render.Host, map[string]string) {
	problems := map[string]string{}
	hosts, err := render.Hosts(f, lock)
	var missing render.MissingError
	if errors.As(err, &missing) {
		for _, m := range missing {
			who := "its primary ENI"
			if m.ENI != "" {
				who = "ENI " + m.ENI
			}
			problems[m.Instance] = fmt.Sprintf("the lock lacks %s of %s; run ecsnet apply first", m.What, who)
		}
	} else if err != nil {
		for _, in := range f.Instances {
			problems[in.Name] = err.Error()
		}
		return nil, problems
	}
	out := map[string]*render.Host{}
	for _, h := range hosts {
		locked, err := render.LockedHost(f, lock, h.Name)
		switch {
		case err != nil:
			problems[h.Name] = err.Error()
		case !reflect.DeepEqual(locked, h):
			problems[h.Name] = "the desired state has addresses or ENIs the lock does not record as on this instance yet; run ecsnet apply --hosts (the cloud first)"
		default:
			out[h.Name] = h
		}
	}
	return out, problems
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
	if r.ExitCode == 0 && strings.Contains(r.Output, emulatorRecorded) {
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
