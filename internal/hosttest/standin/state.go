package standin

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/render"
)

// State is a host's network state in comparable lines.
type State struct {
	Addrs  []string // "eth1 172.16.2.21/24"
	Rules  []string // "1001: from 172.16.2.21 lookup 1001"
	Routes []string // "1001 default via 172.16.2.253 dev eth1", every table but main and local
}

func (s State) String() string {
	return fmt.Sprintf("addresses:\n\t%s\nrules:\n\t%s\nroutes:\n\t%s",
		strings.Join(s.Addrs, "\n\t"), strings.Join(s.Rules, "\n\t"), strings.Join(s.Routes, "\n\t"))
}

// Sorted sorts s's lines in place and returns s.
func (s State) Sorted() State {
	slices.Sort(s.Addrs)
	slices.Sort(s.Rules)
	slices.Sort(s.Routes)
	return s
}

// Equal reports whether s and o hold the same lines, in any order.
func (s State) Equal(o State) bool {
	a, b := s.Sorted(), o.Sorted()
	return slices.Equal(a.Addrs, b.Addrs) && slices.Equal(a.Rules, b.Rules) && slices.Equal(a.Routes, b.Routes)
}

// Want is what a host should have once its bundle is up: the primary's
// DHCP address, every address with its vSwitch prefix, and per secondary
// ENI its table (subnet and default route) and one rule per address.
func Want(h *render.Host) State {
	var s State
	for _, n := range NICs(h) {
		for _, a := range n.AllAddresses() {
			s.Addrs = append(s.Addrs, fmt.Sprintf("%s %s/%d", n.Name(), a, n.Bits()))
		}
		if n.Table == 0 {
			continue
		}
		for _, a := range n.AllAddresses() {
			s.Rules = append(s.Rules, fmt.Sprintf("%d: from %s lookup %d", n.Priority, a, n.Table))
		}
		for _, p := range n.HostPrefixes() { // IPv4 prefixes the host answers for
			s.Rules = append(s.Rules, fmt.Sprintf("%d: from %s lookup %d", n.Priority, p, n.Table))
		}
		s.Routes = append(s.Routes,
			fmt.Sprintf("%d %s dev %s", n.Table, n.Prefix, n.Name()),
			fmt.Sprintf("%d default via %s dev %s", n.Table, n.Gateway, n.Name()))
	}
	return s.Sorted()
}

// Live reads the namespace's state back with ip -j.
func Live(t testing.TB, ns *hosttest.Netns) State {
	t.Helper()
	var s State
	for _, a := range ns.Addrs(t) {
		s.Addrs = append(s.Addrs, a.String())
	}
	for _, r := range ns.Rules(t) {
		if !r.Default() {
			s.Rules = append(s.Rules, r.String())
		}
	}
	for _, r := range ns.Routes(t, "all") {
		if r.Table == "all" {
			r.Table = "main" // ip leaves the main table's name out
		}
		if r.Table == "main" || r.Table == "local" {
			continue
		}
		s.Routes = append(s.Routes, r.String())
	}
	return s.Sorted()
}

// CheckMain checks that the main table's only default route is the
// primary's, via its gateway: no secondary ENI's gateway leaked there.
func CheckMain(t testing.TB, ns *hosttest.Netns, h *render.Host) {
	t.Helper()
	var defaults []string
	for _, r := range ns.Routes(t, "main") {
		if r.Dst == "default" {
			defaults = append(defaults, r.String())
		}
	}
	want := []string{fmt.Sprintf("main default via %s dev %s", h.Primary.Gateway, h.Primary.Name())}
	if !slices.Equal(defaults, want) {
		t.Errorf("main table default routes = %q, want only %q", defaults, want)
	}
}

// Expect fails t when got is not want, saying when (what).
func Expect(t testing.TB, what string, got, want State) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s: live state differs\n--- got\n%s\n--- want\n%s", what, got, want)
	}
}
