package main

import (
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/ecsnet/ecsnet/internal/testfleet/testcloud"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// planSection times plan.Compute in this process on the fixture, from the
// converged snapshot with its lock (an empty plan) and from a bare cloud
// without a lock (every ENI created). BenchmarkCompute20k in package plan
// measures the same with the testing package.
func (c *config) planSection(fx *fixture) *section {
	sec := &section{title: "Plan computation (issue 4)"}
	size := thousands(fx.n) + " instances"
	sec.intro = []string{fmt.Sprintf("plan.Compute in this process (after a GC; the best of %d runs: the machine is shared, and the best run is the code's cost with the least interference), from snapshots of the generated fleet "+
		"(%s ENIs, %s addresses). The same is BenchmarkCompute20k in package plan.",
		max(3, c.runs), thousands(len(fx.f.Instances)+len(fx.f.ENIs)), thousands(fx.n*33))}
	w, err := testcloud.World(fx.f, testcloud.Bare)
	if err != nil {
		sec.crash("plan.Compute", size, err)
		return sec
	}
	bare, err := testcloud.Observed(w)
	if err != nil {
		sec.crash("plan.Compute", size, err)
		return sec
	}
	for _, k := range []struct {
		what  string
		obs   *plan.Observed
		lock  *schema.Lock
		calls map[string]int // Plan.Calls, by the formula
	}{
		{"plan.Compute: converged snapshot + lock (no changes)", fx.conv, fx.lock, map[string]int{}},
		{"plan.Compute: from scratch (bare snapshot, no lock)", bare, nil, scratchCalls(fx.f)},
	} {
		fmt.Fprintf(c.progress, "plan %d: %s ...\n", fx.n, k.what)
		var walls []time.Duration
		var p *plan.Plan
		for range max(3, c.runs) {
			runtime.GC()
			start := time.Now()
			p, err = plan.Compute(fx.f, k.obs, k.lock, plan.Options{})
			walls = append(walls, time.Since(start))
			if err != nil {
				break
			}
		}
		if err != nil {
			sec.crash(k.what, size, err)
			continue
		}
		if got := p.Calls(); !equalNonZero(got, k.calls) {
			sec.add(check{what: k.what, size: size, measured: fmt.Sprintf("%d steps, calls %s", len(p.Steps), callsString(got)),
				goal: fmt.Sprintf("calls %s (the formula)", callsString(k.calls)), broken: true})
			continue
		}
		wall := slices.Min(walls)
		sec.add(check{what: k.what, size: size, measured: fmt.Sprintf("%s for %s steps (best of runs: %s)", secs(wall), thousands(len(p.Steps)), durations(walls)),
			goal: "≤ 1 s", pass: wall <= time.Second, note: "see the profile notes"})
	}
	return sec
}

// countPrimaryAssigns counts the instances whose primary ENI wants
// secondary addresses: one assign each on a bare cloud.
func countPrimaryAssigns(f *schema.Fleet) int {
	n := 0
	for _, in := range f.Instances {
		if in.Primary.N() > 0 {
			n++
		}
	}
	return n
}
