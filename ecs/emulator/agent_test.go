package emulator

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestAgentStates: an agent that is not installed or not running ends a
// command Aborted with ClientNotRunning; a hung one leaves it Running until
// its Timeout, then Timeout with ClientNotResponse; DescribeCloudAssistant
// Status tells the first two apart from a running agent but not a hung
// one; no script reaches any of them, and none reports an exit code.
func TestAgentStates(t *testing.T) {
	var ran atomic.Int32
	runner := func(context.Context, Command) (CommandResult, error) {
		ran.Add(1)
		return CommandResult{}, nil
	}
	w := testWorld(t)
	w.Instances[0].EcsnetAgent = "Stopped" // i-run
	e := newEnv(t, w, Options{AsyncDelay: 5 * time.Second, Runner: runner})
	if err := e.srv.SetAgent("i-e", "Hung"); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.SetAgent("i-zone", "NotInstalled"); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.SetAgent("i-zone", "Asleep"); err == nil {
		t.Error("SetAgent took an unknown state")
	}

	st := map[string]string{}
	m := ok(t, e.cl.ecs(t, "DescribeCloudAssistantStatus", "InstanceId.1", "i-run", "InstanceId.2", "i-e",
		"InstanceId.3", "i-zone", "InstanceId.4", "i-win"))
	for _, x := range list(m, "InstanceCloudAssistantStatusSet", "InstanceCloudAssistantStatus") {
		st[str(x, "InstanceId")] = str(x, "CloudAssistantStatus")
	}
	if st["i-run"] != "false" || st["i-e"] != "true" || st["i-zone"] != "false" || st["i-win"] != "true" {
		t.Errorf("CloudAssistantStatus: %v", st)
	}

	inv := str(ok(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "true", "Timeout", "60",
		"InstanceId.1", "i-run", "InstanceId.2", "i-e", "InstanceId.3", "i-zone")), "InvokeId")
	results := func() map[string]map[string]any {
		out := map[string]map[string]any{}
		m := ok(t, e.cl.ecs(t, "DescribeInvocationResults", "InvokeId", inv))
		for _, x := range list(m, "Invocation", "InvocationResults", "InvocationResult") {
			out[str(x, "InstanceId")] = x.(map[string]any)
		}
		return out
	}
	e.clock.Advance(5 * time.Second)
	rs := results()
	for _, id := range []string{"i-run", "i-zone"} {
		r := rs[id]
		if str(r, "InvocationStatus") != "Aborted" || str(r, "ErrorCode") != "ClientNotRunning" || r["ExitCode"] != nil {
			t.Errorf("%s: %v", id, r)
		}
	}
	if r := rs["i-e"]; str(r, "InvocationStatus") != "Running" || str(r, "InvokeRecordStatus") != "Running" {
		t.Errorf("hung agent before the timeout: %v", r)
	}
	e.clock.Advance(55 * time.Second)
	rs = results()
	if r := rs["i-e"]; str(r, "InvocationStatus") != "Timeout" || str(r, "ErrorCode") != "ClientNotResponse" ||
		str(r, "InvokeRecordStatus") != "Failed" || r["ExitCode"] != nil {
		t.Errorf("hung agent after the timeout: %v", r)
	}
	m = ok(t, e.cl.ecs(t, "DescribeInvocations", "InvokeId", inv))
	if got := str(list(m, "Invocations", "Invocation")[0], "InvocationStatus"); got != "Failed" {
		t.Errorf("DescribeInvocations: the task is %s, want Failed", got)
	}
	if n := ran.Load(); n != 0 {
		t.Errorf("%d scripts reached agents that cannot run them", n)
	}
	agents := map[string]string{}
	for _, in := range e.srv.State().Instances {
		agents[in.InstanceId] = in.EcsnetAgent
	}
	if agents["i-run"] != "Stopped" || agents["i-e"] != "Hung" || agents["i-zone"] != "NotInstalled" || agents["i-win"] != "" {
		t.Errorf("State's agents: %v", agents)
	}
}

// TestDescribeInvocations: one row per task with every instance's part;
// the task is PartialFailed when some instances failed, output only with
// IncludeOutput, filters by instance and status.
func TestDescribeInvocations(t *testing.T) {
	runner := func(_ context.Context, c Command) (CommandResult, error) {
		if c.InstanceId == "i-e" {
			return CommandResult{ExitCode: 4, Output: []byte("no\n")}, nil
		}
		return CommandResult{Output: []byte("yes\n")}, nil
	}
	e := newEnv(t, testWorld(t), Options{Runner: runner})
	inv := str(ok(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "true",
		"InstanceId.1", "i-run", "InstanceId.2", "i-e", "Name", "probe")), "InvokeId")
	var task map[string]any
	for range 1000 {
		m := ok(t, e.cl.ecs(t, "DescribeInvocations", "InvokeId", inv, "IncludeOutput", "true", "ContentEncoding", "PlainText"))
		task = list(m, "Invocations", "Invocation")[0].(map[string]any)
		if str(task, "InvocationStatus") != "Running" {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if str(task, "InvocationStatus") != "PartialFailed" || str(task, "CommandName") != "probe" || str(task, "CommandContent") != "true" {
		t.Errorf("task: %v", task)
	}
	parts := list(task, "InvokeInstances", "InvokeInstance")
	if len(parts) != 2 {
		t.Fatalf("%d instances", len(parts))
	}
	for _, p := range parts {
		id := str(p, "InstanceId")
		want, code, out := "Success", 0.0, "yes\n"
		if id == "i-e" {
			want, code, out = "Failed", 4, "no\n"
		}
		if str(p, "InvocationStatus") != want || dig(p, "ExitCode").(float64) != code || str(p, "Output") != out {
			t.Errorf("%s: %v", id, p)
		}
	}
	m := ok(t, e.cl.ecs(t, "DescribeInvocations", "InvokeId", inv))
	if p := list(list(m, "Invocations", "Invocation")[0], "InvokeInstances", "InvokeInstance")[0]; str(p, "Output") != "" {
		t.Errorf("output without IncludeOutput: %v", p)
	}
	if n := len(list(ok(t, e.cl.ecs(t, "DescribeInvocations", "InstanceId", "i-zone")), "Invocations", "Invocation")); n != 0 {
		t.Errorf("filter by another instance: %d tasks", n)
	}
	if n := len(list(ok(t, e.cl.ecs(t, "DescribeInvocations", "InvokeStatus", "PartialFailed")), "Invocations", "Invocation")); n != 1 {
		t.Errorf("filter by status: %d tasks", n)
	}
}
