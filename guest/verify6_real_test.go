package guest

import (
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// dual6Host is the example's iproute2 host with IPv6 addresses on its
// primary and first secondary ENI and a /28 prefix the host answers for
// on each.
func dual6Host(t *testing.T) *render.Host {
	t.Helper()
	var base *render.Host
	for _, h := range standin.ExampleHosts(t) {
		if h.Stack == schema.StackIproute2 && len(h.Secondary) > 0 {
			base = h
		}
	}
	if base == nil {
		t.Fatal("the example has no iproute2 host with a secondary ENI")
	}
	h := *base
	h.Secondary = slices.Clone(base.Secondary)
	v6 := func(n *render.NIC, block string, ids ...string) {
		n.IPv6Prefix = netip.MustParsePrefix(block + "::/64")
		for _, id := range ids {
			n.IPv6 = append(n.IPv6, netip.MustParseAddr(block+"::"+id))
		}
	}
	v6(&h.Primary, "2408:4005:3aa:1b00", "10")
	v6(&h.Secondary[0], "2408:4005:3aa:1b02", "20", "21")
	h.Primary.Prefixes, h.Primary.PrefixesOnHost = []netip.Prefix{netip.MustParsePrefix("172.16.0.224/28")}, true
	h.Secondary[0].Prefixes, h.Secondary[0].PrefixesOnHost = []netip.Prefix{netip.MustParsePrefix("172.16.2.96/28")}, true
	return &h
}

// TestRealVerifyDualStack: ecsnet verify compares a host's IPv6
// addresses, the IPv6 routes of a secondary ENI's table, its ip -6 rules,
// the primary's IPv6 default route and the local routes of the prefixes
// the host answers for with the render. After the apply script the real
// verify payload reports no drift; each thing taken away or added by hand
// is then drift, named.
func TestRealVerifyDualStack(t *testing.T) {
	hosttest.RequireRoot(t)
	h := dual6Host(t)
	sec, pri := h.Secondary[0], h.Primary
	for _, n := range []render.NIC{pri, sec} {
		for _, p := range n.Prefixes {
			for _, a := range n.AllAddresses() {
				if p.Contains(a) {
					t.Fatalf("%s holds %s: pick another prefix", p, a)
				}
			}
		}
	}
	ns := standin.Netns(t, h)
	standin.Prepare(t, ns, h)
	standin.Wire(t, ns, h)
	standin.Wire6(t, ns, h)
	dir := t.TempDir()
	if err := render.WriteHost(dir, h.Name, standin.Bundle(t, h)); err != nil {
		t.Fatal(err)
	}
	if o, e, err := ns.Exec(nil, "/bin/bash", filepath.Join(dir, h.Name, render.ScriptName)); err != nil {
		t.Fatalf("apply: %v\n%s%s", err, o, e)
	}
	if drift, foreign := rtCompare(t, ns, h); len(drift)+len(foreign) > 0 {
		t.Fatalf("after apply: drift %q, foreign %q", drift, foreign)
	}
	gw6 := sec.IPv6Gateway().String()
	for _, c := range []struct {
		name      string
		break_    []string // an ip command that makes the drift
		mend      []string // and one that takes it back
		wantDrift string
	}{
		{"IPv6 address gone", []string{"-6", "addr", "del", sec.IPv6[1].String() + "/64", "dev", "eth1"},
			[]string{"-6", "addr", "add", sec.IPv6[1].String() + "/64", "dev", "eth1", "nodad"},
			"ENI " + sec.ENI + " on eth1: " + sec.IPv6[1].String() + "/64 is missing"},
		{"IPv6 table route gone", []string{"-6", "route", "del", "default", "via", gw6, "dev", "eth1", "table", "1001"},
			[]string{"-6", "route", "add", "default", "via", gw6, "dev", "eth1", "table", "1001"},
			"table 1001 lacks the IPv6 default route via " + gw6},
		{"stray IPv6 table route", []string{"-6", "route", "add", "2001:db8::/32", "via", gw6, "dev", "eth1", "table", "1001"},
			[]string{"-6", "route", "del", "2001:db8::/32", "table", "1001"},
			"table 1001 has an IPv6 route the render does not: 2001:db8::/32 via " + gw6 + " dev eth1"},
		{"IPv6 rule gone", []string{"-6", "rule", "del", "from", sec.IPv6[0].String(), "table", "1001", "priority", "1001"},
			[]string{"-6", "rule", "add", "from", sec.IPv6[0].String(), "table", "1001", "priority", "1001"},
			"no rule from " + sec.IPv6[0].String() + " lookup 1001 priority 1001"},
		{"IPv6 default via the secondary in main", []string{"-6", "route", "add", "default", "via", gw6, "dev", "eth1", "metric", "2000"},
			[]string{"-6", "route", "del", "default", "via", gw6, "dev", "eth1", "metric", "2000"},
			"the main table has an IPv6 default route via eth1"},
		{"primary's IPv6 default gone", []string{"-6", "route", "del", "default", "via", pri.IPv6Gateway().String(), "dev", "eth0"},
			[]string{"-6", "route", "add", "default", "via", pri.IPv6Gateway().String(), "dev", "eth0"},
			"the main table lacks the IPv6 default route via " + pri.IPv6Gateway().String()},
		{"prefix's local route gone", []string{"-4", "route", "del", "local", sec.Prefixes[0].String(), "dev", "eth1", "table", "local"},
			[]string{"-4", "route", "add", "local", sec.Prefixes[0].String(), "dev", "eth1", "table", "local"},
			"table local lacks the local route to " + sec.Prefixes[0].String()},
		{"prefix's rule gone", []string{"-4", "rule", "del", "from", sec.Prefixes[0].String(), "table", "1001", "priority", "1001"},
			[]string{"-4", "rule", "add", "from", sec.Prefixes[0].String(), "table", "1001", "priority", "1001"},
			"no rule from " + sec.Prefixes[0].String() + " lookup 1001 priority 1001"},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			ns.Run(t, append([]string{"ip"}, c.break_...)...)
			drift, _ := rtCompare(t, ns, h)
			ns.Run(t, append([]string{"ip"}, c.mend...)...)
			if !slices.ContainsFunc(drift, func(d string) bool { return strings.Contains(d, c.wantDrift) }) {
				t.Errorf("drift %q lacks %q", drift, c.wantDrift)
			}
		})
	}
	if drift, foreign := rtCompare(t, ns, h); len(drift)+len(foreign) > 0 {
		t.Errorf("after mending: drift %q, foreign %q", drift, foreign)
	}
}

// TestProbeIPv6Gateway: the apply payload of a dual-stack host probes
// each ENI's IPv6 addresses and, with a source-routed ping -6 from the
// first of them, its vSwitch's IPv6 gateway (the wire holds them, as the
// cloud does); an IPv6 gateway nobody answers at (the wire without them)
// fails the probe and the host rolls back; turned off, the probe says it
// was skipped.
func TestProbeIPv6Gateway(t *testing.T) {
	hosttest.RequireRoot(t)
	hosttest.RequireTool(t, "ping")
	h := dual6Host(t)
	t.Run("answered", func(t *testing.T) {
		ns := probeStandin(t, h)
		standin.Wire6(t, ns, h)
		code, out := rtPayload(t, ns, probePayload(t, h, standin.Bundle(t, h), PayloadOptions{}))
		if Exit(code) != Applied {
			t.Fatalf("exit %d, want 0\n%s", code, out)
		}
		wantLines(t, out,
			probeLine("IPv6 gateway primary", "ok"), probeLine("IPv6 gateway edge-1-data", "ok"),
			probeLine("IPv6 address primary", "ok"), probeLine("IPv6 address edge-1-data", "ok"))
	})
	t.Run("nobody_answers", func(t *testing.T) {
		ns := probeStandin(t, h) // no Wire6: the IPv6 gateways are nowhere
		code, out := rtPayload(t, ns, probePayload(t, h, standin.Bundle(t, h), PayloadOptions{ProbeDeadline: 3 * time.Second}))
		if Exit(code) != RolledBack {
			t.Fatalf("exit %d, want %d (rolled back)\n%s", code, RolledBack, out)
		}
		wantLines(t, out, probeLine("IPv6 gateway edge-1-data", "failed"))
		// The rollback takes the IPv6 state back too: no global IPv6
		// address, no ip -6 rule of the ENI, no local route of a prefix.
		for _, c := range [][]string{
			{"ip", "-6", "-o", "addr", "show", "scope", "global"},
			{"ip", "-6", "rule", "show", "priority", "1001"},
			{"ip", "-4", "rule", "show", "priority", "1001"},
			{"ip", "-4", "route", "show", "table", "local", "type", "local", "dev", "eth1"},
		} {
			got := ns.Run(t, c...)
			if c[1] == "-4" && c[2] == "route" {
				got = strings.Join(slices.DeleteFunc(strings.Split(got, "\n"), func(l string) bool { return !strings.Contains(l, "/28") }), "\n")
			}
			if strings.TrimSpace(got) != "" {
				t.Errorf("after the rollback, %s:\n%s", strings.Join(c, " "), got)
			}
		}
	})
	t.Run("skipped", func(t *testing.T) {
		ns := probeStandin(t, h)
		code, out := rtPayload(t, ns, probePayload(t, h, standin.Bundle(t, h), PayloadOptions{SkipProbes: []string{"gateway"}}))
		if Exit(code) != Applied {
			t.Fatalf("exit %d, want 0\n%s", code, out)
		}
		wantLines(t, out, regexp.MustCompile(`(?m)^ecsnet: edge-1: probe: IPv6 gateway edge-1-data: skipped: turned off \(--skip-probes\)$`))
	})
}
