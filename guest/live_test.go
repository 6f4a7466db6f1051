package guest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
)

// liveOutput wraps a live document as the verify payload prints it.
func liveOutput(doc []byte, compress bool) []byte {
	if compress {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(doc)
		zw.Close()
		doc = b.Bytes()
	}
	return []byte("some noise\n" + LiveMarker + base64.StdEncoding.EncodeToString(doc) + "\n")
}

// ipJSON is what `ip -j` would print for a host that is exactly as h
// renders it, plus a docker bridge ecsnet must ignore.
func ipJSON(h *render.Host) []byte {
	type ai struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
		Scope     string `json:"scope,omitempty"`
	}
	type link struct {
		IfName   string   `json:"ifname"`
		LinkType string   `json:"link_type"`
		Address  string   `json:"address"`
		Flags    []string `json:"flags"`
		AddrInfo []ai     `json:"addr_info"`
	}
	links := []link{{IfName: "lo", LinkType: "loopback", Address: "00:00:00:00:00:00", Flags: []string{"UP"}, AddrInfo: []ai{{"inet", "127.0.0.1", 8, ""}, {"inet6", "::1", 128, "host"}}}}
	var rules []map[string]any
	rules = append(rules, map[string]any{"priority": 0, "src": "all", "table": "local"}, map[string]any{"priority": 32766, "src": "all", "table": "main"})
	routes := []map[string]any{{"dst": "default", "gateway": h.Primary.Gateway.String(), "dev": "eth0", "protocol": "dhcp"}}
	// Issue 17's: IPv6 rules and routes (every table) and table local's
	// local routes.
	rules6 := []map[string]any{{"priority": 0, "src": "all", "table": "local"}, {"priority": 32766, "src": "all", "table": "main"}}
	var routes6, locals []map[string]any
	if p := h.Primary; p.HasIPv6() {
		routes6 = append(routes6, map[string]any{"dst": "default", "gateway": p.IPv6Gateway().String(), "dev": "eth0", "metric": 1024})
	}
	for _, n := range append([]render.NIC{h.Primary}, h.Secondary...) {
		mac := n.MAC
		if mac == "" {
			mac = "00:16:3e:ff:ff:00"
		}
		l := link{IfName: n.Name(), LinkType: "ether", Address: mac, Flags: []string{"BROADCAST", "UP", "LOWER_UP"}}
		for _, a := range n.AllAddresses() {
			l.AddrInfo = append(l.AddrInfo, ai{"inet", a.String(), n.Bits(), ""})
		}
		for _, a := range n.IPv6 {
			l.AddrInfo = append(l.AddrInfo, ai{"inet6", a.String(), n.IPv6Bits(), "global"})
		}
		l.AddrInfo = append(l.AddrInfo, ai{"inet6", "fe80::216:3eff:fe00:1", 64, "link"})
		links = append(links, l)
		for _, p := range n.HostPrefixes() {
			locals = append(locals, map[string]any{"type": "local", "dst": p.String(), "dev": n.Name(), "table": "local", "scope": "host"})
		}
		routes6 = append(routes6, map[string]any{"dst": "fe80::/64", "dev": n.Name(), "protocol": "kernel", "metric": 256})
		if n.ENI == "" {
			continue
		}
		for _, p := range n.HostPrefixes() {
			rules = append(rules, map[string]any{"priority": n.Priority, "src": p.Addr().String(), "srclen": p.Bits(), "table": fmt.Sprint(n.Table)})
		}
		if n.HasIPv6() {
			for _, a := range n.IPv6 {
				rules6 = append(rules6, map[string]any{"priority": n.Priority, "src": a.String(), "table": fmt.Sprint(n.Table)})
			}
			routes6 = append(routes6,
				map[string]any{"dst": n.IPv6Prefix.String(), "dev": n.Name(), "table": fmt.Sprint(n.Table), "metric": 1024},
				map[string]any{"dst": "default", "gateway": n.IPv6Gateway().String(), "dev": n.Name(), "table": fmt.Sprint(n.Table), "metric": 1024})
		}
		for _, a := range n.AllAddresses() {
			rules = append(rules, map[string]any{"priority": n.Priority, "src": a.String(), "table": fmt.Sprint(n.Table)})
		}
		routes = append(routes,
			map[string]any{"dst": n.Prefix.String(), "dev": n.Name(), "table": fmt.Sprint(n.Table), "scope": "link"},
			map[string]any{"dst": "default", "gateway": n.Gateway.String(), "dev": n.Name(), "table": fmt.Sprint(n.Table)},
			map[string]any{"type": "local", "dst": n.Address.String(), "dev": n.Name(), "table": "local"})
	}
	links = append(links, link{IfName: "docker0", LinkType: "ether", Address: "02:42:00:00:00:01", Flags: []string{"UP"}, AddrInfo: []ai{{"inet", "172.17.0.1", 16, ""}}})
	doc, _ := json.Marshal(map[string]any{"format": "ip-json", "addr": links, "rule": rules, "route": routes,
		"rule6": rules6, "route6": routes6, "local": locals})
	return doc
}

// ipText is the same state in the forms iproute2 without JSON prints.
func ipText(h *render.Host) []byte {
	var b strings.Builder
	b.WriteString("#ip-text\n#link\n1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n")
	nics := append([]render.NIC{h.Primary}, h.Secondary...)
	for i, n := range nics {
		mac := n.MAC
		if mac == "" {
			mac = "00:16:3e:ff:ff:00"
		}
		fmt.Fprintf(&b, "%d: %s: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP\\    link/ether %s brd ff:ff:ff:ff:ff:ff\n", i+2, n.Name(), mac)
	}
	b.WriteString("#addr\n1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n")
	for i, n := range nics {
		for _, a := range n.AllAddresses() {
			fmt.Fprintf(&b, "%d: %s    inet %s/%d brd x scope global %s\\       valid_lft forever preferred_lft forever\n", i+2, n.Name(), a, n.Bits(), n.Name())
		}
	}
	b.WriteString("#rule\n0:\tfrom all lookup local\n")
	for _, n := range h.Secondary {
		for _, a := range n.AllAddresses() {
			fmt.Fprintf(&b, "%d:\tfrom %s lookup %d\n", n.Priority, a, n.Table)
		}
		for _, p := range n.HostPrefixes() {
			fmt.Fprintf(&b, "%d:\tfrom %s lookup %d\n", n.Priority, p, n.Table)
		}
	}
	b.WriteString("32766:\tfrom all lookup main\n#route\n")
	fmt.Fprintf(&b, "default via %s dev eth0 proto dhcp\n", h.Primary.Gateway)
	for _, n := range h.Secondary {
		fmt.Fprintf(&b, "%s dev %s table %d scope link \ndefault via %s dev %s table %d \n", n.Prefix, n.Name(), n.Table, n.Gateway, n.Name(), n.Table)
		fmt.Fprintf(&b, "local %s dev %s table local proto kernel scope host src %[1]s\n", n.Address, n.Name())
	}
	return []byte(b.String())
}

func TestDriftNoneWhenAsRendered(t *testing.T) {
	for _, h := range standin.ExampleHosts(t) {
		if h.Name == "win-1" {
			continue
		}
		outs := map[string][]byte{
			"json":         liveOutput(ipJSON(h), true),
			"json (plain)": liveOutput(ipJSON(h), false),
		}
		if !hasV6(h) {
			// ip without JSON reports no IPv6 (TestDriftV6NotReported).
			outs["text"] = liveOutput(ipText(h), true)
		}
		for name, out := range outs {
			l, err := ParseLive(out)
			if err != nil {
				t.Fatalf("%s %s: %v", h.Name, name, err)
			}
			if d := Drift(h, l); len(d) > 0 {
				t.Errorf("%s %s: drift on a host as rendered:\n%s", h.Name, name, strings.Join(d, "\n"))
			}
		}
	}
}

// TestDriftV6NotReported: a host whose render has IPv6 or prefixes on the
// host but whose verify output has none of issue 17's state (ip without
// JSON, an older payload) is drift, saying it was not compared; an
// IPv4-only host's is not.
func TestDriftV6NotReported(t *testing.T) {
	for _, h := range standin.ExampleHosts(t) {
		if h.Name == "win-1" || len(h.Secondary) == 0 {
			continue
		}
		d := *h
		d.Secondary = slices.Clone(h.Secondary)
		n := &d.Secondary[0]
		n.IPv6Prefix = netip.MustParsePrefix("2408:4005:3aa:1b02::/64")
		n.IPv6 = []netip.Addr{netip.MustParseAddr("2408:4005:3aa:1b02::20")}
		l, err := ParseLive(liveOutput(ipText(&d), true))
		if err != nil {
			t.Fatal(err)
		}
		if got := Drift(&d, l); !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "not compared") }) {
			t.Errorf("%s without IPv6 state: drift %q, want it to say IPv6 was not compared", h.Name, got)
		}
		if hasV6(h) {
			continue
		}
		l, _ = ParseLive(liveOutput(ipText(h), true))
		if got := Drift(h, l); len(got) > 0 {
			t.Errorf("%s (IPv4 only) from ip's text: drift %q", h.Name, got)
		}
		return
	}
}

func TestDriftFindsDifferences(t *testing.T) {
	h := exampleHost(t, "lb-1")
	doc := string(ipJSON(h))
	vip := h.Secondary[0]
	replace := func(old, new string) string {
		if !strings.Contains(doc, old) {
			t.Fatalf("%q not in the document", old)
		}
		return strings.Replace(doc, old, new, 1)
	}
	cases := []struct {
		name, doc, want string
	}{
		{"address gone", replace(`{"family":"inet","local":"172.16.0.101","prefixlen":24}`, `{"family":"inet6","local":"fe80::1","prefixlen":64}`),
			"ENI vip on eth1: 172.16.0.101/24 is missing"},
		{"wrong prefix", replace(`"local":"172.16.0.31","prefixlen":24`, `"local":"172.16.0.31","prefixlen":32`),
			"primary ENI on eth0: 172.16.0.31 has prefix /32, want /24"},
		{"rule gone", replace(`{"priority":1001,"src":"172.16.0.102","table":"1001"}`, `{"priority":1001,"src":"172.16.0.102","table":"main"}`),
			"ENI vip on eth1: no rule from 172.16.0.102 lookup 1001 priority 1001"},
		{"table route gone", replace(`"dev":"eth1","dst":"default","gateway":"172.16.0.253","table":"1001"`, `"dev":"eth1","dst":"default","gateway":"172.16.0.253","table":"main"`),
			"ENI vip on eth1: the main table has a default route via eth1; it belongs in table 1001 only"},
		{"ENI detached", replace(`"address":"`+vip.MAC+`"`, `"address":"02:00:00:00:00:09"`),
			"ENI vip: no interface has MAC " + vip.MAC + " (is the ENI attached?)"},
		{"ENI down", replace(`"address":"`+vip.MAC+`","flags":["BROADCAST","UP","LOWER_UP"]`, `"address":"`+vip.MAC+`","flags":["BROADCAST"]`),
			"ENI vip on eth1: the interface is down"},
	}
	for _, c := range cases {
		l, err := ParseLive(liveOutput([]byte(c.doc), true))
		if err != nil {
			t.Fatal(err)
		}
		d := Drift(h, l)
		if !slices.Contains(d, c.want) {
			t.Errorf("%s: drift\n%s\ndoes not say %q", c.name, strings.Join(d, "\n"), c.want)
		}
	}
	// An extra rule into an ecsnet table, and an extra address.
	extra := strings.Replace(doc, `"rule":[`, `"rule":[{"priority":1001,"src":"10.9.9.9","table":"1001"},`, 1)
	extra = strings.Replace(extra, `{"family":"inet","local":"172.16.0.31","prefixlen":24}`, `{"family":"inet","local":"172.16.0.31","prefixlen":24},{"family":"inet","local":"172.16.0.99","prefixlen":24}`, 1)
	l, err := ParseLive(liveOutput([]byte(extra), false))
	if err != nil {
		t.Fatal(err)
	}
	d := Drift(h, l)
	for _, want := range []string{"rule 1001: from 10.9.9.9/32 lookup 1001 is not in the desired state",
		"primary ENI on eth0: 172.16.0.99/24 is not in the desired state (the cloud does not route it here)"} {
		if !slices.Contains(d, want) {
			t.Errorf("drift\n%s\ndoes not say %q", strings.Join(d, "\n"), want)
		}
	}
}

func TestDriftWindows(t *testing.T) {
	h := exampleHost(t, "win-1")
	adapters := []map[string]any{{"ifindex": 4, "name": "Ethernet", "mac": h.Primary.MACDashed(), "up": true}}
	addrs := []map[string]any{{"ifindex": 4, "address": h.Primary.Address.String(), "prefixlen": 24, "skip_as_source": false}}
	for _, a := range h.Primary.Secondary {
		addrs = append(addrs, map[string]any{"ifindex": 4, "address": a.String(), "prefixlen": 24, "skip_as_source": true})
	}
	routes := []map[string]any{{"ifindex": 4, "gateway": h.Primary.Gateway.String()}}
	for i, n := range h.Secondary {
		idx := 10 + i
		adapters = append(adapters, map[string]any{"ifindex": idx, "name": "Ethernet 2", "mac": n.MACDashed(), "up": true})
		for _, a := range n.AllAddresses() {
			addrs = append(addrs, map[string]any{"ifindex": idx, "address": a.String(), "prefixlen": n.Bits(), "skip_as_source": a != n.Address})
		}
		routes = append(routes, map[string]any{"ifindex": idx, "gateway": n.Gateway.String()})
	}
	doc, _ := json.Marshal(map[string]any{"format": "windows", "adapters": adapters, "addresses": addrs, "routes": routes})
	l, err := ParseLive(liveOutput(doc, false))
	if err != nil {
		t.Fatal(err)
	}
	if d := Drift(h, l); len(d) > 0 {
		t.Errorf("drift on a Windows host as rendered:\n%s", strings.Join(d, "\n"))
	}
	bad := strings.Replace(string(doc), `"skip_as_source":true`, `"skip_as_source":false`, 1)
	l, _ = ParseLive(liveOutput([]byte(bad), true))
	if d := Drift(h, l); len(d) != 1 || !strings.Contains(d[0], "SkipAsSource false, want true") {
		t.Errorf("SkipAsSource drift: %q", d)
	}
	// ConvertTo-Json writes a one-element list as the element.
	one := strings.Replace(string(doc), `"routes":[`, `"routes":{"ifindex":99,"gateway":"1.2.3.4"},"x":[`, 1)
	if _, err := ParseLive(liveOutput([]byte(one), false)); err != nil {
		t.Errorf("a lone object for a list: %v", err)
	}
}

func TestParseLiveRefusesGarbage(t *testing.T) {
	for _, out := range []string{"", "ecsnet: nothing\n", LiveMarker + "!!!\n", LiveMarker + base64.StdEncoding.EncodeToString([]byte("hello")) + "\n",
		LiveMarker + base64.StdEncoding.EncodeToString([]byte(`{"format":"other"}`)) + "\n"} {
		if _, err := ParseLive([]byte(out)); err == nil {
			t.Errorf("ParseLive(%q) accepted it", out)
		}
	}
}
