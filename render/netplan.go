package render

import _ "embed"

// netplan renders the Ubuntu 18.04+ stack: one drop-in, mode 0600 (netplan
// warns about files others can read, and they may hold secrets):
//
//	etc/netplan/60-ecsnet.yaml
//
// netplan reads its files in name order and merges definitions that share
// an ID: scalars are overwritten, lists concatenated. The drop-in
// therefore extends cloud-init's 50-cloud-init.yaml under cloud-init's own
// ID for the primary ENI, which keeps dhcp4 and gains the secondary
// addresses. ASSUMPTION: on Alibaba Cloud, cloud-init's netplan ID for the
// primary ENI is the interface name, eth0 (the AliYun datasource names each
// NIC by its set-name). Under another ID the same MAC would match a second
// generated .network file, and systemd-networkd applies only the first
// matching one: the addresses would be silently lost. The apply script
// reads the IDs in /etc/netplan/50-cloud-init.yaml and refuses if eth0 is
// not among them.
//
// A secondary ENI is matched by MAC, keeps its name with set-name (eth<N>;
// the same ID cloud-init would give it, so a cloud-init definition merges
// rather than competes), and is static: dhcp4 false (which also overrides a
// cloud-init dhcp4), its addresses, its subnet and default routes in table
// 1000+N and one routing-policy entry with a priority per address. It
// never gets a gateway in the main table.
//
// The apply script runs `netplan generate` first (restoring the old file
// if netplan rejects the new one), then `netplan apply` only when the file
// changed or the live state drifted. It refuses when netplan renders with
// NetworkManager (netplan before 1.2 drops routing-policy there).
func netplan(h *Host) ([]File, error) {
	if err := checkHost(h); err != nil {
		return nil, err
	}
	b := newText(1024 + 900*len(h.Secondary) + 120*addrCount(h))
	b.str(generatedBy("# ", h))
	b.str("#\n# netplan merges this file into cloud-init's 50-cloud-init.yaml: a later\n" +
		"# file extends an earlier one's definition with the same ID. The primary\n" +
		"# ENI's ID must therefore be cloud-init's, which on Alibaba Cloud is the\n" +
		"# interface name; under another ID networkd would apply only one of the\n" +
		"# two .network files for the interface. The apply script checks the ID.\n")
	b.str("network:\n  version: 2\n")
	if len(h.Primary.Secondary) > 0 || len(h.Secondary) > 0 {
		b.str("  ethernets:\n")
	}
	if p := h.Primary; len(p.Secondary) > 0 {
		b.str("    ", p.Name(), ":\n      # Secondary addresses of the ", nicTitle(p), ";\n      # DHCP keeps the primary one.\n      addresses:\n")
		for _, a := range p.Secondary {
			b.str("        - ")
			b.cidr(a, p.Bits())
			b.byte('\n')
		}
	}
	for _, n := range h.Secondary {
		name := n.Name()
		b.str("    ", name, ":\n      # ", upperFirst(nicTitle(n)), ".\n", describe("      # ", n))
		b.str("      # Static, no gateway: its default route is in table ")
		b.int(n.Table)
		b.str(", which one\n      # routing-policy entry per address selects.\n")
		b.str("      match:\n        macaddress: \"", n.MAC, "\"\n      set-name: ", name, "\n      dhcp4: false\n      addresses:\n")
		addrs := n.AllAddresses()
		for _, a := range addrs {
			b.str("        - ")
			b.cidr(a, n.Bits())
			b.byte('\n')
		}
		b.str("      routes:\n        - to: ")
		b.prefix(n.Prefix)
		b.str("\n          scope: link\n          table: ")
		b.int(n.Table)
		b.str("\n        - to: 0.0.0.0/0\n          via: ")
		b.addr(n.Gateway)
		b.str("\n          table: ")
		b.int(n.Table)
		b.str("\n      routing-policy:\n")
		for _, a := range addrs {
			b.str("        - from: ")
			b.addr(a)
			b.str("\n          table: ")
			b.int(n.Table)
			b.str("\n          priority: ")
			b.int(n.Priority)
			b.byte('\n')
		}
	}
	path := "etc/netplan/60-ecsnet.yaml"
	data := "NETPLAN_FILE=" + shq(path) + "\nNETPLAN_PRIMARY_ID=" + shq(h.Primary.Name()) + "\n"
	return linuxBundle(h, applyScript{
		stack: "netplan",
		files: []File{{Path: path, Mode: 0o600, Data: b.bytes()}},
		// The primary's ID is cloud-init's set-name, and secondary ENIs
		// get set-name too: the live names must be those.
		fixedName: func(NIC) bool { return true },
		data:      data,
		code:      netplanCode,
	})
}

//go:embed scripts/stack-netplan.sh
var netplanCode string
