package plan

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ecsnet/ecsnet/schema"
)

// Host steps close the loop on the instances: they deliver each host's
// network configuration through the cloud's agent (Cloud Assistant) in
// two phases around the cloud steps.
//
//   - "host-remove host/<name>" runs before the cloud unassigns an
//     address from the instance or detaches an ENI from it: the host stops
//     using them first, so it never keeps an address the cloud no longer
//     routes to it. Its configuration is what the lock holds minus what
//     those cloud steps take away. The cloud steps wait for it: if it
//     fails (and the host rolls itself back), they do not run.
//   - "host-apply host/<name>" runs after every cloud step that touches
//     the instance, when the cloud assigned it an address or attached an
//     ENI: the host starts using what the cloud now routes to it.
//
// The plan stays pure: a host step names its instance, never its
// configuration; the executor asks HostOptions.Payload for the scripts,
// with the lock as it stands when the step starts.

// WithHosts returns a copy of p with the host steps its cloud steps need
// (none when they touch no instance of the fleet). obs is the observation
// p was computed from: it says where an ENI is attached before the plan.
func WithHosts(p *Plan, f *schema.Fleet, obs *Observed) *Plan {
	out := *p
	steps := map[string]*Step{}
	for _, s := range p.Steps {
		c := *s
		c.DependsOn = slices.Clone(s.DependsOn)
		steps[c.ID] = &c
	}
	byID := map[string]*schema.Instance{}
	for _, in := range f.Instances {
		byID[in.ID] = in
	}
	type host struct {
		in                *schema.Instance
		removals, touches []string     // cloud step IDs
		leaving, joining  []netip.Addr // every address that leaves or joins
		unassigned        []netip.Addr
		prefixesOut       []netip.Prefix // prefixes unassigned next
		prefixesIn        []netip.Prefix // pinned prefixes assigned
		enisOut, enisIn   []string
		picked            int
		pickedPrefixes    int
		adds              bool
	}
	hosts := map[string]*host{}
	get := func(in *schema.Instance) *host {
		if hosts[in.Name] == nil {
			hosts[in.Name] = &host{in: in}
		}
		return hosts[in.Name]
	}
	named := func(name, id string) *schema.Instance {
		if in := f.Instance(name); in != nil {
			return in
		}
		return byID[id]
	}
	for _, s := range p.Steps {
		switch s.Action {
		case UnassignIPs, UnassignIPv6, UnassignPrefixes:
			// The host that holds the addresses now: the instance of a
			// primary ENI, or where the ENI is attached before the plan
			// (an ENI moving elsewhere sheds them first).
			var in *schema.Instance
			if s.Target.Kind == TargetInstance {
				in = f.Instance(s.Target.Name)
			} else if o := obs.ENI(s.ENIID); o != nil && o.InstanceID != "" {
				in = byID[o.InstanceID]
			}
			if in == nil {
				continue
			}
			h := get(in)
			h.removals = append(h.removals, s.ID)
			h.leaving = append(h.leaving, s.IPs...)
			h.unassigned = append(h.unassigned, s.IPs...)
			h.prefixesOut = append(h.prefixesOut, s.Prefixes...)
		case DetachENI:
			in := named(s.Instance, s.InstanceID)
			if in == nil {
				continue
			}
			h := get(in)
			h.removals = append(h.removals, s.ID)
			h.enisOut = append(h.enisOut, s.ENI)
			if o := obs.ENI(s.ENIID); o != nil {
				h.leaving = append(append(append(h.leaving, o.PrimaryIP), o.SecondaryIPs...), o.IPv6...)
			}
		case AssignIPs, AssignIPv6, AssignPrefixes:
			var in *schema.Instance
			if s.Target.Kind == TargetInstance {
				in = f.Instance(s.Target.Name)
			} else if s.Instance != "" {
				in = named(s.Instance, s.InstanceID)
			}
			if in == nil {
				continue
			}
			h := get(in)
			h.touches = append(h.touches, s.ID)
			h.joining = append(h.joining, s.IPs...)
			if s.Action == AssignPrefixes { // a count of prefixes, not of addresses
				h.prefixesIn = append(h.prefixesIn, s.Prefixes...)
				h.pickedPrefixes += s.Count
			} else {
				h.picked += s.Count
			}
			h.adds = true
		case AttachENI:
			in := named(s.Instance, s.InstanceID)
			if in == nil {
				continue
			}
			h := get(in)
			h.touches = append(h.touches, s.ID)
			h.enisIn = append(h.enisIn, s.ENI)
			h.adds = true
		}
	}
	for _, h := range hosts {
		target := HostTarget(h.in.Name)
		var remove *Step
		if len(h.removals) > 0 {
			remove = &Step{ID: "host-remove " + target.String(), Action: HostRemove, Target: target, Instance: h.in.Name, InstanceID: h.in.ID,
				IPs: addrSet(h.leaving), Reason: hostReason("stops using", h.unassigned, h.prefixesOut, "unassigned next", 0, 0, h.enisOut, "detached next")}
			steps[remove.ID] = remove
			for _, id := range h.removals {
				steps[id].DependsOn = appendUnique(steps[id].DependsOn, remove.ID)
			}
		}
		if h.adds {
			apply := &Step{ID: "host-apply " + target.String(), Action: HostApply, Target: target, Instance: h.in.Name, InstanceID: h.in.ID,
				IPs: addrSet(h.joining), Reason: hostReason("starts using", h.joining, h.prefixesIn, "assigned", h.picked, h.pickedPrefixes, h.enisIn, "attached")}
			apply.DependsOn = append(slices.Clone(h.removals), h.touches...)
			if remove != nil {
				apply.DependsOn = append(apply.DependsOn, remove.ID)
			}
			slices.Sort(apply.DependsOn)
			apply.DependsOn = slices.Compact(apply.DependsOn)
			steps[apply.ID] = apply
		}
	}
	for _, s := range steps {
		slices.Sort(s.DependsOn)
	}
	out.Steps = order(steps)
	return &out
}

// HostsToPush returns, in the fleet's order, the instances whose hosts
// the cloud steps of p among done change what they use (an address or
// an ENI the cloud gives them or takes away): those WithHosts would have
// delivered to. A run that changes the cloud without configuring the
// hosts names them, so that none keeps answering for an address the
// cloud now routes elsewhere, or lacks one it now routes to it. done nil
// means every step of p (a plan not applied yet).
func HostsToPush(p *Plan, done []*Step, f *schema.Fleet, obs *Observed) []string {
	ran := map[string]bool{}
	for _, s := range p.Steps {
		if done == nil || slices.Contains(done, s) {
			ran[s.ID] = !s.Action.Host()
		}
	}
	with := WithHosts(p, f, obs)
	removes := map[string]string{} // host-remove step ID -> its instance
	for _, s := range with.Steps {
		if s.Action == HostRemove {
			removes[s.ID] = s.Instance
		}
	}
	need := map[string]bool{}
	for _, s := range with.Steps {
		switch {
		case s.Action == HostApply:
			// It depends on every cloud step that touches its host.
			for _, d := range s.DependsOn {
				need[s.Instance] = need[s.Instance] || ran[d]
			}
		case ran[s.ID]:
			// A removal waits for its host's remove step.
			for _, d := range s.DependsOn {
				if in, ok := removes[d]; ok {
					need[in] = true
				}
			}
		}
	}
	var out []string
	for _, in := range f.Instances {
		if need[in.Name] {
			out = append(out, in.Name)
		}
	}
	return out
}

func appendUnique(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// addrSet sorts and dedupes addresses; nil when there are none.
func addrSet(as []netip.Addr) []netip.Addr {
	if len(as) == 0 {
		return nil
	}
	out := slices.Clone(as)
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// hostReason says what a host step is for: "the host stops using
// 172.16.0.31 (unassigned next) and ENI vip (detached next)".
func hostReason(verb string, addrs []netip.Addr, prefixes []netip.Prefix, addrHow string, picked, pickedPrefixes int, enis []string, eniHow string) string {
	var parts []string
	if as := addrSet(addrs); len(as) > 0 {
		strs := make([]string, len(as))
		for i, a := range as {
			strs[i] = a.String()
		}
		parts = append(parts, strings.Join(strs, ", ")+" ("+addrHow+")")
	}
	if len(prefixes) > 0 {
		ps := slices.Clone(prefixes)
		slices.SortFunc(ps, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
		ps = slices.Compact(ps)
		strs := make([]string, len(ps))
		for i, p := range ps {
			strs[i] = p.String()
		}
		parts = append(parts, map[bool]string{true: "prefix ", false: "prefixes "}[len(ps) == 1]+strings.Join(strs, ", ")+" ("+addrHow+")")
	}
	if picked > 0 {
		parts = append(parts, fmt.Sprintf("%d %s the cloud picks", picked, map[bool]string{true: "address", false: "addresses"}[picked == 1]))
	}
	if pickedPrefixes > 0 {
		parts = append(parts, fmt.Sprintf("%d %s the cloud picks", pickedPrefixes, map[bool]string{true: "prefix", false: "prefixes"}[pickedPrefixes == 1]))
	}
	if len(parts) == 0 && len(enis) == 0 {
		// Nothing the host gains or sheds is named (a step whose
		// effect on the host is only a refresh): say so rather than
		// leave the sentence hanging.
		return "the host " + verb + " the cloud's new state of its ENIs"
	}
	for _, e := range enis {
		parts = append(parts, fmt.Sprintf("ENI %s (%s)", e, eniHow))
	}
	return "the host " + verb + " " + strings.Join(parts, " and ")
}

// HostRunner runs a script on instances through the cloud's agent;
// ecs.Client implements it with Cloud Assistant.
type HostRunner interface {
	// RunScript runs one script on every instance named (the runner
	// splits a long list into calls the cloud takes), waits until each
	// finished, and returns one result per instance. An error means the
	// cloud refused or never answered; a script that failed is a result.
	RunScript(ctx context.Context, s HostScript) ([]HostResult, error)
}

// HostScript is one script to run on instances.
type HostScript struct {
	InstanceIDs []string
	Content     []byte
	// Windows selects PowerShell; otherwise the script runs as a shell
	// script.
	Windows bool
	// Timeout bounds the run on each host; 0 is the runner's default.
	Timeout time.Duration
	// Name labels the invocation in the cloud's records.
	Name string
}

// HostResult is one instance's outcome.
type HostResult struct {
	InstanceID string
	// Status is the agent's: Success, Failed, Timeout, Error, ...
	Status   string
	ExitCode int
	// Error is the agent's error code and text (InstanceNotRunning,
	// ClientNotResponse...), when it has one.
	Error string
	// Output is the script's output as the cloud kept it (its last 24 KB).
	Output string
	Took   time.Duration
}

// OK reports whether the script ran and exited 0.
func (r HostResult) OK() bool { return r.Status == "Success" && r.ExitCode == 0 }

// Tail returns the last n lines of the output.
func (r HostResult) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(r.Output, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// HostPayload is what a host step delivers: scripts run one after
// another on the host (the parts of one payload), the last of which says
// how the step went.
type HostPayload struct {
	Scripts [][]byte
	Windows bool
}

// HostOptions turn on the host steps of Apply and set their rollout.
type HostOptions struct {
	Runner HostRunner
	// Payload returns what a host step delivers, rendered from lock: the
	// lock as it stands when the step starts, minus, for a remove step,
	// what the cloud steps that wait for it are about to take away. It is
	// called from several goroutines at once.
	Payload func(s *Step, lock *schema.Lock) (HostPayload, error)
	// The rollout's unit is a host with its cloud steps (see rollout).
	// Batch bounds the hosts admitted and not finished; 0 means 10.
	Batch int
	// Canary is how many hosts, first in plan order, are admitted alone
	// before any other; if one of them fails, no other host is admitted.
	Canary int
	// MaxFailures is how many hosts may fail before no further one is
	// admitted (0: the first failure stops the rollout). A host admitted
	// is always finished.
	MaxFailures int
	// Timeout bounds each script on a host; 0 is the runner's default.
	Timeout time.Duration
	// NotExecuted says why a host step whose scripts all ended as the
	// agent's Success with exit code 0 did not do its work, or returns ""
	// when it did (guest.NotExecuted: the output lacks the payload's
	// result line, as when an emulator runs no scripts). Such a step
	// fails with a NotExecutedError: it is never counted as done, and the
	// cloud steps that wait for it do not run. Nil: the agent's word.
	NotExecuted func(HostResult) string
	// Unreachable names, by instance ID, the hosts Cloud Assistant cannot
	// run a script on, and why (Unreachable: the instance is not
	// Running, or its agent is not up). Their host steps are not sent:
	// each ends with an UnreachableError, never counted as done nor as a
	// failure MaxFailures counts. A host-remove that cannot run does not
	// hold back the cloud steps that wait for it (a dead source must not
	// block a failover: detaching an ENI or unassigning an address takes
	// it off the host in any case); the host keeps their configuration
	// until a push once it is back. A host-remove that the cloud answers
	// as not reachable when it runs is treated the same.
	Unreachable map[string]string
	// ExitMeaning explains a host script's exit code in a HostError, or
	// returns "" for a code it does not know (guest.ExitMeaning: the
	// codes are the payload's, which plan does not build). Nil: none.
	ExitMeaning func(code int) string
}

// HostReport is what one host step did.
type HostReport struct {
	Step   *Step
	Result HostResult // the last script's; Took covers all of them
	Err    error
}

// ErrRolloutStopped is the reason of host steps that did not run because
// the canary failed or too many hosts did.
var ErrRolloutStopped = errors.New("the host rollout stopped (a canary failed, or more hosts failed than --max-failures allows)")

// HostError is a host step whose script failed on the host.
type HostError struct {
	Result HostResult
	// ExitMeaning explains the exit code (HostOptions.ExitMeaning).
	ExitMeaning func(code int) string
}

func (e *HostError) Error() string {
	r := e.Result
	var b strings.Builder
	switch {
	case r.Status == "Success" || r.Status == "Failed" && r.Error == "" || strings.HasPrefix(r.Error, "ExitCodeNonzero"):
		fmt.Fprintf(&b, "exit %d", r.ExitCode)
		if e.ExitMeaning != nil {
			if why := e.ExitMeaning(r.ExitCode); why != "" {
				b.WriteString(" (" + why + ")")
			}
		}
	default:
		fmt.Fprintf(&b, "%s", r.Status)
		if r.Error != "" {
			fmt.Fprintf(&b, ": %s", r.Error)
		}
	}
	if last := r.Tail(1); last != "" {
		fmt.Fprintf(&b, ": %s", last)
	}
	return b.String()
}

// NotExecutedError is a host step whose scripts the agent reports as
// run, but that did not run ecsnet's payload (HostOptions.NotExecuted).
type NotExecutedError struct {
	Result HostResult
	Reason string
}

func (e *NotExecutedError) Error() string { return "not executed: " + e.Reason }

// UnreachableError is a host step not run because Cloud Assistant
// cannot reach its host (HostOptions.Unreachable, or the cloud's answer
// when it ran).
type UnreachableError struct {
	Step   *Step
	Reason string
}

func (e *UnreachableError) Error() string {
	if e.Step.Action == HostRemove {
		return fmt.Sprintf("not reachable: %s; skipped, and the cloud steps that waited for it go on (they take the addresses off the host anyway); "+
			"%s keeps their configuration until it is pushed to once it is back", e.Reason, e.Step.Instance)
	}
	return fmt.Sprintf("not reachable: %s; skipped: the host is configured by a push once it is back", e.Reason)
}

// notReachablePrefix starts a HostResult's Error when the cloud says the
// script never ran on the host (ecs.Client.RunScript).
const notReachablePrefix = "host not reachable: "

// rollout decides when the steps of each host may start. Its unit is a
// host with its cloud steps: those its host-apply waits for, those that
// wait for its host-remove, and the creates that only they wait for; the
// two hosts of a move (an ENI or an address that one loses and the
// other gains) are one unit. A unit is admitted when its first step may
// start, together with the units it waits for; from then on it is always
// finished: its host steps run even after the rollout stopped, so that
// no host is left with cloud changes it was never configured for. The
// canary's units (the first Canary units in plan order) are admitted
// first and alone; at most Batch units are admitted and unfinished at
// once; once the canary failed, or more units failed than MaxFailures
// allows, no further unit is admitted, and the steps of those not
// admitted, cloud steps included, are skipped. Steps of no host (a
// create or delete that no single host waits for) are not gated.
type rollout struct {
	opts       HostOptions
	unitOf     map[string]*unit // step ID -> its unit
	canaryLeft int              // canary units not finished
	active     int              // admitted units not finished
	failed     int              // units that failed
	stopped    bool
}

// unit is one host and its cloud steps, admitted together (or the hosts
// of a move).
type unit struct {
	pos      int     // among the units, by their first step in plan order
	left     int     // steps not finished
	deps     []*unit // the units whose steps its steps wait for
	admitted bool
	failed   bool
}

func newRollout(p *Plan, opts HostOptions) *rollout {
	if opts.Batch <= 0 {
		opts.Batch = 10
	}
	r := &rollout{opts: opts, unitOf: map[string]*unit{}}
	host := map[string]string{}        // step ID -> its host
	dependents := map[string][]*Step{} // step ID -> the steps that wait for it
	for _, s := range p.Steps {
		for _, d := range s.DependsOn {
			dependents[d] = append(dependents[d], s)
		}
	}
	for _, s := range p.Steps {
		switch s.Action {
		case HostApply:
			host[s.ID] = s.Instance
			for _, d := range s.DependsOn {
				if host[d] == "" {
					host[d] = s.Instance
				}
			}
		case HostRemove:
			host[s.ID] = s.Instance
		}
	}
	for _, s := range p.Steps {
		if s.Action != HostRemove {
			continue
		}
		for _, c := range dependents[s.ID] {
			if host[c.ID] == "" {
				host[c.ID] = s.Instance
			}
		}
	}
	// A create goes with the host whose steps alone wait for it.
	for i := len(p.Steps) - 1; i >= 0; i-- {
		s := p.Steps[i]
		if s.Action != CreateENI || host[s.ID] != "" {
			continue
		}
		owner, shared := "", false
		for _, c := range dependents[s.ID] {
			if host[c.ID] != "" {
				shared = shared || owner != "" && owner != host[c.ID]
				owner = host[c.ID]
			}
		}
		if !shared {
			host[s.ID] = owner
		}
	}
	// A move couples two hosts: what one loses (a detach, an unassign)
	// another gains, in a step that waits for it. They are one unit, so
	// that the address is never taken from one and left unconfigured
	// on the other, or in the cloud between them.
	parent := map[string]string{}
	var find func(string) string
	find = func(h string) string {
		if q := parent[h]; q != "" && q != h {
			parent[h] = find(q)
			return parent[h]
		}
		return h
	}
	byID := make(map[string]*Step, len(p.Steps))
	for _, s := range p.Steps {
		byID[s.ID] = s
	}
	for _, s := range p.Steps {
		for _, d := range s.DependsOn {
			ds := byID[d]
			if ds == nil || host[s.ID] == "" || host[d] == "" || ds.Action != DetachENI && !ds.Action.Unassigns() {
				continue
			}
			if a, b := find(host[s.ID]), find(host[d]); a != b {
				parent[a] = b
			}
		}
	}
	byHost := map[string]*unit{}
	for _, s := range p.Steps {
		h := host[s.ID]
		if h == "" {
			continue
		}
		h = find(h)
		u := byHost[h]
		if u == nil {
			u = &unit{pos: len(byHost)}
			byHost[h] = u
		}
		u.left++
		r.unitOf[s.ID] = u
	}
	for _, s := range p.Steps {
		u := r.unitOf[s.ID]
		for _, d := range s.DependsOn {
			if v := r.unitOf[d]; u != nil && v != nil && v != u && !slices.Contains(u.deps, v) {
				u.deps = append(u.deps, v)
			}
		}
	}
	r.canaryLeft = min(max(opts.Canary, 0), len(byHost))
	return r
}

type gate int

const (
	gateStart gate = iota
	gateWait
	gateStop
)

// gate says whether s may start now. The rollout may be nil (a plan
// applied without hosts): every step may start.
func (r *rollout) gate(s *Step) gate {
	if r == nil {
		return gateStart
	}
	u := r.unitOf[s.ID]
	switch {
	case u == nil || u.admitted:
		return gateStart
	case r.stopped:
		return gateStop
	case u.pos >= r.opts.Canary && r.canaryLeft > 0:
		return gateWait
	case r.active >= r.opts.Batch:
		return gateWait
	}
	return gateStart
}

// start records that s starts, admitting its unit.
func (r *rollout) start(s *Step) {
	if r == nil {
		return
	}
	if u := r.unitOf[s.ID]; u != nil {
		r.admit(u)
	}
}

// admit admits u and the units it waits for, which must finish for it
// to.
func (r *rollout) admit(u *unit) {
	if u.admitted {
		return
	}
	u.admitted = true
	r.active++
	for _, d := range u.deps {
		r.admit(d)
	}
}

// finish records a step that ended: ran is false for one skipped (a step
// it depends on failed, or the rollout stopped); err is its error.
func (r *rollout) finish(s *Step, ran bool, err error) {
	if r == nil {
		return
	}
	u := r.unitOf[s.ID]
	if u == nil {
		return
	}
	u.left--
	canary := u.pos < r.opts.Canary
	if u.left == 0 && u.admitted {
		r.active--
		if canary {
			r.canaryLeft--
		}
	}
	// A host that did not run the payload, or that Cloud Assistant could
	// not reach, proves nothing about the change: it stops the rollout
	// as a canary, but is no failure that MaxFailures counts (nothing was
	// changed on it). A skipped cloud step failed through the step it
	// depends on, counted already.
	if canary && (err != nil || !ran && s.Action.Host()) {
		r.stopped = true
	}
	var ne *NotExecutedError
	var ue *UnreachableError
	if err != nil && !errors.As(err, &ne) && !errors.As(err, &ue) && !u.failed {
		u.failed = true
		r.failed++
		if r.failed > r.opts.MaxFailures {
			r.stopped = true
		}
	}
}

// hostLock is the lock a host step's configuration is rendered from: for
// a remove step, without the addresses and attachments that the cloud
// steps waiting for it take away.
func hostLock(lock *schema.Lock, p *Plan, s *Step) *schema.Lock {
	l := lock.Clone()
	if s.Action != HostRemove {
		return l
	}
	for _, c := range p.Steps {
		if !slices.Contains(c.DependsOn, s.ID) {
			continue
		}
		e := lockedFor(l, c.Target)
		if e == nil {
			continue
		}
		switch c.Action {
		case UnassignIPs:
			e.Secondary = slices.DeleteFunc(e.Secondary, func(x schema.LockedAddr) bool { return slices.Contains(c.IPs, x.Addr) })
		case UnassignIPv6:
			e.IPv6 = slices.DeleteFunc(e.IPv6, func(x schema.LockedAddr) bool { return slices.Contains(c.IPs, x.Addr) })
		case UnassignPrefixes:
			e.Prefixes = slices.DeleteFunc(e.Prefixes, func(x schema.LockedPrefix) bool { return slices.Contains(c.Prefixes, x.Prefix) })
		case DetachENI:
			e.AttachedTo, e.DeviceIndex = "", 0
		}
	}
	return l
}

// lockedFor returns the lock entry a cloud step's target names: the
// primary ENI of "instance/x", the ENI of "eni/x", or that of "eni/x@id"
// when it is still the one with that ID.
func lockedFor(l *schema.Lock, target Target) *schema.LockedENI {
	if target.Kind == TargetInstance {
		return l.Primary(target.Name)
	}
	e := l.Secondary(target.Name)
	if e == nil || target.Removal() && e.ID != target.ID {
		return nil
	}
	return e
}

// host runs one host step: renders its payload and delivers it, script
// after script.
func (ex *executor) host(ctx context.Context, s *Step) (HostResult, error) {
	ho := ex.opts.Hosts
	ex.mu.Lock()
	lock := hostLock(ex.lock, ex.plan, s)
	ex.mu.Unlock()
	res := HostResult{InstanceID: s.InstanceID}
	if s.InstanceID == "" {
		return res, fmt.Errorf("%s: the instance has no ID", s.ID)
	}
	pl, err := ho.Payload(s, lock)
	if err != nil {
		return res, fmt.Errorf("render %s: %w", s.Instance, err)
	}
	if len(pl.Scripts) == 0 {
		return res, fmt.Errorf("render %s: nothing to deliver", s.Instance)
	}
	start := ex.opts.Now()
	var out strings.Builder
	for i, script := range pl.Scripts {
		name := s.ID
		if len(pl.Scripts) > 1 {
			name = fmt.Sprintf("%s (%d/%d)", s.ID, i+1, len(pl.Scripts))
		}
		rs, err := ho.Runner.RunScript(ctx, HostScript{InstanceIDs: []string{s.InstanceID}, Content: script, Windows: pl.Windows,
			Timeout: ho.Timeout, Name: "ecsnet " + name})
		res.Took = ex.opts.Now().Sub(start)
		if err != nil {
			return res, fmt.Errorf("run on %s (%s): %w", s.Instance, s.InstanceID, err)
		}
		i := slices.IndexFunc(rs, func(r HostResult) bool { return r.InstanceID == s.InstanceID })
		if i < 0 {
			return res, fmt.Errorf("run on %s (%s): the cloud reported no result for it", s.Instance, s.InstanceID)
		}
		r := rs[i]
		out.WriteString(r.Output)
		res.Status, res.ExitCode, res.Error = r.Status, r.ExitCode, r.Error
		res.Output = out.String()
		if !r.OK() {
			return res, &HostError{Result: res, ExitMeaning: ho.ExitMeaning}
		}
	}
	if ho.NotExecuted != nil {
		if why := ho.NotExecuted(res); why != "" {
			return res, &NotExecutedError{Result: res, Reason: why}
		}
	}
	return res, nil
}

// Deliver runs a plan of host steps only (ecsnet push): no cloud call,
// and the lock is neither changed nor saved. Progress, Now and Hosts of
// opts apply.
func Deliver(ctx context.Context, p *Plan, lock *schema.Lock, opts ApplyOptions) (*Report, error) {
	for _, s := range p.Steps {
		if !s.Action.Host() {
			return nil, fmt.Errorf("deliver: %s is a cloud step", s.ID)
		}
	}
	if opts.Hosts == nil || opts.Hosts.Runner == nil || opts.Hosts.Payload == nil {
		return nil, errors.New("deliver: no host runner")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ex := &executor{f: nil, opts: opts, lock: lock.Clone(), ids: map[Target]string{}}
	rep := ex.run(ctx, p)
	rep.Lock = ex.lock
	return rep, nil
}

// hostReports collects the host steps' results in plan order.
type hostReports struct {
	mu  sync.Mutex
	all map[string]HostReport
}

func (h *hostReports) put(r HostReport) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.all == nil {
		h.all = map[string]HostReport{}
	}
	h.all[r.Step.ID] = r
}

func (h *hostReports) list(p *Plan) []HostReport {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []HostReport
	for _, s := range p.Steps {
		if r, ok := h.all[s.ID]; ok {
			out = append(out, r)
		}
	}
	return out
}
