package schema

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/ecsnet/ecsnet/internal/levenshtein"
)

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

// osAliases maps an OS family as people write it, its words run together
// without separators and filler words ("alibaba-cloud-linux" →
// "alibabacloudlinux", "Windows Server" → "windows"), to the family name
// ecsnet's OS names start with.
var osAliases = map[string]string{
	"alinux": "alinux", "alibabacloudlinux": "alinux", "alibabalinux": "alinux", "aliyunlinux": "alinux", "aliyun": "alinux", "alibabacloud": "alinux",
	"rhel": "rhel", "redhat": "rhel", "redhatlinux": "rhel", "redhatenterpriselinux": "rhel", "redhatenterprise": "rhel",
	"rocky": "rocky", "rockylinux": "rocky",
	"alma": "alma", "almalinux": "alma",
	"anolis": "anolis", "anolisos": "anolis", "openanolis": "anolis",
	"centos": "centos", "centoslinux": "centos",
	"debian": "debian", "debiangnulinux": "debian",
	"ubuntu": "ubuntu",
	"sles":   "sles", "sle": "sles", "suse": "sles", "suselinux": "sles", "suselinuxenterprise": "sles",
	"opensuse": "opensuse", "opensuseleap": "opensuse", "leap": "opensuse",
	"windows": "windows", "win": "windows", "microsoftwindows": "windows",
	"linux": "linux",
}

// osCodenames maps release code names to ecsnet's OS names.
var osCodenames = map[string]OS{
	"jessie": "debian8", "stretch": "debian9", "buster": "debian10", "bullseye": "debian11", "bookworm": "debian12", "trixie": "debian13",
	"trusty": "ubuntu14.04", "xenial": "ubuntu16.04", "bionic": "ubuntu18.04", "focal": "ubuntu20.04", "jammy": "ubuntu22.04", "noble": "ubuntu24.04",
}

// osSuccessors maps releases ecsnet does not support to a supported
// successor, keyed by normalised family and major version.
var osSuccessors = map[string]OS{
	"centos8": "rocky8", "centos9": "rocky9", "centos10": "rocky10",
	"centosstream8": "rocky8", "centosstream9": "rocky9", "centosstream10": "rocky10",
	"opensuse42": "opensuse15", "sles11": "sles12",
}

// osFiller are words that name no family or release: "Windows Server 2022
// Datacenter", "Ubuntu 22.04 LTS".
var osFiller = map[string]bool{"server": true, "lts": true, "datacenter": true, "standard": true, "edition": true, "core": true}

var (
	reOSR2    = regexp.MustCompile(`(\d)[\s._-]*r2\b`)
	reOSToken = regexp.MustCompile(`\d+(?:\.\d+)*(?:r2)?|[a-z]+`)
	reOSName  = regexp.MustCompile(`^([a-z]+?)(\d.*)?$`)
)

// osGuess reads s as a person or an image name would write an OS release
// ("alibaba-cloud-linux-3", "Windows Server 2012 R2", "ubuntu_22_04_x64",
// "CentOS 7.9") and returns the supported OS it names. When s names a
// known family but no supported release of it, it returns the family's
// supported releases instead. It matches on the normalised family name and
// version number rather than on spelling, which an edit distance would
// get wrong: "alibaba-cloud-linux-3" is closest to "linux" by spelling.
func osGuess(s string) (guess OS, successor bool, family []OS) {
	s = reOSR2.ReplaceAllString(strings.ToLower(s), "${1}r2")
	toks := reOSToken.FindAllString(s, -1)
	var words []string
	version := ""
	for i, t := range toks {
		if t[0] >= '0' && t[0] <= '9' {
			version = t
			// ubuntu_22_04: a version written with another separator.
			if i+1 < len(toks) && toks[i+1][0] >= '0' && toks[i+1][0] <= '9' && !strings.Contains(t, ".") && !strings.HasSuffix(t, "r2") {
				version += "." + toks[i+1]
			}
			break
		}
		if o, ok := osCodenames[t]; ok {
			return o, false, nil
		}
		if !osFiller[t] {
			words = append(words, t)
		}
	}
	name := strings.Join(words, "")
	major, minor, _ := strings.Cut(version, ".")
	if o, ok := osSuccessors[name+major]; ok && version != "" {
		return o, true, nil
	}
	fam, ok := osAliases[name]
	if !ok {
		return "", false, nil
	}
	for _, c := range []string{fam + version, fam + major} {
		if _, ok := OS(c).DefaultStack(); ok {
			return OS(c), false, nil
		}
	}
	for _, r := range osTable {
		m := reOSName.FindStringSubmatch(string(r.os))
		if m == nil || m[1] != fam {
			continue
		}
		// "ubuntu22" for "ubuntu22.04": a release written without its
		// minor number.
		if version != "" && minor == "" && strings.HasPrefix(m[2], major+".") {
			return r.os, false, nil
		}
		family = append(family, r.os)
	}
	return "", false, family
}

// osHint is the hint for an OS name ecsnet does not know.
func osHint(s string) string {
	const help = "(`ecsnet help os` lists every supported OS)"
	guess, successor, family := osGuess(s)
	switch {
	case successor:
		return fmt.Sprintf("%s is not supported; its successors are, e.g. %q %s", s, guess, help)
	case guess != "":
		return fmt.Sprintf("did you mean %q? %s", guess, help)
	case len(family) > 0:
		names := make([]string, len(family))
		for i, o := range family {
			names[i] = string(o)
		}
		return fmt.Sprintf("ecsnet does not support this release; the supported releases of the family are: %s %s", strings.Join(names, ", "), help)
	}
	names := make([]string, 0, len(osTable))
	for _, r := range osTable {
		names = append(names, string(r.os))
	}
	// The generic "linux" is a likely typo of "linux" only, not of every
	// distribution with "linux" in its name.
	if sg := suggest(strings.ToLower(s), names); sg != "" && (sg != "linux" || levenshtein.Distance(strings.ToLower(s), "linux") <= 2) {
		return fmt.Sprintf("did you mean %q? %s", sg, help)
	}
	return "supported: " + strings.Join(names, ", ")
}
