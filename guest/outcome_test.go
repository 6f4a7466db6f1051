package guest

import (
	"errors"
	"testing"

	"github.com/ecsnet/ecsnet/plan"
)

// TestOutcomeOf: each way a host step can end has one outcome, with the
// reason a user needs on the same line; exit 0 without the payload's
// result line is never applied (issue 15).
func TestOutcomeOf(t *testing.T) {
	step := &plan.Step{ID: "host-apply host/lb-1", Instance: "lb-1", InstanceID: "i-1"}
	ok := plan.HostResult{Status: "Success", Output: "ecsnet: lb-1: applying\necsnet: lb-1: result: applied and verified\n"}
	plain := plan.HostResult{Status: "Success", Output: "ecsnet emulator: not executed: start the emulator with --hosts to run scripts\n"}
	recorded := plan.HostResult{Status: "Success", Output: "ecsnet emulator: db-1 (sles15, wicked): recorded, not executed (it needs wickedd); the script passed bash -n\n"}
	failed := func(code int, out string) plan.HostResult {
		return plan.HostResult{Status: "Failed", ExitCode: code, Error: "ExitCodeNonzero: The command execution exit code is not zero.", Output: out}
	}
	hostErr := func(r plan.HostResult) error { return &plan.HostError{Result: r, ExitMeaning: ExitMeaning} }
	unreachable := plan.HostResult{Status: "Failed", ExitCode: -1,
		Error: "host not reachable: the instance is not running (InstanceNotRunning: The specified instance was not running during task execution.)"}
	for _, c := range []struct {
		name   string
		res    plan.HostResult
		err    error
		want   Outcome
		reason string
	}{
		{"applied", ok, nil, OutcomeApplied, "applied and verified"},
		{"plain emulator", plain, &plan.NotExecutedError{Result: plain, Reason: NotExecuted(plain)}, OutcomeNotExecuted,
			"ecsnet emulator: not executed: start the emulator with --hosts to run scripts"},
		{"recorded stack", recorded, &plan.NotExecutedError{Result: recorded, Reason: NotExecuted(recorded)}, OutcomeNotExecuted,
			"ecsnet emulator: db-1 (sles15, wicked): recorded, not executed (it needs wickedd); the script passed bash -n"},
		{"exit 0 and no result, executor without the check", plan.HostResult{Status: "Success"}, nil, OutcomeNotExecuted,
			"the host printed nothing, not the payload's result line: ecsnet's payload did not run there"},
		{"recorded, parse check failed", failed(2, "x: syntax error\n"+recorded.Output), hostErr(failed(2, "")), OutcomeNotExecuted,
			"ecsnet emulator: db-1 (sles15, wicked): recorded, not executed (it needs wickedd); the script passed bash -n"},
		{"refused", failed(3, "ecsnet: lb-1: result: refused: run as root (Cloud Assistant's default user); nothing was changed\n"), errors.New("x"),
			OutcomeRefused, "exit 3: refused: run as root (Cloud Assistant's default user); nothing was changed"},
		{"rolled back", failed(5, "ecsnet: lb-1: result: rolled back: verification failed; the host is as it was before\n"), errors.New("x"),
			OutcomeRolledBack, "exit 5: rolled back: verification failed; the host is as it was before"},
		{"stranded", failed(6, "ecsnet: lb-1: result: rollback incomplete: x\n"), errors.New("x"), OutcomeFailed, "exit 6: rollback incomplete: x"},
		{"part missing", failed(1, "ecsnet: part 2 of the payload is missing; nothing was run\n"), errors.New("x"), OutcomeFailed,
			"exit 1 (could not run; nothing changed): ecsnet: part 2 of the payload is missing; nothing was run"},
		{"not reachable", unreachable, hostErr(unreachable), OutcomeNotReachable,
			"the instance is not running (InstanceNotRunning: The specified instance was not running during task execution.)"},
		{"timeout", plan.HostResult{Status: "Timeout", ExitCode: -1, Error: "ExecutionTimeout: The command execution has been timeout."}, errors.New("x"),
			OutcomeFailed, "Timeout: ExecutionTimeout: The command execution has been timeout."},
		{"no render", plan.HostResult{}, errors.New("render lb-1: no such ENI"), OutcomeFailed, "render lb-1: no such ENI"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := OutcomeOf(plan.HostReport{Step: step, Result: c.res, Err: c.err})
			if o.Outcome != c.want || o.Reason != c.reason {
				t.Errorf("got %s: %q\nwant %s: %q", o.Outcome, o.Reason, c.want, c.reason)
			}
			if o.Outcome.Done() != (c.want == OutcomeApplied) {
				t.Errorf("%s counts as done: %v", o.Outcome, o.Outcome.Done())
			}
		})
	}
}

// TestNotExecuted: the payload's result line, and only it, says the
// payload ran, whatever else the output holds.
func TestNotExecuted(t *testing.T) {
	for out, ran := range map[string]bool{
		"ecsnet: lb-1: result: applied and verified\n":   true,
		"ecsnet: lb-1: result: applied and verified\r\n": true,
		"ecsnet: lb-1: applying\n":                       false,
		"":                                               false,
		"applied and verified\n":                         false,
		"ecsnet emulator: not executed: start the emulator\n": false,
	} {
		if got := NotExecuted(plan.HostResult{Status: "Success", Output: out}) == ""; got != ran {
			t.Errorf("%q: ran %v, want %v", out, got, ran)
		}
	}
}

// TestOutcomeText: every outcome has a name that reads back.
func TestOutcomeText(t *testing.T) {
	for o := OutcomeApplied; o <= OutcomeNotReachable; o++ {
		b, _ := o.MarshalText()
		var back Outcome
		if err := back.UnmarshalText(b); err != nil || back != o {
			t.Errorf("%s: read back %s, %v", o, back, err)
		}
	}
}
