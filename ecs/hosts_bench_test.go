package ecs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// BenchmarkPush200 pushes to 200 emulated hosts (two scripts each, as a
// split payload is delivered) through plan.Deliver and RunScript, with
// 20 ms on every API call and Cloud Assistant held to a fixed rate of
// 100 calls a second per action (burst 1). It reports the wall time
// against the bound that rate sets (400 RunCommand calls take 4 s at
// best): x-rate-bound near 1 means the rollout is limited by the cloud's
// rate, not by ecsnet.
func BenchmarkPush200(b *testing.B) {
	const hosts, perSecond, scripts = 200, 100, 2
	ok := func(context.Context, emulator.Command) (emulator.CommandResult, error) {
		return emulator.CommandResult{Output: []byte("ecsnet: result: applied and verified\n")}, nil
	}
	e := startEmu(b, manyWorld(hosts), emulator.Options{Latency: 20 * time.Millisecond, Runner: ok})
	cfg := fastConfig(e.URL)
	cfg.WaitInterval, cfg.WaitMaxInterval = 50*time.Millisecond, 200*time.Millisecond
	cfg.RateLimits[actRunCommand] = RateLimit{PerMinute: perSecond * 60, Burst: 1}
	cfg.RateLimits[actDescribeInvocations] = RateLimit{PerMinute: perSecond * 60, Burst: 1}
	cfg.MaxConcurrency = 64
	c := newClient(b, cfg)
	p := &plan.Plan{Fleet: "bench"}
	for i := range hosts {
		name := fmt.Sprintf("many-%d", i)
		p.Steps = append(p.Steps, &plan.Step{ID: "host-apply host/" + name, Action: plan.HostApply, Target: plan.HostTarget(name),
			Instance: name, InstanceID: fmt.Sprintf("i-bp1many%03d", i)})
	}
	payload := func(s *plan.Step, _ *schema.Lock) (plan.HostPayload, error) {
		var out [][]byte
		for i := range scripts {
			out = append(out, []byte(fmt.Sprintf("#!/bin/bash\n# part %d for %s\n", i+1, s.Instance)))
		}
		return plan.HostPayload{Scripts: out}, nil
	}
	bound := time.Duration(hosts*scripts) * time.Second / perSecond
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		rep, err := plan.Deliver(context.Background(), p, &schema.Lock{}, plan.ApplyOptions{
			Hosts: &plan.HostOptions{Runner: c, Payload: payload, Batch: 100}})
		if err != nil || len(rep.Done) != hosts {
			b.Fatalf("%v: %d done, %d failed", err, len(rep.Done), len(rep.Failed))
		}
		total += time.Since(start)
	}
	wall := total / time.Duration(b.N)
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(bound.Seconds(), "bound-s")
	b.ReportMetric(wall.Seconds()/bound.Seconds(), "x-rate-bound")
}
