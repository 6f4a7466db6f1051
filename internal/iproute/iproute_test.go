package iproute

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseLinks(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []Link
	}{
		// ip -j link and ip -j addr list the same interfaces; the
		// loopback is left out and MACs are lower-case.
		{"link.json", []Link{{Name: "eth2", MAC: "00:16:3e:aa:bb:03"}, {Name: "eth1", MAC: "00:16:3e:aa:bb:02", Up: true}}},
		{"addr.json", []Link{{Name: "eth2", MAC: "00:16:3e:aa:bb:03"}, {Name: "eth1", MAC: "00:16:3e:aa:bb:02", Up: true}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ParseLinks(readTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseLinks = %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseAddrs(t *testing.T) {
	got, err := ParseAddrs(readTestdata(t, "addr.json"))
	if err != nil {
		t.Fatal(err)
	}
	// IPv4 only (fd00::5 is left out), in ip's order, the secondary
	// address with its alias label.
	want := []Addr{
		{Dev: "eth2", MAC: "00:16:3e:aa:bb:03", Prefix: netip.MustParsePrefix("10.99.2.5/24"), Label: "eth2"},
		{Dev: "eth1", MAC: "00:16:3e:aa:bb:02", Prefix: netip.MustParsePrefix("10.99.1.20/24"), Label: "eth1"},
		{Dev: "eth1", MAC: "00:16:3e:aa:bb:02", Prefix: netip.MustParsePrefix("10.99.1.21/24"), Label: "eth1:21", Secondary: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseAddrs = %+v\nwant %+v", got, want)
	}
	if s := got[2].String(); s != "eth1 10.99.1.21/24" {
		t.Errorf("String = %q", s)
	}
}

func TestParseRules(t *testing.T) {
	got, err := ParseRules(readTestdata(t, "rule.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		str      string
		protocol string
		other    bool
		dflt     bool
	}{
		{"0: from all lookup local", "", false, true},
		{"900: from 10.99.1.0/24 lookup main", "static", false, false},
		{"1001: from 10.99.1.20 lookup 1001", "", false, false},
		{"1002: from all lookup 7 iif=eth1", "", true, false},
		{"1003: from all lookup 8 fwmark=0x1 not=<nil>", "", true, false},
		{"32766: from all lookup main", "", false, true},
		{"32767: from all lookup default", "", false, true},
	}
	if len(got) != len(want) {
		t.Fatalf("ParseRules gave %d rules, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		r := got[i]
		if r.String() != w.str || r.Protocol != w.protocol || r.Other != w.other || r.Default() != w.dflt {
			t.Errorf("rule %d = %q protocol %q other %t default %t, want %q %q %t %t",
				i, r, r.Protocol, r.Other, r.Default(), w.str, w.protocol, w.other, w.dflt)
		}
	}
	if got[2].From != netip.MustParsePrefix("10.99.1.20/32") {
		t.Errorf("a bare source is a /32: %v", got[2].From)
	}
}

// TestParseRulesFlags: flags are kept in Extra, so the rule does not
// compare equal to one without them, but they do not make it select on
// more than its source.
func TestParseRulesFlags(t *testing.T) {
	got, err := ParseRules([]byte(`[{"priority":1001,"src":"10.99.1.20","table":"1001","flags":"unresolved"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Extra != "flags=unresolved" || got[0].Other {
		t.Errorf("ParseRules = %+v, want Extra flags=unresolved and not Other", got)
	}
}

func TestParseRoutes(t *testing.T) {
	gw := netip.MustParseAddr("10.99.1.253")
	for _, tc := range []struct {
		file, table string
		want        []Route
	}{
		// show table all names every table but main; the kernel's
		// local and broadcast routes are left out.
		{"route-all.json", "main", []Route{
			{Table: "1001", Dst: "default", Gateway: gw, Dev: "eth1", Protocol: "static", Metric: 10},
			{Table: "1001", Dst: "10.99.1.0/24", Dev: "eth1", Scope: "link"},
			{Table: "main", Dst: "default", Gateway: gw, Dev: "eth1"},
			{Table: "main", Dst: "10.99.1.0/24", Dev: "eth1", Scope: "link", Protocol: "kernel"},
		}},
		// show table 1001 names no table at all.
		{"route-1001.json", "1001", []Route{
			{Table: "1001", Dst: "default", Gateway: gw, Dev: "eth1", Protocol: "static", Metric: 10},
			{Table: "1001", Dst: "10.99.1.0/24", Dev: "eth1", Scope: "link"},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ParseRoutes(readTestdata(t, tc.file), tc.table)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseRoutes = %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if s := (Route{Table: "1001", Dst: "default", Gateway: gw, Dev: "eth1", Metric: 10}).String(); s != "1001 default via 10.99.1.253 dev eth1" {
		t.Errorf("String = %q", s)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		parse      func() error
	}{
		{"link not JSON", "parse ip -j link: ", func() error { _, err := ParseLinks([]byte("Error: Unknown device type.")); return err }},
		{"addr not JSON", "parse ip -j addr: ", func() error { _, err := ParseAddrs([]byte("")); return err }},
		{"addr local", `parse ip -j addr: eth1: `, func() error {
			_, err := ParseAddrs([]byte(`[{"ifname":"eth1","link_type":"ether","addr_info":[{"family":"inet","local":"10.99.1","prefixlen":24}]}]`))
			return err
		}},
		{"rule src", `parse ip -j rule: src "10.99.1": `, func() error {
			_, err := ParseRules([]byte(`[{"priority":1001,"src":"10.99.1","table":"1001"}]`))
			return err
		}},
		{"route gateway", `parse ip -j route: gateway "10.99.1": `, func() error {
			_, err := ParseRoutes([]byte(`[{"dst":"default","gateway":"10.99.1","dev":"eth1"}]`), "main")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.parse()
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error = %v, want one starting %q", err, tc.want)
			}
		})
	}
}
