package emulator

import (
	"net/netip"
	"testing"
)

// TestIPv6Gateway: a vSwitch's IPv6 gateway is the first of the nine
// addresses reserved at the end of its block (the metadata reference's
// example: 2408:XXXX:325:a204::/64 -> 2408:XXXX:325:a204:ffff:ffff:ffff:fff7),
// with the block's length, and nothing without a block.
func TestIPv6Gateway(t *testing.T) {
	for _, c := range []struct{ block, want string }{
		{"2408:4005:325:a204::/64", "2408:4005:325:a204:ffff:ffff:ffff:fff7/64"},
		{"2408:4005:3aa:1b00::/64", "2408:4005:3aa:1b00:ffff:ffff:ffff:fff7/64"},
		{"2408:4005:3aa:1b00::/56", "2408:4005:3aa:1bff:ffff:ffff:ffff:fff7/56"},
		{"fd00:1::/120", "fd00:1::f7/120"},
		{"2408:4005:325:a204::5/64", "2408:4005:325:a204:ffff:ffff:ffff:fff7/64"}, // not masked
	} {
		if got := ipv6Gateway(netip.MustParsePrefix(c.block)); got.String() != c.want {
			t.Errorf("ipv6Gateway(%s) = %s, want %s", c.block, got, c.want)
		}
	}
	for _, p := range []netip.Prefix{{}, netip.MustParsePrefix("172.16.0.0/24")} {
		if got := ipv6Gateway(p); got.IsValid() {
			t.Errorf("ipv6Gateway(%v) = %s, want none", p, got)
		}
	}
}

// TestMetaIPv6Forms: ipv6s is bracketed and comma-separated without
// quotes, as the metadata reference and Terway's reader have it;
// ipv4-prefixes is one prefix a line (one prefix reads as the
// reference's example).
func TestMetaIPv6Forms(t *testing.T) {
	a := []netip.Addr{netip.MustParseAddr("2408:4005:3aa:1b00::10"), netip.MustParseAddr("2408:4005:3aa:1b00::11")}
	if got, want := metaIPv6List(a), "[2408:4005:3aa:1b00::10,2408:4005:3aa:1b00::11]"; got != want {
		t.Errorf("ipv6s = %q, want %q", got, want)
	}
	if got, want := metaIPv6List(a[:1]), "[2408:4005:3aa:1b00::10]"; got != want {
		t.Errorf("ipv6s = %q, want %q", got, want)
	}
	p := []netip.Prefix{netip.MustParsePrefix("172.16.1.16/28"), netip.MustParsePrefix("172.16.1.32/28")}
	if got, want := metaPrefixList(p[:1]), "172.16.1.16/28"; got != want {
		t.Errorf("ipv4-prefixes = %q, want %q", got, want)
	}
	if got, want := metaPrefixList(p), "172.16.1.16/28\n172.16.1.32/28"; got != want {
		t.Errorf("ipv4-prefixes = %q, want %q", got, want)
	}
}
