package schema

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestCUEString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:        `"plain"`,
		`a "q" \(x)`:   `"a \"q\" \\(x)"`,
		"tab\tnl\n":    `"tab\tnl\n"`,
		"<b>&amp;</b>": `"<b>&amp;</b>"`,
	} {
		if got := cueString(in); got != want {
			t.Errorf("cueString(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestWriteCUEIssue17 writes an imported fleet with IPv6 blocks and
// addresses, prefixes, a card and the new type columns, and loads it back.
func TestWriteCUEIssue17(t *testing.T) {
	f := &ImportedFleet{Fleet: "imported", Region: "cn-hangzhou", VPCs: []string{"vpc-bp1aaaa"},
		VSwitches: []ImportedVSwitch{{ID: "vsw-bp1app0000h", Zone: "cn-hangzhou-h", CIDR: netip.MustParsePrefix("172.16.0.0/24"),
			IPv6CIDR: netip.MustParsePrefix("2408:4005:3aa:1b00::/64")}},
		SecurityGroups: []string{"sg-bp1web000001"},
		Instances: []ImportedInstance{{Name: "web-1", ID: "i-bp1web000001", Type: "ecs.x9.large", OS: "alinux3",
			Primary: ImportedPrimary{VSwitch: "vsw-bp1app0000h", IP: netip.MustParseAddr("172.16.0.10"),
				IPv6: []netip.Addr{netip.MustParseAddr("2408:4005:3aa:1b00::10")}, Prefixes: []netip.Prefix{netip.MustParsePrefix("172.16.0.32/28")}}}},
		ENIs: []ImportedENI{{Name: "eni-bp1data0001", ID: "eni-bp1data0001", VSwitch: "vsw-bp1app0000h", SecurityGroups: []string{"sg-bp1web000001"},
			PrimaryIP: netip.MustParseAddr("172.16.0.20"), IPv6: []netip.Addr{netip.MustParseAddr("2408:4005:3aa:1b00::20")},
			Prefixes: []netip.Prefix{netip.MustParsePrefix("172.16.0.48/28")}, AttachTo: "web-1", NetworkCard: 1}},
		Limits: ImportedLimits{InstanceTypes: []ImportedType{{Name: "ecs.x9.large", MaxENIs: 3, MaxIPsPerENI: 6, MaxIPv6PerENI: 6, NetworkCards: 2, MaxQueuesPerENI: 8}}},
	}
	var b bytes.Buffer
	if err := f.WriteCUE(&b); err != nil {
		t.Fatal(err)
	}
	p := write(t, t.TempDir(), "fleet.cue", b.String())
	got, err := Load([]string{p}, LoadOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	e := got.ENI("eni-bp1data0001")
	pr := got.Instance("web-1").Primary
	ty, _ := got.InstanceType("ecs.x9.large")
	if got.VSwitches[0].IPv6CIDR != f.VSwitches[0].IPv6CIDR || len(pr.IPv6.Pinned) != 1 || len(pr.Prefixes.Pinned) != 1 ||
		len(e.IPv6.Pinned) != 1 || len(e.Prefixes.Pinned) != 1 || e.NetworkCard != 1 ||
		ty.MaxIPv6PerENI != 6 || ty.NetworkCards != 2 || ty.MaxQueuesPerENI != 8 {
		t.Errorf("read back differs:\n%s", b.String())
	}
}
