package guest

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/plan"
)

// TestDriftWrittenOrForeign pins the line verify draws between an
// address ecsnet wrote that the render dropped (drift: push removes it)
// and an address something else put on a managed interface (foreign: a
// warning; push leaves it), from the host's state records, in both of
// the Linux payload's forms. Without the records (an older payload, a
// Windows host) every such address stays drift.
func TestDriftWrittenOrForeign(t *testing.T) {
	h := exampleHost(t, "lb-1")
	vip := h.Secondary[0]
	primaryAddr := `{"family":"inet","local":"` + h.Primary.Address.String() + `","prefixlen":24}`
	vipAddr := `{"family":"inet","local":"` + vip.Address.String() + `","prefixlen":24}`
	doc := string(ipJSON(h))
	for _, old := range []string{primaryAddr, vipAddr} {
		if !strings.Contains(doc, old) {
			t.Fatalf("%q not in the document", old)
		}
	}
	// eth0 gains 172.16.0.99, which ecsnet wrote for this fleet and the
	// render dropped; eth1 gains 172.16.0.98 (keepalived's, say) and
	// 172.16.0.97, which a record of another fleet lists.
	doc = strings.Replace(doc, primaryAddr, primaryAddr+`,{"family":"inet","local":"172.16.0.99","prefixlen":24}`, 1)
	doc = strings.Replace(doc, vipAddr, vipAddr+`,{"family":"inet","local":"172.16.0.98","prefixlen":24},{"family":"inet","local":"172.16.0.97","prefixlen":24}`, 1)
	written := []string{h.Fleet + " primary 172.16.0.99/24", h.Fleet + " " + vip.MAC + " " + vip.Address.String() + "/24", "other " + vip.MAC + " 172.16.0.97/24"}
	withRecords := strings.TrimSuffix(doc, "}") + `,"written":["` + strings.Join(written, `","`) + `"]}`

	wantDrift := "primary ENI on eth0: 172.16.0.99/24 is not in the desired state (the cloud does not route it here); ecsnet wrote it, and ecsnet push removes it"
	wantForeign := []string{
		"ENI vip on eth1: 172.16.0.97/24 was not added by ecsnet and is not in the desired state (keepalived, a HaVip, a container runtime?); ecsnet push leaves it, ecsnet push --prune removes it",
		"ENI vip on eth1: 172.16.0.98/24 was not added by ecsnet and is not in the desired state (keepalived, a HaVip, a container runtime?); ecsnet push leaves it, ecsnet push --prune removes it",
	}
	for name, out := range map[string][]byte{
		"json": liveOutput([]byte(withRecords), true),
		"text": liveOutput([]byte(string(ipText(h))+"#written\n"+strings.Join(written, "\n")+"\n"), true),
	} {
		l, err := ParseLive(out)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "text" {
			// ipText has none of the extra addresses: add them.
			l.Addrs = append(l.Addrs, LiveAddr{Dev: "eth0", Prefix: mustPrefix(t, "172.16.0.99/24")},
				LiveAddr{Dev: "eth1", Prefix: mustPrefix(t, "172.16.0.98/24")}, LiveAddr{Dev: "eth1", Prefix: mustPrefix(t, "172.16.0.97/24")})
		}
		if !l.WrittenKnown || len(l.Written) != 3 {
			t.Errorf("%s: records %v (known %t), want 3", name, l.Written, l.WrittenKnown)
		}
		if d := Drift(h, l); !slices.Equal(d, []string{wantDrift}) {
			t.Errorf("%s: drift\n%s\nwant\n%s", name, strings.Join(d, "\n"), wantDrift)
		}
		if f := Foreign(h, l); !slices.Equal(f, wantForeign) {
			t.Errorf("%s: foreign\n%s\nwant\n%s", name, strings.Join(f, "\n"), strings.Join(wantForeign, "\n"))
		}
	}

	// Without records, all three are drift, as before.
	l, err := ParseLive(liveOutput([]byte(doc), true))
	if err != nil {
		t.Fatal(err)
	}
	if d, f := Drift(h, l), Foreign(h, l); len(d) != 3 || len(f) != 0 {
		t.Errorf("without records: drift %q, foreign %q; want 3 drift, no foreign", d, f)
	}

	// A verify of the host: foreign addresses only are in sync, with
	// warnings.
	onlyForeign := strings.Replace(withRecords, `,{"family":"inet","local":"172.16.0.99","prefixlen":24}`, "", 1)
	c := judge(h, "", &plan.HostResult{Status: "Success", Output: string(liveOutput([]byte(onlyForeign), true))})
	if c.Verdict != InSync || len(c.Drift) != 0 || !slices.Equal(c.Foreign, wantForeign) {
		t.Errorf("judge: %v, drift %q, foreign %q; want in sync with the foreign addresses as warnings", c.Verdict, c.Drift, c.Foreign)
	}
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDriftWindowsWrittenOrForeign: the Windows verify payload reports
// ecsnet-apply.ps1's state records (its MACs as Windows writes them, the
// primary ENI by its MAC), so verify draws the same line there: an
// address ecsnet wrote that the render dropped is drift, any other is
// foreign, with advice that fits Windows (push --prune is Linux only).
// Without the records (an older payload) both stay drift.
func TestDriftWindowsWrittenOrForeign(t *testing.T) {
	h := exampleHost(t, "win-1")
	adapters := []map[string]any{{"ifindex": 4, "name": "Ethernet", "mac": h.Primary.MACDashed(), "up": true}}
	addrs := []map[string]any{{"ifindex": 4, "address": h.Primary.Address.String(), "prefixlen": 24, "skip_as_source": false}}
	for _, a := range h.Primary.Secondary {
		addrs = append(addrs, map[string]any{"ifindex": 4, "address": a.String(), "prefixlen": 24, "skip_as_source": true})
	}
	// 172.16.0.99 ecsnet wrote (the record has it); 172.16.0.98 it did not.
	addrs = append(addrs, map[string]any{"ifindex": 4, "address": "172.16.0.99", "prefixlen": 24, "skip_as_source": true},
		map[string]any{"ifindex": 4, "address": "172.16.0.98", "prefixlen": 24, "skip_as_source": true})
	routes := []map[string]any{{"ifindex": 4, "gateway": h.Primary.Gateway.String()}}
	for i, n := range h.Secondary {
		idx := 10 + i
		adapters = append(adapters, map[string]any{"ifindex": idx, "name": "Ethernet 2", "mac": n.MACDashed(), "up": true})
		for _, a := range n.AllAddresses() {
			addrs = append(addrs, map[string]any{"ifindex": idx, "address": a.String(), "prefixlen": n.Bits(), "skip_as_source": a != n.Address})
		}
		routes = append(routes, map[string]any{"ifindex": idx, "gateway": n.Gateway.String()})
	}
	if h.Primary.MAC == "" {
		t.Fatal("win-1's primary ENI has no MAC in the lock: the test needs one")
	}
	written := h.Fleet + " " + h.Primary.MACDashed() + " 172.16.0.99"
	for name, c := range map[string]struct {
		written any
		drift   []string
		foreign []string
	}{
		"records": {[]string{written, "other " + h.Primary.MACDashed() + " 172.16.0.98"},
			[]string{"primary ENI on ifindex 4: 172.16.0.99/24 is not in the desired state (the cloud does not route it here); ecsnet wrote it, and ecsnet push removes it"},
			[]string{"primary ENI on ifindex 4: 172.16.0.98/24 was not added by ecsnet and is not in the desired state (a cluster service, a HaVip?); ecsnet push leaves it, and push --prune does not run on Windows: remove it by hand (Remove-NetIPAddress) if it should not be there"}},
		// ConvertTo-Json writes a one-element list as the element.
		"one record": {written,
			[]string{"primary ENI on ifindex 4: 172.16.0.99/24 is not in the desired state (the cloud does not route it here); ecsnet wrote it, and ecsnet push removes it"},
			[]string{"primary ENI on ifindex 4: 172.16.0.98/24 was not added by ecsnet and is not in the desired state (a cluster service, a HaVip?); ecsnet push leaves it, and push --prune does not run on Windows: remove it by hand (Remove-NetIPAddress) if it should not be there"}},
		"no records": {nil, []string{
			"primary ENI on ifindex 4: 172.16.0.98/24 is not in the desired state (the cloud does not route it here)",
			"primary ENI on ifindex 4: 172.16.0.99/24 is not in the desired state (the cloud does not route it here)"}, nil},
	} {
		doc := map[string]any{"format": "windows", "adapters": adapters, "addresses": addrs, "routes": routes}
		if c.written != nil {
			doc["written"] = c.written
		}
		data, _ := json.Marshal(doc)
		l, err := ParseLive(liveOutput(data, false))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d, f := Drift(h, l), Foreign(h, l); !slices.Equal(d, c.drift) || !slices.Equal(f, c.foreign) {
			t.Errorf("%s: drift\n%s\nforeign\n%s\nwant\n%s\n%s", name, strings.Join(d, "\n"), strings.Join(f, "\n"), strings.Join(c.drift, "\n"), strings.Join(c.foreign, "\n"))
		}
	}
}
