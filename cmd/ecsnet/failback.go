package main

import (
	"context"
	"fmt"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// apply's failback guard (see plan.CheckFailback): an ENI that ecsnet
// failover moved stays where it went until the desired state agrees, or
// apply runs with --allow-failback. The record is the ENI's tag; the
// lock's copy is cleared with it.

// allowFailbackUsage is --allow-failback's help line.
const allowFailbackUsage = "move ENIs that ecsnet failover moved back to where the desired state attaches them (without it, apply refuses until the desired state agrees with the failover)"

// checkFailback is the guard, for makeApply: it runs on every plan apply
// makes, before anything is shown or confirmed and again under the lease,
// whatever a saved plan or the lock says.
func checkFailback(a *applyArgs, p *plan.Plan, f *schema.Fleet, obs *plan.Observed) error {
	if a.allowFailback {
		return nil
	}
	return plan.CheckFailback(p, f, obs)
}

// failoversToSettle reports whether the apply has failover records to
// clear: an apply with nothing else to do then still takes the lease, to
// clear them.
func failoversToSettle(a *applyArgs, f *schema.Fleet, obs *plan.Observed) bool {
	return len(plan.SettledFailovers(f, obs, a.allowFailback)) > 0
}

// settleFailovers runs under the lease after the apply, whose exit code
// is code, and returns the command's exit code. It clears the records the
// desired state agrees with, and, with --allow-failback, those whose move
// back the apply made (only when it succeeded: a failed move back keeps
// the ENI where the failover put it, and the guard with it). obs is the
// cloud before the apply.
func settleFailovers(ctx context.Context, a *applyArgs, e env, f *schema.Fleet, client *ecs.Client, lockPath string, obs *plan.Observed, code int) int {
	var ids []string
	clear := map[string]bool{}
	for _, fo := range plan.SettledFailovers(f, obs, a.allowFailback) {
		if !fo.Agrees(f) && code != exitOK {
			continue
		}
		ids = append(ids, fo.ENIID)
		clear[fo.ENI] = true
	}
	if len(ids) == 0 {
		return code
	}
	if err := client.UntagResources(ctx, ids, []string{plan.TagFailover}); err != nil {
		fmt.Fprintf(e.stderr, "ecsnet apply: clear the failover records of %v: %v\n", ids, err)
		return exitError
	}
	lock, err := schema.ReadLockFile(lockPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet apply: %v\n", err)
		return exitError
	}
	changed := false
	for name := range clear {
		if le := lock.Secondary(name); le != nil && le.Failover != nil {
			c := *le
			c.Failover = nil
			lock.Put(&c)
			changed = true
		}
	}
	if changed {
		if err := schema.WriteLockFile(lockPath, lock); err != nil {
			fmt.Fprintf(e.stderr, "ecsnet apply: %v\n", err)
			return exitError
		}
	}
	for _, x := range f.ENIs {
		if clear[x.Name] {
			where := "leaves it unbound"
			if x.Bound() {
				where = "attaches it to " + x.AttachTo
			}
			fmt.Fprintf(e.stderr, "Cleared the failover record of ENI %s: the desired state %s.\n", x.Name, where)
		}
	}
	return code
}

// failbackNotes are plan's notes for the moves apply's failback guard
// will refuse, so that a pull request's plan says so before the merge.
func failbackNotes(p *plan.Plan, f *schema.Fleet, obs *plan.Observed) []string {
	es, ok := asErrors(plan.CheckFailback(p, f, obs))
	if !ok {
		return nil
	}
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("apply will refuse this plan without --allow-failback: %s: %s; %s", e.Pos, e.Msg, e.Hint))
	}
	return out
}
