package plan

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ecsnet/ecsnet/schema"
)

// Options adjust Compute. The zero value is the safe default.
type Options struct {
	// Prune removes addresses the lock does not record (added by hand)
	// from managed ENIs. Without it they are listed and left alone.
	Prune bool
	// CreateMaxSecondaryIPs caps the secondary addresses one
	// CreateNetworkInterface call takes; the rest are assigned after
	// attaching. 0 means 10, the documented figure (ecs-api.md §2.2).
	CreateMaxSecondaryIPs int
}

const defaultCreateMax = 10

// Compute returns the steps that take the cloud from observed to the
// desired fleet. It is a pure function: no I/O, no clock. lock may be nil
// (no apply has run yet). The error, if any, is schema.Errors pointing at
// the desired-state file where a position is known.
func Compute(f *schema.Fleet, obs *Observed, lock *schema.Lock, opts Options) (*Plan, error) {
	if opts.CreateMaxSecondaryIPs <= 0 {
		opts.CreateMaxSecondaryIPs = defaultCreateMax
	}
	if lock == nil {
		lock = &schema.Lock{}
	}
	if es := checkVSwitches(f, obs); len(es) > 0 {
		// Everything below reads the file's blocks and zones: when they
		// are not the cloud's, that is the one thing to fix.
		return nil, es.Sort()
	}
	c := &computer{f: f, obs: obs, lock: lock, opts: opts, p: &Plan{Fleet: f.Name, Region: f.Region},
		steps: map[string]*Step{}, holder: map[netip.Addr]*ObservedENI{}, releasing: map[netip.Addr]string{},
		owned: map[string][]*ObservedENI{}, touched: map[string]bool{},
		prefixHolder: map[netip.Prefix]*ObservedENI{}, releasingPrefix: map[netip.Prefix]string{}}
	c.index()
	c.checkLock()
	for _, in := range f.Instances {
		c.instance(in)
	}
	for _, e := range f.ENIs {
		c.eni(e)
	}
	c.orphans()
	c.crossDeps()
	if len(c.errs) == 0 {
		// The totals need every ENI's end state; after another error
		// they would count a half-made plan.
		c.checkQuotas()
	}
	if len(c.errs) > 0 {
		return nil, c.errs.Sort()
	}
	c.p.Steps = order(c.steps)
	ids := c.touchedIDs()
	c.p.Fingerprint, c.p.Touched, c.p.TouchedDigest = Fingerprint(obs, ids), len(ids), TouchedDigest(ids)
	return c.p, nil
}

type computer struct {
	f    *schema.Fleet
	obs  *Observed
	lock *schema.Lock
	opts Options
	p    *Plan
	errs schema.Errors

	steps map[string]*Step
	// holder maps every observed address (primary and secondary) to its ENI.
	holder map[netip.Addr]*ObservedENI
	// releasing maps an address to the step that unassigns or deletes it.
	releasing map[netip.Addr]string
	// owned maps an ENI name to the fleet's ENIs tagged with it.
	owned map[string][]*ObservedENI
	// claimed marks observed ENIs matched to the file.
	claimed map[string]bool
	touched map[string]bool
	// wants records, per step that adds addresses, the addresses it needs
	// freed first.
	wants []want
	// detachFrom maps an instance ID to the detach steps leaving it;
	// attachTo to the attach steps arriving.
	detachFrom map[string][]string
	attachTo   map[string][]string
	// taken and cursor serve choose.
	taken  map[netip.Addr]bool
	cursor map[string]netip.Addr
	// restoring marks the lost addresses this plan assigns again; pins
	// names what pins each address in the desired state (built on first
	// use).
	restoring map[netip.Addr]bool
	pins      map[netip.Addr]string
	// footprints records the addresses and groups of the ENIs this plan
	// creates, changes or removes, for checkQuotas.
	footprints footprints
	// prefixHolder, releasingPrefix and prefixWants are holder,
	// releasing and wants for IPv4 prefixes (extras.go). IPv6 addresses
	// share holder, releasing and wants with the IPv4 ones.
	prefixHolder    map[netip.Prefix]*ObservedENI
	releasingPrefix map[netip.Prefix]string
	prefixWants     []prefixWant
	// takenPrefix holds the /28s choose never picks an address in:
	// pinned in the file, held in the cloud, recorded in the lock.
	takenPrefix map[netip.Prefix]bool
}

type want struct {
	step string
	addr netip.Addr
	pos  schema.Pos
	path string
}

func (c *computer) errorf(pos schema.Pos, path, hint, format string, args ...any) {
	c.errs = append(c.errs, &schema.Error{Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

func (c *computer) index() {
	c.claimed = map[string]bool{}
	n := 0
	for _, e := range c.obs.ENIs {
		n += 1 + len(e.SecondaryIPs)
	}
	c.holder = make(map[netip.Addr]*ObservedENI, n)
	c.detachFrom = map[string][]string{}
	c.attachTo = map[string][]string{}
	for _, e := range c.obs.ENIs {
		if e.PrimaryIP.IsValid() {
			c.holder[e.PrimaryIP] = e
		}
		for _, a := range e.SecondaryIPs {
			c.holder[a] = e
		}
		for _, a := range e.IPv6 {
			c.holder[a] = e
		}
		for _, p := range e.Prefixes {
			c.prefixHolder[p] = e
		}
		if e.Tags[TagFleet] == c.f.Name && e.Tags[TagENI] != "" && e.Type != ENIPrimary {
			c.owned[e.Tags[TagENI]] = append(c.owned[e.Tags[TagENI]], e)
		}
	}
	// Primary ENIs may be reported only through DescribeInstances.
	for _, in := range c.obs.Instances {
		if c.obs.ENI(in.PrimaryENI) != nil {
			continue
		}
		pe := &ObservedENI{ID: in.PrimaryENI, Type: ENIPrimary, Status: ENIInUse, InstanceID: in.ID, MAC: in.MAC,
			PrimaryIP: in.PrimaryIP, SecondaryIPs: in.SecondaryIPs, IPv6: in.IPv6, Prefixes: in.Prefixes}
		if in.PrimaryIP.IsValid() {
			c.holder[in.PrimaryIP] = pe
		}
		for _, a := range in.SecondaryIPs {
			c.holder[a] = pe
		}
		for _, a := range in.IPv6 {
			c.holder[a] = pe
		}
		for _, p := range in.Prefixes {
			c.prefixHolder[p] = pe
		}
	}
}

func (c *computer) add(s *Step) *Step {
	if prev := c.steps[s.ID]; prev != nil {
		panic("plan: duplicate step " + s.ID)
	}
	c.steps[s.ID] = s
	return s
}

func (c *computer) touch(ids ...string) {
	for _, id := range ids {
		if id != "" {
			c.touched[id] = true
		}
	}
}

func (c *computer) touchedIDs() []string {
	ids := make([]string, 0, len(c.touched))
	for id := range c.touched {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// token derives a ClientToken (at most 64 ASCII characters) from the
// fleet, the step, its content and the ENI's generation in the lock.
func (c *computer) token(stepID string, gen int, content ...string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d", c.f.Name, stepID, gen)
	for _, s := range content {
		h.Write([]byte{0})
		h.Write([]byte(s))
	}
	return "ecsnet-" + hex.EncodeToString(h.Sum(nil))[:40]
}

// recordedString lists the addresses the lock records: the state a
// ClientToken describes. Observed addresses would not do: after a crash
// that lost the lock write of an assign, the cloud holds the picked
// addresses, and a token built from them would differ from the one the
// cloud remembers, making it pick again.
func recordedString(l *schema.LockedENI) string {
	if l == nil {
		return ""
	}
	return addrsString(l.Addrs())
}

// ownedUnrecorded returns the lock entry an apply would have written for
// an ENI it created, had it lived to write it.
func ownedUnrecorded(name string, o *ObservedENI, gen int) *schema.LockedENI {
	e := &schema.LockedENI{Name: name, ID: o.ID, MAC: o.MAC, PrimaryIP: o.PrimaryIP, Generation: gen}
	for _, a := range o.SecondaryIPs {
		e.Secondary = append(e.Secondary, schema.LockedAddr{Addr: a, Added: true})
	}
	for _, a := range o.IPv6 {
		e.IPv6 = append(e.IPv6, schema.LockedAddr{Addr: a, Added: true})
	}
	for _, p := range o.Prefixes {
		e.Prefixes = append(e.Prefixes, schema.LockedPrefix{Prefix: p, Added: true})
	}
	return e
}

func addrsString(as []netip.Addr) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ",")
}

// addrDiff is what must change in one ENI's secondary addresses.
type addrDiff struct {
	add        []netip.Addr // pinned addresses to assign
	addPos     []schema.Address
	count      int          // addresses for the cloud to pick
	remove     []netip.Addr // addresses to unassign
	unrecorded []netip.Addr // present, not wanted, not in the lock
	final      int          // secondary addresses after the change
	released   []netip.Addr // counted addresses released by a shrink
	// restored are addresses the lock records that the cloud lost (they
	// were unassigned outside ecsnet) and that add assigns again; repicked
	// says, for each lost counted address that is taken now, by what: the
	// cloud picks another in its place (part of count).
	restored []netip.Addr
	repicked []string
}

// drift reports whether the addresses to add only undo changes made
// outside ecsnet: every one restores an address the lock records, or
// replaces one that was lost and is taken now.
func (d addrDiff) drift() bool {
	return len(d.add)+d.count > 0 && len(d.restored) == len(d.add) && len(d.repicked) == d.count
}

// diffAddrs compares the wanted secondaries with those present. Addresses
// the lock does not record are never removed without Prune.
func (c *computer) diffAddrs(want schema.Secondaries, have []netip.Addr, locked *schema.LockedENI) addrDiff {
	var d addrDiff
	recorded := func(a netip.Addr) bool { return locked != nil && locked.Has(a) }
	if !want.Counted {
		pinned := map[netip.Addr]bool{}
		for _, a := range want.Pinned {
			pinned[a.Addr] = true
		}
		present := map[netip.Addr]bool{}
		for _, a := range have {
			present[a] = true
			switch {
			case pinned[a]:
			case recorded(a):
				d.remove = append(d.remove, a)
			default:
				d.unrecorded = append(d.unrecorded, a)
			}
		}
		for _, a := range want.Pinned {
			if !present[a.Addr] {
				d.add = append(d.add, a.Addr)
				d.addPos = append(d.addPos, a)
				if recorded(a.Addr) {
					d.restored = append(d.restored, a.Addr)
				}
			}
		}
	} else {
		var managed []netip.Addr
		for _, a := range have {
			if recorded(a) {
				managed = append(managed, a)
			} else {
				d.unrecorded = append(d.unrecorded, a)
			}
		}
		switch {
		case len(managed) < want.Count:
			d.count = want.Count - len(managed)
			c.restoreCounted(&d, want, have, locked)
		case len(managed) > want.Count:
			// Release the highest addresses: a stable choice that the plan
			// states, unlike dropping the first of a list.
			slices.SortFunc(managed, netip.Addr.Compare)
			d.released = slices.Clone(managed[want.Count:])
			d.remove = append(d.remove, d.released...)
		}
	}
	if c.opts.Prune {
		d.remove = append(d.remove, d.unrecorded...)
	}
	// add and addPos stay in step: callers pair them by index.
	slices.SortFunc(d.addPos, func(x, y schema.Address) int { return x.Addr.Compare(y.Addr) })
	for i, a := range d.addPos {
		d.add[i] = a.Addr
	}
	slices.SortFunc(d.restored, netip.Addr.Compare)
	slices.SortFunc(d.remove, netip.Addr.Compare)
	slices.SortFunc(d.unrecorded, netip.Addr.Compare)
	d.final = len(have) + len(d.add) + d.count - len(d.remove)
	if want.Counted && !c.opts.Prune {
		// Addresses missing from the lock on a counted ENI are most likely
		// the answer to a count whose lock write was lost (a crash): the
		// assign replays its ClientToken and gets exactly those back. Count
		// them once; were they added by hand, the cloud refuses the assign
		// and plan --prune clears them.
		d.final -= min(len(d.unrecorded), d.count)
	}
	return d
}

// restoreCounted turns as much of a counted ENI's missing count as it can
// into the addresses the lock records and the cloud lost (unassigned
// outside ecsnet), so that the host keeps the addresses its configuration
// names. A lost address that is taken now, by another ENI or by a pin of
// the desired state, is left to the cloud to replace with a new pick, and
// d.repicked says so.
func (c *computer) restoreCounted(d *addrDiff, want schema.Secondaries, have []netip.Addr, locked *schema.LockedENI) {
	if locked == nil {
		return
	}
	for _, l := range locked.Secondary { // sorted: the lowest come back first
		if len(d.restored)+len(d.repicked) == d.count {
			break
		}
		a := l.Addr
		if slices.Contains(have, a) {
			continue
		}
		if by := c.takenBy(a); by != "" {
			d.repicked = append(d.repicked, fmt.Sprintf("%s, which the lock records, was unassigned outside ecsnet and is now %s: the cloud picks another address in its place", a, by))
			continue
		}
		if c.restoring == nil {
			c.restoring = map[netip.Addr]bool{}
		}
		c.restoring[a] = true
		d.add = append(d.add, a)
		d.addPos = append(d.addPos, schema.Address{Addr: a, Pos: want.CountPos})
		d.restored = append(d.restored, a)
	}
	d.count -= len(d.restored)
}

// takenBy says what holds or claims a, an address the lock records and
// the cloud lost, or returns "" when a is free to assign again.
func (c *computer) takenBy(a netip.Addr) string {
	if h := c.holder[a]; h != nil {
		if h.Type == ENIPrimary {
			return "held by the primary ENI " + h.ID + " of instance " + h.InstanceID
		}
		return "held by ENI " + h.ID
	}
	if c.pins == nil {
		c.pins = map[netip.Addr]string{}
		for _, in := range c.f.Instances {
			c.pins[in.Primary.IP] = "instance " + in.Name
			for _, p := range in.Primary.Pinned {
				c.pins[p.Addr] = "instance " + in.Name
			}
		}
		for _, e := range c.f.ENIs {
			if e.PrimaryIP.IsValid() {
				c.pins[e.PrimaryIP] = "ENI " + e.Name
			}
			for _, p := range e.Pinned {
				c.pins[p.Addr] = "ENI " + e.Name
			}
		}
	}
	if who := c.pins[a]; who != "" {
		return "pinned by " + who + " in the desired state"
	}
	if c.restoring[a] {
		return "restored to another ENI"
	}
	return ""
}

func (c *computer) noteUnrecorded(target Target, eniID string, d addrDiff) {
	if len(d.unrecorded) > 0 {
		c.p.Unrecorded = append(c.p.Unrecorded, Unrecorded{Target: target, ENIID: eniID, IPs: d.unrecorded, Pruned: c.opts.Prune})
	}
}

func canChangeAddrsOf(st InstanceStatus) bool { return st == InstanceRunning || st == InstanceStopped }

func (c *computer) instance(in *schema.Instance) {
	path := fmt.Sprintf("instances.%q", in.Name)
	oi := c.obs.Instance(in.ID)
	if oi == nil {
		c.errorf(in.Pos, path+".id", "check the ID and the region, and that the credentials can see the instance; ecsnet never creates instances",
			"instance %s was not found in region %s", in.ID, c.f.Region)
		return
	}
	c.touch(oi.ID, oi.PrimaryENI)
	if oi.PrimaryIP != in.Primary.IP {
		c.errorf(in.Primary.IPPos, path+".primary.ip", fmt.Sprintf("write the cloud's address, %s: an instance's primary address cannot change", oi.PrimaryIP),
			"primary.ip %s differs from the cloud's %s", in.Primary.IP, oi.PrimaryIP)
		return
	}
	if z := c.f.Zone(in); oi.Zone != "" && z != "" && oi.Zone != z {
		c.errorf(in.Primary.Pos, path+".primary.vswitch", fmt.Sprintf("the instance is in %s; use a vSwitch of that zone", oi.Zone),
			"instance %s is in zone %s, but its vSwitch %q is in %s", in.ID, oi.Zone, in.Primary.VSwitch, z)
	}
	if t, ok := c.obs.InstanceType(oi.Type); ok {
		if mine, ok := c.f.InstanceType(oi.Type); ok && (mine.MaxENIs != t.MaxENIs || mine.MaxIPsPerENI != t.MaxIPsPerENI) {
			c.p.Notes = append(c.p.Notes, fmt.Sprintf("instance type %s: the cloud reports %d ENIs and %d addresses per ENI, ecsnet's table says %d and %d; the cloud's figures rule (add limits.instanceTypes to the file to match)",
				oi.Type, t.MaxENIs, t.MaxIPsPerENI, mine.MaxENIs, mine.MaxIPsPerENI))
		}
	}
	if in.Type != "" && oi.Type != "" && oi.Type != in.Type {
		c.errorf(in.TypePos, path+".type", fmt.Sprintf("write the cloud's type, %s", oi.Type), "type %s differs from the cloud's %s", in.Type, oi.Type)
	}
	locked := c.lock.Primary(in.Name)
	d := c.diffAddrs(in.Primary.Secondaries, oi.SecondaryIPs, locked)
	target := InstanceTarget(in.Name)
	c.noteUnrecorded(target, oi.PrimaryENI, d)
	c.primaryExtras(in, oi, locked, d.final)
	if len(d.remove) == 0 && len(d.add) == 0 && d.count == 0 {
		return
	}
	if !canChangeAddrsOf(oi.Status) {
		c.errorf(in.Pos, path, "wait until the instance is Running or Stopped, then plan again",
			"instance %s is %s: the addresses of its primary ENI can change only while it is Running or Stopped", in.ID, oi.Status)
		return
	}
	if t, ok := c.quota(oi.Type); ok && d.final > t.MaxIPsPerENI-1 {
		c.errorf(in.Pos, path+".primary", c.tooManyHint(d),
			"the primary ENI of %s would carry %d secondary addresses, over its type's %d", in.ID, d.final, t.MaxIPsPerENI-1)
		return
	}
	c.footprints.set(oi.PrimaryENI, footprint{addrs: 1 + d.final, pos: in.Pos})
	gen := 0
	if locked != nil {
		gen = locked.Generation
	}
	var un *Step
	if len(d.remove) > 0 {
		un = c.add(&Step{ID: "unassign " + target.String(), Action: UnassignIPs, Target: target, ENIID: oi.PrimaryENI, Instance: in.Name, InstanceID: in.ID,
			IPs: d.remove, Reason: c.removeReason(d), Drift: c.pruneOnly(d)})
		c.releases(un.ID, d.remove)
	}
	if len(d.add) > 0 || d.count > 0 {
		s := c.add(&Step{ID: "assign " + target.String(), Action: AssignIPs, Target: target, ENIID: oi.PrimaryENI, Instance: in.Name, InstanceID: in.ID,
			IPs: d.add, Count: d.count, Reason: addReason(d), Drift: d.drift()})
		s.Token = c.token(s.ID, gen, oi.PrimaryENI, addrsString(d.add), fmt.Sprint(d.count), recordedString(locked))
		if un != nil {
			s.DependsOn = append(s.DependsOn, un.ID) // stay within the ENI's quota at every step
		}
		for i, a := range d.add {
			c.wants = append(c.wants, want{step: s.ID, addr: a, pos: d.addPos[i].Pos, path: path + ".primary.secondaryIps"})
		}
	}
}

func (c *computer) quota(typ string) (schema.InstanceType, bool) {
	if t, ok := c.obs.InstanceType(typ); ok {
		q := schema.InstanceType{Name: typ, MaxENIs: t.MaxENIs, MaxIPsPerENI: t.MaxIPsPerENI,
			MaxIPv6PerENI: t.MaxIPv6PerENI, NetworkCards: t.NetworkCards, MaxQueuesPerENI: t.MaxQueuesPerENI}
		// A figure the cloud does not report (0) is taken from the
		// file's or ecsnet's table, if it has one.
		if mine, ok := c.f.InstanceType(typ); ok {
			q.MaxIPv6PerENI = cmp.Or(q.MaxIPv6PerENI, mine.MaxIPv6PerENI)
			q.NetworkCards = cmp.Or(q.NetworkCards, mine.NetworkCards)
			q.MaxQueuesPerENI = cmp.Or(q.MaxQueuesPerENI, mine.MaxQueuesPerENI)
		}
		return q, true
	}
	return c.f.InstanceType(typ)
}

func (c *computer) releases(step string, addrs []netip.Addr) {
	for _, a := range addrs {
		c.releasing[a] = step
	}
}

func (c *computer) removeReason(d addrDiff) string {
	var parts []string
	if len(d.released) > 0 {
		parts = append(parts, fmt.Sprintf("the count shrank: releasing %s (the highest addresses)", addrsString(d.released)))
	}
	if n := len(d.remove) - len(d.released); n > 0 {
		parts = append(parts, "no longer in the desired state")
	}
	if c.opts.Prune && len(d.unrecorded) > 0 {
		parts = append(parts, fmt.Sprintf("pruning addresses the lock does not record: %s", addrsString(d.unrecorded)))
	}
	return strings.Join(parts, "; ")
}

// pruneOnly reports whether an unassign only prunes addresses added
// outside ecsnet: it undoes drift.
func (c *computer) pruneOnly(d addrDiff) bool {
	return c.opts.Prune && len(d.remove) > 0 && len(d.remove) == len(d.unrecorded)
}

func addReason(d addrDiff) string {
	var parts []string
	if len(d.restored) > 0 {
		them := "them"
		if len(d.restored) == 1 {
			them = "it"
		}
		parts = append(parts, fmt.Sprintf("restoring %s: unassigned outside ecsnet, and the lock records %s", addrsString(d.restored), them))
	}
	parts = append(parts, d.repicked...)
	pinned, count := len(d.add)-len(d.restored), d.count-len(d.repicked)
	switch {
	case count > 0 && pinned > 0:
		parts = append(parts, fmt.Sprintf("pinned addresses missing, and %d for the cloud to pick", count))
	case count == 1:
		parts = append(parts, "1 more address for the cloud to pick")
	case count > 0:
		parts = append(parts, fmt.Sprintf("%d more addresses for the cloud to pick", count))
	case pinned > 0:
		parts = append(parts, "pinned addresses missing")
	}
	return strings.Join(parts, "; ")
}

// findOwned returns the observed ENI that is the file's ENI e: the adopted
// ID, or the one tagged with the fleet and e's name.
func (c *computer) findOwned(e *schema.ENI, path string) (*ObservedENI, bool) {
	if e.ID != "" {
		o := c.obs.ENI(e.ID)
		if o == nil {
			c.errorf(e.Pos, path+".id", "check the ID, or remove id: to let ecsnet create the ENI", "ENI %s was not found in the fleet's VPCs", e.ID)
			return nil, false
		}
		return o, true
	}
	cands := c.owned[e.Name]
	switch len(cands) {
	case 0:
		return nil, true
	case 1:
		return cands[0], true
	}
	ids := make([]string, len(cands))
	for i, x := range cands {
		ids[i] = x.ID
		c.claimed[x.ID] = true
	}
	c.errorf(e.Pos, path, "delete the extra ENIs by hand (or remove the ecsnet tags of all but one), then plan again",
		"%d ENIs in the cloud carry the tags of ENI %q: %s", len(cands), e.Name, strings.Join(ids, ", "))
	return nil, false
}

// eniJob is one ENI of the desired state while eni plans it: what the
// file, the cloud and the lock say about it.
type eniJob struct {
	e      *schema.ENI
	path   string
	target Target
	sgIDs  []string // the file's groups, as sorted IDs
	o      *ObservedENI
	inst   *schema.Instance  // the instance it should be on; nil when unbound
	oi     *ObservedInstance // inst as observed
	locked *schema.LockedENI
	gen    int // the lock's generation: a new ENI gets new tokens
}

func (c *computer) eni(e *schema.ENI) {
	j := &eniJob{e: e, path: fmt.Sprintf("enis.%q", e.Name), target: ENITarget(e.Name)}
	o, ok := c.findOwned(e, j.path)
	if !ok {
		return
	}
	found := o != nil
	for _, g := range e.SecurityGroups {
		if sg := c.f.SecurityGroup(g); sg != nil {
			j.sgIDs = append(j.sgIDs, sg.ID)
		}
	}
	slices.Sort(j.sgIDs)
	if e.Bound() {
		if j.inst = c.f.Instance(e.AttachTo); j.inst != nil {
			j.oi = c.obs.Instance(j.inst.ID)
		}
		if j.oi == nil {
			return // reported with the instance
		}
	}
	if j.locked = c.lock.Secondary(e.Name); j.locked != nil {
		j.gen = j.locked.Generation
	}
	if o != nil {
		c.claimed[o.ID] = true
		c.touch(o.ID)
		if o, ok = c.replaced(j, o); !ok {
			return
		}
	}
	if o == nil {
		c.create(e, j.target, c.f.VSwitch(e.VSwitch).ID, j.sgIDs, j.inst, j.oi, j.gen)
		if !found && e.ID == "" && j.locked != nil && j.locked.ID != "" {
			c.createDrift(j.target, j.locked.ID)
		}
		return
	}
	j.o = o
	var mod *Step
	if m := modifySpec(o, e, j.sgIDs); m != nil {
		hostName, hostID := j.host()
		mod = c.add(&Step{ID: "modify " + j.target.String(), Action: ModifyENI, Target: j.target, ENI: e.Name, ENIID: o.ID, Instance: hostName, InstanceID: hostID, Modify: m, Reason: modifyReason(o, m)})
	}
	if !c.checkQueues(e, j.path, j.oi) {
		return
	}
	detach, attach, ok := c.attachment(j)
	if !ok || !c.queues(j, mod, detach, attach) {
		return
	}
	final, ok := c.eniAddrs(j, detach, attach)
	if !ok {
		return
	}
	c.eniExtras(j, detach, attach, final)
}

// host returns the instance the ENI ends up on: it names the host a
// reviewer looks at; the executor does not use it on these steps.
func (j *eniJob) host() (name, id string) {
	if j.oi == nil {
		return "", ""
	}
	return j.inst.Name, j.oi.ID
}

// replaced plans the removal of the observed ENI o when it cannot become
// the file's (another vSwitch or primary address) and returns nil in its
// place, with j.gen raised for the new ENI's tokens; it returns false after
// an error.
func (c *computer) replaced(j *eniJob, o *ObservedENI) (*ObservedENI, bool) {
	e, vsw := j.e, c.f.VSwitch(j.e.VSwitch)
	why := ""
	switch {
	case o.VSwitch != vsw.ID:
		why = fmt.Sprintf("its vSwitch changes from %s to %s (%s)", o.VSwitch, vsw.ID, e.VSwitch)
	case e.PrimaryIP.IsValid() && o.PrimaryIP != e.PrimaryIP:
		why = fmt.Sprintf("its primary address changes from %s to %s", o.PrimaryIP, e.PrimaryIP)
	default:
		return o, true
	}
	if e.ID != "" {
		c.errorf(e.VSwitchPos, j.path, "an adopted ENI is never deleted by ecsnet; remove id: to let ecsnet create a new ENI, then delete the old one by hand",
			"ENI %s would have to be replaced: %s", o.ID, why)
		return nil, false
	}
	c.remove(o, e.Name, "replaced: "+why)
	j.gen++ // a new ENI: new tokens
	return nil, true
}

// attachment plans the detach and attach that put an observed ENI where
// the file wants it; it returns false after an error that leaves the
// ENI's addresses unplanned.
func (c *computer) attachment(j *eniJob) (detach, attach *Step, ok bool) {
	e, o, inst, oi := j.e, j.o, j.inst, j.oi
	wantInst := ""
	if oi != nil {
		wantInst = oi.ID
	}
	if o.InstanceID == wantInst && oi != nil && o.Status == ENIAttaching {
		// An attach that has not finished (an apply's wait for it timed
		// out) is resumed: sent again, which the cloud refuses as already
		// Attaching and the executor counts as done, then waited for.
		// Not drift, and no arrival: the ENI already counts on the
		// instance.
		if !c.canAttach(e, j.path, inst, oi) {
			return nil, nil, false
		}
		attach = c.add(&Step{ID: "attach " + j.target.String(), Action: AttachENI, Target: j.target, ENI: e.Name, ENIID: o.ID,
			Instance: inst.Name, InstanceID: oi.ID, NetworkCard: e.NetworkCard, Reason: resumePrefix + "the ENI is still Attaching to " + inst.Name})
		return nil, attach, true
	}
	recard := false
	if o.InstanceID == wantInst {
		if oi == nil || cardOf(o, j.locked) == e.NetworkCard {
			return nil, nil, true
		}
		// AttachNetworkInterface sets the card; nothing changes it on an
		// attached ENI: detach, then attach on the new card.
		recard = true
	}
	if o.InstanceID != "" {
		from := c.obs.Instance(o.InstanceID)
		c.touch(o.InstanceID)
		if from != nil {
			if t, ok := c.f.InstanceType(from.Type); ok && t.AttachNeedsStopped && from.Status != InstanceStopped {
				c.errorf(e.AttachToPos, j.path+".attachTo", "stop the instance yourself, then apply; ecsnet never stops instances",
					"detaching ENI %s from %s needs the instance Stopped (type %s has no NIC hot-plug); it is %s", o.ID, from.ID, from.Type, from.Status)
			}
		}
		why := "attachTo was removed: the ENI becomes unbound"
		switch {
		case recard:
			why = fmt.Sprintf("its network card changes from %d to %d, which only an attach sets: detaching it to attach it again", cardOf(o, j.locked), e.NetworkCard)
		case wantInst != "":
			why = fmt.Sprintf("moving to %s", e.AttachTo)
		}
		detach = c.add(&Step{ID: "detach " + j.target.String(), Action: DetachENI, Target: j.target, ENI: e.Name, ENIID: o.ID,
			Instance: c.instanceName(o.InstanceID), InstanceID: o.InstanceID, Reason: why})
		c.detachFrom[o.InstanceID] = append(c.detachFrom[o.InstanceID], detach.ID)
	}
	if oi != nil {
		if !c.canAttach(e, j.path, inst, oi) {
			return detach, nil, false
		}
		attach = c.add(&Step{ID: "attach " + j.target.String(), Action: AttachENI, Target: j.target, ENI: e.Name, ENIID: o.ID,
			Instance: inst.Name, InstanceID: oi.ID, NetworkCard: e.NetworkCard, Reason: "attachTo " + inst.Name})
		if detach != nil {
			attach.DependsOn = append(attach.DependsOn, detach.ID)
			attach.Reason = fmt.Sprintf("failover from %s to %s", detach.Instance, inst.Name)
			if recard {
				attach.Reason = fmt.Sprintf("again to %s, on network card %d", inst.Name, e.NetworkCard)
			}
		}
		c.attachTo[oi.ID] = append(c.attachTo[oi.ID], attach.ID)
	}
	// The lock records the ENI where the file still wants it: the cloud
	// moved it, not the desired state.
	if l := j.locked; l != nil && l.ID == o.ID && l.AttachedTo == e.AttachTo && !recard {
		attachDrift(e, detach, attach)
	}
	return detach, attach, true
}

// eniAddrs plans the unassign and assign that give an observed ENI the
// file's secondary addresses, ordered against its detach and attach.
func (c *computer) eniAddrs(j *eniJob, detach, attach *Step) (final int, ok bool) {
	e, o := j.e, j.o
	locked := j.locked
	if e.ID == "" && (locked == nil || locked.ID != o.ID) {
		// ecsnet created this ENI (it carries the fleet's tags) but the
		// lock never recorded it: the process died between the create and
		// the lock write. Its addresses came from that create.
		locked = ownedUnrecorded(e.Name, o, j.gen)
	}
	d := c.diffAddrs(e.Secondaries, o.SecondaryIPs, locked)
	c.noteUnrecorded(j.target, o.ID, d)
	capacity := c.f.Limits.UnboundENIMaxSecondaryIPs
	if j.oi != nil {
		if t, ok := c.quota(j.oi.Type); ok {
			capacity = t.MaxIPsPerENI - 1
		}
	}
	if d.final > capacity {
		c.errorf(e.Pos, j.path, c.tooManyHint(d),
			"ENI %s would carry %d secondary addresses, over the %d it may hold", o.ID, d.final, capacity)
		return 0, false
	}
	if d.final != len(o.SecondaryIPs) || !slices.Equal(o.SecurityGroups, j.sgIDs) {
		c.footprints.set(o.ID, footprint{addrs: 1 + d.final, groups: groupsOf(j.sgIDs), pos: e.Pos})
	}
	hostName, hostID := j.host()
	var un *Step
	if len(d.remove) > 0 {
		un = c.add(&Step{ID: "unassign " + j.target.String(), Action: UnassignIPs, Target: j.target, ENI: e.Name, ENIID: o.ID, Instance: hostName, InstanceID: hostID, IPs: d.remove, Reason: c.removeReason(d), Drift: c.pruneOnly(d)})
		c.releases(un.ID, d.remove)
		// Shed addresses before the ENI leaves an instance (an unbound ENI
		// holds fewer) or joins one whose type allows fewer.
		if detach != nil {
			detach.DependsOn = append(detach.DependsOn, un.ID)
		}
		if attach != nil {
			attach.DependsOn = append(attach.DependsOn, un.ID)
		}
	}
	if len(d.add) > 0 || d.count > 0 {
		s := c.add(&Step{ID: "assign " + j.target.String(), Action: AssignIPs, Target: j.target, ENI: e.Name, ENIID: o.ID, Instance: hostName, InstanceID: hostID, IPs: d.add, Count: d.count, Reason: addReason(d), Drift: d.drift()})
		s.Token = c.token(s.ID, j.gen, o.ID, addrsString(d.add), fmt.Sprint(d.count), recordedString(locked))
		if un != nil {
			s.DependsOn = append(s.DependsOn, un.ID)
		}
		if attach != nil {
			s.DependsOn = append(s.DependsOn, attach.ID) // a bound ENI holds more
		}
		for i, a := range d.add {
			c.wants = append(c.wants, want{step: s.ID, addr: a, pos: d.addPos[i].Pos, path: j.path + ".secondaryIps"})
		}
	}
	return d.final, true
}

// createDrift labels the steps that create an ENI again that the lock
// records but the cloud no longer has as the fleet's: it was deleted, or
// stripped of its tags, outside ecsnet.
func (c *computer) createDrift(target Target, lockedID string) {
	how := "deleted outside ecsnet"
	if c.obs.ENI(lockedID) != nil {
		how = "its ecsnet tags were removed outside ecsnet"
	}
	for _, s := range c.steps {
		if s.Target != target {
			continue
		}
		s.Drift = true
		if s.Action == CreateENI {
			why := fmt.Sprintf("the lock records %s, %s: creating it again", lockedID, how)
			if _, rest, ok := strings.Cut(s.Reason, "; "); ok {
				why += "; " + rest
			}
			s.Reason = why
		}
	}
}

// attachDrift labels the steps that put an ENI back where the lock records
// it, after it was detached or moved outside ecsnet.
func attachDrift(e *schema.ENI, detach, attach *Step) {
	where := "unbound"
	if e.AttachTo != "" {
		where = "on " + e.AttachTo
	}
	if detach != nil {
		from := detach.Instance
		if from == "" {
			from = detach.InstanceID
		}
		detach.Drift = true
		detach.Reason = fmt.Sprintf("attached to %s outside ecsnet; the lock records it %s", from, where)
	}
	if attach != nil {
		attach.Drift = true
		attach.Reason = fmt.Sprintf("detached outside ecsnet; the lock records it %s: attaching it again", where)
		if detach != nil {
			attach.Reason = fmt.Sprintf("back to %s, where the lock records it", e.AttachTo)
		}
	}
}

func (c *computer) instanceName(id string) string {
	for _, in := range c.f.Instances {
		if in.ID == id {
			return in.Name
		}
	}
	return ""
}

// canAttach checks the instance-side rules of AttachNetworkInterface.
func (c *computer) canAttach(e *schema.ENI, path string, inst *schema.Instance, oi *ObservedInstance) bool {
	if oi.Status != InstanceRunning && oi.Status != InstanceStopped {
		c.errorf(e.AttachToPos, path+".attachTo", "wait until the instance is Running or Stopped, then plan again",
			"instance %s is %s: ENIs attach only to Running or Stopped instances", oi.ID, oi.Status)
		return false
	}
	if t, ok := c.f.InstanceType(oi.Type); ok && t.AttachNeedsStopped && oi.Status == InstanceRunning {
		c.errorf(e.AttachToPos, path+".attachTo", "stop the instance yourself, then apply; ecsnet never stops instances",
			"instance %s (%s) is Running, but its type attaches ENIs only while Stopped", inst.Name, oi.Type)
		return false
	}
	return c.checkCard(e, path, oi)
}

func (c *computer) create(e *schema.ENI, target Target, vswID string, sgIDs []string, inst *schema.Instance, oi *ObservedInstance, gen int) {
	path := fmt.Sprintf("enis.%q", e.Name)
	if oi != nil && !c.canAttach(e, path, inst, oi) {
		return
	}
	spec := &CreateSpec{VSwitchID: vswID, SecurityGroupIDs: sgIDs, PrimaryIP: e.PrimaryIP, Name: e.Name, Description: e.Description,
		Tags: map[string]string{TagFleet: c.f.Name, TagENI: e.Name}}
	max := c.opts.CreateMaxSecondaryIPs
	var rest []netip.Addr
	var restCount int
	pinned := e.PinnedAddrs()
	slices.SortFunc(pinned, netip.Addr.Compare)
	if e.Counted {
		spec.Count = min(e.Count, max)
		restCount = e.Count - spec.Count
	} else {
		spec.IPs = pinned[:min(len(pinned), max)]
		rest = pinned[len(spec.IPs):]
	}
	reason := "not in the cloud yet"
	if !spec.PrimaryIP.IsValid() && spec.Count == 0 {
		// ecsnet picks the primary address itself, deterministically, so
		// the create only pins addresses and can run before the steps where
		// the cloud picks (picksAfterPins): a cloud pick could otherwise
		// take an address that another step of this plan pins. A create
		// with a count lets the cloud pick its primary too: it is a pick
		// step as a whole.
		a, ok := c.choose(e.VSwitch)
		if !ok {
			c.errorf(e.Pos, path, "free addresses in the vSwitch, or use a larger one", "vSwitch %q has no free address left for ENI %s's primary address", e.VSwitch, e.Name)
			return
		}
		spec.PrimaryIP = a
		reason = fmt.Sprintf("not in the cloud yet; primary address %s chosen by ecsnet (the lowest free one)", a)
	}
	s := c.add(&Step{ID: "create " + target.String(), Action: CreateENI, Target: target, ENI: e.Name, Create: spec, Reason: reason})
	c.footprints.created = append(c.footprints.created, footprint{addrs: 1 + e.N(), groups: groupsOf(sgIDs), pos: e.Pos})
	s.Token = c.token(s.ID, gen, vswID, strings.Join(sgIDs, ","), spec.PrimaryIP.String(), addrsString(spec.IPs), fmt.Sprint(spec.Count), e.Description)
	if e.PrimaryIP.IsValid() {
		c.wants = append(c.wants, want{step: s.ID, addr: e.PrimaryIP, pos: e.PrimaryIPPos, path: path + ".primaryIp"})
	}
	for _, a := range e.Pinned {
		if slices.Contains(spec.IPs, a.Addr) {
			c.wants = append(c.wants, want{step: s.ID, addr: a.Addr, pos: a.Pos, path: path + ".secondaryIps"})
		}
	}
	var attach *Step
	if oi != nil {
		if !c.checkQueues(e, path, oi) {
			return
		}
		attach = c.add(&Step{ID: "attach " + target.String(), Action: AttachENI, Target: target, ENI: e.Name, Instance: inst.Name, InstanceID: oi.ID,
			NetworkCard: e.NetworkCard, DependsOn: []string{s.ID}, Reason: "attachTo " + inst.Name})
		c.attachTo[oi.ID] = append(c.attachTo[oi.ID], attach.ID)
	}
	defer func() {
		// After the IPv4 assign, which the prefix assign waits for.
		c.createExtras(e, target, spec, s, attach, inst, oi, gen)
		if x := createExtrasString(spec); x != "" {
			// Only then: the tokens of creates without them stay as they were.
			s.Token = c.token(s.ID, gen, vswID, strings.Join(sgIDs, ","), spec.PrimaryIP.String(), addrsString(spec.IPs), fmt.Sprint(spec.Count), e.Description, x)
		}
	}()
	if len(rest) > 0 || restCount > 0 {
		a := c.add(&Step{ID: "assign " + target.String(), Action: AssignIPs, Target: target, ENI: e.Name, IPs: rest, Count: restCount, Instance: attachName(inst), InstanceID: attachID(oi),
			DependsOn: []string{s.ID}, Reason: fmt.Sprintf("more addresses than CreateNetworkInterface takes (%d)", max)})
		if attach != nil {
			a.DependsOn = append(a.DependsOn, attach.ID)
		}
		a.Token = c.token(a.ID, gen, "new", addrsString(rest), fmt.Sprint(restCount))
		for _, p := range e.Pinned {
			if slices.Contains(rest, p.Addr) {
				c.wants = append(c.wants, want{step: a.ID, addr: p.Addr, pos: p.Pos, path: path + ".secondaryIps"})
			}
		}
	}
}

func attachName(in *schema.Instance) string {
	if in == nil {
		return ""
	}
	return in.Name
}

func attachID(oi *ObservedInstance) string {
	if oi == nil {
		return ""
	}
	return oi.ID
}

// choose returns the lowest address of a vSwitch that is free: not
// reserved, not held by any ENI observed in the VPC, not pinned anywhere in
// the fleet, and not chosen already.
func (c *computer) choose(vswName string) (netip.Addr, bool) {
	v := c.f.VSwitch(vswName)
	if c.taken == nil {
		c.taken = map[netip.Addr]bool{}
		for a := range c.holder {
			c.taken[a] = true
		}
		for _, in := range c.f.Instances {
			c.taken[in.Primary.IP] = true
			for _, a := range in.Primary.Pinned {
				c.taken[a.Addr] = true
			}
		}
		for _, e := range c.f.ENIs {
			if e.PrimaryIP.IsValid() {
				c.taken[e.PrimaryIP] = true
			}
			for _, a := range e.Pinned {
				c.taken[a.Addr] = true
			}
		}
		// An address the lock records and the cloud lost goes back to its
		// ENI (restoreCounted), never to a new one.
		for _, l := range c.lock.ENIs {
			for _, a := range l.Secondary {
				c.taken[a.Addr] = true
			}
		}
		c.cursor = map[string]netip.Addr{}
		c.takenPrefix = takenPrefixes(c.f, c.prefixHolder, c.lock)
	}
	a, ok := c.cursor[vswName]
	if !ok {
		a = v.CIDR.Masked().Addr()
	}
	for a = a.Next(); v.CIDR.Contains(a); a = a.Next() {
		if !v.Reserved(a) && !c.taken[a] && !c.takenPrefix[netip.PrefixFrom(a, prefixBits).Masked()] {
			c.taken[a] = true
			c.cursor[vswName] = a
			return a, true
		}
	}
	return netip.Addr{}, false
}

// remove deletes an observed ENI (detaching it first), for an ENI dropped
// from the file or replaced.
func (c *computer) remove(o *ObservedENI, name, why string) {
	target := RemovedENITarget(name, o.ID)
	c.touch(o.ID, o.InstanceID)
	var deps []string
	if o.InstanceID != "" {
		d := c.add(&Step{ID: "detach " + target.String(), Action: DetachENI, Target: target, ENI: name, ENIID: o.ID,
			Instance: c.instanceName(o.InstanceID), InstanceID: o.InstanceID, Destroys: true, Reason: why})
		c.detachFrom[o.InstanceID] = append(c.detachFrom[o.InstanceID], d.ID)
		deps = append(deps, d.ID)
	}
	// IPs lists what the deletion frees, for the reviewer; the executor
	// does not use it.
	freed := append([]netip.Addr{o.PrimaryIP}, o.SecondaryIPs...)
	del := c.add(&Step{ID: "delete " + target.String(), Action: DeleteENI, Target: target, ENI: name, ENIID: o.ID, DependsOn: deps, Destroys: true, Reason: why, IPs: freed})
	c.releases(del.ID, append([]netip.Addr{o.PrimaryIP}, o.SecondaryIPs...))
	c.releases(del.ID, o.IPv6)
	for _, p := range o.Prefixes {
		c.releasingPrefix[p] = del.ID
	}
	c.footprints.set(o.ID, footprint{})
}

// orphans deletes the fleet's ENIs that the file no longer names, and lists
// the ENIs ecsnet does not own.
func (c *computer) orphans() {
	for _, o := range c.obs.ENIs {
		if c.claimed[o.ID] || o.Type == ENIPrimary || o.Status == ENIDeleting {
			continue
		}
		if o.Tags[TagFleet] == c.f.Name && o.Tags[TagENI] != "" {
			name := o.Tags[TagENI]
			if c.f.ENI(name) != nil {
				continue
			}
			if l := c.lock.Secondary(name); l != nil && l.Adopted && (l.ID == o.ID || l.ID == "") {
				// ecsnet never deletes an ENI it did not create.
				c.p.Unmanaged = append(c.p.Unmanaged, Unmanaged{ID: o.ID, Name: o.Name, InstanceID: o.InstanceID, IPs: append([]netip.Addr{o.PrimaryIP}, o.SecondaryIPs...)})
				c.p.Notes = append(c.p.Notes, fmt.Sprintf("ENI %s (%q) was adopted and is no longer in the desired state: ecsnet leaves it alone and never deletes it; add it back, or remove its ecsnet tags", o.ID, name))
				continue
			}
			c.remove(o, name, "no longer in the desired state")
			continue
		}
		if o.Tags[TagFleet] != "" {
			continue // another fleet's ENI
		}
		c.p.Unmanaged = append(c.p.Unmanaged, Unmanaged{ID: o.ID, Name: o.Name, InstanceID: o.InstanceID, IPs: append([]netip.Addr{o.PrimaryIP}, o.SecondaryIPs...)})
	}
}

// crossDeps adds the dependencies between ENIs: an address is released
// before it is assigned elsewhere, and ENIs leave an instance before others
// arrive (so its ENI quota holds at every step).
func (c *computer) crossDeps() {
	for _, w := range c.wants {
		h := c.holder[w.addr]
		if h == nil {
			continue
		}
		s := c.steps[w.step]
		if s.ENIID != "" && h.ID == s.ENIID {
			continue
		}
		rel, ok := c.releasing[w.addr]
		if !ok {
			owner := "ENI " + h.ID
			if h.Type == ENIPrimary {
				owner = "the primary ENI " + h.ID + " of instance " + h.InstanceID
			}
			c.errorf(w.pos, w.path, c.heldHint(h, w.addr), "%s is held by %s", w.addr, owner)
			continue
		}
		if !slices.Contains(s.DependsOn, rel) {
			s.DependsOn = append(s.DependsOn, rel)
		}
	}
	for inst, attaches := range c.attachTo {
		for _, a := range attaches {
			for _, d := range c.detachFrom[inst] {
				s := c.steps[a]
				if !slices.Contains(s.DependsOn, d) {
					s.DependsOn = append(s.DependsOn, d)
				}
			}
		}
	}
	c.prefixDeps()
	c.sameENIOrder()
	c.picksAfterPins()
	for _, s := range c.steps {
		slices.Sort(s.DependsOn)
		s.DependsOn = slices.Compact(s.DependsOn)
	}
}

// tooManyHint is the hint of an ENI that would carry more addresses than
// it may: --prune only where it would remove something.
func (c *computer) tooManyHint(d addrDiff) string {
	if len(d.unrecorded) > 0 && !c.opts.Prune {
		return fmt.Sprintf("ask for fewer addresses, or remove the ones the lock does not record (%s) with plan --prune", addrsString(d.unrecorded))
	}
	return "ask for fewer addresses"
}

// heldHint says how to free an address that an ENI holds and this plan
// does not release, naming only remedies that would work: plan --prune
// releases an address the lock does not record from an ENI of the desired
// state, and nothing of ecsnet's touches an adopted ENI the desired state
// no longer names.
func (c *computer) heldHint(h *ObservedENI, a netip.Addr) string {
	const other = "pick another address, or release it from that ENI first"
	var locked *schema.LockedENI
	var counted bool
	switch {
	case h.Type == ENIPrimary:
		in := c.f.Instance(c.instanceName(h.InstanceID))
		if in == nil {
			return other
		}
		locked, counted = c.lock.Primary(in.Name), in.Primary.Counted
	case h.Tags[TagFleet] == c.f.Name && h.Tags[TagENI] != "":
		name := h.Tags[TagENI]
		locked = c.lock.Secondary(name)
		e := c.f.ENI(name)
		switch {
		case e == nil && locked != nil && locked.Adopted:
			return fmt.Sprintf("ENI %s was adopted (ecsnet import) as %q, which the desired state no longer names, so ecsnet leaves it and its addresses alone: add it back to enis without this address, unassign the address by hand, or pick another address", h.ID, name)
		case e == nil || e.ID != "" && e.ID != h.ID:
			return other
		case e.ID == "" && (locked == nil || locked.ID != h.ID):
			// Created by ecsnet and never recorded: its addresses count as
			// recorded (ownedUnrecorded).
			locked = ownedUnrecorded(name, h, 0)
		}
		counted = e.Counted
	default:
		return other
	}
	if locked == nil || !locked.Has(a) {
		if c.opts.Prune {
			return other
		}
		return "it is on an ENI of this fleet but not recorded in the lock (added outside ecsnet): plan --prune releases it; or pick another address"
	}
	if counted {
		return "the cloud picked it for that ENI's secondaryIpCount, and the lock records it there: pick another address, or pin that ENI's addresses with secondaryIps, leaving this one out"
	}
	return other
}

// picksAfterPins orders, within each vSwitch, the steps that let the cloud
// pick addresses after the steps that pin addresses: the cloud picks any
// free address, and would otherwise take one that a pinned step is about to
// ask for (InvalidPrivateIpAddress.Duplicated). Only pins that depend on no
// pick are ordered so, which can never make a cycle; a pin that must wait
// for a pick (the eleventh pinned address of an ENI whose create let the
// cloud pick its primary) keeps a small window, which the next apply
// repairs.
func (c *computer) picksAfterPins() {
	vswitchOf := func(s *Step) string {
		switch {
		case s.Create != nil:
			return s.Create.VSwitchID
		case s.ENI != "":
			if e := c.f.ENI(s.ENI); e != nil {
				if v := c.f.VSwitch(e.VSwitch); v != nil {
					return v.ID
				}
			}
		case s.Target.Kind == TargetInstance:
			if in := c.f.Instance(s.Target.Name); in != nil {
				if v := c.f.VSwitch(in.Primary.VSwitch); v != nil {
					return v.ID
				}
			}
		}
		return ""
	}
	picks := func(s *Step) bool {
		switch s.Action {
		case CreateENI:
			return !s.Create.PrimaryIP.IsValid() || s.Create.Count > 0 || s.Create.IPv6Count > 0 || s.Create.PrefixCount > 0
		case AssignIPs, AssignPrefixes, AssignIPv6:
			return s.Count > 0
		}
		return false
	}
	pins := func(s *Step) bool {
		return s.Action == CreateENI && !picks(s) || (s.Action == AssignIPs || s.Action == AssignIPv6) && len(s.IPs) > 0 && s.Count == 0 ||
			s.Action == AssignPrefixes && len(s.Prefixes) > 0 && s.Count == 0
	}
	// pickAncestor memoises whether a step depends, at any depth, on a pick.
	memo := map[string]bool{}
	var pickAncestor func(id string) bool
	pickAncestor = func(id string) bool {
		if v, ok := memo[id]; ok {
			return v
		}
		memo[id] = false
		for _, d := range c.steps[id].DependsOn {
			if picks(c.steps[d]) || pickAncestor(d) {
				memo[id] = true
				break
			}
		}
		return memo[id]
	}
	// mixed steps pin some addresses and let the cloud pick others (a
	// create with a pinned primary and a count): pure picks wait for them
	// too. Two mixed steps in one vSwitch cannot both wait for the other;
	// that window stays.
	mixed := func(s *Step) bool {
		return s.Action == CreateENI && picks(s) && (s.Create.PrimaryIP.IsValid() || len(s.Create.IPs) > 0) ||
			s.Action == AssignIPs && s.Count > 0 && len(s.IPs) > 0
	}
	pinsBy := map[string][]string{}
	mixedBy := map[string][]string{}
	var pickIDs []string
	for id, s := range c.steps {
		switch {
		case pins(s) && !pickAncestor(id):
			pinsBy[vswitchOf(s)] = append(pinsBy[vswitchOf(s)], id)
		case picks(s):
			pickIDs = append(pickIDs, id)
			if mixed(s) && !pickAncestor(id) {
				mixedBy[vswitchOf(s)] = append(mixedBy[vswitchOf(s)], id)
			}
		}
	}
	for _, id := range pickIDs {
		s := c.steps[id]
		s.DependsOn = append(s.DependsOn, pinsBy[vswitchOf(s)]...)
		if !mixed(s) {
			s.DependsOn = append(s.DependsOn, mixedBy[vswitchOf(s)]...)
		}
	}
}

func modifySpec(o *ObservedENI, e *schema.ENI, sgIDs []string) *ModifySpec {
	var m ModifySpec
	changed := false
	have := slices.Clone(o.SecurityGroups)
	slices.Sort(have)
	if !slices.Equal(have, sgIDs) {
		m.SecurityGroupIDs, m.OldSecurityGroupIDs = sgIDs, have
		changed = true
	}
	if e.ID == "" && o.Name != e.Name {
		name, old := e.Name, o.Name
		m.Name, m.OldName = &name, &old
		changed = true
	}
	if o.Description != e.Description && e.Description != "" {
		desc, old := e.Description, o.Description
		m.Description, m.OldDescription = &desc, &old
		changed = true
	}
	// A queue number the cloud does not report (0) is left alone: there
	// is nothing to compare.
	if e.Queues > 0 && o.QueueNumber > 0 && o.QueueNumber != e.Queues {
		q, old := e.Queues, o.QueueNumber
		m.QueueNumber, m.OldQueueNumber = &q, &old
		changed = true
	}
	if !changed {
		return nil
	}
	return &m
}

func modifyReason(o *ObservedENI, m *ModifySpec) string {
	var parts []string
	if m.SecurityGroupIDs != nil {
		parts = append(parts, fmt.Sprintf("security groups %s → %s", strings.Join(o.SecurityGroups, ","), strings.Join(m.SecurityGroupIDs, ",")))
	}
	if m.Name != nil {
		parts = append(parts, fmt.Sprintf("name %q → %q", o.Name, *m.Name))
	}
	if m.Description != nil {
		parts = append(parts, fmt.Sprintf("description %q → %q", o.Description, *m.Description))
	}
	if m.QueueNumber != nil {
		parts = append(parts, fmt.Sprintf("queues %d → %d", o.QueueNumber, *m.QueueNumber))
	}
	return strings.Join(parts, "; ")
}

// Fingerprint digests the observed state of the given resources (instances
// and ENIs by ID, sorted), so apply can tell whether a saved plan is stale.
// A resource that has disappeared digests differently from one that is
// there. The digest covers the IDs too, so two different sets of resources
// never share a fingerprint. Its bytes are those of plan format_version 1,
// whose saved plans therefore still check (format.go).
func Fingerprint(obs *Observed, ids []string) string {
	h := sha256.New()
	// One buffer, appended to by hand: fmt per resource was a tenth of
	// planning a 20,000-instance fleet.
	var b []byte
	addrs := func(as []netip.Addr) {
		for i, a := range as {
			if i > 0 {
				b = append(b, ',')
			}
			b = a.AppendTo(b)
		}
	}
	str := func(parts ...string) {
		for _, p := range parts {
			b = append(b, p...)
			b = append(b, ' ')
		}
	}
	// extras digests issue 17's fields, only when there are any: the
	// fingerprint of a resource without them is the one it always was.
	// The queue number is left out: the cloud reports one for every ENI,
	// so it would make every plan saved before the upgrade stale, and a
	// modify sets it whatever it was.
	extras := func(v6 []netip.Addr, ps []netip.Prefix, card int) {
		if len(v6) == 0 && len(ps) == 0 && card == 0 {
			return
		}
		b = append(b, " v6="...)
		addrs(v6)
		b = append(b, " p="...)
		for i, p := range ps {
			if i > 0 {
				b = append(b, ',')
			}
			b = p.AppendTo(b)
		}
		b = append(b, " c="...)
		b = strconv.AppendInt(b, int64(card), 10)
	}
	for _, id := range ids {
		b = append(b[:0], id...)
		b = append(b, 0)
		if in := obs.Instance(id); in != nil {
			str("instance", in.Type, string(in.Status))
			b = in.PrimaryIP.AppendTo(b)
			b = append(b, ' ')
			addrs(in.SecondaryIPs)
			extras(in.IPv6, in.Prefixes, 0)
			b = append(b, 0)
		}
		if e := obs.ENI(id); e != nil {
			sgs := slices.Clone(e.SecurityGroups)
			slices.Sort(sgs)
			str("eni", string(e.Status), e.InstanceID, e.VSwitch)
			b = e.PrimaryIP.AppendTo(b)
			b = append(b, ' ')
			addrs(e.SecondaryIPs)
			b = append(b, ' ')
			str(strings.Join(sgs, ","))
			b = strconv.AppendQuote(b, e.Name)
			b = append(b, ' ')
			b = strconv.AppendQuote(b, e.Description)
			extras(e.IPv6, e.Prefixes, e.NetworkCard)
			b = append(b, 0)
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TouchedDigest digests the IDs (sorted) a fingerprint covers, without
// their state: when a saved plan's fingerprint differs from the plan made
// now, equal digests say that the same resources changed in the cloud.
func TouchedDigest(ids []string) string {
	h := sha256.New()
	for _, id := range ids {
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
