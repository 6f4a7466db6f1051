package emulator

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// The live network state of an emulated host, read with `ip -j` inside its
// namespace. The shapes match those of internal/hosttest (which the render
// tests use), so end-to-end tests can compare the two.

// HostAddr is one IPv4 address of an interface of an emulated host.
type HostAddr struct {
	Dev       string
	MAC       string       // the interface's MAC, lower-case
	Prefix    netip.Prefix // the address with its prefix length (not masked)
	Label     string       // "eth0", or an alias label such as "eth0:21"
	Secondary bool         // the kernel's "secondary" flag
}

// String gives the address the way tests compare it: "eth1 172.16.2.21/24".
func (a HostAddr) String() string { return a.Dev + " " + a.Prefix.String() }

// HostLink is one interface of an emulated host (the loopback left out).
type HostLink struct {
	Name string
	MAC  string // lower-case
	Up   bool   // administratively up (the UP flag)
}

// HostRule is one IPv4 routing rule of an emulated host.
type HostRule struct {
	Priority int
	From     netip.Prefix // invalid for "from all"
	Table    string       // "main", "1001", ...
	Protocol string       // who added it; not part of String
	// Extra lists any other selector or action (iif, fwmark, to, ...) as
	// key=value, sorted.
	Extra string
}

// Default reports whether the kernel installs the rule by itself (local,
// main and default lookups at priorities 0, 32766 and 32767).
func (r HostRule) Default() bool {
	return !r.From.IsValid() && r.Extra == "" &&
		(r.Priority == 0 && r.Table == "local" || r.Priority == 32766 && r.Table == "main" || r.Priority == 32767 && r.Table == "default")
}

// String gives the rule as `ip rule` prints it, with /32 sources bare:
// "1001: from 172.16.2.21 lookup 1001".
func (r HostRule) String() string {
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

// HostRoute is one IPv4 route of a table of an emulated host.
type HostRoute struct {
	Table    string
	Dst      string     // "default" or a prefix
	Gateway  netip.Addr // invalid for a link route
	Dev      string
	Scope    string // "link" for a subnet route; "" (global) otherwise
	Protocol string // "kernel", "dhcp", "static"...; "" is boot
	Metric   int
}

// String gives the route without protocol and metric:
// "1001 default via 172.16.2.253 dev eth1".
func (r HostRoute) String() string {
	s := r.Table + " " + r.Dst
	if r.Gateway.IsValid() {
		s += " via " + r.Gateway.String()
	}
	return s + " dev " + r.Dev
}

type ipLink struct {
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

// parseLinks parses `ip -j link show` (or addr show) output, leaving out
// the loopback.
func parseLinks(js []byte) ([]HostLink, error) {
	var links []ipLink
	if err := json.Unmarshal(js, &links); err != nil {
		return nil, fmt.Errorf("parse ip -j link: %w", err)
	}
	var out []HostLink
	for _, l := range links {
		if l.LinkType == "loopback" {
			continue
		}
		out = append(out, HostLink{Name: l.IfName, MAC: strings.ToLower(l.Address), Up: slices.Contains(l.Flags, "UP")})
	}
	return out, nil
}

// parseAddrs parses `ip -j addr show` output, keeping the IPv4 addresses
// of every interface but the loopback.
func parseAddrs(js []byte) ([]HostAddr, error) {
	var links []ipLink
	if err := json.Unmarshal(js, &links); err != nil {
		return nil, fmt.Errorf("parse ip -j addr: %w", err)
	}
	var out []HostAddr
	for _, l := range links {
		if l.LinkType == "loopback" {
			continue
		}
		for _, a := range l.AddrInfo {
			if a.Family != "inet" {
				continue
			}
			ip, err := netip.ParseAddr(a.Local)
			if err != nil {
				return nil, fmt.Errorf("parse ip -j addr: %s: %w", l.IfName, err)
			}
			out = append(out, HostAddr{Dev: l.IfName, MAC: strings.ToLower(l.Address), Prefix: netip.PrefixFrom(ip, a.PrefixLen),
				Label: a.Label, Secondary: a.Secondary})
		}
	}
	return out, nil
}

// parseRules parses `ip -j rule show` output.
func parseRules(js []byte) ([]HostRule, error) {
	var raw []map[string]any
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("parse ip -j rule: %w", err)
	}
	var out []HostRule
	for _, m := range raw {
		var r HostRule
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
			}
		}
		slices.Sort(extra)
		r.Extra = strings.Join(extra, " ")
		out = append(out, r)
	}
	return out, nil
}

// parseRoutes parses `ip -j route show table T` output; table is T, which
// ip leaves out of each entry. The kernel's local, broadcast and
// multicast routes are left out.
func parseRoutes(js []byte, table string) ([]HostRoute, error) {
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
	var out []HostRoute
	for _, x := range raw {
		if x.Type != "" && x.Type != "unicast" {
			continue
		}
		r := HostRoute{Table: table, Dst: x.Dst, Dev: x.Dev, Scope: x.Scope, Protocol: x.Protocol, Metric: x.Metric}
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
