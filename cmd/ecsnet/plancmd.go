package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/pflag"

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
	hosts        bool
	paths        []string
}

func planFlags(a *planArgs) *pflag.FlagSet {
	fs := newFlagSet("plan")
	addCloudFlags(fs, &a.cloud, true)
	fs.StringVar(&a.format, "format", formatText, "output format: text, json or markdown (a pull-request comment)")
	fs.StringVar(&a.save, "save", "", "also save the plan to this file, for ecsnet apply --plan and ecsnet show")
	fs.BoolVar(&a.detailedExit, "detailed-exitcode", false, "exit 2 when the plan has changes (0: none, 1: error)")
	fs.BoolVar(&a.failUnrec, "fail-on-unrecorded", false, "with --detailed-exitcode: count addresses the lock does not record (added by hand; --prune would remove them) as changes, so a CI gate sees them")
	fs.BoolVar(&a.prune, "prune", false, "also remove addresses the lock does not record (added by hand)")
	fs.BoolVar(&a.hosts, "hosts", false, "also show the host steps apply --hosts would run (Cloud Assistant, before and after the cloud steps)")
	fs.StringVar(&a.rendered, "rendered", "", "also list, per host, the files of this render directory (ecsnet render --out) that a render changes; values the cloud picks at apply show as <...>")
	return fs
}

func runPlan(ctx context.Context, args []string, e env) int {
	var a planArgs
	fs := planFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if err := checkFormat(a.format, formatText, formatJSON, formatMarkdown); err != nil {
		return flagError(fs, err, e)
	}
	a.paths = fs.Args()
	if a.failUnrec && !a.detailedExit {
		return flagError(fs, errors.New("--fail-on-unrecorded changes only the exit code of --detailed-exitcode: add --detailed-exitcode"), e)
	}
	if a.rendered != "" {
		// Checked first: a mistyped directory would otherwise list every
		// file as new, after the whole plan was computed.
		if st, err := os.Stat(a.rendered); err != nil || !st.IsDir() {
			fmt.Fprintf(e.stderr, "ecsnet plan: --rendered %s: not a directory; name the directory ecsnet render --out wrote (render it first: ecsnet render --out %s PATH...)\n", a.rendered, a.rendered)
			return exitError
		}
	}
	p, code := makePlan(ctx, e, &a.cloud, a.format, a.paths, a.prune, a.hosts)
	if p == nil {
		return code
	}
	if a.save != "" {
		var b bytes.Buffer
		if err := plan.WriteJSON(&b, p); err != nil {
			fmt.Fprintf(e.stderr, "ecsnet plan: %v\n", err)
			return exitError
		}
		// Through a random temporary name, renamed over FILE: a link at
		// FILE or beside it is never written through.
		if err := safefile.WriteFile(a.save, b.Bytes(), 0o644); err != nil {
			fmt.Fprintf(e.stderr, "ecsnet plan: save: %v\n", err)
			return exitError
		}
	}
	// Counted after the save: the note is for this output, not part of
	// the plan apply --plan compares.
	unrecorded := 0
	if a.failUnrec {
		unrecorded = keptUnrecorded(p)
		if unrecorded > 0 {
			verb := "count"
			if unrecorded == 1 {
				verb = "counts"
			}
			p.Notes = append(p.Notes, fmt.Sprintf("--fail-on-unrecorded: %s the lock does not record (added outside ecsnet) %s as changes: exit 2. "+
				"Remove them with ecsnet apply --prune, or name them in the desired state to keep them.",
				plural(unrecorded, "address", "addresses"), verb))
		}
	}
	if err := writePlan(e.stdout, p, a.format); err != nil {
		fmt.Fprintf(e.stderr, "ecsnet plan: %v\n", err)
		return exitError
	}
	if a.rendered != "" {
		// The host section is assembled here: plan and render are siblings
		// and neither imports the other.
		f, _ := schema.LoadContext(ctx, a.paths, loadOptions(e, a.cloud.maxInput, a.cloud.eval))
		lock, err := schema.ReadLockFile(a.cloud.lockFile(a.paths))
		if err == nil && f != nil {
			err = render.WriteChanges(e.stdout, a.rendered, f, lock)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "ecsnet plan: --rendered: %v\n", err)
			return exitError
		}
	}
	if a.detailedExit && (!p.Empty() || unrecorded > 0) {
		return exitChanges
	}
	return exitOK
}

// keptUnrecorded counts the addresses the lock does not record that the
// plan keeps (a plan made with --prune removes them in its steps).
func keptUnrecorded(p *plan.Plan) int {
	n := 0
	for _, u := range p.Unrecorded {
		if !u.Pruned {
			n += len(u.IPs)
		}
	}
	return n
}

const formatMarkdown = "markdown"

func writePlan(w io.Writer, p *plan.Plan, format string) error {
	switch format {
	case formatJSON:
		return plan.WriteJSON(w, p)
	case formatMarkdown:
		return plan.WriteMarkdown(w, p, plan.MarkdownOptions{})
	}
	return plan.WriteText(w, p, plan.TextOptions{})
}

// makePlan loads the fleet and the lock, observes, and computes the plan,
// reporting any error itself.
func makePlan(ctx context.Context, e env, a *cloudArgs, format string, paths []string, prune, hosts bool) (*plan.Plan, int) {
	lockPath := a.lockFile(paths)
	readLock := background(func() (*schema.Lock, error) { return schema.ReadLockFile(lockPath) })
	var readSnap func() (*plan.Observed, error)
	if a.observed != "" {
		readSnap = background(func() (*plan.Observed, error) { return readObserved(a.observed) })
	}
	f, code := loadFleetContext(ctx, e, format, paths, loadOptions(e, a.maxInput, a.eval))
	if f == nil {
		return nil, code
	}
	lock, err := readLock()
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet: %v\n", err)
		return nil, exitError
	}
	var obs *plan.Observed
	if readSnap != nil {
		o, rerr := readSnap()
		if obs, err = checkSnapshot(a.observed, f, o, rerr); err != nil {
			fmt.Fprintf(e.stderr, "ecsnet plan: %v\n", err)
			return nil, exitError
		}
	} else if obs, err = observe(ctx, a, f, e); err != nil {
		fmt.Fprintf(e.stderr, "ecsnet plan: observe: %v\n", err)
		return nil, exitError
	}
	p, err := plan.Compute(f, obs, lock, plan.Options{Prune: prune})
	if err != nil {
		if es, ok := asErrors(err); ok {
			printErrorsText(e.stderr, es)
		} else {
			fmt.Fprintf(e.stderr, "ecsnet: %v\n", err)
		}
		return nil, exitError
	}
	if hosts {
		p = plan.WithHosts(p, f, obs)
	}
	return p, exitOK
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

type showArgs struct{ format string }

func showFlags(a *showArgs) *pflag.FlagSet {
	fs := newFlagSet("show")
	fs.StringVar(&a.format, "format", formatText, "output format: text, json or markdown")
	return fs
}

// runShow renders a saved plan, e.g. a CI artefact, in any format.
func runShow(_ context.Context, args []string, e env) int {
	var a showArgs
	fs := showFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if err := checkFormat(a.format, formatText, formatJSON, formatMarkdown); err != nil {
		return flagError(fs, err, e)
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "ecsnet show: name one saved plan file (plan --save FILE)")
		return exitError
	}
	p, err := readPlanFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet show: %v\n", err)
		return exitError
	}
	if err := writePlan(e.stdout, p, a.format); err != nil {
		fmt.Fprintf(e.stderr, "ecsnet show: %v\n", err)
		return exitError
	}
	return exitOK
}

func readPlanFile(path string) (*plan.Plan, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	p, err := plan.ReadJSON(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
