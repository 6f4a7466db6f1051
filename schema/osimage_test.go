package schema

import "testing"

func TestOSFromImage(t *testing.T) {
	tests := []struct {
		name, typ string
		want      OS
		sure      bool
	}{
		{"CentOS 7.9 64 bit", "linux", "centos7", true},
		{"Rocky Linux 9.3 64 bit", "linux", "rocky9", true},
		{"Debian 12.5 64 bit", "linux", "debian12", true},
		{"Windows Server 2022 Datacenter 64 bit English", "windows", "windows2022", true},
		{"Windows Server 2012 R2 Datacenter", "windows", "windows2012r2", true},
		{"Windows Server 2019 Datacenter", "linux", "windows2019", true},
		{"Alibaba Cloud Linux 3.2104 LTS 64 bit", "linux", "alinux3", true},
		{"Aliyun Linux 2.1903 LTS 64位", "linux", "alinux2", true},
		{"Ubuntu 16.04 64位", "linux", "ubuntu16.04", true},
		{"Ubuntu 22.04 64 bit", "linux", "ubuntu22.04", true},
		{"Ubuntu  24.04 64位", "linux", "ubuntu24.04", true},
		{"SUSE Linux Enterprise Server 15 SP5 64 bit", "linux", "sles15", true},
		{"SUSE Linux Enterprise Server 16.0 64 bit", "linux", "sles16", true},
		{"openSUSE Leap 15.5 64 bit", "linux", "opensuse15", true},
		{"Red Hat Enterprise Linux 8.8 64 bit", "linux", "rhel8", true},
		{"RHEL 9.4", "linux", "rhel9", true},
		{"Anolis OS 8.8 RHCK 64 bit", "linux", "anolis8", true},
		{"AlmaLinux 9.2 64 bit", "linux", "alma9", true},
		{"CentOS Stream 9 64 bit", "linux", "linux", false},
		{"Fedora 39", "linux", "linux", false},
		{"Gentoo", "linux", "linux", false},
		{"Ubuntu 19.10", "linux", "linux", false},
		{"", "linux", "linux", false},
		{"", "windows", "windows2022", false},
		{"", "", "linux", false},
	}
	for _, tt := range tests {
		got, sure := OSFromImage(tt.name, tt.typ)
		if got != tt.want || sure != tt.sure {
			t.Errorf("OSFromImage(%q, %q) = %q, %v; want %q, %v", tt.name, tt.typ, got, sure, tt.want, tt.sure)
		}
	}
}
