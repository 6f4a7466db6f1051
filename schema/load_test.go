package schema

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	_ "github.com/ecsnet/ecsnet/internal/golden"
)

const example = "../fixtures/example/fleet.cue"

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustLoad(t *testing.T, paths ...string) *Fleet {
	t.Helper()
	f, err := Load(paths, LoadOptions{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return f
}

func loadErrs(t *testing.T, paths ...string) Errors {
	t.Helper()
	_, err := Load(paths, LoadOptions{})
	if err == nil {
		t.Fatalf("Load accepted %v", paths)
	}
	es, ok := err.(Errors)
	if !ok {
		t.Fatalf("Load returned %T, want Errors: %v", err, err)
	}
	return es
}

func TestExample(t *testing.T) {
	f := mustLoad(t, example)
	if f.Name != "shop-prod" || f.Region != "cn-hangzhou" || len(f.Instances) != 10 || len(f.ENIs) != 10 {
		t.Fatalf("unexpected fleet: %s %s %d instances %d ENIs", f.Name, f.Region, len(f.Instances), len(f.ENIs))
	}
	lb := f.Instance("lb-1")
	if lb == nil || lb.OS != "debian12" || lb.Network != StackIfupdown || f.Zone(lb) != "cn-hangzhou-h" {
		t.Fatalf("lb-1: %+v", lb)
	}
	if got := f.Instance("cache-1").Network; got != StackNetworkd {
		t.Errorf("cache-1 network %q, want the networkd override", got)
	}
	vip := f.ENI("vip")
	if vip.AttachTo != "lb-1" || vip.PrimaryIP != netip.MustParseAddr("172.16.0.100") || len(vip.Pinned) != 2 {
		t.Errorf("vip: %+v", vip)
	}
	if vip.Pinned[0].Pos.Line == 0 || !strings.HasSuffix(vip.Pinned[0].Pos.File, "fleet.cue") {
		t.Errorf("address position not kept: %+v", vip.Pinned[0].Pos)
	}
	if got := len(f.AttachedTo("lb-1")); got != 1 {
		t.Errorf("lb-1 has %d ENIs attached, want 1", got)
	}
	pool := f.ENI("api-1-pool")
	if !pool.Counted || pool.N() != 12 {
		t.Errorf("api-1-pool: %+v", pool.Secondaries)
	}
	// Lists are sorted by name.
	for i := 1; i < len(f.Instances); i++ {
		if f.Instances[i-1].Name >= f.Instances[i].Name {
			t.Errorf("instances not sorted: %s before %s", f.Instances[i-1].Name, f.Instances[i].Name)
		}
	}
}

// The same fleet in JSON, YAML and CUE decodes to the same model.
func TestSyntaxesAgree(t *testing.T) {
	dir := t.TempDir()
	j := write(t, dir, "f.json", `{"fleet": "f1", "region": "cn-hangzhou",
 "vswitches": {"app-h": {"id": "vsw-bp1app0000h", "zone": "cn-hangzhou-h", "cidr": "10.0.0.0/24"}},
 "securityGroups": {"web": {"id": "sg-bp1web000001"}},
 "instances": {"web-1": {"id": "i-bp1web000001", "type": "ecs.g7.large", "os": "rocky9",
   "primary": {"vswitch": "app-h", "ip": "10.0.0.5", "secondaryIps": ["10.0.0.6"]}}},
 "enis": {"e-one": {"vswitch": "app-h", "securityGroups": ["web"], "secondaryIpCount": 2, "attachTo": "web-1"}},
 "limits": {"unboundEniMaxSecondaryIps": 20}}`)
	y := write(t, dir, "f.yaml", `fleet: f1
region: cn-hangzhou
vswitches:
  app-h: {id: vsw-bp1app0000h, zone: cn-hangzhou-h, cidr: 10.0.0.0/24}
securityGroups:
  web: {id: sg-bp1web000001}
instances:
  web-1:
    id: i-bp1web000001
    type: ecs.g7.large
    os: rocky9
    primary: {vswitch: app-h, ip: 10.0.0.5, secondaryIps: [10.0.0.6]}
enis:
  e-one: {vswitch: app-h, securityGroups: [web], secondaryIpCount: 2, attachTo: web-1}
limits: {unboundEniMaxSecondaryIps: 20}
`)
	c := write(t, dir, "f.cue", `import "strings"
_zone: "cn-hangzhou-h"
fleet: strings.ToLower("F1")
region: "cn-hangzhou"
vswitches: "app-h": {id: "vsw-bp1app0000h", zone: _zone, cidr: "10.0.0.0/24"}
securityGroups: web: id: "sg-bp1web000001"
instances: [Name=string]: {id: "i-bp1\(strings.Replace(Name, "-1", "", -1))000001", type: "ecs.g7.large"}
instances: "web-1": {os: "rocky9", primary: {vswitch: "app-h", ip: "10.0.0.5", secondaryIps: ["10.0.0.6"]}}
enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], secondaryIpCount: 1 + 1, attachTo: "web-1"}
limits: unboundEniMaxSecondaryIps: 20
`)
	norm := func(f *Fleet) *Fleet {
		// Positions and file names differ by syntax; compare the content.
		g := *f
		g.Files = nil
		return &g
	}
	opts := cmp.Options{
		cmp.AllowUnexported(Fleet{}, Limits{}),
		cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
		cmp.Comparer(func(a, b Pos) bool { return true }),
	}
	fj, fy, fc := mustLoad(t, j), mustLoad(t, y), mustLoad(t, c)
	if d := cmp.Diff(norm(fj), norm(fy), opts); d != "" {
		t.Errorf("JSON and YAML differ (-json +yaml):\n%s", d)
	}
	if d := cmp.Diff(norm(fj), norm(fc), opts); d != "" {
		t.Errorf("JSON and CUE differ (-json +cue):\n%s", d)
	}
	if fj.Limits.UnboundENIMaxSecondaryIPs != 20 || fj.Limits.SecurityGroupMaxIPs != DefaultSecurityGroupMaxIPs {
		t.Errorf("limits: %+v", fj.Limits)
	}
}

func TestSplitAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.cue", `fleet: "f1"
region: "cn-hangzhou"
vswitches: "app-h": {id: "vsw-bp1app0000h", zone: "cn-hangzhou-h", cidr: "10.0.0.0/24"}
instances: "web-1": {id: "i-bp1web000001", type: "ecs.g7.large"}
`)
	write(t, dir, "b.json", `{"instances": {"web-1": {"os": "linux", "primary": {"vswitch": "app-h", "ip": "10.0.0.5"}}}}`)
	write(t, dir, LockFileName, `{"not": "a fleet"}`)
	write(t, dir, ".hidden.cue", `fleet: "other"`)
	f := mustLoad(t, dir)
	if in := f.Instance("web-1"); in == nil || in.OS != "linux" || in.Type != "ecs.g7.large" {
		t.Fatalf("web-1 not merged across files: %+v", in)
	}
	if len(f.Files) != 2 {
		t.Errorf("files %v, want a.cue and b.json only", f.Files)
	}

	// A conflict names both positions.
	write(t, dir, "c.yaml", "region: cn-shanghai\n")
	es := loadErrs(t, dir)
	if len(es) != 1 || !strings.Contains(es[0].Msg, `conflicting values "cn-hangzhou" and "cn-shanghai"`) ||
		es[0].Pos.File != filepath.Join(dir, "c.yaml") || len(es[0].Related) != 1 || es[0].Related[0].Line != 2 {
		t.Errorf("conflict: %v", es)
	}
}

func TestErrorsPointAtTheUsersFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body string
		want       []string // "line:col: substring", in order
	}{
		{"dup.json", "{\"fleet\": \"a\",\n \"fleet\": \"b\"}", []string{"2:2: duplicate key \"fleet\""}},
		{"trunc.json", "{\"fleet\": \"a\",\n \"region\": ", []string{"2:12: invalid JSON: unexpected end of file"}},
		{"comma.json", "{\"fleet\": \"a\",}", []string{"1:15: invalid JSON: unexpected '}', expected a quoted key"}},
		{"zero.json", "{\"fleet\": 0123}", []string{"1:11: invalid JSON: number with a leading zero"}},
		{"ctl.json", "{\"fleet\": \"a\nb\"}", []string{"1:13: invalid JSON: control character"}},
		{"dup.yaml", "fleet: a\nfleet: b\n", []string{"2:1: duplicate key \"fleet\""}},
		{"undefined.cue", "fleet: nope\n", []string{"1:8: reference \"nope\" not found"}},
		{"conflict.cue", "fleet: \"a\"\nfleet: \"b\"\n", []string{"2:8: conflicting values \"a\" and \"b\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, dir, tt.name, tt.body)
			es := loadErrs(t, p)
			if len(es) < len(tt.want) {
				t.Fatalf("got %d errors, want at least %d: %v", len(es), len(tt.want), es)
			}
			for _, w := range tt.want {
				at, msg, _ := strings.Cut(w, " ")
				found := false
				for _, e := range es {
					got := e.Error()
					if strings.HasPrefix(got, p+":"+at) && strings.Contains(got, msg) {
						found = true
					}
				}
				if !found {
					t.Errorf("no error %s:%s among:\n%v", p, w, es)
				}
			}
		})
	}
}

func TestChecks(t *testing.T) {
	base := func(extra string) string {
		return `fleet: "f1"
region: "cn-hangzhou"
vswitches: {
	"app-h": {id: "vsw-bp1app0000h", zone: "cn-hangzhou-h", cidr: "10.0.0.0/24"}
	"app-i": {id: "vsw-bp1app0000i", zone: "cn-hangzhou-i", cidr: "10.0.1.0/24"}
	"tiny-h": {id: "vsw-bp1tiny000h", zone: "cn-hangzhou-h", cidr: "10.0.9.0/29"}
}
securityGroups: web: id: "sg-bp1web000001"
instances: "web-1": {id: "i-bp1web000001", type: "ecs.g7.large", os: "linux", primary: {vswitch: "app-h", ip: "10.0.0.5"}}
` + extra
	}
	tests := []struct {
		name, extra string
		want        string // substring of the only error
		fleetWide   bool
	}{
		{"reserved network", `instances: "web-1": primary: secondaryIps: ["10.0.0.0"]`, "10.0.0.0 is reserved", false},
		{"reserved gateway", `instances: "web-1": primary: secondaryIps: ["10.0.0.253"]`, "10.0.0.253 is reserved", false},
		{"reserved broadcast", `instances: "web-1": primary: secondaryIps: ["10.0.0.255"]`, "10.0.0.255 is reserved", false},
		{"outside", `instances: "web-1": primary: secondaryIps: ["10.0.1.9"]`, `10.0.1.9 is outside vSwitch "app-h"`, false},
		{"first usable is fine", `instances: "web-1": primary: secondaryIps: ["10.0.0.1", "10.0.0.252"]`, "", false},
		{"duplicate primary", `instances: "web-2": {id: "i-bp1web000002", type: "ecs.g7.large", os: "linux", primary: {vswitch: "app-h", ip: "10.0.0.5"}}`, "10.0.0.5 is already used at", true},
		{"duplicate id", `instances: "web-2": {id: "i-bp1web000001", type: "ecs.g7.large", os: "linux", primary: {vswitch: "app-h", ip: "10.0.0.6"}}`, "instance ID i-bp1web000001 is also used", true},
		{"type quota", `instances: "web-1": primary: secondaryIpCount: 6`, "the primary ENI would carry 7 private addresses; instance type ecs.g7.large allows 6", false},
		{"type quota ok", `instances: "web-1": primary: secondaryIpCount: 5`, "", false},
		{"override type", `limits: instanceTypes: "ecs.g7.large": {maxEnis: 3, maxIpsPerEni: 8}
instances: "web-1": primary: secondaryIpCount: 7`, "", false},
		{"unknown type", `instances: "web-2": {id: "i-bp1web000002", type: "ecs.zz9.large", os: "linux", primary: {vswitch: "app-h", ip: "10.0.0.6"}}`, `instance type "ecs.zz9.large" is not in ecsnet's table`, false},
		{"unbound cap", `limits: unboundEniMaxSecondaryIps: 10
enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], secondaryIpCount: 11}`, "an unbound ENI can carry at most 10 secondary addresses, this one wants 11", false},
		{"unbound cap by default", `enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], secondaryIpCount: 49}`, "", false},
		{"unbound cap raised", `limits: unboundEniMaxSecondaryIps: 11
enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], secondaryIpCount: 11}`, "", false},
		{"zone", `enis: "e-one": {vswitch: "app-i", securityGroups: ["web"], attachTo: "web-1"}`, `vSwitch "app-i" is in zone cn-hangzhou-i but instance "web-1" is in zone cn-hangzhou-h`, false},
		{"enis per instance", `enis: {for n in ["e-one", "e-two", "e-three"] {(n): {vswitch: "app-h", securityGroups: ["web"], attachTo: "web-1"}}}`, `3 secondary); ecs.g7.large allows 3`, true},
		{"group total", `limits: securityGroupMaxIps: 5
instances: "web-1": primary: securityGroups: ["web"]
enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], secondaryIpCount: 4}`, `security group "web" would hold 6 private addresses; the limit is 5`, true},
		{"capacity", `enis: {for n in ["e-one", "e-two", "e-three", "e-four", "e-five"] {(n): {vswitch: "tiny-h", securityGroups: ["web"]}}}`, `the fleet wants 5 addresses in vSwitch "tiny-h" but 10.0.9.0/29 has 4 usable`, true},
		{"unknown sg", `enis: "e-one": {vswitch: "app-h", securityGroups: ["wbe"]}`, `security group "wbe" is not defined in securityGroups`, false},
		{"unknown instance", `enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], attachTo: "web-9"}`, `instance "web-9" is not defined in instances`, false},
		{"zone of region", `vswitches: "app-x": {id: "vsw-bp1app0000x", zone: "cn-shanghai-b", cidr: "10.0.2.0/24"}`, `zone "cn-shanghai-b" is not a zone of region "cn-hangzhou"`, false},
		{"windows stack on linux", `instances: "web-1": network: "windows"`, `network "windows" does not fit os "linux"`, false},
		{"description url", `enis: "e-one": {vswitch: "app-h", securityGroups: ["web"], description: "https://x"}`, "description starts with a URL scheme", false},
		{"host bits", `vswitches: "app-x": {id: "vsw-bp1app0000x", zone: "cn-hangzhou-b", cidr: "10.0.2.1/24"}`, `"10.0.2.1/24" has host bits set`, false},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, dir, strings.ReplaceAll(tt.name, " ", "-")+".cue", base(tt.extra))
			_, err := Load([]string{p}, LoadOptions{})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			es, ok := err.(Errors)
			if !ok || len(es) != 1 {
				t.Fatalf("want one error containing %q, got %v", tt.want, err)
			}
			if !strings.Contains(es[0].Msg, tt.want) {
				t.Errorf("error %q does not contain %q", es[0].Msg, tt.want)
			}
			if es[0].FleetWide != tt.fleetWide {
				t.Errorf("FleetWide = %v, want %v", es[0].FleetWide, tt.fleetWide)
			}
			if es[0].Hint == "" || !es[0].Pos.IsValid() || es[0].Pos.File != p {
				t.Errorf("error lacks a hint or a position in %s: %+v", p, es[0])
			}
		})
	}
}

func TestGateway(t *testing.T) {
	for _, tt := range []struct{ cidr, gw string }{
		{"172.16.0.0/24", "172.16.0.253"},
		{"10.0.112.0/20", "10.0.127.253"},
		{"10.0.0.0/18", "10.0.63.253"},
	} {
		v := &VSwitch{CIDR: netip.MustParsePrefix(tt.cidr)}
		if got := v.Gateway().String(); got != tt.gw {
			t.Errorf("%s gateway %s, want %s", tt.cidr, got, tt.gw)
		}
	}
	if got := (&VSwitch{CIDR: netip.MustParsePrefix("10.0.0.0/24")}).Usable(); got != 252 {
		t.Errorf("usable in /24 = %d, want 252", got)
	}
}

func TestBuiltinTableSorted(t *testing.T) {
	ts := BuiltinInstanceTypes()
	if len(ts) < 30 {
		t.Errorf("%d instance types, want at least 30", len(ts))
	}
	for i, ty := range ts {
		if i > 0 && ts[i-1].Name >= ty.Name {
			t.Errorf("table not sorted or duplicate at %s", ty.Name)
		}
		if ty.MaxENIs < 1 || ty.MaxIPsPerENI < 1 {
			t.Errorf("%s: impossible quotas %+v", ty.Name, ty)
		}
		if got, ok := BuiltinInstanceType(ty.Name); !ok || got != ty {
			t.Errorf("lookup %s = %+v, %v", ty.Name, got, ok)
		}
	}
}

func TestSizeCap(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "big.json", `{"fleet": "`+strings.Repeat("a", 2000)+`"}`)
	_, err := Load([]string{p}, LoadOptions{MaxInputBytes: 1000})
	if err == nil || !strings.Contains(err.Error(), "larger than the 1000 bytes cap") {
		t.Fatalf("err = %v", err)
	}
}

func TestStdin(t *testing.T) {
	body, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Load([]string{"-"}, LoadOptions{Stdin: strings.NewReader(string(body))})
	if err != nil || f.Name != "shop-prod" {
		t.Fatalf("stdin: %v", err)
	}
}
