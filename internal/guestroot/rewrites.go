package guestroot

import "github.com/ecsnet/ecsnet/schema"

// Rewrite is one way a rehearsal guest differs from a real host of a
// stack.
type Rewrite struct {
	Stack schema.Stack
	What  string // what the harness changes or leaves out
	Why   string
}

// Rewrites lists every difference between a guest here and a real host,
// for the README's gaps. "Hosts mode" is ecsnet emulator --hosts (its
// booted guests); "Boot" and "BootNspawn" are the daemon tests of
// internal/hosttest/daemons.
var Rewrites = []Rewrite{
	{"", "every booted guest is Debian 12 (systemd 252, NetworkManager 1.42, netplan 0.106), whatever OS the instance names (a rocky9 or sles16 NetworkManager host runs Debian's NetworkManager)",
		"one root serves every stack; the render's files and scripts are the OS's own, the daemon's version is Debian's"},
	{"", "hosts mode: cloud-init's per-boot network render is replayed by the emulator before each boot (cloud-init devel net-convert on the machine, written into the guest's /etc); cloud-init itself does not run in the guest",
		"Debian's cloud-init 22.4.2 renders the network at the first boot only; on Alibaba Cloud 23.4 and later render it at every boot, which is what the rehearsal must show"},
	{schema.StackNetplan, "PermanentMACAddress= in the .network files netplan generates becomes MACAddress= (Boot: after netplan generate; booted guests: at boot a unit, ecsnet-veth-mac.service, ordered after netplan's generator and before systemd-networkd, and at netplan apply the udevadm shim below, which apply runs between generating and reloading networkd)",
		"netplan matches a NIC by its permanent MAC (an ENI's virtio NIC has one); a veth has none, so networkd would match nothing; the veths carry the ENIs' MACs as their current MAC"},
	{schema.StackNetplan, "the .link files netplan generates are deleted with the same rewrite",
		"they only rename NICs (set-name), and no udev runs here; the veths are created with their final names"},
	{schema.StackNetplan, "booted guests: udevadm trigger and udevadm settle succeed without asking udev (a shim at /usr/local/sbin/udevadm; trigger makes the rewrite above)",
		"netplan apply runs them unconditionally; with no udev and a read-only /sys, trigger fails (EROFS) and netplan apply with it; on a real host they make udev apply the .link files, which rename nothing here"},
	{schema.StackNetworkManager, "Boot, BootNspawn, and hosts mode without dnsmasq: the primary ENI has no profile (cloud-init's DHCP profile is not installed): NetworkManager keeps its address as external configuration, in a profile it generates (id eth0); the apply script adds the primary's secondary addresses to that one. Hosts mode with dnsmasq: cloud-init's profile, answered by the emulator's DHCP",
		"no DHCP server answers in the test namespaces; a DHCP profile would fail and take the primary's address down"},
	{schema.StackNetworkManager, "Boot: NetworkManager runs with its own configuration (keyfile plugin only, no-auto-default=*, dns=none) and a private dbus-daemon; booted guests: the guest's own, Debian's defaults",
		"the machine's NetworkManager.conf (Debian: plugins=ifupdown,keyfile) and system bus are not the guest's"},
	{schema.StackNetworkd, "Boot, BootNspawn, and hosts mode without dnsmasq: the primary ENI's DHCP lease is an address and default route set with ip before the daemon starts (cloud-init's DHCP .network file is installed, but no DHCP server answers). Hosts mode with dnsmasq: a real lease from the emulator's DHCP",
		"the namespaces send nothing outside; networkd keeps the address"},
	{schema.StackNetworkd, "the daemons see a read-only /sys (Boot: remounted; booted guests: nspawn's own) and no udev",
		"it tells them no udev runs, so they configure links without waiting for udev to initialise them; a real host's udev would also apply .link files"},
	{schema.StackNetworkManager, "booted guests get CAP_NET_ADMIN explicitly",
		"nspawn grants it only with a network namespace it makes itself; without it NetworkManager's link changes fail with EPERM"},
}
