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
	add := func(n NIC, b *text) {
		f := File{Path: "etc/systemd/network/05-ecsnet-" + n.Name() + ".network", Mode: 0o644, Data: b.bytes()}
		files = append(files, f)
		data.str("  '")
		data.shqText(nicKey(n), " ", f.Path)
		data.str("'\n")
	}
	match := func(b *text, n NIC) {
		if n.MAC == "" {
			b.str("[Match]\nName=", n.Name(), "\n")
		} else {
			b.str("[Match]\nMACAddress=", n.MAC, "\n")
		}
	}
	if p := h.Primary; len(p.Secondary) > 0 {
		b := newText(len(gen) + 400 + 40*len(p.Secondary))
		b.str(gen, "# The ", nicTitle(p), ": DHCP, plus its secondary addresses.\n")
		b.str("# networkd applies only the first .network file that matches an interface;\n" +
			"# this one sorts before cloud-init's and netplan's (10-...) so that it is that file.\n")
		match(b, p)
		b.str("\n[Network]\nDHCP=ipv4\n")
		for _, a := range p.Secondary {
			b.str("\n[Address]\nAddress=")
			b.cidr(a, p.Bits())
			b.byte('\n')
		}
		add(p, b)
	}
	for _, n := range h.Secondary {
		addrs := n.AllAddresses()
		b := newText(len(gen) + 800 + 100*len(addrs))
		b.str(gen, "# ", upperFirst(nicTitle(n)), ".\n", describe("# ", n))
		b.str("# Static, and no gateway in [Network]: its default route is in table ")
		b.int(n.Table)
		b.str(",\n# which one rule per address selects.\n")
		match(b, n)
		b.str("\n[Link]\nRequiredForOnline=no\n\n[Network]\nDHCP=no\n")
		for _, a := range addrs {
			b.str("\n[Address]\nAddress=")
			b.cidr(a, n.Bits())
			b.byte('\n')
		}
		b.str("\n[Route]\nDestination=")
		b.prefix(n.Prefix)
		b.str("\nScope=link\nTable=")
		b.int(n.Table)
		b.str("\n\n[Route]\nGateway=")
		b.addr(n.Gateway)
		b.str("\nTable=")
		b.int(n.Table)
		b.byte('\n')
		for _, a := range addrs {
			b.str("\n[RoutingPolicyRule]\nFrom=")
			b.addr(a)
			b.str("\nTable=")
			b.int(n.Table)
			b.str("\nPriority=")
			b.int(n.Priority)
			b.byte('\n')
		}
		add(n, b)
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

//go:embed scripts/stack-networkd.sh
var networkdCode string
