package emulator

import (
	"fmt"
	"net/netip"
	"slices"
)

// The world file's IPv6 blocks, IPv6 addresses, IPv4 prefixes, network
// cards and queues (issue 17; the API's rules are in ipv6.go). Like the
// rest of a world they are taken as observed: per-type quotas are not
// applied to what the file holds.

// ipv6Block checks a vSwitch's Ipv6CidrBlock: empty, or an IPv6 /64
// written as its network address that no other vSwitch has.
func (b *builder) ipv6Block(where, s string) (netip.Prefix, bool) {
	if s == "" {
		return netip.Prefix{}, true
	}
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil || !p.Addr().Is6() || p.Addr().Is4In6():
		b.errs.add("%s: Ipv6CidrBlock %q is not an IPv6 block like 2408:4005:3aa:1b00::/64", where, s)
		return netip.Prefix{}, false
	case p.Bits() != ipv6VSwitchBlockLen:
		b.errs.add("%s: Ipv6CidrBlock %s: a vSwitch's IPv6 block is a /64", where, p)
		return netip.Prefix{}, false
	case p.Masked() != p:
		b.errs.add("%s: Ipv6CidrBlock %s is not written as its network address (%s)", where, p, p.Masked())
		return netip.Prefix{}, false
	}
	for _, id := range b.c.vswIDs {
		if o := b.c.vswitches[id]; o.ipv6 == p {
			b.errs.add("%s: Ipv6CidrBlock %s is vSwitch %s's too", where, p, o.id)
			return netip.Prefix{}, false
		}
	}
	return p, true
}

// extras takes an ENI's IPv6 addresses and IPv4 prefixes in v, owned by
// owner until derive re-owns them.
func (b *builder) extras(where string, v *vswitch, e *eni, v6, prefixes []string, owner string) bool {
	ok := true
	if len(v6) > 0 && b.badIPv6[v.id] {
		v6, ok = nil, false // the block's error says it
	}
	if len(v6) > 0 && !v.ipv6.IsValid() {
		b.errs.add("%s: Ipv6Addresses: vSwitch %s has no Ipv6CidrBlock", where, v.id)
		return false
	}
	for _, s := range v6 {
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "":
			b.errs.add("%s: Ipv6Addresses: %q is not an IPv6 address", where, s)
		case !v.ipv6.Contains(a):
			b.errs.add("%s: Ipv6Addresses: %s is outside vSwitch %s's IPv6 block %s", where, a, v.id, v.ipv6)
		case !v.usable6(a):
			b.errs.add("%s: Ipv6Addresses: %s is reserved in vSwitch %s (the network address and the last %d)", where, a, v.id, reservedIPv6AtEnd)
		case v.used6[a] != "":
			b.errs.add("%s: Ipv6Addresses: %s is already held by %s", where, a, v.used6[a])
		default:
			v.used6[a] = owner
			e.ipv6 = append(e.ipv6, a)
			continue
		}
		ok = false
	}
	for _, s := range prefixes {
		p, err := netip.ParsePrefix(s)
		switch {
		case err != nil || !p.Addr().Is4() || p.Bits() != prefixBits:
			b.errs.add("%s: Ipv4Prefixes: %q is not an IPv4 /28 like 10.0.1.16/28", where, s)
		case p.Masked() != p:
			b.errs.add("%s: Ipv4Prefixes: %s is not aligned (%s)", where, p, p.Masked())
		case !v.cidr.Contains(p.Addr()) || v.cidr.Bits() > prefixBits:
			b.errs.add("%s: Ipv4Prefixes: %s is outside vSwitch %s (%s)", where, p, v.id, v.cidr)
		case prefixClash(v, p) != "":
			b.errs.add("%s: Ipv4Prefixes: %s %s", where, p, prefixClash(v, p))
		default:
			v.takePrefix(p, owner)
			e.prefixes = append(e.prefixes, p)
			continue
		}
		ok = false
	}
	slices.SortFunc(e.ipv6, netip.Addr.Compare)
	slices.SortFunc(e.prefixes, comparePrefix)
	return ok
}

// prefixClash says why the /28 p of v cannot be taken: the first of its
// addresses that the vSwitch reserves or that an entry of the world
// already holds (and which one), so that the author knows what to move;
// "" when p is free.
func prefixClash(v *vswitch, p netip.Prefix) string {
	base := addrToU32(p.Addr())
	for i := range uint32(prefixSize) {
		a := u32ToAddr(base + i)
		if !v.usable(a) {
			return fmt.Sprintf("holds %s, which vSwitch %s (%s) reserves (the first address and the last three)", a, v.id, v.cidr)
		}
		if owner, held := v.used[base+i]; held {
			return fmt.Sprintf("holds %s, which %s holds already", a, owner)
		}
	}
	return ""
}

// cardAndQueues checks a secondary ENI's NetworkCardIndex and QueueNumber.
func (b *builder) cardAndQueues(where string, n NetworkInterface, e *eni) bool {
	ok := true
	if n.QueueNumber < 0 || n.QueueNumber > maxQueueNumber {
		b.errs.add("%s: QueueNumber %d: 1 to %d, or 0 to leave it unset", where, n.QueueNumber, maxQueueNumber)
		ok = false
	}
	e.queues = n.QueueNumber
	switch {
	case n.NetworkCardIndex < 0:
		b.errs.add("%s: NetworkCardIndex %d must not be negative", where, n.NetworkCardIndex)
		ok = false
	case n.NetworkCardIndex > 0 && n.InstanceId == "":
		b.errs.add("%s: NetworkCardIndex %d needs an InstanceId", where, n.NetworkCardIndex)
		ok = false
	case n.NetworkCardIndex > 0:
		in := b.c.instances[n.InstanceId]
		if in == nil {
			break // eniStatus said so
		}
		if t := b.c.types[in.typ]; n.NetworkCardIndex >= t.networkCards() {
			b.errs.add("%s: NetworkCardIndex %d: instance type %s has %d network card(s)", where, n.NetworkCardIndex, in.typ, t.networkCards())
			ok = false
		}
	}
	e.networkCard = n.NetworkCardIndex
	return ok
}

// prefixStringsOrNil is prefixStrings with nil for none, for omitempty.
func prefixStringsOrNil(ps []netip.Prefix) []string {
	if len(ps) == 0 {
		return nil
	}
	return prefixStrings(ps)
}
