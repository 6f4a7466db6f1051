package schema

import (
	"strings"
	"testing"
)

// TestOSHint pins the OS suggestions: names are matched on the normalised
// family and version, not on spelling alone (issue 12 item 15).
func TestOSHint(t *testing.T) {
	for in, want := range map[string]string{
		"alibaba-cloud-linux-3":             "alinux3",
		"Alibaba Cloud Linux 2":             "alinux2",
		"aliyun_3_x64_20G_alibase_20240528": "alinux3",
		"windows-server-2022":               "windows2022",
		"Windows Server 2012 R2 Datacenter": "windows2012r2",
		"windows2012-r2":                    "windows2012r2",
		"win2019":                           "windows2019",
		"ubuntu22":                          "ubuntu22.04",
		"ubuntu_22_04_x64_20G":              "ubuntu22.04",
		"Ubuntu 24.04 LTS":                  "ubuntu24.04",
		"ubuntu-jammy":                      "ubuntu22.04",
		"debian-bookworm":                   "debian12",
		"CentOS 7.9":                        "centos7",
		"red-hat-enterprise-linux-9":        "rhel9",
		"RHEL 8.6":                          "rhel8",
		"rocky-linux-9":                     "rocky9",
		"AlmaLinux 8":                       "alma8",
		"anolis-os-8":                       "anolis8",
		"sles-15-sp5":                       "sles15",
		"opensuse-leap-15.5":                "opensuse15",
		"Linux":                             "linux",
		"linx":                              "linux",
	} {
		if want := `did you mean "` + want + `"?`; !strings.Contains(osHint(in), want) {
			t.Errorf("osHint(%q) = %q, want it to say %s", in, osHint(in), want)
		}
	}
	for in, want := range map[string]string{
		"centos-stream-9":     `its successors are, e.g. "rocky9"`,
		"centos8":             `its successors are, e.g. "rocky8"`,
		"debian7":             "supported releases of the family are: debian8, debian9",
		"ubuntu-22.10":        "supported releases of the family are: ubuntu14.04",
		"windows-server-2008": "windows2012r2, windows2016",
		"oracle-linux-8":      "supported: centos6",
		"freebsd14":           "supported: centos6",
	} {
		if h := osHint(in); !strings.Contains(h, want) {
			t.Errorf("osHint(%q) = %q, want it to say %s", in, h, want)
		}
	}
}
