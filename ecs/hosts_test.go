package ecs

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/plan"
)

// manyWorld is smallWorld with n more Running Linux instances, so that a
// script for all of them takes more than one RunCommand call.
func manyWorld(n int) *emulator.World {
	w := smallWorld()
	w.VSwitches = append(w.VSwitches, emulator.VSwitch{VSwitchId: "vsw-bp1many", VpcId: "vpc-main", ZoneId: "cn-hangzhou-h", CidrBlock: "10.0.8.0/22"})
	for i := range n {
		w.Instances = append(w.Instances, emulator.Instance{InstanceId: fmt.Sprintf("i-bp1many%03d", i), InstanceName: fmt.Sprintf("many-%d", i),
			InstanceType: "ecs.g7.large", Status: "Running", OSType: "linux", VSwitchId: "vsw-bp1many",
			PrivateIpAddress: fmt.Sprintf("10.0.%d.%d", 8+(10+i)/256, (10+i)%256), SecurityGroupIds: []string{"sg-bp1web1"}})
	}
	return w
}

// TestRunScript runs a script on 61 instances through the emulator's
// Runner seam: two RunCommand calls (50 + 11), one result per instance in
// the order asked, exit codes and output as the host gave them, an
// instance that is not Running reported as the agent reports it.
func TestRunScript(t *testing.T) {
	var mu sync.Mutex
	var seen []emulator.Command
	runner := func(ctx context.Context, c emulator.Command) (emulator.CommandResult, error) {
		mu.Lock()
		seen = append(seen, c)
		mu.Unlock()
		code := 0
		if strings.HasSuffix(c.InstanceId, "7") {
			code = 5
		}
		return emulator.CommandResult{ExitCode: code, Output: []byte("line 1\nhello from " + c.InstanceId + "\n")}, nil
	}
	e := startEmu(t, manyWorld(60), emulator.Options{Runner: runner})
	c := newClient(t, fastConfig(e.URL))
	ids := []string{"i-bp1web1"}
	for i := range 60 {
		ids = append(ids, fmt.Sprintf("i-bp1many%03d", i))
	}
	script := []byte("#!/bin/bash\necho hello\n")
	res, err := c.RunScript(context.Background(), plan.HostScript{InstanceIDs: ids, Content: script, Timeout: 30 * time.Second, Name: "ecsnet test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(ids) {
		t.Fatalf("%d results for %d instances", len(res), len(ids))
	}
	for i, r := range res {
		if r.InstanceID != ids[i] {
			t.Fatalf("result %d is %s, want %s", i, r.InstanceID, ids[i])
		}
		want := 0
		if strings.HasSuffix(r.InstanceID, "7") {
			want = 5
		}
		if r.ExitCode != want || r.OK() != (want == 0) || r.Tail(1) != "hello from "+r.InstanceID {
			t.Errorf("%s: %+v", r.InstanceID, r)
		}
	}
	if n := e.Calls()["RunCommand"]; n != 2 {
		t.Errorf("%d RunCommand calls, want 2 (50 + 11 instances)", n)
	}
	for _, cmd := range seen {
		if cmd.Content != string(script) || cmd.Type != RunShellScript || cmd.Timeout != 30*time.Second {
			t.Errorf("the host got %+v", cmd)
		}
	}
	// The same script again runs again: every call has its own token.
	if _, err := c.RunScript(context.Background(), plan.HostScript{InstanceIDs: ids[:1], Content: script}); err != nil {
		t.Fatal(err)
	}
	if n := e.Calls()["RunCommand"]; n != 3 {
		t.Errorf("a second run of the same script was not sent: %d calls", n)
	}
	// Windows goes as PowerShell; a Stopped instance fails as the agent says.
	res, err = c.RunScript(context.Background(), plan.HostScript{InstanceIDs: []string{"i-bp1win1"}, Content: []byte("Write-Output 1"), Windows: true})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].OK() || !strings.Contains(res[0].Error, "InstanceNotRunning") {
		t.Errorf("stopped instance: %+v", res[0])
	}
	if seen[len(seen)-1].Type == RunPowerShellScript {
		t.Error("a stopped instance ran the script")
	}
}

// TestRunScriptTooLong: a script over RunCommand's limit is refused
// before any call.
func TestRunScriptTooLong(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	_, err := c.RunScript(context.Background(), plan.HostScript{InstanceIDs: []string{"i-bp1web1"}, Content: make([]byte, MaxCommandContent)})
	if err == nil || !strings.Contains(err.Error(), "at most 16384") {
		t.Errorf("err = %v", err)
	}
	if n := e.Calls()["RunCommand"]; n != 0 {
		t.Errorf("%d calls", n)
	}
}
