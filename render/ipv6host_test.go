package render

import (
	"net/netip"
	"testing"
)

// The IPv6 gateway is the first of the vSwitch's nine reserved tail
// addresses, as Alibaba Cloud's metadata example shows.
func TestIPv6Gateway(t *testing.T) {
	for _, c := range []struct{ block, want string }{
		{"2408:4005:325:a204::/64", "2408:4005:325:a204:ffff:ffff:ffff:fff7"},
		{"2408:4005:3aa:1b00::/64", "2408:4005:3aa:1b00:ffff:ffff:ffff:fff7"},
		{"", "invalid IP"},
	} {
		var n NIC
		if c.block != "" {
			n.IPv6Prefix = netip.MustParsePrefix(c.block)
		}
		if got := n.IPv6Gateway().String(); got != c.want {
			t.Errorf("IPv6Gateway(%q) = %s, want %s", c.block, got, c.want)
		}
	}
	for _, c := range []struct{ p, want string }{
		{"172.16.1.0/24", "172.16.1.255"}, {"10.0.0.0/8", "10.255.255.255"}, {"172.16.1.16/28", "172.16.1.31"},
		{"10.1.2.3/32", "10.1.2.3"}, {"2001:db8::/64", "2001:db8::ffff:ffff:ffff:ffff"},
	} {
		if got := lastOf(netip.MustParsePrefix(c.p)).String(); got != c.want {
			t.Errorf("lastOf(%s) = %s, want %s", c.p, got, c.want)
		}
	}
}
