package schema

import (
	"regexp"
	"slices"
	"strings"
)

// reImageVersion is the version number after a distribution's name in an
// image name: "12.5", "22.04", "3".
var reImageVersion = regexp.MustCompile(`\d+(\.\d+)?`)

// OSFromImage maps an image's OSName and OSType, as DescribeInstances
// reports them, to an OS of the desired state, and says whether it is
// sure. When it is not, it answers "linux" (a plain iproute2 script) or,
// for Windows, "windows2022". ecsnet import --all and the emulator's hosts
// mode both guess with it, so an imported fleet renders for the family the
// emulator runs.
func OSFromImage(osName, osType string) (OS, bool) {
	s := strings.ToLower(osName)
	fallback := OS("linux")
	if strings.EqualFold(osType, "windows") || strings.Contains(s, "windows") {
		fallback = "windows2022"
	}
	num := func(after string) string {
		i := strings.Index(s, after)
		if i < 0 {
			return ""
		}
		return reImageVersion.FindString(s[i+len(after):])
	}
	major := func(after string) string {
		v, _, _ := strings.Cut(num(after), ".")
		return v
	}
	var guess string
	switch {
	case strings.Contains(s, "windows"):
		for _, y := range []string{"2012 r2", "2012r2", "2016", "2019", "2022", "2025"} {
			if strings.Contains(s, y) {
				guess = "windows" + strings.ReplaceAll(y, " ", "")
			}
		}
	case strings.Contains(s, "centos") && !strings.Contains(s, "stream"):
		guess = "centos" + major("centos")
	case strings.Contains(s, "red hat"):
		guess = "rhel" + major("enterprise linux")
	case strings.Contains(s, "rhel"):
		guess = "rhel" + major("rhel")
	case strings.Contains(s, "alibaba cloud linux") || strings.Contains(s, "aliyun linux"):
		guess = "alinux" + major("linux")
	case strings.Contains(s, "anolis"):
		guess = "anolis" + major("anolis")
	case strings.Contains(s, "rocky"):
		guess = "rocky" + major("rocky")
	case strings.Contains(s, "alma"):
		guess = "alma" + major("alma")
	case strings.Contains(s, "debian"):
		guess = "debian" + major("debian")
	case strings.Contains(s, "ubuntu"):
		guess = "ubuntu" + num("ubuntu")
	case strings.Contains(s, "opensuse"):
		guess = "opensuse" + major("leap")
	case strings.Contains(s, "suse linux enterprise") || strings.Contains(s, "sles"):
		guess = "sles" + major("server")
		if !strings.Contains(s, "server") {
			guess = "sles" + major("sles")
		}
	}
	if guess != "" && slices.Contains(OSes(), OS(guess)) {
		return OS(guess), true
	}
	return fallback, false
}
