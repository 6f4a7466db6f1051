package guest

import (
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
