package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateSummaryIPv6 checks that the validate summary counts IPv6
// addresses and IPv4 prefixes beside the IPv4 secondaries, and leaves an
// IPv4-only fleet's line as it was.
func TestValidateSummaryIPv6(t *testing.T) {
	const fleet = `fleet: shop-test
region: cn-hangzhou
vswitches:
  app-h: {id: vsw-bp1app0000h, zone: cn-hangzhou-h, cidr: 172.16.0.0/24, ipv6Cidr: "2408:4005:3aa:1b00::/64"}
securityGroups:
  web: {id: sg-bp1web000001}
instances:
  web-1:
    id: i-bp1web000001
    type: ecs.x9.large
    os: centos7
    primary:
      vswitch: app-h
      ip: 172.16.0.10
      securityGroups: [web]
      ipv6Ips: ["2408:4005:3aa:1b00::21", "2408:4005:3aa:1b00::22"]
enis:
  web-1-data:
    vswitch: app-h
    securityGroups: [web]
    attachTo: web-1
    ipv6IpCount: 3
    ipv4PrefixCount: 2
  web-1-pods:
    vswitch: app-h
    securityGroups: [web]
    attachTo: web-1
    ipv4Prefixes: ["172.16.0.32/28"]
limits:
  instanceTypes:
    ecs.x9.large: {maxEnis: 3, maxIpsPerEni: 6, maxIpv6PerEni: 6}
`
	dir := t.TempDir()
	name := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(name, []byte(fleet), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "validate", name)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	want := "0 pinned and 0 counted secondary addresses, 2 pinned and 3 counted IPv6 addresses, 1 pinned and 2 counted IPv4 prefixes\n"
	if !strings.HasSuffix(out, want) {
		t.Errorf("summary:\n%s\nwant it to end with:\n%s", out, want)
	}
	var v4 []string
	for _, l := range strings.Split(fleet, "\n") {
		if !strings.Contains(l, "ipv6Ip") && !strings.Contains(l, "ipv4Prefix") {
			v4 = append(v4, l)
		}
	}
	if err := os.WriteFile(name, []byte(strings.Join(v4, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, "validate", name); code != 0 || !strings.HasSuffix(out, "0 pinned and 0 counted secondary addresses\n") {
		t.Errorf("IPv4-only fleet: exit %d, summary %q %s", code, out, errs)
	}
}
