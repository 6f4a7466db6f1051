package guest

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
)

// TestRealPruneIPv6: on a NIC the render gives IPv6 statics (router
// advertisements off), a global IPv6 address added by hand that is
// neither desired nor written by ecsnet is foreign like an IPv4 one:
// verify warns, push leaves it and push --prune removes it (ip -6 addr
// del). Left alone, by verify and prune: a dynamic global address (as
// SLAAC or DHCPv6 leave one), a second link-local address, and a global
// address on a NIC without ecsnet's IPv6 (here the primary ENI).
func TestRealPruneIPv6(t *testing.T) {
	hosttest.RequireRoot(t)
	h := dual6Host(t)
	h.Primary.IPv6, h.Primary.IPv6Prefix = nil, netip.Prefix{}
	sec := h.Secondary[0]
	ns := standin.Netns(t, h)
	standin.Prepare(t, ns, h)
	standin.Wire(t, ns, h)
	standin.Wire6(t, ns, h)
	if code, out := rtApplyPayload(t, ns, h, ""); code != 0 {
		t.Fatalf("apply payload: exit %d\n%s", code, out)
	}
	if drift, foreign := rtCompare(t, ns, h); len(drift)+len(foreign) > 0 {
		t.Fatalf("after apply: drift %q, foreign %q", drift, foreign)
	}
	block := strings.TrimSuffix(sec.IPv6Prefix.Addr().String(), "::")
	hand := block + "::abc"
	dynamic := block + "::abd"
	onPrimary := "2408:4005:3aa:1b00::abc"
	ns.Run(t, "ip", "-6", "addr", "add", hand+"/64", "dev", "eth1", "nodad")
	ns.Run(t, "ip", "-6", "addr", "add", dynamic+"/64", "dev", "eth1", "nodad", "valid_lft", "3600", "preferred_lft", "3600")
	ns.Run(t, "ip", "-6", "addr", "add", "fe80::abcd/64", "dev", "eth1", "nodad")
	ns.Run(t, "ip", "-6", "addr", "add", onPrimary+"/64", "dev", "eth0", "nodad")

	wantForeign := []string{"ENI " + sec.ENI + " on eth1: " + hand + "/64 was not added by ecsnet and is not in the desired state (keepalived, a HaVip, a container runtime?); ecsnet push leaves it, ecsnet push --prune removes it"}
	drift, foreign := rtCompare(t, ns, h)
	if len(drift) > 0 || !slices.Equal(foreign, wantForeign) {
		t.Fatalf("with addresses added by hand: drift %q, foreign\n%s\nwant\n%s", drift, strings.Join(foreign, "\n"), strings.Join(wantForeign, "\n"))
	}
	if code, out := rtApplyPayload(t, ns, h, ""); code != 0 || !slices.Contains(v6On(t, ns, "eth1"), hand) {
		t.Fatalf("push without --prune: exit %d, and %s is gone from eth1\n%s", code, hand, out)
	}

	p, err := Payload(h, standin.Bundle(t, h), PayloadApply, PayloadOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	code, out := rtPayload(t, ns, p)
	if code != 0 {
		t.Fatalf("push --prune: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "removed "+hand+"/64 from eth1") {
		t.Errorf("push --prune does not say it removed %s:\n%s", hand, out)
	}
	got := v6On(t, ns, "eth1")
	if slices.Contains(got, hand) {
		t.Errorf("push --prune left %s on eth1", hand)
	}
	for _, a := range append([]string{dynamic, "fe80::abcd"}, addrStrings(sec.IPv6)...) {
		if !slices.Contains(got, a) {
			t.Errorf("push --prune removed %s from eth1 (has %q)", a, got)
		}
	}
	if !slices.Contains(v6On(t, ns, "eth0"), onPrimary) {
		t.Errorf("push --prune removed %s from eth0, which has no IPv6 of ecsnet's", onPrimary)
	}
	if drift, foreign := rtCompare(t, ns, h); len(drift)+len(foreign) > 0 {
		t.Errorf("after push --prune: drift %q, foreign %q", drift, foreign)
	}
}

// v6On lists the IPv6 addresses on dev (every scope), without lengths.
func v6On(t *testing.T, ns *hosttest.Netns, dev string) []string {
	t.Helper()
	o, e, err := ns.Exec(nil, "ip", "-6", "-o", "addr", "show", "dev", dev)
	if err != nil {
		t.Fatalf("ip -6 addr show dev %s: %v\n%s", dev, err, e)
	}
	var out []string
	for _, l := range strings.Split(o, "\n") {
		if f := strings.Fields(l); len(f) > 3 && f[2] == "inet6" {
			a, _, _ := strings.Cut(f[3], "/")
			out = append(out, a)
		}
	}
	return out
}

func addrStrings(as []netip.Addr) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}
