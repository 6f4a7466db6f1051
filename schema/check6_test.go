package schema

import (
	"net/netip"
	"strings"
	"testing"
)

// TestChecksIssue17 pins each rule of the IPv6, prefix, card and queue
// fields: one error, its words, whether it is fleet-wide, and that it
// points at the user's file with a hint.
func TestChecksIssue17(t *testing.T) {
	base := func(extra string) string {
		return `fleet: "f1"
region: "cn-hangzhou"
vswitches: {
	"app-h": {id: "vsw-bp1app0000h", zone: "cn-hangzhou-h", cidr: "10.0.0.0/24", ipv6Cidr: "2408:4005:3aa:1b00::/64"}
	"v4-h": {id: "vsw-bp1v4only0h", zone: "cn-hangzhou-h", cidr: "10.0.2.0/24"}
	"small-h": {id: "vsw-bp1small00h", zone: "cn-hangzhou-h", cidr: "10.0.3.0/26"}
}
securityGroups: web: id: "sg-bp1web000001"
limits: instanceTypes: {
	"ecs.x1.large": {maxEnis: 3, maxIpsPerEni: 6, maxIpv6PerEni: 6}
	"ecs.x1.nov6": {maxEnis: 3, maxIpsPerEni: 6}
	"ecs.x1.2card": {maxEnis: 8, maxIpsPerEni: 30, maxIpv6PerEni: 30, networkCards: 2, maxQueuesPerEni: 16}
}
instances: "web-1": {id: "i-bp1web000001", type: "ecs.x1.large", os: "linux", primary: {vswitch: "app-h", ip: "10.0.0.5"}}
instances: "big-1": {id: "i-bp1big000001", type: "ecs.x1.2card", os: "linux", primary: {vswitch: "app-h", ip: "10.0.0.6"}}
` + extra
	}
	eni := func(fields string) string {
		return `enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], attachTo: "web-1", ` + fields + `}`
	}
	tests := []struct {
		name, extra string
		want        string // substring of the only error
		fleetWide   bool
	}{
		{"dual stack ok", eni(`ipv6Ips: ["2408:4005:3aa:1b00::21", "2408:4005:3aa:1b00:ffff:ffff:ffff:fff6"], ipv4Prefixes: ["10.0.0.16/28"]`), "", false},
		{"v6 count ok", eni(`ipv6IpCount: 6, ipv4PrefixCount: 5`), "", false},
		{"primary v6 ok", `instances: "web-1": primary: {ipv6IpCount: 1, ipv4Prefixes: ["10.0.0.32/28"]}`, "", false},
		{"v6 outside", eni(`ipv6Ips: ["2408:4005:3aa:1b01::21"]`), `2408:4005:3aa:1b01::21 is outside vSwitch "app-h"'s IPv6 block (2408:4005:3aa:1b00::/64)`, false},
		{"v6 reserved first", eni(`ipv6Ips: ["2408:4005:3aa:1b00::"]`), `2408:4005:3aa:1b00:: is reserved in vSwitch "app-h"`, false},
		{"v6 reserved last nine", eni(`ipv6Ips: ["2408:4005:3aa:1b00:ffff:ffff:ffff:fff7"]`), `2408:4005:3aa:1b00:ffff:ffff:ffff:fff7 is reserved`, false},
		{"v6 not v6", eni(`ipv6Ips: ["10.0.0.9"]`), `"10.0.0.9" is not a valid IPv6 address: it is an IPv4 address`, false},
		{"v6 zone", eni(`ipv6Ips: ["fe80::1%eth0"]`), `it has a zone`, false},
		{"v6 mapped", eni(`ipv6Ips: ["::ffff:10.0.0.9"]`), `IPv4-mapped`, false},
		{"v6 exclusive", eni(`ipv6Ips: ["2408:4005:3aa:1b00::21"], ipv6IpCount: 1`), "ipv6Ips and ipv6IpCount are exclusive", false},
		{"v6 without block", `enis: "e-one": {vswitch: "v4-h", securityGroups: ["web"], attachTo: "web-1", ipv6IpCount: 1}`, `vSwitch "v4-h" has no IPv6 block (ipv6Cidr), so the ENI cannot have IPv6 addresses`, false},
		{"v6 without block unbound", `enis: "e-one": {vswitch: "v4-h", securityGroups: ["web"], ipv6IpCount: 1}`, `vSwitch "v4-h" has no IPv6 block`, false},
		{"v6 count zero without block", `enis: "e-one": {vswitch: "v4-h", securityGroups: ["web"], ipv6IpCount: 0}`, "", false},
		{"v6 primary without block", `instances: "web-2": {id: "i-bp1web000002", type: "ecs.x1.large", os: "linux", primary: {vswitch: "v4-h", ip: "10.0.2.5", ipv6IpCount: 1}}`, `vSwitch "v4-h" has no IPv6 block (ipv6Cidr), so the primary ENI cannot`, false},
		{"v6 duplicate", `instances: "web-1": primary: ipv6Ips: ["2408:4005:3aa:1b00::21"]
` + eni(`ipv6Ips: ["2408:4005:3aa:1b00:0::21"]`), "2408:4005:3aa:1b00::21 is already used at", true},
		{"v6 type without", `instances: "web-2": {id: "i-bp1web000002", type: "ecs.x1.nov6", os: "linux", primary: {vswitch: "app-h", ip: "10.0.0.7", ipv6IpCount: 1}}`, "instance type ecs.x1.nov6 takes no IPv6 addresses", false},
		{"v6 type quota", eni(`ipv6IpCount: 7`), "the ENI would carry 7 IPv6 addresses; instance type ecs.x1.large allows 6 per ENI", false},
		{"prefix not 28", eni(`ipv4Prefixes: ["10.0.0.0/27"]`), `"10.0.0.0/27" is a /27; ENI prefixes are /28`, false},
		{"prefix not aligned", eni(`ipv4Prefixes: ["10.0.0.24/28"]`), `"10.0.0.24/28" is not aligned`, false},
		{"prefix v6", eni(`ipv4Prefixes: ["2408:4005:3aa:1b00::/80"]`), `is not an IPv4 prefix`, false},
		{"prefix outside", eni(`ipv4Prefixes: ["10.0.1.16/28"]`), `10.0.1.16/28 is outside vSwitch "app-h" (10.0.0.0/24)`, false},
		{"prefix first reserved", eni(`ipv4Prefixes: ["10.0.0.0/28"]`), `10.0.0.0/28 holds a reserved address of vSwitch "app-h"`, false},
		{"prefix last reserved", eni(`ipv4Prefixes: ["10.0.0.240/28"]`), `10.0.0.240/28 holds a reserved address`, false},
		{"prefix exclusive", eni(`ipv4Prefixes: ["10.0.0.16/28"], ipv4PrefixCount: 1`), "ipv4Prefixes and ipv4PrefixCount are exclusive", false},
		{"prefix over a secondary", eni(`ipv4Prefixes: ["10.0.0.16/28"]`) + "\n" + `instances: "web-1": primary: secondaryIps: ["10.0.0.17"]`, `10.0.0.17 lies in prefix 10.0.0.16/28`, true},
		{"prefix holds an address", eni(`ipv4Prefixes: ["10.0.0.16/28"], secondaryIps: ["10.0.0.20"]`), `10.0.0.20 lies in prefix 10.0.0.16/28`, true},
		{"prefix holds another's primary", `instances: "web-1": primary: ipv4Prefixes: ["10.0.0.48/28"]
enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], primaryIp: "10.0.0.50"}`, `10.0.0.50 lies in prefix 10.0.0.48/28`, true},
		{"prefix twice", `instances: "web-1": primary: ipv4Prefixes: ["10.0.0.48/28"]
` + eni(`ipv4Prefixes: ["10.0.0.48/28"]`), `10.0.0.48/28 is already used at`, true},
		{"prefix slots", eni(`secondaryIpCount: 3, ipv4PrefixCount: 3`), `the ENI would carry 7 private IPv4 slots (1 primary, 3 secondary, 3 prefixes; each prefix takes one slot); instance "web-1" (ecs.x1.large) allows 6`, false},
		{"prefix slots primary", `instances: "web-1": primary: {secondaryIpCount: 1, ipv4PrefixCount: 5}`, `the primary ENI would carry 7 private IPv4 slots`, false},
		{"prefix slots unbound", `limits: unboundEniMaxSecondaryIps: 2
enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], secondaryIpCount: 1, ipv4PrefixCount: 2}`, `an unbound ENI can carry at most 2 secondary addresses and prefixes, this one wants 3 (1 addresses, 2 prefixes)`, false},
		{"prefix capacity", `enis: "e-one": {vswitch: "small-h", securityGroups: ["web"], ipv4PrefixCount: 4}`, `the fleet wants 65 addresses in vSwitch "small-h" but 10.0.3.0/26 has 60 usable`, true},
		{"card single", eni(`networkCard: 1`), `network card 1 does not exist on instance "web-1" (ecs.x1.large has 1 card)`, false},
		{"card zero single", eni(`networkCard: 0`), "", false},
		{"card two", `enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], attachTo: "big-1", networkCard: 1}`, "", false},
		{"card three", `enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], attachTo: "big-1", networkCard: 2}`, `network card 2 does not exist on instance "big-1" (ecs.x1.2card has 2 cards)`, false},
		{"card on primary", `instances: "web-1": primary: networkCard: 0`, `field "networkCard" is not allowed in the primary ENI`, false},
		{"queues ok", `enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], attachTo: "big-1", queues: 16}`, "", false},
		{"queues over", `enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], attachTo: "big-1", queues: 17}`, "17 queues on one ENI; instance type ecs.x1.2card allows 16", false},
		{"queues unknown max", eni(`queues: 64`), "", false},
		{"queues zero", eni(`queues: 0`), "must be from 1 to 2048, got 0", false},
		{"queues over the API's range", eni(`queues: 2049`), "must be from 1 to 2048, got 2049", false},
		{"v6 unbound at limit", `enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], ipv6IpCount: 10}`, "", false},
		{"v6 unbound over limit", `enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], ipv6IpCount: 11}`, "an unbound ENI can carry at most 10 IPv6 addresses, this one wants 11", false},
		{"ipv6Cidr not 64", `vswitches: "v6-h": {id: "vsw-bp1v6only0h", zone: "cn-hangzhou-h", cidr: "10.0.4.0/24", ipv6Cidr: "2408:4005:3aa:1b00::/56"}`, `a vSwitch IPv6 block is a /64, not a /56`, false},
		{"ipv6Cidr host bits", `vswitches: "v6-h": {id: "vsw-bp1v6only0h", zone: "cn-hangzhou-h", cidr: "10.0.4.0/24", ipv6Cidr: "2408:4005:3aa:1b00::1/64"}`, `has host bits set`, false},
		{"ipv6Cidr v4", `vswitches: "v6-h": {id: "vsw-bp1v6only0h", zone: "cn-hangzhou-h", cidr: "10.0.4.0/24", ipv6Cidr: "10.0.4.0/24"}`, `"10.0.4.0/24" is not an IPv6 CIDR block`, false},
		{"prefixes on host not bool", eni(`ipv4Prefixes: ["10.0.0.16/28"], ipv4PrefixesOnHost: "yes"`), "must be true or false", false},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, dir, strings.ReplaceAll(tt.name, " ", "-")+".cue", base(tt.extra))
			_, err := Load([]string{p}, LoadOptions{})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			es, ok := err.(Errors)
			if !ok || len(es) != 1 {
				t.Fatalf("want one error containing %q, got %v", tt.want, err)
			}
			if !strings.Contains(es[0].Msg, tt.want) {
				t.Errorf("error %q does not contain %q", es[0].Msg, tt.want)
			}
			if es[0].FleetWide != tt.fleetWide {
				t.Errorf("FleetWide = %v, want %v", es[0].FleetWide, tt.fleetWide)
			}
			if es[0].Hint == "" || !es[0].Pos.IsValid() || es[0].Pos.File != p {
				t.Errorf("error lacks a hint or a position in %s: %+v", p, es[0])
			}
		})
	}
}

func TestIPv6Reserved(t *testing.T) {
	block := netip.MustParsePrefix("2408:4005:3aa:1b00::/64")
	for a, want := range map[string]bool{
		"2408:4005:3aa:1b00::":                   true,
		"2408:4005:3aa:1b00::1":                  false,
		"2408:4005:3aa:1b00:ffff:ffff:ffff:fff6": false,
		"2408:4005:3aa:1b00:ffff:ffff:ffff:fff7": true,
		"2408:4005:3aa:1b00:ffff:ffff:ffff:ffff": true,
		"2408:4005:3aa:1b00:ffff:ffff:fffe:ffff": false,
	} {
		if got := ipv6Reserved(block, netip.MustParseAddr(a)); got != want {
			t.Errorf("ipv6Reserved(%s) = %v, want %v", a, got, want)
		}
	}
}
