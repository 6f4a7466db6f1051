package emulator

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
)

// TestHostsWireIPv6 checks the vSwitch side of a real host (lb-1,
// ifupdown) for issue 17: each IPv6 vSwitch's gateway (the block's last
// address minus 8) is on br0 and answers a source-routed ping -6 from
// every IPv6 address of the primary ENI and of a secondary ENI, a wrong
// gateway does not; the metadata service serves ipv6s, ipv6-gateway,
// vswitch-ipv6-cidr-block and ipv4-prefixes from the cloud's state (and
// no ipv6s for an ENI without IPv6); an address of an IPv4 prefix the
// host answers for (a local route) is reachable from the vSwitch side; a
// detach takes the vSwitch's IPv6 gateway off br0 when no ENI of it is
// left.
func TestHostsWireIPv6(t *testing.T) {
	requireHostsMode(t)
	for _, tool := range []string{"ping", "curl"} {
		if _, err := lookTool(tool); err != nil {
			hostsUnavailable(t, "the vSwitch side's IPv6 test needs %s: %v", tool, err)
		}
	}
	w := exampleWorld(t)
	blocks := map[string]string{"vsw-bp1app0000h": "2408:4005:3aa:1b00::/64", "vsw-bp1data000h": "2408:4005:3aa:1b02::/64"}
	for i, v := range w.VSwitches {
		if b, ok := blocks[v.VSwitchId]; ok {
			w.VSwitches[i].Ipv6CidrBlock = b
		}
	}
	// The built-in table leaves the type's IPv6 column out; the world
	// gives it, as DescribeInstanceTypes would.
	w.InstanceTypes = append(w.InstanceTypes, InstanceType{InstanceTypeId: "ecs.g7.large", EniIpv6AddressQuantity: 6})
	e := newHostsEnv(t, w)
	ctx := context.Background()
	const lb1, lb1ENI, lb1MAC = "i-bp1lb0000001", "eni-bp1lb1primary00001", "00:16:3e:10:00:03"
	const nfs, nfsMAC = "eni-bp1legacynfs000001", "00:16:3e:20:00:01"
	const gwApp, gwData = "2408:4005:3aa:1b00:ffff:ffff:ffff:fff7", "2408:4005:3aa:1b02:ffff:ffff:ffff:fff7"
	h := e.srv.Host(lb1)
	if !h.Up() {
		t.Fatalf("lb-1 is not up")
	}
	sh := func(script string) (string, error) {
		t.Helper()
		out, errOut, err := h.Exec(ctx, nil, "/bin/bash", "-c", script)
		return out + errOut, err
	}
	must := func(script string) string {
		t.Helper()
		out, err := sh(script)
		if err != nil {
			t.Fatalf("in lb-1: %s: %v\n%s", script, err, out)
		}
		return out
	}
	br0 := func() string {
		t.Helper()
		out, err := exec.Command("ip", "-n", h.ns.wire, "-6", "-o", "addr", "show", "dev", "br0", "scope", "global").Output()
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	meta := func(path string) (string, string) {
		t.Helper()
		// The body, then the status on a line of its own.
		out := must("curl -sS -m 5 -w '\\n%{http_code}' http://100.100.100.200/latest/meta-data/" + path)
		i := strings.LastIndex(out, "\n")
		return out[:i], out[i+1:]
	}

	// At boot: the primary's vSwitch's IPv6 gateway, and nothing else.
	if got := br0(); !strings.Contains(got, gwApp+"/64") || strings.Contains(got, gwData) {
		t.Errorf("br0 at boot has:\n%s\nwant %s/64 only", got, gwApp)
	}
	// The primary ENI has no IPv6 address yet: no ipv6s, but its
	// vSwitch's block and gateway.
	if body, code := meta("network/interfaces/macs/" + lb1MAC + "/ipv6s"); code != "404" {
		t.Errorf("ipv6s of an ENI without IPv6: %s %q, want 404", code, body)
	}
	for p, want := range map[string]string{
		"network/interfaces/macs/" + lb1MAC + "/ipv6-gateway":            gwApp,
		"network/interfaces/macs/" + lb1MAC + "/vswitch-ipv6-cidr-block": "2408:4005:3aa:1b00::/64",
	} {
		if body, code := meta(p); code != "200" || body != want {
			t.Errorf("GET %s = %s %q, want %q", p, code, body, want)
		}
	}

	// The primary ENI's IPv6 address, configured as ecsnet does (the main
	// table, the gateway from the metadata).
	ok(t, e.cl.ecs(t, "AssignIpv6Addresses", "NetworkInterfaceId", lb1ENI, "Ipv6Address.1", "2408:4005:3aa:1b00::12"))
	if body, code := meta("network/interfaces/macs/" + lb1MAC + "/ipv6s"); code != "200" || body != "[2408:4005:3aa:1b00::12]" {
		t.Errorf("ipv6s after AssignIpv6Addresses: %s %q", code, body)
	}
	gw, _ := meta("network/interfaces/macs/" + lb1MAC + "/ipv6-gateway")
	must(fmt.Sprintf(`set -e
ip -6 addr add 2408:4005:3aa:1b00::12/64 dev eth0 nodad
ip -6 route add default via %s dev eth0`, gw))

	// A secondary ENI in another IPv6 vSwitch, with two IPv6 addresses the
	// cloud picks and a /28 IPv4 prefix.
	ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", nfs, "InstanceId", lb1))
	e.waitENI(t, nfs, "InUse")
	ok(t, e.cl.ecs(t, "AssignIpv6Addresses", "NetworkInterfaceId", nfs, "Ipv6AddressCount", "2"))
	ok(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", nfs, "Ipv4PrefixCount", "1"))
	if got := br0(); !strings.Contains(got, gwApp+"/64") || !strings.Contains(got, gwData+"/64") {
		t.Errorf("br0 after the attach has:\n%s\nwant %s/64 and %s/64", got, gwApp, gwData)
	}
	nfsDev := ""
	for name, l := range links(t, h) {
		if l.MAC == nfsMAC {
			nfsDev = name
		}
	}
	if nfsDev == "" {
		t.Fatalf("lb-1 has no NIC with %s", nfsMAC)
	}
	macDir := "network/interfaces/macs/" + nfsMAC + "/"
	ipv6s, code := meta(macDir + "ipv6s")
	var v6 []string
	if code == "200" && strings.HasPrefix(ipv6s, "[") && strings.HasSuffix(ipv6s, "]") {
		v6 = strings.Split(strings.Trim(ipv6s, "[]"), ",")
	}
	if len(v6) != 2 {
		t.Fatalf("ipv6s of the secondary ENI: %s %q, want two addresses in brackets", code, ipv6s)
	}
	for _, a := range v6 {
		if !strings.HasPrefix(a, "2408:4005:3aa:1b02:") {
			t.Errorf("picked IPv6 address %s is not in the vSwitch's block 2408:4005:3aa:1b02::/64", a)
		}
	}
	prefix, code := meta(macDir + "ipv4-prefixes")
	if code != "200" || !strings.HasPrefix(prefix, "172.16.2.") || !strings.HasSuffix(prefix, "/28") || strings.Contains(prefix, "\n") {
		t.Fatalf("ipv4-prefixes of the secondary ENI: %s %q, want one /28 of 172.16.2.0/24", code, prefix)
	}
	for p, want := range map[string]string{
		macDir + "ipv6-gateway":            gwData,
		macDir + "vswitch-ipv6-cidr-block": "2408:4005:3aa:1b02::/64",
		macDir + "private-ipv4s":           `["172.16.2.200"]`,
	} {
		if body, code := meta(p); code != "200" || body != want {
			t.Errorf("GET %s = %s %q, want %q", p, code, body, want)
		}
	}
	// Policy routing as ecsnet renders it for a secondary ENI: the ENI's
	// table holds the IPv6 default route, a rule per address; the prefix
	// is the host's own (a local route) and leaves through the same table.
	gw, _ = meta(macDir + "ipv6-gateway")
	script := fmt.Sprintf(`set -e
ip link set %[1]s up
ip addr add 172.16.2.200/24 dev %[1]s
ip route add default via 172.16.2.253 dev %[1]s table 1001
ip rule add from 172.16.2.200 lookup 1001 priority 1001
ip -6 route add 2408:4005:3aa:1b02::/64 dev %[1]s table 1001
ip -6 route add default via %[2]s dev %[1]s table 1001
ip route add local %[3]s dev %[1]s
ip rule add from %[3]s lookup 1001 priority 1001
`, nfsDev, gw, prefix)
	for _, a := range v6 {
		script += fmt.Sprintf("ip -6 addr add %s/64 dev %s nodad\nip -6 rule add from %s lookup 1001 priority 1001\n", a, nfsDev, a)
	}
	must(script)

	t.Run("ping -6 the gateway", func(t *testing.T) {
		for from, gw := range map[string]string{"2408:4005:3aa:1b00::12": gwApp, v6[0]: gwData, v6[1]: gwData} {
			if out, err := sh("ping -6 -n -c 1 -W 3 -I " + from + " " + gw); err != nil {
				t.Errorf("ping -6 -I %s %s: %v\n%s", from, gw, err, out)
			}
		}
		// A wrong gateway (the block's first host address, the AWS rule)
		// is not answered.
		if out, err := sh("ping -6 -n -c 1 -W 1 -I " + v6[0] + " 2408:4005:3aa:1b02::1"); err == nil {
			t.Errorf("a ping to the wrong gateway 2408:4005:3aa:1b02::1 was answered:\n%s", out)
		}
		// The gateway answers out of the ENI's own port: the reply to the
		// secondary ENI's address came in on its NIC, which the source
		// route sends from; bound to the NIC it works too.
		if out, err := sh("ping -6 -n -c 1 -W 3 -I " + nfsDev + " " + gwData); err != nil {
			t.Errorf("ping -6 -I %s %s: %v\n%s", nfsDev, gwData, err, out)
		}
	})

	t.Run("prefix answered", func(t *testing.T) {
		// From the vSwitch side, as another host of the VPC would: an
		// address of the prefix is answered by the guest, through the
		// ENI's port.
		p, err := netip.ParsePrefix(prefix)
		if err != nil {
			t.Fatal(err)
		}
		addr := p.Addr().Next().String()
		if out, err := exec.Command("ip", "netns", "exec", h.ns.wire, "ping", "-n", "-c", "1", "-W", "3", addr).CombinedOutput(); err != nil {
			t.Errorf("from the vSwitch side, ping %s (in the ENI's prefix %s): %v\n%s", addr, prefix, err, out)
		}
		// And the guest sends from it through the ENI's table.
		if out, err := sh("ping -n -c 1 -W 3 -I " + addr + " 172.16.2.253"); err != nil {
			t.Errorf("ping -I %s 172.16.2.253: %v\n%s", addr, err, out)
		}
	})

	t.Run("detach", func(t *testing.T) {
		ok(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", nfs, "InstanceId", lb1))
		e.waitENI(t, nfs, "Available")
		if got := br0(); !strings.Contains(got, gwApp+"/64") || strings.Contains(got, gwData) {
			t.Errorf("br0 after the detach has:\n%s\nwant %s/64 only", got, gwApp)
		}
		if _, code := meta(macDir + "ipv6s"); code != "404" {
			t.Errorf("after the detach, %sipv6s answers %s, want 404", macDir, code)
		}
	})
}
