package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Faults are the fault-injection settings, from Options, the world file's
// Faults, or SetFaults while the server runs. Every rate is a share of
// calls from 0 to 1, rolled from the seed and the request number, so the
// same calls meet the same faults.
//
// Faults before the change: ThrottleRate (400 Throttling),
// ThrottleUserRate (400 Throttling.User), ServerErrorRate (500
// InternalError or 503 ServiceUnavailable), DropRate (the connection is
// closed without an answer) and ConflictRate (403 Operation.Conflict, on
// state-changing calls only). Faults after the change commits, on
// state-changing calls that succeeded: CommitThenFailRate (a 5xx) and
// CommitThenDropRate (no answer). StuckRate is the share of attaches and
// detaches that stay Attaching or Detaching for Timing.Stuck.
//
// Actions sets the rates action by action: an entry replaces every rate
// above for that action (rates it leaves out are zero). ActionQPS limits
// actions by name (a token bucket on the emulator clock, burst max(1,
// QPS)); excess calls get 400 Throttling.User, as the API's flow control
// does.
type Faults struct {
	Latency            time.Duration
	ThrottleRate       float64
	ThrottleUserRate   float64
	ServerErrorRate    float64
	DropRate           float64
	ConflictRate       float64
	CommitThenFailRate float64
	CommitThenDropRate float64
	StuckRate          float64
	ActionQPS          map[string]float64
	Actions            map[string]FaultRates
}

// FaultRates are the rates of Faults for one action.
type FaultRates struct {
	ThrottleRate       float64 `json:"ThrottleRate,omitzero"`
	ThrottleUserRate   float64 `json:"ThrottleUserRate,omitzero"`
	ServerErrorRate    float64 `json:"ServerErrorRate,omitzero"`
	DropRate           float64 `json:"DropRate,omitzero"`
	ConflictRate       float64 `json:"ConflictRate,omitzero"`
	CommitThenFailRate float64 `json:"CommitThenFailRate,omitzero"`
	CommitThenDropRate float64 `json:"CommitThenDropRate,omitzero"`
	StuckRate          float64 `json:"StuckRate,omitzero"`
}

// faultsJSON is the world-file form of Faults: the same names, Latency as
// a duration string.
type faultsJSON struct {
	Latency Duration `json:"Latency,omitzero"`
	FaultRates
	ActionQPS map[string]float64    `json:"ActionQPS,omitempty"`
	Actions   map[string]FaultRates `json:"Actions,omitempty"`
}

// MarshalJSON writes the world-file form.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{Latency: Duration(f.Latency), FaultRates: f.rates(), ActionQPS: f.ActionQPS, Actions: f.Actions})
}

// UnmarshalJSON reads the world-file form strictly: an unknown key is an
// error, as everywhere in a world.
func (f *Faults) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j faultsJSON
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("Faults: %w", err)
	}
	r := j.FaultRates
	*f = Faults{Latency: time.Duration(j.Latency), ThrottleRate: r.ThrottleRate, ThrottleUserRate: r.ThrottleUserRate,
		ServerErrorRate: r.ServerErrorRate, DropRate: r.DropRate, ConflictRate: r.ConflictRate,
		CommitThenFailRate: r.CommitThenFailRate, CommitThenDropRate: r.CommitThenDropRate, StuckRate: r.StuckRate,
		ActionQPS: j.ActionQPS, Actions: j.Actions}
	return nil
}

// rates returns the global rates.
func (f Faults) rates() FaultRates {
	return FaultRates{ThrottleRate: f.ThrottleRate, ThrottleUserRate: f.ThrottleUserRate, ServerErrorRate: f.ServerErrorRate,
		DropRate: f.DropRate, ConflictRate: f.ConflictRate, CommitThenFailRate: f.CommitThenFailRate,
		CommitThenDropRate: f.CommitThenDropRate, StuckRate: f.StuckRate}
}

// forAction returns the rates that apply to one action.
func (f Faults) forAction(action string) FaultRates {
	if r, ok := f.Actions[action]; ok {
		return r
	}
	return f.rates()
}

func (f Faults) clone() Faults {
	f.ActionQPS = maps.Clone(f.ActionQPS)
	f.Actions = maps.Clone(f.Actions)
	return f
}

// Check reports settings that cannot be meant: a rate outside 0 to 1, an
// action the emulator does not answer, a stuck rate on an action that
// never transitions, a negative latency or QPS.
func (f Faults) Check() error {
	var errs []string
	rates := func(where string, r FaultRates) {
		for _, x := range []struct {
			name string
			v    float64
		}{{"ThrottleRate", r.ThrottleRate}, {"ThrottleUserRate", r.ThrottleUserRate}, {"ServerErrorRate", r.ServerErrorRate},
			{"DropRate", r.DropRate}, {"ConflictRate", r.ConflictRate}, {"CommitThenFailRate", r.CommitThenFailRate},
			{"CommitThenDropRate", r.CommitThenDropRate}, {"StuckRate", r.StuckRate}} {
			if x.v < 0 || x.v > 1 || x.v != x.v {
				errs = append(errs, fmt.Sprintf("%s%s %g is not a share from 0 to 1", where, x.name, x.v))
			}
		}
	}
	rates("", f.rates())
	if f.Latency < 0 {
		errs = append(errs, "Latency must not be negative")
	}
	for _, a := range slices.Sorted(maps.Keys(f.Actions)) {
		if !knownAction(a) {
			errs = append(errs, fmt.Sprintf("Actions: %q is not an action the emulator answers (%s)", a, actionNames()))
			continue
		}
		r := f.Actions[a]
		rates("Actions."+a+".", r)
		if r.StuckRate > 0 && a != "AttachNetworkInterface" && a != "DetachNetworkInterface" {
			errs = append(errs, fmt.Sprintf("Actions.%s.StuckRate: only AttachNetworkInterface and DetachNetworkInterface leave a state that can stick", a))
		}
	}
	for _, a := range slices.Sorted(maps.Keys(f.ActionQPS)) {
		if !knownAction(a) {
			errs = append(errs, fmt.Sprintf("ActionQPS: %q is not an action the emulator answers (%s)", a, actionNames()))
		} else if q := f.ActionQPS[a]; q < 0 || q != q {
			errs = append(errs, fmt.Sprintf("ActionQPS.%s %g must not be negative", a, q))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("Faults: %s", strings.Join(errs, "; "))
	}
	return nil
}

func knownAction(a string) bool {
	_, ecs := ecsActions[a]
	_, vpc := vpcActions[a]
	return ecs || vpc
}

func actionNames() string {
	names := slices.Collect(maps.Keys(ecsActions))
	names = append(names, slices.Collect(maps.Keys(vpcActions))...)
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// mergeFaults combines the world's faults with Options': Options.Faults
// replaces the world's, and each non-zero flat field of Options replaces
// its counterpart.
func mergeFaults(w *World, opts Options) Faults {
	var f Faults
	if w.Faults != nil {
		f = w.Faults.clone()
	}
	if opts.Faults != nil {
		f = opts.Faults.clone()
	}
	set := func(dst *float64, v float64) {
		if v != 0 {
			*dst = v
		}
	}
	if opts.Latency != 0 {
		f.Latency = opts.Latency
	}
	set(&f.ThrottleRate, opts.ThrottleRate)
	set(&f.ServerErrorRate, opts.ServerErrorRate)
	set(&f.CommitThenFailRate, opts.CommitThenFailRate)
	set(&f.CommitThenDropRate, opts.CommitThenDropRate)
	if opts.ActionQPS != nil {
		f.ActionQPS = maps.Clone(opts.ActionQPS)
	}
	return f
}

// errOperationConflict is the answer to a change on an ENI or instance
// that another operation is still changing. The API reference lists it
// (403) for AssignPrivateIpAddresses and UnassignPrivateIpAddresses; the
// Terraform provider and Terway retry it on attach and detach as well
// (ecs-api.md §5.2, §5.3, §9). The message is the console's, in English:
// "Your operation may conflict with another operation; try again later."
func errOperationConflict(what string) *apiError {
	return newErr(http.StatusForbidden, "Operation.Conflict",
		"The operation conflicts with another operation in progress on %s. Please try again later.", what)
}

// busyWith returns an ENI of in, other than e, that is still Attaching or
// Detaching: the instance's hot-plug is in progress.
func busyWith(in *instance, e *eni) *eni {
	for _, o := range in.enis {
		if o != e && (o.status == stAttaching || o.status == stDetaching) {
			return o
		}
	}
	return nil
}

// checkInstanceBusy refuses an attach or detach while the instance is
// busy with another, when the timing model has conflicts.
func (s *Server) checkInstanceBusy(in *instance, e *eni) *apiError {
	if !s.timing.conflicts {
		return nil
	}
	if o := busyWith(in, e); o != nil {
		return errOperationConflict(fmt.Sprintf("instance %s (ENI %s is %s)", in.id, o.id, o.status))
	}
	return nil
}

// stuck reports whether the transition a call starts sticks.
func (s *Server) stuck(q *call) bool {
	r := s.faults.forAction(q.action).StuckRate
	return r > 0 && s.cloud.gen.roll("stuck", q.n) < r
}

// markBusy starts the window in which e, just changed by a synchronous
// call (create, assign, unassign, modify), answers Operation.Conflict to
// the next change (Timing.Busy).
func (s *Server) markBusy(e *eni, now time.Time) {
	if s.timing.busy > 0 {
		e.busyUntil = now.Add(s.timing.busy)
	}
}

// checkENIBusy refuses a change to an ENI inside its busy window.
func (s *Server) checkENIBusy(e *eni, now time.Time) *apiError {
	if s.timing.busy > 0 && now.Before(e.busyUntil) {
		return errOperationConflict("ENI " + e.id)
	}
	return nil
}
