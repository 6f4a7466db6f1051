package schema

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// dualStackFleet is one fleet with every field of issue 17, in the three
// syntaxes; TestDecodeIssue17 reads each the same.
var dualStackFleet = map[string]string{
	"fleet.cue": `fleet: "ds"
region: "cn-hangzhou"
vswitches: "app-h": {id: "vsw-bp1s5fnvk4gn2tws03624", zone: "cn-hangzhou-h", cidr: "172.16.0.0/24", ipv6Cidr: "2408:4005:3aa:1b00::/64"}
securityGroups: web: id: "sg-bp67acfmxazb4ph6a9v1"
instances: "web-1": {
	id: "i-bp67acfmxazb4ph6a9v1", type: "ecs.g7.2xlarge", os: "alinux3"
	primary: {vswitch: "app-h", ip: "172.16.0.10", ipv6Ips: ["2408:4005:3aa:1b00::10"], ipv4PrefixCount: 1}
}
enis: pool: {
	vswitch: "app-h", securityGroups: ["web"], attachTo: "web-1"
	ipv6IpCount: 2
	ipv4Prefixes: ["172.16.0.32/28", "172.16.0.64/28"]
	ipv4PrefixesOnHost: true
	networkCard: 0
	queues: 4
}
limits: instanceTypes: "ecs.g7.2xlarge": {maxEnis: 4, maxIpsPerEni: 15, maxIpv6PerEni: 15, networkCards: 1, maxQueuesPerEni: 8}
`,
	"fleet.yaml": `fleet: ds
region: cn-hangzhou
vswitches:
  app-h: {id: vsw-bp1s5fnvk4gn2tws03624, zone: cn-hangzhou-h, cidr: 172.16.0.0/24, ipv6Cidr: "2408:4005:3aa:1b00::/64"}
securityGroups:
  web: {id: sg-bp67acfmxazb4ph6a9v1}
instances:
  web-1:
    id: i-bp67acfmxazb4ph6a9v1
    type: ecs.g7.2xlarge
    os: alinux3
    primary: {vswitch: app-h, ip: 172.16.0.10, ipv6Ips: ["2408:4005:3aa:1b00::10"], ipv4PrefixCount: 1}
enis:
  pool:
    vswitch: app-h
    securityGroups: [web]
    attachTo: web-1
    ipv6IpCount: 2
    ipv4Prefixes: [172.16.0.32/28, 172.16.0.64/28]
    ipv4PrefixesOnHost: true
    networkCard: 0
    queues: 4
limits:
  instanceTypes:
    ecs.g7.2xlarge: {maxEnis: 4, maxIpsPerEni: 15, maxIpv6PerEni: 15, networkCards: 1, maxQueuesPerEni: 8}
`,
	"fleet.json": `{"fleet": "ds", "region": "cn-hangzhou",
"vswitches": {"app-h": {"id": "vsw-bp1s5fnvk4gn2tws03624", "zone": "cn-hangzhou-h", "cidr": "172.16.0.0/24", "ipv6Cidr": "2408:4005:3aa:1b00::/64"}},
"securityGroups": {"web": {"id": "sg-bp67acfmxazb4ph6a9v1"}},
"instances": {"web-1": {"id": "i-bp67acfmxazb4ph6a9v1", "type": "ecs.g7.2xlarge", "os": "alinux3",
  "primary": {"vswitch": "app-h", "ip": "172.16.0.10", "ipv6Ips": ["2408:4005:3aa:1b00::10"], "ipv4PrefixCount": 1}}},
"enis": {"pool": {"vswitch": "app-h", "securityGroups": ["web"], "attachTo": "web-1",
  "ipv6IpCount": 2,
  "ipv4Prefixes": ["172.16.0.32/28", "172.16.0.64/28"],
  "ipv4PrefixesOnHost": true,
  "networkCard": 0,
  "queues": 4}},
"limits": {"instanceTypes": {"ecs.g7.2xlarge": {"maxEnis": 4, "maxIpsPerEni": 15, "maxIpv6PerEni": 15, "networkCards": 1, "maxQueuesPerEni": 8}}}}
`,
}

func TestDecodeIssue17(t *testing.T) {
	for name, body := range dualStackFleet {
		t.Run(name, func(t *testing.T) {
			f := mustLoad(t, write(t, t.TempDir(), name, body))
			v := f.VSwitch("app-h")
			if v.IPv6CIDR != netip.MustParsePrefix("2408:4005:3aa:1b00::/64") || v.IPv6CIDRPos.Line != map[string]int{"fleet.cue": 3, "fleet.yaml": 4, "fleet.json": 2}[name] {
				t.Errorf("vSwitch ipv6Cidr %v at %v", v.IPv6CIDR, v.IPv6CIDRPos)
			}
			pr := f.Instance("web-1").Primary
			if got := pr.IPv6.PinnedAddrs(); !slices.Equal(got, []netip.Addr{netip.MustParseAddr("2408:4005:3aa:1b00::10")}) || pr.IPv6.Counted || pr.IPv6.Pinned[0].Pos.Line == 0 {
				t.Errorf("primary IPv6 %+v", pr.IPv6)
			}
			if !pr.Prefixes.Counted || pr.Prefixes.N() != 1 || pr.Prefixes.CountPos.Line == 0 || pr.Prefixes.OnHost {
				t.Errorf("primary prefixes %+v", pr.Prefixes)
			}
			e := f.ENI("pool")
			if !e.IPv6.Counted || e.IPv6.N() != 2 || e.IPv6.CountPos.Line == 0 {
				t.Errorf("ENI IPv6 %+v", e.IPv6)
			}
			want := []netip.Prefix{netip.MustParsePrefix("172.16.0.32/28"), netip.MustParsePrefix("172.16.0.64/28")}
			if got := e.Prefixes.PinnedPrefixes(); !slices.Equal(got, want) || !e.Prefixes.OnHost || e.Prefixes.OnHostPos.Line == 0 {
				t.Errorf("ENI prefixes %+v", e.Prefixes)
			}
			for _, p := range e.Prefixes.Pinned {
				if p.Pos.Line == 0 || !strings.HasSuffix(p.Pos.File, name) {
					t.Errorf("prefix %v at %v", p.Prefix, p.Pos)
				}
			}
			if !e.NetworkCardSet || e.NetworkCard != 0 || e.NetworkCardPos.Line == 0 || e.Queues != 4 || e.QueuesPos.Line == 0 {
				t.Errorf("ENI card %d (set %v) at %v, queues %d at %v", e.NetworkCard, e.NetworkCardSet, e.NetworkCardPos, e.Queues, e.QueuesPos)
			}
			typ, ok := f.InstanceType("ecs.g7.2xlarge")
			if !ok || typ.MaxIPv6PerENI != 15 || typ.NetworkCards != 1 || typ.MaxQueuesPerENI != 8 {
				t.Errorf("type row %+v", typ)
			}
		})
	}
}
