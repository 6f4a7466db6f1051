package plan

import (
	"net/netip"
	"strings"
	"testing"
)

// TestUnrecordedPrefixesListed: the text plan lists an ENI's unrecorded
// prefixes as it lists addresses, separated by ", " (they were joined by a
// bare comma).
func TestUnrecordedPrefixesListed(t *testing.T) {
	pfx := func(ss ...string) []netip.Prefix {
		out := make([]netip.Prefix, len(ss))
		for i, s := range ss {
			out[i] = netip.MustParsePrefix(s)
		}
		return out
	}
	p := formatV6Plan()
	p.Unrecorded = []Unrecorded{
		{Target: ENITarget("pods"), ENIID: "eni-pods1", Prefixes: pfx("172.16.1.96/28", "172.16.1.112/28")},
		{Target: ENITarget("dual"), ENIID: "eni-dual1", IPs: addrs("2408:4005:3aa:1b00::77", "2408:4005:3aa:1b00::78"), Prefixes: pfx("172.16.1.128/28", "172.16.1.144/28")},
	}
	text := string(renderText(t, p, TextOptions{}))
	for _, want := range []string{
		"eni/pods (eni-pods1): prefixes 172.16.1.96/28, 172.16.1.112/28\n",
		"eni/dual (eni-dual1): 2408:4005:3aa:1b00::77, 2408:4005:3aa:1b00::78; prefixes 172.16.1.128/28, 172.16.1.144/28\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the text plan lacks %q:\n%s", want, text)
		}
	}
}
