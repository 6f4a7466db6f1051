package plan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/schema"
)

// failedOver returns the example converged, then the vip ENI failed over
// to lb-2 by ecsnet failover (moved and tagged), and the lock.
func failedOver(t *testing.T) (*Observed, *schema.Lock) {
	t.Helper()
	f := loadExample(t)
	obs, lock := converged(f)
	vip := FleetENI(f, obs, f.ENI("vip"))
	vip.InstanceID = f.Instance("lb-2").ID
	vip.Tags[TagFailover] = FailoverTag(f.Instance("lb-2"), time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC))
	return obs, lock
}

// loadExampleWith loads the example with old replaced by new.
func loadExampleWith(t *testing.T, old, new string) *schema.Fleet {
	t.Helper()
	src, err := readExample()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(src, old) != 1 {
		t.Fatalf("%q is not in the example once", old)
	}
	p := filepath.Join(t.TempDir(), "fleet.cue")
	if err := os.WriteFile(p, []byte(strings.Replace(src, old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := schema.Load([]string{p}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestCheckFailback: a plan that would move a failed-over ENI back fails
// at the ENI's attachTo, naming the failover, its time and
// --allow-failback; the desired state that agrees passes and settles the
// record; a record on an ENI that is not the fleet's is never read.
func TestCheckFailback(t *testing.T) {
	obs, lock := failedOver(t)
	old := loadExample(t)
	p := compute(t, old, obs, lock, Options{})
	if !movesENI(p, FleetENI(old, obs, old.ENI("vip")).ID) {
		t.Fatalf("the old desired state's plan does not move vip back:\n%v", p.Steps)
	}
	err := CheckFailback(p, old, obs)
	var es schema.Errors
	if !errors.Is(err, ErrFailback) || !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("CheckFailback: %v, want one schema error that is ErrFailback", err)
	}
	if es[0].Pos != old.ENI("vip").AttachToPos {
		t.Errorf("at %s, want vip's attachTo %s", es[0].Pos, old.ENI("vip").AttachToPos)
	}
	for _, want := range []string{"ecsnet failover moved ENI", "lb-2 (i-bp1lb0000002)", "2026-12-07T01:02:03Z", "attaches it to lb-1", "move it back"} {
		if !strings.Contains(es[0].Msg, want) {
			t.Errorf("message %q lacks %q", es[0].Msg, want)
		}
	}
	if !strings.Contains(es[0].Hint, "--allow-failback") || !strings.Contains(es[0].Hint, `attachTo: "lb-2"`) {
		t.Errorf("hint %q", es[0].Hint)
	}
	if got := SettledFailovers(old, obs, false); len(got) != 0 {
		t.Errorf("the old desired state settles %v", got)
	}
	if got := SettledFailovers(old, obs, true); len(got) != 1 || got[0].ENI != "vip" {
		t.Errorf("--allow-failback settles %v, want vip", got)
	}

	agreeing := loadExampleWith(t, `attachTo: "lb-1"`, `attachTo: "lb-2"`)
	p = compute(t, agreeing, obs, lock, Options{})
	if err := CheckFailback(p, agreeing, obs); err != nil {
		t.Errorf("the agreeing desired state: %v", err)
	}
	if got := SettledFailovers(agreeing, obs, false); len(got) != 1 || got[0].ToID != "i-bp1lb0000002" || got[0].To != "lb-2" {
		t.Errorf("the agreeing desired state settles %+v, want vip's record", got)
	}

	// A record the fleet does not own is not read: untag the ENI.
	vip := FleetENI(old, obs, old.ENI("vip"))
	delete(vip.Tags, TagFleet)
	if got := Failovers(old, obs); len(got) != 0 {
		t.Errorf("records on an ENI without the fleet's tag: %+v", got)
	}
}

// TestCheckFailbackUnreadable: a record edited by hand still guards.
func TestCheckFailbackUnreadable(t *testing.T) {
	obs, lock := failedOver(t)
	f := loadExample(t)
	FleetENI(f, obs, f.ENI("vip")).Tags[TagFailover] = "lb-2 yesterday"
	err := CheckFailback(compute(t, f, obs, lock, Options{}), f, obs)
	if !errors.Is(err, ErrFailback) || !strings.Contains(err.Error(), "cannot read") {
		t.Errorf("CheckFailback: %v", err)
	}
}
