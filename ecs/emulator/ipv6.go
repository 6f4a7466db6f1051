package emulator

import (
	"encoding/binary"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
)

// IPv6 addresses and IPv4 prefixes (issue 17), as the API reference and
// the user guide describe them:
//
//   - AssignIpv6Addresses
//     (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-assignipv6addresses):
//     Ipv6Address.N or Ipv6AddressCount (1-10, not both); the ENI's vSwitch
//     must have IPv6 enabled; the ENI Available or InUse, a primary ENI's
//     instance Running or Stopped; an Available ENI takes up to 10 IPv6
//     addresses, an attached one as many as its type's
//     EniIpv6AddressQuantity. Error codes from the page's table (as the
//     2021 Chinese reference lists them, AlibabaCloudDocs/ecs
//     cn.zh-CN/API参考/弹性网卡/AssignIpv6Addresses.md):
//     403 InvalidVSwitch.Ipv6NotTurnOn, 403 InvalidOperation.Ipv6CountExceeded,
//     403 InvalidOperation.Ipv6NotSupport, 403 InvalidIp.Address,
//     403 InvalidIp.IpRepeated; UnassignIpv6Addresses adds 403
//     InvalidIp.IpUnassigned.
//   - IP prefixes (https://www.alibabacloud.com/help/en/ecs/user-guide/ip-prefix):
//     IPv4 prefixes are /28, "a standard CIDR block" (aligned), inside the
//     ENI's vSwitch block, never overlapping an address or another prefix;
//     "Each IP prefix counts as one IP address" of the type's per-ENI
//     private IPv4 quota (ecs.g7.large: 6 per ENI, so 5 prefixes and no
//     secondary address); an Available ENI takes up to 49. Ipv4Prefix.N and
//     Ipv4PrefixCount take 1-10 per call (Terway's maxPrefixPerAPICall,
//     AliyunContainerService/terway pkg/controller/multi-ip/node/pool.go).
//     Terway also states that one call never carries addresses and
//     prefixes together ("ECS does not allow requesting both individual IPs
//     and prefixes in the same request", pkg/aliyun/client/options.go; the
//     same for unassigning, ecs_2.go): the emulator refuses such a call.
//   - A vSwitch with free addresses but no free aligned /28 (fragmented)
//     fails a prefix request with 403 InvalidVSwitchId.IpNotEnough, the
//     code CreateNetworkInterface and AssignPrivateIpAddresses document for
//     a vSwitch that cannot give what is asked; Terway blocks a vSwitch on
//     that code (and QuotaExceeded.PrivateIpAddress) after a create that
//     asked for prefixes (pool.go). The message says that no aligned /28 is
//     left. The user guide also says prefixes come from a vSwitch's
//     reserved CIDR blocks (VPC CreateVSwitchCidrReservation); the emulator
//     does not model reservations and takes prefixes from the whole block.
//
// A vSwitch's IPv6 block is a /64 (CreateVSwitch: "the IPv6 CIDR block
// uses a /64 mask", https://www.alibabacloud.com/help/en/vpc/developer-reference/api-vpc-2016-04-28-createvswitch).
// The VPC guide reserves "the first and last nine IPv6 addresses of the
// vSwitch" beside "the first and last three IPv4 addresses"
// (https://www.alibabacloud.com/help/en/vpc/user-guide/use-a-reserved-network-segment-to-assign-a-prefix-address-segment-to-an-eni);
// read like the IPv4 rule (the network address and the last three), the
// emulator keeps the network address and the last nine.

// Per-call and unattached-ENI bounds (pages above).
const (
	maxIPv6PerCall      = 10 // Ipv6Address.N, Ipv6AddressCount
	unboundMaxIPv6      = 10 // IPv6 addresses on an Available ENI
	maxPrefixesPerCall  = 10 // Ipv4Prefix.N, Ipv4PrefixCount
	prefixBits          = 28
	prefixSize          = 16
	reservedIPv6AtEnd   = 9
	maxQueueNumber      = 2048 // QueueNumber's range, 1-2048
	ipv6VSwitchBlockLen = 64
)

// usable6 reports whether a is an IPv6 address an ENI may hold in v.
func (v *vswitch) usable6(a netip.Addr) bool {
	if !v.ipv6.IsValid() || !a.Is6() || a.Is4In6() || !v.ipv6.Contains(a) {
		return false
	}
	lo := host64(a)
	return lo != 0 && lo < ^uint64(0)-(reservedIPv6AtEnd-1)
}

// host64 returns the low 64 bits of a: its offset in a /64.
func host64(a netip.Addr) uint64 {
	b := a.As16()
	return binary.BigEndian.Uint64(b[8:])
}

// allocate6 picks n free IPv6 addresses of v for eniID, drawn from the
// ENI's stream like IPv4 addresses.
func (c *cloud) allocate6(v *vswitch, n int, eniID string) []netip.Addr {
	out := make([]netip.Addr, 0, n)
	net := v.ipv6.Addr().As16()
	for range n {
		for {
			b := net
			binary.BigEndian.PutUint64(b[8:], c.gen.pick(eniID, ^uint64(0)))
			a := netip.AddrFrom16(b)
			if _, taken := v.used6[a]; !taken && v.usable6(a) {
				v.used6[a] = eniID
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// prefixFree reports whether the /28 at offset off of v is inside the
// block, clear of the reserved addresses and of every address and prefix
// an ENI holds.
func (v *vswitch) prefixFree(off uint32) bool {
	if off+prefixSize > v.size {
		return false
	}
	for i := range uint32(prefixSize) {
		a := u32ToAddr(v.base + off + i)
		if !v.usable(a) || v.inUse(a) {
			return false
		}
	}
	return true
}

func (v *vswitch) takePrefix(p netip.Prefix, eniID string) {
	base := addrToU32(p.Addr())
	for i := range uint32(prefixSize) {
		v.used[base+i] = eniID
	}
}

func (v *vswitch) releasePrefix(p netip.Prefix) {
	base := addrToU32(p.Addr())
	for i := range uint32(prefixSize) {
		delete(v.used, base+i)
	}
}

// freePrefixes counts v's free aligned /28s, stopping at limit (0: no
// limit); skip, when valid, is an address whose block does not count.
func (v *vswitch) freePrefixes(limit int, skip netip.Addr) int {
	n := 0
	for off := uint32(0); off+prefixSize <= v.size; off += prefixSize {
		if v.prefixFree(off) && !(skip.IsValid() && addrToU32(skip)-v.base-off < prefixSize) {
			n++
			if n == limit {
				break
			}
		}
	}
	return n
}

// allocatePrefixes takes n free aligned /28s of v for eniID: each a draw
// of the ENI's stream among the blocks, searched onwards from there to the
// next free one, like allocate. The caller has checked that n are free.
func (c *cloud) allocatePrefixes(v *vswitch, n int, eniID string) []netip.Prefix {
	blocks := v.size / prefixSize
	out := make([]netip.Prefix, 0, n)
	for range n {
		b := uint32(c.gen.pick(eniID, uint64(blocks)))
		for !v.prefixFree(b * prefixSize) {
			b = (b + 1) % blocks
		}
		p := netip.PrefixFrom(u32ToAddr(v.base+b*prefixSize), prefixBits)
		v.takePrefix(p, eniID)
		out = append(out, p)
	}
	return out
}

// hasPrefix reports whether the ENI holds p.
func (e *eni) hasPrefix(p netip.Prefix) bool {
	_, ok := slices.BinarySearchFunc(e.prefixes, p, comparePrefix)
	return ok
}

func (e *eni) hasIPv6(a netip.Addr) bool {
	_, ok := slices.BinarySearchFunc(e.ipv6, a, netip.Addr.Compare)
	return ok
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// addr6List parses name.N as IPv6 addresses.
func (p params) addr6List(name string, maxN int) ([]netip.Addr, *apiError) {
	ss, err := p.list(name, maxN)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		a, perr := netip.ParseAddr(s)
		if perr != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
			return nil, errIPv6Address(s)
		}
		out[i] = a
	}
	return out, nil
}

// prefixList parses name.N as IPv4 /28 prefixes written as their network
// address.
func (p params) prefixList(name string, maxN int) ([]netip.Prefix, *apiError) {
	ss, err := p.list(name, maxN)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		pf, perr := netip.ParsePrefix(s)
		switch {
		case perr != nil || !pf.Addr().Is4():
			return nil, errInvalid(name+".N", s+" is not an IPv4 prefix like 10.0.1.16/28")
		case pf.Bits() != prefixBits:
			return nil, errInvalid(name+".N", s+" is not a /28; IPv4 prefixes are /28")
		case pf.Masked() != pf:
			return nil, errInvalid(name+".N", s+" is not aligned: a /28 starts at a multiple of 16 ("+pf.Masked().String()+")")
		}
		out[i] = pf
	}
	return out, nil
}

// ipv6Request reads Ipv6Address.N or Ipv6AddressCount, which exclude each
// other. Ipv6Prefix.N and Ipv6PrefixCount are not modelled.
func ipv6Request(p params) (addrs []netip.Addr, count int, err *apiError) {
	if err := p.rejectUnsupported("Ipv6Prefix.", "Ipv6PrefixCount"); err != nil {
		return nil, 0, err
	}
	addrs, err = p.addr6List("Ipv6Address", maxIPv6PerCall)
	if err != nil {
		return nil, 0, err
	}
	if p.has("Ipv6AddressCount") {
		if len(addrs) > 0 {
			return nil, 0, errConflict("Ipv6Address.N", "Ipv6AddressCount")
		}
		count, err = p.integer("Ipv6AddressCount", 0, 1, maxIPv6PerCall)
		return nil, count, err
	}
	return addrs, len(addrs), nil
}

// prefixRequest reads Ipv4Prefix.N or Ipv4PrefixCount, which exclude each
// other.
func prefixRequest(p params) (prefixes []netip.Prefix, count int, err *apiError) {
	prefixes, err = p.prefixList("Ipv4Prefix", maxPrefixesPerCall)
	if err != nil {
		return nil, 0, err
	}
	if p.has("Ipv4PrefixCount") {
		if len(prefixes) > 0 {
			return nil, 0, errConflict("Ipv4Prefix.N", "Ipv4PrefixCount")
		}
		count, err = p.integer("Ipv4PrefixCount", 0, 1, maxPrefixesPerCall)
		return nil, count, err
	}
	return prefixes, len(prefixes), nil
}

// checkIPv6 validates IPv6 addresses asked for an ENI in v; e is nil at
// create time.
func (c *cloud) checkIPv6(v *vswitch, e *eni, addrs []netip.Addr) *apiError {
	seen := map[netip.Addr]bool{}
	for _, a := range addrs {
		if seen[a] {
			return errIPRepeated(a.String())
		}
		seen[a] = true
	}
	for _, a := range addrs {
		if !v.usable6(a) {
			return newErr(http.StatusForbidden, "InvalidIp.Address",
				"The specified ipAddress %q is invalid: it is not a usable address of vSwitch %s's IPv6 block %s (the network address and the last %d are reserved).",
				a, v.id, v.ipv6, reservedIPv6AtEnd)
		}
	}
	for _, a := range addrs {
		if e != nil && e.hasIPv6(a) {
			return newErr(http.StatusForbidden, "InvalidIp.IpAssigned",
				"The IPv6 address %s is already assigned to the ENI %s.", a, e.id)
		}
		if owner, taken := v.used6[a]; taken {
			return newErr(http.StatusForbidden, "InvalidIp.IpAssigned",
				"The IPv6 address %s is already assigned to another ENI (%s).", a, owner)
		}
	}
	return nil
}

// checkPrefixes validates prefixes asked for an ENI in v; e is nil at
// create time.
func (c *cloud) checkPrefixes(v *vswitch, e *eni, ps []netip.Prefix) *apiError {
	seen := map[netip.Prefix]bool{}
	for _, p := range ps {
		if seen[p] {
			return errIPRepeated(p.String())
		}
		seen[p] = true
	}
	for _, p := range ps {
		if !v.cidr.Contains(p.Addr()) || v.cidr.Bits() > prefixBits {
			return errIPInvalid(v, p.String())
		}
		off := addrToU32(p.Addr()) - v.base
		if !v.usable(p.Addr()) || !v.usable(u32ToAddr(v.base+off+prefixSize-1)) {
			return newErr(http.StatusForbidden, "InvalidVSwitchId.IpInvalid",
				"The prefix %s holds an address vSwitch %s (%s) reserves (the first address and the last three).", p, v.id, v.cidr)
		}
	}
	for _, p := range ps {
		if e != nil && e.hasPrefix(p) {
			return newErr(http.StatusForbidden, "InvalidIp.IpAssigned",
				"The prefix %s is already assigned to the ENI %s.", p, e.id)
		}
		if !v.prefixFree(addrToU32(p.Addr()) - v.base) {
			return newErr(http.StatusBadRequest, "InvalidPrivateIpAddress.Duplicated",
				"Specified private IP address is duplicated: the prefix %s overlaps an address or prefix in use.", p)
		}
	}
	return nil
}

// errPrefixNotEnough: no free aligned /28 is left, although addresses may
// be (see the top of this file for the code).
func errPrefixNotEnough(v *vswitch, want, free int) *apiError {
	return newErr(http.StatusForbidden, "InvalidVSwitchId.IpNotEnough",
		"The specified VSwitch %q has not enough IpAddress: %d /28 prefixes asked, %d free aligned /28 blocks left (%d free addresses; a prefix needs 16 consecutive, aligned ones).",
		v.id, want, free, v.free())
}

func errIPv6Address(s string) *apiError {
	return newErr(http.StatusForbidden, "InvalidIp.Address", "The specified ipAddress %q is invalid: not an IPv6 address.", s)
}

func errIPv6NotTurnOn(v *vswitch) *apiError {
	return newErr(http.StatusForbidden, "InvalidVSwitch.Ipv6NotTurnOn",
		"The specified VSwitch %q ipv6 function not turn on: it has no IPv6 CIDR block.", v.id)
}

// checkIPv6Room enforces the IPv6 count an ENI may reach with extra more:
// 10 while Available, the type's EniIpv6AddressQuantity when bound.
func (c *cloud) checkIPv6Room(e *eni, extra int) *apiError {
	if !e.bound() {
		if len(e.ipv6)+extra > unboundMaxIPv6 {
			return errIPv6Count(e, unboundMaxIPv6, "an unattached ENI")
		}
		return nil
	}
	in := c.instances[e.instanceID]
	t, _ := c.instanceType(in.typ)
	if t.maxIPv6 == 0 {
		return newErr(http.StatusForbidden, "InvalidOperation.Ipv6NotSupport",
			"The instanceType of %s not support ipv6 (instance %s, ENI %s).", in.typ, in.id, e.id)
	}
	if len(e.ipv6)+extra > t.maxIPv6 {
		return errIPv6Count(e, t.maxIPv6, "instance type "+in.typ)
	}
	return nil
}

func errIPv6Count(e *eni, limit int, why string) *apiError {
	return newErr(http.StatusForbidden, "InvalidOperation.Ipv6CountExceeded",
		"The number of eni %s ipv6 address exceeds the limit(%d, %s).", e.id, limit, why)
}

// checkSlots enforces the per-ENI private IPv4 quota with extra more
// addresses or prefixes: 1 + secondaries + prefixes within the type's
// EniPrivateIpAddressQuantity when bound, secondaries + prefixes within
// the unattached cap otherwise.
func (c *cloud) checkSlots(e *eni, extra int) *apiError {
	if !e.bound() {
		if e.slots()-1+extra > c.quotas.UnboundEniMaxSecondaryIps {
			return errIPsPerENI(e, c.quotas.UnboundEniMaxSecondaryIps, "secondary addresses and prefixes of an unattached ENI")
		}
		return nil
	}
	in := c.instances[e.instanceID]
	t, _ := c.instanceType(in.typ)
	if e.slots()+extra > t.maxIPs {
		return errIPsPerENI(e, t.maxIPs, "addresses per ENI of "+in.typ+", primary included, each /28 prefix counting as one")
	}
	return nil
}

type assignIPv6Response struct {
	RequestId          string `json:"RequestId"`
	NetworkInterfaceId string `json:"NetworkInterfaceId"`
	Ipv6Sets           struct {
		Ipv6Address []string `json:"Ipv6Address"`
	} `json:"Ipv6Sets"`
	Ipv6PrefixSets struct {
		Ipv6Prefix []string `json:"Ipv6Prefix"`
	} `json:"Ipv6PrefixSets"`
}

func (r assignIPv6Response) replay(id string) any { r.RequestId = id; return r }

// AssignIpv6Addresses adds IPv6 addresses, synchronously (the answer
// carries them, as the SDK's AssignIpv6AddressesResponse expects:
// Ipv6Sets.Ipv6Address is a list of strings).
func assignIpv6Addresses(s *Server, q *call) (any, *apiError) {
	c, p := s.cloud, q.p
	if r, err := s.replayed(q); r != nil || err != nil {
		return r, err
	}
	if _, err := p.required("NetworkInterfaceId"); err != nil {
		return nil, err
	}
	explicit, count, err := ipv6Request(p)
	if err != nil {
		return nil, err
	}
	if count == 0 {
		return nil, errMissing("Ipv6AddressCount")
	}
	e, err := s.lookupENI(p)
	if err != nil {
		return nil, err
	}
	if err := s.checkENIBusy(e, q.now); err != nil {
		return nil, err
	}
	if err := c.checkIPState(e, "assigning IPv6 addresses"); err != nil {
		return nil, err
	}
	v := c.vswitches[e.vsw]
	if !v.ipv6.IsValid() {
		return nil, errIPv6NotTurnOn(v)
	}
	if err := c.checkIPv6Room(e, count); err != nil {
		return nil, err
	}
	if err := c.checkIPv6(v, e, explicit); err != nil {
		return nil, err
	}
	s.touch(e, q.now)
	s.markBusy(e, q.now)
	added := explicit
	if len(added) > 0 {
		for _, a := range added {
			v.used6[a] = e.id
		}
	} else {
		added = c.allocate6(v, count, e.id)
	}
	e.ipv6 = append(e.ipv6, added...)
	slices.SortFunc(e.ipv6, netip.Addr.Compare)
	q.changed = true
	resp := assignIPv6Response{RequestId: q.requestID, NetworkInterfaceId: e.id}
	resp.Ipv6Sets.Ipv6Address = addrStrings(added)
	resp.Ipv6PrefixSets.Ipv6Prefix = []string{}
	s.remember(q, resp)
	return resp, nil
}

// UnassignIpv6Addresses removes IPv6 addresses. One the ENI does not hold
// is 403 InvalidIp.IpUnassigned, as for IPv4.
func unassignIpv6Addresses(s *Server, q *call) (any, *apiError) {
	c, p := s.cloud, q.p
	if err := p.rejectUnsupported("Ipv6Prefix."); err != nil {
		return nil, err
	}
	if _, err := p.required("NetworkInterfaceId"); err != nil {
		return nil, err
	}
	addrs, err := p.addr6List("Ipv6Address", maxIPv6PerCall)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, errMissing("Ipv6Address.1")
	}
	e, err := s.lookupENI(p)
	if err != nil {
		return nil, err
	}
	if err := s.checkENIBusy(e, q.now); err != nil {
		return nil, err
	}
	if err := c.checkIPState(e, "unassigning IPv6 addresses"); err != nil {
		return nil, err
	}
	seen := map[netip.Addr]bool{}
	for _, a := range addrs {
		switch {
		case seen[a]:
			return nil, errIPRepeated(a.String())
		case !e.hasIPv6(a):
			return nil, newErr(http.StatusForbidden, "InvalidIp.IpUnassigned",
				"The IPv6 address %s is not assigned to the ENI %s.", a, e.id)
		}
		seen[a] = true
	}
	v := c.vswitches[e.vsw]
	s.touch(e, q.now)
	s.markBusy(e, q.now)
	e.ipv6 = slices.DeleteFunc(e.ipv6, func(a netip.Addr) bool { return seen[a] })
	for a := range seen {
		delete(v.used6, a)
	}
	q.changed = true
	return requestOnly{q.requestID}, nil
}

// Response sets of the ENI describes: Ipv6Sets.Ipv6Set[].Ipv6Address and
// Ipv4PrefixSets.Ipv4PrefixSet[].Ipv4Prefix (the SDK's
// Ipv6SetsInDescribeNetworkInterfaces, Ipv4PrefixSetsInDescribeNetworkInterfaces
// and their twins in CreateNetworkInterface and DescribeInstances). They
// are left out when empty.

type ipv6Item struct {
	Ipv6Address string `json:"Ipv6Address"`
}

type ipv6Sets struct {
	Ipv6Set []ipv6Item `json:"Ipv6Set"`
}

type prefixItem struct {
	Ipv4Prefix string `json:"Ipv4Prefix"`
}

type prefixSets struct {
	Ipv4PrefixSet []prefixItem `json:"Ipv4PrefixSet"`
}

func ipv6SetsOf(e *eni) *ipv6Sets {
	if len(e.ipv6) == 0 {
		return nil
	}
	out := &ipv6Sets{Ipv6Set: make([]ipv6Item, len(e.ipv6))}
	for i, a := range e.ipv6 {
		out.Ipv6Set[i] = ipv6Item{a.String()}
	}
	return out
}

func prefixSetsOf(e *eni) *prefixSets {
	if len(e.prefixes) == 0 {
		return nil
	}
	out := &prefixSets{Ipv4PrefixSet: make([]prefixItem, len(e.prefixes))}
	for i, p := range e.prefixes {
		out.Ipv4PrefixSet[i] = prefixItem{p.String()}
	}
	return out
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// checkQueueNumber validates QueueNumber's range (1-2048,
// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-createnetworkinterface
// and ModifyNetworkInterfaceAttribute; the 2021 reference's code for a bad
// value is 403 InvalidParameter.InvalidEniQueueNumber).
func checkQueueNumber(p params) (int, *apiError) {
	s := p.get("QueueNumber")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxQueueNumber {
		return 0, newErr(http.StatusForbidden, "InvalidParameter.InvalidEniQueueNumber",
			"The specified QueueNumber %q is invalid: it must be 1 to %d.", s, maxQueueNumber)
	}
	return n, nil
}

// checkQueuesFit enforces MaximumQueueNumberPerEni of the type the ENI is
// (or is to be) attached to; a type that does not say is not checked.
func checkQueuesFit(e *eni, queues int, t instanceType) *apiError {
	if queues > 0 && t.maxQueues > 0 && queues > t.maxQueues {
		return newErr(http.StatusForbidden, "InvalidOperation.MaxEniQueueNumberExceeded",
			"The ENI %s's QueueNumber %d exceeds the most an ENI of instance type %s has (MaximumQueueNumberPerEni %d).",
			e.id, queues, t.id, t.maxQueues)
	}
	return nil
}
