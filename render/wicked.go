package render

import _ "embed"

// wicked renders the SUSE stack (SLES 12/15, openSUSE Leap 15): sysconfig
// files under etc/sysconfig/network/, mode 0644, as wicked's compat-suse
// reader reads them:
//
//	ifcfg-eth0    the primary ENI: BOOTPROTO='dhcp', STARTMODE='auto' and one
//	              IPADDR_n='a.b.c.d/len' with LABEL_n='n' per secondary
//	              address (label eth0:n). The prefix length rides in IPADDR:
//	              NETMASK takes only a dotted mask (seed erratum E9: a
//	              length there becomes /32), and no key has spaces round
//	              '=' (E8: wicked skips such lines).
//	ifcfg-ethN    a secondary ENI: BOOTPROTO='static', IPADDR (its primary
//	              address) and IPADDR_n/LABEL_n; no gateway.
//	ifroute-ethN  its subnet and default routes, in table 1000+N.
//	ifrule-ethN   one rule per address (ipv4 from A table T priority P).
//
// wicked has no drop-in for an interface, so ifcfg-eth0 replaces the
// image's file (always rendered, so a later bundle never leaves eth0
// without one). The apply script refuses when the image's file is not a
// DHCP configuration, lists the settings it had that ecsnet's lacks, and
// keeps it (a later bundle without the file restores it). It installs
// the file with the image's own DHCP BOOTPROTO ('dhcp4', say) in place of
// 'dhcp', so converting a host changes its addresses only. n is the
// address's offset in its vSwitch block, as in alias names.
//
// IPv6 and IPv4 prefixes (dualstack.go): IPv6 addresses are
// IPADDR_V6_<i>='A/len' in the NIC's ifcfg file. A secondary ENI's
// ifroute file adds its IPv6 block and the default route via the
// vSwitch's IPv6 gateway in its table, and its ifrule file one ipv6 rule
// per address; prefixes the host answers for are routes with options
// `table local type local` and ipv4 rules. The primary ENI's IPv6 default
// route (main) and prefix routes (table local) are in ifroute-eth0,
// written only when it has them. wicked takes router advertisements'
// acceptance from sysctl (ifsysctl(5)), which the bundle does not set.
//
// Live, the primary ENI's addresses are added with ip(8) rather than by
// `wicked ifreload eth0`, which takes a changed interface down and up (and
// the host's own address and DHCP lease with it). cloud-init rewrites
// ifcfg-eth0 at every boot without them, so the bundle also installs a
// boot unit that adds them again with ip(8) (primaryboot.go); where
// cloud-init's network rendering is disabled, wicked applies them from
// ecsnet's file and the unit finds nothing to do. Secondary ENIs are the
// bundle's own: `wicked ifreload ethN` applies their changed files; their
// files name the interface, so the script checks that ethN has the ENI's
// MAC (an ifcfg LLADDR would set the MAC, not match it).
func wicked(h *Host) ([]File, error) {
	if err := checkHost(h); err != nil {
		return nil, err
	}
	dir := "etc/sysconfig/network/"
	files := make([]File, 0, 1+3*len(h.Secondary))
	gen := generatedBy("# ", h)
	add := func(name string, b *text) {
		files = append(files, File{Path: dir + name, Mode: 0o644, Data: b.bytes()})
	}
	suffixed := func(b *text, n NIC) {
		for _, a := range n.Secondary {
			k := aliasNum(n, a)
			b.str("IPADDR_")
			b.uint32(k)
			b.str("='")
			b.cidr(a, n.Bits())
			b.str("'\nLABEL_")
			b.uint32(k)
			b.str("='")
			b.uint32(k)
			b.str("'\n")
		}
		if !n.HasIPv6() {
			return
		}
		// IPv6 addresses take the suffix _V6_<i>: no label (labels
		// are IPv4's), no clash with the IPv4 offsets.
		for i, a := range n.IPv6 {
			b.str("IPADDR_V6_")
			b.int(i + 1)
			b.str("='")
			b.cidr(a, n.IPv6Bits())
			b.str("'\n")
		}
	}
	p := newText(len(gen) + 200 + 64*(len(h.Primary.Secondary)+len(h.Primary.IPv6)))
	p.str(gen, "# The ", nicTitle(h.Primary), ": DHCP, plus its secondary addresses.\n")
	p.str("BOOTPROTO='dhcp'\nSTARTMODE='auto'\n")
	suffixed(p, h.Primary)
	add("ifcfg-"+h.Primary.Name(), p)
	if pr := h.Primary; hasDual(pr) {
		// The primary ENI's IPv6 default route (main table) and its
		// prefixes' local routes (table local): no rules.
		name := pr.Name()
		b := newText(len(gen) + 300 + 64*len(pr.HostPrefixes()))
		b.str(gen, "# Routes of the ", nicTitle(pr), ": Destination Gateway Netmask Interface Options.\n")
		if pr.HasIPv6() {
			b.str("default ")
			b.addr(pr.IPv6Gateway())
			b.str(" - ", name, "\n")
		}
		for _, x := range pr.HostPrefixes() {
			b.prefix(x)
			b.str(" - - ", name, " table local type local\n")
		}
		add("ifroute-"+name, b)
	}
	data := newText(200 + 48*len(h.Secondary))
	data.str("# WICKED_IFS: NIC key and interface of each secondary ENI.\nWICKED_IFS=(\n")
	for _, n := range h.Secondary {
		name := n.Name()
		title := nicTitle(n)
		data.str("  ")
		data.shq(nicKey(n) + " " + name)
		data.byte('\n')
		b := newText(len(gen) + len(title) + 500 + 64*len(n.Secondary))
		b.str(gen, "# ", upperFirst(title), ".\n", describe("# ", n))
		b.str("# Static, no gateway: its default route is in table ")
		b.int(n.Table)
		b.str(" (ifroute-", name, "),\n# which ifrule-", name, " selects for traffic from its addresses.\n")
		b.str("BOOTPROTO='static'\nSTARTMODE='auto'\nIPADDR='")
		b.cidr(n.Address, n.Bits())
		b.str("'\n")
		suffixed(b, n)
		add("ifcfg-"+name, b)

		b = newText(len(gen) + len(title) + 200)
		b.str(gen, "# Routes of ", title, ": Destination Gateway Netmask Interface Options.\n")
		b.prefix(n.Prefix)
		b.str(" - - ", name, " table ")
		b.int(n.Table)
		b.str("\ndefault ")
		b.addr(n.Gateway)
		b.str(" - ", name, " table ")
		b.int(n.Table)
		b.byte('\n')
		if n.HasIPv6() {
			b.prefix(n.IPv6Prefix)
			b.str(" - - ", name, " table ")
			b.int(n.Table)
			b.str("\ndefault ")
			b.addr(n.IPv6Gateway())
			b.str(" - ", name, " table ")
			b.int(n.Table)
			b.byte('\n')
		}
		for _, x := range n.HostPrefixes() {
			b.prefix(x)
			b.str(" - - ", name, " table local type local\n")
		}
		add("ifroute-"+name, b)

		b = newText(len(gen) + len(title) + 100 + 64*(1+len(n.Secondary)+dualCount(n)))
		b.str(gen, "# Traffic from the addresses of ", title, " uses table ")
		b.int(n.Table)
		b.str(".\n")
		for _, a := range n.AllAddresses() {
			b.str("ipv4 ")
			b.rule(a, n)
			b.byte('\n')
		}
		for _, x := range n.HostPrefixes() {
			b.str("ipv4 ")
			b.ruleFrom(x, n)
			b.byte('\n')
		}
		if n.HasIPv6() {
			for _, a := range n.IPv6 {
				b.str("ipv6 ")
				b.rule(a, n)
				b.byte('\n')
			}
		}
		add("ifrule-"+name, b)
	}
	data.str(")\nWICKED_PRIMARY=")
	data.shq(dir + "ifcfg-" + h.Primary.Name())
	data.byte('\n')
	return linuxBundle(h, withPrimaryBoot(h, applyScript{
		stack:     "wicked",
		files:     files,
		fixedName: func(NIC) bool { return true },
		data:      data.String(),
		code:      wickedCode,
	}))
}

//go:embed scripts/stack-wicked.sh
var wickedCode string
