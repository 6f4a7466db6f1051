package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/internal/plural"
	"github.com/ecsnet/ecsnet/internal/safefile"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

type planArgs struct {
	cloud        cloudArgs
	format       string
	save         string
	detailedExit bool
	failUnrec    bool
	prune        bool
	rendered     string
	check        bool
	cache        string // --cache, for --check (cachedcheck.go)
	hosts        bool
	paths        []string
}

func planFlags(a *planArgs) *pflag.FlagSet {
	fs := newFlagSet("plan")
	addCloudFlags(fs, &a.cloud, true)
	fs.StringVar(&a.format, "format", formatText, "output format: text, json, markdown (a pull-request comment) or github (the plan as text; errors in the desired state as annotations on their lines)")
	fs.StringVar(&a.save, "save", "", "also save the plan to this file, for ecsnet apply --plan and ecsnet show")
	fs.BoolVar(&a.detailedExit, "detailed-exitcode", false, "exit 2 when the plan has changes (0: none, 1: error)")
	fs.BoolVar(&a.failUnrec, "fail-on-unrecorded", false, "with --detailed-exitcode: count addresses the lock does not record (added by hand; --prune would remove them) as changes, so a CI gate sees them")
	fs.BoolVar(&a.prune, "prune", false, "also remove addresses the lock does not record (added by hand)")
	fs.BoolVar(&a.hosts, "hosts", false, "also show the host steps apply --hosts would run (Cloud Assistant, before and after the cloud steps)")
	fs.StringVar(&a.rendered, "rendered", "", "also list, per host, the files of this render directory (ecsnet render --out) that a render changes; values the cloud picks at apply show as <...>")
	fs.BoolVar(&a.check, "check", false, "with --rendered DIR: instead of the list, check DIR as ecsnet render --check --out DIR does, in the same run (the pull-request job: the fleet is loaded once): its diff after the plan, exit 2 when DIR is out of date")
	addCacheFlag(fs, &a.cache) // cachedcheck.go
	return fs
}

func runPlan(ctx context.Context, args []string, e env) int {
	var a planArgs
	fs := planFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if err := checkFormat(a.format, formatText, formatJSON, formatMarkdown, formatGitHub); err != nil {
		return flagError(fs, err, e)
	}
	a.paths = fs.Args()
	if a.failUnrec && !a.detailedExit {
		return flagError(fs, errors.New("--fail-on-unrecorded changes only the exit code of --detailed-exitcode: add --detailed-exitcode"), e)
	}
	if a.check {
		if err := checkPlanCheckFlags(&a, e); err != nil { // plancheck.go
			return flagError(fs, err, e)
		}
	}
	if a.rendered != "" {
		// Checked first: a mistyped directory would otherwise list every
		// file as new, after the whole plan was computed.
		if st, err := os.Stat(a.rendered); err != nil || !st.IsDir() {
			fmt.Fprintf(e.stderr, "ecsnet plan: --rendered %s: not a directory; name the directory ecsnet render --out wrote (render it first: ecsnet render --out %s PATH...)\n", a.rendered, a.rendered)
			return exitError
		}
	}
	m, err := makePlan(ctx, e, &a.cloud, a.paths, a.format, plan.Options{Prune: a.prune}, a.hosts)
	if err != nil {
		return fail(e, a.format, "ecsnet plan", err)
	}
	p := m.plan
	if !a.hosts {
		if note := hostsToPushNote(plan.HostsToPush(p, nil, m.fleet, m.obs)); note != "" {
			p.Notes = append(p.Notes, note)
		}
	}
	if a.save != "" {
		if err := savePlan(a.save, p); err != nil {
			return fail(e, a.format, "ecsnet plan", err)
		}
	}
	p.Notes = append(p.Notes, failbackNotes(p, m.fleet, m.obs)...) // after the save, as the note below
	// Counted after the save: the note is for this output, not part of
	// the plan apply --plan compares.
	unrecorded := 0
	if a.failUnrec {
		if unrecorded = p.KeptUnrecorded(); unrecorded > 0 {
			p.Notes = append(p.Notes, fmt.Sprintf("--fail-on-unrecorded: %s the lock does not record (added outside ecsnet) %s as changes: exit 2. "+
				"Remove them with ecsnet apply --prune, or name them in the desired state to keep them.",
				plural.Count(unrecorded, "address", "addresses"), plural.Word(unrecorded, "counts", "count")))
		}
	}
	if err := writePlan(e.stdout, p, a.format); err != nil {
		return fail(e, a.format, "ecsnet plan", err)
	}
	renderCode := exitOK
	if a.rendered != "" && a.check {
		if renderCode, err = planRenderCheck(e, &a, m); err != nil { // plancheck.go
			return fail(e, formatText, "ecsnet render", err)
		}
	} else if a.rendered != "" {
		// The host section is assembled here, from the fleet and the lock
		// the plan was made from: plan and render are siblings and
		// neither imports the other.
		if err := render.WriteChanges(e.stdout, a.rendered, m.fleet, m.lock); err != nil {
			return fail(e, a.format, "ecsnet plan", fmt.Errorf("--rendered: %w", err))
		}
	}
	if (a.detailedExit && (!p.Empty() || unrecorded > 0)) || renderCode == exitChanges {
		return exitChanges
	}
	return exitOK
}

// savePlan writes the plan to path as JSON, for apply --plan and show:
// through a random temporary name, renamed over path, so that a link at
// path or beside it is never written through.
func savePlan(path string, p *plan.Plan) error {
	var b bytes.Buffer
	if err := plan.WriteJSON(&b, p); err != nil {
		return err
	}
	if err := safefile.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}

// madePlan is what makePlan read and made: the desired state, the lock
// and the plan.
type madePlan struct {
	fleet *schema.Fleet
	lock  *schema.Lock
	plan  *plan.Plan
	obs   *plan.Observed
}

// makePlan loads the fleet (once: plan --rendered renders from the same
// fleet) and the lock, observes, and computes the plan. Errors in the
// desired state come back as schema.Errors, for fail to print in format;
// load errors are printed here, as validate prints them (errReported).
func makePlan(ctx context.Context, e env, a *cloudArgs, paths []string, format string, opts plan.Options, hosts bool) (*madePlan, error) {
	lockPath := a.lockFile(paths)
	readLock := background(func() (*schema.Lock, error) { return schema.ReadLockFile(lockPath) })
	var readSnap func() (*plan.Observed, error)
	if a.observed != "" {
		readSnap = background(func() (*plan.Observed, error) { return readObserved(a.observed) })
	}
	f, _ := loadFleetContext(ctx, e, format, paths, loadOptions(e, a.maxInput, a.eval))
	if f == nil {
		return nil, errReported
	}
	lock, err := readLock()
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet: %v\n", err)
		return nil, errReported
	}
	var obs *plan.Observed
	if readSnap != nil {
		o, rerr := readSnap()
		obs, err = checkSnapshot(a.observed, f, o, rerr)
	} else if obs, err = observe(ctx, a, f, e); err != nil {
		err = fmt.Errorf("observe: %w", err)
	}
	if err != nil {
		return nil, err
	}
	p, err := plan.Compute(f, obs, lock, opts)
	if err != nil {
		if !isSchemaErrors(err) {
			fmt.Fprintf(e.stderr, "ecsnet: %v\n", err)
			return nil, errReported
		}
		return nil, err
	}
	if hosts {
		p = plan.WithHosts(p, f, obs)
		// The host steps that cannot run (a stopped instance) and what
		// apply does instead; apply --hosts also asks Cloud Assistant
		// which agents are up (hostReach).
		p.Notes = append(p.Notes, plan.ReachNotes(p, plan.Unreachable(p, obs, nil))...)
	}
	return &madePlan{fleet: f, lock: lock, plan: p, obs: obs}, nil
}

// readObserved reads the snapshot of plan --observed, saying in the user's
// terms what is wrong with the file. An empty file is what a failed
// `ecsnet observe > FILE` leaves behind, so it gets its own message.
func readObserved(path string) (*plan.Observed, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("--observed %s: no such file; write a snapshot first: ecsnet observe PATH... > %s", path, path)
	case err != nil:
		return nil, fmt.Errorf("--observed: %w", err)
	case st.IsDir():
		return nil, fmt.Errorf("--observed %s: is a directory; name the snapshot file that ecsnet observe wrote", path)
	case st.Mode().IsRegular() && st.Size() == 0:
		return nil, fmt.Errorf("--observed %s: the file is empty, as a failed `ecsnet observe > %s` leaves it; run ecsnet observe again", path, path)
	}
	o, err := readSnapshotFile(path)
	if err != nil {
		return nil, fmt.Errorf("--observed: %w; write it again with ecsnet observe", err)
	}
	return o, nil
}
