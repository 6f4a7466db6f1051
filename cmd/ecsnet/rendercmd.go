package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/internal/plural"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

type renderArgs struct {
	lockPath string
	observed string
	out      string
	check    bool
	maxInput int64
	eval     evalLimits
}

func renderFlags(a *renderArgs) *pflag.FlagSet {
	fs := newFlagSet("render")
	fs.StringVar(&a.lockPath, "lock", "", "lock file with what the cloud picked (default: ecsnet.lock.json beside the desired state)")
	fs.StringVar(&a.observed, "observed", "", "take what the cloud picked from this snapshot (ecsnet observe) instead of the lock")
	fs.StringVarP(&a.out, "out", "o", "", "directory of the rendered hosts, one subdirectory per instance; a file whose stat is unchanged since render last wrote or read it (the cache DIR/.ecsnet-cache) is taken as current, every other file is read back, and only files whose bytes or mode differ are rewritten; only host directories this fleet's earlier renders recorded in DIR/"+render.RecordName+" are ever removed; refused when it holds the inputs or the lock, or is /, $HOME or a repository root")
	fs.BoolVar(&a.check, "check", false, "write nothing: compare every file byte for byte; exit 2 with a unified diff, after the host directories a render would remove, when --out is out of date, 0 when it is current; hosts that need what the cloud picks at apply are shown with <...> placeholders")
	fs.Int64Var(&a.maxInput, "max-input-size", schema.DefaultMaxInputBytes, "refuse desired-state inputs larger than this many bytes in total")
	addEvalFlags(fs, &a.eval)
	return fs
}

// runRender writes each instance's network configuration for its OS.
func runRender(ctx context.Context, args []string, e env) int {
	var a renderArgs
	fs := renderFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if a.out == "" {
		return flagError(fs, errors.New("--out DIR is required"), e)
	}
	if a.lockPath != "" && a.observed != "" {
		return flagError(fs, errors.New("use --lock or --observed, not both"), e)
	}
	paths := fs.Args()
	lockPath := a.lockPath
	if lockPath == "" {
		lockPath = schema.LockPath(paths)
	}
	var inputs []render.Input
	for _, p := range paths {
		inputs = append(inputs, render.Input{What: "the desired state", Path: p})
	}
	inputs = append(inputs, render.Input{What: "the lock", Path: lockPath}, render.Input{What: "the snapshot", Path: a.observed})
	if err := render.CheckOutDir(a.out, inputs, homeDir(e)); err != nil {
		return fail(e, formatText, "ecsnet render", err)
	}
	// The fleet and the lock (or snapshot) are independent read-only
	// inputs, each about a second to parse at 20,000 instances: read the
	// lock while the fleet loads. The fleet's errors still come first, and
	// alone, as when they were read in turn.
	read := make(chan renderInputs, 1)
	go func() { read <- readRenderInputs(lockPath, a.observed) }()
	f, code := loadFleetContext(ctx, e, formatText, paths, loadOptions(e, a.maxInput, a.eval))
	in := <-read
	if f == nil {
		return code
	}
	lock, err := in.lock(f)
	if err == nil {
		// Every host's prefix and gateway come from the file's blocks:
		// refuse ones the cloud (as the lock or snapshot has it) does not
		// have, before anything is written.
		err = lock.CheckVSwitches(f).Err()
	}
	if err == nil && a.check {
		code, err = checkRender(e, renderFixes(&a, paths), a.out, f, lock)
	} else if err == nil {
		code, err = writeRender(e, a.out, f, lock)
	}
	if err != nil {
		return fail(e, formatText, "ecsnet render", err)
	}
	return code
}

// writeRender renders and writes host by host: a large fleet's bundles
// need not all be in memory at once.
func writeRender(e env, out string, f *schema.Fleet, lock *schema.Lock) (int, error) {
	w, missing, err := render.WriteFleet(out, f, lock)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(e.stdout, "rendered %s into %s (%s changed)\n", plural.Count(w.Hosts, "host", "hosts"), out, plural.Count(w.Changed, "host", "hosts"))
	if missing != nil {
		return 0, missing
	}
	return exitOK, nil
}

// renderFix is what checkRender's verdict says, when out is out of date:
// who checked, and the complete commands that bring out up to date, with
// the paths and flags of the run that checked, shell-quoted, so that the
// line can be pasted as it is (a CI log is read by someone who did not
// write the job).
type renderFix struct {
	who    string // the message's prefix: "ecsnet render" or "ecsnet plan"
	render string // writes out from what the check compared with
	apply  string // settles what the cloud picks at apply
	after  string // writes out after that apply: from the lock it wrote
	// cache, when set, lets the check take hosts whose directory is
	// current from it (plan --check --cache; cachedcheck.go).
	cache *render.HostCache
}

// renderFixes is render --check's renderFix. After an apply the render
// reads the lock that apply wrote, not a snapshot taken before it.
func renderFixes(a *renderArgs, paths []string) renderFix {
	lock := &cloudArgs{lockPath: a.lockPath}
	fix := renderFix{
		who:   "ecsnet render",
		apply: ecsnetCommand(lock, []string{"apply"}, paths),
		after: ecsnetCommand(lock, []string{"render", "--out", a.out}, paths),
	}
	fix.render = fix.after
	if a.observed != "" {
		fix.render = ecsnetCommand(lock, []string{"render", "--out", a.out, "--observed", a.observed}, paths)
	}
	return fix
}

// checkRender compares a render with out (--check), for review: hosts
// that need what the cloud picks at apply are compared with placeholders
// where those values go.
func checkRender(e env, fix renderFix, out string, f *schema.Fleet, lock *schema.Lock) (int, error) {
	r, diff, err := reviewCheck(out, f, lock, fix.cache) // cachedcheck.go
	if err != nil {
		return 0, err
	}
	if diff == "" {
		fmt.Fprintf(e.stderr, "%s is up to date (%s)\n", out, plural.Count(len(r.Bundles), "host", "hosts"))
		return exitOK, nil
	}
	if len(r.Pending) > 0 {
		// The header says which values are not real yet, before any diff
		// shows one.
		fmt.Fprintln(e.stdout, render.ReviewNote)
		for _, p := range r.Pending {
			fmt.Fprintf(e.stdout, "  %s: %s\n", p.Name, p.Needs)
		}
		fmt.Fprintln(e.stdout)
	}
	fmt.Fprint(e.stdout, diff)
	if len(r.Pending) > 0 {
		fmt.Fprintf(e.stderr, "%s: %s is out of date, and %s what the cloud picks (shown as <...>): run %s, then %s\n",
			fix.who, out, r.PendingNames(), fix.apply, fix.after)
	} else {
		fmt.Fprintf(e.stderr, "%s: %s is out of date; run %s\n", fix.who, out, fix.render)
	}
	return exitChanges, nil
}

// renderInputs are what render reads beside the fleet: the lock and,
// with --observed, a snapshot.
type renderInputs struct {
	l   *schema.Lock
	obs *plan.Observed
	err error
}

// readRenderInputs reads the lock file and the snapshot, which need no
// fleet.
func readRenderInputs(lockPath, observed string) renderInputs {
	lock, err := schema.ReadLockFile(lockPath)
	if err != nil || observed == "" {
		return renderInputs{l: lock, err: err}
	}
	obs, err := readSnapshotFile(observed)
	return renderInputs{l: lock, obs: obs, err: err}
}

// lock returns what the cloud picked: the snapshot reconciled into the
// lock as apply would, or the lock file as it is.
func (in renderInputs) lock(f *schema.Fleet) (*schema.Lock, error) {
	if in.err != nil {
		return nil, in.err
	}
	if in.obs != nil {
		plan.Reconcile(in.l, f, in.obs)
	}
	return in.l, nil
}
