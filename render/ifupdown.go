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
	record := func(name, key string, bits int, addrs ...netip.Addr) {
		data.str("  '")
		data.shqText(name, " ", key, " ")
		for i, a := range addrs {
			if i > 0 {
				data.byte(',')
			}
			data.cidr(a, bits)
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
		record(alias, "-", p.Bits(), a)
	}
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
			for _, r := range addrs {
				b.str("    up ip -4 rule del ")
				b.rule(r, n)
				b.str(" 2>/dev/null || true\n    up ip -4 rule add ")
				b.rule(r, n)
				b.byte('\n')
			}
			for _, r := range addrs {
				b.str("    down ip -4 rule del ")
				b.rule(r, n)
				b.str(" || true\n")
			}
			b.str("    down ip -4 route flush table ")
			b.int(n.Table)
			b.str(" || true\n")
		}
		record(name, key, n.Bits(), addrs...)
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

//go:embed scripts/stack-ifupdown.sh
var ifupdownCode string
