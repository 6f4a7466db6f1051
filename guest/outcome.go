package guest

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/ecsnet/ecsnet/plan"
)

// Outcome is what a host step did to its host, the one word every report
// of push and apply --hosts prints for it (text, JSON, markdown). It is
// decided from what the cloud answered and from the payload's own
// result line, never from the agent's status alone: Cloud Assistant says
// Success with exit code 0 for a script that never reached ecsnet (the
// plain emulator runs nothing; ecsnet emulator --hosts records the
// scripts of the stacks it cannot run).
type Outcome int

// The outcomes of a host step.
const (
	// OutcomeApplied: the payload applied the bundle and verified the
	// live state.
	OutcomeApplied Outcome = iota
	// OutcomeUnchanged: the host already was as rendered and nothing was
	// changed. The payload does not yet tell this apart from an apply
	// (issue 15); no report gives it today.
	OutcomeUnchanged
	// OutcomeRefused: the payload refused before changing anything.
	OutcomeRefused
	// OutcomeRolledBack: the apply, its verification or a probe failed
	// and the host put itself back as it was; the reason names which
	// ("probe failed: gateway vip: ...").
	OutcomeRolledBack
	// OutcomeFailed: the script failed (could not run, timed out, or
	// the rollback left differences), or the cloud refused to run it.
	OutcomeFailed
	// OutcomeNotExecuted: ecsnet's payload did not run on the host: its
	// output lacks the payload's result line (an emulator that runs no
	// scripts or only records them), or the step was not started
	// (a step it depends on failed, or the rollout stopped).
	OutcomeNotExecuted
	// OutcomeNotReachable: Cloud Assistant could not reach the host (the
	// agent is not running or does not answer, the instance is not
	// running); its state is unknown.
	OutcomeNotReachable
)

// String is the outcome's name as every report prints it.
func (o Outcome) String() string {
	switch o {
	case OutcomeApplied:
		return "applied"
	case OutcomeUnchanged:
		return "unchanged"
	case OutcomeRefused:
		return "refused"
	case OutcomeRolledBack:
		return "rolled back"
	case OutcomeFailed:
		return "failed"
	case OutcomeNotExecuted:
		return "not executed"
	case OutcomeNotReachable:
		return "not reachable"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// MarshalText makes an Outcome its name in JSON.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Done reports whether the host is configured as the step meant: only
// these count as done in a summary.
func (o Outcome) Done() bool { return o == OutcomeApplied || o == OutcomeUnchanged }

// HostOutcome is one host step's result as every report prints it: the
// outcome and its reason on one line.
type HostOutcome struct {
	Step       string        `json:"step"`
	Instance   string        `json:"instance"`
	InstanceID string        `json:"instance_id"`
	Outcome    Outcome       `json:"outcome"`
	Reason     string        `json:"reason"`
	ExitCode   int           `json:"exit_code"` // -1 when no script ended on the host
	Took       time.Duration `json:"-"`
	TookMS     int64         `json:"took_ms"`
	// Output is the end of the host's output (12 lines for a host that is
	// not done, 1 otherwise).
	Output string `json:"output_tail"`
}

// resultLine is the payload's last line, "ecsnet: <instance>: result:
// <why>" (scripts/payload.sh p_end, scripts/payload.ps1).
var resultLine = regexp.MustCompile(`(?m)^ecsnet: [^\r\n]*?: result: ([^\r\n]*)\r?$`)

// PayloadResult returns the reason of the payload's result line in a
// host's output (its last one), and whether there is one: without it,
// ecsnet's payload did not run to its end on the host.
func PayloadResult(output string) (string, bool) {
	m := resultLine.FindAllStringSubmatch(output, -1)
	if len(m) == 0 {
		return "", false
	}
	return strings.TrimSpace(m[len(m)-1][1]), true
}

// emulatorLine is how an emulator that did not run a script says so: the
// plain one ("ecsnet emulator: not executed: start the emulator with
// --hosts to run scripts") and hosts mode for a stack it cannot run
// ("ecsnet emulator: lb-3 (...): recorded, not executed (...)"); see
// ecs/emulator/hosts.go, which may not import guest.
var emulatorLine = regexp.MustCompile(`(?m)^ecsnet emulator: [^\r\n]*not executed[^\r\n]*$`)

// NotExecuted says why a host step's scripts, which all ended as the
// agent's Success with exit code 0, did not run ecsnet's payload, or
// returns "" when they did: the output lacks the payload's result line.
// It is plan.HostOptions.NotExecuted.
func NotExecuted(r plan.HostResult) string {
	if _, ok := PayloadResult(r.Output); ok {
		return ""
	}
	if m := emulatorLine.FindAllString(r.Output, -1); len(m) > 0 {
		return strings.TrimSpace(m[len(m)-1])
	}
	if strings.TrimSpace(r.Output) == "" {
		return "the host printed nothing, not the payload's result line: ecsnet's payload did not run there"
	}
	return "the host's output lacks the payload's result line: ecsnet's payload did not run to its end; it ends: " +
		strings.ReplaceAll(r.Tail(3), "\n", " | ")
}

// OutcomeOf decides a host step's outcome from what the executor reported.
func OutcomeOf(rep plan.HostReport) HostOutcome {
	r := rep.Result
	o := HostOutcome{Step: rep.Step.ID, Instance: rep.Step.Instance, InstanceID: rep.Step.InstanceID, ExitCode: r.ExitCode,
		Took: r.Took, TookMS: r.Took.Milliseconds()}
	var ne *plan.NotExecutedError
	why, hasResult := PayloadResult(r.Output)
	switch {
	case errors.As(rep.Err, &ne):
		o.Outcome, o.Reason = OutcomeNotExecuted, ne.Reason
	case strings.HasPrefix(r.Error, "host not reachable: "):
		o.Outcome, o.Reason = OutcomeNotReachable, strings.TrimPrefix(r.Error, "host not reachable: ")
	case rep.Err != nil && r.Status == "":
		// Never reached the host as a script: no render, or the cloud
		// refused the call.
		o.Outcome, o.Reason, o.ExitCode = OutcomeFailed, rep.Err.Error(), -1
	case rep.Err == nil && hasResult:
		o.Outcome, o.Reason = OutcomeApplied, why
	case rep.Err == nil:
		// A report from an executor without NotExecuted set.
		o.Outcome, o.Reason = OutcomeNotExecuted, NotExecuted(r)
	case r.Status != "Success" && r.Status != "Failed":
		o.Outcome = OutcomeFailed
		o.Reason = r.Status
		if r.Error != "" {
			o.Reason += ": " + r.Error
		}
	case !hasResult && emulatorLine.MatchString(r.Output):
		o.Outcome, o.Reason = OutcomeNotExecuted, NotExecuted(r)
	default:
		switch Exit(r.ExitCode) {
		case Refused:
			o.Outcome = OutcomeRefused
		case RolledBack:
			o.Outcome = OutcomeRolledBack
		default:
			o.Outcome = OutcomeFailed
		}
		o.Reason = fmt.Sprintf("exit %d (%s)", r.ExitCode, Exit(r.ExitCode))
		switch {
		case hasResult:
			o.Reason = fmt.Sprintf("exit %d: %s", r.ExitCode, why)
		case strings.TrimSpace(r.Output) != "":
			o.Reason += ": " + strings.TrimSpace(r.Tail(1))
		}
	}
	tail := 1
	if !o.Outcome.Done() {
		tail = 12
	}
	o.Output = r.Tail(tail)
	return o
}

// NotRun is the outcome of a host step that never started.
func NotRun(s *plan.Step) HostOutcome {
	return HostOutcome{Step: s.ID, Instance: s.Instance, InstanceID: s.InstanceID, Outcome: OutcomeNotExecuted, ExitCode: -1,
		Reason: "not started: a step it depends on failed, or the rollout stopped"}
}

// Outcomes lists every host step's outcome: those that ran (reps, in
// plan order), then those skipped.
func Outcomes(reps []plan.HostReport, skipped []*plan.Step) []HostOutcome {
	var out []HostOutcome
	for _, r := range reps {
		out = append(out, OutcomeOf(r))
	}
	for _, s := range skipped {
		if s.Action.Host() {
			out = append(out, NotRun(s))
		}
	}
	return out
}

// UnmarshalText reads an Outcome's name, as MarshalText writes it.
func (o *Outcome) UnmarshalText(b []byte) error {
	for k := OutcomeApplied; k <= OutcomeNotReachable; k++ {
		if k.String() == string(b) {
			*o = k
			return nil
		}
	}
	return fmt.Errorf("unknown host outcome %q", b)
}
