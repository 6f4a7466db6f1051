package plan

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// slash25 loads the example fleet with vSwitch data-i written as /25 (the
// cloud has /24), and returns the fleet and the position of that cidr
// value in the file.
func slash25(t *testing.T) (*schema.Fleet, schema.Pos) {
	t.Helper()
	src, err := readExample()
	if err != nil {
		t.Fatal(err)
	}
	const old = `cidr: "172.16.3.0/24"`
	if strings.Count(src, old) != 1 {
		t.Fatalf("the example fleet has %q %d times, want once", old, strings.Count(src, old))
	}
	src = strings.Replace(src, old, `cidr: "172.16.3.0/25"`, 1)
	path := filepath.Join(t.TempDir(), "fleet.cue")
	if err := writeFile(path, src); err != nil {
		t.Fatal(err)
	}
	f, err := schema.Load([]string{path}, schema.LoadOptions{})
	if err != nil {
		t.Fatalf("the /25 fleet does not validate: %v", err)
	}
	i := strings.Index(src, `cidr: "172.16.3.0/25"`)
	line := strings.Count(src[:i], "\n") + 1
	col := i - strings.LastIndex(src[:i], "\n") + len("cidr: ")
	return f, schema.Pos{File: path, Line: line, Col: col}
}

func vswitchErrs(t *testing.T, f *schema.Fleet, o *Observed, l *schema.Lock) schema.Errors {
	t.Helper()
	p, err := Compute(f, o, l, Options{})
	if err == nil {
		t.Fatalf("planned %d steps against a cloud whose vSwitch differs", len(p.Steps))
	}
	es, ok := err.(schema.Errors)
	if !ok {
		t.Fatalf("error %T %v, want schema.Errors", err, err)
	}
	return es
}

// TestPlanVSwitchBlock: a vSwitch whose block in the file (/25) is not the
// cloud's (/24) fails the plan, alone, at the file's cidr, saying what the
// cloud has, which gateway the hosts would get, and how to fix it; from a
// live observation and from a snapshot alike.
func TestPlanVSwitchBlock(t *testing.T) {
	f, pos := slash25(t)
	o := bare(f)
	o.VSwitch("vsw-bp1data000i").CIDR = netip.MustParsePrefix("172.16.3.0/24")

	var snap bytes.Buffer
	if err := o.WriteJSON(&snap); err != nil {
		t.Fatal(err)
	}
	fromSnap, err := ReadSnapshot(&snap)
	if err != nil {
		t.Fatal(err)
	}
	for name, obs := range map[string]*Observed{"observed": o, "snapshot": fromSnap} {
		t.Run(name, func(t *testing.T) {
			es := vswitchErrs(t, f, obs, nil)
			if len(es) != 1 {
				t.Fatalf("%d errors, want 1: %v", len(es), es)
			}
			e := es[0]
			if e.Pos != pos || e.Path != `vswitches."data-i".cidr` {
				t.Errorf("error at %s %s, want %s %s", e.Pos, e.Path, pos, `vswitches."data-i".cidr`)
			}
			for _, want := range []string{"172.16.3.0/25", "the cloud's 172.16.3.0/24", "vsw-bp1data000i", "gateway 172.16.3.125 instead of 172.16.3.253"} {
				if !strings.Contains(e.Msg, want) {
					t.Errorf("message %q does not say %q", e.Msg, want)
				}
			}
			if !strings.Contains(e.Hint, `cidr: "172.16.3.0/24"`) {
				t.Errorf("hint %q does not say what to write", e.Hint)
			}
		})
	}
}

// TestPlanVSwitchZoneAndMissing: a vSwitch in another zone than the file
// says fails at the file's zone, and one the cloud does not have at its id.
func TestPlanVSwitchZoneAndMissing(t *testing.T) {
	f := loadExample(t)
	o := bare(f)
	o.VSwitch("vsw-bp1data000i").Zone = "cn-hangzhou-j"
	es := vswitchErrs(t, f, o, nil)
	v := f.VSwitch("data-i")
	if len(es) != 1 || es[0].Pos != v.ZonePos || es[0].Path != `vswitches."data-i".zone` ||
		!strings.Contains(es[0].Msg, "cn-hangzhou-j") || !strings.Contains(es[0].Hint, `zone: "cn-hangzhou-j"`) {
		t.Errorf("zone: got %v, want one error at %s", es, v.ZonePos)
	}

	o = bare(f)
	o.VSwitches = o.VSwitches[:0]
	for _, x := range bare(f).VSwitches {
		if x.ID != "vsw-bp1data000h" {
			o.VSwitches = append(o.VSwitches, x)
		}
	}
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	es = vswitchErrs(t, f, o, nil)
	v = f.VSwitch("data-h")
	if len(es) != 1 || es[0].Pos != v.IDPos || !strings.Contains(es[0].Msg, "vsw-bp1data000h was not found") {
		t.Errorf("missing: got %v, want one error at %s", es, v.IDPos)
	}
}

// TestLockRecordsVSwitchBlocks: reconciling records the cloud's block of
// every vSwitch of the fleet, and Lock.CheckVSwitches (what an offline
// render runs) refuses a file that disagrees with it, at the file's cidr.
func TestLockRecordsVSwitchBlocks(t *testing.T) {
	f := loadExample(t)
	o, _ := converged(f)
	l := &schema.Lock{}
	Reconcile(l, f, o)
	if len(l.VSwitches) != len(f.VSwitches) {
		t.Fatalf("lock records %v, want the %d vSwitches of the fleet", l.VSwitches, len(f.VSwitches))
	}
	for _, v := range f.VSwitches {
		if l.VSwitches[v.ID] != v.CIDR {
			t.Errorf("lock records %s for %s, want %s", l.VSwitches[v.ID], v.ID, v.CIDR)
		}
	}
	if es := l.CheckVSwitches(f); es != nil {
		t.Errorf("a file that agrees with the lock: %v", es)
	}
	if es := (&schema.Lock{}).CheckVSwitches(f); es != nil {
		t.Errorf("a lock without blocks: %v", es)
	}

	f25, pos := slash25(t)
	es := l.CheckVSwitches(f25)
	if len(es) != 1 || es[0].Pos != pos || !strings.Contains(es[0].Msg, "gateway 172.16.3.125 instead of 172.16.3.253") ||
		!strings.Contains(es[0].Msg, "as the lock records it") {
		t.Errorf("got %v, want one error at %s", es, pos)
	}
	if _, err := os.Stat(pos.File); err != nil {
		t.Fatal(err)
	}
}
