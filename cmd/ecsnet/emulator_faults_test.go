package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// TestEmulatorClockFlags: the timing and fault flags set the emulator's
// Options over the world's own Timing and Faults.
func TestEmulatorClockFlags(t *testing.T) {
	parse := func(t *testing.T, w *emulator.World, args ...string) (emulator.Options, error) {
		t.Helper()
		var a emulatorArgs
		fs := emulatorFlags(&a)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		var opts emulator.Options
		err := a.clock.apply(fs, w, &opts)
		return opts, err
	}
	w, err := exampleWorld()
	if err != nil {
		t.Fatal(err)
	}

	// No flag: the realistic timing, no faults.
	opts, err := parse(t, w)
	if err != nil || opts.Timing == nil || *opts.Timing != emulator.RealisticTiming() || opts.Faults != nil {
		t.Fatalf("defaults: timing %+v faults %+v, %v", opts.Timing, opts.Faults, err)
	}

	w.Timing = &emulator.Timing{Attach: emulator.Duration(time.Second)}
	w.Faults = &emulator.Faults{ThrottleRate: 0.5, Actions: map[string]emulator.FaultRates{"DeleteNetworkInterface": {DropRate: 1}}}
	opts, err = parse(t, w, "--time-scale", "0.01", "--read-lag", "2s", "--stuck-for", "1m", "--busy-for", "500ms",
		"--fault", "stuck=0.25", "--fault", "AssignPrivateIpAddresses:commit-then-drop=0.2",
		"--fault", "AssignPrivateIpAddresses:conflict=0.1", "--fault", "DescribeInstances:qps=5")
	if err != nil {
		t.Fatal(err)
	}
	tm := opts.Timing
	if tm.Attach != emulator.Duration(time.Second) || tm.Scale != 0.01 || tm.ReadLag != emulator.Duration(2*time.Second) || tm.Stuck != emulator.Duration(time.Minute) ||
		tm.Busy != emulator.Duration(500*time.Millisecond) {
		t.Errorf("timing %+v: want the world's attach, scale 0.01, read lag 2s, stuck 1m, busy 500ms", *tm)
	}
	f := opts.Faults
	if f.ThrottleRate != 0.5 || f.StuckRate != 0.25 || f.ActionQPS["DescribeInstances"] != 5 ||
		f.Actions["AssignPrivateIpAddresses"] != (emulator.FaultRates{CommitThenDropRate: 0.2, ConflictRate: 0.1}) ||
		f.Actions["DeleteNetworkInterface"] != (emulator.FaultRates{DropRate: 1}) {
		t.Errorf("faults %+v: want the world's throttling and delete drops, and the flags' rates", *f)
	}
	if w.Faults.StuckRate != 0 || len(w.Faults.Actions) != 1 {
		t.Errorf("the flags changed the world's own Faults: %+v", *w.Faults)
	}

	// --async-delay is the simplified model: no Timing at all.
	opts, err = parse(t, w, "--async-delay", "0")
	if err != nil || opts.Timing != nil || w.Timing != nil || opts.AsyncDelay != 0 {
		t.Errorf("--async-delay 0: timing %+v, world timing %+v, delay %s, %v", opts.Timing, w.Timing, opts.AsyncDelay, err)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--fault", "flaky=0.1"}, `unknown kind "flaky"`},
		{[]string{"--fault", "stuck"}, "want [ACTION:]KIND=VALUE"},
		{[]string{"--fault", "drop=1.5"}, "not a share from 0 to 1"},
		{[]string{"--fault", "drop=-1"}, "not a number from 0 up"},
		{[]string{"--fault", "qps=3"}, "qps limits one action"},
		{[]string{"--fault", "AttachENI:drop=0.1"}, `"AttachENI" is not an action the emulator answers`},
		{[]string{"--fault", "CreateNetworkInterface:stuck=0.1"}, "only AttachNetworkInterface and DetachNetworkInterface"},
		{[]string{"--time-scale", "0"}, "must be above 0"},
		{[]string{"--async-delay", "1s", "--read-lag", "1s"}, "has no --read-lag"},
	} {
		if _, err := parse(t, w, bad.args...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: got %v, want an error containing %q", bad.args, err, bad.want)
		}
	}
	code, _, stderr := runCLI(t, "emulator", "--fault", "flaky=0.1")
	if code != exitError || !strings.Contains(stderr, `unknown kind "flaky"`) {
		t.Errorf("ecsnet emulator --fault flaky=0.1: exit %d, %s", code, stderr)
	}
}

// TestEmulatorFaultFlagServes: `ecsnet emulator --fault` reaches the
// served API: a per-action conflict answers 403 Operation.Conflict to
// that action and to no other.
func TestEmulatorFaultFlagServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		e := env{stdin: strings.NewReader(""), stdout: pw, stderr: io.Discard, getenv: func(string) string { return "" }}
		done <- runEmulator(ctx, []string{"--time-scale", "0.001", "--fault", "AssignPrivateIpAddresses:conflict=1"}, e)
		pw.Close()
	}()
	defer func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("emulator exit %d", code)
		}
	}()
	url, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	w, err := exampleWorld()
	if err != nil {
		t.Fatal(err)
	}
	k := w.AccessKeys[0]
	cl, err := ecs.New(ecs.Config{Region: w.RegionId, Endpoint: strings.TrimSpace(url),
		Credentials: ecs.Credentials{AccessKeyID: k.AccessKeyId, AccessKeySecret: k.AccessKeySecret},
		Retry:       ecs.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	in := w.Instances[0]
	_, err = cl.AssignPrivateIpAddresses(ctx, ecs.AssignInput{ENIID: in.NetworkInterfaceId, Count: 1, ClientToken: "t-conflict-flag"})
	if !ecs.IsCode(err, "Operation.Conflict") {
		t.Errorf("assign: %v, want Operation.Conflict", err)
	}
	if _, err := cl.DescribeNetworkInterfaces(ctx, ecs.ENIQuery{IDs: []string{in.NetworkInterfaceId}}); err != nil {
		t.Errorf("describe: %v", err)
	}
}
