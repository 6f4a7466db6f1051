package plan

import (
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
