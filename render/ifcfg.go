package render

import (
	_ "embed"
	"strconv"
	"strings"
)

// ifcfg renders the initscripts stack (CentOS/RHEL 6-7, Alibaba Cloud
// Linux 2): files that /etc/sysconfig/network-scripts/ifup and NetworkManager's
// ifcfg-rh plugin both read, under etc/sysconfig/network-scripts/, mode 0644:
//
//	ifcfg-eth0:N   one alias file per secondary address of the primary ENI:
//	               DEVICE, IPADDR, PREFIX, ONPARENT and nothing else. No
//	               GATEWAY: the DHCP parent owns the default route (seed
//	               errata E2, E3). Alias files are the only form both
//	               initscripts and NM honour on a DHCP parent, and cloud-init
//	               never rewrites them.
//	ifcfg-ethN     a secondary ENI: HWADDR, static address, DEFROUTE=no, no
//	               GATEWAY, NM_CONTROLLED=no (this stack is initscripts').
//	ifcfg-ethN:M   its secondary addresses, as for eth0.
//	route-ethN     its subnet and default route, in table 1000+N.
//	rule-ethN      one rule per address: from A table 1000+N priority 1000+N.
//
// N in eth0:N is the address's offset in its vSwitch block (aliasNum). Every
// value is KEY=value with no spaces around '=' and no quotes needed: the
// values are addresses, numbers and names checked by checkHost (seed
// erratum E1 was spaces around '=', which bash, sourcing the file, runs as
// a command); the one list, IPV6ADDR_SECONDARIES, is double-quoted.
//
// IPv6 and IPv4 prefixes (dualstack.go), secondary ENIs: ifcfg-ethN gets
// IPV6INIT=yes, IPV6_AUTOCONF=no (no router advertisements), IPV6ADDR and
// IPV6ADDR_SECONDARIES; route6-ethN its IPv6 block and default route via
// the vSwitch's IPv6 gateway in its table, rule6-ethN one rule per IPv6
// address (ifup-routes passes their lines to ip -6). Prefixes the host
// answers for are local routes (table local) in route-ethN and rules in
// rule-ethN. The
// primary ENI's IPv6 addresses and prefixes have no file: they would
// belong in cloud-init's ifcfg-eth0 (alias files are IPv4 only), so the
// apply script adds them with ip(8).
//
// The apply script installs the files and applies them live with ip(8),
// as ifup-aliases and ifup-routes would, without ifup/ifdown of eth0; it
// refuses when NetworkManager manages the primary interface (render that
// host with network: networkmanager) or initscripts is not installed.
func ifcfg(h *Host) ([]File, error) {
	if err := checkHost(h); err != nil {
		return nil, err
	}
	files := make([]File, 0, addrCount(h)+2*len(h.Secondary)+1)
	dir := "etc/sysconfig/network-scripts/"
	gen := generatedBy("# ", h)
	aliases := func(n NIC) {
		title := nicTitle(n)
		name := n.Name()
		for _, a := range n.Secondary {
			alias := name + ":" + strconv.FormatUint(uint64(aliasNum(n, a)), 10)
			b := newText(len(gen) + len(title) + 200)
			b.str(gen, "# Secondary address ")
			b.addr(a)
			b.str(" of the ", title, ".\n# An alias file names no gateway: the parent owns the default route.\nDEVICE=", alias, "\nIPADDR=")
			b.addr(a)
			b.str("\nPREFIX=")
			b.int(n.Bits())
			b.str("\nONPARENT=yes\n")
			files = append(files, File{Path: dir + "ifcfg-" + alias, Mode: 0o644, Data: b.bytes()})
		}
	}
	aliases(h.Primary)
	for _, n := range h.Secondary {
		name := n.Name()
		title := nicTitle(n)
		b := newText(len(gen) + len(title) + 500)
		b.str(gen, "# ", upperFirst(title), ".\n", describe("# ", n),
			"# Static, and never the default route: its gateway lives in table ")
		b.int(n.Table)
		b.str(",\n# which rule-", name, " selects for traffic from its addresses.\n",
			"DEVICE=", name, "\nHWADDR=", n.MAC, "\nTYPE=Ethernet\nONBOOT=yes\nBOOTPROTO=none\nIPADDR=")
		b.addr(n.Address)
		b.str("\nPREFIX=")
		b.int(n.Bits())
		b.str("\nDEFROUTE=no\nPEERDNS=no\n")
		if n.HasIPv6() {
			// ifup-ipv6: static addresses, IPV6_AUTOCONF=no turns
			// autoconfiguration and router advertisements off; no
			// IPV6_DEFAULTGW (route6-ethN has the default route, in
			// the ENI's table). The list of further addresses is one
			// value with spaces, hence the quotes.
			b.str("IPV6INIT=yes\nIPV6_AUTOCONF=no\nIPV6_DEFROUTE=no\nIPV6ADDR=")
			b.cidr(n.IPv6[0], n.IPv6Bits())
			b.byte('\n')
			if len(n.IPv6) > 1 {
				b.str("IPV6ADDR_SECONDARIES=\"")
				for i, a := range n.IPv6[1:] {
					if i > 0 {
						b.byte(' ')
					}
					b.cidr(a, n.IPv6Bits())
				}
				b.str("\"\n")
			}
		} else {
			b.str("IPV6INIT=no\n")
		}
		b.str("NM_CONTROLLED=no\n")
		files = append(files, File{Path: dir + "ifcfg-" + name, Mode: 0o644, Data: b.bytes()})
		aliases(n)

		prefixes := n.HostPrefixes()
		b = newText(len(gen) + len(title) + 200 + 64*len(prefixes))
		b.str(gen, "# Routes of ", title, ", in its own table.\n")
		b.prefix(n.Prefix)
		b.str(" dev ", name, " table ")
		b.int(n.Table)
		b.str("\ndefault via ")
		b.addr(n.Gateway)
		b.str(" dev ", name, " table ")
		b.int(n.Table)
		b.byte('\n')
		if len(prefixes) > 0 {
			b.str("# Its IPv4 prefixes: local routes (table local), so that the host answers for\n# every address in them.\n")
		}
		for _, x := range prefixes {
			b.str("local ")
			b.prefix(x)
			b.str(" dev ", name, " table local\n")
		}
		files = append(files, File{Path: dir + "route-" + name, Mode: 0o644, Data: b.bytes()})

		b = newText(len(gen) + len(title) + 100 + 60*(1+len(n.Secondary)+len(prefixes)))
		b.str(gen, "# Traffic from the addresses of ", title, " uses table ")
		b.int(n.Table)
		b.str(".\n")
		for _, a := range n.AllAddresses() {
			b.rule(a, n)
			b.byte('\n')
		}
		for _, x := range prefixes {
			b.ruleFrom(x, n)
			b.byte('\n')
		}
		files = append(files, File{Path: dir + "rule-" + name, Mode: 0o644, Data: b.bytes()})

		if !n.HasIPv6() {
			continue
		}
		b = newText(len(gen) + len(title) + 300)
		b.str(gen, "# IPv6 routes of ", title, ", in its own table (ip -6 route add).\n")
		b.prefix(n.IPv6Prefix)
		b.str(" dev ", name, " table ")
		b.int(n.Table)
		b.str("\ndefault via ")
		b.addr(n.IPv6Gateway())
		b.str(" dev ", name, " table ")
		b.int(n.Table)
		b.byte('\n')
		files = append(files, File{Path: dir + "route6-" + name, Mode: 0o644, Data: b.bytes()})

		b = newText(len(gen) + len(title) + 100 + 80*len(n.IPv6))
		b.str(gen, "# Traffic from the IPv6 addresses of ", title, " uses table ")
		b.int(n.Table)
		b.str(" (ip -6 rule add).\n")
		for _, a := range n.IPv6 {
			b.rule(a, n)
			b.byte('\n')
		}
		files = append(files, File{Path: dir + "rule6-" + name, Mode: 0o644, Data: b.bytes()})
	}
	return linuxBundle(h, withPrimaryBoot(h, applyScript{
		stack:     "ifcfg",
		files:     files,
		fixedName: func(NIC) bool { return true },
		code:      ifcfgCode,
	}))
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

//go:embed scripts/stack-ifcfg.sh
var ifcfgCode string
