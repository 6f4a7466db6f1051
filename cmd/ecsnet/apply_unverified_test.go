package main

import (
	"strings"
	"sync"
	"testing"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// TestApplyFinalReadThrottled: every step succeeds, then the emulator
// throttles the reads apply makes to check convergence, beyond every
// retry. The steps' results decide the exit code (0); the failed read is
// a warning that says how to re-check, and nothing claims the cloud
// matches the desired state. The cloud did converge: the plan the warning
// names shows no changes, and a re-run makes no call that changes
// anything (issue 12 item 2).
func TestApplyFinalReadThrottled(t *testing.T) {
	c := appliedE2E(t, nil)
	c.edit(`secondaryIps: ["172.16.0.21", "172.16.0.22"]`, `secondaryIps: ["172.16.0.21", "172.16.0.22", "172.16.0.23"]`)

	e, out, _ := c.env("")
	var once sync.Once
	stderr := &hookBuffer{hook: func(text string) {
		if strings.Contains(text, "[1/1]") { // the only step is done; the final read comes next
			once.Do(func() {
				// One token each, then nothing: the read fails at its
				// second vSwitch or type lookup, whatever the retries.
				c.srv.SetFaults(emulator.Faults{ActionQPS: map[string]float64{"DescribeVSwitches": 1e-9, "DescribeInstanceTypes": 1e-9}})
			})
		}
	}}
	e.stderr = stderr
	// No backoff between the retries: the throttled read fails at once
	// instead of after about 25 s of jittered waits.
	e.tune.client = func(cfg *ecs.Config) { cfg.Rand = func() float64 { return 0 } }
	code := run([]string{"apply", "--endpoint", c.url, "--auto-approve", c.dir}, e)
	errs := stderr.String()
	if code != exitOK {
		t.Fatalf("apply: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, want := range []string{"done     assign", "warning: the cloud could not be read back after the apply, so convergence was not checked",
		"Throttling", "to see whether anything is left to do, run: ecsnet plan " + c.dir} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "matches the desired state") || strings.Contains(errs, "ecsnet apply:") {
		t.Errorf("stderr claims convergence or reports an error:\n%s", errs)
	}
	c.srv.SetFaults(emulator.Faults{})
	c.wantCalls(map[string]int{"AssignPrivateIpAddresses": 1})
	c.must(exitOK, "plan", "--detailed-exitcode", c.dir)
	c.apply()
	c.wantCalls(map[string]int{})
}
