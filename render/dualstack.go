package render

import "net/netip"

// What the six configuration-file stacks write for IPv6 addresses and
// IPv4 prefixes (issue 17). The decision, with its sources, is in
// NIC.IPv6Gateway's comment; in short:
//
//   - An ENI's IPv6 addresses are static, with the length of the vSwitch's
//     IPv6 block. Alibaba Cloud documents the IPv6 gateway as a fixed
//     address (the block's last address minus eight) and its own guides
//     configure it as a static default route; it documents no router
//     advertisements. So every stack turns their acceptance off where it
//     gives an interface IPv6 statics, and a secondary ENI's RA could never
//     put a default route through it into the main table.
//   - A secondary ENI is policy-routed as for IPv4: its IPv6 block and the
//     default route via the IPv6 gateway in its own table (1000+N), and
//     one `ip -6 rule` per IPv6 address, from the address to that table,
//     at the same priority as its IPv4 rules.
//   - The primary ENI has no table: its IPv6 addresses and the default
//     route via the IPv6 gateway go in the main table, and there are no
//     rules (as for its IPv4 secondaries).
//   - IPv4 prefixes are configured only when the desired state asks
//     (ipv4PrefixesOnHost; they usually feed a CNI that routes them
//     itself): a route of type local per prefix, so that the host answers
//     for every address in it, in table local, and for a secondary ENI a
//     rule from the prefix to its table, which sends the replies out
//     through the ENI. Table local, not the ENI's: the kernel consults it
//     first for every packet, while the ENI's table is reached only by
//     the rule, which matches packets from the prefix; an arriving packet
//     to the prefix would never find a local route there (ip route get
//     ... iif shows it). It is also where ip(8) and networkd put local
//     routes when no table is named.
//
// An IPv4-only NIC renders exactly as before: every addition below is
// conditional on the NIC having IPv6 addresses or prefixes on the host.

// localTable is the kernel's table of local routes (RT_TABLE_LOCAL).
const localTable = 255

// v6Default is the IPv6 default destination as the formats that want a
// prefix (NetworkManager's routes, netplan's to:) write it.
const v6Default = "::/0"

// ruleFrom writes "from P table T priority P" for an IPv4 prefix of a
// secondary NIC, as rule does for an address.
func (t *text) ruleFrom(p netip.Prefix, n NIC) {
	t.str("from ")
	t.prefix(p)
	t.str(" table ")
	t.int(n.Table)
	t.str(" priority ")
	t.int(n.Priority)
}

// dualCount is the number of IPv6 addresses and host prefixes of a NIC,
// to size a file's buffer.
func dualCount(n NIC) int { return len(n.IPv6) + len(n.HostPrefixes()) }

// hasDual reports whether a NIC has anything beyond IPv4 addresses for
// the host to configure.
func hasDual(n NIC) bool { return n.HasIPv6() || len(n.HostPrefixes()) > 0 }
