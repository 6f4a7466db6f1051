package plan

import (
	"net/netip"
	"strings"
	"testing"
)

// A host step whose cloud steps only move prefixes used to read "the host
// starts using " with nothing after it (W's note on the example's
// db-2-pods); every host step's reason must name what changes.
func TestHostReasonNamesPrefixes(t *testing.T) {
	p := netip.MustParsePrefix
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"pinned prefixes", hostReason("starts using", nil, []netip.Prefix{p("172.16.1.32/28"), p("172.16.1.16/28")}, "assigned", 0, 0, nil, "attached"),
			"the host starts using prefixes 172.16.1.16/28, 172.16.1.32/28 (assigned)"},
		{"counted prefixes", hostReason("starts using", nil, nil, "assigned", 0, 2, nil, "attached"),
			"the host starts using 2 prefixes the cloud picks"},
		{"one prefix leaves", hostReason("stops using", nil, []netip.Prefix{p("172.16.1.16/28")}, "unassigned next", 0, 0, nil, "detached next"),
			"the host stops using prefix 172.16.1.16/28 (unassigned next)"},
		{"addresses and a picked prefix", hostReason("starts using", []netip.Addr{netip.MustParseAddr("172.16.1.5")}, nil, "assigned", 1, 1, []string{"db-2-pods"}, "attached"),
			"the host starts using 172.16.1.5 (assigned) and 1 address the cloud picks and 1 prefix the cloud picks and ENI db-2-pods (attached)"},
		{"nothing named", hostReason("starts using", nil, nil, "assigned", 0, 0, nil, "attached"),
			"the host starts using the cloud's new state of its ENIs"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, tc.got, tc.want)
		}
		if strings.HasSuffix(tc.got, " ") {
			t.Errorf("%s: reason ends in a space: %q", tc.name, tc.got)
		}
	}
}
