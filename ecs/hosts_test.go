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
	// Windows goes as PowerShell; a Stopped instance is refused by the
	// API, and is a host not reachable, not an error of the whole run.
	res, err = c.RunScript(context.Background(), plan.HostScript{InstanceIDs: []string{"i-bp1win1"}, Content: []byte("Write-Output 1"), Windows: true})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].OK() || res[0].ExitCode != -1 || !strings.Contains(res[0].Error, "host not reachable") ||
		!strings.Contains(res[0].Error, "InvalidInstance.NotMatch") {
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

// TestRunScriptUnreachable: hosts whose agent is not running, hangs, or
// whose instance is stopped come back as "host not reachable" results
// with no exit code, each on its own, while the others in the same call
// run: a stopped instance makes RunCommand refuse the whole call, so the
// client asks each instance alone.
func TestRunScriptUnreachable(t *testing.T) {
	w := manyWorld(3)
	for i := range w.Instances {
		switch w.Instances[i].InstanceId {
		case "i-bp1many000":
			w.Instances[i].EcsnetAgent = "Stopped"
		case "i-bp1many001":
			w.Instances[i].EcsnetAgent = "Hung"
		case "i-bp1many002":
			w.Instances[i].Status = "Stopped"
		}
	}
	// The emulator's clock runs 100 times faster, so a hung agent's
	// 10-second timeout passes in 0.1 s.
	start := time.Now()
	fast := func() time.Time { return start.Add(100 * time.Since(start)) }
	var ran sync.Map
	runner := func(_ context.Context, c emulator.Command) (emulator.CommandResult, error) {
		ran.Store(c.InstanceId, true)
		return emulator.CommandResult{Output: []byte("ok\n")}, nil
	}
	e := startEmu(t, w, emulator.Options{Runner: runner, Now: fast})
	c := newClient(t, fastConfig(e.URL))
	ids := []string{"i-bp1web1", "i-bp1many000", "i-bp1many001", "i-bp1many002"}
	res, err := c.RunScript(context.Background(), plan.HostScript{InstanceIDs: ids, Content: []byte("true\n"), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"i-bp1many000": "host not reachable: its Cloud Assistant agent is not running (ClientNotRunning",
		"i-bp1many001": "host not reachable: its Cloud Assistant agent does not respond (ClientNotResponse",
		"i-bp1many002": "host not reachable: Cloud Assistant refused the command: InvalidInstance.NotMatch",
	}
	for i, r := range res {
		if r.InstanceID != ids[i] {
			t.Fatalf("result %d is %s, want %s", i, r.InstanceID, ids[i])
		}
		if w, bad := want[r.InstanceID]; bad {
			if r.OK() || r.ExitCode != -1 || !strings.HasPrefix(r.Error, w) {
				t.Errorf("%s: %+v, want an error starting %q", r.InstanceID, r, w)
			}
			if _, yes := ran.Load(r.InstanceID); yes {
				t.Errorf("%s ran the script", r.InstanceID)
			}
		} else if !r.OK() || r.Tail(1) != "ok" {
			t.Errorf("%s: %+v", r.InstanceID, r)
		}
	}
	// One refused call for the four, then one call each.
	if n := e.Calls()["RunCommand"]; n != 5 {
		t.Errorf("%d RunCommand calls, want 5", n)
	}
}
