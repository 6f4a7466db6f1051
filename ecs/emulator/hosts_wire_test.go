package emulator

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestHostsWire checks the vSwitch side of a real host (lb-1, ifupdown):
// its gateways answer pings from each ENI's address, out the port of the
// ENI that owns the address, and a wrong gateway does not; DHCP answers
// each attached ENI's MAC with its address and router, and no other MAC;
// the metadata service answers the cloud's values from the guest,
// follows a secondary IP assignment and a detach at once, and listens
// nowhere on the machine's own network.
func TestHostsWire(t *testing.T) {
	requireHostsMode(t)
	for _, tool := range []string{"dnsmasq", "dhclient", "ping", "curl", "bridge"} {
		if _, err := lookTool(tool); err != nil {
			hostsUnavailable(t, "the vSwitch side's test needs %s: %v", tool, err)
		}
	}
	before := snapshotMachine(t)
	e := newHostsEnv(t, exampleWorld(t))
	ctx := context.Background()
	const lb1 = "i-bp1lb0000001"
	h := e.srv.Host(lb1)
	if !h.Up() || !h.DHCPServed() {
		t.Fatalf("lb-1: up %v, DHCP served %v; want both", h.Up(), h.DHCPServed())
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

	// A second ENI in lb-1's vSwitch (app-h) and one in another (data-h).
	r := ok(t, e.cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-bp1app0000h", "SecurityGroupId", "sg-bp1web000001",
		"PrimaryIpAddress", "172.16.0.50"))
	app, appMAC := str(r, "NetworkInterfaceId"), str(r, "MacAddress")
	const nfs, nfsMAC = "eni-bp1legacynfs000001", "00:16:3e:20:00:01"
	for _, id := range []string{app, nfs} {
		ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", lb1))
		e.waitENI(t, id, "InUse")
	}
	dev := map[string]string{}
	for name, l := range links(t, h) {
		dev[l.MAC] = name
	}
	appDev, nfsDev := dev[appMAC], dev[nfsMAC]
	if appDev == "" || nfsDev == "" {
		t.Fatalf("lb-1's links %v lack %s or %s", dev, appMAC, nfsMAC)
	}
	// Configured by hand as ecsnet would: the secondary ENI in eth0's
	// block routes its own address out through its own table.
	must(fmt.Sprintf(`set -e
ip link set %[1]s up
ip addr add 172.16.0.50/24 dev %[1]s
ip route add default via 172.16.0.253 dev %[1]s table 1001
ip rule add from 172.16.0.50 lookup 1001
ip link set %[2]s up
ip addr add 172.16.2.200/24 dev %[2]s`, appDev, nfsDev))

	t.Run("gateway", func(t *testing.T) {
		for _, c := range []struct{ from, gw string }{
			{"172.16.0.12", "172.16.0.253"},
			{"172.16.0.50", "172.16.0.253"},
			{appDev, "172.16.0.253"}, // bound to the NIC: the reply must come in on it
			{"172.16.2.200", "172.16.2.253"},
		} {
			if out, err := sh("ping -n -c 1 -W 3 -I " + c.from + " " + c.gw); err != nil {
				t.Errorf("ping -I %s %s: %v\n%s", c.from, c.gw, err, out)
			}
		}
		// A wrong gateway (a render whose vSwitch block is not the cloud's)
		// is not answered.
		if out, err := sh("ping -n -c 1 -W 1 -I 172.16.0.12 172.16.0.125"); err == nil {
			t.Errorf("ping to the wrong gateway 172.16.0.125 was answered:\n%s", out)
		}
		// The vSwitch side knows each ENI's port, as the cloud does.
		fdb, err := exec.Command("bridge", "-n", h.ns.wire, "fdb", "show", "br", "br0").Output()
		if err != nil {
			t.Fatal(err)
		}
		for mac, port := range map[string]string{"00:16:3e:10:00:03": "w0", appMAC: "w1", nfsMAC: "w2"} {
			if want := mac + " dev " + port + " master br0 static"; !strings.Contains(string(fdb), want) {
				t.Errorf("br0's forwarding table lacks %q:\n%s", want, fdb)
			}
		}
	})

	t.Run("dhcp", func(t *testing.T) {
		// dhclient with a script that only records what it was offered.
		must(`set -e
mkdir -p /tmp/dhcp
printf '%s\n' 'timeout 6;' 'retry 1;' 'initial-interval 1;' 'request subnet-mask, routers, domain-name-servers;' >/tmp/dhcp/dhclient.conf
printf '%s\n' '#!/bin/sh' 'echo "$reason $interface $new_ip_address $new_subnet_mask $new_routers dns=$new_domain_name_servers" >>/tmp/dhcp/got' >/tmp/dhcp/record
chmod +x /tmp/dhcp/record`)
		dhcp := func(dev string, limit int) (string, error) {
			t.Helper()
			return sh(fmt.Sprintf(`rm -f /tmp/dhcp/got
timeout %[2]d dhclient -4 -1 -cf /tmp/dhcp/dhclient.conf -sf /tmp/dhcp/record -lf /tmp/dhcp/%[1]s.leases -pf /tmp/dhcp/%[1]s.pid %[1]s || exit
dhclient -4 -x -cf /tmp/dhcp/dhclient.conf -sf /tmp/dhcp/record -lf /tmp/dhcp/%[1]s.leases -pf /tmp/dhcp/%[1]s.pid %[1]s >/dev/null 2>&1
grep BOUND /tmp/dhcp/got`, dev, limit))
		}
		for dev, want := range map[string]string{
			"eth0": "BOUND eth0 172.16.0.12 255.255.255.0 172.16.0.253 dns=100.100.2.136 100.100.2.138",
			appDev: "BOUND " + appDev + " 172.16.0.50 255.255.255.0 172.16.0.253 dns=100.100.2.136 100.100.2.138",
			nfsDev: "BOUND " + nfsDev + " 172.16.2.200 255.255.255.0 172.16.2.253 dns=100.100.2.136 100.100.2.138",
		} {
			start := time.Now()
			out, err := dhcp(dev, 30)
			t.Logf("DHCP on %s: %v", dev, time.Since(start))
			if err != nil || strings.TrimSpace(out) != want {
				t.Errorf("DHCP on %s: %v\n%s\nwant %q", dev, err, out, want)
			}
		}
		// A MAC the cloud does not know gets nothing.
		must(fmt.Sprintf("ip link set %[1]s down && ip link set %[1]s address 02:00:00:00:00:99 && ip link set %[1]s up", nfsDev))
		if out, err := dhcp(nfsDev, 5); err == nil {
			t.Errorf("DHCP answered an unknown MAC:\n%s", out)
		}
		must(fmt.Sprintf("ip link set %[1]s down && ip link set %[1]s address %[2]s && ip link set %[1]s up", nfsDev, nfsMAC))
	})

	meta := func(paths ...string) map[string]string {
		t.Helper()
		var b strings.Builder
		for _, p := range paths {
			fmt.Fprintf(&b, "printf '%%s\\n' '--- %s'; curl -sS -m 5 http://100.100.100.200%s; echo\n", p, p)
		}
		out := must(b.String())
		got := map[string]string{}
		for _, part := range strings.Split(out, "--- ")[1:] {
			p, v, _ := strings.Cut(part, "\n")
			got[p] = strings.TrimSuffix(v, "\n")
		}
		return got
	}
	const md = "/latest/meta-data/"
	const macs = md + "network/interfaces/macs/"

	t.Run("dns", func(t *testing.T) {
		// As the payload's Cloud Assistant probe does: the region from the
		// metadata service, the server's name resolved, TCP 443 opened.
		region := must("curl -sS -m 5 http://100.100.100.200/latest/meta-data/region-id")
		if region != e.srv.cloud.region {
			t.Fatalf("region-id = %q, want %q", region, e.srv.cloud.region)
		}
		name := region + ".axt.aliyun.com"
		if got := must("cat /etc/resolv.conf"); !strings.Contains(got, "nameserver 100.100.2.136\nnameserver 100.100.2.138\n") {
			t.Errorf("lb-1's /etc/resolv.conf lacks the VPC's resolvers:\n%s", got)
		}
		if out, err := sh("timeout 3 getent ahostsv4 " + name); err != nil || !strings.HasPrefix(out, cloudAssistantAddr+" ") {
			t.Errorf("getent ahostsv4 %s: %v\n%s\nwant %s", name, err, out, cloudAssistantAddr)
		}
		if out, err := sh(`timeout 3 bash -c 'exec 3<>/dev/tcp/$1/443' tcp $(timeout 3 getent ahostsv4 ` + name + ` | awk '{ print $1; exit }')`); err != nil {
			t.Errorf("TCP connect to %s:443: %v\n%s", name, err, out)
		}
		// Nothing else resolves: no upstream, not even the metadata
		// service's name or another region's server.
		for _, other := range []string{"example.com", "cn-beijing.axt.aliyun.com", "x." + name, "localhost.localdomain"} {
			if other == name {
				continue
			}
			if out, err := sh("timeout 3 getent ahostsv4 " + other); err == nil {
				t.Errorf("%s resolved:\n%s", other, out)
			}
		}
		// The resolvers answer on their own addresses only: nothing listens
		// on port 53 at the gateways or the metadata address.
		udp, err := exec.Command("ip", "netns", "exec", h.ns.wire, "cat", "/proc/net/udp").Output()
		if err != nil {
			t.Fatal(err)
		}
		var dns []string
		for _, line := range strings.Split(string(udp), "\n")[1:] {
			if f := strings.Fields(line); len(f) > 1 && strings.HasSuffix(f[1], ":0035") {
				dns = append(dns, f[1])
			}
		}
		slices.Sort(dns)
		if !slices.Equal(dns, []string{"88026464:0035", "8A026464:0035"}) { // as /proc writes 100.100.2.136:53 and .138:53
			t.Errorf("DNS listens on %v in the wire namespace; want 100.100.2.136:53 and 100.100.2.138:53 only", dns)
		}
		if got := meta(md + "dns-conf/nameservers")[md+"dns-conf/nameservers"]; got != "100.100.2.136\n100.100.2.138" {
			t.Errorf("dns-conf/nameservers = %q", got)
		}
	})

	t.Run("metadata", func(t *testing.T) {
		ok(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", app, "PrivateIpAddress.1", "172.16.0.51"))
		want := map[string]string{
			md + "instance-id":                       lb1,
			"/2016-01-01/meta-data/instance-id":      lb1,
			md + "mac":                               "00:16:3e:10:00:03",
			md + "private-ipv4":                      "172.16.0.12",
			md + "vpc-id":                            "vpc-bp1shop00000001",
			md + "vswitch-id":                        "vsw-bp1app0000h",
			macs:                                     strings.Join(slices.Sorted(slices.Values([]string{"00:16:3e:10:00:03/", appMAC + "/", nfsMAC + "/"})), "\n"),
			macs + appMAC + "/network-interface-id":  app,
			macs + appMAC + "/primary-ip-address":    "172.16.0.50",
			macs + appMAC + "/private-ipv4s":         `["172.16.0.50","172.16.0.51"]`,
			macs + appMAC + "/netmask":               "255.255.255.0",
			macs + appMAC + "/gateway":               "172.16.0.253",
			macs + appMAC + "/vswitch-cidr-block":    "172.16.0.0/24",
			macs + appMAC + "/vswitch-id":            "vsw-bp1app0000h",
			macs + appMAC + "/vpc-id":                "vpc-bp1shop00000001",
			macs + nfsMAC + "/network-interface-id":  nfs,
			macs + nfsMAC + "/gateway":               "172.16.2.253",
			macs + nfsMAC + "/vswitch-cidr-block":    "172.16.2.0/24",
			macs + "00:16:3e:10:00:03/private-ipv4s": `["172.16.0.12"]`,
		}
		got := meta(slices.Collect(maps.Keys(want))...)
		for p, w := range want {
			if got[p] != w {
				t.Errorf("GET %s = %q, want %q", p, got[p], w)
			}
		}
		if out, err := sh("curl -sS -m 5 -o /dev/null -w '%{http_code}' http://100.100.100.200" + md + "no-such-key"); err != nil || out != "404" {
			t.Errorf("an unknown path: %q, %v; want 404", out, err)
		}
		// Hardened mode's clients get a token and are answered with it.
		if out, err := sh(`tok=$(curl -sS -m 5 -X PUT -H 'X-aliyun-ecs-metadata-token-ttl-seconds: 60' http://100.100.100.200/latest/api/token) &&
[ ${#tok} = 32 ] && curl -sS -m 5 -H "X-aliyun-ecs-metadata-token: $tok" http://100.100.100.200` + md + "instance-id"); err != nil || out != lb1 {
			t.Errorf("with a token: %q, %v; want %s", out, err, lb1)
		}

		// A detach shows at once, and the vSwitch side forgets the NIC.
		ok(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", nfs, "InstanceId", lb1))
		e.waitENI(t, nfs, "Available")
		if got := meta(macs)[macs]; strings.Contains(got, nfsMAC) || !strings.Contains(got, appMAC) {
			t.Errorf("after the detach, %s = %q; want %s gone, %s there", macs, got, nfsMAC, appMAC)
		}
		addrs, err := exec.Command("ip", "-n", h.ns.wire, "-4", "-o", "addr", "show", "dev", "br0").Output()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(addrs), "172.16.2.253") || !strings.Contains(string(addrs), "172.16.0.253/24") {
			t.Errorf("after the detach, br0 has:\n%s\nwant 172.16.0.253/24 and no 172.16.2.253", addrs)
		}
	})

	t.Run("not on the machine", func(t *testing.T) {
		// The listener is in lb-1's wire namespace, not in the machine's.
		const listen = "C8646464:0050" // 100.100.100.200:80 as /proc/net/tcp writes it
		own, err := os.ReadFile("/proc/self/net/tcp")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(own), listen) {
			t.Errorf("the machine's network namespace has a socket on 100.100.100.200:80:\n%s", own)
		}
		wire, err := exec.Command("ip", "netns", "exec", h.ns.wire, "cat", "/proc/net/tcp").Output()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(wire), listen) {
			t.Errorf("lb-1's wire namespace has no listener on 100.100.100.200:80:\n%s", wire)
		}
		if d := before.diff(snapshotMachine(t)); d != "" {
			t.Errorf("the machine changed:\n%s", d)
		}
	})
}

// TestHostsWireMetadataAtBoot: a guest's boot units can read the metadata
// service while the API request that started the instance is still
// booting it (holding the server's lock), and they read what the cloud
// says now: an ENI detached while the instance was stopped is gone from
// network/interfaces/macs, as issue 16's boot-time reconcile needs.
func TestHostsWireMetadataAtBoot(t *testing.T) {
	requireHostsMode(t)
	if _, err := lookTool("curl"); err != nil {
		hostsUnavailable(t, "the metadata test needs curl: %v", err)
	}
	e := newHostsEnv(t, exampleWorld(t))
	ctx := context.Background()
	const lb1, nfs = "i-bp1lb0000001", "eni-bp1legacynfs000001"
	h := e.srv.Host(lb1)
	ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", nfs, "InstanceId", lb1))
	e.waitENI(t, nfs, "InUse")
	unit := "[Service]\nExecStart=/usr/bin/curl -sS -m 10 -o /root/macs http://100.100.100.200/latest/meta-data/network/interfaces/macs/\n"
	if err := h.WriteFile(ctx, "/etc/systemd/system/multi-user.target.wants/ecsnet-test-macs.service", []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	ok(t, e.cl.ecs(t, "StopInstance", "InstanceId", lb1))
	if got := e.instStatus(t, lb1); got != "Stopped" {
		t.Fatalf("lb-1 is %s after StopInstance", got)
	}
	ok(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", nfs, "InstanceId", lb1))
	e.waitENI(t, nfs, "Available")
	start := time.Now()
	ok(t, e.cl.ecs(t, "StartInstance", "InstanceId", lb1))
	if got := e.instStatus(t, lb1); got != "Running" || !h.Up() {
		t.Fatalf("after StartInstance: %s, up %v\nboot log:\n%s", got, h.Up(), h.BootLog())
	}
	t.Logf("start to running: %v", time.Since(start))
	got, err := h.ReadFile(ctx, "/root/macs")
	if want := "00:16:3e:10:00:03/"; err != nil || string(got) != want {
		t.Errorf("the boot unit read %q (%v); want %q\nboot log:\n%s", got, err, want, h.BootLog())
	}
}
