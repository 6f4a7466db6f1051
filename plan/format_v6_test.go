package plan

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

// formatV6Plan is a plan with every step and field of issue 17: IPv6
// addresses pinned and counted, on a create and after it; prefixes pinned
// and counted, split into calls; a network card on an attach (a card
// change: detach and attach again); a queue number on a create and a
// modify; and unrecorded IPv6 addresses and prefixes.
func formatV6Plan() *Plan {
	tags := func(name string) map[string]string { return map[string]string{TagFleet: "shop-prod", TagENI: name} }
	v6 := func(ss ...string) []netip.Addr { return addrs(ss...) }
	pfx := func(ss ...string) []netip.Prefix {
		out := make([]netip.Prefix, len(ss))
		for i, s := range ss {
			out[i] = netip.MustParsePrefix(s)
		}
		return out
	}
	return &Plan{
		Fleet:  "shop-prod",
		Region: "cn-hangzhou",
		Steps: []*Step{
			{ID: "unassign-ipv6 eni/dual", Action: UnassignIPv6, Target: ENITarget("dual"), ENI: "dual", ENIID: "eni-dual1", Instance: "web-1", InstanceID: "i-web1",
				IPs: v6("2408:4005:3aa:1b00::9"), Reason: "no longer in the desired state"},
			{ID: "unassign-prefixes eni/pods", Action: UnassignPrefixes, Target: ENITarget("pods"), ENI: "pods", ENIID: "eni-pods1", Instance: "web-1", InstanceID: "i-web1",
				Prefixes: pfx("172.16.1.48/28"), Reason: "the count shrank: releasing 172.16.1.48/28 (the highest)"},
			{ID: "detach eni/card", Action: DetachENI, Target: ENITarget("card"), ENI: "card", ENIID: "eni-card1", Instance: "web-1", InstanceID: "i-web1",
				Reason: "its network card changes from 0 to 1, which only an attach sets: detaching it to attach it again"},
			{ID: "create eni/big", Action: CreateENI, Target: ENITarget("big"), ENI: "big",
				Create: &CreateSpec{VSwitchID: "vsw-a1", SecurityGroupIDs: []string{"sg-web1"}, PrimaryIP: netip.MustParseAddr("172.16.0.100"),
					IPv6: v6("2408:4005:3aa:1b00::1", "2408:4005:3aa:1b00::2"), PrefixCount: 10, QueueNumber: 4, Name: "big", Tags: tags("big")},
				Token: "ecsnet-1c0ffee0000000000000000000000000000011", Reason: "not in the cloud yet"},
			{ID: "modify eni/card", Action: ModifyENI, Target: ENITarget("card"), ENI: "card", ENIID: "eni-card1",
				Modify: &ModifySpec{QueueNumber: new(8), OldQueueNumber: new(2)}, DependsOn: []string{"detach eni/card"}, Reason: "queues 2 → 8"},
			{ID: "attach eni/big", Action: AttachENI, Target: ENITarget("big"), ENI: "big", Instance: "web-1", InstanceID: "i-web1",
				DependsOn: []string{"create eni/big"}, Reason: "attachTo web-1"},
			{ID: "attach eni/card", Action: AttachENI, Target: ENITarget("card"), ENI: "card", ENIID: "eni-card1", Instance: "web-1", InstanceID: "i-web1", NetworkCard: 1,
				DependsOn: []string{"detach eni/card", "modify eni/card"}, Reason: "again to web-1, on network card 1"},
			{ID: "assign-ipv6 eni/dual", Action: AssignIPv6, Target: ENITarget("dual"), ENI: "dual", ENIID: "eni-dual1", Instance: "web-1", InstanceID: "i-web1",
				Count: 2, Token: "ecsnet-1c0ffee0000000000000000000000000000012", Reason: "2 more IPv6 addresses for the cloud to pick"},
			{ID: "assign-prefixes eni/big", Action: AssignPrefixes, Target: ENITarget("big"), ENI: "big", Instance: "web-1", InstanceID: "i-web1",
				Count: 15, DependsOn: []string{"attach eni/big", "create eni/big"}, Token: "ecsnet-1c0ffee0000000000000000000000000000013",
				Reason: "more prefixes than CreateNetworkInterface takes (10) (15 prefixes in 2 calls of at most 10)"},
			{ID: "assign-prefixes eni/pods", Action: AssignPrefixes, Target: ENITarget("pods"), ENI: "pods", ENIID: "eni-pods1", Instance: "web-1", InstanceID: "i-web1",
				Prefixes: pfx("172.16.1.64/28", "172.16.1.80/28"), DependsOn: []string{"unassign-prefixes eni/pods"}, Token: "ecsnet-1c0ffee0000000000000000000000000000014",
				Reason: "pinned prefixes missing"},
		},
		Unrecorded: []Unrecorded{
			{Target: ENITarget("dual"), ENIID: "eni-dual1", IPs: v6("2408:4005:3aa:1b00::77"), Prefixes: pfx("172.16.1.96/28")},
		},
		Fingerprint:   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Touched:       4,
		TouchedDigest: TouchedDigest([]string{"eni-card1", "eni-dual1", "eni-pods1", "i-web1"}),
	}
}

// TestFormatV6RoundTrip: a saved plan with issue 17's steps reads back
// as the same plan and writes the same bytes; the split of a prefix step
// is stated (calls) and checked.
func TestFormatV6RoundTrip(t *testing.T) {
	p := formatV6Plan()
	data := renderJSON(t, p)
	got, err := ReadJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	again := renderJSON(t, got)
	if !bytes.Equal(data, again) {
		t.Fatalf("a read plan writes other bytes:\n%s\n---\n%s", data, again)
	}
	if !strings.Contains(string(data), `"calls": 2`) {
		t.Errorf("the prefix step of 15 does not state its 2 calls:\n%s", data)
	}
	edited := strings.Replace(string(data), `"calls": 2`, `"calls": 1`, 1)
	if _, err := ReadJSON(strings.NewReader(edited)); err == nil || !strings.Contains(err.Error(), "calls 1 does not match") {
		t.Errorf("an edited split was read: %v", err)
	}
	if s := got.Steps[8]; s.Action != AssignPrefixes || s.Calls() != 2 {
		t.Errorf("step %s: %d calls, want 2", s.ID, s.Calls())
	}
	for _, name := range []string{"unassign-ipv6", "assign-ipv6", "assign-prefixes", "unassign-prefixes"} {
		if !strings.Contains(string(renderText(t, p, TextOptions{})), name+" eni/") {
			t.Errorf("the text plan does not list a %s step", name)
		}
	}
	md := string(renderMarkdown(t, p, MarkdownOptions{}))
	for _, want := range []string{"network_card = 1", "queues", "prefix 172.16.1.64/28", "(2 IPv6 addresses picked by the cloud)", "(25 /28 prefixes picked by the cloud)"} {
		if !strings.Contains(md, want) {
			t.Errorf("the markdown plan lacks %q", want)
		}
	}
}

// TestFingerprintV6: a saved plan goes stale when an ENI's IPv6 addresses,
// prefixes or reported card change, and not for its queue number (which
// the cloud reports for every ENI: counting it would make every plan
// saved before the upgrade stale); without them the fingerprint is the
// one it always was.
func TestFingerprintV6(t *testing.T) {
	obs := func(mod func(e *ObservedENI)) *Observed {
		e := &ObservedENI{ID: "eni-1", Type: ENISecondary, Status: ENIInUse, InstanceID: "i-1", VSwitch: "vsw-1",
			PrimaryIP: netip.MustParseAddr("10.0.0.5"), SecondaryIPs: addrs("10.0.0.6")}
		mod(e)
		o := &Observed{ENIs: []*ObservedENI{e}}
		if err := o.Normalize(); err != nil {
			t.Fatal(err)
		}
		return o
	}
	ids := []string{"eni-1"}
	base := Fingerprint(obs(func(*ObservedENI) {}), ids)
	if got := Fingerprint(obs(func(e *ObservedENI) { e.QueueNumber = 4 }), ids); got != base {
		t.Error("the queue number changes the fingerprint")
	}
	for name, mod := range map[string]func(e *ObservedENI){
		"ipv6":     func(e *ObservedENI) { e.IPv6 = addrs("2408::1") },
		"prefixes": func(e *ObservedENI) { e.Prefixes = []netip.Prefix{netip.MustParsePrefix("10.0.0.16/28")} },
		"card":     func(e *ObservedENI) { e.NetworkCard = 1 },
	} {
		if Fingerprint(obs(mod), ids) == base {
			t.Errorf("%s does not change the fingerprint", name)
		}
	}
}
