package plan

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ecsnet/ecsnet/internal/plural"
	"github.com/ecsnet/ecsnet/schema"
)

// This file plans what issue 17 added to an ENI beside its secondary IPv4
// addresses: IPv6 addresses (AssignIpv6Addresses, UnassignIpv6Addresses),
// /28 IPv4 prefixes (Ipv4Prefix.N / Ipv4PrefixCount of
// AssignPrivateIpAddresses and UnassignPrivateIpAddresses), the network
// card an ENI attaches to and its queue number. IPv6 addresses and
// prefixes follow the rules of the secondary addresses: pinned or
// counted, counted picks recorded in the lock, unrecorded ones left alone
// unless --prune, the highest released when a count shrinks.

// setDiff is what must change in one ENI's IPv6 addresses or prefixes.
type setDiff[T comparable] struct {
	add        []T // pinned values to assign
	addPos     []schema.Pos
	count      int // values for the cloud to pick
	remove     []T
	unrecorded []T // present, not wanted, not in the lock
	released   []T // counted values released by a shrink
	final      int // values after the change
}

// diffSet compares the wanted values (pinned, or a count) with those
// present; recorded says which the lock records. It mirrors diffAddrs,
// without the restoring of lost counted picks: a lost IPv6 address or
// prefix is picked again by the count.
func diffSet[T comparable](pinned []T, pos []schema.Pos, counted bool, count int, have []T, recorded func(T) bool, compare func(a, b T) int, prune bool) setDiff[T] {
	var d setDiff[T]
	if !counted {
		for _, a := range have {
			switch {
			case slices.Contains(pinned, a):
			case recorded(a):
				d.remove = append(d.remove, a)
			default:
				d.unrecorded = append(d.unrecorded, a)
			}
		}
		for i, a := range pinned {
			if !slices.Contains(have, a) {
				d.add = append(d.add, a)
				d.addPos = append(d.addPos, pos[i])
			}
		}
	} else {
		var managed []T
		for _, a := range have {
			if recorded(a) {
				managed = append(managed, a)
			} else {
				d.unrecorded = append(d.unrecorded, a)
			}
		}
		switch {
		case len(managed) < count:
			d.count = count - len(managed)
		case len(managed) > count:
			slices.SortFunc(managed, compare)
			d.released = slices.Clone(managed[count:])
			d.remove = append(d.remove, d.released...)
		}
	}
	if prune {
		d.remove = append(d.remove, d.unrecorded...)
	}
	idx := make([]int, len(d.add))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(x, y int) int { return compare(d.add[x], d.add[y]) })
	add, addPos := make([]T, len(idx)), make([]schema.Pos, len(idx))
	for i, k := range idx {
		add[i], addPos[i] = d.add[k], d.addPos[k]
	}
	d.add, d.addPos = add, addPos
	slices.SortFunc(d.remove, compare)
	slices.SortFunc(d.unrecorded, compare)
	d.final = len(have) + len(d.add) + d.count - len(d.remove)
	if counted && !prune {
		// As for counted IPv4 addresses: unrecorded values on a counted
		// ENI are most likely a lost lock write, which the assign's
		// ClientToken gets back.
		d.final -= min(len(d.unrecorded), d.count)
	}
	return d
}

func (d setDiff[T]) empty() bool { return len(d.add) == 0 && d.count == 0 && len(d.remove) == 0 }

func comparePrefix(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

func lockedHasV6(l *schema.LockedENI, a netip.Addr) bool {
	return l != nil && slices.ContainsFunc(l.IPv6, func(x schema.LockedAddr) bool { return x.Addr == a })
}

func lockedHasPrefix(l *schema.LockedENI, p netip.Prefix) bool {
	return l != nil && slices.ContainsFunc(l.Prefixes, func(x schema.LockedPrefix) bool { return x.Prefix == p })
}

func v6Pos(v schema.IPv6) ([]netip.Addr, []schema.Pos) {
	as, ps := make([]netip.Addr, len(v.Pinned)), make([]schema.Pos, len(v.Pinned))
	for i, a := range v.Pinned {
		as[i], ps[i] = a.Addr, a.Pos
	}
	return as, ps
}

func prefixPos(p schema.Prefixes) ([]netip.Prefix, []schema.Pos) {
	as, ps := make([]netip.Prefix, len(p.Pinned)), make([]schema.Pos, len(p.Pinned))
	for i, a := range p.Pinned {
		as[i], ps[i] = a.Prefix, a.Pos
	}
	return as, ps
}

func prefixesString(ps []netip.Prefix) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func lockedV6String(l *schema.LockedENI) string {
	if l == nil {
		return ""
	}
	as := make([]netip.Addr, len(l.IPv6))
	for i, a := range l.IPv6 {
		as[i] = a.Addr
	}
	return addrsString(as)
}

func lockedPrefixString(l *schema.LockedENI) string {
	if l == nil {
		return ""
	}
	ps := make([]netip.Prefix, len(l.Prefixes))
	for i, p := range l.Prefixes {
		ps[i] = p.Prefix
	}
	return prefixesString(ps)
}

// extraJob is one existing ENI (a secondary ENI or an instance's primary
// ENI) whose IPv6 addresses and prefixes extras plans.
type extraJob struct {
	target       Target
	eni          string // the file's name of a secondary ENI; "" for a primary ENI
	eniID        string
	host, hostID string // the instance it ends up on, for the reviewer
	path         string // "enis.\"x\"" or "instances.\"x\".primary"
	pos          schema.Pos
	vswitch      string // the file's vSwitch name
	v6           schema.IPv6
	pfx          schema.Prefixes
	haveV6       []netip.Addr
	havePfx      []netip.Prefix
	locked       *schema.LockedENI
	gen          int
	// quota is the type's, when the ENI is (or will be) on an instance;
	// v4final the secondary IPv4 addresses it carries after the plan and
	// capacity how many secondary IPv4 addresses and prefixes together it
	// may hold (each /28 prefix takes one of the ENI's private IPv4
	// slots, as the API counts them).
	quota    schema.InstanceType
	hasQuota bool
	v4final  int
	capacity int
	// detach and attach are the ENI's own steps in this plan, if any.
	detach, attach *Step
}

// extras plans an existing ENI's IPv6 and prefix changes.
func (c *computer) extras(x *extraJob) {
	v6pinned, v6pos := v6Pos(x.v6)
	dv6 := diffSet(v6pinned, v6pos, x.v6.Counted, x.v6.Count, x.haveV6, func(a netip.Addr) bool { return lockedHasV6(x.locked, a) }, netip.Addr.Compare, c.opts.Prune)
	ppinned, ppos := prefixPos(x.pfx)
	dp := diffSet(ppinned, ppos, x.pfx.Counted, x.pfx.Count, x.havePfx, func(p netip.Prefix) bool { return lockedHasPrefix(x.locked, p) }, comparePrefix, c.opts.Prune)
	c.noteUnrecordedExtra(x.target, x.eniID, dv6.unrecorded, dp.unrecorded)
	if dv6.empty() && dp.empty() {
		return
	}
	ok := true
	if len(dv6.add)+dv6.count > 0 {
		ok = c.checkIPv6Block(x.vswitch, x.path, x.v6) && ok
	}
	// 0 is a figure neither the cloud nor the tables report: the cloud
	// judges at apply.
	if x.hasQuota && x.quota.MaxIPv6PerENI > 0 && dv6.final > x.quota.MaxIPv6PerENI && !dv6.empty() {
		c.errorf(orPos(x.v6.CountPos, x.pos), x.path, "ask for fewer IPv6 addresses, or choose a type that allows more",
			"ENI %s would carry %d IPv6 %s, over its type %s's %d", x.eniID, dv6.final, plural.Word(dv6.final, "address", "addresses"), x.quota.Name, x.quota.MaxIPv6PerENI)
		ok = false
	}
	if !dp.empty() && x.v4final+dp.final > x.capacity {
		c.errorf(orPos(x.pfx.CountPos, x.pos), x.path, "ask for fewer prefixes or secondary addresses: each /28 prefix takes one of the ENI's private IPv4 address slots",
			"ENI %s would carry %d secondary %s and %d IPv4 %s, over the %d it may hold", x.eniID,
			x.v4final, plural.Word(x.v4final, "address", "addresses"), dp.final, plural.Word(dp.final, "prefix", "prefixes"), x.capacity)
		ok = false
	}
	if !ok {
		return
	}
	step := func(id string, a Action) *Step {
		s := &Step{ID: id + " " + x.target.String(), Action: a, Target: x.target, ENI: x.eni, ENIID: x.eniID, Instance: x.host, InstanceID: x.hostID}
		return c.add(s)
	}
	if len(dv6.remove) > 0 {
		un := step("unassign-ipv6", UnassignIPv6)
		un.IPs = dv6.remove
		un.Reason = removeSetReason(dv6, "IPv6 addresses", c.opts.Prune, addrsString)
		un.Drift = c.opts.Prune && len(dv6.remove) == len(dv6.unrecorded)
		c.releases(un.ID, dv6.remove)
	}
	if len(dv6.add) > 0 || dv6.count > 0 {
		s := step("assign-ipv6", AssignIPv6)
		s.IPs, s.Count = dv6.add, dv6.count
		s.Reason = addSetReason(len(dv6.add), dv6.count, "IPv6 address", "IPv6 addresses")
		s.Token = c.token(s.ID, x.gen, x.eniID, addrsString(dv6.add), fmt.Sprint(dv6.count), lockedV6String(x.locked))
		if x.attach != nil {
			s.DependsOn = append(s.DependsOn, x.attach.ID)
		}
		for i, a := range dv6.add {
			c.wants = append(c.wants, want{step: s.ID, addr: a, pos: dv6.addPos[i], path: x.path + ".ipv6Ips"})
		}
	}
	if len(dp.remove) > 0 {
		un := step("unassign-prefixes", UnassignPrefixes)
		un.Prefixes = dp.remove
		un.Reason = removeSetReason(dp, "prefixes", c.opts.Prune, prefixesString) + splitNote(len(dp.remove))
		un.Drift = c.opts.Prune && len(dp.remove) == len(dp.unrecorded)
		for _, p := range dp.remove {
			c.releasingPrefix[p] = un.ID
		}
		// Shed prefixes before the ENI leaves an instance or joins one
		// whose type allows fewer, as for addresses.
		if x.detach != nil {
			x.detach.DependsOn = append(x.detach.DependsOn, un.ID)
		}
		if x.attach != nil {
			x.attach.DependsOn = append(x.attach.DependsOn, un.ID)
		}
	}
	if len(dp.add) > 0 || dp.count > 0 {
		s := step("assign-prefixes", AssignPrefixes)
		s.Prefixes, s.Count = dp.add, dp.count
		s.Reason = addSetReason(len(dp.add), dp.count, "prefix", "prefixes") + splitNote(len(dp.add)+dp.count)
		s.Token = c.token(s.ID, x.gen, x.eniID, prefixesString(dp.add), fmt.Sprint(dp.count), lockedPrefixString(x.locked))
		if x.attach != nil {
			s.DependsOn = append(s.DependsOn, x.attach.ID)
		}
		for i, p := range dp.add {
			c.prefixWants = append(c.prefixWants, prefixWant{step: s.ID, prefix: p, pos: dp.addPos[i], path: x.path + ".ipv4Prefixes"})
		}
	}
}

// splitNote states how a prefix step splits into calls.
func splitNote(n int) string {
	if n <= PrefixesPerCall {
		return ""
	}
	calls := (n + PrefixesPerCall - 1) / PrefixesPerCall
	return fmt.Sprintf(" (%d prefixes in %d calls of at most %d)", n, calls, PrefixesPerCall)
}

func removeSetReason[T comparable](d setDiff[T], what string, prune bool, str func([]T) string) string {
	var parts []string
	if len(d.released) > 0 {
		parts = append(parts, fmt.Sprintf("the count shrank: releasing %s (the highest)", str(d.released)))
	}
	if len(d.remove)-len(d.released)-pruned(d, prune) > 0 {
		parts = append(parts, "no longer in the desired state")
	}
	if prune && len(d.unrecorded) > 0 {
		parts = append(parts, fmt.Sprintf("pruning %s the lock does not record: %s", what, str(d.unrecorded)))
	}
	return strings.Join(parts, "; ")
}

func pruned[T comparable](d setDiff[T], prune bool) int {
	if prune {
		return len(d.unrecorded)
	}
	return 0
}

func addSetReason(pinned, count int, one, many string) string {
	switch {
	case count > 0 && pinned > 0:
		return fmt.Sprintf("pinned %s missing, and %d for the cloud to pick", many, count)
	case count > 0:
		return fmt.Sprintf("%d more %s for the cloud to pick", count, plural.Word(count, one, many))
	}
	return "pinned " + many + " missing"
}

// noteUnrecordedExtra adds IPv6 addresses and prefixes the lock does not
// record to the plan's Unrecorded, beside the target's IPv4 ones.
func (c *computer) noteUnrecordedExtra(target Target, eniID string, v6 []netip.Addr, pfx []netip.Prefix) {
	if len(v6) == 0 && len(pfx) == 0 {
		return
	}
	if n := len(c.p.Unrecorded); n > 0 && c.p.Unrecorded[n-1].Target == target {
		u := &c.p.Unrecorded[n-1]
		u.IPs = append(u.IPs, v6...)
		u.Prefixes = append(u.Prefixes, pfx...)
		return
	}
	c.p.Unrecorded = append(c.p.Unrecorded, Unrecorded{Target: target, ENIID: eniID, IPs: v6, Prefixes: pfx, Pruned: c.opts.Prune})
}

// checkIPv6Block refuses IPv6 addresses on a vSwitch the cloud reports
// without an IPv6 block (the file's ipv6Cidr, if any, was compared with
// the cloud's by checkVSwitches).
func (c *computer) checkIPv6Block(vswName, path string, v schema.IPv6) bool {
	fv := c.f.VSwitch(vswName)
	if fv == nil {
		return true
	}
	if o := c.obs.VSwitch(fv.ID); o != nil && !o.IPv6CIDR.IsValid() {
		pos := v.CountPos
		if len(v.Pinned) > 0 {
			pos = v.Pinned[0].Pos
		}
		c.errorf(orPos(pos, fv.Pos), path, "enable IPv6 on the vSwitch (give it an IPv6 block in the VPC console or with the VPC API), or remove the ENI's IPv6 addresses",
			"vSwitch %q (%s) has no IPv6 block in the cloud, so no ENI in it can have IPv6 addresses", vswName, fv.ID)
		return false
	}
	return true
}

// sameENIOrder orders, per ENI, every step that adds addresses or
// prefixes after every step that removes some: IPv4 addresses and
// prefixes share the ENI's private IPv4 quota, and an unassign first keeps
// it at every step.
func (c *computer) sameENIOrder() {
	for _, s := range c.steps {
		if !s.Action.Assigns() {
			continue
		}
		for _, un := range []string{"unassign ", "unassign-ipv6 ", "unassign-prefixes "} {
			u := c.steps[un+s.Target.String()]
			if u == nil || !sameFamilyQuota(s.Action, u.Action) {
				continue
			}
			if !slices.Contains(s.DependsOn, u.ID) {
				s.DependsOn = append(s.DependsOn, u.ID)
			}
		}
	}
}

// sameFamilyQuota reports whether an unassign frees quota the assign
// needs: IPv6 has its own quota; IPv4 addresses and prefixes share one.
func sameFamilyQuota(assign, unassign Action) bool {
	return (assign == AssignIPv6) == (unassign == UnassignIPv6)
}

// prefixWant is a prefix a step assigns, which must be released first
// when another ENI holds it.
type prefixWant struct {
	step   string
	prefix netip.Prefix
	pos    schema.Pos
	path   string
}

// prefixDeps orders the assign of a prefix after the step that releases
// it from another ENI, and refuses a prefix another ENI keeps.
func (c *computer) prefixDeps() {
	for _, w := range c.prefixWants {
		h := c.prefixHolder[w.prefix]
		if h == nil {
			continue
		}
		s := c.steps[w.step]
		if s.ENIID != "" && h.ID == s.ENIID {
			continue
		}
		rel, ok := c.releasingPrefix[w.prefix]
		if !ok {
			c.errorf(w.pos, w.path, "pick another prefix, or release it from that ENI first", "prefix %s is held by ENI %s", w.prefix, h.ID)
			continue
		}
		if !slices.Contains(s.DependsOn, rel) {
			s.DependsOn = append(s.DependsOn, rel)
		}
	}
	// A prefix and an address overlap when the address is inside it: the
	// cloud refuses either while the other is held
	// (InvalidPrivateIpAddress.Duplicated).
	for _, w := range c.prefixWants {
		s := c.steps[w.step]
		for a := w.prefix.Masked().Addr(); w.prefix.Contains(a); a = a.Next() {
			if h := c.holder[a]; h != nil {
				c.overlapDep(s, c.releasing[a], w.pos, w.path, fmt.Sprintf("prefix %s takes %s, which is held by %s", w.prefix, a, holderName(h)))
			}
		}
	}
	for _, w := range c.wants {
		if !w.addr.Is4() {
			continue
		}
		p := netip.PrefixFrom(w.addr, prefixBits).Masked()
		if h := c.prefixHolder[p]; h != nil {
			c.overlapDep(c.steps[w.step], c.releasingPrefix[p], w.pos, w.path, fmt.Sprintf("%s is inside prefix %s, which is held by %s", w.addr, p, holderName(h)))
		}
	}
}

// overlapDep orders step s after rel, the step that frees what is in
// its way, or reports msg when nothing in the plan frees it.
func (c *computer) overlapDep(s *Step, rel string, pos schema.Pos, path, msg string) {
	if rel == "" {
		c.errorf(pos, path, "pick another address or prefix, or release the one in the way from that ENI first", "%s", msg)
		return
	}
	if !slices.Contains(s.DependsOn, rel) {
		s.DependsOn = append(s.DependsOn, rel)
	}
}

func holderName(h *ObservedENI) string {
	if h.Type == ENIPrimary {
		return "the primary ENI " + h.ID + " of instance " + h.InstanceID
	}
	return "ENI " + h.ID
}

// cardOf returns the network card an observed ENI is attached to: the
// cloud's Attachment.NetworkCardIndex when it reports one (an
// invitational preview most accounts do not get), else the card the lock
// records ecsnet attached it to.
func cardOf(o *ObservedENI, locked *schema.LockedENI) int {
	if o.NetworkCard != 0 {
		return o.NetworkCard
	}
	if locked != nil && locked.ID == o.ID {
		return locked.NetworkCard
	}
	return 0
}

// checkCard checks the file's networkCard against the type of the
// instance the ENI attaches to (NetworkCardQuantity).
func (c *computer) checkCard(e *schema.ENI, path string, oi *ObservedInstance) bool {
	if e.NetworkCard == 0 {
		return true
	}
	t, ok := c.quota(oi.Type)
	if !ok {
		return true
	}
	if e.NetworkCard >= max(t.NetworkCards, 1) {
		c.errorf(orPos(e.NetworkCardPos, e.AttachToPos), path+".networkCard", "use a card the type has (0 is always there), or choose a type with more network cards",
			"networkCard %d: instance %s's type %s has %d network %s (indexes 0 to %d)", e.NetworkCard, oi.ID, oi.Type,
			max(t.NetworkCards, 1), plural.Word(max(t.NetworkCards, 1), "card", "cards"), max(t.NetworkCards, 1)-1)
		return false
	}
	return true
}

// queues plans a change of an existing ENI's queue number, or refuses
// one the API cannot make: ModifyNetworkInterfaceAttribute changes
// QueueNumber only on a secondary ENI that is Available or attached to a
// Stopped instance
// (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifynetworkinterfaceattribute).
// An ENI this plan detaches gets it between the detach and the attach.
// An ENI whose queue number the cloud does not report is left alone.
func (c *computer) queues(j *eniJob, mod, detach, attach *Step) bool {
	e, o := j.e, j.o
	if mod == nil || mod.Modify == nil || mod.Modify.QueueNumber == nil {
		return true
	}
	if detach != nil {
		mod.DependsOn = append(mod.DependsOn, detach.ID)
		if attach != nil {
			attach.DependsOn = append(attach.DependsOn, mod.ID)
		}
		return true
	}
	if o.InstanceID == "" || o.Status == ENIAvailable {
		if attach != nil {
			attach.DependsOn = append(attach.DependsOn, mod.ID)
		}
		return true
	}
	if oi := c.obs.Instance(o.InstanceID); oi != nil && oi.Status == InstanceStopped {
		return true
	}
	c.errorf(orPos(e.QueuesPos, e.Pos), j.path+".queues", "stop the instance yourself, then apply (ecsnet never stops instances); or detach the ENI (remove attachTo), apply, and attach it again",
		"ENI %s is attached to a running instance (%s): the cloud changes an ENI's queue number (%d → %d) only while the ENI is Available or its instance is Stopped",
		o.ID, o.InstanceID, o.QueueNumber, e.Queues)
	return false
}

// checkQueues checks the file's queues against the type's
// MaximumQueueNumberPerEni.
func (c *computer) checkQueues(e *schema.ENI, path string, oi *ObservedInstance) bool {
	if e.Queues == 0 || oi == nil {
		return true
	}
	if t, ok := c.quota(oi.Type); ok && t.MaxQueuesPerENI > 0 && e.Queues > t.MaxQueuesPerENI {
		c.errorf(orPos(e.QueuesPos, e.Pos), path+".queues", fmt.Sprintf("use at most %d queues", t.MaxQueuesPerENI),
			"queues %d is over instance %s's type %s maximum of %d per ENI", e.Queues, oi.ID, oi.Type, t.MaxQueuesPerENI)
		return false
	}
	return true
}

// createExtras puts a new ENI's IPv6 addresses, prefixes and queue number
// on its create, as far as CreateNetworkInterface takes them (at most ten
// of each; prefixes only when the create asks for no secondary IPv4
// address), and plans assign steps for the rest.
func (c *computer) createExtras(e *schema.ENI, target Target, spec *CreateSpec, create, attach *Step, inst *schema.Instance, oi *ObservedInstance, gen int) {
	path := fmt.Sprintf("enis.%q", e.Name)
	spec.QueueNumber = e.Queues
	max := c.opts.CreateMaxSecondaryIPs
	var restV6 []netip.Addr
	restV6Count := 0
	if e.IPv6.N() > 0 && !c.checkIPv6Block(e.VSwitch, path, e.IPv6) {
		return
	}
	if oi != nil {
		if t, ok := c.quota(oi.Type); ok {
			if t.MaxIPv6PerENI > 0 && e.IPv6.N() > t.MaxIPv6PerENI {
				c.errorf(orPos(e.IPv6.CountPos, e.Pos), path, "ask for fewer IPv6 addresses, or choose a type that allows more",
					"ENI %s would carry %d IPv6 addresses, over instance %s's type %s's %d", e.Name, e.IPv6.N(), oi.ID, oi.Type, t.MaxIPv6PerENI)
				return
			}
			if n := e.N() + e.Prefixes.N(); e.Prefixes.N() > 0 && n > t.MaxIPsPerENI-1 {
				c.errorf(orPos(e.Prefixes.CountPos, e.Pos), path, "ask for fewer prefixes or secondary addresses: each /28 prefix takes one of the ENI's private IPv4 address slots",
					"ENI %s would carry %d secondary addresses and %d IPv4 prefixes, over the %d instance %s's type %s allows", e.Name, e.N(), e.Prefixes.N(), t.MaxIPsPerENI-1, oi.ID, oi.Type)
				return
			}
		}
	}
	if e.IPv6.Counted {
		spec.IPv6Count = min(e.IPv6.Count, max)
		restV6Count = e.IPv6.Count - spec.IPv6Count
	} else {
		pinned := e.IPv6.PinnedAddrs()
		slices.SortFunc(pinned, netip.Addr.Compare)
		spec.IPv6 = pinned[:min(len(pinned), max)]
		restV6 = pinned[len(spec.IPv6):]
	}
	var restP []netip.Prefix
	restPCount := 0
	pinnedP := e.Prefixes.PinnedPrefixes()
	slices.SortFunc(pinnedP, comparePrefix)
	if len(spec.IPs) == 0 && spec.Count == 0 {
		if e.Prefixes.Counted {
			spec.PrefixCount = min(e.Prefixes.Count, PrefixesPerCall)
			restPCount = e.Prefixes.Count - spec.PrefixCount
		} else {
			spec.Prefixes = pinnedP[:min(len(pinnedP), PrefixesPerCall)]
			restP = pinnedP[len(spec.Prefixes):]
		}
	} else if e.Prefixes.Counted {
		restPCount = e.Prefixes.Count
	} else {
		restP = pinnedP
	}
	for _, p := range e.Prefixes.Pinned {
		if slices.Contains(spec.Prefixes, p.Prefix) {
			c.prefixWants = append(c.prefixWants, prefixWant{step: create.ID, prefix: p.Prefix, pos: p.Pos, path: path + ".ipv4Prefixes"})
		}
	}
	for _, a := range e.IPv6.Pinned {
		if slices.Contains(spec.IPv6, a.Addr) {
			c.wants = append(c.wants, want{step: create.ID, addr: a.Addr, pos: a.Pos, path: path + ".ipv6Ips"})
		}
	}
	after := func(s *Step) {
		s.DependsOn = append(s.DependsOn, create.ID)
		if attach != nil {
			s.DependsOn = append(s.DependsOn, attach.ID)
		}
	}
	if len(restV6) > 0 || restV6Count > 0 {
		s := c.add(&Step{ID: "assign-ipv6 " + target.String(), Action: AssignIPv6, Target: target, ENI: e.Name, IPs: restV6, Count: restV6Count,
			Instance: attachName(inst), InstanceID: attachID(oi), Reason: fmt.Sprintf("more IPv6 addresses than CreateNetworkInterface takes (%d)", max)})
		after(s)
		s.Token = c.token(s.ID, gen, "new", addrsString(restV6), fmt.Sprint(restV6Count))
		for _, a := range e.IPv6.Pinned {
			if slices.Contains(restV6, a.Addr) {
				c.wants = append(c.wants, want{step: s.ID, addr: a.Addr, pos: a.Pos, path: path + ".ipv6Ips"})
			}
		}
	}
	if len(restP) > 0 || restPCount > 0 {
		why := fmt.Sprintf("more prefixes than CreateNetworkInterface takes (%d)", PrefixesPerCall)
		if len(spec.IPs) > 0 || spec.Count > 0 {
			why = "CreateNetworkInterface takes prefixes only without secondary addresses"
		}
		s := c.add(&Step{ID: "assign-prefixes " + target.String(), Action: AssignPrefixes, Target: target, ENI: e.Name, Prefixes: restP, Count: restPCount,
			Instance: attachName(inst), InstanceID: attachID(oi), Reason: why + splitNote(len(restP)+restPCount)})
		after(s)
		if a := c.steps["assign "+target.String()]; a != nil {
			// One AssignPrivateIpAddresses at a time on an ENI
			// (Operation.Conflict otherwise).
			s.DependsOn = append(s.DependsOn, a.ID)
		}
		s.Token = c.token(s.ID, gen, "new", prefixesString(restP), fmt.Sprint(restPCount))
		for _, p := range e.Prefixes.Pinned {
			if slices.Contains(restP, p.Prefix) {
				c.prefixWants = append(c.prefixWants, prefixWant{step: s.ID, prefix: p.Prefix, pos: p.Pos, path: path + ".ipv4Prefixes"})
			}
		}
	}
}

// createExtrasString is the part of a create's ClientToken content that
// issue 17 added; "" for a create without any of it.
func createExtrasString(spec *CreateSpec) string {
	if len(spec.IPv6) == 0 && spec.IPv6Count == 0 && len(spec.Prefixes) == 0 && spec.PrefixCount == 0 && spec.QueueNumber == 0 {
		return ""
	}
	return fmt.Sprintf("v6=%s/%d p=%s/%d q=%d", addrsString(spec.IPv6), spec.IPv6Count, prefixesString(spec.Prefixes), spec.PrefixCount, spec.QueueNumber)
}

// primaryExtras plans the IPv6 addresses and prefixes of an instance's
// primary ENI; v4final is its secondary IPv4 addresses after the plan.
func (c *computer) primaryExtras(in *schema.Instance, oi *ObservedInstance, locked *schema.LockedENI, v4final int) {
	path := fmt.Sprintf("instances.%q.primary", in.Name)
	if in.Primary.IPv6.N() == 0 && in.Primary.Prefixes.N() == 0 && len(oi.IPv6) == 0 && len(oi.Prefixes) == 0 {
		return
	}
	x := &extraJob{target: InstanceTarget(in.Name), eniID: oi.PrimaryENI, host: in.Name, hostID: in.ID, path: path, pos: in.Primary.Pos,
		vswitch: in.Primary.VSwitch, v6: in.Primary.IPv6, pfx: in.Primary.Prefixes, haveV6: oi.IPv6, havePfx: oi.Prefixes,
		locked: locked, v4final: v4final, capacity: 1 << 30}
	if locked != nil {
		x.gen = locked.Generation
	}
	if t, ok := c.quota(oi.Type); ok {
		x.quota, x.hasQuota, x.capacity = t, true, t.MaxIPsPerENI-1
	}
	if !canChangeAddrsOf(oi.Status) && (in.Primary.IPv6.N() != len(oi.IPv6) || in.Primary.Prefixes.N() != len(oi.Prefixes)) {
		c.errorf(in.Pos, path, "wait until the instance is Running or Stopped, then plan again",
			"instance %s is %s: the IPv6 addresses and prefixes of its primary ENI can change only while it is Running or Stopped", in.ID, oi.Status)
		return
	}
	c.extras(x)
}

// eniExtras plans the IPv6 addresses and prefixes of an existing
// secondary ENI; v4final is its secondary IPv4 addresses after the plan.
func (c *computer) eniExtras(j *eniJob, detach, attach *Step, v4final int) {
	e, o := j.e, j.o
	if e.IPv6.N() == 0 && e.Prefixes.N() == 0 && len(o.IPv6) == 0 && len(o.Prefixes) == 0 {
		return
	}
	locked := j.locked
	if e.ID == "" && (locked == nil || locked.ID != o.ID) {
		locked = ownedUnrecorded(e.Name, o, j.gen)
	}
	host, hostID := j.host()
	x := &extraJob{target: j.target, eni: e.Name, eniID: o.ID, host: host, hostID: hostID, path: j.path, pos: e.Pos,
		vswitch: e.VSwitch, v6: e.IPv6, pfx: e.Prefixes, haveV6: o.IPv6, havePfx: o.Prefixes,
		locked: locked, gen: j.gen, v4final: v4final, capacity: c.f.Limits.UnboundENIMaxSecondaryIPs, detach: detach, attach: attach}
	if j.oi != nil {
		if t, ok := c.quota(j.oi.Type); ok {
			x.quota, x.hasQuota, x.capacity = t, true, t.MaxIPsPerENI-1
		}
	}
	c.extras(x)
}

// prefixBits is the length of an IPv4 prefix ENIs take (a /28).
const prefixBits = 28

// takenPrefixes returns the /28s whose addresses are not free for choose:
// the file's pinned prefixes, the prefixes the cloud holds (held) and
// those the lock records.
func takenPrefixes(f *schema.Fleet, held map[netip.Prefix]*ObservedENI, lock *schema.Lock) map[netip.Prefix]bool {
	m := map[netip.Prefix]bool{}
	add := func(p netip.Prefix) {
		if p.IsValid() && p.Addr().Is4() && p.Bits() <= prefixBits {
			// A /28 is the only size ENIs take; a shorter one (never
			// valid here) still marks its first /28.
			m[netip.PrefixFrom(p.Addr(), prefixBits).Masked()] = true
		}
	}
	for _, in := range f.Instances {
		for _, p := range in.Primary.Prefixes.Pinned {
			add(p.Prefix)
		}
	}
	for _, e := range f.ENIs {
		for _, p := range e.Prefixes.Pinned {
			add(p.Prefix)
		}
	}
	for p := range held {
		add(p)
	}
	for _, l := range lock.ENIs {
		for _, p := range l.Prefixes {
			add(p.Prefix)
		}
	}
	return m
}
