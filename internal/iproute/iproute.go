// Package iproute parses the JSON that `ip -j` prints for addr, link, rule
// and route, into the IPv4 state ecsnet reads back from hosts.
//
// It is the one parser of that output: the verify payload's reader in
// render, the emulator's hosts and the host tests all use it, so that what
// one of them reads is what the others read. It imports only the standard
// library.
package iproute

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Link is one interface.
type Link struct {
	Name string
	MAC  string // lower-case, colon-separated
	Up   bool   // administratively up (the UP flag)
}

// Addr is one IPv4 address of an interface.
type Addr struct {
	Dev       string
	MAC       string       // the interface's MAC, lower-case
	Prefix    netip.Prefix // the address with its prefix length (not masked)
	Label     string       // "eth0", or an alias label such as "eth0:1"
	Secondary bool         // the kernel's "secondary" flag: not the first address of its subnet
}

// String gives the address the way tests compare it: "eth1 172.16.2.21/24".
func (a Addr) String() string { return a.Dev + " " + a.Prefix.String() }

// Rule is one routing rule.
type Rule struct {
	Priority int
	From     netip.Prefix // invalid for "from all"
	Table    string       // "main", "1001", ...
	Protocol string       // who added it ("static" from networkd, "" from ip rule add); not part of String
	// Extra lists any other key ip printed (iif, fwmark, to, flags...) as
	// key=value, sorted, so that a rule with more than a source and a
	// table never compares equal to one without.
	Extra string
	// Other reports that the rule selects or acts on more than its source
	// (iif, fwmark, to...): a key in Extra other than flags, which do not
	// change what the rule matches.
	Other bool
}

// Default reports whether the kernel installs the rule by itself (local,
// main and default lookups at priorities 0, 32766 and 32767).
func (r Rule) Default() bool {
	return !r.From.IsValid() && r.Extra == "" &&
		(r.Priority == 0 && r.Table == "local" || r.Priority == 32766 && r.Table == "main" || r.Priority == 32767 && r.Table == "default")
}

// String gives the rule as `ip rule` prints it, with /32 sources bare:
// "1001: from 172.16.2.21 lookup 1001".
func (r Rule) String() string {
	from := "all"
	if r.From.IsValid() {
		from = r.From.String()
		if r.From.IsSingleIP() {
			from = r.From.Addr().String()
		}
	}
	s := fmt.Sprintf("%d: from %s lookup %s", r.Priority, from, r.Table)
	if r.Extra != "" {
		s += " " + r.Extra
	}
	return s
}

// Route is one unicast route of a table.
type Route struct {
	Table    string
	Dst      string     // "default" or a prefix
	Gateway  netip.Addr // invalid for a link route
	Dev      string
	Scope    string // "link" for a subnet route; "" (global) otherwise
	Protocol string // "kernel", "dhcp", "static"...; "" is boot
	Metric   int
}

// String gives the route the way tests compare it, without protocol and
// metric: "1001 default via 172.16.2.253 dev eth1".
func (r Route) String() string {
	s := r.Table + " " + r.Dst
	if r.Gateway.IsValid() {
		s += " via " + r.Gateway.String()
	}
	return s + " dev " + r.Dev
}

// link is one entry of `ip -j link show` or `ip -j addr show`; only the
// latter has addr_info.
type link struct {
	IfName   string   `json:"ifname"`
	LinkType string   `json:"link_type"`
	Address  string   `json:"address"`
	Flags    []string `json:"flags"`
	AddrInfo []struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
		Label     string `json:"label"`
		Secondary bool   `json:"secondary"`
	} `json:"addr_info"`
}

// parseLinkList decodes the output of `ip -j link` or `ip -j addr` (what
// names which, for errors) and leaves out the loopback, which ecsnet never
// manages.
func parseLinkList(js []byte, what string) ([]link, error) {
	var links []link
	if err := json.Unmarshal(js, &links); err != nil {
		return nil, fmt.Errorf("parse ip -j %s: %w", what, err)
	}
	return slices.DeleteFunc(links, func(l link) bool { return l.LinkType == "loopback" }), nil
}

// ParseLinks parses `ip -j link show` (or addr show) output, leaving out
// the loopback.
func ParseLinks(js []byte) ([]Link, error) {
	links, err := parseLinkList(js, "link")
	if err != nil {
		return nil, err
	}
	var out []Link
	for _, l := range links {
		out = append(out, Link{Name: l.IfName, MAC: strings.ToLower(l.Address), Up: slices.Contains(l.Flags, "UP")})
	}
	return out, nil
}

// ParseAddrs parses `ip -j addr show` output, keeping the IPv4 addresses
// of every interface but the loopback.
func ParseAddrs(js []byte) ([]Addr, error) {
	links, err := parseLinkList(js, "addr")
	if err != nil {
		return nil, err
	}
	var out []Addr
	for _, l := range links {
		for _, a := range l.AddrInfo {
			if a.Family != "inet" {
				continue
			}
			ip, err := netip.ParseAddr(a.Local)
			if err != nil {
				return nil, fmt.Errorf("parse ip -j addr: %s: %w", l.IfName, err)
			}
			out = append(out, Addr{Dev: l.IfName, MAC: strings.ToLower(l.Address), Prefix: netip.PrefixFrom(ip, a.PrefixLen),
				Label: a.Label, Secondary: a.Secondary})
		}
	}
	return out, nil
}

// ParseRules parses `ip -j rule show` output.
func ParseRules(js []byte) ([]Rule, error) {
	// A map, not a struct: every key besides the few read here goes into
	// Extra, so a selector this package has never heard of still shows.
	var raw []map[string]any
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("parse ip -j rule: %w", err)
	}
	var out []Rule
	for _, m := range raw {
		var r Rule
		var extra []string
		for k, v := range m {
			switch k {
			case "priority":
				f, _ := v.(float64)
				r.Priority = int(f)
			case "table":
				r.Table = fmt.Sprint(v)
			case "src":
				s := fmt.Sprint(v)
				if s == "all" {
					continue
				}
				a, err := netip.ParseAddr(s)
				if err != nil {
					return nil, fmt.Errorf("parse ip -j rule: src %q: %w", s, err)
				}
				bits := a.BitLen()
				if l, ok := m["srclen"].(float64); ok {
					bits = int(l)
				}
				r.From = netip.PrefixFrom(a, bits)
			case "srclen":
			case "protocol":
				r.Protocol = fmt.Sprint(v)
			default:
				extra = append(extra, fmt.Sprintf("%s=%v", k, v))
				r.Other = r.Other || k != "flags"
			}
		}
		slices.Sort(extra)
		r.Extra = strings.Join(extra, " ")
		out = append(out, r)
	}
	return out, nil
}

// ParseRoutes parses `ip -j route show table T` output; table is T, which
// ip leaves out of each entry (it names the table only where T is "all"
// and the route is not in main). The kernel's local, broadcast and
// multicast routes are left out.
func ParseRoutes(js []byte, table string) ([]Route, error) {
	var raw []struct {
		Type     string `json:"type"`
		Dst      string `json:"dst"`
		Gateway  string `json:"gateway"`
		Dev      string `json:"dev"`
		Table    string `json:"table"`
		Scope    string `json:"scope"`
		Protocol string `json:"protocol"`
		Metric   int    `json:"metric"`
	}
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("parse ip -j route: %w", err)
	}
	var out []Route
	for _, x := range raw {
		if x.Type != "" && x.Type != "unicast" {
			continue
		}
		r := Route{Table: table, Dst: x.Dst, Dev: x.Dev, Scope: x.Scope, Protocol: x.Protocol, Metric: x.Metric}
		if x.Table != "" {
			r.Table = x.Table
		}
		if x.Gateway != "" {
			g, err := netip.ParseAddr(x.Gateway)
			if err != nil {
				return nil, fmt.Errorf("parse ip -j route: gateway %q: %w", x.Gateway, err)
			}
			r.Gateway = g
		}
		out = append(out, r)
	}
	return out, nil
}
