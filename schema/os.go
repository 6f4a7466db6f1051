package schema

import "slices"

// OS names a guest operating system release. It picks the host renderer
// (through its default Stack) and the Cloud Assistant script type.
type OS string

// Stack names a host network configuration stack: the thing ecsnet renders
// files for.
type Stack string

// The stacks ecsnet renders. An instance's `network:` field may pick one
// explicitly when an image differs from its family's default.
const (
	StackIfcfg          Stack = "ifcfg"          // RHEL/CentOS 6-7 initscripts
	StackNetworkManager Stack = "networkmanager" // NM keyfiles and nmcli
	StackIfupdown       Stack = "ifupdown"       // Debian /etc/network/interfaces
	StackNetplan        Stack = "netplan"        // Ubuntu 18.04+
	StackWicked         Stack = "wicked"         // SLES 12/15, openSUSE Leap 15
	StackNetworkd       Stack = "networkd"       // plain systemd-networkd
	StackIproute2       Stack = "iproute2"       // a plain ip(8) script
	StackWindows        Stack = "windows"        // PowerShell NetTCPIP
)

// Stacks lists every stack, in the order the README documents them.
func Stacks() []Stack {
	return []Stack{StackIfcfg, StackNetworkManager, StackIfupdown, StackNetplan,
		StackWicked, StackNetworkd, StackIproute2, StackWindows}
}

// osTable maps every supported OS name to its default stack, in the order
// the README lists them. Sources: host-config.md §2.0 and §1 E17.
var osTable = []struct {
	os    OS
	stack Stack
}{
	{"centos6", StackIfcfg}, {"centos7", StackIfcfg},
	{"rhel6", StackIfcfg}, {"rhel7", StackIfcfg},
	{"alinux2", StackIfcfg},
	{"alinux3", StackNetworkManager}, {"alinux4", StackNetworkManager},
	{"anolis8", StackNetworkManager},
	{"rhel8", StackNetworkManager}, {"rhel9", StackNetworkManager}, {"rhel10", StackNetworkManager},
	{"rocky8", StackNetworkManager}, {"rocky9", StackNetworkManager}, {"rocky10", StackNetworkManager},
	{"alma8", StackNetworkManager}, {"alma9", StackNetworkManager}, {"alma10", StackNetworkManager},
	{"debian8", StackIfupdown}, {"debian9", StackIfupdown}, {"debian10", StackIfupdown},
	{"debian11", StackIfupdown}, {"debian12", StackIfupdown}, {"debian13", StackIfupdown},
	{"ubuntu14.04", StackIfupdown}, {"ubuntu16.04", StackIfupdown},
	{"ubuntu18.04", StackNetplan}, {"ubuntu20.04", StackNetplan}, {"ubuntu22.04", StackNetplan},
	{"ubuntu24.04", StackNetplan}, {"ubuntu26.04", StackNetplan},
	{"sles12", StackWicked}, {"sles15", StackWicked}, {"opensuse15", StackWicked},
	{"sles16", StackNetworkManager}, {"opensuse16", StackNetworkManager},
	{"windows2012r2", StackWindows}, {"windows2016", StackWindows}, {"windows2019", StackWindows},
	{"windows2022", StackWindows}, {"windows2025", StackWindows},
	{"linux", StackIproute2},
}

// OSes lists every supported OS name.
func OSes() []OS {
	out := make([]OS, len(osTable))
	for i, r := range osTable {
		out[i] = r.os
	}
	return out
}

// DefaultStack returns the stack an OS uses out of the box, and whether the
// OS is known.
func (o OS) DefaultStack() (Stack, bool) {
	for _, r := range osTable {
		if r.os == o {
			return r.stack, true
		}
	}
	return "", false
}

// Windows reports whether o is a Windows Server release.
func (o OS) Windows() bool { s, _ := o.DefaultStack(); return s == StackWindows }

// Valid reports whether s is a stack ecsnet renders.
func (s Stack) Valid() bool { return slices.Contains(Stacks(), s) }
