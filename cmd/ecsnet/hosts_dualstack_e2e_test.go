package main

// Issue 17 on the real guests of hosts mode: each IPv6 address the render
// gives a host answers a source-routed ping -6 to its vSwitch's IPv6
// gateway (which the emulator's vSwitch side carries, as ECS does), and
// each IPv4 prefix the host answers for (ipv4PrefixesOnHost) is reached
// from the vSwitch side and sends through its ENI.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/render"
)

// renderedHost is the render of one host of the file and its lock.
func (c *e2e) renderedHost(name string) *render.Host {
	c.t.Helper()
	hosts, err := render.Hosts(c.fleet(), c.lock())
	if err != nil {
		c.t.Fatal(err)
	}
	for _, h := range hosts {
		if h.Name == name {
			return h
		}
	}
	c.t.Fatalf("no host %s in the render", name)
	return nil
}

// dualStackLive checks the named guests' IPv6 addresses and the IPv4
// prefixes they answer for, live, and returns how many of each it
// checked. An address the stack added with duplicate address detection
// on may still be tentative for a second or two: each ping is retried
// for up to 10 s.
func (c *e2e) dualStackLive(when string, names ...string) (v6, prefixes int) {
	c.t.Helper()
	ctx := context.Background()
	for _, name := range names {
		h, g := c.renderedHost(name), c.guest(name)
		ping := func(args ...string) error {
			var err error
			var out string
			for deadline := time.Now().Add(10 * time.Second); ; {
				var o, e string
				o, e, err = g.Exec(ctx, nil, append([]string{"ping", "-n", "-c", "1", "-W", "2"}, args...)...)
				out = o + e
				if err == nil || time.Now().After(deadline) {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			if err != nil {
				return fmt.Errorf("%w\n%s", err, out)
			}
			return nil
		}
		for _, n := range append([]render.NIC{h.Primary}, h.Secondary...) {
			if n.HasIPv6() {
				for _, a := range n.IPv6 {
					if err := ping("-6", "-I", a.String(), n.IPv6Gateway().String()); err != nil {
						c.t.Errorf("%s: %s (%s): ping -6 -I %s %s (%s's IPv6 gateway): %v", when, name, g.Stack(), a, n.IPv6Gateway(), n.Name(), err)
					}
					v6++
				}
			}
			for _, p := range n.HostPrefixes() {
				prefixes++
				// The prefix's second address: the first is the network
				// address, which a host answers for too but a CNI never
				// hands out.
				a := p.Addr().Next()
				if err := ping("-I", a.String(), n.Gateway.String()); err != nil {
					c.t.Errorf("%s: %s (%s): ping -I %s %s (from %s's prefix %s): %v", when, name, g.Stack(), a, n.Gateway, n.Name(), p, err)
				}
				wire := g.WireNetns()
				if wire == "" {
					c.t.Fatalf("%s: %s is down", when, name)
				}
				if out, err := exec.CommandContext(ctx, "ip", "netns", "exec", wire, "ping", "-n", "-c", "1", "-W", "3", a.String()).CombinedOutput(); err != nil {
					c.t.Errorf("%s: %s (%s): from the vSwitch side, ping %s (%s's prefix %s, which the host answers for): %v\n%s", when, name, g.Stack(), a, n.Name(), p, err, out)
				}
			}
		}
	}
	return v6, prefixes
}

// dualStackWorld gives the booted e2e's cloud the IPv6 quotas of the
// types whose hosts carry IPv6 in dualStackEveryStack: the built-in table
// has the figure only for ecs.g7.large (6, the IP prefix guide's
// example); the account of this test reports 15 for the xlarge sizes,
// like their IPv4 column, and the file says the same in limits.
func dualStackWorld(w *emulator.World) {
	for _, typ := range []string{"ecs.g7.xlarge", "ecs.c7.xlarge"} {
		w.InstanceTypes = append(w.InstanceTypes, emulator.InstanceType{InstanceTypeId: typ, EniIpv6AddressQuantity: 15})
	}
}

// dualStackLimits is the file's side of dualStackWorld.
const dualStackLimits = `
limits: instanceTypes: {
	"ecs.g7.xlarge": {maxEnis: 4, maxIpsPerEni: 15, maxIpv6PerEni: 15}
	"ecs.c7.xlarge": {maxEnis: 4, maxIpsPerEni: 15, maxIpv6PerEni: 15}
}
`

// dualStackEveryStack is issue 17 on every stack that runs for real,
// beyond the example's own dual-stack ENI (cache-1-data, networkd) and
// prefix ENI (db-2-pods, NetworkManager): IPv6 addresses and an IPv4
// prefix the host answers for on a NetworkManager (api-1-pool), networkd
// (cache-1-data), netplan (app-1-data) and ifupdown (a new ENI on lb-2,
// which holds the VIP by now) guest, and a prefix on the iproute2 guest
// (edge-1-data). apply --hosts configures them and a plan after it is
// empty, the live state matches the render, verify (which compares IPv6
// addresses, routes and rules and the prefixes' routes) is clean, every
// IPv6 address pings its gateway source-routed, and every prefix is
// answered from the vSwitch side and sends through its ENI.
func dualStackEveryStack(t *testing.T, c *e2e, clean string) {
	c.edit(`		secondaryIpCount: 12
		attachTo:         "api-1"`, `		secondaryIpCount: 12
		ipv6IpCount:      2
		ipv4PrefixCount:  1
		ipv4PrefixesOnHost: true
		attachTo:         "api-1"`) // NetworkManager
	c.edit(`		ipv6IpCount: 2
		attachTo:    "cache-1"`, `		ipv6IpCount: 2
		ipv4PrefixCount: 1
		ipv4PrefixesOnHost: true
		attachTo:    "cache-1"`) // networkd
	c.edit(`		secondaryIpCount: 4
		attachTo:         "app-1"`, `		secondaryIpCount: 4
		ipv6IpCount:      1
		ipv4PrefixCount:  1
		ipv4PrefixesOnHost: true
		attachTo:         "app-1"`) // netplan
	c.edit(`		secondaryIpCount: 2
		attachTo:         "edge-1"`, `		secondaryIpCount: 2
		ipv4PrefixCount:  1
		ipv4PrefixesOnHost: true
		attachTo:         "edge-1"`) // iproute2
	c.edit(`	// An unbound spare:`, `	// ifupdown: lb-2 holds the VIP by now; a third ENI, dual-stack with a prefix.
	"lb-2-v6": {
		vswitch:            "data-h"
		securityGroups:     ["web"]
		ipv6IpCount:        1
		ipv4PrefixCount:    1
		ipv4PrefixesOnHost: true
		attachTo:           "lb-2"
	}
	// An unbound spare:`)
	src, err := os.ReadFile(c.fleetPath())
	if err != nil {
		t.Fatal(err)
	}
	c.writeFleet(string(src) + dualStackLimits)

	out, errs := c.must(exitOK, "apply", "--auto-approve", "--hosts", c.dir)
	t.Logf("IPv6 and prefixes on every stack:\n%s\n%s", out, errs)
	wantApplied(t, "IPv6 and prefixes", errs, "api-1", "app-1", "cache-1", "edge-1", "lb-2")
	if code, pout, perrs := c.run("plan", "--detailed-exitcode", c.dir); code != exitOK {
		t.Errorf("plan after the apply: exit %d, want 0 (no changes)\n%s\n%s", code, pout, perrs)
	}
	c.hostsRightOf("after IPv6 and prefixes", realE2EGuests...)
	if code, vout := c.verify(); code != exitOK || !strings.Contains(vout, clean) {
		t.Errorf("verify after IPv6 and prefixes: exit %d\n%s", code, vout)
	}
	for _, name := range []string{"api-1", "app-1", "cache-1", "edge-1", "lb-2"} {
		v6, prefixes := c.dualStackLive("IPv6 and prefixes", name)
		if v6 == 0 && name != "edge-1" || prefixes == 0 {
			t.Errorf("%s: the render gives it %d IPv6 addresses and %d prefixes on the host; want some of each (edge-1: prefixes only)", name, v6, prefixes)
		}
	}
}
