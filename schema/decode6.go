package schema

import (
	"fmt"
	"net/netip"
	"strings"
)

// Decoding of issue 17's fields: a vSwitch's IPv6 block, an ENI's IPv6
// addresses and /28 IPv4 prefixes, and a secondary ENI's network card and
// queue number. The field names follow secondaryIps/secondaryIpCount:
// ipv6Ips/ipv6IpCount, ipv4Prefixes/ipv4PrefixCount, and
// ipv4PrefixesOnHost, which asks the host renderers to answer for them.

// Bounds that keep hostile numbers from turning into huge allocations;
// the per-type quotas refine them.
const (
	// maxIPv6PerENI is the largest EniIpv6AddressQuantity of any type in
	// the instance family pages (the .48xlarge sizes of the 8th
	// generation); the common sizes allow 1 to 30.
	maxIPv6PerENI = 50
	// maxPrefixesPerENI: prefixes take private IPv4 slots of the ENI (see
	// the prefix quota in check6.go), so no ENI holds more than its
	// secondary addresses could be.
	maxPrefixesPerENI = maxSecondaryIPs
	// maxNetworkCards bounds NetworkCardQuantity; the largest types have 2.
	maxNetworkCards = 8
	// maxQueuesPerENI bounds MaximumQueueNumberPerEni and queues: the API
	// takes a QueueNumber of 1 to 2048 (CreateNetworkInterface,
	// ModifyNetworkInterfaceAttribute in the 2021 reference,
	// AlibabaCloudDocs/ecs), the type's maximum is lower.
	maxQueuesPerENI = 2048
	// unboundENIMaxIPv6 is how many IPv6 addresses an Available ENI takes:
	// "If the ENI is in the Available (Available) state, up to 10 IPv6
	// addresses can be assigned to the ENI",
	// https://www.alibabacloud.com/help/en/ecs/api-assignipv6addresses.
	unboundENIMaxIPv6 = 10
	// vswitchIPv6Bits is the size of every vSwitch IPv6 block: the VPC
	// gets a /56 and each vSwitch a /64 of it ("By default, the subnet mask
	// of the IPv6 CIDR block of a vSwitch is /64"; the request only takes
	// the block's last eight bits, 0 to 255):
	// https://www.alibabacloud.com/help/doc-detail/51192.htm (ALIYUN::ECS::VSwitch,
	// Ipv6CidrBlock) and https://www.alibabacloud.com/help/en/vpc/developer-reference/api-vpc-2016-04-28-createvswitch.
	vswitchIPv6Bits = 64
)

// prefixBits is the size of every IPv4 prefix an ENI carries: the API's
// Ipv4Prefix.N takes /28 blocks only (CreateNetworkInterface,
// AssignPrivateIpAddresses: "Ipv4Prefix.N: IPv4 prefixes ... /28"),
// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-assignprivateipaddresses.
const prefixBits = 28

// cidr6 parses a vSwitch's IPv6 block: strict IPv6, written as its network
// address, a /64.
func (d *decoder) cidr6(n *node, p path) netip.Prefix {
	s, ok := d.str(n, p)
	if !ok {
		return netip.Prefix{}
	}
	const hint = `write the vSwitch's IPv6 block as the console or DescribeVSwitches (Ipv6CidrBlock) shows it, e.g. "2408:4005:3aa:1b00::/64"`
	pf, err := netip.ParsePrefix(s)
	switch {
	case strings.TrimSpace(s) != s:
		d.errorf(n.pos, p, hint, "%q is not an IPv6 CIDR block: it has leading or trailing spaces", s)
		return netip.Prefix{}
	case err != nil:
		d.errorf(n.pos, p, hint, "%q is not an IPv6 CIDR block: %s", s, strings.TrimPrefix(err.Error(), fmt.Sprintf("netip.ParsePrefix(%q): ", s)))
		return netip.Prefix{}
	case pf.Addr().Is4() || pf.Addr().Is4In6():
		d.errorf(n.pos, p, hint+"; the IPv4 block goes in cidr", "%q is not an IPv6 CIDR block", s)
		return netip.Prefix{}
	case pf.Masked() != pf:
		d.errorf(n.pos, p, fmt.Sprintf("write %q", pf.Masked()), "%q has host bits set", s)
		return netip.Prefix{}
	case pf.Bits() != vswitchIPv6Bits:
		d.errorf(n.pos, p, fmt.Sprintf("a vSwitch's IPv6 block is always a /64 of the VPC's /56; copy it from the console, e.g. %q", netip.PrefixFrom(pf.Addr(), vswitchIPv6Bits).Masked()),
			"%q: a vSwitch IPv6 block is a /64, not a /%d", s, pf.Bits())
		return netip.Prefix{}
	}
	return pf
}

// ipv6At parses element idx of the list at base as a strict IPv6 address:
// no zone, no IPv4-mapped form, no spaces.
func (d *decoder) ipv6At(n *node, base path, idx int) (netip.Addr, bool) {
	if n.kind != kString {
		d.str(n, base.index(idx))
		return netip.Addr{}, false
	}
	s := n.str
	a, err := netip.ParseAddr(s)
	if err == nil && a.Is6() && !a.Is4In6() && a.Zone() == "" {
		return a, true
	}
	var why string
	switch {
	case strings.TrimSpace(s) != s:
		why = "it has leading or trailing spaces"
	case err != nil:
		why = strings.TrimPrefix(err.Error(), fmt.Sprintf("ParseAddr(%q): ", s))
	case a.Is4():
		why = "it is an IPv4 address; IPv4 addresses go in secondaryIps"
	case a.Is4In6():
		why = "it is an IPv4-mapped address"
	default:
		why = "it has a zone"
	}
	d.errorf(n.pos, base.index(idx), `write an IPv6 address of the vSwitch's IPv6 block, e.g. "2408:4005:3aa:1b00::21"`, "%q is not a valid IPv6 address: %s", s, why)
	return netip.Addr{}, false
}

// ipv6 decodes ipv6Ips / ipv6IpCount.
func (d *decoder) ipv6(n *node, p path) IPv6 {
	var v IPv6
	if f := n.lookup("ipv6Ips"); f != nil {
		lp := p.field("ipv6Ips")
		switch {
		case f.val.kind != kList:
			d.errorf(f.val.pos, lp, `write a list: ["2408:4005:3aa:1b00::21", ...]`, "ipv6Ips must be a list of addresses, got %s", f.val.describe())
		case len(f.val.elems) > maxIPv6PerENI:
			d.errorf(f.val.pos, lp, "no ENI carries that many; split the addresses over more ENIs", "ipv6Ips lists %d addresses; no instance type allows more than %d IPv6 addresses per ENI", len(f.val.elems), maxIPv6PerENI)
		default:
			for i, e := range f.val.elems {
				if a, ok := d.ipv6At(e, lp, i); ok {
					v.Pinned = append(v.Pinned, Address{Addr: a, Pos: e.pos})
				}
			}
		}
	}
	if f := n.lookup("ipv6IpCount"); f != nil {
		if c, ok := d.intv(f.val, p.field("ipv6IpCount"), 0, maxIPv6PerENI); ok {
			v.Count, v.Counted, v.CountPos = c, true, f.val.pos
		}
		if n.lookup("ipv6Ips") != nil {
			d.errorf(f.pos, p.field("ipv6IpCount"), "keep ipv6Ips to pin addresses, or ipv6IpCount to let the cloud pick them", "ipv6Ips and ipv6IpCount are exclusive")
		}
	}
	return v
}

// prefix4At parses element idx of the list at base as a /28 IPv4 prefix
// written as its network address.
func (d *decoder) prefix4At(n *node, base path, idx int) (netip.Prefix, bool) {
	p := base.index(idx)
	if n.kind != kString {
		d.str(n, p)
		return netip.Prefix{}, false
	}
	s := n.str
	const hint = `write a /28 block of the vSwitch's IPv4 block as its first address and /28, e.g. "172.16.1.16/28"`
	pf, err := netip.ParsePrefix(s)
	switch {
	case strings.TrimSpace(s) == s && isAddr4(s):
		// An address without its length: show it as the /28 that holds
		// it, the user's own block rather than the example's.
		a, _ := netip.ParseAddr(s)
		x := netip.PrefixFrom(a, prefixBits).Masked()
		h := fmt.Sprintf("write %q", x.String())
		if x.Addr() != a {
			h = fmt.Sprintf("a /28 starts at a multiple of 16: write the /28 that holds it, %q", x.String())
		}
		d.errorf(n.pos, p, h, "%q is not an IPv4 prefix: it has no /28", s)
	case err == nil && pf.Addr().Is6() || err != nil && strings.Contains(s, ":"):
		d.errorf(n.pos, p, "ipv4Prefixes takes IPv4 /28 prefixes only; ecsnet does not assign IPv6 prefixes: give the ENI IPv6 addresses with ipv6Ips or ipv6IpCount",
			"%q is not an IPv4 prefix: IPv6 prefixes are not supported", s)
	case err != nil || !pf.Addr().Is4() || strings.TrimSpace(s) != s:
		d.errorf(n.pos, p, hint, "%q is not an IPv4 prefix", s)
	case !strictIPv4(s[:strings.IndexByte(s, '/')]):
		d.errorf(n.pos, p, hint+", without leading zeros", "%q is not an IPv4 prefix: its address has a leading zero", s)
	case pf.Bits() != prefixBits:
		d.errorf(n.pos, p, fmt.Sprintf("the API assigns /28 prefixes only (16 addresses each): write %d /28 blocks instead, or use secondaryIps", prefixCount(pf)),
			"%q is a /%d; ENI prefixes are /28", s, pf.Bits())
	case pf.Masked() != pf:
		d.errorf(n.pos, p, fmt.Sprintf("a /28 starts at a multiple of 16: write %q", pf.Masked()), "%q is not aligned: it has host bits set", s)
	default:
		return pf, true
	}
	return netip.Prefix{}, false
}

// prefixCount says how many /28s cover pf, for a hint.
func prefixCount(pf netip.Prefix) int {
	if pf.Bits() >= prefixBits {
		return 1
	}
	if prefixBits-pf.Bits() > 10 {
		return 1 << 10
	}
	return 1 << (prefixBits - pf.Bits())
}

// isAddr4 reports whether s is a plain IPv4 address, with no length.
func isAddr4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

// strictIPv4 reports whether s is dotted decimal without leading zeros
// (netip.ParseAddr already refuses them; this keeps the rule explicit).
func strictIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4() && a.String() == s
}

// prefixes decodes ipv4Prefixes / ipv4PrefixCount / ipv4PrefixesOnHost.
func (d *decoder) prefixes(n *node, p path) Prefixes {
	var x Prefixes
	if f := n.lookup("ipv4Prefixes"); f != nil {
		lp := p.field("ipv4Prefixes")
		switch {
		case f.val.kind != kList:
			d.errorf(f.val.pos, lp, `write a list: ["172.16.1.16/28", ...]`, "ipv4Prefixes must be a list of /28 prefixes, got %s", f.val.describe())
		case len(f.val.elems) > maxPrefixesPerENI:
			d.errorf(f.val.pos, lp, "no ENI carries that many; split the prefixes over more ENIs", "ipv4Prefixes lists %d prefixes; no instance type allows more than %d per ENI", len(f.val.elems), maxPrefixesPerENI)
		default:
			for i, e := range f.val.elems {
				if pf, ok := d.prefix4At(e, lp, i); ok {
					x.Pinned = append(x.Pinned, PrefixAt{Prefix: pf, Pos: e.pos})
				}
			}
		}
	}
	if f := n.lookup("ipv4PrefixCount"); f != nil {
		if c, ok := d.intv(f.val, p.field("ipv4PrefixCount"), 0, maxPrefixesPerENI); ok {
			x.Count, x.Counted, x.CountPos = c, true, f.val.pos
		}
		if n.lookup("ipv4Prefixes") != nil {
			d.errorf(f.pos, p.field("ipv4PrefixCount"), "keep ipv4Prefixes to pin prefixes, or ipv4PrefixCount to let the cloud pick them", "ipv4Prefixes and ipv4PrefixCount are exclusive")
		}
	}
	if f := n.lookup("ipv4PrefixesOnHost"); f != nil {
		x.OnHostPos = f.val.pos
		x.OnHost, _ = d.boolv(f.val, p.field("ipv4PrefixesOnHost"))
		// It asks for nothing without prefixes: most likely the count or
		// the list was removed or misspelt, and the user expects the host
		// to answer for addresses it will never get.
		if x.OnHost && n.lookup("ipv4Prefixes") == nil && n.lookup("ipv4PrefixCount") == nil {
			d.errorf(f.val.pos, p.field("ipv4PrefixesOnHost"), "add ipv4Prefixes or ipv4PrefixCount, or remove ipv4PrefixesOnHost",
				"ipv4PrefixesOnHost without ipv4Prefixes or ipv4PrefixCount: nothing to put on the host")
		}
	}
	return x
}

// cardAndQueues decodes a secondary ENI's networkCard and queues.
func (d *decoder) cardAndQueues(n *node, p path, x *ENI) {
	if f := n.lookup("networkCard"); f != nil {
		x.NetworkCardPos = f.val.pos
		if c, ok := d.intv(f.val, p.field("networkCard"), 0, maxNetworkCards-1); ok {
			x.NetworkCard, x.NetworkCardSet = c, true
		}
	}
	if f := n.lookup("queues"); f != nil {
		x.QueuesPos = f.val.pos
		if q, ok := d.intv(f.val, p.field("queues"), 1, maxQueuesPerENI); ok {
			x.Queues = q
		}
	}
}

// typeColumns6 decodes an instance type row's IPv6, card and queue
// columns.
func (d *decoder) typeColumns6(n *node, p path, t *InstanceType) bool {
	ok := true
	if y := n.lookup("maxIpv6PerEni"); y != nil {
		var ok1 bool
		t.MaxIPv6PerENI, ok1 = d.intv(y.val, p.field("maxIpv6PerEni"), 0, maxIPv6PerENI)
		ok = ok && ok1
	}
	if y := n.lookup("networkCards"); y != nil {
		var ok1 bool
		t.NetworkCards, ok1 = d.intv(y.val, p.field("networkCards"), 1, maxNetworkCards)
		ok = ok && ok1
	}
	if y := n.lookup("maxQueuesPerEni"); y != nil {
		var ok1 bool
		t.MaxQueuesPerENI, ok1 = d.intv(y.val, p.field("maxQueuesPerEni"), 1, maxQueuesPerENI)
		ok = ok && ok1
	}
	return ok
}
