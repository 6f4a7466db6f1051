package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/guest"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

type applyArgs struct {
	cloud        cloudArgs
	autoApprove  bool
	planFile     string
	allowDestroy bool
	parallelism  int
	prune        bool
	hosts        bool
	host         hostArgs
	lockTimeout  time.Duration
	paths        []string // the desired-state PATHs, for the hints
}

func applyFlags(a *applyArgs) *pflag.FlagSet {
	fs := newFlagSet("apply")
	addCloudFlags(fs, &a.cloud, false)
	fs.BoolVar(&a.autoApprove, "auto-approve", false, "apply without asking (needed without a terminal, e.g. in CI)")
	fs.StringVar(&a.planFile, "plan", "", "apply exactly this saved plan (plan --save), refusing if the cloud changed since; still name the desired-state PATH: the plan is checked against it, and the lock beside it records what apply does")
	fs.BoolVar(&a.allowDestroy, "allow-destroy", false, "permit steps that delete or replace ENIs")
	fs.IntVar(&a.parallelism, "parallelism", 10, "steps in flight at once")
	fs.BoolVar(&a.prune, "prune", false, "also remove addresses the lock does not record (added by hand)")
	fs.BoolVar(&a.hosts, "hosts", false, "also reconfigure the instances through Cloud Assistant: each host stops using what the cloud removes before it goes, and starts using what it adds after")
	addHostFlags(fs, &a.host)
	fs.DurationVar(&a.lockTimeout, "lock-timeout", 0, "wait this long for another apply of the fleet to finish (default: refuse at once)")
	return fs
}

func runApply(ctx context.Context, args []string, e env) int {
	var a applyArgs
	fs := applyFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if a.parallelism < 1 {
		return flagError(fs, errors.New("--parallelism must be at least 1"), e)
	}
	if err := a.host.check(); err != nil {
		return flagError(fs, err, e)
	}
	paths := fs.Args()
	a.paths = paths
	if a.planFile != "" && len(paths) == 0 {
		return flagError(fs, fmt.Errorf("--plan %s needs the desired-state PATH too: the saved plan is checked against it (same fleet, same cloud), and the lock beside it records what apply does; run ecsnet apply --plan %s PATH...", a.planFile, a.planFile), e)
	}
	f, code := loadFleetContext(ctx, e, formatText, paths, loadOptions(e, a.cloud.maxInput, a.cloud.eval))
	if f == nil {
		return code
	}
	lockPath := a.cloud.lockFile(paths)
	if _, err := schema.ReadLockFile(lockPath); err != nil {
		fmt.Fprintf(e.stderr, "ecsnet apply: %v\n", err)
		return exitError
	}
	client, err := newClient(&a.cloud, f, e)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet apply: %v\n", err)
		return exitError
	}
	defer client.Close()

	// Plan, show and confirm first, taking nothing: a refusal (a stale
	// saved plan, a destroy without --allow-destroy, no terminal) makes no
	// mutating call, and neither does an apply with nothing to do.
	p, lock, obs, code, ok := prepareApply(ctx, &a, e, f, client, lockPath)
	if !ok {
		return code
	}
	if p.Empty() {
		return executeApply(ctx, &a, e, f, client, lockPath, p, lock, obs)
	}
	// One apply of a fleet at a time: the lease is a tag on the fleet's
	// first instance's primary ENI (see ecs/lease.go).
	return withLease(ctx, client, f, leaseArgs{timeout: a.lockTimeout}, e, func(ctx context.Context) int {
		// Under the lease, read the lock and the cloud again: another apply
		// may have changed them while this one waited.
		lock, err := schema.ReadLockFile(lockPath)
		if err != nil {
			fmt.Fprintf(e.stderr, "ecsnet apply: %v\n", err)
			return exitError
		}
		obs, err := client.Observe(ctx, f)
		if err != nil {
			fmt.Fprintf(e.stderr, "ecsnet apply: observe: %v\n", err)
			return exitError
		}
		// What was shown and confirmed must still be what runs. Compare
		// the steps, not the fingerprint of what they touch: an attach or
		// delete that a killed apply left in flight finishes while this
		// one waits for the dead holder's lease to lapse, which changes
		// the ENI's status (and so the fingerprint) but not the plan.
		now, err := computeApply(&a, f, obs, lock, hasHostStep(p.Steps))
		if err != nil {
			fmt.Fprintf(e.stderr, "ecsnet apply: %v\n", err)
			return exitError
		}
		if diff := plan.Mismatch(p, now); diff != "" {
			fmt.Fprintf(e.stderr, "ecsnet apply: the cloud or the lock changed while this apply waited for the fleet's lease (%s); nothing was changed: run it again\n", diff)
			return exitError
		}
		if a.planFile != "" {
			// A saved plan promises the cloud it was reviewed against.
			if fp, _ := plan.Fingerprint(obs, p.Touched); fp != p.Fingerprint {
				fmt.Fprintf(e.stderr, "ecsnet apply: the cloud changed since %s was made (the resources it touches differ); nothing was changed: run ecsnet plan again\n", a.planFile)
				return exitError
			}
		}
		return executeApply(ctx, &a, e, f, client, lockPath, now, lock, obs)
	})
}

// computeApply makes the plan apply runs: Compute with apply's --prune,
// and with the host steps if hosts is set.
func computeApply(a *applyArgs, f *schema.Fleet, obs *plan.Observed, lock *schema.Lock, hosts bool) (*plan.Plan, error) {
	p, err := plan.Compute(f, obs, lock, plan.Options{Prune: a.prune})
	if err != nil {
		return nil, err
	}
	if hosts {
		p = plan.WithHosts(p, f, obs)
	}
	return p, nil
}

// prepareApply reads the lock, observes, makes the plan (and checks a
// saved one against it), shows it and asks for confirmation. ok is false
// when apply must stop with code.
func prepareApply(ctx context.Context, a *applyArgs, e env, f *schema.Fleet, client *ecs.Client, lockPath string) (*plan.Plan, *schema.Lock, *plan.Observed, int, bool) {
	fail := func(format string, args ...any) (*plan.Plan, *schema.Lock, *plan.Observed, int, bool) {
		fmt.Fprintf(e.stderr, "ecsnet apply: "+format+"\n", args...)
		return nil, nil, nil, exitError, false
	}
	lock, err := schema.ReadLockFile(lockPath)
	if err != nil {
		return fail("%v", err)
	}
	obs, err := client.Observe(ctx, f)
	if err != nil {
		return fail("observe: %v", err)
	}
	var saved *plan.Plan
	if a.planFile != "" {
		if saved, err = readPlanFile(a.planFile); err != nil {
			return fail("%v", err)
		}
		if saved.Fleet != f.Name {
			return fail("the saved plan is for fleet %q, the desired state is %q", saved.Fleet, f.Name)
		}
		if hasHostStep(saved.Steps) && !a.hosts {
			return fail("the saved plan has host steps; apply it with --hosts")
		}
	}
	// The plan is always made here, from the desired state, the lock and
	// the live cloud; a saved plan is only compared with it. Nothing of
	// the file is executed, so an edited file can refuse but never widen
	// what apply does.
	// A saved plan made without --hosts is compared without host steps;
	// --hosts then adds them, as it does to a plan made here.
	withHosts := a.hosts && (saved == nil || hasHostStep(saved.Steps))
	p, err := computeApply(a, f, obs, lock, withHosts)
	if err != nil {
		if es, ok := asErrors(err); ok {
			printErrorsText(e.stderr, es)
			return nil, nil, nil, exitError, false
		}
		return fail("%v", err)
	}
	if saved != nil {
		if fp, _ := plan.Fingerprint(obs, saved.Touched); fp != saved.Fingerprint {
			return fail("the cloud changed since %s was made (the resources it touches differ); run ecsnet plan again", a.planFile)
		}
		if diff := plan.Mismatch(saved, p); diff != "" {
			hint := ""
			if !a.prune && pruned(saved) {
				hint = " (it was made with --prune: pass --prune to apply it)"
			}
			return fail("%s does not match the plan made now from the desired state, the lock and the cloud%s: %s\n"+
				"nothing was changed: a saved plan is applied only exactly as it was made and reviewed; run ecsnet plan --save again, review it, and apply that",
				a.planFile, hint, diff)
		}
		if saved.Fingerprint != p.Fingerprint {
			// Same steps over other resources: the file's touched list
			// was edited.
			return fail("%s does not cover the resources the plan made now touches (was it edited?); nothing was changed: run ecsnet plan --save again", a.planFile)
		}
		if a.hosts && !withHosts {
			p = plan.WithHosts(p, f, obs)
		}
	}
	if err := plan.WriteText(e.stdout, p, plan.TextOptions{}); err != nil {
		return fail("%v", err)
	}
	if !a.allowDestroy {
		for _, s := range p.Steps {
			if s.Destructive() {
				return fail("%v\nnothing was changed", plan.ErrDestroy)
			}
		}
	}
	if !p.Empty() && !a.autoApprove {
		if !isTerminal(e.stdin) {
			return fail("no terminal to confirm on; review the plan and rerun with --auto-approve (or apply a saved plan with --plan FILE --auto-approve)")
		}
		fmt.Fprint(e.stdout, "\nApply these changes? Only 'yes' is accepted: ")
		answer, _ := bufio.NewReader(e.stdin).ReadString('\n')
		if strings.TrimSpace(answer) != "yes" {
			return fail("cancelled; nothing was changed")
		}
	}
	return p, lock, obs, exitOK, true
}

// pruned reports whether a plan was made with --prune.
func pruned(p *plan.Plan) bool {
	for _, u := range p.Unrecorded {
		if u.Pruned {
			return true
		}
	}
	return false
}

// executeApply runs a confirmed plan; obs is the observation it was
// checked against, from which plan.Apply takes what the fleet may change.
func executeApply(ctx context.Context, a *applyArgs, e env, f *schema.Fleet, client *ecs.Client, lockPath string, p *plan.Plan, lock *schema.Lock, obs *plan.Observed) int {
	start := time.Now()
	opts := plan.ApplyOptions{
		Parallelism:  a.parallelism,
		AllowDestroy: a.allowDestroy,
		Prune:        a.prune,
		SaveLock:     func(l *schema.Lock) error { return schema.WriteLockFile(lockPath, l) },
		Observed:     obs,
	}
	if a.hosts {
		opts.Hosts = a.host.options(client, lockedPayloads(f, guest.PayloadOptions{}))
	}
	// Steps print through the heartbeat, which says what is still in
	// flight when nothing else was printed for a while.
	hb := startHeartbeat(e.stderr, heartbeatEvery(e))
	opts.Progress = hb.track(progressPrinter(hb))
	rep, err := plan.Apply(ctx, client, f, p, lock, opts)
	hb.Stop()
	if errors.Is(err, plan.ErrDestroy) || errors.Is(err, plan.ErrOutOfScope) {
		fmt.Fprintf(e.stderr, "ecsnet apply: %v\nnothing was changed\n", err)
		return exitError
	}
	recheck := "ecsnet plan "
	if a.prune {
		recheck += "--prune "
	}
	return reportApply(e, rep, err, lockPath, recheck+strings.Join(a.paths, " "), time.Since(start))
}

// progressPrinter prints a line per finished step, with its elapsed time,
// on stderr: stdout stays for the plan. plan.Apply reports from the
// goroutines that run the steps, so the writes are serialised here.
func progressPrinter(w io.Writer) func(plan.Event) {
	var mu sync.Mutex
	return func(ev plan.Event) {
		mu.Lock()
		defer mu.Unlock()
		host := ""
		if ev.Host != nil && ev.Err == nil {
			host = fmt.Sprintf(": exit %d (%s)", ev.Host.ExitCode, exitMeaning(*ev.Host))
		}
		switch ev.Phase {
		case plan.Succeeded:
			fmt.Fprintf(w, "  done     %-40s %6.1fs  [%d/%d]%s\n", ev.Step.ID, ev.Elapsed.Seconds(), ev.Done, ev.Total, host)
		case plan.Failed:
			fmt.Fprintf(w, "  FAILED   %-40s %6.1fs  [%d/%d]: %v\n", ev.Step.ID, ev.Elapsed.Seconds(), ev.Done, ev.Total, ev.Err)
		case plan.Skipped:
			why := "a step it depends on failed"
			if ev.Err != nil {
				why = ev.Err.Error()
			}
			fmt.Fprintf(w, "  skipped  %-40s          [%d/%d]: %s\n", ev.Step.ID, ev.Done, ev.Total, why)
		}
	}
}

// reportApply prints the outcome; the steps' own results decide the exit
// code. A failed read of the cloud after the steps (plan.ErrUnverified)
// is only a warning: the steps stand, and recheck (the plan command that
// says whether the cloud converged) is suggested.
func reportApply(e env, rep *plan.Report, err error, lockPath, recheck string, took time.Duration) int {
	if rep == nil {
		fmt.Fprintf(e.stderr, "ecsnet apply: %v\n", err)
		return exitError
	}
	fmt.Fprintf(e.stderr, "\nApply: %d done, %d failed, %d skipped in %.1fs; lock written to %s\n",
		len(rep.Done), len(rep.Failed), len(rep.Skipped), took.Seconds(), lockPath)
	for _, f := range rep.Failed {
		fmt.Fprintf(e.stderr, "  failed: %s: %v\n", f.Step.ID, f.Err)
	}
	reportHosts(e.stderr, rep.Hosts, rep.Skipped)
	if errors.Is(err, plan.ErrUnverified) {
		fmt.Fprintf(e.stderr, "warning: %v\nThe steps above are done and recorded in the lock; to see whether anything is left to do, run: %s\n", err, recheck)
		if len(rep.Failed) > 0 {
			return exitError
		}
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet apply: %v\n", err)
		if errors.Is(err, plan.ErrInterrupted) {
			fmt.Fprintln(e.stderr, "No step started after the interruption; the lock records what was done. Run ecsnet apply again to finish.")
		}
		return exitError
	}
	if rep.Drift != nil && !rep.Drift.Empty() {
		fmt.Fprintln(e.stderr, "\nThe cloud has not converged; a fresh plan still shows:")
		plan.WriteText(e.stderr, rep.Drift, plan.TextOptions{})
		if len(rep.Failed) == 0 {
			fmt.Fprintln(e.stderr, "Run ecsnet apply again; if the drift persists, something outside ecsnet is changing these resources.")
		}
		return exitError
	}
	if len(rep.Failed) > 0 {
		return exitError
	}
	fmt.Fprintln(e.stderr, "The cloud matches the desired state.")
	return exitOK
}

// isTerminal reports whether r is a terminal someone can answer on (see
// isTTY: /dev/null is a character device but no terminal).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && isTTY(f.Fd())
}
