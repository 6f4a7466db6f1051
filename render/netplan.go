package render

import (
	_ "embed"
	"strconv"
)

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
// IPv6 and IPv4 prefixes (dualstack.go): IPv6 addresses join the
// addresses list, with accept-ra false and a route to ::/0 via the
// vSwitch's IPv6 gateway (a secondary ENI's in its table, beside its IPv6
// block, with one routing-policy entry per address; the primary's in
// main). Prefixes the host answers for are routes of type local in table
// 255 (local), with a routing-policy entry each to a secondary ENI's
// table.
//
// The apply script runs `netplan generate` first (restoring the old file
// if netplan rejects the new one), then `netplan apply` only when the file
// changed or the live state drifted. It refuses when netplan renders with
// NetworkManager (netplan before 1.2 drops routing-policy there).
func netplan(h *Host) ([]File, error) {
	if err := checkHost(h); err != nil {
		return nil, err
	}
	path := "etc/netplan/60-ecsnet.yaml"
	data := "NETPLAN_FILE=" + shq(path) + "\nNETPLAN_PRIMARY_ID=" + shq(h.Primary.Name()) + "\n"
	return linuxBundle(h, applyScript{
		stack: "netplan",
		files: []File{{Path: path, Mode: 0o600, Data: netplanYAML(h)}},
		// The primary's ID is cloud-init's set-name, and secondary ENIs
		// get set-name too: the live names must be those.
		fixedName: func(NIC) bool { return true },
		data:      data,
		code:      netplanCode,
	})
}

// netplanHeader follows the generatedBy lines of the drop-in.
const netplanHeader = "#\n" +
	"# netplan merges this file into cloud-init's 50-cloud-init.yaml: a later\n" +
	"# file extends an earlier one's definition with the same ID. The primary\n" +
	"# ENI's ID must therefore be cloud-init's, which on Alibaba Cloud is the\n" +
	"# interface name; under another ID networkd would apply only one of the\n" +
	"# two .network files for the interface. The apply script checks the ID.\n"

// netplanYAML is the drop-in: the primary ENI's secondary addresses under
// its cloud-init ID, and each secondary ENI in full.
func netplanYAML(h *Host) []byte {
	// Room for the fixed text and every address's lines: one allocation.
	y := newYAML(1024 + 640*len(h.Secondary) + 112*addrCount(h))
	y.str(generatedBy("# ", h), netplanHeader)
	y.open("network")
	y.setInt("version", 2)
	if len(h.Primary.Secondary) > 0 || hasDual(h.Primary) || len(h.Secondary) > 0 {
		y.open("ethernets")
	}
	if p := h.Primary; len(p.Secondary) > 0 || hasDual(p) {
		y.open(p.Name())
		y.comment("Secondary addresses of the ", nicTitle(p), ";")
		y.comment("DHCP keeps the primary one.")
		if p.HasIPv6() {
			y.comment("IPv6: static, with the vSwitch's IPv6 gateway as the default route.")
			y.set("accept-ra", "false")
		}
		if len(p.Secondary) > 0 || p.HasIPv6() {
			y.open("addresses")
			for _, a := range p.Secondary {
				y.itemCIDR(a, p.Bits())
			}
			netplanV6Addrs(y, p)
			y.close()
		}
		if hasDual(p) {
			y.open("routes")
			if p.HasIPv6() {
				y.item()
				y.set("to", `"`, v6Default, `"`)
				y.setAddr("via", p.IPv6Gateway())
				y.close()
			}
			// Local routes of prefixes: the kernel's local table, as
			// for the host's own addresses (dualstack.go).
			for _, x := range p.HostPrefixes() {
				y.item()
				y.setPrefix("to", x)
				y.set("type", "local")
				y.setInt("table", localTable)
				y.close()
			}
			y.close()
		}
		y.close()
	}
	for _, n := range h.Secondary {
		y.open(n.Name())
		y.comment(upperFirst(nicTitle(n)), ".")
		if d := commentText(n.Description); d != "" {
			y.comment("Description: ", d)
		}
		y.comment("Static, no gateway: its default route is in table ", strconv.Itoa(n.Table), ", which one")
		y.comment("routing-policy entry per address selects.")
		y.open("match")
		y.set("macaddress", `"`, n.MAC, `"`)
		y.close()
		y.set("set-name", n.Name())
		y.set("dhcp4", "false")
		if n.HasIPv6() {
			// cloud-init's AliYun datasource gives a NIC with IPv6
			// addresses dhcp6: true; the statics own them here.
			y.set("dhcp6", "false")
			y.set("accept-ra", "false")
		}
		addrs := n.AllAddresses()
		y.open("addresses")
		for _, a := range addrs {
			y.itemCIDR(a, n.Bits())
		}
		netplanV6Addrs(y, n)
		y.close()
		y.open("routes")
		y.item()
		y.setPrefix("to", n.Prefix)
		y.set("scope", "link")
		y.setInt("table", n.Table)
		y.close()
		y.item()
		y.set("to", "0.0.0.0/0")
		y.setAddr("via", n.Gateway)
		y.setInt("table", n.Table)
		y.close()
		if n.HasIPv6() {
			y.item()
			y.setPrefix("to", n.IPv6Prefix)
			y.setInt("table", n.Table)
			y.close()
			y.item()
			y.set("to", `"`, v6Default, `"`)
			y.setAddr("via", n.IPv6Gateway())
			y.setInt("table", n.Table)
			y.close()
		}
		for _, x := range n.HostPrefixes() {
			y.item()
			y.setPrefix("to", x)
			y.set("type", "local")
			y.setInt("table", localTable)
			y.close()
		}
		y.close()
		y.open("routing-policy")
		for _, a := range addrs {
			y.item()
			y.setAddr("from", a)
			y.setInt("table", n.Table)
			y.setInt("priority", n.Priority)
			y.close()
		}
		for _, x := range n.HostPrefixes() {
			y.item()
			y.setPrefix("from", x)
			y.setInt("table", n.Table)
			y.setInt("priority", n.Priority)
			y.close()
		}
		if n.HasIPv6() {
			for _, a := range n.IPv6 {
				y.item()
				y.setAddr("from", a)
				y.setInt("table", n.Table)
				y.setInt("priority", n.Priority)
				y.close()
			}
		}
		y.close()
		y.close()
	}
	return y.bytes()
}

// netplanV6Addrs writes a NIC's IPv6 addresses as items of its
// addresses list.
func netplanV6Addrs(y *yaml, n NIC) {
	if !n.HasIPv6() {
		return
	}
	for _, a := range n.IPv6 {
		y.itemCIDR(a, n.IPv6Bits())
	}
}

//go:embed scripts/stack-netplan.sh
var netplanCode string
