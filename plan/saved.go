package plan

import (
	"fmt"
	"os"

	"github.com/ecsnet/ecsnet/internal/plural"
)

// This file holds the rules for a saved plan (plan --save, apply --plan):
// reading it back and deciding whether apply may run it. They were in
// the apply command; the command now only prints what they decide.

// ReadFile reads a plan that WriteJSON saved to path.
func ReadFile(path string) (*Plan, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	p, err := ReadJSON(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// HasHostSteps reports whether the plan reconfigures hosts (apply
// --hosts).
func (p *Plan) HasHostSteps() bool {
	for _, s := range p.Steps {
		if s.Action.Host() {
			return true
		}
	}
	return false
}

// Pruned reports whether the plan was made with Options.Prune: it
// removes addresses the lock does not record.
func (p *Plan) Pruned() bool {
	for _, u := range p.Unrecorded {
		if u.Pruned {
			return true
		}
	}
	return false
}

// KeptUnrecorded counts the addresses and prefixes the lock does not record that the
// plan keeps (a plan made with Options.Prune removes them in its steps).
func (p *Plan) KeptUnrecorded() int {
	n := 0
	for _, u := range p.Unrecorded {
		if !u.Pruned {
			n += len(u.IPs) + len(u.Prefixes)
		}
	}
	return n
}

// CheckSavedFor refuses a saved plan, before any cloud state is read,
// that is for another fleet than the desired state's, or that has host
// steps when apply runs without them (hosts false).
func CheckSavedFor(saved *Plan, fleet string, hosts bool) error {
	switch {
	case saved.Fleet != fleet:
		return fmt.Errorf("the saved plan is for fleet %q, the desired state is %q", saved.Fleet, fleet)
	case saved.HasHostSteps() && !hosts:
		return fmt.Errorf("the saved plan has host steps; apply it with --hosts")
	}
	return nil
}

// CheckSaved decides whether the saved plan (read from name) may run: it
// must have been made against the cloud as obs has it now, and must be,
// step for step and resource for resource, the plan made now from the
// desired state, the lock and the cloud. Nothing of the file is executed:
// an edited file can refuse but never widen what apply does. prune says
// whether apply runs with --prune, for the hint when only that differs.
//
// The resources the fingerprint covers are those the plan made now
// touches (now.Touched of them), recomputed from the desired state, the
// lock and the cloud; the file holds only their digest. Equal fingerprints
// mean the same resources in the same observed state, since the digest
// covers the IDs too. When they differ, the file's digest of the IDs
// alone picks the message: the same resources means the cloud changed
// under them; other resources mean the desired state, the lock or the
// cloud's set of resources changed, and the step difference, when there
// is one, says how. Either way apply refuses.
func CheckSaved(saved, now *Plan, _ *Observed, name string, prune bool) error {
	if saved.Fingerprint != now.Fingerprint {
		if saved.TouchedDigest == now.TouchedDigest {
			return fmt.Errorf("the cloud changed since %s was made (the %s it touches differ); run ecsnet plan again",
				name, plural.Count(now.Touched, "observed resource", "observed resources"))
		}
		if err := mismatch(saved, now, name, prune); err != nil {
			return err
		}
		return fmt.Errorf("%s covers other resources than the plan made now (%s then, %d now): the desired state, the lock or the cloud changed since it was made; "+
			"nothing was changed: run ecsnet plan --save again",
			name, plural.Count(saved.Touched, "observed resource", "observed resources"), now.Touched)
	}
	if err := mismatch(saved, now, name, prune); err != nil {
		return err
	}
	if saved.TouchedDigest != now.TouchedDigest || saved.Touched != now.Touched {
		// The same fingerprint over other resources: the file's count or
		// digest was edited. Refused, though nothing reads them to apply,
		// so that what a reviewer read about the plan is what it is.
		return fmt.Errorf("%s does not cover the resources the plan made now touches (was it edited?); nothing was changed: run ecsnet plan --save again", name)
	}
	return nil
}

// mismatch refuses a saved plan whose steps differ from the plan made now.
func mismatch(saved, now *Plan, name string, prune bool) error {
	if diff := Mismatch(saved, now); diff != "" {
		hint := ""
		if !prune && saved.Pruned() {
			hint = " (it was made with --prune: pass --prune to apply it)"
		}
		return fmt.Errorf("%s does not match the plan made now from the desired state, the lock and the cloud%s: %s\n"+
			"nothing was changed: a saved plan is applied only exactly as it was made and reviewed; run ecsnet plan --save again, review it, and apply that",
			name, hint, diff)
	}
	return nil
}

// CheckUnchanged decides whether a confirmed plan may still run after
// apply waited for the fleet's lease: now, made again under the lease,
// must have the same steps, and a saved plan (saved set; name is its
// file) still needs the cloud it was reviewed against. The steps are
// compared rather than the fingerprint of what they touch: an attach or
// delete that a killed apply left in flight finishes while this one
// waits for the dead holder's lease to lapse, which changes the ENI's
// status (and so the fingerprint) but not the plan.
func CheckUnchanged(confirmed, now *Plan, _ *Observed, name string) error {
	if diff := Mismatch(withoutFinishedResumes(confirmed, now), now); diff != "" { // resume.go
		return fmt.Errorf("the cloud or the lock changed while this apply waited for the fleet's lease (%s); nothing was changed: run it again", diff)
	}
	if name != "" && now.Fingerprint != confirmed.Fingerprint {
		return fmt.Errorf("the cloud changed since %s was made (the resources it touches differ); nothing was changed: run ecsnet plan again", name)
	}
	return nil
}
