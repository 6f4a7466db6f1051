package render

import (
	_ "embed"
	"net/netip"
	"strconv"

	"github.com/ecsnet/ecsnet/schema"
)

// ifupdown renders the Debian stack (Debian 8-13, Ubuntu 14.04/16.04): one
// file of stanzas that /etc/network/interfaces sources, mode 0644:
//
//	etc/network/interfaces.d/60-ecsnet       Debian
//	etc/network/interfaces.d/60-ecsnet.cfg   Ubuntu 14.04/16.04, whose
//	                                         interfaces sources only *.cfg
//
// cloud-init owns 50-cloud-init (the primary ENI by DHCP); this file only
// adds to it, and cloud-init never rewrites it.
//
// The primary ENI's secondary addresses are alias stanzas, one per
// address (auto eth0:N / iface eth0:N inet static / address A/len), with
// no gateway: the DHCP stanza owns the default route, and a second
// `gateway` makes ifup fail with "File exists" and leave the stanza half
// up (seed erratum E5). Addresses are CIDR (E6).
//
// A secondary ENI is one logical interface, ecsnet-<eni>: the first stanza
// holds its primary address and, as up/down commands, its table routes and
// one rule per address; each further address is another stanza of the same
// name, which ifup applies together (one `address` per stanza: a second
// one in a stanza is silently ignored). On ifupdown 0.8.20 and later
// (Debian 10+) an `auto mac/<MAC>/=ecsnet-<eni>` line binds it to the
// interface with the ENI's MAC, whatever its name; older releases name the
// interface (eth<N>) and the apply script checks that eth<N> has the MAC.
//
// The apply script never restarts networking (which bounces every
// interface: E7): it runs ifdown, with the old file still installed, for
// the stanzas that left the bundle, installs the file, runs ifup for the
// stanzas that are not up, and converges the rest with ip(8), so that a
// stanza that gained or lost an address is not taken down (a VIP stays
// reachable while its neighbours change).
//
// IPv6 and IPv4 prefixes (dualstack.go): a secondary ENI's IPv6
// addresses are inet6 static stanzas of its name (accept_ra 0), the
// first holding its IPv6 block and default route via the vSwitch's IPv6
// gateway in its table and one ip -6 rule per address; the prefixes it
// answers for are local routes (table local) and rules on its first
// stanza. The primary
// ENI's are alias stanzas eth0:v6 and eth0:px (ifupdownPrimaryDual).
func ifupdown(h *Host) ([]File, error) {
	if err := checkHost(h); err != nil {
		return nil, err
	}
	byMAC := ifupdownByMAC(h.OS)
	path := "etc/network/interfaces.d/60-ecsnet"
	if h.OS == "ubuntu14.04" || h.OS == "ubuntu16.04" {
		path += ".cfg"
	}
	b := newText(512 + 200*len(h.Primary.Secondary) + 1000*len(h.Secondary) + 250*addrCount(h))
	data := newText(160 + 64*addrCount(h))
	b.str(generatedBy("# ", h))
	b.str("# cloud-init's 50-cloud-init brings the primary ENI up by DHCP; this file\n# only adds to it.\n")
	data.str("# IFUPDOWN: stanza name, NIC key (- when the name is the interface's),\n" +
		"# the stanza's addresses.\nIFUPDOWN=(\n")
	// record adds the data record of one stanza: its name, NIC key and
	// addresses (address/prefix, comma-separated).
	record := func(name, key string, bits int, addrs []netip.Addr, bits6 int, addrs6 []netip.Addr) {
		data.str("  '")
		data.shqText(name, " ", key, " ")
		for i, a := range addrs {
			if i > 0 {
				data.byte(',')
			}
			data.cidr(a, bits)
		}
		for i, a := range addrs6 {
			if i > 0 || len(addrs) > 0 {
				data.byte(',')
			}
			data.cidr(a, bits6)
		}
		data.str("'\n")
	}
	p := h.Primary
	if len(p.Secondary) > 0 {
		b.str("\n# Secondary addresses of the ", nicTitle(p), ".\n# Alias stanzas never name a gateway: the DHCP stanza owns the default route.\n")
	}
	for _, a := range p.Secondary {
		alias := p.Name() + ":" + strconv.FormatUint(uint64(aliasNum(p, a)), 10)
		b.str("auto ", alias, "\niface ", alias, " inet static\n    address ")
		b.cidr(a, p.Bits())
		b.byte('\n')
		record(alias, "-", p.Bits(), []netip.Addr{a}, 0, nil)
	}
	ifupdownPrimaryDual(b, p, record)
	for _, n := range h.Secondary {
		b.str("\n# ", upperFirst(nicTitle(n)), ".\n", describe("# ", n))
		b.str("# Static, no gateway: its default route is in table ")
		b.int(n.Table)
		b.str(", which one rule\n# per address selects for traffic from that address.\n")
		name, key := n.Name(), "-"
		if byMAC {
			name, key = "ecsnet-"+n.ENI, nicKey(n)
			b.str("auto mac/", n.MAC, "/=", name, "\n")
		} else {
			b.str("auto ", name, "\n")
		}
		addrs := n.AllAddresses()
		for i, a := range addrs {
			b.str("iface ", name, " inet static\n    address ")
			b.cidr(a, n.Bits())
			b.byte('\n')
			if i > 0 {
				continue
			}
			b.str("    up ip -4 route replace ")
			b.prefix(n.Prefix)
			b.str(" dev \"$IFACE\" scope link table ")
			b.int(n.Table)
			b.str("\n    up ip -4 route replace default via ")
			b.addr(n.Gateway)
			b.str(" dev \"$IFACE\" table ")
			b.int(n.Table)
			b.byte('\n')
			for _, x := range n.HostPrefixes() {
				b.str("    up ip -4 route replace local ")
				b.prefix(x)
				b.str(" dev \"$IFACE\" table local\n")
			}
			for _, r := range addrs {
				b.str("    up ip -4 rule del ")
				b.rule(r, n)
				b.str(" 2>/dev/null || true\n    up ip -4 rule add ")
				b.rule(r, n)
				b.byte('\n')
			}
			for _, x := range n.HostPrefixes() {
				b.str("    up ip -4 rule del ")
				b.ruleFrom(x, n)
				b.str(" 2>/dev/null || true\n    up ip -4 rule add ")
				b.ruleFrom(x, n)
				b.byte('\n')
			}
			for _, r := range addrs {
				b.str("    down ip -4 rule del ")
				b.rule(r, n)
				b.str(" || true\n")
			}
			for _, x := range n.HostPrefixes() {
				b.str("    down ip -4 rule del ")
				b.ruleFrom(x, n)
				b.str(" || true\n    down ip -4 route del local ")
				b.prefix(x)
				b.str(" dev \"$IFACE\" table local || true\n")
			}
			b.str("    down ip -4 route flush table ")
			b.int(n.Table)
			b.str(" || true\n")
		}
		var v6 []netip.Addr
		if n.HasIPv6() {
			v6 = n.IPv6
		}
		for i, a := range v6 {
			// inet6 static: ifupdown turns autoconf off and, with
			// accept_ra 0, router advertisements; dad-attempts 0 adds
			// the address without duplicate address detection (the
			// cloud assigns each address once), so it is usable at once
			// and ifup does not wait for DAD to settle.
			b.str("iface ", name, " inet6 static\n    address ")
			b.cidr(a, n.IPv6Bits())
			b.str("\n    accept_ra 0\n    dad-attempts 0\n")
			if i > 0 {
				continue
			}
			b.str("    up ip -6 route replace ")
			b.prefix(n.IPv6Prefix)
			b.str(" dev \"$IFACE\" table ")
			b.int(n.Table)
			b.str("\n    up ip -6 route replace default via ")
			b.addr(n.IPv6Gateway())
			b.str(" dev \"$IFACE\" table ")
			b.int(n.Table)
			b.byte('\n')
			for _, r := range v6 {
				b.str("    up ip -6 rule del ")
				b.rule(r, n)
				b.str(" 2>/dev/null || true\n    up ip -6 rule add ")
				b.rule(r, n)
				b.byte('\n')
			}
			for _, r := range v6 {
				b.str("    down ip -6 rule del ")
				b.rule(r, n)
				b.str(" || true\n")
			}
			b.str("    down ip -6 route flush table ")
			b.int(n.Table)
			b.str(" || true\n")
		}
		record(name, key, n.Bits(), addrs, n.IPv6Bits(), v6)
	}
	data.str(")\nIFUPDOWN_FILE=")
	data.shq(path)
	data.byte('\n')
	return linuxBundle(h, applyScript{
		stack: "ifupdown",
		files: []File{{Path: path, Mode: 0o644, Data: b.bytes()}},
		// Alias stanzas name the primary interface; without MAC
		// patterns, so do the secondary ENIs' stanzas.
		fixedName: func(n NIC) bool { return n.ENI == "" || !byMAC },
		data:      data.String(),
		code:      ifupdownCode,
	})
}

// ifupdownByMAC reports whether the OS's ifupdown (0.8.20 or later) can
// bind a stanza to a MAC with `auto mac/<MAC>/=<name>`. Releases we do not
// know get the older, name-based form.
func ifupdownByMAC(os schema.OS) bool {
	switch os {
	case "debian10", "debian11", "debian12", "debian13":
		return true
	}
	return false
}

// ifupdownPrimaryDual writes the stanzas of the primary ENI's IPv6
// addresses and of the prefixes it answers for. Both are alias stanzas of
// method manual, family inet, whose commands do the work: ifupdown
// deprecates an IPv6 address it adds on an alias stanza (preferred_lft 0)
// and, for family inet6 with method manual, takes the whole interface
// down on ifdown (both seen with ifupdown 0.8.41); inet manual on an alias
// leaves the link alone. The commands name the interface without the
// alias label.
func ifupdownPrimaryDual(b *text, p NIC, record func(string, string, int, []netip.Addr, int, []netip.Addr)) {
	const dev = ` dev "${IFACE%%:*}"`
	if p.HasIPv6() {
		name := p.Name() + ":v6"
		b.str("\n# IPv6 addresses of the ", nicTitle(p), ",\n",
			"# and its IPv6 default route via the vSwitch's IPv6 gateway, in the main table.\n")
		b.str("auto ", name, "\niface ", name, " inet manual\n")
		// As inet6 static's accept_ra 0 does for a secondary ENI.
		b.str(`    up sysctl -q -e -w net.ipv6.conf."${IFACE%%:*}".accept_ra=0`, "\n")
		for _, a := range p.IPv6 {
			b.str("    up ip -6 addr replace ")
			b.cidr(a, p.IPv6Bits())
			b.str(dev, " nodad\n")
		}
		b.str("    up ip -6 route replace default via ")
		b.addr(p.IPv6Gateway())
		b.str(dev, "\n    down ip -6 route del default via ")
		b.addr(p.IPv6Gateway())
		b.str(dev, " || true\n")
		for _, a := range p.IPv6 {
			b.str("    down ip -6 addr del ")
			b.cidr(a, p.IPv6Bits())
			b.str(dev, " || true\n")
		}
		record(name, "-", 0, nil, p.IPv6Bits(), p.IPv6)
	}
	if px := p.HostPrefixes(); len(px) > 0 {
		name := p.Name() + ":px"
		b.str("\n# IPv4 prefixes of the ", nicTitle(p), ":\n",
			"# local routes, so that the host answers for every address in them.\n")
		b.str("auto ", name, "\niface ", name, " inet manual\n")
		for _, x := range px {
			b.str("    up ip -4 route replace local ")
			b.prefix(x)
			b.str(dev, " table local\n")
		}
		for _, x := range px {
			b.str("    down ip -4 route del local ")
			b.prefix(x)
			b.str(dev, " table local || true\n")
		}
		record(name, "-", 0, nil, 0, nil)
	}
}

//go:embed scripts/stack-ifupdown.sh
var ifupdownCode string
