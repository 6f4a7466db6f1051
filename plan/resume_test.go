package plan

import (
	"slices"
	"strings"
	"testing"
)

// TestResumeAttaching: an ENI still Attaching to the instance the file
// wants it on (an earlier apply's wait for it timed out) is not converged:
// the plan attaches it again, to wait for it, without calling it drift and
// without counting it twice toward the instance's ENI quota.
func TestResumeAttaching(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)
	if p := compute(t, f, o, l, Options{}); !p.Empty() {
		t.Fatalf("converged cloud: %d steps", len(p.Steps))
	}
	var stuck *ObservedENI
	for _, x := range o.ENIs {
		if x.Type == ENISecondary && x.InstanceID != "" {
			stuck = x
			break
		}
	}
	stuck.Status = ENIAttaching
	p := compute(t, f, o, l, Options{})
	if len(p.Steps) != 1 {
		t.Fatalf("want one step, got %d: %v", len(p.Steps), p.Steps)
	}
	s := p.Steps[0]
	if s.Action != AttachENI || s.ENIID != stuck.ID || s.InstanceID != stuck.InstanceID || s.Drift ||
		!strings.HasPrefix(s.Reason, "resume: the ENI is still Attaching") {
		t.Errorf("step %+v: want a resumed attach of %s to %s, not drift", s, stuck.ID, stuck.InstanceID)
	}
}

// TestReconcileAttaching: the lock records an ENI still Attaching as not
// on its instance yet, since the attach may still fail back to
// Available; the next plan resumes it (TestResumeAttaching).
func TestReconcileAttaching(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)
	var stuck *ObservedENI
	for _, x := range o.ENIs {
		if x.Type == ENISecondary && x.InstanceID != "" {
			stuck = x
			break
		}
	}
	stuck.Status = ENIAttaching
	Reconcile(l, f, o)
	if e := l.Secondary(stuck.Name); e == nil || e.ID != stuck.ID || e.AttachedTo != "" {
		t.Errorf("lock entry %+v: want %s recorded, not yet attached", e, stuck.ID)
	}
	stuck.Status = ENIInUse
	Reconcile(l, f, o)
	if e := l.Secondary(stuck.Name); e.AttachedTo == "" {
		t.Errorf("an InUse ENI is not recorded as attached: %+v", e)
	}
}

// TestResumeFinishedWhileWaiting: a plan made while an attach was still in
// flight (a killed apply's) resumes it; when the attach finishes while
// apply waits for the fleet's lease, the plan made then lacks that step
// and the steps that waited on it no longer depend on it. That is no
// change to what apply does, so CheckUnchanged lets it run; any other
// difference is still refused.
func TestResumeFinishedWhileWaiting(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)
	var stuck *ObservedENI
	for _, x := range o.ENIs {
		if x.Type == ENISecondary && x.InstanceID != "" && len(x.SecondaryIPs) > 0 {
			stuck = x
			break
		}
	}
	held := stuck.SecondaryIPs
	stuck.Status, stuck.SecondaryIPs = ENIAttaching, nil // and its addresses were unassigned by hand
	confirmed := compute(t, f, o, l, Options{})
	var resumes, waits int
	for _, s := range confirmed.Steps {
		if s.Resumes() {
			resumes++
		}
		if slices.Contains(s.DependsOn, "attach eni/"+stuck.Name) {
			waits++
		}
	}
	if resumes != 1 || waits != 1 {
		t.Fatalf("plan while Attaching: %d resume steps, %d steps after it, want 1 and 1: %v", resumes, waits, confirmed.Steps)
	}
	stuck.Status = ENIInUse
	now := compute(t, f, o, l, Options{})
	if Mismatch(confirmed, now) == "" {
		t.Fatal("the plans are equal; the test shows nothing")
	}
	if err := CheckUnchanged(confirmed, now, o, ""); err != nil {
		t.Errorf("the attach finished while apply waited: %v", err)
	}
	stuck.SecondaryIPs = held // someone else restored them meanwhile: a real change
	if err := CheckUnchanged(confirmed, compute(t, f, o, l, Options{}), o, ""); err == nil {
		t.Error("a plan that lost its assign passed CheckUnchanged")
	}
}

// TestResumeFinishedReorders: when the attach a plan resumed finishes
// while apply waits for the fleet's lease, the step that waited on it is
// no longer deeper than the independent ones, and the plan made then
// orders it among them (assign eni/x before assign instance/y). The same
// steps with the same dependencies are no change: CheckUnchanged compares
// them in the order the confirmed plan would have without the finished
// resume (TestApplyAfterKillWaitsForLease failed this way, about 1 in 2).
func TestResumeFinishedReorders(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)
	var stuck *ObservedENI
	for _, x := range o.ENIs {
		if x.Type == ENISecondary && x.InstanceID != "" && len(x.SecondaryIPs) > 0 {
			stuck = x
			break
		}
	}
	var prim *ObservedInstance
	for _, x := range o.Instances {
		if len(x.SecondaryIPs) > 0 {
			prim = x
			break
		}
	}
	if stuck == nil || prim == nil {
		t.Fatal("the example has no attached ENI or primary ENI with secondary addresses")
	}
	stuck.Status, stuck.SecondaryIPs = ENIAttaching, nil
	prim.SecondaryIPs = nil // an independent change: assign instance/x at depth 0
	confirmed := compute(t, f, o, l, Options{})
	stuck.Status = ENIInUse
	now := compute(t, f, o, l, Options{})
	if err := CheckUnchanged(confirmed, now, o, ""); err != nil {
		t.Errorf("the attach finished while apply waited, and the steps after it moved: %v\nconfirmed: %v\nnow: %v", err, ids(confirmed), ids(now))
	}
	// A real reorder is still refused: the same steps, two swapped.
	swapped := *now
	swapped.Steps = slices.Clone(now.Steps)
	swapped.Steps[0], swapped.Steps[1] = swapped.Steps[1], swapped.Steps[0]
	if err := CheckUnchanged(&swapped, now, o, ""); err == nil {
		t.Error("a plan with two steps swapped passed CheckUnchanged")
	}
}
