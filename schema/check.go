package schema

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ecsnet/ecsnet/internal/plural"
)

// check runs the semantic rules on a decoded fleet: references, addresses,
// per-type quotas, and the fleet-wide rules (duplicates, IPv4 and IPv6;
// prefixes that repeat or hold an address; security-group totals, vSwitch
// capacity, ENIs per instance). The fleet-wide rules are Go
// on purpose: in CUE they grow as n^2.5 (cue-notes.md §5).
func check(f *Fleet) Errors {
	n := 0
	for _, in := range f.Instances {
		n += 1 + len(in.Primary.Pinned)
	}
	for _, e := range f.ENIs {
		n += 1 + len(e.Pinned)
	}
	c := &checker{f: f, seen4: make(map[uint32]int32, n), uses: make([]use, 0, n)}
	c.vswitches()
	c.groups()
	for _, in := range f.Instances {
		c.instance(in)
	}
	for _, e := range f.ENIs {
		c.eni(e)
	}
	c.enisPerInstance()
	c.overlaps()
	c.groupTotals()
	c.capacity()
	return c.errs
}

type checker struct {
	f    *Fleet
	errs Errors
	// Every address in the fleet, for duplicates: the index of its first
	// use in uses. IPv4 addresses are keyed by their 32 bits, which keeps
	// the map of a 20,000-instance fleet's 660,000 addresses small and
	// quick to fill; anything else (refused elsewhere) falls back to seen.
	seen4  map[uint32]int32
	seen   map[netip.Addr]int32
	uses   []use
	sg     map[string]int // security group name -> private addresses
	vsw    map[string]int // vSwitch name -> addresses wanted
	idSeen map[string]use // instance and ENI IDs
	// prefixUses holds every pinned IPv4 prefix, for the overlap check.
	prefixUses []prefixUse
	// columns says, per instance name, which of a type row's optional
	// columns its ENIs need; built on the first unknown type's hint.
	columns map[string]typeColumns
}

// use records where a value was first seen.
type use struct {
	pos   Pos
	where string // the field's path
	idx   int32  // the index in a list, or -1
}

func (u use) path() string {
	if u.idx < 0 {
		return u.where
	}
	return u.where + "[" + strconv.Itoa(int(u.idx)) + "]"
}

func (c *checker) errorf(pos Pos, p string, hint, format string, args ...any) *Error {
	e := &Error{Pos: pos, Path: p, Msg: fmt.Sprintf(format, args...), Hint: hint}
	c.errs = append(c.errs, e)
	return e
}

// fleetf reports a violation of a fleet-wide rule.
func (c *checker) fleetf(pos Pos, p string, hint, format string, args ...any) *Error {
	e := c.errorf(pos, p, hint, format, args...)
	e.FleetWide = true
	return e
}

func (c *checker) vswitches() {
	regionWrong := c.region()
	ids := map[string]*VSwitch{}
	for _, v := range c.f.VSwitches {
		p := path{"vswitches", v.Name}
		if prev := ids[v.ID]; prev != nil && v.ID != "" {
			c.fleetf(v.IDPos, p.field("id").String(), "each vSwitch appears once; refer to it by one name", "vSwitch %s is also named %q (at %s)", v.ID, prev.Name, prev.IDPos).Related = []Pos{prev.IDPos}
		} else {
			ids[v.ID] = v
		}
		switch {
		case v.Zone == "" && v.ZonePos.IsValid():
			hint := "copy the vSwitch's zone from the console"
			if c.f.Region != "" && !regionWrong {
				hint += fmt.Sprintf(", e.g. %s%sh", c.f.Region, zoneSep(c.f.Region))
			}
			c.errorf(v.ZonePos, p.field("zone").String(), hint, "zone is empty")
		case v.Zone != "" && c.f.Region != "" && !regionWrong && !inRegion(v.Zone, c.f.Region):
			// Zones are the region plus a letter: cn-hangzhou-h, but
			// ap-southeast-1a when the region ends in a digit.
			r := c.f.Region
			example := r + zoneSep(r) + "h"
			if zoneSep(r) == "" {
				example = r + "a"
			}
			c.errorf(v.ZonePos, p.field("zone").String(), fmt.Sprintf("a zone of %s is the region's name and a letter, like %s; copy the vSwitch's zone from the console", r, example),
				"zone %q is not a zone of region %q", v.Zone, r)
		}
	}
}

// region reports a region that is likely the mistake when the vSwitches'
// zones disagree with it: a region ecsnet does not know that none of the
// zones is in ("cn-hangzou" with zones in cn-hangzhou). It is reported
// once, at the region, and returns true so that the zones are not each
// reported against it. A known region, or one that some zone is in, is
// taken as meant, and the zones that disagree are the errors.
func (c *checker) region() bool {
	r := c.f.Region
	if r == "" || knownRegion(r) {
		return false
	}
	var zones []Pos
	implied := map[string]bool{}
	var vsws []string
	for _, v := range c.f.VSwitches {
		if v.Zone == "" {
			continue
		}
		if inRegion(v.Zone, r) {
			return false
		}
		zones = append(zones, v.ZonePos)
		implied[zoneRegion(v.Zone)] = true
		vsws = append(vsws, v.Name)
	}
	if len(zones) == 0 {
		return false
	}
	var hint string
	if len(implied) == 1 {
		z := zoneRegion(c.f.VSwitches[0].Zone)
		for _, v := range c.f.VSwitches {
			if v.Zone != "" {
				z = zoneRegion(v.Zone)
				break
			}
		}
		if z != "" && (knownRegion(z) || suggest(r, []string{z}) != "") {
			what := "vSwitch " + vsws[0] + " is"
			if len(vsws) > 1 {
				what = "vSwitches " + strings.Join(vsws, ", ") + " are"
			}
			hint = fmt.Sprintf("did you mean %q? (%s in zones of %s; if the fleet really is in %s, correct the zones instead)", z, what, z, r)
		}
	}
	if hint == "" {
		if sg := suggest(r, knownRegions); sg != "" {
			hint = fmt.Sprintf("did you mean %q? If not, write the region the vSwitches are in: a zone's region is its ID without the last letter (cn-hangzhou-h is in cn-hangzhou)", sg)
		} else {
			hint = "write the region the vSwitches are in: a zone's region is its ID without the last letter (cn-hangzhou-h is in cn-hangzhou)"
		}
	}
	c.errorf(c.f.RegionPos, "region", hint, "region %q is not one ecsnet knows, and no vSwitch's zone is in it", r).Related = zones
	return true
}

func (c *checker) groups() {
	ids := map[string]*SecurityGroup{}
	for _, g := range c.f.SecurityGroups {
		if prev := ids[g.ID]; prev != nil && g.ID != "" {
			c.fleetf(g.IDPos, path{"securityGroups", g.Name, "id"}.String(), "each security group appears once; refer to it by one name",
				"security group %s is also named %q (at %s)", g.ID, prev.Name, prev.IDPos).Related = []Pos{prev.IDPos}
		} else {
			ids[g.ID] = g
		}
	}
}

// groupRefs checks references to security groups and counts addresses
// towards each group's quota.
func (c *checker) groupRefs(refs []string, poss []Pos, p path, addrs int) {
	seen := map[string]bool{}
	for i, name := range refs {
		pos := poss[i]
		if c.f.SecurityGroup(name) == nil {
			if c.f.misspelt["securityGroups"] {
				continue // reported once, at the misspelt key
			}
			c.errorf(pos, p.index(i).String(), c.known("securityGroups", names(c.f.SecurityGroups, func(g *SecurityGroup) string { return g.Name }), name),
				"security group %q is not defined in securityGroups", name)
			continue
		}
		if seen[name] {
			c.errorf(pos, p.index(i).String(), "name each group once", "security group %q is listed twice", name)
			continue
		}
		seen[name] = true
		if c.sg == nil {
			c.sg = map[string]int{}
		}
		c.sg[name] += addrs
	}
}

func (c *checker) known(section string, have []string, name string) string {
	if s := suggest(name, have); s != "" {
		return fmt.Sprintf("did you mean %q? (defined in %s: %s)", s, section, strings.Join(have, ", "))
	}
	if len(have) == 0 {
		return fmt.Sprintf("define it under %s first", section)
	}
	return fmt.Sprintf("define it under %s, or use one of: %s", section, strings.Join(have, ", "))
}

func names[T any](xs []T, name func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = name(x)
	}
	return out
}

func (c *checker) vswitch(name string, p path, pos Pos) *VSwitch {
	if name == "" {
		if pos.IsValid() { // written, but empty
			c.errorf(pos, p.String(), c.known("vswitches", names(c.f.VSwitches, func(v *VSwitch) string { return v.Name }), name), "vswitch is empty")
		}
		return nil
	}
	v := c.f.VSwitch(name)
	if v == nil && !c.f.misspelt["vswitches"] {
		c.errorf(pos, p.String(), c.known("vswitches", names(c.f.VSwitches, func(v *VSwitch) string { return v.Name }), name),
			"vSwitch %q is not defined in vswitches", name)
	}
	return v
}

// addr checks one address against its vSwitch and the rest of the fleet.
// where is the path of the field, idx the address's index in its list or
// -1; the full path is built only for an error, as a fleet has hundreds of
// thousands of addresses and few errors.
func (c *checker) addr(a netip.Addr, pos Pos, where string, idx int, v *VSwitch) {
	if !a.IsValid() {
		return
	}
	p := use{where: where, idx: int32(idx)}.path
	if v != nil && v.CIDR.IsValid() {
		switch {
		case !v.CIDR.Contains(a):
			c.errorf(pos, p(), fmt.Sprintf("pick an address inside %s, or put the ENI in a vSwitch whose block holds it", v.CIDR),
				"%s is outside vSwitch %q (%s)", a, v.Name, v.CIDR)
		case v.Reserved(a):
			c.errorf(pos, p(), fmt.Sprintf("the cloud reserves the first address and the last three of %s (the gateway is %s); pick another", v.CIDR, v.Gateway()),
				"%s is reserved in vSwitch %q", a, v.Name)
		}
	}
	c.dup(a, pos, where, idx)
}

// dup reports an address already used elsewhere in the fleet, IPv4 or
// IPv6, and records its first use.
func (c *checker) dup(a netip.Addr, pos Pos, where string, idx int) {
	p := use{where: where, idx: int32(idx)}.path
	var first int32
	var dup bool
	if a.Is4() {
		b := a.As4()
		k := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		if first, dup = c.seen4[k]; !dup {
			c.seen4[k] = int32(len(c.uses))
		}
	} else {
		if c.seen == nil {
			c.seen = map[netip.Addr]int32{}
		}
		if first, dup = c.seen[a]; !dup {
			c.seen[a] = int32(len(c.uses))
		}
	}
	if dup {
		prev := c.uses[first]
		hint := "an address can belong to one ENI only; remove one of the two"
		if prev.where == where {
			hint = "remove the repeated address from the list"
		}
		c.fleetf(pos, p(), hint, "%s is already used at %s (%s)", a, prev.pos, prev.path()).Related = []Pos{prev.pos}
		return
	}
	c.uses = append(c.uses, use{pos: pos, where: where, idx: int32(idx)})
}

func (c *checker) want(vsw string, n int) {
	if c.vsw == nil {
		c.vsw = map[string]int{}
	}
	c.vsw[vsw] += n
}

func (c *checker) instance(in *Instance) {
	p := path{"instances", in.Name}
	var t InstanceType
	if in.Type != "" {
		var ok bool
		if t, ok = c.f.InstanceType(in.Type); !ok && !c.f.Limits.broken[in.Type] && !c.f.misspelt["limits"] && !c.f.misspelt[path{"limits", "instanceTypes"}.String()] {
			hint := fmt.Sprintf("add its quotas to the file: limits: instanceTypes: %q: {maxEnis: <EniQuantity>, maxIpsPerEni: <EniPrivateIpAddressQuantity>%s} (the figures DescribeInstanceTypes reports)", in.Type, c.columnsFor(in.Name))
			if sg := suggest(in.Type, builtinNames()); sg != "" {
				hint = fmt.Sprintf("did you mean %q? If not, %s", sg, hint)
			}
			c.errorf(in.TypePos, p.field("type").String(), hint, "instance type %q is not in ecsnet's table", in.Type)
		}
	}
	pr := &in.Primary
	pp := p.field("primary")
	v := c.vswitch(pr.VSwitch, pp.field("vswitch"), pr.VSwitchPos)
	c.addr(pr.IP, pr.IPPos, pp.field("ip").String(), -1, v)
	if len(pr.Pinned) > 0 {
		where := pp.field("secondaryIps").String()
		for i, a := range pr.Pinned {
			c.addr(a.Addr, a.Pos, where, i, v)
		}
	}
	n := 1 + pr.N()
	if v != nil {
		c.want(v.Name, n+16*pr.Prefixes.N())
	}
	c.groupRefs(pr.SecurityGroups, pr.GroupPos, pp.field("securityGroups"), n)
	c.ipv6s(pr.IPv6, pp, v, t, t.MaxIPsPerENI > 0, "the primary ENI")
	c.prefixes(pr.Prefixes, pp, v)
	if k := slots(pr.Secondaries, pr.Prefixes); t.MaxIPsPerENI > 0 && k > t.MaxIPsPerENI {
		what := "secondary addresses"
		if pr.Prefixes.N() > 0 {
			what = "secondary addresses and prefixes together"
		}
		c.errorf(c.slotsPos(pr.Secondaries, pr.Prefixes, pr.Pos), pp.String(),
			fmt.Sprintf("%s allows %d private addresses per ENI (the primary included): keep at most %d %s here, or move some to a secondary ENI", t.Name, t.MaxIPsPerENI, t.MaxSecondaryIPs(), what),
			"the primary ENI would carry %d %s; instance type %s allows %d", k, slotWords(pr.Secondaries, pr.Prefixes), t.Name, t.MaxIPsPerENI)
	}
	c.ids(in.ID, "instance", p, in.IDPos)
}

func (c *checker) secondariesPos(s Secondaries, fallback Pos) Pos {
	switch {
	case s.Counted:
		return s.CountPos
	case len(s.Pinned) > 0:
		return s.Pinned[len(s.Pinned)-1].Pos
	}
	return fallback
}

// ids reports an instance or ENI ID used twice.
func (c *checker) ids(id, what string, p path, pos Pos) {
	if id == "" {
		return
	}
	if c.idSeen == nil {
		c.idSeen = map[string]use{}
	}
	if prev, dup := c.idSeen[id]; dup {
		c.fleetf(pos, p.field("id").String(), fmt.Sprintf("each %s appears once in the fleet", what),
			"%s ID %s is also used at %s (%s)", what, id, prev.pos, prev.path()).Related = []Pos{prev.pos}
		return
	}
	c.idSeen[id] = use{pos: pos, where: p.String(), idx: -1}
}

func (c *checker) eni(e *ENI) {
	p := path{"enis", e.Name}
	v := c.vswitch(e.VSwitch, p.field("vswitch"), e.VSwitchPos)
	if e.PrimaryIP.IsValid() {
		c.addr(e.PrimaryIP, e.PrimaryIPPos, p.field("primaryIp").String(), -1, v)
	}
	if len(e.Pinned) > 0 {
		where := p.field("secondaryIps").String()
		for i, a := range e.Pinned {
			c.addr(a.Addr, a.Pos, where, i, v)
		}
	}
	n := 1 + e.N()
	if v != nil {
		c.want(v.Name, n+16*e.Prefixes.N())
	}
	c.groupRefs(e.SecurityGroups, e.GroupPos, p.field("securityGroups"), n)
	c.ids(e.ID, "ENI", p, e.IDPos)
	c.prefixes(e.Prefixes, p, v)
	if !e.Bound() {
		// The card is chosen when the ENI is attached
		// (AttachNetworkInterface NetworkCardIndex); an unbound ENI's
		// would be ignored without a word.
		if e.NetworkCardSet {
			c.errorf(e.NetworkCardPos, p.field("networkCard").String(),
				"the card is picked when the ENI is attached: add attachTo, or remove networkCard",
				"networkCard on an unbound ENI: it applies only when the ENI is attached (attachTo)")
		}
		c.ipv6s(e.IPv6, p, v, InstanceType{}, false, "the ENI")
		if n := e.IPv6.N(); n > unboundENIMaxIPv6 {
			c.errorf(c.ipv6Pos(e.IPv6), p.field(ipv6Field(e.IPv6)).String(),
				fmt.Sprintf("an ENI that is not attached takes at most %d IPv6 addresses (AssignIpv6Addresses): attach it (attachTo), or keep at most %d", unboundENIMaxIPv6, unboundENIMaxIPv6),
				"an unbound ENI can carry at most %d IPv6 addresses, this one wants %d", unboundENIMaxIPv6, n)
		}
		// An Available ENI's prefixes take slots like its secondaries
		// (up to 49 of them by AssignPrivateIpAddresses: ip-prefix page).
		if max, k := c.f.Limits.UnboundENIMaxSecondaryIPs, e.N()+e.Prefixes.N(); k > max {
			if e.Prefixes.N() == 0 {
				c.errorf(c.secondariesPos(e.Secondaries, e.Pos), p.String(),
					fmt.Sprintf("attach it to an instance (attachTo), keep at most %d secondary addresses, or raise limits.unboundEniMaxSecondaryIps if your account allows more", max),
					"an unbound ENI can carry at most %d secondary addresses, this one wants %d", max, e.N())
			} else {
				c.errorf(c.slotsPos(e.Secondaries, e.Prefixes, e.Pos), p.String(),
					fmt.Sprintf("attach it to an instance (attachTo), keep at most %d secondary addresses and prefixes together (each prefix takes one slot), or raise limits.unboundEniMaxSecondaryIps if your account allows more", max),
					"an unbound ENI can carry at most %d secondary addresses and prefixes, this one wants %d (%d addresses, %s)", max, k, e.N(), plural.Count(e.Prefixes.N(), "prefix", "prefixes"))
			}
		}
		return
	}
	in := c.f.Instance(e.AttachTo)
	if in == nil {
		c.ipv6s(e.IPv6, p, v, InstanceType{}, false, "the ENI")
		if c.f.misspelt["instances"] {
			return
		}
		c.errorf(e.AttachToPos, p.field("attachTo").String(), c.known("instances", names(c.f.Instances, func(i *Instance) string { return i.Name }), e.AttachTo),
			"instance %q is not defined in instances", e.AttachTo)
		return
	}
	if iz, z := c.f.Zone(in), zoneOf(v); iz != "" && z != "" && iz != z {
		c.errorf(e.VSwitchPos, p.field("vswitch").String(),
			fmt.Sprintf("an ENI attaches only to instances in its vSwitch's zone: use a vSwitch in %s, or attach it to an instance in %s", iz, z),
			"vSwitch %q is in zone %s but instance %q is in zone %s", e.VSwitch, z, in.Name, iz)
	}
	t, ok := c.f.InstanceType(in.Type)
	c.ipv6s(e.IPv6, p, v, t, ok, "the ENI")
	if !ok {
		return
	}
	c.cardAndQueues(e, p, in, t)
	if k := slots(e.Secondaries, e.Prefixes); k > t.MaxIPsPerENI {
		what := "secondary addresses"
		if e.Prefixes.N() > 0 {
			what = "secondary addresses and prefixes together"
		}
		c.errorf(c.slotsPos(e.Secondaries, e.Prefixes, e.Pos), p.String(),
			fmt.Sprintf("%s allows %d private addresses per ENI (the ENI's primary included): keep at most %d %s", t.Name, t.MaxIPsPerENI, t.MaxSecondaryIPs(), what),
			"the ENI would carry %d %s; instance %q (%s) allows %d per ENI", k, slotWords(e.Secondaries, e.Prefixes), in.Name, t.Name, t.MaxIPsPerENI)
	}
}

func zoneOf(v *VSwitch) string {
	if v == nil {
		return ""
	}
	return v.Zone
}

func (c *checker) enisPerInstance() {
	for _, in := range c.f.Instances {
		t, ok := c.f.InstanceType(in.Type)
		bound := c.f.AttachedTo(in.Name)
		if !ok || 1+len(bound) <= t.MaxENIs {
			continue
		}
		e := c.fleetf(in.Pos, path{"instances", in.Name}.String(),
			fmt.Sprintf("%s takes %d ENIs, the primary included: attach at most %s to it, or choose a larger type", t.Name, t.MaxENIs, plural.Count(t.MaxENIs-1, "secondary ENI", "secondary ENIs")),
			"%d ENIs would be attached to instance %q (the primary and %d secondary); %s allows %d", 1+len(bound), in.Name, len(bound), t.Name, t.MaxENIs)
		for _, b := range bound {
			e.Related = append(e.Related, b.AttachToPos)
		}
	}
}

func (c *checker) groupTotals() {
	for _, g := range c.f.SecurityGroups {
		if n := c.sg[g.Name]; n > c.f.Limits.SecurityGroupMaxIPs {
			c.fleetf(g.Pos, path{"securityGroups", g.Name}.String(),
				fmt.Sprintf("the limit (limits.securityGroupMaxIps, %d by default for a basic group) counts the private addresses of all the group's ENIs: spread the ENIs over more groups, or raise the limit for an advanced group (65,536)", DefaultSecurityGroupMaxIPs),
				"security group %q would hold %d private addresses; the limit is %d", g.Name, n, c.f.Limits.SecurityGroupMaxIPs)
		}
	}
}

func (c *checker) capacity() {
	for _, v := range c.f.VSwitches {
		if !v.CIDR.IsValid() {
			continue
		}
		if n := c.vsw[v.Name]; n > v.Usable() {
			c.fleetf(v.Pos, path{"vswitches", v.Name}.String(),
				"move some ENIs to another vSwitch, or use a larger block",
				"the fleet wants %d addresses in vSwitch %q but %s has %d usable", n, v.Name, v.CIDR, v.Usable())
		}
	}
}
