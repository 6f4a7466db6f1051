package guest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// Verdict is how a host's verify went.
type Verdict int

// The verdicts of a verify, in the order a summary counts them.
const (
	// InSync: the host's live state is as rendered.
	InSync Verdict = iota
	// Drifted: the live state differs from the render; HostCheck.Drift
	// says how.
	Drifted
	// CheckFailed: the host could not be checked (no render, no answer,
	// the script failed, its report is unreadable); HostCheck.Reason
	// says why.
	CheckFailed
	// NotChecked: the script was not run, by design (ecsnet emulator
	// --hosts records the scripts of the families it cannot run);
	// HostCheck.Reason says so.
	NotChecked
)

// String returns the verdict's name in verify's JSON output: in_sync,
// drift, error or not_checked.
func (v Verdict) String() string {
	switch v {
	case InSync:
		return "in_sync"
	case Drifted:
		return "drift"
	case CheckFailed:
		return "error"
	case NotChecked:
		return "not_checked"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Report is what a verify found on a fleet's hosts.
type Report struct {
	Fleet string
	// Hosts has one check per instance of the fleet, in its order.
	Hosts []HostCheck
}

// Count returns how many hosts got verdict v.
func (r *Report) Count(v Verdict) int {
	n := 0
	for _, h := range r.Hosts {
		if h.Verdict == v {
			n++
		}
	}
	return n
}

// HostCheck is one host's verify.
type HostCheck struct {
	Instance   string
	InstanceID string
	Verdict    Verdict
	// Drift lists how the live state differs from the render, one
	// sentence each (Drift); empty unless Drifted.
	Drift []string
	// Foreign lists the addresses on interfaces ecsnet manages that
	// ecsnet did not write (see Foreign), one sentence each: warnings,
	// not drift; a host with only these is InSync.
	Foreign []string
	// Competing lists the network managers on the host that compete
	// with ecsnet's configuration (see Competing): warnings, not drift,
	// whatever their kind; push and apply --hosts refuse a host with one
	// that would undo ecsnet at the next boot.
	Competing []Competing
	// Reason says why a host that is CheckFailed or NotChecked was not
	// compared.
	Reason string
	// ExitCode, Took and OutputTail (its last three lines) are the verify
	// script's, when it ran.
	ExitCode   int
	Took       time.Duration
	OutputTail string
	// Live is what the host reported; nil when it reported nothing
	// readable.
	Live *Live
}

// VerifyOptions adjust Verify.
type VerifyOptions struct {
	// Timeout bounds the script on each host; 0 is the runner's default.
	Timeout time.Duration
	// Wait, when not nil, is told what each run of the script waits for
	// ("ecsnet verify on 5 Linux hosts (Cloud Assistant)") before it
	// starts, and the function it returns is called when the run ends: a
	// heartbeat for a long wait.
	Wait func(what string) (done func())
}

// Verify runs the read-only verify script on every instance of f through
// run, and compares what each host reports with its render from the
// desired state and the lock. An error means the cloud refused or never
// answered; a host that could not be checked is a CheckFailed in the
// report.
func Verify(ctx context.Context, run plan.HostRunner, f *schema.Fleet, lock *schema.Lock, opts VerifyOptions) (*Report, error) {
	desired, problems := targets(f, lock, func(m render.Missing) string {
		return "the lock lacks " + m.What + "; run ecsnet apply first"
	})
	// One verify script per OS, the same for every host: one call for up
	// to 50 of them.
	results := map[string]plan.HostResult{}
	for _, windows := range []bool{false, true} {
		var ids []string
		var sample *render.Host
		for _, in := range f.Instances {
			if h := desired[in.Name]; h != nil && (h.Stack == schema.StackWindows) == windows {
				ids = append(ids, in.ID)
				sample = h
			}
		}
		if len(ids) == 0 {
			continue
		}
		script, err := Payload(sample, nil, PayloadVerify, PayloadOptions{})
		if err != nil {
			return nil, err
		}
		family := "Linux"
		if windows {
			family = "Windows"
		}
		done := func() {}
		if opts.Wait != nil {
			done = opts.Wait(fmt.Sprintf("ecsnet verify on %d %s hosts (Cloud Assistant)", len(ids), family))
		}
		rs, err := run.RunScript(ctx, plan.HostScript{InstanceIDs: ids, Content: script, Windows: windows, Timeout: opts.Timeout, Name: "ecsnet verify"})
		done()
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			results[r.InstanceID] = r
		}
	}
	rep := &Report{Fleet: f.Name}
	for _, in := range f.Instances {
		r, ran := results[in.ID]
		var res *plan.HostResult
		if ran {
			res = &r
		}
		c := judge(desired[in.Name], problems[in.Name], res)
		c.Instance, c.InstanceID = in.Name, in.ID
		rep.Hosts = append(rep.Hosts, c)
	}
	return rep, nil
}

// judge decides one host's verdict from its render h (nil when it has
// none, for the reason problem) and what its verify script gave (nil
// when it did not run).
func judge(h *render.Host, problem string, r *plan.HostResult) HostCheck {
	c := HostCheck{Drift: []string{}}
	switch {
	case problem != "":
		c.Verdict, c.Reason = CheckFailed, problem
		return c
	case r == nil:
		c.Verdict, c.Reason = CheckFailed, "no result"
		return c
	}
	c.ExitCode, c.Took, c.OutputTail = r.ExitCode, r.Took, r.Tail(3)
	live, err := ParseLive([]byte(r.Output))
	switch {
	case !r.OK():
		c.Verdict, c.Reason = CheckFailed, (&plan.HostError{Result: *r, ExitMeaning: ExitMeaning}).Error()
	case err != nil && Recorded(r.Output):
		c.Verdict, c.Reason = NotChecked, "the emulator records this family's scripts without running them"
	case err != nil && emulatorLine.MatchString(r.Output):
		// An emulator that runs no scripts at all: nothing was checked,
		// and that is an error, not a host in sync.
		c.Verdict, c.Reason = CheckFailed, "not executed: "+NotExecuted(*r)
	case err != nil && !strings.Contains(r.Output, strings.TrimSpace(LiveMarker)):
		c.Verdict, c.Reason = CheckFailed, noLiveState(*r)
	case err != nil:
		c.Verdict, c.Reason = CheckFailed, err.Error()
	default:
		c.Live = live
		c.Drift, c.Foreign = compare(h, live)
		c.Competing = live.Competing
		if c.Drift == nil {
			c.Drift = []string{}
		}
		c.Verdict = InSync
		if len(c.Drift) > 0 {
			c.Verdict = Drifted
		}
	}
	return c
}

// noLiveState says, in the user's terms, why a host that ran the verify
// script successfully gave nothing to compare: the script's last line is
// the host's live state, so without it the script most likely never ran.
func noLiveState(r plan.HostResult) string {
	if strings.TrimSpace(r.Output) == "" {
		return "the host's verify script did not report its live state (exit 0, no output): was it run? " +
			"(ecsnet emulator without --hosts runs no scripts)"
	}
	return "the host's verify script ended without reporting its live state; its output ends: " +
		strings.ReplaceAll(r.Tail(3), "\n", " | ")
}

// emulatorRecorded is what ecsnet emulator --hosts answers for a family
// whose stack it cannot run (ecs/emulator/hosts.go, which may not import
// guest): the script was recorded, not executed.
const emulatorRecorded = "recorded, not executed"

// Recorded reports whether a script's output is the emulator's for a
// script it recorded without running it: there is no host state behind
// it.
func Recorded(output string) bool { return strings.Contains(output, emulatorRecorded) }
