package emulator

import (
	"encoding/binary"
	"net/netip"
	"strings"
)

// IPv6 and IPv4 prefixes on the vSwitch side (issue 17).
//
// The IPv6 gateway of a vSwitch is a fixed global address of its block:
// the first of the nine addresses the vSwitch reserves at the end of its
// IPv6 block ("for IPv6, the first and the last nine IP addresses of each
// vSwitch are reserved": <block>:ffff:ffff:ffff:fff7 to :ffff,
// https://help.aliyun.com/zh/vpc/vpc-and-vswitch), which the metadata
// service lists as network/interfaces/macs/[mac]/ipv6-gateway (example
// 2408:XXXX:325:a204:ffff:ffff:ffff:fff7 beside vswitch-ipv6-cidr-block
// 2408:XXXX:325:a204::/64,
// https://help.aliyun.com/zh/ecs/user-guide/view-instance-metadata), as
// IPv4's .253 is the first of its three. Alibaba documents no router
// advertisements and its guides configure the gateway statically
// (IPV6_DEFAULTGW=<IPv6 gateway>), so the vSwitch side carries the
// address, answers neighbour solicitations and pings for it like the IPv4
// gateway, and sends no router advertisement: a render that needed one
// would fail here as on the cloud. The decision and its sources:
// /tmp/brief4/ipv6-gateway.md, copied into the README's hosts-mode section.

// ipv6Gateway is the IPv6 gateway of a vSwitch's IPv6 block, with the
// block's length (br0's address); zero when there is no block.
func ipv6Gateway(block netip.Prefix) netip.Prefix {
	if !block.IsValid() || !block.Addr().Is6() || block.Bits() > 124 {
		return netip.Prefix{}
	}
	a := block.Masked().Addr().As16()
	hi, lo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	// The block's last address: every bit after the prefix set.
	if b := block.Bits(); b < 64 {
		hi |= ^uint64(0) >> b
		lo = ^uint64(0)
	} else {
		lo |= ^uint64(0) >> (b - 64)
	}
	lo -= 8 // the last has its low four bits set: no borrow
	binary.BigEndian.PutUint64(a[:8], hi)
	binary.BigEndian.PutUint64(a[8:], lo)
	return netip.PrefixFrom(netip.AddrFrom16(a), block.Bits())
}

// metaIPv6List is the metadata service's form of an ENI's IPv6 addresses
// (ipv6s): bracketed, comma-separated, no quotes, unlike private-ipv4s'
// JSON ("[2408:XXXX:325:a204:1875:217f:184a:e4e]",
// https://help.aliyun.com/zh/ecs/user-guide/view-instance-metadata; Terway
// strips the brackets and splits on commas, AliyunContainerService/terway
// pkg/aliyun/metadata/metadata.go GetIPv6ByMac, whose tests serve
// "[fd00:4004:400::1,fd00:4004:400::2]").
func metaIPv6List(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return "[" + strings.Join(s, ",") + "]"
}

// metaPrefixList is the metadata service's form of an ENI's IPv4
// prefixes (ipv4-prefixes). The reference shows one prefix bare
// ("192.168.XX.XX/28", same page) and no example of several; the emulator
// writes one a line, the form of the service's other multi-valued leaves
// (dns-conf/nameservers), which reads the same for one prefix.
func metaPrefixList(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, "\n")
}

// addIPv6Metadata adds an ENI's IPv6 and prefix leaves to its metadata
// directory d. ipv6s (like Terway, which reads a 404 as "no IPv6
// address") and ipv4-prefixes are left out when the ENI has none; the
// vSwitch's block and gateway are there whenever the vSwitch has an IPv6
// block ("only for VPC instances with IPv6 configured"). The VPC's IPv6
// blocks (vpc-ipv6-cidr-blocks) are not modelled by the emulator and are
// left out.
func addIPv6Metadata(d metaDir, e *eni, v *vswitch) {
	if len(e.ipv6) > 0 {
		d["ipv6s"] = metaIPv6List(e.ipv6)
	}
	if len(e.prefixes) > 0 {
		d["ipv4-prefixes"] = metaPrefixList(e.prefixes)
	}
	if v != nil && v.ipv6.IsValid() {
		d["vswitch-ipv6-cidr-block"] = v.ipv6.Masked().String()
		d["ipv6-gateway"] = ipv6Gateway(v.ipv6).Addr().String()
	}
}
