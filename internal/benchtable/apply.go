package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/internal/testfleet/testcloud"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// mutating reports whether an API action is one a plan step calls: the
// names come from plan (Action.APIAction), so that the IPv6 and prefix
// actions of issue 17 count as plan counts them.
func mutating(api string) bool {
	for _, a := range plan.Actions() {
		if a.APIAction() == api {
			return true
		}
	}
	return false
}

// scratchCalls is the call formula of an apply from scratch (a bare
// world: instances with their primary ENI and address only), from the
// fleet alone, to check plan.Plan.Calls against. A secondary ENI: 1
// create (which takes up to 10 secondary addresses, 10 IPv6 addresses,
// and up to 10 prefixes when it asks for no secondary address), 1 attach
// when bound, 1 assign for addresses beyond the create's, 1
// AssignIpv6Addresses for IPv6 addresses beyond it, and ⌈n/10⌉
// AssignPrivateIpAddresses for the n prefixes the create does not take. A
// primary ENI: 1 assign with secondary addresses, 1 AssignIpv6Addresses
// with IPv6 addresses, ⌈n/10⌉ assigns for n prefixes.
func scratchCalls(f *schema.Fleet) map[string]int {
	const createMax = 10 // plan.Options.CreateMaxSecondaryIPs' default
	per := func(n int) int { return (n + plan.PrefixesPerCall - 1) / plan.PrefixesPerCall }
	want := map[string]int{}
	for _, x := range f.ENIs {
		want["CreateNetworkInterface"]++
		if x.Bound() {
			want["AttachNetworkInterface"]++
		}
		if x.N() > createMax {
			want["AssignPrivateIpAddresses"]++
		}
		if x.IPv6.N() > createMax {
			want["AssignIpv6Addresses"]++
		}
		switch p := x.Prefixes.N(); {
		case p > 0 && x.N() > 0:
			want["AssignPrivateIpAddresses"] += per(p)
		case p > plan.PrefixesPerCall:
			want["AssignPrivateIpAddresses"] += per(p - plan.PrefixesPerCall)
		}
	}
	want["AssignPrivateIpAddresses"] += countPrimaryAssigns(f)
	for _, in := range f.Instances {
		if in.Primary.IPv6.N() > 0 {
			want["AssignIpv6Addresses"]++
		}
		want["AssignPrivateIpAddresses"] += per(in.Primary.Prefixes.N())
	}
	for a, k := range want {
		if k == 0 {
			delete(want, a)
		}
	}
	return want
}

// applySection applies generated fleets from scratch against the emulator
// with fixed per-action rates, as `ecsnet apply --auto-approve` does:
// observe, plan, apply (which observes again at the end).
func (c *config) applySection() *section {
	sec := &section{title: "Apply (issue 4)"}
	limits := c.applyLimits()
	var rates []string
	for _, a := range slices.Sorted(maps.Keys(limits.server)) {
		rates = append(rates, fmt.Sprintf("%s %d/min", strings.TrimSuffix(a, "NetworkInterface"), int(limits.server[a]*60+0.5)))
	}
	burst := "the emulator's (⌊max(1, per-minute/60)⌋, so the client never sends what the server would throttle)"
	if c.applyBurst != "matched" {
		burst = "the client's default (Burst = PerMinute, as Terway)"
	}
	save := "after every step, atomically, as ecsnet apply does"
	if !c.applySaveLock {
		save = "never (-apply-save-lock=false)"
	}
	sec.intro = []string{
		fmt.Sprintf("From scratch: a world with the instances (primary ENI and address only), vSwitches and security groups of a testfleet fleet; "+
			"the plan creates, attaches and fills every secondary ENI and fills every primary ENI. "+
			"Emulator in this process on loopback: latency %s per request, async delay %s, per-action token buckets (Options.ActionQPS = per-minute/60, burst max(1, QPS)): %s. "+
			"Client (ecs.Config): the same per-minute figures in RateLimits, burst %s, WaitInterval %s, default retries; "+
			"plan.Apply with parallelism %d; lock saved %s.",
			c.applyLatency, c.applyAsync, strings.Join(rates, ", "), burst, c.applyWait, c.applyParallelism, save),
		"Calls are the emulator's counters (throttled requests included) from the first observe to the end of the final one. " +
			"Formula (scratchCalls): a bound ENI costs 1 create + 1 attach (+ 1 assign only for addresses beyond the 10 create takes, + 1 AssignIpv6Addresses for IPv6 addresses beyond 10, + ⌈n/10⌉ assigns for prefixes when it has secondary addresses); a primary ENI with " +
			"secondary addresses 1 assign, with IPv6 addresses 1 AssignIpv6Addresses, with n prefixes ⌈n/10⌉ assigns. Rate bound: the largest, over actions, of calls ÷ rate (the time the slowest bucket needs), counting the mutating actions at the formula's figures (retried calls do not raise it) and the describes as made; goal ≤ 1.2× it.",
	}
	for _, n := range c.applySizes {
		c.applyOne(sec, n, limits)
	}
	return sec
}

type applyLimits struct {
	server map[string]float64       // QPS
	client map[string]ecs.RateLimit // per minute
}

func (c *config) applyLimits() applyLimits {
	l := applyLimits{server: map[string]float64{}, client: map[string]ecs.RateLimit{}}
	for a, rl := range ecs.DefaultRateLimits() {
		qps := float64(rl.PerMinute) / 60
		l.server[a] = qps
		if c.applyBurst == "matched" {
			rl.Burst = max(1, int(qps))
		}
		l.client[a] = rl
	}
	return l
}

// timeline records when the steps of each action ran.
type timeline struct {
	mu    sync.Mutex
	start time.Time
	first map[plan.Action]time.Duration
	last  map[plan.Action]time.Duration
	count map[plan.Action]int
	busy  map[plan.Action]time.Duration
}

func newTimeline(start time.Time) *timeline {
	return &timeline{start: start, first: map[plan.Action]time.Duration{}, last: map[plan.Action]time.Duration{},
		count: map[plan.Action]int{}, busy: map[plan.Action]time.Duration{}}
}

func (t *timeline) event(e plan.Event) {
	now := time.Since(t.start)
	t.mu.Lock()
	defer t.mu.Unlock()
	a := e.Step.Action
	switch e.Phase {
	case plan.Started:
		if _, ok := t.first[a]; !ok {
			t.first[a] = now
		}
	case plan.Succeeded, plan.Failed:
		t.last[a] = max(t.last[a], now)
		t.count[a]++
		t.busy[a] += e.Elapsed
	}
}

func (t *timeline) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var parts []string
	for _, a := range plan.Actions() {
		if t.count[a] == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s ×%d from %.1f s to %.1f s (mean %.0f ms a step, rate wait included)",
			a, t.count[a], t.first[a].Seconds(), t.last[a].Seconds(), t.busy[a].Seconds()*1000/float64(t.count[a])))
	}
	return strings.Join(parts, "; ")
}

func (c *config) applyOne(sec *section, n int, limits applyLimits) {
	size := thousands(n) + " instances"
	name := filepath.Join(c.work, fmt.Sprintf("apply-%d.json", n))
	if _, err := c.generate(name, n, "json"); err != nil {
		sec.crash("apply", size, err)
		return
	}
	defer os.Remove(name)
	f, err := schema.Load([]string{name}, schema.LoadOptions{})
	if err != nil {
		sec.crash("apply", size, err)
		return
	}
	size = fmt.Sprintf("%s instances, %s ENIs to create", thousands(n), thousands(len(f.ENIs)))
	w, err := testcloud.World(f, testcloud.Bare)
	if err != nil {
		sec.crash("apply", size, err)
		return
	}
	e, err := startEmulator(w, emulator.Options{Latency: c.applyLatency, AsyncDelay: c.applyAsync, ActionQPS: limits.server})
	if err != nil {
		sec.crash("apply", size, err)
		return
	}
	defer e.close()
	rt := newRetries()
	client, err := ecs.New(ecs.Config{Region: f.Region, Endpoint: e.url, Credentials: benchCredentials(),
		RateLimits: limits.client, WaitInterval: c.applyWait, WaitMaxInterval: 10 * c.applyWait, Logger: rt.logger()})
	if err != nil {
		sec.crash("apply", size, err)
		return
	}
	defer client.Close()

	// The formula, from the fleet alone.
	want := scratchCalls(f)

	lockPath := filepath.Join(c.work, fmt.Sprintf("apply-%d.lock.json", n))
	defer os.Remove(lockPath)
	opts := plan.ApplyOptions{Parallelism: c.applyParallelism}
	if c.applySaveLock {
		opts.SaveLock = func(l *schema.Lock) error { return schema.WriteLockFile(lockPath, l) }
	}
	// Generous: four times the rate bound of the formula, plus 5 minutes.
	var est float64
	for a, k := range want {
		est = max(est, float64(k)/limits.server[a])
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(4*est)*time.Second+5*time.Minute)
	defer cancel()

	fmt.Fprintf(c.progress, "apply %d: from scratch (the rate bound alone is about %.0f s) ...\n", n, est)
	e.ResetCounters()
	start := time.Now()
	tl := newTimeline(start)
	opts.Progress = tl.event
	obs, err := client.Observe(ctx, f)
	if err != nil {
		sec.crash("apply", size, fmt.Errorf("observe: %v", err))
		return
	}
	p, err := plan.Compute(f, obs, nil, plan.Options{})
	if err != nil {
		sec.crash("apply", size, fmt.Errorf("plan: %v", err))
		return
	}
	planned := p.Calls()
	rep, err := plan.Apply(ctx, client, f, p, &schema.Lock{}, opts)
	wall := time.Since(start)
	calls := e.Calls()
	if err != nil {
		sec.crash("apply", size, err)
		return
	}

	// Converged?
	conv := len(rep.Failed) == 0 && len(rep.Skipped) == 0 && (rep.Drift == nil || rep.Drift.Empty())
	k := check{what: "apply: converged", size: size,
		measured: fmt.Sprintf("%d steps done, %d failed, %d skipped; a fresh plan has %d steps", len(rep.Done), len(rep.Failed), len(rep.Skipped), driftSteps(rep)),
		goal:     "all done, no drift", pass: conv, broken: !conv}
	if len(rep.Failed) > 0 {
		k.note = fmt.Sprintf("first failure: %s: %v", rep.Failed[0].Step.ID, rep.Failed[0].Err)
	}
	sec.add(k)

	sec.add(check{what: "apply: plan calls (Plan.Calls)", size: size, measured: fmt.Sprintf("%d (%s)", sum(planned), callsString(planned)),
		goal: fmt.Sprintf("= %d (%s)", sum(want), callsString(want)), pass: maps.Equal(planned, want)})
	gotMut := map[string]int{}
	for a, k := range calls {
		if mutating(a) || a == "TagResources" || a == "UntagResources" {
			gotMut[a] = k
		}
	}
	k = check{what: "apply: mutating calls", size: size, measured: fmt.Sprintf("%d (%s)", sum(gotMut), callsString(gotMut)),
		goal: fmt.Sprintf("= %d (the formula)", sum(want)), pass: equalNonZero(gotMut, want)}
	if !k.pass {
		k.note = "client retries: " + rt.String()
	}
	sec.add(k)

	// The rate bound: the mutating actions at the formula's counts (a
	// throttled and retried call must not raise the bound), the others
	// (observes and waits) as counted.
	boundCalls := map[string]int{}
	for a, k := range calls {
		if !mutating(a) {
			boundCalls[a] = k
		}
	}
	maps.Copy(boundCalls, want)
	var bound float64
	var binding string
	for a, k := range boundCalls {
		qps := limits.server[a]
		if qps <= 0 {
			continue
		}
		if t := float64(k) / qps; t > bound {
			bound, binding = t, fmt.Sprintf("%s: %d calls at %d/min", a, k, int(qps*60+0.5))
		}
	}
	// What the mutating actions take one after another: the wall time when
	// the executor keeps only one action's steps in flight at a time (the
	// waits' DescribeNetworkInterfaces calls happen inside attach steps).
	var serial float64
	var each []string
	for _, a := range slices.Sorted(maps.Keys(boundCalls)) {
		if qps := limits.server[a]; qps > 0 && boundCalls[a] > 0 {
			t := float64(boundCalls[a]) / qps
			each = append(each, fmt.Sprintf("%s %.1f s", a, t))
			if mutating(a) {
				serial += t
			}
		}
	}
	ratio := wall.Seconds() / bound
	k = check{what: "apply: wall time", size: size, measured: fmt.Sprintf("%s = %.2f× the rate bound", secs(wall), ratio),
		goal: fmt.Sprintf("≤ 1.2 × %.1f s (%s)", bound, binding), pass: ratio <= 1.2,
		note: "see the timeline and the analysis below"}
	sec.add(k)
	sec.notef("%s: all calls %s; client retries: %s.", size, callsString(calls), rt.String())
	sec.notef("%s: timeline: %s.", size, tl.String())
	sec.notef("%s: calls ÷ rate per action (formula counts for the mutating ones): %s; the mutating actions one after another would take %.1f s, %.2f× the bound.", size, strings.Join(each, ", "), serial, serial/bound)
}

func driftSteps(r *plan.Report) int {
	if r.Drift == nil {
		return 0
	}
	return len(r.Drift.Steps)
}

// equalNonZero compares two counters, ignoring zero entries.
func equalNonZero(a, b map[string]int) bool {
	for k, v := range a {
		if v != b[k] {
			return false
		}
	}
	for k, v := range b {
		if v != a[k] {
			return false
		}
	}
	return true
}
