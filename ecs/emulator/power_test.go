package emulator

import (
	"context"
	"testing"
	"time"
)

// instStatus is an instance's Status as DescribeInstances answers it.
func (e *env) instStatus(t testing.TB, id string) string {
	t.Helper()
	m := ok(t, e.cl.ecs(t, "DescribeInstances", "InstanceIds", `["`+id+`"]`))
	return str(list(m, "Instances", "Instance")[0], "Status")
}

// TestInstancePower: StopInstance, StartInstance and RebootInstance pass
// through Stopping and Starting for AsyncDelay each, refuse a state they
// do not start from with IncorrectInstanceStatus, and a stopped instance
// takes no command.
func TestInstancePower(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{AsyncDelay: 10 * time.Second})
	expect := func(id, want string) {
		t.Helper()
		if got := e.instStatus(t, id); got != want {
			t.Fatalf("%s is %s, want %s", id, got, want)
		}
	}
	ok(t, e.cl.ecs(t, "StopInstance", "InstanceId", "i-run", "ForceStop", "true", "StoppedMode", "StopCharging"))
	expect("i-run", "Stopping")
	wantErr(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "true", "InstanceId.1", "i-run"),
		403, "InvalidInstance.NotMatch")
	wantErr(t, e.cl.ecs(t, "StartInstance", "InstanceId", "i-run"), 403, "IncorrectInstanceStatus")
	e.clock.Advance(10 * time.Second)
	expect("i-run", "Stopped")
	wantErr(t, e.cl.ecs(t, "StopInstance", "InstanceId", "i-run"), 403, "IncorrectInstanceStatus")
	wantErr(t, e.cl.ecs(t, "RebootInstance", "InstanceId", "i-run"), 403, "IncorrectInstanceStatus")

	ok(t, e.cl.ecs(t, "StartInstance", "InstanceId", "i-run"))
	expect("i-run", "Starting")
	e.clock.Advance(10 * time.Second)
	expect("i-run", "Running")

	ok(t, e.cl.ecs(t, "RebootInstance", "InstanceId", "i-run"))
	expect("i-run", "Stopping")
	e.clock.Advance(10 * time.Second)
	expect("i-run", "Starting")
	e.clock.Advance(10 * time.Second)
	expect("i-run", "Running")

	wantErr(t, e.cl.ecs(t, "StopInstance", "InstanceId", "i-nope"), 404, "InvalidInstanceId.NotFound")
	wantErr(t, e.cl.ecs(t, "StopInstance", "InstanceId", "i-run", "StoppedMode", "Sleep"), 400, "InvalidParameter")
	wantErr(t, e.cl.ecs(t, "StopInstance"), 400, "MissingParameter")
	if n := e.srv.MutatingCalls(); n == 0 {
		t.Error("power actions do not count as mutating")
	}

	// A world's transitional state completes like a fresh one.
	w := testWorld(t)
	w.Instances[0].Status = "Stopping"
	e2 := newEnv(t, w, Options{AsyncDelay: time.Second})
	if got := e2.instStatus(t, "i-run"); got != "Stopping" {
		t.Fatalf("world Stopping: %s", got)
	}
	e2.clock.Advance(time.Second)
	if got := e2.instStatus(t, "i-run"); got != "Stopped" {
		t.Fatalf("world Stopping, a second later: %s", got)
	}
}

// TestStopInterruptsCommand: an instance that stops while a command runs
// ends it with InstanceNotRunning, whatever the runner answers later.
func TestStopInterruptsCommand(t *testing.T) {
	release := make(chan struct{})
	runner := func(ctx context.Context, c Command) (CommandResult, error) {
		<-release
		return CommandResult{ExitCode: 0, Output: []byte("done\n")}, nil
	}
	e := newEnv(t, testWorld(t), Options{Runner: runner})
	inv := str(ok(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "sleep 600",
		"InstanceId.1", "i-run")), "InvokeId")
	ok(t, e.cl.ecs(t, "StopInstance", "InstanceId", "i-run"))
	close(release)
	time.Sleep(20 * time.Millisecond)
	r := list(ok(t, e.cl.ecs(t, "DescribeInvocationResults", "InvokeId", inv)), "Invocation", "InvocationResults", "InvocationResult")[0]
	if str(r, "InvocationStatus") != "Failed" || str(r, "ErrorCode") != "InstanceNotRunning" || str(r, "InvokeRecordStatus") != "Failed" {
		t.Errorf("a command on an instance that stopped: %v", r)
	}
}
