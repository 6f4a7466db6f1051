package schema

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// The same two-host fleet with a floating ENI, in each syntax, with
// comments where the syntax has them: a splice must keep them.
const (
	spliceCUE = `// two hosts and a VIP
fleet:  "f1"
region: "cn-hangzhou"
vswitches: "app-h": {id: "vsw-bp1app0000h", zone: "cn-hangzhou-h", cidr: "10.0.0.0/24"}
securityGroups: web: id: "sg-bp1web000001"
instances: {
	"web-1": {id: "i-bp1web000001", type: "ecs.g7.large", os: "debian12", primary: {vswitch: "app-h", ip: "10.0.0.5"}}
	"web-2": {id: "i-bp1web000002", type: "ecs.g7.large", os: "debian12", primary: {vswitch: "app-h", ip: "10.0.0.6"}}
}
enis: vip: {
	vswitch:        "app-h"
	securityGroups: ["web"]
	secondaryIps: ["10.0.0.100"]
	attachTo:       "web-1" // the active host
}
`
	spliceYAML = `# two hosts and a VIP
fleet: f1
region: cn-hangzhou
vswitches:
  app-h: {id: vsw-bp1app0000h, zone: cn-hangzhou-h, cidr: 10.0.0.0/24}
securityGroups:
  web: {id: sg-bp1web000001}
instances:
  web-1:
    id: i-bp1web000001
    type: ecs.g7.large
    os: debian12
    primary: {vswitch: app-h, ip: 10.0.0.5}
  web-2:
    id: i-bp1web000002
    type: ecs.g7.large
    os: debian12
    primary: {vswitch: app-h, ip: 10.0.0.6}
enis:
  vip:
    vswitch: app-h
    securityGroups: [web]
    secondaryIps: [10.0.0.100]
    attachTo: web-1   # the active host
`
	spliceJSON = `{
  "fleet": "f1",
  "region": "cn-hangzhou",
  "vswitches": {"app-h": {"id": "vsw-bp1app0000h", "zone": "cn-hangzhou-h", "cidr": "10.0.0.0/24"}},
  "securityGroups": {"web": {"id": "sg-bp1web000001"}},
  "instances": {
    "web-1": {"id": "i-bp1web000001", "type": "ecs.g7.large", "os": "debian12", "primary": {"vswitch": "app-h", "ip": "10.0.0.5"}},
    "web-2": {"id": "i-bp1web000002", "type": "ecs.g7.large", "os": "debian12", "primary": {"vswitch": "app-h", "ip": "10.0.0.6"}}
  },
  "enis": {
    "vip": {"vswitch": "app-h", "securityGroups": ["web"], "secondaryIps": ["10.0.0.100"], "attachTo": "web-1"}
  }
}
`
)

// changedLines returns the lines of a and b that differ, for files of the
// same number of lines.
func changedLines(t *testing.T, a, b []byte) []string {
	t.Helper()
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	if len(la) != len(lb) {
		t.Fatalf("the splice changed the number of lines: %d, then %d", len(la), len(lb))
	}
	var out []string
	for i := range la {
		if la[i] != lb[i] {
			out = append(out, la[i]+" => "+lb[i])
		}
	}
	return out
}

// TestSpliceAttachToRoundTrip: in each syntax, the splice changes the
// attachTo line and nothing else (comments and layout stay), and the
// edited bytes load with the ENI on the new instance.
func TestSpliceAttachToRoundTrip(t *testing.T) {
	example, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, src, eni, to, wantLine string
	}{
		{"cue", "fleet.cue", spliceCUE, "vip", "web-2", `	attachTo:       "web-2" // the active host`},
		{"cue-evaluated", "fleet.cue", strings.Replace(spliceCUE, `zone: "cn-hangzhou-h"`, `zone: _zone`, 1) + "_zone: \"cn-hangzhou-h\"\n", "vip", "web-2", `	attachTo:       "web-2" // the active host`},
		{"yaml", "fleet.yaml", spliceYAML, "vip", "web-2", `    attachTo: web-2   # the active host`},
		{"yaml-single", "fleet.yml", strings.Replace(spliceYAML, "attachTo: web-1", "attachTo: 'web-1'", 1), "vip", "web-2", `    attachTo: 'web-2'   # the active host`},
		{"yaml-double", "fleet.yaml", strings.Replace(spliceYAML, "attachTo: web-1", `attachTo: "web-1"`, 1), "vip", "web-2", `    attachTo: "web-2"   # the active host`},
		{"json", "fleet.json", spliceJSON, "vip", "web-2", `    "vip": {"vswitch": "app-h", "securityGroups": ["web"], "secondaryIps": ["10.0.0.100"], "attachTo": "web-2"}`},
		{"example", "fleet.cue", string(example), "vip", "lb-2", `		attachTo: "lb-2"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := write(t, dir, tc.file, tc.src)
			f := mustLoad(t, p)
			s, err := SpliceAttachTo(f, tc.eni, tc.to)
			if err != nil {
				t.Fatalf("SpliceAttachTo: %v", err)
			}
			if s.File != p || !bytes.Equal(s.Src, []byte(tc.src)) {
				t.Errorf("splice of %s, want %s with its bytes", s.File, p)
			}
			got := changedLines(t, s.Src, s.Out)
			if len(got) != 1 || !strings.HasSuffix(got[0], " => "+tc.wantLine) {
				t.Errorf("changed lines %q, want one, to %q", got, tc.wantLine)
			}
			g, err := LoadSpliced(context.Background(), []string{p}, LoadOptions{}, s)
			if err != nil {
				t.Fatalf("LoadSpliced: %v", err)
			}
			if x := g.ENI(tc.eni); x.AttachTo != tc.to || x.AttachToPos != s.Pos {
				t.Errorf("after the splice: attachTo %q at %s, want %q at %s", x.AttachTo, x.AttachToPos, tc.to, s.Pos)
			}
			if on, _ := os.ReadFile(p); !bytes.Equal(on, []byte(tc.src)) {
				t.Error("SpliceAttachTo or LoadSpliced wrote the file")
			}
		})
	}
}

// TestSpliceAttachToQuotesYAMLWords: a plain YAML scalar that would read
// as a boolean is written quoted.
func TestSpliceAttachToQuotesYAMLWords(t *testing.T) {
	if got := spell("no", stylePlain); got != `"no"` {
		t.Errorf("spell(no) = %s", got)
	}
	if got := spell("web-2", stylePlain); got != `web-2` {
		t.Errorf("spell(web-2) = %s", got)
	}
}

// TestSpliceAttachToRefuses: a value that is not one literal in the
// ENI's own field is refused at its position, and nothing is written.
func TestSpliceAttachToRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, file, src, want string
	}{
		{"cue-reference", "fleet.cue", strings.Replace(spliceCUE, `attachTo:       "web-1"`, `attachTo: _active`, 1) + "_active: \"web-1\"\n", "comes from"},
		{"cue-let", "fleet.cue", strings.Replace(spliceCUE, `attachTo:       "web-1"`, `attachTo: active`, 1) + "let active = \"web-1\"\n", "attachTo"},
		{"cue-default", "fleet.cue", strings.Replace(spliceCUE, `attachTo:       "web-1"`, `attachTo: *"web-1" | "web-2"`, 1), "not one literal"},
		{"cue-definition", "fleet.cue", strings.Replace(spliceCUE, `	attachTo:       "web-1" // the active host
`, "", 1) + "enis: vip: #Active\n#Active: {attachTo: \"web-1\", ...}\n", "comes from"},
		{"cue-pattern", "fleet.cue", strings.Replace(spliceCUE, `	attachTo:       "web-1" // the active host
`, "", 1) + "enis: [string]: attachTo: \"web-1\"\n", "comes from"},
		{"yaml-alias", "fleet.yaml", strings.Replace(spliceYAML, "attachTo: web-1", "attachTo: &active web-1", 1) +
			"  vip2: {vswitch: app-h, securityGroups: [web], secondaryIps: [10.0.0.101], attachTo: *active}\n", "more than one place"},
		{"unbound", "fleet.cue", strings.Replace(spliceCUE, `	attachTo:       "web-1" // the active host
`, "", 1), "unbound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := write(t, dir, tc.file, tc.src)
			f, err := Load([]string{p}, LoadOptions{})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			_, err = SpliceAttachTo(f, "vip", "web-2")
			if err == nil {
				t.Fatal("SpliceAttachTo accepted it")
			}
			es, ok := err.(Errors)
			if !ok || len(es) != 1 || !es[0].Pos.IsValid() || es[0].Pos.File != p {
				t.Fatalf("error %v, want one at a position in %s", err, p)
			}
			t.Logf("%v\n    hint: %s", es[0], es[0].Hint)
			if !strings.Contains(es[0].Msg, tc.want) || es[0].Hint == "" {
				t.Errorf("error %q (hint %q), want it to say %q and give a hint", es[0].Msg, es[0].Hint, tc.want)
			}
			if on, _ := os.ReadFile(p); string(on) != tc.src {
				t.Error("the file changed")
			}
		})
	}
}

// TestLoadSplicedChecks: the edited bytes go through every check, and a
// file changed since the splice was made is refused.
func TestLoadSplicedChecks(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "fleet.json", spliceJSON)
	f := mustLoad(t, p)
	s, err := SpliceAttachTo(f, "vip", "web-9")
	if err != nil {
		t.Fatal(err)
	}
	_, err = LoadSpliced(context.Background(), []string{p}, LoadOptions{}, s)
	es, ok := err.(Errors)
	if !ok || len(es) == 0 || es[0].Pos != s.Pos || !strings.Contains(es[0].Msg, "web-9") {
		t.Fatalf("LoadSpliced of an unknown instance: %v, want the unknown instance at %s", err, s.Pos)
	}
	write(t, dir, "fleet.json", spliceJSON+" ")
	s, _ = SpliceAttachTo(f, "vip", "web-2")
	if s != nil {
		s.Src = []byte(spliceJSON)
		if _, err := LoadSpliced(context.Background(), []string{p}, LoadOptions{}, s); err == nil || !strings.Contains(err.Error(), "changed") {
			t.Errorf("LoadSpliced of a file changed since: %v", err)
		}
	}
}
