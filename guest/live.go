package guest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ecsnet/ecsnet/internal/iproute"
	"github.com/ecsnet/ecsnet/render"
)

// Live is a host's network state as a verify payload reports it (see
// Payload with PayloadVerify): its links, IPv4 addresses, rules and
// routes. It is compared with a render by Drift.
type Live struct {
	Links  []LiveLink
	Addrs  []LiveAddr
	Rules  []LiveRule
	Routes []LiveRoute
	// Windows is set for a Windows host, which has no rules and reports
	// only default routes.
	Windows bool
	// Written lists the addresses the host's ecsnet state records say
	// ecsnet added (render/scripts/lib.sh, "addr KEY CIDR"), for every
	// fleet that has a record there; WrittenKnown says the host reported
	// them at all (the Linux verify payload does, the Windows one does
	// not). Drift counts an address ecsnet wrote that the render dropped
	// as drift, and any other address on a managed interface as foreign:
	// the same line push draws, which removes only what the record lists.
	Written      []WrittenAddr
	WrittenKnown bool
	// Competing lists the network managers the host's preflight checks
	// found competing with ecsnet's configuration (see Competing);
	// CompetingKnown says the host reported them at all (the Linux verify
	// payload does).
	Competing      []Competing
	CompetingKnown bool
	// V6 is the host's IPv6 addresses (global scope), IPv6 rules and
	// routes, and the IPv4 routes of type local in table local (the
	// prefixes the host answers for); V6Known says the host reported them
	// (a verify payload older than issue 17, or ip without JSON, did not).
	V6      Live6
	V6Known bool
}

// WrittenAddr is one address of an ecsnet state record.
type WrittenAddr struct {
	Fleet  string
	Key    string // "primary" or the ENI's MAC, as the record keys it
	Prefix netip.Prefix
}

// parseWritten reads a "FLEET KEY CIDR" line of the verify payload.
func parseWritten(line string) (WrittenAddr, error) {
	f := strings.Fields(line)
	if len(f) != 3 {
		return WrittenAddr{}, fmt.Errorf("live state: state record line %q: want FLEET KEY CIDR", line)
	}
	p, err := netip.ParsePrefix(f[2])
	if err != nil {
		return WrittenAddr{}, fmt.Errorf("live state: state record line %q: %w", line, err)
	}
	return WrittenAddr{Fleet: f[0], Key: f[1], Prefix: p}, nil
}

// parseWindowsWritten reads a "FLEET KEY ADDRESS" line of the Windows
// verify payload: ecsnet-apply.ps1's state record keys an ENI by its MAC
// as Windows writes it (00-16-3E-...), or "primary", and lists addresses
// without a prefix length, which WrittenAddr then takes as the address's
// full length (only the address is compared).
func parseWindowsWritten(line string) (WrittenAddr, error) {
	f := strings.Fields(line)
	if len(f) != 3 {
		return WrittenAddr{}, fmt.Errorf("live state: state record line %q: want FLEET KEY ADDRESS", line)
	}
	a, err := netip.ParseAddr(f[2])
	if err != nil {
		return WrittenAddr{}, fmt.Errorf("live state: state record line %q: %w", line, err)
	}
	key := f[1]
	if key != "primary" {
		key = strings.ToLower(strings.ReplaceAll(key, "-", ":"))
	}
	return WrittenAddr{Fleet: f[0], Key: key, Prefix: netip.PrefixFrom(a, a.BitLen())}, nil
}

// LiveLink is one interface.
type LiveLink struct {
	Name string
	MAC  string // lower-case, colon-separated
	Up   bool
}

// LiveAddr is one IPv4 address of an interface.
type LiveAddr struct {
	Dev          string
	Prefix       netip.Prefix // the address with its prefix length
	SkipAsSource bool         // Windows only
	Dynamic      bool         // IPv6: not permanent (SLAAC, DHCPv6), as ip -j reports it
}

// LiveRule is one IPv4 routing rule.
type LiveRule struct {
	Priority int
	From     netip.Prefix // invalid for "from all"
	Table    string
	Other    bool // it selects on more than the source (iif, fwmark, to...)
}

// LiveRoute is one IPv4 unicast route.
type LiveRoute struct {
	Table   string // "main", "1001", ...
	Dst     string // "default" or a prefix
	Gateway netip.Addr
	Dev     string
}

// ParseLive reads a verify payload's output: the line that starts with
// LiveMarker, holding the state as ip's JSON (or, where iproute2 is older
// than 4.14, its one-line text forms) or as the Windows payload's JSON,
// gzip-compressed or not, in Base64.
func ParseLive(output []byte) (*Live, error) {
	var enc string
	sc := bufio.NewScanner(bytes.NewReader(output))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimRight(sc.Text(), "\r"), LiveMarker); ok {
			enc = strings.TrimSpace(rest)
		}
	}
	if enc == "" {
		return nil, errors.New("the host reported no live state (no " + strings.TrimSpace(LiveMarker) + " line in its output)")
	}
	data, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("live state: %w", err)
	}
	if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("live state: %w", err)
		}
		if data, err = io.ReadAll(io.LimitReader(zr, 64<<20)); err != nil {
			return nil, fmt.Errorf("live state: %w", err)
		}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	switch {
	case bytes.HasPrefix(data, []byte("#ip-text")):
		return parseIPText(data)
	case bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")):
		var head struct {
			Format string `json:"format"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return nil, fmt.Errorf("live state: %w", err)
		}
		switch head.Format {
		case "ip-json":
			return parseIPJSON(data)
		case "windows":
			return parseWindowsLive(data)
		}
		return nil, fmt.Errorf("live state: unknown format %q", head.Format)
	}
	return nil, errors.New("live state: neither JSON nor ip's text")
}

// parseIPJSON reads the ip-json form: `ip -j addr`, `ip -j -4 rule` and
// `ip -j -4 route show table all` in one document, parsed by
// internal/iproute.
func parseIPJSON(data []byte) (*Live, error) {
	var doc struct {
		Addr  json.RawMessage `json:"addr"`
		Rule  json.RawMessage `json:"rule"`
		Route json.RawMessage `json:"route"`
		// Written and Competing are absent from an older payload's
		// output.
		Written   *[]string `json:"written"`
		Competing *[]string `json:"competing"`
		// Issue 17's, absent from an older payload's output.
		Rule6  json.RawMessage `json:"rule6"`
		Route6 json.RawMessage `json:"route6"`
		Local  json.RawMessage `json:"local"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("live state: %w", err)
	}
	l := &Live{}
	if len(doc.Rule6) > 0 && len(doc.Route6) > 0 && len(doc.Local) > 0 {
		v6, err := parseIPJSON6(doc.Addr, doc.Rule6, doc.Route6, doc.Local)
		if err != nil {
			return nil, err
		}
		l.V6, l.V6Known = v6, true
	}
	if doc.Written != nil {
		l.WrittenKnown = true
		for _, line := range *doc.Written {
			w, err := parseWritten(line)
			if err != nil {
				return nil, err
			}
			l.Written = append(l.Written, w)
		}
	}
	if doc.Competing != nil {
		l.CompetingKnown = true
		for _, line := range *doc.Competing {
			c, err := parseCompeting(line)
			if err != nil {
				return nil, err
			}
			l.Competing = append(l.Competing, c)
		}
	}
	if len(doc.Addr) > 0 {
		links, err := iproute.ParseLinks(doc.Addr)
		if err != nil {
			return nil, fmt.Errorf("live state: %w", err)
		}
		for _, k := range links {
			l.Links = append(l.Links, LiveLink(k))
		}
		addrs, err := iproute.ParseAddrs(doc.Addr)
		if err != nil {
			return nil, fmt.Errorf("live state: %w", err)
		}
		for _, a := range addrs {
			l.Addrs = append(l.Addrs, LiveAddr{Dev: a.Dev, Prefix: a.Prefix})
		}
	}
	if len(doc.Rule) > 0 {
		rules, err := iproute.ParseRules(doc.Rule)
		if err != nil {
			return nil, fmt.Errorf("live state: %w", err)
		}
		for _, r := range rules {
			l.Rules = append(l.Rules, LiveRule{Priority: r.Priority, From: r.From, Table: r.Table, Other: r.Other})
		}
	}
	if len(doc.Route) > 0 {
		// `show table all` names the table of every route but main's.
		routes, err := iproute.ParseRoutes(doc.Route, "main")
		if err != nil {
			return nil, fmt.Errorf("live state: %w", err)
		}
		for _, r := range routes {
			l.Routes = append(l.Routes, LiveRoute{Table: r.Table, Dst: r.Dst, Gateway: r.Gateway, Dev: r.Dev})
		}
	}
	return l, nil
}

// parseIPText reads the text forms the verify payload prints where ip has
// no JSON: ip -o link, ip -4 -o addr, ip -4 rule, ip -4 route show table
// all, each after a "#<kind>" line.
func parseIPText(data []byte) (*Live, error) {
	l := &Live{}
	kind := ""
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			kind = line[1:]
			switch kind {
			case "written":
				l.WrittenKnown = true
			case "competing":
				l.CompetingKnown = true
			}
			continue
		}
		if kind == "competing" {
			c, err := parseCompeting(line)
			if err != nil {
				return nil, err
			}
			l.Competing = append(l.Competing, c)
			continue
		}
		if kind == "written" {
			w, err := parseWritten(line)
			if err != nil {
				return nil, err
			}
			l.Written = append(l.Written, w)
			continue
		}
		if i := strings.Index(line, `\`); i >= 0 {
			if kind == "link" {
				line = line[:i] + " " + line[i+1:]
			} else {
				line = line[:i]
			}
		}
		f := strings.Fields(line)
		switch kind {
		case "link":
			if len(f) < 3 {
				continue
			}
			name := strings.TrimSuffix(f[1], ":")
			name, _, _ = strings.Cut(name, "@")
			ll := LiveLink{Name: name, Up: strings.Contains(f[2], "<UP,") || strings.Contains(f[2], ",UP,") || strings.Contains(f[2], ",UP>") || f[2] == "<UP>"}
			if i := slices.Index(f, "link/ether"); i >= 0 && i+1 < len(f) {
				ll.MAC = strings.ToLower(f[i+1])
			}
			if slices.Contains(f, "link/loopback") {
				continue
			}
			l.Links = append(l.Links, ll)
		case "addr":
			if len(f) < 4 || f[2] != "inet" {
				continue
			}
			p, err := netip.ParsePrefix(f[3])
			if err != nil {
				return nil, fmt.Errorf("live state: address %q: %w", f[3], err)
			}
			if p.Addr().IsLoopback() {
				continue
			}
			dev, _, _ := strings.Cut(f[1], "@")
			l.Addrs = append(l.Addrs, LiveAddr{Dev: dev, Prefix: p})
		case "rule":
			if len(f) < 3 {
				continue
			}
			prio, err := strconv.Atoi(strings.TrimSuffix(f[0], ":"))
			if err != nil {
				continue
			}
			r := LiveRule{Priority: prio}
			for i := 1; i < len(f); i++ {
				switch f[i] {
				case "from":
					if i+1 < len(f) && f[i+1] != "all" {
						s := f[i+1]
						if !strings.Contains(s, "/") {
							s += "/32"
						}
						p, err := netip.ParsePrefix(s)
						if err != nil {
							return nil, fmt.Errorf("live state: rule %q: %w", line, err)
						}
						r.From = p
					}
					i++
				case "lookup", "table":
					if i+1 < len(f) {
						r.Table = f[i+1]
					}
					i++
				case "proto":
					i++
				default:
					r.Other = true
				}
			}
			l.Rules = append(l.Rules, r)
		case "route":
			if len(f) == 0 {
				continue
			}
			switch f[0] {
			case "local", "broadcast", "anycast", "multicast", "unreachable", "prohibit", "blackhole", "throw":
				continue
			}
			r := LiveRoute{Table: "main", Dst: f[0]}
			for i := 1; i+1 < len(f); i++ {
				switch f[i] {
				case "via":
					g, err := netip.ParseAddr(f[i+1])
					if err != nil {
						return nil, fmt.Errorf("live state: route %q: %w", line, err)
					}
					r.Gateway = g
				case "dev":
					r.Dev = f[i+1]
				case "table":
					r.Table = f[i+1]
				}
			}
			l.Routes = append(l.Routes, r)
		}
	}
	return l, nil
}

func parseWindowsLive(data []byte) (*Live, error) {
	// ConvertTo-Json writes a one-element array as the element itself.
	type adapter struct {
		IfIndex int    `json:"ifindex"`
		Name    string `json:"name"`
		MAC     string `json:"mac"`
		Up      bool   `json:"up"`
	}
	type addr struct {
		IfIndex      int    `json:"ifindex"`
		Address      string `json:"address"`
		PrefixLen    int    `json:"prefixlen"`
		SkipAsSource bool   `json:"skip_as_source"`
	}
	type route struct {
		IfIndex int    `json:"ifindex"`
		Gateway string `json:"gateway"`
	}
	var doc struct {
		Adapters  json.RawMessage `json:"adapters"`
		Addresses json.RawMessage `json:"addresses"`
		Routes    json.RawMessage `json:"routes"`
		// Written is absent from an older payload's output.
		Written json.RawMessage `json:"written"`
		// Issue 17's, absent from an older payload's output.
		Addresses6 json.RawMessage `json:"addresses6"`
		Routes6    json.RawMessage `json:"routes6"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("live state: %w", err)
	}
	var adapters []adapter
	var addrs []addr
	var routes []route
	if err := psList(doc.Adapters, &adapters); err != nil {
		return nil, err
	}
	if err := psList(doc.Addresses, &addrs); err != nil {
		return nil, err
	}
	if err := psList(doc.Routes, &routes); err != nil {
		return nil, err
	}
	l := &Live{Windows: true}
	if len(doc.Addresses6) > 0 && len(doc.Routes6) > 0 {
		var a6 []addr
		var r6 []route
		if err := psList(doc.Addresses6, &a6); err != nil {
			return nil, err
		}
		if err := psList(doc.Routes6, &r6); err != nil {
			return nil, err
		}
		l.V6Known = true
		for _, a := range a6 {
			ip, err := netip.ParseAddr(a.Address)
			if err != nil || !ip.Is6() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
				continue
			}
			l.V6.Addrs = append(l.V6.Addrs, LiveAddr{Dev: "ifindex " + strconv.Itoa(a.IfIndex), Prefix: netip.PrefixFrom(ip, a.PrefixLen), SkipAsSource: a.SkipAsSource})
		}
		for _, r := range r6 {
			if g, err := netip.ParseAddr(r.Gateway); err == nil && g.Is6() && !g.IsUnspecified() {
				l.V6.Routes = append(l.V6.Routes, LiveRoute{Table: "main", Dst: "default", Gateway: g, Dev: "ifindex " + strconv.Itoa(r.IfIndex)})
			}
		}
	}
	if len(doc.Written) > 0 {
		var written []string
		if err := psList(doc.Written, &written); err != nil {
			return nil, err
		}
		l.WrittenKnown = true
		for _, line := range written {
			w, err := parseWindowsWritten(line)
			if err != nil {
				return nil, err
			}
			l.Written = append(l.Written, w)
		}
	}
	names := map[int]string{}
	for _, a := range adapters {
		name := "ifindex " + strconv.Itoa(a.IfIndex)
		names[a.IfIndex] = name
		l.Links = append(l.Links, LiveLink{Name: name, MAC: strings.ToLower(strings.ReplaceAll(a.MAC, "-", ":")), Up: a.Up})
	}
	dev := func(i int) string {
		if n, ok := names[i]; ok {
			return n
		}
		return "ifindex " + strconv.Itoa(i)
	}
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a.Address)
		if err != nil || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
			continue
		}
		l.Addrs = append(l.Addrs, LiveAddr{Dev: dev(a.IfIndex), Prefix: netip.PrefixFrom(ip, a.PrefixLen), SkipAsSource: a.SkipAsSource})
	}
	for _, r := range routes {
		g, err := netip.ParseAddr(r.Gateway)
		if err != nil {
			continue
		}
		l.Routes = append(l.Routes, LiveRoute{Table: "main", Dst: "default", Gateway: g, Dev: dev(r.IfIndex)})
	}
	return l, nil
}

// psList decodes a JSON list that ConvertTo-Json may have written as a
// lone object (one element) or null (none).
func psList[T any](raw json.RawMessage, out *[]T) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	if raw[0] != '[' { // a lone object or string
		var one T
		if err := json.Unmarshal(raw, &one); err != nil {
			return fmt.Errorf("live state: %w", err)
		}
		*out = []T{one}
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("live state: %w", err)
	}
	return nil
}

// Drift lists how a host's live state differs from its render h, one
// sentence each, sorted; empty when the host is as rendered. An address
// on a managed interface that ecsnet did not write (see Live.Written) is
// not drift but foreign: see Foreign. It looks at
// what ecsnet manages: the ENIs' interfaces (found by MAC, the primary ENI
// also by its address) and their IPv4 addresses, the route tables and
// rules of the secondary ENIs, and default routes in the main table via a
// secondary ENI. Other interfaces (docker0, a VPN) are left out.
func Drift(h *render.Host, l *Live) []string {
	drift, _ := compare(h, l)
	return drift
}

// Foreign lists, one sentence each, sorted, the addresses on interfaces
// ecsnet manages that ecsnet did not write and the render does not have:
// put there by something else (keepalived, a HaVip, a container runtime).
// They are not drift: push leaves them alone, and verify only warns.
// Empty when the host did not report its state records
// (Live.WrittenKnown), since then every such address counts as drift.
func Foreign(h *render.Host, l *Live) []string {
	_, foreign := compare(h, l)
	return foreign
}

// compare is Drift and Foreign.
func compare(h *render.Host, l *Live) (drift, foreign []string) {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	byMAC := map[string][]LiveLink{}
	for _, k := range l.Links {
		byMAC[k.MAC] = append(byMAC[k.MAC], k)
	}
	addrsOf := map[string][]LiveAddr{}
	for _, a := range l.Addrs {
		addrsOf[a.Dev] = append(addrsOf[a.Dev], a)
	}
	find := func(n render.NIC) (LiveLink, bool) {
		if n.MAC != "" {
			ls := byMAC[n.MAC]
			if len(ls) == 1 {
				return ls[0], true
			}
			if len(ls) > 1 {
				add("%s: %d interfaces have MAC %s", driftWho(n, ""), len(ls), n.MAC)
				return LiveLink{}, false
			}
		}
		if n.ENI == "" {
			for _, a := range l.Addrs {
				if a.Prefix.Addr() == n.Address {
					for _, k := range l.Links {
						if k.Name == a.Dev {
							return k, true
						}
					}
					return LiveLink{Name: a.Dev, Up: true}, true
				}
			}
		}
		return LiveLink{}, false
	}
	tables := map[string]bool{}
	secondaryDev := map[string]render.NIC{}
	devOf := map[int]string{} // NIC index (0: the primary) -> its interface
	for i, n := range append([]render.NIC{h.Primary}, h.Secondary...) {
		k, ok := find(n)
		if !ok {
			if n.MAC != "" && len(byMAC[n.MAC]) > 1 {
				continue
			}
			if n.ENI == "" {
				add("the primary ENI: no interface holds %s or has MAC %s", n.Address, dash(n.MAC))
			} else {
				add("%s: no interface has MAC %s (is the ENI attached?)", driftWho(n, ""), n.MAC)
			}
			continue
		}
		dev := k.Name
		devOf[i] = dev
		what := driftWho(n, dev)
		if n.ENI != "" {
			secondaryDev[k.Name] = n
			if !k.Up {
				add("%s: the interface is down", what)
			}
		}
		want := map[netip.Addr]bool{}
		skip := map[netip.Addr]bool{}
		addrs := n.AllAddresses()
		if l.Windows {
			// Windows answers for a prefix with every address of it on
			// the adapter (ecsnet-apply.ps1's PrefixAddresses).
			for _, p := range n.HostPrefixes() {
				for a := p.Addr(); p.Contains(a); a = a.Next() {
					addrs = append(addrs, a)
				}
			}
		}
		for _, a := range addrs {
			want[a] = true
			skip[a] = a != n.Address || n.ENI == ""
		}
		have := map[netip.Addr]LiveAddr{}
		for _, a := range addrsOf[k.Name] {
			have[a.Prefix.Addr()] = a
		}
		for _, a := range addrs {
			x, ok := have[a]
			switch {
			case !ok:
				add("%s: %s/%d is missing", what, a, n.Bits())
			case x.Prefix.Bits() != n.Bits():
				add("%s: %s has prefix /%d, want /%d", what, a, x.Prefix.Bits(), n.Bits())
			case l.Windows && x.SkipAsSource != skip[a] && !(n.ENI == "" && a == n.Address):
				add("%s: %s has SkipAsSource %t, want %t", what, a, x.SkipAsSource, skip[a])
			}
		}
		key := "primary"
		if n.ENI != "" {
			key = n.MAC
		}
		for _, a := range addrsOf[k.Name] {
			if want[a.Prefix.Addr()] || a.Prefix.Addr().IsLinkLocalUnicast() {
				continue
			}
			switch {
			case !l.WrittenKnown:
				add("%s: %s is not in the desired state (the cloud does not route it here)", what, a.Prefix)
			case l.wrote(h.Fleet, key, a.Prefix.Addr()) || l.Windows && n.MAC != "" && l.wrote(h.Fleet, n.MAC, a.Prefix.Addr()):
				// (ecsnet-apply.ps1 keys the primary ENI by its MAC when
				// the lock has it.)
				add("%s: %s is not in the desired state (the cloud does not route it here); ecsnet wrote it, and ecsnet push removes it", what, a.Prefix)
			case l.Windows:
				foreign = append(foreign, fmt.Sprintf("%s: %s was not added by ecsnet and is not in the desired state (a cluster service, a HaVip?); ecsnet push leaves it, and push --prune does not run on Windows: remove it by hand (Remove-NetIPAddress) if it should not be there", what, a.Prefix))
			default:
				foreign = append(foreign, fmt.Sprintf("%s: %s was not added by ecsnet and is not in the desired state (keepalived, a HaVip, a container runtime?); ecsnet push leaves it, ecsnet push --prune removes it", what, a.Prefix))
			}
		}
		if n.ENI == "" {
			continue
		}
		if l.Windows {
			found := false
			for _, r := range l.Routes {
				if r.Dev == k.Name && r.Dst == "default" && r.Gateway == n.Gateway {
					found = true
				}
			}
			if !found {
				add("%s: no default route via %s", what, n.Gateway)
			}
			continue
		}
		t := strconv.Itoa(n.Table)
		tables[t] = true
		wantRoutes := map[string]bool{
			fmt.Sprintf("%s - %s", n.Prefix, k.Name):        true,
			fmt.Sprintf("default %s %s", n.Gateway, k.Name): true,
		}
		haveRoutes := map[string]bool{}
		for _, r := range l.Routes {
			if r.Table != t {
				continue
			}
			gw := "-"
			if r.Gateway.IsValid() {
				gw = r.Gateway.String()
			}
			key := fmt.Sprintf("%s %s %s", r.Dst, gw, r.Dev)
			haveRoutes[key] = true
			if !wantRoutes[key] {
				add("%s: table %s has a route the render does not: %s", what, t, routeText(r))
			}
		}
		if !haveRoutes[fmt.Sprintf("%s - %s", n.Prefix, k.Name)] {
			add("%s: table %s lacks the route to %s", what, t, n.Prefix)
		}
		if !haveRoutes[fmt.Sprintf("default %s %s", n.Gateway, k.Name)] {
			add("%s: table %s lacks the default route via %s", what, t, n.Gateway)
		}
		for _, from := range ruleSources4(n) {
			found := false
			for _, r := range l.Rules {
				if r.Priority == n.Priority && r.Table == t && r.From == from && !r.Other {
					found = true
				}
			}
			if !found {
				add("%s: no rule from %s lookup %s priority %d", what, ruleText(from), t, n.Priority)
			}
		}
	}
	drift6, foreign6 := compare6(h, l, devOf, tables)
	out = append(out, drift6...)
	foreign = append(foreign, foreign6...)
	if !l.Windows {
		wantRule := map[string]bool{}
		for _, n := range h.Secondary {
			for _, from := range ruleSources4(n) {
				wantRule[fmt.Sprintf("%d %s %d", n.Priority, from, n.Table)] = true
			}
		}
		for _, r := range l.Rules {
			owned := tables[r.Table] || r.Priority > render.RouteTableBase && r.Priority < render.RouteTableBase+100
			if !owned || r.Other || wantRule[fmt.Sprintf("%d %s %s", r.Priority, r.From, r.Table)] {
				continue
			}
			from := "all"
			if r.From.IsValid() {
				from = r.From.String()
			}
			add("rule %d: from %s lookup %s is not in the desired state", r.Priority, from, r.Table)
		}
		for _, r := range l.Routes {
			if n, ok := secondaryDev[r.Dev]; ok && r.Table == "main" && r.Dst == "default" {
				add("%s: the main table has a default route via %s; it belongs in table %d only", driftWho(n, r.Dev), r.Dev, n.Table)
			}
		}
	}
	slices.Sort(out)
	slices.Sort(foreign)
	return slices.Compact(out), slices.Compact(foreign)
}

// wrote reports whether the host's state record of fleet lists addr on
// the NIC keyed key: whether ecsnet added it there.
func (l *Live) wrote(fleet, key string, addr netip.Addr) bool {
	for _, w := range l.Written {
		if w.Fleet == fleet && w.Key == key && w.Prefix.Addr() == addr {
			return true
		}
	}
	return false
}

// driftWho names a NIC in a drift line: "primary ENI on eth0", "ENI vip
// on eth1".
func driftWho(n render.NIC, dev string) string {
	who := "primary ENI"
	if n.ENI != "" {
		who = "ENI " + n.ENI
	}
	if dev != "" {
		who += " on " + dev
	}
	return who
}

func routeText(r LiveRoute) string {
	s := r.Dst
	if r.Gateway.IsValid() {
		s += " via " + r.Gateway.String()
	}
	return s + " dev " + r.Dev
}
