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
	if len(h.Primary.Secondary) > 0 || len(h.Secondary) > 0 {
		y.open("ethernets")
	}
	if p := h.Primary; len(p.Secondary) > 0 {
		y.open(p.Name())
		y.comment("Secondary addresses of the ", nicTitle(p), ";")
		y.comment("DHCP keeps the primary one.")
		y.open("addresses")
		for _, a := range p.Secondary {
			y.itemCIDR(a, p.Bits())
		}
		y.close()
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
		addrs := n.AllAddresses()
		y.open("addresses")
		for _, a := range addrs {
			y.itemCIDR(a, n.Bits())
		}
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
		y.close()
		y.open("routing-policy")
		for _, a := range addrs {
			y.item()
			y.setAddr("from", a)
			y.setInt("table", n.Table)
			y.setInt("priority", n.Priority)
			y.close()
		}
		y.close()
		y.close()
	}
	return y.bytes()
}

//go:embed scripts/stack-netplan.sh
var netplanCode string
