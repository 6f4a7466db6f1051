package render

import (
	_ "embed"
	"fmt"

	"github.com/ecsnet/ecsnet/schema"
)

// The primary ENI's secondary addresses, on NetworkManager and wicked
// hosts, live in configuration that cloud-init owns: the primary's
// NetworkManager profile, and ifcfg-eth0 on SUSE (on initscripts hosts,
// ifcfg-eth0 too, which holds none of the primary's IPv6 addresses, its
// IPv6 default route or its prefixes' local routes). cloud-init 23.4 and
// later rewrites both at every boot on Alibaba Cloud (the AliYun
// datasource adds the boot event to its network update events), without
// the addresses ecsnet added. So these bundles also install a boot unit
// that adds them again once cloud-init and the stack are done:
//
//	etc/ecsnet/<fleet>/ecsnet-primary.sh      0755  the boot script (up | verify)
//	etc/systemd/system/ecsnet-<fleet>.service 0644  runs it once at boot
//
// enabled with a symlink in multi-user.target.wants, which the apply
// script owns like a file: a later bundle without the unit (the primary
// has no secondary address left) removes the unit, the script and the
// link, and reloads systemd.
//
// A re-apply, rather than a file of ecsnet's own: NetworkManager keeps
// one active profile per device, so a second profile for the primary ENI
// (ecsnet's) would either stay inactive or take DHCP over from cloud-init's,
// and wicked reads exactly one ifcfg file per interface. The boot script
// is the apply script's own code for the primary ENI: on NetworkManager,
// `nmcli connection modify +ipv4.addresses` on the profile active on the
// primary and `ip addr add` on the device (no reapply: NetworkManager 1.42
// drops the DHCP address for a moment on reapply; stack-nmkeyfile.sh); on
// wicked, `ip addr add` with the eth0:<n> labels ifcfg-eth0 gives them.
// It adds only the bundle's addresses, so running it twice, or on a host
// whose cloud-init network rendering is disabled (where the addresses
// survive in the file), changes nothing. Secondary ENIs need no unit:
// their files are ecsnet's own, and cloud-init renders the primary only.
//
// The unit is ordered after cloud-init's stages that render or apply
// network configuration (cloud-init.service, renamed
// cloud-init-network.service in 24.3,
// https://github.com/canonical/cloud-init/pull/5489, and
// cloud-config.service, after which nothing of cloud-init's touches the
// network), after the stack's own start (NetworkManager-wait-online.service
// or wicked.service) and after network-online.target, and waits itself
// for the primary's DHCP address (and, on NetworkManager, for its active
// profile), since a wait-online service need not be enabled.

// primaryBootStacks are the stacks that get the unit, with what it runs
// after besides cloud-init and network-online.target.
var primaryBootStacks = map[schema.Stack]string{
	schema.StackNetworkManager: "NetworkManager.service NetworkManager-wait-online.service",
	schema.StackWicked:         "wicked.service",
	schema.StackIfcfg:          "network.service",
}

// needsPrimaryBoot reports whether h's bundle has the boot unit. On
// initscripts (ifcfg) the primary's IPv4 secondary addresses are durable:
// they live in ecsnet's own alias files (ifcfg-eth0:n), which cloud-init
// does not rewrite and ifup-aliases reads at boot. Its IPv6 addresses, its
// IPv6 default route and its prefixes' local routes have no file ecsnet
// owns (ifcfg-eth0 is cloud-init's, alias files are IPv4 only), so only
// they call for the unit there.
func needsPrimaryBoot(h *Host) bool {
	_, ok := primaryBootStacks[h.Stack]
	p := h.Primary
	v6 := p.HasIPv6() || len(p.HostPrefixes()) > 0
	if h.Stack == schema.StackIfcfg {
		return ok && v6
	}
	return ok && (len(p.Secondary) > 0 || v6)
}

func primaryBootPath(h *Host) string { return "etc/ecsnet/" + h.Fleet + "/ecsnet-primary.sh" }

// withPrimaryBoot adds the boot script, the unit, its symlink and their
// names (UNIT, BOOT_SCRIPT) to s, an apply script of h's stack, when h's
// primary ENI has secondary addresses, IPv6 addresses or prefixes on the host.
func withPrimaryBoot(h *Host, s applyScript) applyScript {
	if !needsPrimaryBoot(h) || h.configOnly {
		return s
	}
	boot := applyScript{stack: s.stack, header: primaryBootHeader, data: s.data, code: s.code, main: primaryBootMain}.render(h)
	boot.Path = primaryBootPath(h)
	after := primaryBootStacks[h.Stack]
	unit := File{Path: iproute2UnitPath(h), Mode: 0o644,
		Data: []byte(fmt.Sprintf(primaryBootUnit, generatedBy("# ", h), h.Fleet, after, boot.Path))}
	s.files = append(s.files, boot, unit)
	s.owned = append(s.owned, iproute2WantsPath(h))
	s.data += "# The boot unit that adds the primary ENI's secondary addresses again\n# after cloud-init rewrote its configuration, and the script it runs.\nUNIT=" +
		shq("ecsnet-"+h.Fleet+".service") + "\nBOOT_SCRIPT=" + shq(boot.Path) + "\n"
	return s
}

const primaryBootUnit = `%[1]s
[Unit]
Description=ecsnet: the primary ENI's secondary addresses, after cloud-init rewrote its configuration (fleet %[2]s)
Wants=network-online.target
After=network-online.target %[3]s
After=cloud-init.service cloud-init-network.service cloud-config.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/%[4]s up

[Install]
WantedBy=multi-user.target
`

//go:embed scripts/primary-boot-header.sh
var primaryBootHeader string

//go:embed scripts/primary-boot-main.sh
var primaryBootMain string
