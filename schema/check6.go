package schema

import (
	"fmt"
	"net/netip"

	"github.com/ecsnet/ecsnet/internal/plural"
)

// The checks of issue 17's fields. The facts they rest on, from the ECS
// and VPC documentation:
//
//   - An IPv4 prefix is a /28, "a standard CIDR block" (aligned), inside the
//     ENI's vSwitch block, that "must not overlap with existing IP prefixes
//     or IP addresses"; "each IP prefix counts as one IP address" of the
//     ENI's private IPv4 quota (EniPrivateIpAddressQuantity, the primary
//     address included): an ecs.g7.large ENI (6) holds five prefixes, one
//     fewer for each secondary address. An Available ENI takes at most 49.
//     https://www.alibabacloud.com/help/en/ecs/user-guide/ip-prefix
//     Terway, Alibaba's CNI, counts the same way: a new ENI's prefix
//     capacity is IPv4PerAdapter - 1, its slots shared between addresses
//     and prefixes (AliyunContainerService/terway, assignEniPrefixWithOptions).
//   - A vSwitch's reserved addresses: the first and the last three of its
//     IPv4 block, the first and the last nine of its IPv6 block; a reserved
//     (prefix) range may not contain them.
//     https://www.alibabacloud.com/help/en/vpc/api-610154
//   - IPv6 addresses per ENI are EniIpv6AddressQuantity of the type
//     (DescribeInstanceTypes); a vSwitch without an IPv6 block gives none.

// ipv6Reserved reports whether a is one of the ten addresses the cloud
// keeps in a vSwitch's IPv6 block: the first and the last nine.
func ipv6Reserved(p netip.Prefix, a netip.Addr) bool {
	if !p.IsValid() || !a.Is6() {
		return false
	}
	if a == p.Masked().Addr() {
		return true
	}
	// The last nine of a /64: the interface identifier is
	// ffff:ffff:ffff:fff7 or above.
	b := a.As16()
	for _, x := range b[8:15] {
		if x != 0xff {
			return false
		}
	}
	return b[15] >= 0xf7
}

// ipv6Last returns the last usable address of a vSwitch IPv6 block, for a
// hint.
func ipv6Last(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As16()
	for i := 8; i < 15; i++ {
		b[i] = 0xff
	}
	b[15] = 0xf6
	return netip.AddrFrom16(b)
}

// prefixReserved reports whether a /28 of a vSwitch's block holds one of the
// block's reserved addresses (its first /28 holds the network address, its
// last the gateway and the two above it).
func prefixReserved(block, pf netip.Prefix) bool {
	return pf.Contains(block.Masked().Addr()) || pf.Contains(lastAddr(block, 0)) || pf.Contains(lastAddr(block, 2))
}

// prefixUse is a pinned prefix and where it is written.
type prefixUse struct {
	at    PrefixAt
	where string
	idx   int
}

// ipv6s checks one ENI's IPv6 addresses against its vSwitch and the type.
func (c *checker) ipv6s(v6 IPv6, p path, v *VSwitch, t InstanceType, typeKnown bool, what string) {
	if v6.N() == 0 {
		return
	}
	pos, field := c.ipv6Pos(v6), ipv6Field(v6)
	if v != nil && !v.IPv6CIDR.IsValid() && !v.IPv6CIDRPos.IsValid() {
		c.errorf(pos, p.field(field).String(),
			fmt.Sprintf("enable IPv6 on the vSwitch (the VPC needs an IPv6 block too) and add its block to vswitches.%s: ipv6Cidr: \"<Ipv6CidrBlock from DescribeVSwitches>\", or put the ENI in a vSwitch with IPv6", pathLabel(v.Name)),
			"vSwitch %q has no IPv6 block (ipv6Cidr), so %s cannot have IPv6 addresses", v.Name, what)
	}
	if len(v6.Pinned) > 0 {
		where := p.field("ipv6Ips").String()
		for i, a := range v6.Pinned {
			c.addr6(a.Addr, a.Pos, where, i, v)
		}
	}
	if !typeKnown {
		return
	}
	switch n := v6.N(); {
	case t.MaxIPv6PerENI == 0 && c.f.Limits.ipv6Pos[t.Name].IsValid():
		// The user's own row says 0: point at it rather than ask for a
		// column that is already there.
		c.errorf(pos, p.field(field).String(),
			fmt.Sprintf("the limits row for %s says maxIpv6PerEni: 0 (at %s): choose a type with IPv6, or, if DescribeInstanceTypes shows an EniIpv6AddressQuantity above 0 for it, write that figure there", t.Name, c.f.Limits.ipv6Pos[t.Name]),
			"instance type %s takes no IPv6 addresses (maxIpv6PerEni is 0)", t.Name)
	case t.MaxIPv6PerENI == 0:
		c.errorf(pos, p.field(field).String(),
			fmt.Sprintf("choose a type with IPv6, or, if DescribeInstanceTypes shows EniIpv6AddressQuantity for %s, add it: limits: instanceTypes: %q: {maxEnis: %d, maxIpsPerEni: %d, maxIpv6PerEni: <EniIpv6AddressQuantity>}", t.Name, t.Name, t.MaxENIs, t.MaxIPsPerENI),
			"instance type %s takes no IPv6 addresses (maxIpv6PerEni is 0)", t.Name)
	case n > t.MaxIPv6PerENI:
		c.errorf(pos, p.field(field).String(),
			fmt.Sprintf("%s allows %s per ENI: keep at most %d here", t.Name, plural.Count(t.MaxIPv6PerENI, "IPv6 address", "IPv6 addresses"), t.MaxIPv6PerENI),
			"%s would carry %d IPv6 addresses; instance type %s allows %d per ENI", what, n, t.Name, t.MaxIPv6PerENI)
	}
}

// ipv6Pos is where an error about an ENI's IPv6 addresses points: the
// count, or the first pinned address.
func (c *checker) ipv6Pos(v6 IPv6) Pos {
	if v6.Counted || len(v6.Pinned) == 0 {
		return v6.CountPos
	}
	return v6.Pinned[0].Pos
}

// ipv6Field is the field that holds an ENI's IPv6 addresses.
func ipv6Field(v6 IPv6) string {
	if v6.Counted {
		return "ipv6IpCount"
	}
	return "ipv6Ips"
}

// pathLabel quotes a name as a CUE path label when it needs quotes.
func pathLabel(name string) string { return path{name}.String() }

// addr6 checks one IPv6 address against its vSwitch's IPv6 block and the
// rest of the fleet.
func (c *checker) addr6(a netip.Addr, pos Pos, where string, idx int, v *VSwitch) {
	p := use{where: where, idx: int32(idx)}.path
	if v != nil && v.IPv6CIDR.IsValid() {
		switch {
		case !v.IPv6CIDR.Contains(a):
			c.errorf(pos, p(), fmt.Sprintf("pick an address inside %s, or put the ENI in a vSwitch whose IPv6 block holds it", v.IPv6CIDR),
				"%s is outside vSwitch %q's IPv6 block (%s)", a, v.Name, v.IPv6CIDR)
		case ipv6Reserved(v.IPv6CIDR, a):
			c.errorf(pos, p(), fmt.Sprintf("the cloud reserves the first address and the last nine of %s; pick one from %s to %s", v.IPv6CIDR, v.IPv6CIDR.Addr().Next(), ipv6Last(v.IPv6CIDR)),
				"%s is reserved in vSwitch %q", a, v.Name)
		}
	}
	c.dup(a, pos, where, idx)
}

// prefixes checks one ENI's pinned IPv4 prefixes against its vSwitch and
// records them for the fleet-wide overlap check.
func (c *checker) prefixes(px Prefixes, p path, v *VSwitch) {
	if len(px.Pinned) == 0 {
		return
	}
	where := p.field("ipv4Prefixes").String()
	for i, x := range px.Pinned {
		pp := func() string { return use{where: where, idx: int32(i)}.path() }
		bad := true // refused here: not checked for overlaps too
		if v != nil && v.CIDR.IsValid() {
			switch {
			case !v.CIDR.Contains(x.Prefix.Addr()):
				c.errorf(x.Pos, pp(), fmt.Sprintf("pick a /28 inside %s, or put the ENI in a vSwitch whose block holds it", v.CIDR),
					"%s is outside vSwitch %q (%s)", x.Prefix, v.Name, v.CIDR)
			case v.CIDR.Bits() > prefixBits:
				c.errorf(x.Pos, pp(), "a prefix needs a vSwitch block of /27 or larger; use secondaryIps here, or a larger vSwitch",
					"vSwitch %q (%s) is smaller than a /28 prefix", v.Name, v.CIDR)
			case prefixReserved(v.CIDR, x.Prefix):
				c.errorf(x.Pos, pp(), fmt.Sprintf("the first and the last /28 of %s hold addresses the cloud reserves (the first address and the last three); pick another /28", v.CIDR),
					"%s holds a reserved address of vSwitch %q", x.Prefix, v.Name)
			default:
				bad = false
			}
		}
		if bad {
			continue
		}
		c.prefixUses = append(c.prefixUses, prefixUse{at: x, where: where, idx: i})
	}
}

// slots returns how many of the ENI's private IPv4 slots the file wants:
// the primary address, the secondaries, and one per prefix.
func slots(s Secondaries, px Prefixes) int { return 1 + s.N() + px.N() }

// slotsPos is where a quota error about slots points: the last of the
// secondaries or prefixes written.
func (c *checker) slotsPos(s Secondaries, px Prefixes, fallback Pos) Pos {
	if px.N() == 0 {
		return c.secondariesPos(s, fallback)
	}
	if px.Counted {
		return px.CountPos
	}
	return px.Pinned[len(px.Pinned)-1].Pos
}

// slotWords says what the slots are, for a quota message.
func slotWords(s Secondaries, px Prefixes) string {
	if px.N() == 0 {
		return "private addresses"
	}
	return fmt.Sprintf("private IPv4 slots (1 primary, %d secondary, %s; each prefix takes one slot)", s.N(), plural.Count(px.N(), "prefix", "prefixes"))
}

// cardAndQueues checks a bound ENI's network card and queue number
// against its instance's type.
func (c *checker) cardAndQueues(e *ENI, p path, in *Instance, t InstanceType) {
	if e.NetworkCardSet {
		cards := max(t.NetworkCards, 1)
		if e.NetworkCard >= cards {
			hint := fmt.Sprintf("%s has one network card: write networkCard: 0 or leave it out", t.Name)
			if cards > 1 {
				hint = fmt.Sprintf("%s has %d network cards, numbered 0 to %d", t.Name, cards, cards-1)
			}
			c.errorf(e.NetworkCardPos, p.field("networkCard").String(), hint,
				"network card %d does not exist on instance %q (%s has %s)", e.NetworkCard, in.Name, t.Name, plural.Count(cards, "card", "cards"))
		}
	}
	if e.Queues > 0 && t.MaxQueuesPerENI > 0 && e.Queues > t.MaxQueuesPerENI {
		c.errorf(e.QueuesPos, p.field("queues").String(),
			fmt.Sprintf("%s allows at most %d queues per ENI (MaximumQueueNumberPerEni): write 1 to %d, or leave queues out for the type's default", t.Name, t.MaxQueuesPerENI, t.MaxQueuesPerENI),
			"%d queues on one ENI; instance type %s allows %d", e.Queues, t.Name, t.MaxQueuesPerENI)
	}
}

// overlaps is the fleet-wide check of pinned prefixes: no two are the same
// /28 (aligned /28s overlap only when equal), and no address of the fleet
// falls in one.
func (c *checker) overlaps() {
	if len(c.prefixUses) == 0 {
		return
	}
	// Keyed by the prefix's top 28 bits: an address's key is its own top
	// 28 bits.
	key := func(a netip.Addr) uint32 {
		b := a.As4()
		return (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) >> (32 - prefixBits)
	}
	first := make(map[uint32]int, len(c.prefixUses))
	for i, u := range c.prefixUses {
		if j, dup := first[key(u.at.Prefix.Addr())]; dup {
			prev := c.prefixUses[j]
			pp := use{where: u.where, idx: int32(u.idx)}.path()
			hint := "a prefix can belong to one ENI only; remove one of the two"
			if prev.where == u.where {
				hint = "remove the repeated prefix from the list"
			}
			c.fleetf(u.at.Pos, pp, hint, "%s is already used at %s (%s)", u.at.Prefix, prev.at.Pos, use{where: prev.where, idx: int32(prev.idx)}.path()).Related = []Pos{prev.at.Pos}
			continue
		}
		first[key(u.at.Prefix.Addr())] = i
	}
	// The paths are built only for an address that lies in a prefix: the
	// loop visits every address of the fleet.
	hit := func(a netip.Addr) (int, bool) {
		if !a.Is4() {
			return 0, false
		}
		j, in := first[key(a)]
		return j, in
	}
	report := func(j int, a netip.Addr, pos Pos, where string, idx int) {
		u := c.prefixUses[j]
		up := use{where: u.where, idx: int32(u.idx)}.path()
		c.fleetf(pos, use{where: where, idx: int32(idx)}.path(),
			fmt.Sprintf("the cloud gives all 16 addresses of %s to the ENI that holds the prefix: pick an address outside it, or another prefix", u.at.Prefix),
			"%s lies in prefix %s at %s (%s)", a, u.at.Prefix, u.at.Pos, up).Related = []Pos{u.at.Pos}
	}
	for _, in := range c.f.Instances {
		pr := &in.Primary
		if j, ok := hit(pr.IP); ok {
			report(j, pr.IP, pr.IPPos, path{"instances", in.Name, "primary", "ip"}.String(), -1)
		}
		for i, a := range pr.Pinned {
			if j, ok := hit(a.Addr); ok {
				report(j, a.Addr, a.Pos, path{"instances", in.Name, "primary", "secondaryIps"}.String(), i)
			}
		}
	}
	for _, e := range c.f.ENIs {
		if j, ok := hit(e.PrimaryIP); ok {
			report(j, e.PrimaryIP, e.PrimaryIPPos, path{"enis", e.Name, "primaryIp"}.String(), -1)
		}
		for i, a := range e.Pinned {
			if j, ok := hit(a.Addr); ok {
				report(j, a.Addr, a.Pos, path{"enis", e.Name, "secondaryIps"}.String(), i)
			}
		}
	}
}

// typeColumns are the optional columns of a type row that an instance's
// ENIs need.
type typeColumns struct{ ipv6, cards, queues bool }

// columnsFor returns the optional columns, as they go into the hint's
// limits row, that instance name's ENIs need of its type: a user who adds
// only the two IPv4 columns would then meet each missing one in turn.
func (c *checker) columnsFor(name string) string {
	if c.columns == nil {
		c.columns = make(map[string]typeColumns, len(c.f.Instances))
		for _, in := range c.f.Instances {
			if in.Primary.IPv6.N() > 0 {
				c.columns[in.Name] = typeColumns{ipv6: true}
			}
		}
		for _, e := range c.f.ENIs {
			if !e.Bound() {
				continue
			}
			k := c.columns[e.AttachTo]
			k.ipv6 = k.ipv6 || e.IPv6.N() > 0
			k.cards = k.cards || e.NetworkCard > 0
			k.queues = k.queues || e.Queues > 0
			c.columns[e.AttachTo] = k
		}
	}
	k := c.columns[name]
	var s string
	if k.ipv6 {
		s += ", maxIpv6PerEni: <EniIpv6AddressQuantity>"
	}
	if k.cards {
		s += ", networkCards: <NetworkCardQuantity>"
	}
	if k.queues {
		s += ", maxQueuesPerEni: <MaximumQueueNumberPerEni>"
	}
	return s
}
