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

// Cloud is what Apply needs from a cloud; ecs.Client implements it.
type Cloud interface {
	// Observe reads the state of the fleet's resources.
	Observe(ctx context.Context, f *schema.Fleet) (*Observed, error)
	// Do performs one step and waits for its asynchronous result (an attach
	// until the ENI is InUse, a delete until it is gone). An answer that
	// says the work was already done (an address already unassigned, an
	// ENI already gone) is a success.
	Do(ctx context.Context, s *Step) (Result, error)
}

// Result is what the cloud reports for a step. An attach reports nothing:
// the slot an attached ENI gets is ecsnet's own (see slot.go), not the
// cloud's device index, which most accounts cannot read.
type Result struct {
	ENIID     string       // create: the new ENI
	MAC       string       // create
	PrimaryIP netip.Addr   // create
	IPs       []netip.Addr // create and assign: the secondary addresses assigned
	// IPv6 and Prefixes are the IPv6 addresses and IPv4 prefixes a create,
	// assign-ipv6 or assign-prefixes assigned.
	IPv6     []netip.Addr
	Prefixes []netip.Prefix
}

// ApplyOptions adjust Apply. The zero value applies nothing destructive,
// ten steps at a time.
type ApplyOptions struct {
	// Parallelism bounds the steps in flight; 0 means 10.
	Parallelism int
	// AllowDestroy permits steps that delete an ENI.
	AllowDestroy bool
	// Prune is passed to the final re-plan, so that it checks the same
	// thing the applied plan did.
	Prune bool
	// SaveLock is called with the lock after every finished step and at
	// the end, also after a failure; it should write it atomically.
	SaveLock func(*schema.Lock) error
	// SaveEvery spaces the saves during the run (0 means one second); the
	// lock is always saved at the end. A lost save costs nothing but a
	// replay: a re-run finds what ecsnet created by its tags, and sends the
	// same ClientToken for an assignment the lock did not record.
	SaveEvery time.Duration
	// Progress, if set, is told about every step that starts or ends. It
	// is called from several goroutines at once.
	Progress func(Event)
	// Now is the clock for elapsed times; nil means time.Now.
	Now func() time.Time
	// Hosts runs the plan's host steps (WithHosts); a plan with host steps
	// needs it.
	Hosts *HostOptions
	// Observed is the cloud as observed just before the apply (under the
	// fleet's lease). Apply takes from it, and from the desired state, the
	// ENIs the fleet may change: those tagged for the fleet, those adopted
	// by id: and the primary ENIs of its instances. nil means Apply
	// observes first.
	Observed *Observed
	// Grace bounds how long the calls in flight may take to finish once
	// ctx is cancelled (a signal, a lost lease); 0 means 10 s. No step
	// starts after the cancellation.
	Grace time.Duration
}

// defaultGrace is ApplyOptions.Grace's default: long enough for an ECS
// call and the wait for its result, short enough for an operator who
// pressed Ctrl-C.
const defaultGrace = 10 * time.Second

// Event reports progress of one step.
type Event struct {
	Step    *Step
	Phase   Phase
	Err     error
	Elapsed time.Duration
	Done    int // steps finished so far, failed ones included
	Total   int
	// Host is the outcome on the host, for a host step that ran.
	Host *HostResult
}

// Phase is where a step is.
type Phase int

// Step phases.
const (
	Started Phase = iota
	Succeeded
	Failed
	Skipped
)

// Report is the outcome of Apply.
type Report struct {
	Done    []*Step
	Failed  []Failure
	Skipped []*Step // not run because a step they depend on failed, or the host rollout stopped
	// Hosts holds what each host step that ran did, in plan order.
	Hosts []HostReport
	// Drift lists what a fresh plan, made after the apply, would still
	// change. It is empty when the cloud converged.
	Drift *Plan
	Lock  *schema.Lock
}

// Failure is a step that failed, with the cloud's error.
type Failure struct {
	Step *Step
	Err  error
}

// ErrDestroy is returned when a plan deletes ENIs and ApplyOptions does not
// allow it.
var ErrDestroy = errors.New("the plan deletes or replaces ENIs; rerun with --allow-destroy to permit it")

// ErrUnverified is returned, with the report and the lock written, when
// every step ran but the final observation or re-plan failed (throttled
// out, say): the steps' results in the report stand, only whether the
// cloud converged is unknown. Callers should judge the apply by the
// report and ask for a fresh plan to check convergence.
var ErrUnverified = errors.New("the cloud could not be read back after the apply, so convergence was not checked")

// ErrInterrupted is returned, with the report and the lock written, when
// ctx was cancelled during an apply: the steps in flight finished (within
// ApplyOptions.Grace) and no other started.
var ErrInterrupted = errors.New("apply interrupted")

// Apply runs the plan's steps against the cloud in dependency order, with
// bounded parallelism, recording every result in the lock. When a step
// fails, no step that depends on it starts, steps in flight finish, and the
// rest carries on; the report lists what was done, what failed and what was
// skipped. Finally it observes the cloud again, brings the lock up to date
// with what the cloud holds, and re-plans: anything left is drift. If that
// last observation or plan fails, the error wraps ErrUnverified and the
// report is complete but for Drift.
//
// Apply refuses, before any call, a plan with a destructive step (see
// Step.Destructive) without AllowDestroy, and one with a step outside the
// fleet (ErrOutOfScope), whatever the plan's own fields say.
//
// When ctx is cancelled, no further step starts; the steps in flight
// finish under a context that outlives ctx by at most Grace; the lock is
// saved and the error wraps ErrInterrupted.
func Apply(ctx context.Context, cloud Cloud, f *schema.Fleet, p *Plan, lock *schema.Lock, opts ApplyOptions) (*Report, error) {
	if !opts.AllowDestroy {
		var destroys []string
		for _, s := range p.Steps {
			if s.Destructive() {
				destroys = append(destroys, s.ID)
			}
		}
		if len(destroys) > 0 {
			return nil, fmt.Errorf("%w: %s", ErrDestroy, strings.Join(destroys, ", "))
		}
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 10
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, s := range p.Steps {
		if s.Action.Host() && (opts.Hosts == nil || opts.Hosts.Runner == nil || opts.Hosts.Payload == nil) {
			return nil, fmt.Errorf("the plan has host steps (%s); apply it with --hosts", s.ID)
		}
	}
	if opts.Grace <= 0 {
		opts.Grace = defaultGrace
	}
	obs := opts.Observed
	if obs == nil && !p.Empty() {
		var err error
		if obs, err = cloud.Observe(ctx, f); err != nil {
			return nil, fmt.Errorf("observe before apply: %w", err)
		}
	}
	ex := &executor{cloud: cloud, f: f, opts: opts, lock: lock.Clone(), ids: map[Target]string{}, obs: obs}
	ex.slots = attachSlots(ex.lock, p)
	if obs != nil {
		ex.scope = newScope(f, obs)
		if err := ex.scope.checkPlan(p); err != nil {
			return nil, err
		}
	}
	ex.lock.Fleet = f.Name
	rep := ex.run(ctx, p)
	rep.Lock = ex.lock
	if err := ex.save(); err != nil { // what the steps did, before anything else can fail
		return rep, err
	}
	if ctx.Err() != nil {
		// Interrupted: the lock holds what the steps did; observing and
		// re-planning would only delay the exit the operator asked for.
		return rep, fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))
	}

	// Observe again: refresh the lock from the cloud and check convergence
	// (once the cloud shows what the steps did: settle.go).
	obs, err := ex.observeSettled(ctx, rep.Done)
	if err != nil {
		// The lock was saved above with what the steps did; nothing
		// since changed it.
		return rep, fmt.Errorf("%w: observe after apply: %w", ErrUnverified, err)
	}
	Reconcile(ex.lock, f, obs)
	rep.Lock = ex.lock
	if err := ex.save(); err != nil {
		return rep, err
	}
	drift, err := Compute(f, obs, ex.lock, Options{Prune: opts.Prune})
	if err != nil {
		return rep, fmt.Errorf("%w: plan after apply: %w", ErrUnverified, err)
	}
	rep.Drift = drift
	return rep, nil
}

type executor struct {
	cloud Cloud
	f     *schema.Fleet
	opts  ApplyOptions
	scope *scope // guarded by mu once run starts (creates add to it)
	obs   *Observed

	mu   sync.Mutex
	lock *schema.Lock
	ids  map[Target]string // ENI ID learnt from a create
	done int
	// slots holds the slot each attach step gives its ENI, decided in
	// plan order before the run (attachSlots), so that the lock does not
	// depend on the order in which attaches finish.
	slots map[string]int

	lastSave time.Time // guarded by mu

	plan    *Plan
	rollout *rollout // nil without host steps
	hosts   hostReports
}

func (ex *executor) save() error {
	if ex.opts.SaveLock == nil {
		return nil
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if err := ex.opts.SaveLock(ex.lock); err != nil {
		return fmt.Errorf("save lock: %w", err)
	}
	return nil
}

// saveSoon saves the lock unless it was saved within SaveEvery: rewriting
// a large fleet's lock after each of thousands of steps would cost more
// than the steps.
func (ex *executor) saveSoon() error {
	every := ex.opts.SaveEvery
	if every <= 0 {
		every = time.Second
	}
	ex.mu.Lock()
	now := ex.opts.Now()
	due := now.Sub(ex.lastSave) >= every
	if due {
		ex.lastSave = now
	}
	ex.mu.Unlock()
	if !due {
		return nil
	}
	return ex.save()
}

func (ex *executor) event(e Event) {
	if ex.opts.Progress != nil {
		ex.opts.Progress(e)
	}
}

func (ex *executor) run(ctx context.Context, p *Plan) *Report {
	// The steps run under calls, which a cancellation of ctx does not
	// cancel at once: a call in flight finishes (an attach is not left
	// half-watched), within opts.Grace. ctx alone decides whether another
	// step starts.
	calls, cancelCalls := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelCalls(nil)
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(ex.opts.Grace, func() {
			cancelCalls(fmt.Errorf("the steps in flight did not finish within %s of the interruption: %w", ex.opts.Grace, context.Cause(ctx)))
		})
		context.AfterFunc(calls, func() { t.Stop() })
	})
	defer stopGrace()
	rep := &Report{}
	ex.plan = p
	if ex.opts.Hosts != nil {
		ex.rollout = newRollout(p, *ex.opts.Hosts)
	}
	state := map[string]Phase{} // finished steps only
	// passed holds the host-remove steps that did not run because their
	// host is not reachable: the cloud steps waiting for them go on
	// (HostOptions.Unreachable).
	passed := map[string]bool{}
	byID := make(map[string]*Step, len(p.Steps))
	for _, s := range p.Steps {
		byID[s.ID] = s
	}
	pending := slices.Clone(p.Steps)
	running, cloudRunning := 0, 0
	byAction := map[Action]int{} // cloud steps in flight, per action
	var readyCloud []*Step       // ready cloud steps, in plan order
	type result struct {
		s   *Step
		err error
	}
	results := make(chan result)
	total := len(p.Steps)
	finished := func(s *Step, err error) {
		ex.rollout.finish(s, true, err)
		var ue *UnreachableError
		switch {
		case err == nil:
			state[s.ID] = Succeeded
			rep.Done = append(rep.Done, s)
		default:
			state[s.ID] = Failed
			rep.Failed = append(rep.Failed, Failure{Step: s, Err: err})
			passed[s.ID] = s.Action == HostRemove && errors.As(err, &ue)
		}
	}
	for len(pending) > 0 || running > 0 {
		// Start what is ready, in plan order, up to the parallelism bound;
		// skip what depends on a failure.
		progressed := true
		for progressed {
			progressed = false
			readyCloud = readyCloud[:0] // rescanned from the top
			for i := 0; i < len(pending); i++ {
				s := pending[i]
				ready, blocked := depsState(s, state, passed, byID)
				var why error
				if !blocked && ready && ex.rollout.gate(s) == gateStop {
					blocked, why = true, ErrRolloutStopped
				}
				if blocked {
					state[s.ID] = Skipped
					rep.Skipped = append(rep.Skipped, s)
					ex.rollout.finish(s, false, nil)
					ex.mu.Lock()
					ex.done++
					done := ex.done
					ex.mu.Unlock()
					ex.event(Event{Step: s, Phase: Skipped, Err: why, Done: done, Total: total})
					pending = slices.Delete(pending, i, i+1)
					i--
					progressed = true
					continue
				}
				if !ready || ctx.Err() != nil || ex.rollout.gate(s) != gateStart {
					continue
				}
				// Admitted now, so that the next step scanned sees its
				// unit counted, even if the step waits for a free slot.
				ex.rollout.start(s)
				if !s.Action.Host() {
					readyCloud = append(readyCloud, s)
					continue
				}
				pending = slices.Delete(pending, i, i+1)
				i--
				if err := ex.unreachable(s, total); err != nil {
					// Not sent: Cloud Assistant cannot reach the host.
					finished(s, err)
					progressed = true
					continue
				}
				running++
				go func(s *Step) {
					err := ex.step(calls, s, total)
					results <- result{s, err}
				}(s)
			}
		}
		// Fill the free cloud slots fairly across actions: each action has
		// its own rate limit, so a slot goes to the ready step whose action
		// has the fewest steps in flight. Taking them in plan order instead
		// would run every create before any attach, one rate limit at a
		// time.
		for cloudRunning < ex.opts.Parallelism && len(readyCloud) > 0 && ctx.Err() == nil {
			best := 0
			for k, c := range readyCloud {
				if byAction[c.Action] < byAction[readyCloud[best].Action] {
					best = k
				}
			}
			s := readyCloud[best]
			readyCloud = slices.Delete(readyCloud, best, best+1)
			i := slices.Index(pending, s)
			pending = slices.Delete(pending, i, i+1)
			cloudRunning++
			byAction[s.Action]++
			running++
			go func(s *Step) {
				err := ex.step(calls, s, total)
				results <- result{s, err}
			}(s)
		}
		readyCloud = readyCloud[:0]
		if running == 0 {
			// Cancelled: whatever has not started is skipped.
			for _, s := range pending {
				rep.Skipped = append(rep.Skipped, s)
			}
			break
		}
		r := <-results
		running--
		if !r.s.Action.Host() {
			cloudRunning--
			byAction[r.s.Action]--
		}
		finished(r.s, r.err)
	}
	rep.Hosts = ex.hosts.list(p)
	// In plan order, whatever the order they were found in: the
	// reports list them, and the same run must read the same.
	pos := make(map[*Step]int, len(p.Steps))
	for i, s := range p.Steps {
		pos[s] = i
	}
	slices.SortStableFunc(rep.Skipped, func(a, b *Step) int { return pos[a] - pos[b] })
	return rep
}

// depsState says whether the steps s depends on all finished (ready),
// and whether one of them keeps s from running (blocked): one that
// failed or was skipped, except a host-remove passed because its host
// is not reachable. A host-apply waits for all of them and then runs
// when its host steps went well and at least one of its cloud steps did:
// the host is configured for what the cloud did (its payload is
// rendered from the lock, which records only the steps that succeeded),
// rather than left with changes it was never configured for.
func depsState(s *Step, state map[string]Phase, passed map[string]bool, byID map[string]*Step) (ready, blocked bool) {
	ready = true
	var cloudDeps, cloudOK, hostBad bool
	for _, d := range s.DependsOn {
		st, finished := state[d]
		host := byID[d] != nil && byID[d].Action.Host()
		if !host {
			cloudDeps = true
		}
		switch {
		case !finished:
			ready = false
		case st == Succeeded || passed[d]:
			cloudOK = cloudOK || !host
		default:
			blocked = true
			hostBad = hostBad || host
		}
	}
	if s.Action == HostApply {
		if !ready {
			return false, false
		}
		return true, hostBad || cloudDeps && !cloudOK
	}
	return ready, blocked
}

// unreachable ends a host step whose host Cloud Assistant cannot reach
// (HostOptions.Unreachable) without sending it, and returns its error;
// nil when the host is reachable.
func (ex *executor) unreachable(s *Step, total int) error {
	why := ex.opts.Hosts.Unreachable[s.InstanceID]
	if why == "" {
		return nil
	}
	err := &UnreachableError{Step: s, Reason: why}
	ex.hosts.put(HostReport{Step: s, Result: HostResult{InstanceID: s.InstanceID, Status: "NotSent", ExitCode: -1, Error: notReachablePrefix + why}, Err: err})
	ex.mu.Lock()
	ex.done++
	done := ex.done
	ex.mu.Unlock()
	ex.event(Event{Step: s, Phase: Skipped, Err: err, Done: done, Total: total})
	return err
}

// step runs one step and records its result in the lock.
func (ex *executor) step(ctx context.Context, s *Step, total int) error {
	ex.mu.Lock()
	run := *s
	if run.ENIID == "" {
		run.ENIID = ex.ids[s.Target]
	}
	var err error
	if ex.scope != nil {
		err = ex.scope.check(&run, run.ENIID)
	}
	ex.mu.Unlock()
	start := ex.opts.Now()
	ex.event(Event{Step: s, Phase: Started, Total: total})
	var hostRes *HostResult
	if err != nil {
		// Out of scope (checkPlan let it through for the ID a create
		// would give it): no call.
	} else if s.Action.Host() {
		var r HostResult
		r, err = ex.host(ctx, s)
		var he *HostError
		if errors.As(err, &he) && r.ExitCode == -1 && strings.HasPrefix(r.Error, notReachablePrefix) {
			// The script never ran: the host is as it was, and a
			// host-remove does not hold back the cloud.
			err = &UnreachableError{Step: s, Reason: strings.TrimPrefix(r.Error, notReachablePrefix)}
		}
		hostRes = &r
		ex.hosts.put(HostReport{Step: s, Result: r, Err: err})
	} else {
		var res Result
		res, err = ex.cloud.Do(ctx, &run)
		if err == nil {
			ex.record(&run, res)
			err = ex.saveSoon()
		}
	}
	elapsed := ex.opts.Now().Sub(start)
	ex.mu.Lock()
	ex.done++
	done := ex.done
	ex.mu.Unlock()
	phase := Succeeded
	if err != nil {
		phase = Failed
	}
	ex.event(Event{Step: s, Phase: phase, Err: err, Elapsed: elapsed, Done: done, Total: total, Host: hostRes})
	return err
}

// record notes a finished step in the lock.
func (ex *executor) record(s *Step, res Result) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	e := ex.lockEntry(s.Target)
	switch s.Action {
	case CreateENI:
		ex.ids[s.Target] = res.ENIID
		if ex.scope != nil && res.ENIID != "" {
			ex.scope.tagged[res.ENIID] = true // created with the fleet's tags (scope.check)
		}
		// A new ENI is not attached yet. DeviceIndex stays: an ENI that
		// replaces one of the same name inherits its slot.
		e.ID, e.MAC, e.PrimaryIP = res.ENIID, strings.ToLower(res.MAC), res.PrimaryIP
		e.AttachedTo = ""
		e.Secondary = nil
		for _, a := range res.IPs {
			e.Secondary = append(e.Secondary, schema.LockedAddr{Addr: a, Added: true})
		}
		e.IPv6, e.Prefixes, e.NetworkCard = nil, nil, 0
		addV6(e, append(slices.Clone(s.Create.IPv6), res.IPv6...))
		addPrefixes(e, append(slices.Clone(s.Create.Prefixes), res.Prefixes...))
	case AttachENI:
		slot, ok := ex.slots[s.ID]
		if !ok {
			slot = freeSlot(usedSlots(ex.lock, s.Instance, e.Name), e.DeviceIndex)
		}
		e.AttachedTo, e.DeviceIndex, e.NetworkCard = s.Instance, slot, s.NetworkCard
	case DetachENI:
		// The slot stays with the ENI, for its next attach.
		e.AttachedTo, e.NetworkCard = "", 0
	case DeleteENI:
		// Keep the entry without an ID: its generation must outlive the
		// ENI, so a new ENI of the same name gets new tokens. Its slot
		// goes to the ENI that replaces it, if the file still has one.
		e.ID, e.MAC, e.PrimaryIP, e.Secondary, e.AttachedTo = "", "", netip.Addr{}, nil, ""
		e.IPv6, e.Prefixes, e.NetworkCard = nil, nil, 0
		if ex.f.ENI(e.Name) == nil {
			e.DeviceIndex = 0
		}
	case AssignIPs:
		ex.adoptUnrecorded(e, s)
		if e.ID == "" {
			e.ID = s.ENIID
		}
		for _, a := range append(slices.Clone(s.IPs), res.IPs...) {
			if !e.Has(a) {
				e.Secondary = append(e.Secondary, schema.LockedAddr{Addr: a, Added: true})
				slices.SortFunc(e.Secondary, func(x, y schema.LockedAddr) int { return x.Addr.Compare(y.Addr) })
			}
		}
	case UnassignIPs:
		e.Secondary = slices.DeleteFunc(e.Secondary, func(x schema.LockedAddr) bool { return slices.Contains(s.IPs, x.Addr) })
	case AssignIPv6, AssignPrefixes:
		ex.adoptUnrecorded(e, s)
		if e.ID == "" {
			e.ID = s.ENIID
		}
		addV6(e, append(slices.Clone(s.IPs), res.IPv6...))
		addPrefixes(e, append(slices.Clone(s.Prefixes), res.Prefixes...))
	case UnassignIPv6:
		e.IPv6 = slices.DeleteFunc(e.IPv6, func(x schema.LockedAddr) bool { return slices.Contains(s.IPs, x.Addr) })
	case UnassignPrefixes:
		e.Prefixes = slices.DeleteFunc(e.Prefixes, func(x schema.LockedPrefix) bool { return slices.Contains(s.Prefixes, x.Prefix) })
	}
	// Saturate rather than overflow: ReadLock refuses a generation above
	// schema.MaxGeneration, and no fleet ever changes an ENI that often.
	e.Generation = min(e.Generation+1, schema.MaxGeneration)
	ex.lock.Put(e)
}

// adoptUnrecorded fills in the lock entry of an ENI ecsnet created whose
// lock write was lost (a killed apply), before an assign to it is
// recorded: Compute planned the assign counting the addresses and
// prefixes the create gave it as ecsnet's (ownedUnrecorded), so they are
// recorded too, or the re-plan after the apply would find them unrecorded
// and ask the cloud for as many again.
func (ex *executor) adoptUnrecorded(e *schema.LockedENI, s *Step) {
	if e.ID == s.ENIID || e.Name == "" || ex.obs == nil {
		return
	}
	x, o := ex.f.ENI(e.Name), ex.obs.ENI(s.ENIID)
	if x != nil && x.ID == "" && o != nil && o.Tags[TagFleet] == ex.f.Name && o.Tags[TagENI] == e.Name {
		u := ownedUnrecorded(e.Name, o, e.Generation)
		e.ID, e.MAC, e.PrimaryIP, e.Secondary = u.ID, strings.ToLower(u.MAC), u.PrimaryIP, u.Secondary
		e.IPv6, e.Prefixes = u.IPv6, u.Prefixes
	}
}

// addV6 records IPv6 addresses ecsnet assigned, sorted, once each.
func addV6(e *schema.LockedENI, as []netip.Addr) {
	for _, a := range as {
		if !lockedHasV6(e, a) {
			e.IPv6 = append(e.IPv6, schema.LockedAddr{Addr: a, Added: true})
		}
	}
	slices.SortFunc(e.IPv6, func(x, y schema.LockedAddr) int { return x.Addr.Compare(y.Addr) })
}

// addPrefixes records prefixes ecsnet assigned, sorted, once each.
func addPrefixes(e *schema.LockedENI, ps []netip.Prefix) {
	for _, p := range ps {
		if !lockedHasPrefix(e, p) {
			e.Prefixes = append(e.Prefixes, schema.LockedPrefix{Prefix: p, Added: true})
		}
	}
	slices.SortFunc(e.Prefixes, func(x, y schema.LockedPrefix) int { return comparePrefix(x.Prefix, y.Prefix) })
}

// refreshExtras is Reconcile's refresh for IPv6 addresses, prefixes and
// the network card: it keeps the recorded values the cloud still holds and
// records the wanted (pinned) ones it holds; it never records one that is
// neither wanted nor recorded. The card is the cloud's when it reports one
// (an invitational preview), else the recorded one while the ENI stays
// attached.
func refreshExtras(e *schema.LockedENI, o *ObservedENI, v6 schema.IPv6, pfx schema.Prefixes) {
	var keep6 []schema.LockedAddr
	pinned6 := v6.PinnedAddrs()
	for _, a := range o.IPv6 {
		i := slices.IndexFunc(e.IPv6, func(x schema.LockedAddr) bool { return x.Addr == a })
		switch {
		case i >= 0:
			keep6 = append(keep6, e.IPv6[i])
		case slices.Contains(pinned6, a):
			keep6 = append(keep6, schema.LockedAddr{Addr: a})
		}
	}
	slices.SortFunc(keep6, func(x, y schema.LockedAddr) int { return x.Addr.Compare(y.Addr) })
	e.IPv6 = keep6
	var keepP []schema.LockedPrefix
	pinnedP := pfx.PinnedPrefixes()
	for _, p := range o.Prefixes {
		i := slices.IndexFunc(e.Prefixes, func(x schema.LockedPrefix) bool { return x.Prefix == p })
		switch {
		case i >= 0:
			keepP = append(keepP, e.Prefixes[i])
		case slices.Contains(pinnedP, p):
			keepP = append(keepP, schema.LockedPrefix{Prefix: p})
		}
	}
	slices.SortFunc(keepP, func(x, y schema.LockedPrefix) int { return comparePrefix(x.Prefix, y.Prefix) })
	e.Prefixes = keepP
	switch {
	case e.AttachedTo == "":
		e.NetworkCard = 0
	case o.NetworkCard != 0:
		e.NetworkCard = o.NetworkCard
	}
}

// lockEntry returns a copy of the lock entry a target names (that of the
// name, for an ENI being removed or replaced), or a new one.
func (ex *executor) lockEntry(t Target) *schema.LockedENI {
	var old *schema.LockedENI
	if t.Kind == TargetInstance {
		old = ex.lock.Primary(t.Name)
	} else {
		old = ex.lock.Secondary(t.Name)
	}
	if old == nil {
		e := &schema.LockedENI{}
		if t.Kind == TargetInstance {
			e.Instance = t.Name
		} else {
			e.Name = t.Name
		}
		return e
	}
	c := *old
	c.Secondary = slices.Clone(old.Secondary)
	c.IPv6 = slices.Clone(old.IPv6)
	c.Prefixes = slices.Clone(old.Prefixes)
	return &c
}

// Reconcile brings the lock up to date with an observation: for every ENI
// of the fleet it records the cloud's ID, MAC, attachment and primary
// address, keeps the recorded secondary addresses that are still there,
// and records the wanted (pinned) addresses the cloud holds. It never
// records an address that is neither wanted nor recorded: that one was
// added by hand. A secondary ENI attached to an instance of the fleet
// keeps its slot (the lock's device_index; see slot.go), or gets one when
// it has none there; the cloud's device index is never read. Entries of
// ENIs gone from the file and the cloud are dropped, except their
// generation. It also records the block of each of the fleet's vSwitches
// as the cloud reports it (RecordVSwitches).
func Reconcile(lock *schema.Lock, f *schema.Fleet, obs *Observed) {
	lock.Fleet = f.Name
	RecordVSwitches(lock, f, obs)
	nameOf := make(map[string]string, len(f.Instances))
	for _, in := range f.Instances {
		nameOf[in.ID] = in.Name
	}
	moved := map[string]bool{} // secondary ENIs whose attachment the lock had otherwise
	refresh := func(e *schema.LockedENI, o *ObservedENI, want schema.Secondaries, v6 schema.IPv6, pfx schema.Prefixes) {
		e.ID, e.MAC, e.PrimaryIP = o.ID, strings.ToLower(o.MAC), o.PrimaryIP
		was := e.AttachedTo
		e.AttachedTo = ""
		// An ENI still Attaching is not on its instance yet: the attach
		// may fail back to Available (a stuck one does). The next plan
		// resumes it; the lock records it once it is InUse.
		if o.InstanceID != "" && o.Status != ENIAttaching {
			e.AttachedTo = nameOf[o.InstanceID]
		}
		if e.Name != "" && e.AttachedTo != was {
			moved[e.Name] = true
		}
		pinned := want.PinnedAddrs()
		var keep []schema.LockedAddr
		for _, a := range o.SecondaryIPs {
			i := slices.IndexFunc(e.Secondary, func(x schema.LockedAddr) bool { return x.Addr == a })
			switch {
			case i >= 0:
				keep = append(keep, e.Secondary[i])
			case slices.Contains(pinned, a):
				keep = append(keep, schema.LockedAddr{Addr: a})
			}
		}
		e.Secondary = keep
		refreshExtras(e, o, v6, pfx)
	}
	for _, in := range f.Instances {
		oi := obs.Instance(in.ID)
		if oi == nil {
			continue
		}
		e := lock.Primary(in.Name)
		if e == nil {
			e = &schema.LockedENI{Instance: in.Name}
		} else {
			c := *e
			e = &c
		}
		o := obs.ENI(oi.PrimaryENI)
		if o == nil {
			o = &ObservedENI{ID: oi.PrimaryENI, MAC: oi.MAC, PrimaryIP: oi.PrimaryIP, SecondaryIPs: oi.SecondaryIPs, IPv6: oi.IPv6, Prefixes: oi.Prefixes, InstanceID: oi.ID}
		}
		refresh(e, o, in.Primary.Secondaries, in.Primary.IPv6, in.Primary.Prefixes)
		e.NetworkCard = 0
		e.AttachedTo, e.DeviceIndex = "", 0 // a primary ENI is its instance's
		lock.Put(e)
	}
	tagged := map[string]*ObservedENI{}
	for _, c := range obs.ENIs {
		if c.Tags[TagFleet] == f.Name && c.Tags[TagENI] != "" && c.Status != ENIDeleting && tagged[c.Tags[TagENI]] == nil {
			tagged[c.Tags[TagENI]] = c
		}
	}
	for _, x := range f.ENIs {
		o := tagged[x.Name]
		if x.ID != "" {
			o = obs.ENI(x.ID)
		}
		e := lock.Secondary(x.Name)
		if e == nil {
			e = &schema.LockedENI{Name: x.Name}
		} else {
			c := *e
			e = &c
		}
		switch {
		case o == nil:
			// Gone: the slot stays for the ENI that apply creates again.
			e.ID, e.MAC, e.PrimaryIP, e.Secondary, e.AttachedTo = "", "", netip.Addr{}, nil, ""
			e.IPv6, e.Prefixes, e.NetworkCard = nil, nil, 0
		case x.ID == "" && e.ID != o.ID:
			// Created by ecsnet but never recorded (the lock write was
			// lost): its addresses came from ecsnet's create.
			u := ownedUnrecorded(x.Name, o, e.Generation)
			e.Secondary, e.IPv6, e.Prefixes = u.Secondary, u.IPv6, u.Prefixes
			refresh(e, o, x.Secondaries, x.IPv6, x.Prefixes)
		default:
			refresh(e, o, x.Secondaries, x.IPv6, x.Prefixes)
		}
		if x.ID != "" {
			e.Adopted = true
		}
		lock.Put(e)
	}
	// Entries for ENIs the file no longer names keep only their generation.
	for _, e := range lock.ENIs {
		if e.Name != "" && f.ENI(e.Name) == nil && (e.ID == "" || obs.ENI(e.ID) == nil) {
			e.ID, e.MAC, e.PrimaryIP, e.Secondary, e.AttachedTo, e.DeviceIndex = "", "", netip.Addr{}, nil, "", 0
			e.IPv6, e.Prefixes, e.NetworkCard = nil, nil, 0
		}
	}
	settleSlots(lock, moved)
}
