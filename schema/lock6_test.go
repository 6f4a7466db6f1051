package schema

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

// TestLockIssue17 round-trips an entry's IPv6 addresses, prefixes and
// card: sorted whatever the order they were put in, found ones listed
// apart, written the same twice, and an entry without them written as
// before (no new keys).
func TestLockIssue17(t *testing.T) {
	l := &Lock{Fleet: "f"}
	l.Put(&LockedENI{Name: "pool", ID: "eni-bp1pool0001", DeviceIndex: 1, Generation: 2, NetworkCard: 1,
		IPv6: []LockedAddr{
			{Addr: netip.MustParseAddr("2408:4005:3aa:1b00::22"), Added: true},
			{Addr: netip.MustParseAddr("2408:4005:3aa:1b00::21"), Added: false},
		},
		Prefixes: []LockedPrefix{
			{Prefix: netip.MustParsePrefix("172.16.0.64/28"), Added: true},
			{Prefix: netip.MustParsePrefix("172.16.0.32/28"), Added: false},
		}})
	l.Put(&LockedENI{Instance: "web-1", ID: "eni-bp1web00001", Generation: 1})
	b := MarshalLock(l)
	for _, want := range []string{
		`"ipv6_ips": [
        "2408:4005:3aa:1b00::21",
        "2408:4005:3aa:1b00::22"
      ]`,
		`"found_ipv6_ips": [
        "2408:4005:3aa:1b00::21"
      ]`,
		`"ipv4_prefixes": [
        "172.16.0.32/28",
        "172.16.0.64/28"
      ]`,
		`"found_ipv4_prefixes": [
        "172.16.0.32/28"
      ]`,
		`"network_card": 1`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the lock lacks %s:\n%s", want, b)
		}
	}
	// The primary ENI's entry has none of the new keys.
	i := strings.Index(string(b), `"instance": "web-1"`)
	if i < 0 || strings.Contains(string(b[i:]), "ipv6") || strings.Contains(string(b[i:]), "prefixes") || strings.Contains(string(b[i:]), "network_card") {
		t.Errorf("an entry without IPv6, prefixes or card writes new keys:\n%s", b[i:])
	}
	got, err := ReadLock(bytes.NewReader(b), "lock")
	if err != nil {
		t.Fatal(err)
	}
	e := got.Secondary("pool")
	if e.NetworkCard != 1 || len(e.IPv6) != 2 || e.IPv6[0].Added || !e.IPv6[1].Added || len(e.Prefixes) != 2 || e.Prefixes[0].Added || !e.Prefixes[1].Added {
		t.Errorf("read back %+v", e)
	}
	if !e.HasIPv6(netip.MustParseAddr("2408:4005:3aa:1b00::22")) || !e.HasPrefix(netip.MustParsePrefix("172.16.0.64/28")) || e.HasPrefix(netip.MustParsePrefix("172.16.0.48/28")) {
		t.Error("HasIPv6/HasPrefix")
	}
	if again := MarshalLock(got); !bytes.Equal(again, b) {
		t.Errorf("written twice, differs:\n%s\n---\n%s", b, again)
	}
	c := got.Clone()
	c.Secondary("pool").IPv6[0].Added = true
	c.Secondary("pool").Prefixes[0].Added = true
	if e.IPv6[0].Added || e.Prefixes[0].Added {
		t.Error("Clone shares the IPv6 or prefix slices")
	}
}

// TestLockIssue17Refused: a lock whose new fields are nonsense is refused
// with the entry and the field named.
func TestLockIssue17Refused(t *testing.T) {
	entry := func(extra string) string {
		return `{"format_version": 2, "fleet": "f", "enis": [{"name": "pool", "id": "eni-bp1pool0001", "device_index": 1, "secondary_ips": [], "generation": 1, ` + extra + `}]}`
	}
	for _, tt := range []struct{ name, doc, want string }{
		{"v4 in ipv6", entry(`"ipv6_ips": ["172.16.0.9"]`), `ipv6_ips: "172.16.0.9" is not an IPv6 address`},
		{"mapped in ipv6", entry(`"ipv6_ips": ["::ffff:172.16.0.9"]`), `is not an IPv6 address`},
		{"zone in ipv6", entry(`"ipv6_ips": ["fe80::1%eth0"]`), `is not an IPv6 address`},
		{"ipv6 twice", entry(`"ipv6_ips": ["2408:4005:3aa:1b00::21", "2408:4005:3aa:1b00:0::21"]`), `listed twice in ipv6_ips`},
		{"found ipv6 not listed", entry(`"ipv6_ips": ["2408:4005:3aa:1b00::21"], "found_ipv6_ips": ["2408:4005:3aa:1b00::22"]`), `found_ipv6_ips lists 2408:4005:3aa:1b00::22`},
		{"prefix 27", entry(`"ipv4_prefixes": ["172.16.0.32/27"]`), `"172.16.0.32/27" is not a /28 IPv4 prefix`},
		{"prefix unaligned", entry(`"ipv4_prefixes": ["172.16.0.40/28"]`), `"172.16.0.40/28" is not a /28`},
		{"prefix v6", entry(`"ipv4_prefixes": ["2408:4005:3aa:1b00::/28"]`), `is not a /28 IPv4 prefix`},
		{"prefix twice", entry(`"ipv4_prefixes": ["172.16.0.32/28", "172.16.0.32/28"]`), `listed twice in ipv4_prefixes`},
		{"found prefix not listed", entry(`"ipv4_prefixes": ["172.16.0.32/28"], "found_ipv4_prefixes": ["172.16.0.48/28"]`), `found_ipv4_prefixes lists 172.16.0.48/28`},
		{"card", entry(`"network_card": 9`), `network_card 9 is not a card number`},
		{"card negative", entry(`"network_card": -1`), `network_card -1`},
		{"version 1", strings.Replace(entry(`"ipv4_prefixes": ["172.16.0.32/28"]`), `"format_version": 2`, `"format_version": 1`, 1), `need format_version 2`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadLock(strings.NewReader(tt.doc), "lock")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "eni/pool") {
				t.Errorf("got %v, want an error naming eni/pool and containing %q", err, tt.want)
			}
		})
	}
}

func TestVSwitchIPv6BlockError(t *testing.T) {
	v := &VSwitch{Name: "app-h", ID: "vsw-bp1app0000h", IPv6CIDR: netip.MustParsePrefix("2408:4005:3aa:1b00::/64"), IPv6CIDRPos: Pos{File: "f.cue", Line: 3, Col: 9}}
	e := VSwitchIPv6BlockError(v, netip.MustParsePrefix("2408:4005:3aa:1b01::/64"), "")
	if e.Pos.Line != 3 || !strings.Contains(e.Msg, "differs from the cloud's 2408:4005:3aa:1b01::/64") || !strings.Contains(e.Hint, `ipv6Cidr: "2408:4005:3aa:1b01::/64"`) {
		t.Errorf("%+v", e)
	}
	if e := VSwitchIPv6BlockError(v, netip.Prefix{}, ""); !strings.Contains(e.Msg, "no IPv6 block in the cloud") {
		t.Errorf("%+v", e)
	}
	v.IPv6CIDR, v.IPv6CIDRPos = netip.Prefix{}, Pos{}
	v.Pos = Pos{File: "f.cue", Line: 2, Col: 2}
	if e := VSwitchIPv6BlockError(v, netip.MustParsePrefix("2408:4005:3aa:1b01::/64"), ""); e.Pos.Line != 2 || !strings.Contains(e.Msg, "the file gives none") {
		t.Errorf("%+v", e)
	}
}
