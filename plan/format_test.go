package plan

import (
	"bytes"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/golden"
	"github.com/google/go-cmp/cmp"
)

// formatSamplePlan is a hand-built plan with every action, a replacement,
// a failover move, an attach and a detach, a count that shrinks, a
// primary ENI's addresses, an ENI removed from the file, unmanaged ENIs,
// unrecorded addresses (one kept, one pruned) and a note. Its steps are in
// the order Compute would give them.
func formatSamplePlan() *Plan {
	tags := func(name string) map[string]string { return map[string]string{TagFleet: "shop-prod", TagENI: name} }
	return &Plan{
		Fleet:  "shop-prod",
		Region: "cn-hangzhou",
		Steps: []*Step{
			{ID: "unassign eni/pool", Action: UnassignIPs, Target: ENITarget("pool"), ENI: "pool", ENIID: "eni-pool1",
				IPs: addrs("172.16.0.59", "172.16.0.60"), Reason: "the count shrank: releasing 172.16.0.59,172.16.0.60 (the highest addresses)"},
			{ID: "unassign instance/web-1", Action: UnassignIPs, Target: InstanceTarget("web-1"), ENIID: "eni-pweb1", Instance: "web-1", InstanceID: "i-web1",
				IPs: addrs("172.16.0.77", "172.16.0.200"), Reason: "no longer in the desired state; pruning addresses the lock does not record: 172.16.0.77"},
			{ID: "detach eni/db", Action: DetachENI, Target: ENITarget("db"), ENI: "db", ENIID: "eni-db1", Instance: "lb-1", InstanceID: "i-lb1",
				Reason: "moving to lb-2"},
			{ID: "detach eni/old@eni-old1", Action: DetachENI, Target: RemovedENITarget("old", "eni-old1"), ENI: "old", ENIID: "eni-old1", Instance: "lb-1", InstanceID: "i-lb1",
				Destroys: true, Reason: "no longer in the desired state"},
			{ID: "detach eni/standby", Action: DetachENI, Target: ENITarget("standby"), ENI: "standby", ENIID: "eni-stby1", Instance: "lb-2", InstanceID: "i-lb2",
				Reason: "attachTo was removed: the ENI becomes unbound"},
			{ID: "detach eni/vip@eni-vip1", Action: DetachENI, Target: RemovedENITarget("vip", "eni-vip1"), ENI: "vip", ENIID: "eni-vip1", Instance: "web-1", InstanceID: "i-web1",
				Destroys: true, Reason: "replaced: its vSwitch changes from vsw-a1 to vsw-b1 (b)"},
			{ID: "create eni/api", Action: CreateENI, Target: ENITarget("api"), ENI: "api",
				Create: &CreateSpec{VSwitchID: "vsw-a1", SecurityGroupIDs: []string{"sg-web1"}, PrimaryIP: netip.MustParseAddr("172.16.0.100"),
					IPs: addrs("172.16.0.101", "172.16.0.102"), Name: "api", Description: "API VIP", Tags: tags("api")},
				Token: "ecsnet-1c0ffee0000000000000000000000000000001", Reason: "not in the cloud yet"},
			{ID: "create eni/float", Action: CreateENI, Target: ENITarget("float"), ENI: "float",
				Create: &CreateSpec{VSwitchID: "vsw-b1", SecurityGroupIDs: []string{"sg-web1"}, Count: 10, Name: "float", Tags: tags("float")},
				Token:  "ecsnet-1c0ffee0000000000000000000000000000002", Reason: "not in the cloud yet"},
			{ID: "create eni/vip", Action: CreateENI, Target: ENITarget("vip"), ENI: "vip",
				Create: &CreateSpec{VSwitchID: "vsw-b1", SecurityGroupIDs: []string{"sg-web1"}, PrimaryIP: netip.MustParseAddr("172.16.1.10"),
					IPs: addrs("172.16.1.11"), Name: "vip", Description: "shop VIP", Tags: tags("vip")},
				Token: "ecsnet-1c0ffee0000000000000000000000000000003", Reason: "not in the cloud yet"},
			{ID: "modify eni/cache", Action: ModifyENI, Target: ENITarget("cache"), ENI: "cache", ENIID: "eni-cache1",
				Modify: &ModifySpec{SecurityGroupIDs: []string{"sg-cache1", "sg-web1"}, Description: new(`Redis cache, "hot" tier`),
					OldSecurityGroupIDs: []string{"sg-web1"}, OldDescription: new("Redis cache")},
				Reason: `security groups sg-web1 → sg-cache1,sg-web1; description "Redis cache" → "Redis cache, \"hot\" tier"`},
			{ID: "delete eni/old@eni-old1", Action: DeleteENI, Target: RemovedENITarget("old", "eni-old1"), ENI: "old", ENIID: "eni-old1",
				DependsOn: []string{"detach eni/old@eni-old1"}, Destroys: true, Reason: "no longer in the desired state"},
			{ID: "delete eni/vip@eni-vip1", Action: DeleteENI, Target: RemovedENITarget("vip", "eni-vip1"), ENI: "vip", ENIID: "eni-vip1",
				DependsOn: []string{"detach eni/vip@eni-vip1"}, Destroys: true, Reason: "replaced: its vSwitch changes from vsw-a1 to vsw-b1 (b)"},
			{ID: "attach eni/api", Action: AttachENI, Target: ENITarget("api"), ENI: "api", Instance: "web-1", InstanceID: "i-web1",
				DependsOn: []string{"create eni/api", "detach eni/vip@eni-vip1"}, Reason: "attachTo web-1"},
			{ID: "attach eni/db", Action: AttachENI, Target: ENITarget("db"), ENI: "db", ENIID: "eni-db1", Instance: "lb-2", InstanceID: "i-lb2",
				DependsOn: []string{"detach eni/db", "detach eni/standby"}, Reason: "failover from lb-1 to lb-2"},
			{ID: "attach eni/spare", Action: AttachENI, Target: ENITarget("spare"), ENI: "spare", ENIID: "eni-spare1", Instance: "lb-2", InstanceID: "i-lb2",
				DependsOn: []string{"detach eni/standby"}, Reason: "detached outside ecsnet; the lock records it on lb-2: attaching it again", Drift: true},
			{ID: "attach eni/vip", Action: AttachENI, Target: ENITarget("vip"), ENI: "vip", Instance: "web-1", InstanceID: "i-web1",
				DependsOn: []string{"create eni/vip", "detach eni/vip@eni-vip1"}, Reason: "attachTo web-1"},
			{ID: "assign eni/cache", Action: AssignIPs, Target: ENITarget("cache"), ENI: "cache", ENIID: "eni-cache1", IPs: addrs("172.16.0.200"),
				DependsOn: []string{"unassign instance/web-1"}, Token: "ecsnet-1c0ffee0000000000000000000000000000004", Reason: "pinned addresses missing"},
			{ID: "assign eni/float", Action: AssignIPs, Target: ENITarget("float"), ENI: "float", Count: 2,
				DependsOn: []string{"create eni/float"}, Token: "ecsnet-1c0ffee0000000000000000000000000000005",
				Reason: "more addresses than CreateNetworkInterface takes (10)"},
			{ID: "assign instance/web-1", Action: AssignIPs, Target: InstanceTarget("web-1"), ENIID: "eni-pweb1", Instance: "web-1", InstanceID: "i-web1",
				IPs: addrs("172.16.0.30"), DependsOn: []string{"unassign instance/web-1"}, Token: "ecsnet-1c0ffee0000000000000000000000000000006",
				Reason: "pinned addresses missing"},
		},
		Unmanaged: []Unmanaged{
			{ID: "eni-legacy1", Name: "legacy-nic", InstanceID: "i-web1", IPs: addrs("172.16.0.50", "172.16.0.51")},
			{ID: "eni-manual1", IPs: addrs("172.16.1.5")},
		},
		Unrecorded: []Unrecorded{
			{Target: ENITarget("cache"), ENIID: "eni-cache1", IPs: addrs("172.16.0.150")},
			{Target: InstanceTarget("web-1"), ENIID: "eni-pweb1", IPs: addrs("172.16.0.77"), Pruned: true},
		},
		Notes:       []string{"instance type ecs.g7.large: the cloud reports 3 ENIs and 6 addresses per ENI, ecsnet's table says 3 and 10; the cloud's figures rule (add limits.instanceTypes to the file to match)"},
		Fingerprint: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Touched:     11,
		TouchedDigest: TouchedDigest([]string{"eni-cache1", "eni-db1", "eni-old1", "eni-pool1", "eni-pweb1", "eni-spare1", "eni-stby1", "eni-vip1",
			"i-lb1", "i-lb2", "i-web1"}),
	}
}

func formatEmptyPlan() *Plan {
	return &Plan{Fleet: "shop-prod", Region: "cn-hangzhou",
		Fingerprint: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Touched: 1, TouchedDigest: TouchedDigest([]string{"i-web1"})}
}

// renderTwice runs a rendering twice and fails unless both give the same bytes.
func renderTwice(t *testing.T, f func(*bytes.Buffer) error) []byte {
	t.Helper()
	var a, b bytes.Buffer
	if err := f(&a); err != nil {
		t.Fatal(err)
	}
	if err := f(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("two renderings of the same plan differ:\n%s", cmp.Diff(a.String(), b.String()))
	}
	return a.Bytes()
}

func renderJSON(t *testing.T, p *Plan) []byte {
	t.Helper()
	return renderTwice(t, func(b *bytes.Buffer) error { return WriteJSON(b, p) })
}

func renderText(t *testing.T, p *Plan, opts TextOptions) []byte {
	t.Helper()
	return renderTwice(t, func(b *bytes.Buffer) error { return WriteText(b, p, opts) })
}

func renderMarkdown(t *testing.T, p *Plan, opts MarkdownOptions) []byte {
	t.Helper()
	return renderTwice(t, func(b *bytes.Buffer) error { return WriteMarkdown(b, p, opts) })
}

func TestFormatGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		plan func() *Plan
	}{
		{"sample", formatSamplePlan},
		{"empty", formatEmptyPlan},
		{"v6", formatV6Plan},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.plan()
			golden.Check(t, "testdata/format_"+tc.name+"_json.golden", renderJSON(t, p))
			golden.Check(t, "testdata/format_"+tc.name+"_text.golden", renderText(t, p, TextOptions{}))
			golden.Check(t, "testdata/format_"+tc.name+"_markdown.golden", renderMarkdown(t, p, MarkdownOptions{}))
		})
	}
}

func TestFormatSampleCoversEveryAction(t *testing.T) {
	p := formatSamplePlan()
	for _, a := range Actions() {
		if a.Host() {
			continue // the hosts sample has them: TestWithHostsFormats
		}
		found := false
		for _, s := range append(slices.Clone(p.Steps), formatV6Plan().Steps...) { // the v6 sample has issue 17's
			found = found || s.Action == a
		}
		if !found {
			t.Errorf("the sample plan has no %s step", a)
		}
	}
	d := newPlanDoc(p)
	var got []string
	for _, c := range d.ResourceChanges {
		got = append(got, c.Address+" "+strings.Join(c.Actions, ","))
	}
	want := []string{
		"eni/api create", "eni/cache update", "eni/db move", "eni/float create", "eni/old@eni-old1 delete",
		"eni/pool update", "eni/spare update", "eni/standby update", "eni/vip delete,create", "instance/web-1 update",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resource changes (-want +got):\n%s", diff)
	}
	if want := (summaryDoc{Create: 3, Change: 6, Destroy: 2, Steps: 19}); d.Summary != want {
		t.Errorf("summary %+v, want %+v", d.Summary, want)
	}
}

func TestTextSummaryLine(t *testing.T) {
	for _, tc := range []struct {
		plan *Plan
		want string
	}{
		{formatSamplePlan(), "Plan: 3 to create, 6 to change, 2 to destroy.\n"},
		{formatEmptyPlan(), "No changes. The cloud matches the desired state.\n"},
	} {
		out := string(renderText(t, tc.plan, TextOptions{}))
		if !strings.HasSuffix(out, "\n\n"+tc.want) {
			t.Errorf("text does not end with %q:\n%s", tc.want, out)
		}
	}
}

var formatANSI = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestTextColor checks that colour only adds escape codes, and only when
// asked.
func TestTextColor(t *testing.T) {
	p := formatSamplePlan()
	plain := renderText(t, p, TextOptions{})
	color := renderText(t, p, TextOptions{Color: true})
	if formatANSI.Match(plain) {
		t.Error("plain text has ANSI escape codes")
	}
	if !formatANSI.Match(color) {
		t.Fatal("coloured text has no ANSI escape codes")
	}
	if stripped := formatANSI.ReplaceAll(color, nil); !bytes.Equal(stripped, plain) {
		t.Errorf("coloured text without its escape codes differs from plain text:\n%s", cmp.Diff(string(plain), string(stripped)))
	}
}

var addrComparer = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func TestJSONRoundTrip(t *testing.T) {
	for name, p := range map[string]*Plan{"sample": formatSamplePlan(), "empty": formatEmptyPlan(), "big": formatBigPlan(2000)} {
		t.Run(name, func(t *testing.T) {
			first := renderJSON(t, p)
			back, err := ReadJSON(bytes.NewReader(first))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(p, back, addrComparer); diff != "" {
				t.Errorf("ReadJSON(WriteJSON(p)) differs from p (-want +got):\n%s", diff)
			}
			if second := renderJSON(t, back); !bytes.Equal(first, second) {
				t.Errorf("WriteJSON(ReadJSON(WriteJSON(p))) differs:\n%s", cmp.Diff(string(first), string(second)))
			}
			// `ecsnet show` renders the saved plan as plan did.
			if a, b := renderText(t, p, TextOptions{}), renderText(t, back, TextOptions{}); !bytes.Equal(a, b) {
				t.Errorf("text of the read plan differs:\n%s", cmp.Diff(string(a), string(b)))
			}
			if a, b := renderMarkdown(t, p, MarkdownOptions{}), renderMarkdown(t, back, MarkdownOptions{}); !bytes.Equal(a, b) {
				t.Errorf("markdown of the read plan differs:\n%s", cmp.Diff(string(a), string(b)))
			}
		})
	}
}

func TestJSONReadStrict(t *testing.T) {
	good := string(renderJSON(t, formatSamplePlan()))
	replace := func(old, new string) string {
		t.Helper()
		if !strings.Contains(good, old) {
			t.Fatalf("the sample JSON has no %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"not json", "plan", "not a JSON object"},
		{"trailing data", good + "{}", "trailing data"},
		{"no version", replace(`"format_version": "2",`, ""), `no "format_version"`},
		{"other version", replace(`"format_version": "2"`, `"format_version": "3"`), `format_version "3" is not supported`},
		{"numeric version", replace(`"format_version": "2"`, `"format_version": 2`), `format_version 2 is not supported`},
		{"version 1 with version 2's fields", replace(`"format_version": "2"`, `"format_version": "1"`), `unknown field "touched_count"`},
		{"unknown field", replace(`"fleet": "shop-prod",`, `"fleet": "shop-prod", "colour": "red",`), `unknown field "colour"`},
		{"unknown step field", replace(`"id": "unassign eni/pool",`, `"id": "unassign eni/pool", "retries": 3,`), `unknown field "retries"`},
		{"unknown action", replace(`"action": "modify"`, `"action": "reboot"`), `step "modify eni/cache": unknown action "reboot"`},
		{"no fingerprint", replace(`"fingerprint": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"`, `"fingerprint": ""`), `no "fingerprint"`},
		{"repeated id", replace(`"id": "unassign instance/web-1"`, `"id": "unassign eni/pool"`), `step "unassign eni/pool" appears twice`},
		{"no id", replace(`"id": "unassign eni/pool"`, `"id": ""`), `steps[0]: no id`},
		{"dependency later", replace(`"depends_on": [
        "detach eni/old@eni-old1"
      ]`, `"depends_on": [
        "attach eni/vip"
      ]`), `step "delete eni/old@eni-old1" depends on "attach eni/vip", which does not come before it`},
		{"create without spec", replace(`"action": "create",
      "target": "eni/api"`, `"action": "attach",
      "target": "eni/api"`), `step "create eni/api": a create step, and only a create step, carries "create"`},
		{"edited summary", replace(`"destroy": 2,`, `"destroy": 0,`), "summary {Create:3 Change:6 Destroy:0 Steps:19} does not match the steps"},
		{"edited change", replace(`"delete",
        "create"`, `"update"`), "resource_changes do not match the steps"},
		{"bad address", replace(`"172.16.0.59"`, `"172.16.0.259"`), "ParseAddr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadJSON error %v, want one containing %q", err, tc.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "read plan: ") {
				t.Errorf("error %q does not start with \"read plan: \"", err)
			}
		})
	}
}

// formatBigPlan is a synthetic plan with n steps (n a multiple of 20):
// per 20 steps, five ENIs are created and attached to instances of their
// own (15 steps), one primary ENI's addresses change (2 steps), one ENI
// is removed (2 steps) and one is modified (1 step).
func formatBigPlan(n int) *Plan {
	p := &Plan{Fleet: "big", Region: "cn-hangzhou", Fingerprint: strings.Repeat("ab", 32)}
	add := func(s *Step) { p.Steps = append(p.Steps, s) }
	for k := 0; k < n/20; k++ {
		for j := range 5 {
			e, inst := fmt.Sprintf("e%05d-%d", k, j), fmt.Sprintf("web-%05d", 5*k+j)
			target := ENITarget(e)
			add(&Step{ID: "create " + target.String(), Action: CreateENI, Target: target, ENI: e,
				Create: &CreateSpec{VSwitchID: "vsw-a1", SecurityGroupIDs: []string{"sg-web1"}, Count: 10, Name: e,
					Description: "synthetic ENI with a description of some length", Tags: map[string]string{TagFleet: "big", TagENI: e}},
				Token: "ecsnet-" + strings.Repeat("0", 40), Reason: "not in the cloud yet"})
			add(&Step{ID: "attach " + target.String(), Action: AttachENI, Target: target, ENI: e, Instance: inst, InstanceID: "i-" + inst,
				DependsOn: []string{"create " + target.String()}, Reason: "attachTo " + inst})
			add(&Step{ID: "assign " + target.String(), Action: AssignIPs, Target: target, ENI: e, Count: 5,
				DependsOn: []string{"attach " + target.String(), "create " + target.String()}, Token: "ecsnet-" + strings.Repeat("1", 40),
				Reason: "more addresses than CreateNetworkInterface takes (10)"})
		}
		inst := fmt.Sprintf("db-%05d", k)
		primary := InstanceTarget(inst)
		a := netip.AddrFrom4([4]byte{10, byte(k >> 8), byte(k), 10})
		add(&Step{ID: "unassign " + primary.String(), Action: UnassignIPs, Target: primary, ENIID: "eni-p" + inst, Instance: inst, InstanceID: "i-" + inst,
			IPs: []netip.Addr{a}, Reason: "no longer in the desired state"})
		add(&Step{ID: "assign " + primary.String(), Action: AssignIPs, Target: primary, ENIID: "eni-p" + inst, Instance: inst, InstanceID: "i-" + inst,
			IPs: []netip.Addr{a.Next()}, DependsOn: []string{"unassign " + primary.String()}, Token: "ecsnet-" + strings.Repeat("2", 40),
			Reason: "pinned addresses missing"})
		old := fmt.Sprintf("old%05d", k)
		removed := RemovedENITarget(old, "eni-"+old)
		add(&Step{ID: "detach " + removed.String(), Action: DetachENI, Target: removed, ENI: old, ENIID: "eni-" + old, Instance: inst, InstanceID: "i-" + inst,
			Destroys: true, Reason: "no longer in the desired state"})
		add(&Step{ID: "delete " + removed.String(), Action: DeleteENI, Target: removed, ENI: old, ENIID: "eni-" + old,
			DependsOn: []string{"detach " + removed.String()}, Destroys: true, Reason: "no longer in the desired state"})
		mod := fmt.Sprintf("m%05d", k)
		add(&Step{ID: "modify eni/" + mod, Action: ModifyENI, Target: ENITarget(mod), ENI: mod, ENIID: "eni-" + mod,
			Modify: &ModifySpec{SecurityGroupIDs: []string{"sg-web2"}}, Reason: "security groups sg-web1 → sg-web2"})
		p.Touched += 2
	}
	return p
}

var mdCountsRow = regexp.MustCompile(`(?m)^\| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$`)

func TestMarkdownLimit(t *testing.T) {
	const steps = 20000
	p := formatBigPlan(steps)
	md := string(renderMarkdown(t, p, MarkdownOptions{}))
	if len(md) > DefaultMarkdownMaxLen {
		t.Fatalf("markdown is %d bytes, over %d", len(md), DefaultMarkdownMaxLen)
	}
	k := steps / 20
	title := fmt.Sprintf("### ecsnet plan for big (cn-hangzhou): %d to create, %d to change, %d to destroy\n", 5*k, 2*k, k)
	if !strings.HasPrefix(md, title) {
		t.Errorf("markdown does not start with %q:\n%.300s", title, md)
	}
	m := mdCountsRow.FindStringSubmatch(md)
	if want := []string{strconv.Itoa(5 * k), strconv.Itoa(2 * k), strconv.Itoa(k), strconv.Itoa(steps), "0", "0"}; m == nil || !slices.Equal(m[1:], want) {
		t.Errorf("counts row %q, want %q", m, want)
	}
	for _, want := range []string{
		"One line per instance to fit a comment; see the full plan artifact.",
		"more instances; see the full plan artifact\n",
		fmt.Sprintf("**Destroys %d ENIs** (apply needs `--allow-destroy`)", k),
		"- **Removed ENIs**: 1000 to destroy\n",
		"- **Other ENIs (unbound, or on an instance the steps do not name)**: 1000 to change\n",
		"<sub>Fingerprint " + strings.Repeat("ab", 32),
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	checkMarkdownStructure(t, md)

	// With a link to the artifact, the shortened comment links it.
	md = string(renderMarkdown(t, p, MarkdownOptions{ArtifactURL: "https://ci.example/run/7 (plan)"}))
	if !strings.Contains(md, "more instances; see [the full plan artifact](https://ci.example/run/7%20%28plan%29)\n") || len(md) > DefaultMarkdownMaxLen {
		t.Errorf("shortened comment with an artifact URL (%d bytes) lacks the link:\n%s", len(md), md[len(md)-400:])
	}
}

// TestMarkdownShortening walks the sample plan down every level of
// shortening by lowering the limit.
func TestMarkdownShortening(t *testing.T) {
	p := formatSamplePlan()
	full := string(renderMarkdown(t, p, MarkdownOptions{}))
	if !strings.Contains(full, "Steps, in order:") || strings.Contains(full, "to fit a comment") {
		t.Fatalf("the sample's full comment is shortened:\n%s", full)
	}
	noSteps := string(renderMarkdown(t, p, MarkdownOptions{MaxLen: len(full) - 1}))
	if strings.Contains(noSteps, "Steps, in order:") || !strings.Contains(noSteps, "The steps are left out to fit a comment") ||
		!strings.Contains(noSteps, "<details>") {
		t.Errorf("limit %d: want the blocks without the steps:\n%s", len(full)-1, noSteps)
	}
	oneLine := string(renderMarkdown(t, p, MarkdownOptions{MaxLen: len(noSteps) - 1}))
	if strings.Contains(oneLine, "<details>") || !strings.Contains(oneLine, "- **web-1 (i-web1)**: 2 to create, 1 to change, 1 to destroy\n") {
		t.Errorf("limit %d: want one line per group:\n%s", len(noSteps)-1, oneLine)
	}
	cut := string(renderMarkdown(t, p, MarkdownOptions{MaxLen: len(oneLine) - 1}))
	if !strings.Contains(cut, "- … 1 more instance; see the full plan artifact\n") {
		t.Errorf("limit %d: want the last instance left out:\n%s", len(oneLine)-1, cut)
	}
	for _, s := range []string{full, noSteps, oneLine, cut} {
		checkMarkdownStructure(t, s)
	}
	for _, limit := range []int{1, 50, 200, 400, 800} {
		if s := renderMarkdown(t, p, MarkdownOptions{MaxLen: limit}); len(s) > limit {
			t.Errorf("limit %d: %d bytes", limit, len(s))
		}
	}
}

// formatHostile is text that would break out of a code fence, a <details>
// block, a table or a line, or inject HTML or markup.
const formatHostile = "x`y ``` ~~~\n```\n</details></summary><script>alert(1)</script> | a | *b* _c_ [d](e) <img src=x onerror=alert(2)> \\ \r\u202e"

func TestMarkdownHostile(t *testing.T) {
	p := formatSamplePlan()
	for _, s := range p.Steps {
		if s.Create != nil {
			s.Create.Description = formatHostile
		}
		s.Reason = formatHostile
	}
	p.Step("modify eni/cache").Modify.Description = new(formatHostile)
	p.Unmanaged[0].Name = formatHostile
	p.Notes = append(p.Notes, formatHostile)
	// Names and IDs are checked by schema, but a saved plan can be edited.
	p.Unmanaged[1].ID = "eni-</details>"
	p.Step("attach eni/api").Instance = "<b>web</b>|`1`"
	p.Step("attach eni/vip").Instance = "<b>web</b>|`1`"
	p.Unrecorded[0].Target = ENITarget("<i>cache</i>")

	md := string(renderMarkdown(t, p, MarkdownOptions{}))
	checkMarkdownStructure(t, md)
	for _, want := range []string{
		`+       description        = "x` + "`y ``` ~~~\\n```\\n</details></summary><script>alert(1)</script> | a | *b* _c_ [d](e) <img src=x onerror=alert(2)> \\\\ \\r\\u202e\"",
		"<details><summary><b>&#60;b&#62;web&#60;/b&#62;&#124;&#96;1&#96; (i-web1)</b>: 2 to create, 1 to destroy</summary>",
		"- eni-legacy1 \"x&#96;y &#96;&#96;&#96; &#126;&#126;&#126;&#92;n&#96;&#96;&#96;&#92;n&#60;/details&#62;",
		"- eni-&#60;/details&#62;, unbound: 172.16.1.5\n",
		"\n````diff\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	// Each shortened form is as safe.
	for _, limit := range []int{len(md) - 1, 9000, 5000, 3000} {
		checkMarkdownStructure(t, string(renderMarkdown(t, p, MarkdownOptions{MaxLen: limit})))
	}
	text := string(renderText(t, p, TextOptions{}))
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " "), "```") || strings.ContainsAny(l, "\r\u202e") {
			t.Errorf("text line %q starts a fence or carries a control character", l)
		}
	}
}

var mdHTMLTag = regexp.MustCompile(`<[^>]*>`)

// checkMarkdownStructure reads md as CommonMark would for what matters here:
// fences open and close where the renderer put them, <details> blocks
// balance outside fences, and outside fences the only HTML is the
// renderer's own tags, each line of it on one line.
func checkMarkdownStructure(t *testing.T, md string) {
	t.Helper()
	allowed := map[string]bool{"<details>": true, "</details>": true, "<summary>": true, "</summary>": true,
		"<b>": true, "</b>": true, "<sub>": true, "</sub>": true}
	fence := ""
	open := 0
	lines := strings.Split(md, "\n")
	for i, l := range lines {
		trimmed := strings.TrimLeft(l, " ")
		indent := len(l) - len(trimmed)
		ticks := len(trimmed) - len(strings.TrimLeft(trimmed, "`"))
		if fence != "" {
			if indent <= 3 && ticks >= len(fence) && strings.TrimSpace(trimmed[ticks:]) == "" {
				fence = ""
			}
			continue
		}
		if indent <= 3 && ticks >= 3 && !strings.Contains(trimmed[ticks:], "`") {
			fence = trimmed[:ticks]
			if open == 0 {
				t.Errorf("line %d: a code fence outside <details>: %q", i+1, l)
			}
			continue
		}
		if strings.HasPrefix(trimmed, "~~~") {
			t.Errorf("line %d: a tilde fence: %q", i+1, l)
		}
		for _, tag := range mdHTMLTag.FindAllString(l, -1) {
			if !allowed[tag] {
				t.Errorf("line %d: HTML %q outside a code fence: %q", i+1, tag, l)
			}
		}
		open += strings.Count(l, "<details>") - strings.Count(l, "</details>")
		if open < 0 || open > 1 {
			t.Fatalf("line %d: <details> nesting %d: %q", i+1, open, l)
		}
		if strings.Contains(l, "<details>") && !strings.HasPrefix(l, "<details><summary>") {
			t.Errorf("line %d: <details> not at the start of a line: %q", i+1, l)
		}
	}
	if fence != "" {
		t.Errorf("a code fence %q is left open", fence)
	}
	if open != 0 {
		t.Errorf("%d <details> left open", open)
	}
}

// TestFormatComputedPlans renders plans that Compute makes from the example
// fleet: the views agree with the steps, a saved plan reads back to the
// same bytes, and a vSwitch change reads as one replacement.
func TestFormatComputedPlans(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)
	plans := map[string]*Plan{
		"scratch":  compute(t, f, bare(f), nil, Options{}),
		"failover": compute(t, edit(t, "", `attachTo: "lb-1"`, `attachTo: "lb-2"`), o, l, Options{}),
		"replace":  compute(t, editSpare(t), o, l, Options{}),
		"removal":  compute(t, edit(t, "", `"cache-1-data": {`, `"cache-1-data-gone": {`), o, l, Options{}),
		"none":     compute(t, f, o, l, Options{}),
	}
	for name, p := range plans {
		t.Run(name, func(t *testing.T) {
			data := renderJSON(t, p)
			back, err := ReadJSON(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if again := renderJSON(t, back); !bytes.Equal(data, again) {
				t.Errorf("the saved plan does not read back to the same bytes:\n%s", cmp.Diff(string(data), string(again)))
			}
			d := newPlanDoc(p)
			steps := 0
			for _, c := range d.ResourceChanges {
				steps += len(c.Steps)
			}
			if steps != len(p.Steps) {
				t.Errorf("the resource changes hold %d steps, the plan %d", steps, len(p.Steps))
			}
			text := string(renderText(t, p, TextOptions{}))
			if !strings.HasSuffix(text, "\n"+d.summaryLine()+"\n") {
				t.Errorf("text does not end with %q", d.summaryLine())
			}
			checkMarkdownStructure(t, string(renderMarkdown(t, p, MarkdownOptions{})))
		})
	}
	d := newPlanDoc(plans["replace"])
	if len(d.ResourceChanges) != 1 || !slices.Equal(d.ResourceChanges[0].Actions, []string{"delete", "create"}) ||
		d.ResourceChanges[0].Address != "eni/spare-1" || d.Summary != (summaryDoc{Create: 1, Destroy: 1, Steps: 2}) {
		t.Errorf("a vSwitch change is not one replacement: %+v", d.ResourceChanges)
	}
	d = newPlanDoc(plans["failover"])
	if len(d.ResourceChanges) != 1 || !slices.Equal(d.ResourceChanges[0].Actions, []string{"move"}) ||
		d.ResourceChanges[0].PreviousInstance != "lb-1" || d.ResourceChanges[0].Instance != "lb-2" {
		t.Errorf("a failover is not one move: %+v", d.ResourceChanges)
	}
}
