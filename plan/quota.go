package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ecsnet/ecsnet/internal/plural"
	"github.com/ecsnet/ecsnet/schema"
)

// footprint is what one ENI holds in its security groups once the plan has
// run: its private addresses (primary included) and its groups.
type footprint struct {
	addrs  int
	groups []string   // sorted IDs; nil keeps the groups observed
	pos    schema.Pos // where the desired state names the ENI; zero for a removal
}

// footprints records the ENIs this plan creates, removes, or whose
// addresses or groups it changes, for the security groups' totals; an
// observed ENI it leaves alone keeps what the cloud reports.
type footprints struct {
	byID    map[string]footprint // observed ENIs, by ID; addrs 0 when removed
	created []footprint
}

func (f *footprints) set(id string, fp footprint) {
	if f.byID == nil {
		f.byID = map[string]footprint{}
	}
	f.byID[id] = fp
}

// groupsOf returns the groups an ENI ends up in, never nil: nil would keep
// the groups observed.
func groupsOf(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// maxNamed caps how many foreign ENIs an error lists.
const maxNamed = 10

// checkQuotas refuses a plan that would take an instance past its type's
// ENI quota, or a security group past its address limit, counting the ENIs
// and addresses ecsnet does not own (made by hand, by another tool, by
// another fleet). The schema's offline checks count the desired state
// alone; the cloud counts everything, and without this the plan would look
// clean and apply would fail half-way (EniPerInstanceLimitExceeded,
// SecurityGroupInstanceLimitExceed), leaving a created ENI unattached.
//
// Only the state after the plan is checked: crossDeps orders every detach
// from an instance before the attaches to it, and releasesFirst, in a
// group that would otherwise peak past its limit, every step that adds
// addresses to the group after the steps that free addresses in it, so
// neither count ever peaks above the larger of before and after.
func (c *computer) checkQuotas() {
	c.enisPerInstance()
	c.groupTotals()
}

// enisPerInstance checks each instance this plan attaches ENIs to against
// its type's live EniQuantity.
func (c *computer) enisPerInstance() {
	for _, in := range c.f.Instances {
		oi := c.obs.Instance(in.ID)
		if oi == nil || len(c.attachTo[oi.ID]) == 0 {
			continue
		}
		t, ok := c.quota(oi.Type)
		if !ok {
			continue
		}
		leaving := map[string]bool{}
		for _, id := range c.detachFrom[oi.ID] {
			leaving[c.steps[id].ENIID] = true
		}
		n := 1 + len(c.attachTo[oi.ID]) // the primary and the arrivals
		var foreign []string
		for _, e := range c.obs.ENIsOf(oi.ID) {
			if e.Type == ENIPrimary || e.ID == oi.PrimaryENI || leaving[e.ID] {
				continue
			}
			n++
			if !c.claimed[e.ID] {
				foreign = append(foreign, e.ID)
			}
		}
		if n <= t.MaxENIs {
			continue
		}
		msg := fmt.Sprintf("instance %s (%s) would have %d ENIs after this plan, the primary included; its type %s allows %d",
			in.Name, oi.ID, n, oi.Type, t.MaxENIs)
		hint := "attach fewer ENIs to it, or choose a larger type"
		if len(foreign) > 0 {
			msg += fmt.Sprintf(": %s: %s", ofThem(len(foreign)), nameSome(foreign))
			hint = "detach the ENIs ecsnet does not own from it, " + hint
		}
		e := &schema.Error{Pos: in.Pos, Path: fmt.Sprintf("instances.%q", in.Name), Msg: msg, Hint: hint}
		for _, id := range c.attachTo[oi.ID] {
			if fe := c.f.ENI(c.steps[id].ENI); fe != nil {
				e.Related = append(e.Related, fe.AttachToPos)
			}
		}
		c.errs = append(c.errs, e)
	}
}

// groupTotals checks each of the fleet's security groups that this plan
// adds addresses to against limits.securityGroupMaxIps, over every ENI in
// the group: the primary ENIs of instances outside the fleet and the ENIs
// ecsnet does not own count as the cloud reports them.
func (c *computer) groupTotals() {
	limit := c.f.Limits.SecurityGroupMaxIPs
	if limit <= 0 || len(c.f.SecurityGroups) == 0 || len(c.footprints.byID)+len(c.footprints.created) == 0 {
		return // nothing changes: no group grows
	}
	t := c.tallyGroups()
	for _, g := range c.f.SecurityGroups {
		n := t.totals[g.ID]
		switch {
		case n == nil:
		case n.after > limit && n.after > n.before:
			c.errs = append(c.errs, groupError(g, n, limit))
		case n.before+n.grown > limit && n.after <= limit:
			// It fits at the end, but not if the additions ran first
			// (a replaced ENI's create before its delete).
			c.releasesFirst(g.ID)
		}
	}
}

// releasesFirst makes every step that adds addresses to the group wait
// for every step that frees addresses in it (unassigns and deletes). Those
// depend on nothing but detaches and unassigns, so no cycle can form. A
// modify that takes an ENI out of the group is not waited for: the plan
// then relies on the order the executor picks.
func (c *computer) releasesFirst(group string) {
	var frees []string
	var adds []*Step
	for _, s := range c.steps {
		switch s.Action {
		case UnassignIPs, DeleteENI:
			if slices.Contains(c.groupsBefore(s.ENIID), group) {
				frees = append(frees, s.ID)
			}
		case CreateENI:
			if slices.Contains(s.Create.SecurityGroupIDs, group) {
				adds = append(adds, s)
			}
		case AssignIPs:
			if slices.Contains(c.groupsAfter(s), group) {
				adds = append(adds, s)
			}
		case ModifyENI:
			if m := s.Modify; m.SecurityGroupIDs != nil && slices.Contains(m.SecurityGroupIDs, group) && !slices.Contains(m.OldSecurityGroupIDs, group) {
				adds = append(adds, s)
			}
		}
	}
	for _, s := range adds {
		s.DependsOn = append(s.DependsOn, frees...)
		slices.Sort(s.DependsOn)
		s.DependsOn = slices.Compact(s.DependsOn)
	}
}

// groupsBefore returns the groups of an observed ENI, primary or not.
func (c *computer) groupsBefore(id string) []string {
	if e := c.obs.ENI(id); e != nil {
		return e.SecurityGroups
	}
	for _, in := range c.obs.Instances {
		if in.PrimaryENI == id {
			return in.SecurityGroups
		}
	}
	return nil
}

// groupsAfter returns the groups of the ENI an assign adds to, as the plan
// leaves them: a new ENI's are its create's.
func (c *computer) groupsAfter(s *Step) []string {
	if s.ENIID == "" {
		if cr := c.steps["create "+s.Target.String()]; cr != nil && cr.Create != nil {
			return cr.Create.SecurityGroupIDs
		}
		return nil
	}
	if fp, ok := c.footprints.byID[s.ENIID]; ok && fp.groups != nil {
		return fp.groups
	}
	return c.groupsBefore(s.ENIID)
}

// groupTotal is one security group's address count before and after the
// plan, the foreign ENIs in it, and where the desired state adds to it.
type groupTotal struct {
	before, after int
	grown         int // the additions alone, as if they all ran first
	foreign       []*ObservedENI
	growing       []schema.Pos
}

// groupTally counts the addresses of the fleet's security groups.
type groupTally struct {
	inFleet map[string]bool
	totals  map[string]*groupTotal
}

// tallyGroups counts every ENI observed, and every ENI this plan creates,
// in the fleet's groups before and after the plan.
func (c *computer) tallyGroups() *groupTally {
	t := &groupTally{inFleet: make(map[string]bool, len(c.f.SecurityGroups)), totals: map[string]*groupTotal{}}
	for _, g := range c.f.SecurityGroups {
		t.inFleet[g.ID] = true
	}
	// The primary ENIs of the fleet's instances are the fleet's: ecsnet
	// manages their secondary addresses.
	fleetPrimary := make(map[string]bool, len(c.f.Instances))
	for _, in := range c.f.Instances {
		if oi := c.obs.Instance(in.ID); oi != nil {
			fleetPrimary[oi.PrimaryENI] = true
		}
	}
	observe := func(e *ObservedENI) {
		now := footprint{addrs: 1 + len(e.SecondaryIPs)}
		after, changed := c.footprints.byID[e.ID]
		var foreign *ObservedENI
		if !changed {
			after = now
			if !c.claimed[e.ID] && !fleetPrimary[e.ID] {
				foreign = e
			}
		}
		t.count(now, after, e.SecurityGroups, foreign)
	}
	for _, e := range c.obs.ENIs {
		if e.Status != ENIDeleting { // on its way out
			observe(e)
		}
	}
	// Primary ENIs reported only through DescribeInstances.
	for _, in := range c.obs.Instances {
		if in.PrimaryENI != "" && c.obs.ENI(in.PrimaryENI) == nil {
			observe(&ObservedENI{ID: in.PrimaryENI, Type: ENIPrimary, InstanceID: in.ID, PrimaryIP: in.PrimaryIP,
				SecondaryIPs: in.SecondaryIPs, SecurityGroups: in.SecurityGroups})
		}
	}
	for _, fp := range c.footprints.created {
		t.count(footprint{}, fp, nil, nil)
	}
	return t
}

// count adds one ENI: before in the groups observed, after in its groups
// after the plan. foreign is the ENI when ecsnet does not own it.
func (t *groupTally) count(before, after footprint, observed []string, foreign *ObservedENI) {
	get := func(id string) *groupTotal {
		n := t.totals[id]
		if n == nil {
			n = &groupTotal{}
			t.totals[id] = n
		}
		return n
	}
	for _, g := range observed {
		if t.inFleet[g] {
			get(g).before += before.addrs
		}
	}
	groups := after.groups
	if groups == nil {
		groups = observed
	}
	for _, g := range groups {
		if !t.inFleet[g] || after.addrs == 0 {
			continue
		}
		n := get(g)
		n.after += after.addrs
		growth := after.addrs
		if slices.Contains(observed, g) {
			growth -= before.addrs
		}
		n.grown += max(0, growth)
		if foreign != nil {
			n.foreign = append(n.foreign, foreign)
		}
		if after.pos.IsValid() && (after.addrs > before.addrs || !slices.Contains(observed, g)) {
			n.growing = append(n.growing, after.pos)
		}
	}
}

// groupError reports a group the plan would take past its limit.
func groupError(g *schema.SecurityGroup, t *groupTotal, limit int) *schema.Error {
	msg := fmt.Sprintf("security group %q (%s) would hold %d private addresses after this plan, over its limit of %d", g.Name, g.ID, t.after, limit)
	hint := fmt.Sprintf("ask for fewer addresses in the group, or spread its ENIs over more groups; raise limits.securityGroupMaxIps only for an advanced group (65,536; a basic group holds %d)", schema.DefaultSecurityGroupMaxIPs)
	if len(t.foreign) > 0 {
		n := 0
		for _, e := range t.foreign {
			n += 1 + len(e.SecondaryIPs)
		}
		// The largest first: they take the most room.
		slices.SortStableFunc(t.foreign, func(a, b *ObservedENI) int { return len(b.SecondaryIPs) - len(a.SecondaryIPs) })
		named := make([]string, len(t.foreign))
		for i, e := range t.foreign {
			named[i] = fmt.Sprintf("%s (%d)", e.ID, 1+len(e.SecondaryIPs))
		}
		msg += fmt.Sprintf(": %d of them are on %s ecsnet does not own: %s", n, plural.Count(len(t.foreign), "ENI", "ENIs"), nameSome(named))
		hint = "free addresses on the ENIs ecsnet does not own or take them out of the group, " + hint
	}
	slices.SortFunc(t.growing, schema.Pos.Compare)
	return &schema.Error{Pos: g.Pos, Path: fmt.Sprintf("securityGroups.%q", g.Name), Msg: msg, Hint: hint, Related: t.growing}
}

// ofThem says how many of a quota's units ENIs ecsnet does not own take.
func ofThem(n int) string {
	if n == 1 {
		return "1 of them is an ENI ecsnet does not own"
	}
	return fmt.Sprintf("%d of them are ENIs ecsnet does not own", n)
}

// nameSome joins IDs, naming at most maxNamed of them.
func nameSome(ids []string) string {
	if len(ids) <= maxNamed {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:maxNamed], ", "), len(ids)-maxNamed)
}
