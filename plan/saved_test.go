package plan_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/testfleet/testcloud"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// driftedFleet returns a generated converged fleet of n instances whose
// middle instance lost one secondary address in the cloud (unassigned by
// hand), so the plan has one instance's change: the assign that restores
// it. It returns the fleet, the observation, the lock and that instance.
func driftedFleet(t *testing.T, n int) (*schema.Fleet, *plan.Observed, *schema.Lock, *plan.ObservedInstance) {
	t.Helper()
	f, err := testcloud.Fleet(n)
	if err != nil {
		t.Fatal(err)
	}
	_, obs, lock, err := testcloud.Snapshot(f, testcloud.Converged)
	if err != nil {
		t.Fatal(err)
	}
	oi := obs.Instance(f.Instances[n/2].ID)
	if oi == nil || len(oi.SecondaryIPs) == 0 {
		t.Fatalf("instance %s has no secondary address to lose", f.Instances[n/2].ID)
	}
	oi.SecondaryIPs = oi.SecondaryIPs[:len(oi.SecondaryIPs)-1]
	return f, obs, lock, oi
}

// saved computes the plan and returns it as apply --plan reads it back,
// with the saved document.
func saved(t *testing.T, f *schema.Fleet, obs *plan.Observed, lock *schema.Lock) (*plan.Plan, []byte) {
	t.Helper()
	p, err := plan.Compute(f, obs, lock, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := plan.WriteJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	back, err := plan.ReadJSON(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return back, b.Bytes()
}

// TestSavedPlanProportional: the saved plan of a one-instance change is
// the same size in a fleet of 100 and of 2,000 instances (but for the
// digits of its count), names no other instance's resources, and still
// says how many observed resources its fingerprint covers (issue 18: at
// 20,000 instances it listed all 80,000 and weighed 2.0 MiB).
func TestSavedPlanProportional(t *testing.T) {
	sizes := map[int]int{}
	for _, n := range []int{100, 2000} {
		f, obs, lock, oi := driftedFleet(t, n)
		p, doc := saved(t, f, obs, lock)
		if len(p.Steps) != 1 || p.Steps[0].Action != plan.AssignIPs || p.Steps[0].InstanceID != oi.ID {
			t.Fatalf("n=%d: the plan is not the one assign on %s: %v", n, oi.ID, p.Steps)
		}
		// Every instance, its primary ENI and its two secondary ENIs.
		if p.Touched != 4*n {
			t.Errorf("n=%d: the fingerprint covers %d resources, want %d", n, p.Touched, 4*n)
		}
		for _, other := range []string{f.Instances[0].ID, testcloud.PrimaryENIID(0), testcloud.SecondaryENIID(1)} {
			if bytes.Contains(doc, []byte(other)) {
				t.Errorf("n=%d: the saved plan names %s, a resource the change does not touch", n, other)
			}
		}
		var text bytes.Buffer
		if err := plan.WriteText(&text, p, plan.TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(" over %d observed resources.", 4*n); !strings.Contains(text.String(), want) {
			t.Errorf("n=%d: the text plan does not say %q:\n%s", n, want, text.String())
		}
		sizes[n] = len(doc)
	}
	if d := sizes[2000] - sizes[100]; d < 0 || d > 8 {
		t.Errorf("the saved plan grows with the fleet: %d bytes at 100 instances, %d at 2,000", sizes[100], sizes[2000])
	}
	if sizes[2000] > 64<<10 {
		t.Errorf("the saved plan of a one-instance change is %d bytes, more than 64 KiB", sizes[2000])
	}
}

// TestCheckSavedRecomputesTouched: the resources a saved plan's fingerprint
// covers are recomputed at apply time; the file holds only their count and
// digest. Apply refuses when one of them changed in the cloud (though no
// step is about it), and when the file's fingerprint, count or digest was
// edited; a plan whose cloud is unchanged applies.
func TestCheckSavedRecomputesTouched(t *testing.T) {
	f, obs, lock, oi := driftedFleet(t, 20)
	s, _ := saved(t, f, obs, lock)
	now := func(t *testing.T) *plan.Plan {
		t.Helper()
		p, err := plan.Compute(f, obs, lock, plan.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := plan.CheckSaved(s, now(t), obs, "p.json", false); err != nil {
		t.Fatalf("a fresh saved plan is refused: %v", err)
	}

	edited := func(edit func(p *plan.Plan)) *plan.Plan {
		c := *s
		edit(&c)
		return &c
	}
	for _, tc := range []struct {
		name string
		p    *plan.Plan
		want string
	}{
		{"fingerprint", edited(func(p *plan.Plan) { p.Fingerprint = strings.Repeat("0", 64) }), "the cloud changed since p.json was made (the 80 observed resources it touches differ)"},
		{"fingerprint and digest", edited(func(p *plan.Plan) { p.Fingerprint, p.TouchedDigest = strings.Repeat("0", 64), "x" }),
			"p.json covers other resources than the plan made now (80 observed resources then, 80 now)"},
		{"digest", edited(func(p *plan.Plan) { p.TouchedDigest = "x" }), "does not cover the resources the plan made now touches (was it edited?)"},
		{"count", edited(func(p *plan.Plan) { p.Touched = 1 }), "does not cover the resources the plan made now touches (was it edited?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := plan.CheckSaved(tc.p, now(t), obs, "p.json", false); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckSaved: %v, want an error containing %q", err, tc.want)
			}
		})
	}

	// Another instance stops: no step is about it, but the plan covers it.
	other := obs.Instance(f.Instances[0].ID)
	if other == nil || other.ID == oi.ID {
		t.Fatal("no other instance")
	}
	other.Status = plan.InstanceStopped
	n := now(t)
	if d := plan.Mismatch(s, n); d != "" {
		t.Fatalf("stopping another instance changed the steps: %s", d)
	}
	if err := plan.CheckSaved(s, n, obs, "p.json", false); err == nil || !strings.Contains(err.Error(), "the cloud changed since p.json was made") {
		t.Errorf("CheckSaved after another instance stopped: %v", err)
	}
	if err := plan.CheckUnchanged(s, n, obs, "p.json"); err == nil || !strings.Contains(err.Error(), "the cloud changed since p.json was made") {
		t.Errorf("CheckUnchanged after another instance stopped: %v", err)
	}
	if err := plan.CheckUnchanged(s, n, obs, ""); err != nil {
		t.Errorf("CheckUnchanged of a plan made in this apply (no file) compares steps only: %v", err)
	}
}

// TestSavedPlanVersion1: a plan saved by the release before issue 18
// (format_version 1, the covered IDs listed) still applies: its
// fingerprint is computed as version 2's, over the resources apply
// recomputes. The list is never what apply checks: a stale version 1 plan
// is refused, and so is one whose list was edited.
func TestSavedPlanVersion1(t *testing.T) {
	f, obs, lock, _ := driftedFleet(t, 20)
	s, doc := saved(t, f, obs, lock)
	// The version 1 list: every observed instance and ENI of this fleet
	// (checked against the fingerprint, so the test cannot drift from
	// Compute).
	var ids []string
	for _, in := range obs.Instances {
		ids = append(ids, in.ID)
	}
	for _, e := range obs.ENIs {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	if plan.Fingerprint(obs, ids) != s.Fingerprint {
		t.Fatalf("the %d observed resources are not those the fingerprint covers", len(ids))
	}
	v1 := func(t *testing.T, ids []string) *plan.Plan {
		t.Helper()
		var m map[string]json.RawMessage
		if err := json.Unmarshal(doc, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "touched_count")
		delete(m, "touched_digest")
		m["format_version"] = json.RawMessage(`"1"`)
		list, _ := json.Marshal(ids)
		m["touched"] = list
		b, _ := json.Marshal(m)
		p, err := plan.ReadJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("a version 1 plan does not read: %v", err)
		}
		return p
	}
	now, err := plan.Compute(f, obs, lock, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := v1(t, ids)
	if old.Touched != len(ids) {
		t.Errorf("a version 1 plan covers %d resources, want %d", old.Touched, len(ids))
	}
	if err := plan.CheckSaved(old, now, obs, "v1.json", false); err != nil {
		t.Errorf("a fresh version 1 plan is refused: %v", err)
	}
	var out bytes.Buffer
	if err := plan.WriteJSON(&out, old); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), doc) {
		t.Errorf("a version 1 plan written again is not the version 2 plan:\n%s\n---\n%s", out.Bytes(), doc)
	}
	if err := plan.CheckSaved(v1(t, ids[:1]), now, obs, "v1.json", false); err == nil || !strings.Contains(err.Error(), "was it edited?") {
		t.Errorf("a version 1 plan with its list cut to one ID: %v", err)
	}
	obs.Instances[0].Status = plan.InstanceStopped
	if now, err = plan.Compute(f, obs, lock, plan.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := plan.CheckSaved(old, now, obs, "v1.json", false); err == nil || !strings.Contains(err.Error(), "the cloud changed since v1.json was made") {
		t.Errorf("a stale version 1 plan: %v", err)
	}
}

// TestSavedPlanVersion1File: the example's plan from scratch as the
// release before issue 18 saved it (format_version 1, its 29 IDs listed)
// reads, and writes as the version 2 plan that release's successor makes
// of the same cloud, byte for byte: the fingerprint is the same. That
// version 2 plan is testdata/saved_v2.json, the example's scratch plan
// before it gained IPv6 and prefix ENIs (issue 17), which changed the
// example and so its plan.
func TestSavedPlanVersion1File(t *testing.T) {
	old, err := plan.ReadFile("testdata/saved_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := plan.WriteJSON(&out, old); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/saved_v2.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("the version 1 plan written again is not the version 2 plan of the same cloud:\n%s\n---\n%s", out.Bytes(), want)
	}
}
