package main

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// emulatorClock holds the ecsnet emulator flags for the cloud's timing and
// its faults (ecs/emulator/timing.go, faults.go). Each flag overrides the
// world file's Timing or Faults; a flag left out keeps the world's value.
type emulatorClock struct {
	asyncDelay time.Duration
	timeScale  float64
	readLag    time.Duration
	stuckFor   time.Duration
	busyFor    time.Duration
	faults     []string
}

// faultKinds maps a --fault kind to the rate it sets.
var faultKinds = map[string]func(*emulator.FaultRates) *float64{
	"throttling":       func(r *emulator.FaultRates) *float64 { return &r.ThrottleRate },
	"throttling-user":  func(r *emulator.FaultRates) *float64 { return &r.ThrottleUserRate },
	"server-error":     func(r *emulator.FaultRates) *float64 { return &r.ServerErrorRate },
	"drop":             func(r *emulator.FaultRates) *float64 { return &r.DropRate },
	"conflict":         func(r *emulator.FaultRates) *float64 { return &r.ConflictRate },
	"commit-then-fail": func(r *emulator.FaultRates) *float64 { return &r.CommitThenFailRate },
	"commit-then-drop": func(r *emulator.FaultRates) *float64 { return &r.CommitThenDropRate },
	"stuck":            func(r *emulator.FaultRates) *float64 { return &r.StuckRate },
}

const faultKindList = "throttling, throttling-user, server-error, drop, conflict, commit-then-fail, commit-then-drop, stuck, qps"

func (a *emulatorClock) register(fs *pflag.FlagSet) {
	fs.DurationVar(&a.asyncDelay, "async-delay", 0,
		"the simplified timing of earlier releases: attach, detach and delete all take this long, nothing conflicts, reads never lag (default: realistic timing, see --time-scale)")
	fs.Float64Var(&a.timeScale, "time-scale", 1,
		"multiply every duration of the realistic timing (attach 3s, detach 3s, delete 2s, or the world's Timing); 0.01 runs it a hundred times faster")
	fs.DurationVar(&a.readLag, "read-lag", 0, "how long DescribeNetworkInterfaces still shows an ENI as it was before a change (default: the world's Timing.ReadLag, else none)")
	fs.DurationVar(&a.stuckFor, "stuck-for", 0, "how long a stuck attach or detach (--fault stuck=RATE) lasts before the attach fails or the detach completes (default: the world's Timing.Stuck, else 5m)")
	fs.DurationVar(&a.busyFor, "busy-for", 0, "how long an ENI just changed by create, assign, unassign or modify answers Operation.Conflict to the next change (default: the world's Timing.Busy, else none)")
	fs.StringArrayVar(&a.faults, "fault", nil,
		"[ACTION:]KIND=VALUE, repeatable: the share (0 to 1) of calls, of one action or of all, that meet a fault; KIND is one of "+faultKindList+
			" (qps needs an ACTION: calls a second before 400 Throttling.User); drop and the throttling, server-error and conflict kinds strike before the change, commit-then-* after it; an ACTION's first --fault replaces the global rates for that action")
}

// apply sets opts from the flags that were given. w is the world the
// emulator serves (its own copy), whose Timing and Faults the flags
// override.
func (a *emulatorClock) apply(fs *pflag.FlagSet, w *emulator.World, opts *emulator.Options) error {
	if fs.Changed("async-delay") {
		if a.asyncDelay < 0 {
			return fmt.Errorf("--async-delay %s: must not be negative", a.asyncDelay)
		}
		for _, f := range []string{"time-scale", "read-lag", "stuck-for", "busy-for"} {
			if fs.Changed(f) {
				return fmt.Errorf("--async-delay picks the simplified timing, which has no --%s; leave one of them out", f)
			}
		}
		w.Timing = nil
		opts.AsyncDelay = a.asyncDelay
	} else {
		t := emulator.RealisticTiming()
		if w.Timing != nil {
			t = *w.Timing
		}
		if fs.Changed("time-scale") {
			if !(a.timeScale > 0) || math.IsInf(a.timeScale, 0) {
				return fmt.Errorf("--time-scale %g: must be above 0 (--async-delay 0 makes every transition immediate)", a.timeScale)
			}
			t.Scale = a.timeScale
		}
		if fs.Changed("read-lag") {
			if a.readLag < 0 {
				return fmt.Errorf("--read-lag %s: must not be negative", a.readLag)
			}
			t.ReadLag = emulator.Duration(a.readLag)
		}
		if fs.Changed("busy-for") {
			if a.busyFor < 0 {
				return fmt.Errorf("--busy-for %s: must not be negative", a.busyFor)
			}
			t.Busy = emulator.Duration(a.busyFor)
		}
		if fs.Changed("stuck-for") {
			if a.stuckFor <= 0 {
				return fmt.Errorf("--stuck-for %s: must be above 0", a.stuckFor)
			}
			t.Stuck = emulator.Duration(a.stuckFor)
		}
		opts.Timing = &t
	}
	if len(a.faults) == 0 {
		return nil
	}
	var f emulator.Faults
	if w.Faults != nil {
		f = *w.Faults
	}
	f.Actions = maps.Clone(f.Actions)
	f.ActionQPS = maps.Clone(f.ActionQPS)
	replaced := map[string]bool{}
	for _, spec := range a.faults {
		action, kind, v, err := parseFault(spec)
		if err != nil {
			return err
		}
		if kind == "qps" {
			if action == "" {
				return fmt.Errorf("--fault %s: qps limits one action: write ACTION:qps=N", spec)
			}
			if f.ActionQPS == nil {
				f.ActionQPS = map[string]float64{}
			}
			f.ActionQPS[action] = v
			continue
		}
		if v > 1 {
			return fmt.Errorf("--fault %s: %g is not a share from 0 to 1", spec, v)
		}
		if action == "" {
			setGlobal(&f, kind, v)
			continue
		}
		if f.Actions == nil {
			f.Actions = map[string]emulator.FaultRates{}
		}
		r := f.Actions[action]
		if !replaced[action] {
			r = emulator.FaultRates{}
			replaced[action] = true
		}
		*faultKinds[kind](&r) = v
		f.Actions[action] = r
	}
	if err := f.Check(); err != nil {
		return fmt.Errorf("--fault: %w", err)
	}
	opts.Faults = &f
	return nil
}

// parseFault reads [ACTION:]KIND=VALUE.
func parseFault(spec string) (action, kind string, v float64, err error) {
	lhs, val, ok := strings.Cut(spec, "=")
	if !ok {
		return "", "", 0, fmt.Errorf("--fault %s: want [ACTION:]KIND=VALUE, e.g. stuck=0.1 or AssignPrivateIpAddresses:commit-then-drop=0.05", spec)
	}
	kind = lhs
	if a, k, found := strings.Cut(lhs, ":"); found {
		action, kind = a, k
	}
	if _, known := faultKinds[kind]; !known && kind != "qps" {
		return "", "", 0, fmt.Errorf("--fault %s: unknown kind %q; the kinds are %s", spec, kind, faultKindList)
	}
	v, perr := strconv.ParseFloat(val, 64)
	if perr != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return "", "", 0, fmt.Errorf("--fault %s: %q is not a number from 0 up", spec, val)
	}
	return action, kind, v, nil
}

// setGlobal sets the global rate of one kind.
func setGlobal(f *emulator.Faults, kind string, v float64) {
	switch kind {
	case "throttling":
		f.ThrottleRate = v
	case "throttling-user":
		f.ThrottleUserRate = v
	case "server-error":
		f.ServerErrorRate = v
	case "drop":
		f.DropRate = v
	case "conflict":
		f.ConflictRate = v
	case "commit-then-fail":
		f.CommitThenFailRate = v
	case "commit-then-drop":
		f.CommitThenDropRate = v
	case "stuck":
		f.StuckRate = v
	}
}
