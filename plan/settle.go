package plan

import (
	"context"
	"net/netip"
	"slices"
	"time"
)

// Reads trail writes: a DescribeNetworkInterfaces right after an assign
// may still list the ENI without the new addresses (the Terraform
// provider polls after assign and unassign until the list matches,
// ecs-api.md §2.6). Apply ends by observing the cloud and reconciling the
// lock with what it sees; reconciling a stale observation would drop from
// the lock addresses this apply assigned, and the next plan would take
// them for addresses added by hand. So the observation is taken again, a
// few times with growing pauses, while it does not yet show what the
// steps did. On a consistent cloud that costs nothing.

// settlePauses are the pauses between the observations: 6.35 s in all.
var settlePauses = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond,
	400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond}

// observeSettled observes the cloud until it shows the done steps, or the
// pauses run out (then the last observation stands: the steps' results
// are in the lock already, and a drifted cloud never settles).
func (ex *executor) observeSettled(ctx context.Context, done []*Step) (*Observed, error) {
	for i := 0; ; i++ {
		obs, err := ex.cloud.Observe(ctx, ex.f)
		if err != nil || i == len(settlePauses) || ex.shows(obs, done) {
			return obs, err
		}
		t := time.NewTimer(settlePauses[i])
		select {
		case <-ctx.Done():
			t.Stop()
			return obs, nil
		case <-t.C:
		}
	}
}

// shows reports whether obs reflects the done steps: a created ENI is
// listed, an assigned ENI holds every address the lock records for it,
// an unassigned one none of the step's addresses.
func (ex *executor) shows(obs *Observed, done []*Step) bool {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	for _, s := range done {
		id := s.ENIID
		if id == "" {
			id = ex.ids[s.Target]
		}
		switch s.Action {
		case CreateENI:
			if obs.ENI(id) == nil {
				return false
			}
		case AssignIPs:
			o, e := obs.ENI(id), ex.lockEntry(s.Target)
			if o == nil {
				return false
			}
			for _, a := range e.Secondary {
				if !slices.Contains(o.SecondaryIPs, a.Addr) {
					return false
				}
			}
		case UnassignIPs:
			if o := obs.ENI(id); o != nil && slices.ContainsFunc(s.IPs, func(a netip.Addr) bool { return slices.Contains(o.SecondaryIPs, a) }) {
				return false
			}
		case AssignIPv6, AssignPrefixes:
			o, e := obs.ENI(id), ex.lockEntry(s.Target)
			if o == nil {
				return false
			}
			for _, a := range e.IPv6 {
				if !slices.Contains(o.IPv6, a.Addr) {
					return false
				}
			}
			for _, p := range e.Prefixes {
				if !slices.Contains(o.Prefixes, p.Prefix) {
					return false
				}
			}
		case UnassignIPv6:
			if o := obs.ENI(id); o != nil && slices.ContainsFunc(s.IPs, func(a netip.Addr) bool { return slices.Contains(o.IPv6, a) }) {
				return false
			}
		case UnassignPrefixes:
			if o := obs.ENI(id); o != nil && slices.ContainsFunc(s.Prefixes, func(p netip.Prefix) bool { return slices.Contains(o.Prefixes, p) }) {
				return false
			}
		}
	}
	return true
}
