package guest

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/ecsnet/ecsnet/internal/iproute"
	"github.com/ecsnet/ecsnet/render"
)

// Live6 is what a host reports of issue 17's configuration: its IPv6
// addresses of global scope, its IPv6 rules and routes (every table), and
// its IPv4 routes of type local in table local, where the prefixes the
// host answers for are.
type Live6 struct {
	Addrs  []LiveAddr
	Rules  []LiveRule
	Routes []LiveRoute
	Locals []LiveRoute // Dst the prefix, Dev its interface
}

// parseIPJSON6 reads the IPv6 addresses of `ip -j addr show`, `ip -j -6
// rule show`, `ip -j -6 route show table all` and `ip -j -4 route show
// table local type local`.
func parseIPJSON6(addr, rule, route, local []byte) (Live6, error) {
	var v Live6
	if len(addr) > 0 {
		var links []struct {
			IfName   string `json:"ifname"`
			LinkType string `json:"link_type"`
			AddrInfo []struct {
				Family    string `json:"family"`
				Local     string `json:"local"`
				PrefixLen int    `json:"prefixlen"`
				Scope     string `json:"scope"`
				Dynamic   bool   `json:"dynamic"`
			} `json:"addr_info"`
		}
		if err := json.Unmarshal(addr, &links); err != nil {
			return v, fmt.Errorf("live state: parse ip -j addr: %w", err)
		}
		for _, k := range links {
			if k.LinkType == "loopback" {
				continue
			}
			for _, a := range k.AddrInfo {
				if a.Family != "inet6" || a.Scope != "global" {
					continue
				}
				ip, err := netip.ParseAddr(a.Local)
				if err != nil {
					return v, fmt.Errorf("live state: parse ip -j addr: %s: %w", k.IfName, err)
				}
				v.Addrs = append(v.Addrs, LiveAddr{Dev: k.IfName, Prefix: netip.PrefixFrom(ip, a.PrefixLen), Dynamic: a.Dynamic})
			}
		}
	}
	rules, err := iproute.ParseRules(rule)
	if err != nil {
		return v, fmt.Errorf("live state: IPv6 %w", err)
	}
	for _, r := range rules {
		v.Rules = append(v.Rules, LiveRule{Priority: r.Priority, From: r.From, Table: r.Table, Other: r.Other})
	}
	routes, err := iproute.ParseRoutes(route, "main")
	if err != nil {
		return v, fmt.Errorf("live state: IPv6 %w", err)
	}
	for _, r := range routes {
		v.Routes = append(v.Routes, LiveRoute{Table: r.Table, Dst: r.Dst, Gateway: r.Gateway, Dev: r.Dev})
	}
	var locals []struct {
		Dst string `json:"dst"`
		Dev string `json:"dev"`
	}
	if err := json.Unmarshal(local, &locals); err != nil {
		return v, fmt.Errorf("live state: parse ip -j route show table local: %w", err)
	}
	for _, r := range locals {
		if p, err := netip.ParsePrefix(r.Dst); err == nil && r.Dev != "lo" {
			v.Locals = append(v.Locals, LiveRoute{Table: "local", Dst: p.String(), Dev: r.Dev})
		}
	}
	return v, nil
}

// ruleSources4 returns the sources of a secondary ENI's IPv4 rules: its
// addresses (/32) and the prefixes the host answers for.
func ruleSources4(n render.NIC) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range n.AllAddresses() {
		out = append(out, netip.PrefixFrom(a, 32))
	}
	return append(out, n.HostPrefixes()...)
}

// ruleText writes a rule's source as ip does: an address without /32.
func ruleText(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// hasV6 reports whether the render has any of issue 17's configuration.
func hasV6(h *render.Host) bool {
	for _, n := range append([]render.NIC{h.Primary}, h.Secondary...) {
		if n.HasIPv6() || len(n.HostPrefixes()) > 0 {
			return true
		}
	}
	return false
}

// compare6 is compare for IPv6 and the prefixes: every NIC's IPv6
// addresses (with the block's length; on Windows SkipAsSource on all but
// the first), a secondary ENI's IPv6 table (its block and the default
// route via the vSwitch's IPv6 gateway, nothing else) and one ip -6 rule
// per address, the primary's IPv6 default route in main, no IPv6 default
// route in main via a secondary ENI, no IPv6 rule at an ENI's priority the
// render does not have, and the local route of every prefix the host
// answers for. devOf names the interface found for each NIC (0: the
// primary); tables are the secondary ENIs' tables. A host that did not
// report the state is drift when the render has any of it: in sync must
// mean compared. foreign lists the global IPv6 addresses on a NIC the
// render gives IPv6 statics that neither the render has nor ecsnet wrote,
// as compare's IPv4 ones.
func compare6(h *render.Host, l *Live, devOf map[int]string, tables map[string]bool) (out, foreign []string) {
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if !l.V6Known {
		if hasV6(h) {
			add("the host did not report its IPv6 addresses, routes and rules or its local routes (ip(8) without JSON output, iproute2 before 4.14?): not compared")
		}
		return out, nil
	}
	v := l.V6
	addrsOf := map[string][]LiveAddr{}
	for _, a := range v.Addrs {
		addrsOf[a.Dev] = append(addrsOf[a.Dev], a)
	}
	secondaryDev := map[string]render.NIC{}
	for i, n := range append([]render.NIC{h.Primary}, h.Secondary...) {
		dev, ok := devOf[i]
		if !ok {
			continue // compare said so already
		}
		what := driftWho(n, dev)
		if n.ENI != "" {
			secondaryDev[dev] = n
		}
		key := "primary"
		if n.ENI != "" {
			key = n.MAC
		}
		want := map[netip.Addr]int{}
		for j, a := range n.IPv6 {
			want[a] = j
		}
		have := map[netip.Addr]LiveAddr{}
		for _, a := range addrsOf[dev] {
			have[a.Prefix.Addr()] = a
		}
		for j, a := range n.IPv6 {
			x, ok := have[a]
			switch {
			case !ok:
				add("%s: %s/%d is missing", what, a, n.IPv6Bits())
			case x.Prefix.Bits() != n.IPv6Bits():
				add("%s: %s has prefix /%d, want /%d", what, a, x.Prefix.Bits(), n.IPv6Bits())
			case l.Windows && x.SkipAsSource != (j > 0):
				add("%s: %s has SkipAsSource %t, want %t", what, a, x.SkipAsSource, j > 0)
			}
		}
		for _, a := range addrsOf[dev] {
			if _, ok := want[a.Prefix.Addr()]; ok {
				continue
			}
			// As for IPv4: an address ecsnet wrote and the render dropped
			// is drift. Any other is foreign on a Linux NIC the render
			// gives IPv6 statics: ecsnet turns router advertisements off
			// there (render/dualstack.go), so a permanent global address
			// it did not write was added by hand or by another tool, as a
			// foreign IPv4 address is. A dynamic one (SLAAC, DHCPv6) and
			// any on a NIC without ecsnet's IPv6 are not ecsnet's business.
			switch {
			case l.wrote(h.Fleet, key, a.Prefix.Addr()) || l.Windows && n.MAC != "" && l.wrote(h.Fleet, n.MAC, a.Prefix.Addr()):
				add("%s: %s is not in the desired state (the cloud does not route it here); ecsnet wrote it, and ecsnet push removes it", what, a.Prefix)
			case !l.Windows && l.WrittenKnown && n.HasIPv6() && !a.Dynamic && !a.Prefix.Addr().IsLinkLocalUnicast():
				foreign = append(foreign, fmt.Sprintf("%s: %s was not added by ecsnet and is not in the desired state (keepalived, a HaVip, a container runtime?); ecsnet push leaves it, ecsnet push --prune removes it", what, a.Prefix))
			}
		}
		gw := n.IPv6Gateway()
		if n.ENI == "" || l.Windows {
			if n.HasIPv6() && !hasRoute6(v, "main", "default", gw, dev) {
				add("%s: the main table lacks the IPv6 default route via %s", what, gw)
			}
		}
		if !l.Windows {
			for _, p := range n.HostPrefixes() {
				if !hasLocal(v, p, dev) {
					add("%s: table local lacks the local route to %s (the host does not answer for the prefix)", what, p)
				}
			}
		}
		if n.ENI == "" || l.Windows {
			continue
		}
		t := strconv.Itoa(n.Table)
		wantRoutes := map[string]bool{}
		if n.HasIPv6() {
			wantRoutes[fmt.Sprintf("%s - %s", n.IPv6Prefix, dev)] = true
			wantRoutes[fmt.Sprintf("default %s %s", gw, dev)] = true
		}
		for _, r := range v.Routes {
			if r.Table != t {
				continue
			}
			if !wantRoutes[route6Key(r)] {
				add("%s: table %s has an IPv6 route the render does not: %s", what, t, routeText(r))
			}
		}
		if n.HasIPv6() {
			if !hasRoute6(v, t, n.IPv6Prefix.String(), netip.Addr{}, dev) {
				add("%s: table %s lacks the route to %s", what, t, n.IPv6Prefix)
			}
			if !hasRoute6(v, t, "default", gw, dev) {
				add("%s: table %s lacks the IPv6 default route via %s", what, t, gw)
			}
		}
		for _, a := range n.IPv6 {
			found := false
			for _, r := range v.Rules {
				if r.Priority == n.Priority && r.Table == t && r.From == netip.PrefixFrom(a, 128) && !r.Other {
					found = true
				}
			}
			if !found {
				add("%s: no rule from %s lookup %s priority %d", what, a, t, n.Priority)
			}
		}
	}
	if l.Windows {
		return out, foreign
	}
	wantRule := map[string]bool{}
	for _, n := range h.Secondary {
		for _, a := range n.IPv6 {
			wantRule[fmt.Sprintf("%d %s %d", n.Priority, netip.PrefixFrom(a, 128), n.Table)] = true
		}
	}
	for _, r := range v.Rules {
		owned := tables[r.Table] || r.Priority > render.RouteTableBase && r.Priority < render.RouteTableBase+100
		if !owned || r.Other || wantRule[fmt.Sprintf("%d %s %s", r.Priority, r.From, r.Table)] {
			continue
		}
		from := "all"
		if r.From.IsValid() {
			from = ruleText(r.From)
		}
		add("IPv6 rule %d: from %s lookup %s is not in the desired state", r.Priority, from, r.Table)
	}
	for _, r := range v.Routes {
		if n, ok := secondaryDev[r.Dev]; ok && r.Table == "main" && r.Dst == "default" {
			add("%s: the main table has an IPv6 default route via %s; it belongs in table %d only", driftWho(n, r.Dev), r.Dev, n.Table)
		}
	}
	return out, foreign
}

func route6Key(r LiveRoute) string {
	gw := "-"
	if r.Gateway.IsValid() {
		gw = r.Gateway.String()
	}
	return fmt.Sprintf("%s %s %s", r.Dst, gw, r.Dev)
}

func hasRoute6(v Live6, table, dst string, gw netip.Addr, dev string) bool {
	for _, r := range v.Routes {
		if r.Table == table && r.Dst == dst && r.Gateway == gw && r.Dev == dev {
			return true
		}
	}
	return false
}

func hasLocal(v Live6, p netip.Prefix, dev string) bool {
	for _, r := range v.Locals {
		if r.Dst == p.String() && r.Dev == dev {
			return true
		}
	}
	return false
}
