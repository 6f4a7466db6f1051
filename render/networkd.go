package render

import _ "embed"

// networkd renders plain systemd-networkd (network: networkd): .network
// files under etc/systemd/network/, mode 0644:
//
//	05-ecsnet-eth0.network   the primary ENI, when it has secondary addresses
//	05-ecsnet-ethN.network   each secondary ENI
//
// networkd sorts the .network files of /etc, /run and /usr/lib by name and
// applies only the first one whose [Match] fits an interface. A drop-in
// (<name>.network.d/*.conf) would extend the file that configures the
// primary ENI today, but its name is known only on the host (cloud-init's
// 10-cloud-init-eth0.network, an image's own...), and a bundle is a fixed
// tree a reviewer reads. So ecsnet writes a complete file that sorts first
// ("05-" before cloud-init's and netplan's "10-" and the distributions'
// higher numbers): for the primary ENI, DHCP as before plus the secondary
// addresses. The apply script names the file it shadows and, after
// reloading, verifies that networkd uses ecsnet's file for every NIC.
//
// Files match by MAC (the primary by name when the lock has no MAC). A
// secondary ENI is static, with no Gateway=: its routes carry Table=1000+N,
// and one [RoutingPolicyRule] per address has an explicit Priority. It is
// not required for "online", so boot does not wait for it.
//
// IPv6 and IPv4 prefixes (dualstack.go): a NIC with IPv6 addresses gets
// them as [Address] sections, IPv6AcceptRA=no, and the default route via
// the vSwitch's IPv6 gateway (a secondary ENI's in its table, beside its
// IPv6 block, with one rule per address; the primary's in main). Prefixes
// the host answers for are [Route] Type=local in table local, with a
// rule each to a secondary ENI's table. The primary ENI's file is
// written when it has any of these, even without IPv4 secondaries.
//
// Live: `networkctl reload` when a file changed (networkd reconfigures the
// links whose file changed), `networkctl reconfigure` for a link whose
// state drifted.
func networkd(h *Host) ([]File, error) {
	if err := checkHost(h); err != nil {
		return nil, err
	}
	files := make([]File, 0, 2+len(h.Secondary))
	gen := generatedBy("# ", h)
	data := newText(100 + 80*(1+len(h.Secondary)))
	data.str("# NETWORKD_FILES: NIC key and its .network file.\nNETWORKD_FILES=(\n")
	add := func(n NIC, content []byte) {
		f := File{Path: "etc/systemd/network/05-ecsnet-" + n.Name() + ".network", Mode: 0o644, Data: content}
		files = append(files, f)
		data.str("  '")
		data.shqText(nicKey(n), " ", f.Path)
		data.str("'\n")
	}
	if p := h.Primary; len(p.Secondary) > 0 || hasDual(p) {
		add(p, networkdFile(gen, p))
	}
	for _, n := range h.Secondary {
		add(n, networkdFile(gen, n))
	}
	data.str(")\n")
	return linuxBundle(h, applyScript{
		stack: "networkd",
		files: files,
		// Without a MAC, the primary's file matches by name.
		fixedName: func(n NIC) bool { return n.MAC == "" },
		data:      data.String(),
		code:      networkdCode,
	})
}

// networkdFile is the .network file of one NIC: the primary ENI's (DHCP
// and its secondary addresses) or a secondary ENI's (static, its routes
// and rules in its own table).
func networkdFile(gen string, n NIC) []byte {
	primary := n.ENI == ""
	addrs := n.Secondary
	if !primary {
		addrs = n.AllAddresses()
	}
	v6 := n.HasIPv6()
	prefixes := n.HostPrefixes()
	// Room for the fixed text and every address's lines: one allocation.
	w := newINI(768 + 96*len(addrs) + 160*dualCount(n))
	w.str(gen)
	if primary {
		w.str("# The ", nicTitle(n), ": DHCP, plus its secondary addresses.\n",
			"# networkd applies only the first .network file that matches an interface;\n",
			"# this one sorts before cloud-init's and netplan's (10-...) so that it is that file.\n")
		if v6 {
			w.str("# Its IPv6 addresses are static, with the vSwitch's IPv6 gateway as the\n",
				"# default route; router advertisements are not accepted.\n")
		}
	} else {
		w.str("# ", upperFirst(nicTitle(n)), ".\n", describe("# ", n),
			"# Static, and no gateway in [Network]: its default route is in table ")
		w.int(n.Table)
		w.str(",\n# which one rule per address selects.\n")
		if v6 {
			w.str("# The same for IPv6; router advertisements are not accepted.\n")
		}
	}
	if len(prefixes) > 0 {
		w.str("# Its IPv4 prefixes are local routes: the host answers for every address in them.\n")
	}
	w.section("Match")
	if n.MAC == "" {
		w.set("Name", n.Name())
	} else {
		w.set("MACAddress", n.MAC)
	}
	if !primary {
		w.section("Link")
		w.set("RequiredForOnline", "no")
	}
	w.section("Network")
	if primary {
		w.set("DHCP", "ipv4")
	} else {
		w.set("DHCP", "no")
	}
	if v6 {
		w.set("IPv6AcceptRA", "no")
	}
	for _, a := range addrs {
		w.section("Address")
		w.setCIDR("Address", a, n.Bits())
	}
	if v6 {
		for _, a := range n.IPv6 {
			w.section("Address")
			w.setCIDR("Address", a, n.IPv6Bits())
		}
	}
	if primary {
		// No table: the main table's default route, and the local
		// table (networkd's default for Type=local) for the prefixes.
		if v6 {
			w.section("Route")
			w.setAddr("Gateway", n.IPv6Gateway())
		}
		for _, p := range prefixes {
			w.section("Route")
			w.setPrefix("Destination", p)
			w.set("Type", "local")
			w.set("Table", "local")
		}
		return w.bytes()
	}
	w.section("Route")
	w.setPrefix("Destination", n.Prefix)
	w.set("Scope", "link")
	w.setInt("Table", n.Table)
	w.section("Route")
	w.setAddr("Gateway", n.Gateway)
	w.setInt("Table", n.Table)
	if v6 {
		w.section("Route")
		w.setPrefix("Destination", n.IPv6Prefix)
		w.setInt("Table", n.Table)
		w.section("Route")
		w.setAddr("Gateway", n.IPv6Gateway())
		w.setInt("Table", n.Table)
	}
	for _, p := range prefixes {
		w.section("Route")
		w.setPrefix("Destination", p)
		w.set("Type", "local")
		w.set("Table", "local")
	}
	for _, a := range addrs {
		w.section("RoutingPolicyRule")
		w.setAddr("From", a)
		w.setInt("Table", n.Table)
		w.setInt("Priority", n.Priority)
	}
	for _, p := range prefixes {
		w.section("RoutingPolicyRule")
		w.setPrefix("From", p)
		w.setInt("Table", n.Table)
		w.setInt("Priority", n.Priority)
	}
	if v6 {
		for _, a := range n.IPv6 {
			w.section("RoutingPolicyRule")
			w.setAddr("From", a)
			w.setInt("Table", n.Table)
			w.setInt("Priority", n.Priority)
		}
	}
	return w.bytes()
}

//go:embed scripts/stack-networkd.sh
var networkdCode string
