package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	format       string
	paths        []string // the desired-state PATHs, for the hints

	// allowFailback lifts the failback guard (failback.go).
	allowFailback bool

	skipProbes probeList // --skip-probes (probeflag.go)

	// allowCompeting: see push's (guest.PayloadOptions.AllowCompeting).
	allowCompeting bool
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
	addProbeFlags(fs, &a.skipProbes)
	fs.BoolVar(&a.allowCompeting, "allow-competing", false, "with --hosts: apply even on a Linux host where a network manager would undo ecsnet's configuration at the next boot (cloud-init, multi-nic-util, a later netplan file); it is still reported")
	fs.BoolVar(&a.allowFailback, "allow-failback", false, allowFailbackUsage)
	fs.DurationVar(&a.lockTimeout, "lock-timeout", 0, "wait this long for another apply of the fleet to finish (default: refuse at once)")
	fs.StringVar(&a.format, "format", formatText, "how to report the outcome on stdout: text, or json or markdown (each host's outcome, as push reports it, and the commands that finish the job; the plan and the progress then go to stderr)")
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
	if err := checkFormat(a.format, formatText, formatJSON, formatMarkdown); err != nil {
		return flagError(fs, err, e)
	}
	a.paths = fs.Args()
	if a.planFile != "" && len(a.paths) == 0 {
		return flagError(fs, fmt.Errorf("--plan %s needs the desired-state PATH too: the saved plan is checked against it (same fleet, same cloud), and the lock beside it records what apply does; run ecsnet apply --plan %s PATH...", a.planFile, a.planFile), e)
	}
	f, code := loadFleetContext(ctx, e, formatText, a.paths, loadOptions(e, a.cloud.maxInput, a.cloud.eval))
	if f == nil {
		return code
	}
	code, err := applyFleet(ctx, &a, e, f)
	if err != nil {
		return fail(e, formatText, "ecsnet apply", err)
	}
	return code
}

// applyFleet plans, shows, confirms and runs the plan. It returns the
// exit code, or an error for runApply to print.
func applyFleet(ctx context.Context, a *applyArgs, e env, f *schema.Fleet) (int, error) {
	lockPath := a.cloud.lockFile(a.paths)
	if _, err := schema.ReadLockFile(lockPath); err != nil {
		return 0, err
	}
	client, err := newClient(&a.cloud, f, e)
	if err != nil {
		return 0, err
	}
	defer client.Close()

	// Plan, show and confirm first, taking nothing: a refusal (a stale
	// saved plan, a destroy without --allow-destroy, no terminal) makes no
	// mutating call, and neither does an apply with nothing to do.
	r, err := prepareApply(ctx, a, e, f, client, lockPath)
	if err != nil {
		return 0, err
	}
	if r.p.Empty() && !failoversToSettle(a, f, r.obs) {
		return applyNothing(ctx, a, e, f, client, lockPath, r) // honours another apply's lease (lease.go)
	}
	// One apply of a fleet at a time: the lease is a tag on the fleet's
	// first instance's primary ENI (see ecs/lease.go).
	return withLease(ctx, client, f, leaseArgs{timeout: a.lockTimeout}, e, func(ctx context.Context) int {
		// Under the lease, read the lock and the cloud again: another apply
		// may have changed them while this one waited. What was shown and
		// confirmed must still be what runs.
		now, err := makeApply(ctx, a, client, f, lockPath, r.p.HasHostSteps())
		if err == nil {
			err = plan.CheckUnchanged(r.p, now.p, now.obs, a.planFile)
		}
		if err != nil {
			return fail(e, formatText, "ecsnet apply", err)
		}
		return settleFailovers(ctx, a, e, f, client, lockPath, now.obs, executeApply(ctx, a, e, f, client, lockPath, now))
	}), nil
}

// applyRun is a plan and the lock and observation it was made from.
type applyRun struct {
	p    *plan.Plan
	lock *schema.Lock
	obs  *plan.Observed
	// unreachable says, by instance ID, why Cloud Assistant cannot reach
	// a host of the plan's host steps (plan.Unreachable).
	unreachable map[string]string
}

// makeApply reads the lock, observes the cloud and makes the plan apply
// runs: Compute with apply's --prune, and with the host steps if hosts is
// set.
func makeApply(ctx context.Context, a *applyArgs, client *ecs.Client, f *schema.Fleet, lockPath string, hosts bool) (*applyRun, error) {
	lock, err := schema.ReadLockFile(lockPath)
	if err != nil {
		return nil, err
	}
	obs, err := client.Observe(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	p, err := plan.Compute(f, obs, lock, plan.Options{Prune: a.prune})
	if err != nil {
		return nil, err
	}
	if err := checkFailback(a, p, f, obs); err != nil {
		return nil, err
	}
	r := &applyRun{p: p, lock: lock, obs: obs}
	if hosts {
		r.addHosts(ctx, client, f)
	}
	return r, nil
}

// addHosts adds the host steps to r's plan, and the notes that say which
// of them cannot run (a stopped instance, an agent that is down) and
// what apply does instead (plan.ReachNotes).
func (r *applyRun) addHosts(ctx context.Context, client *ecs.Client, f *schema.Fleet) {
	r.p = plan.WithHosts(r.p, f, r.obs)
	unreachable, notes := hostReach(ctx, client, r.p, r.obs)
	r.unreachable = unreachable
	r.p.Notes = append(append(slices.Clone(r.p.Notes), notes...), plan.ReachNotes(r.p, unreachable)...)
}

// prepareApply makes the plan (and checks a saved one against it), shows
// it and asks for confirmation. An error means apply stops, having
// changed nothing.
func prepareApply(ctx context.Context, a *applyArgs, e env, f *schema.Fleet, client *ecs.Client, lockPath string) (*applyRun, error) {
	var saved *plan.Plan
	if a.planFile != "" {
		var err error
		if saved, err = plan.ReadFile(a.planFile); err == nil {
			err = plan.CheckSavedFor(saved, f.Name, a.hosts)
		}
		if err != nil {
			return nil, err
		}
	}
	// The plan is always made here, from the desired state, the lock and
	// the live cloud; a saved plan is only compared with it. A saved plan
	// made without --hosts is compared without host steps; --hosts then
	// adds them, as it does to a plan made here.
	withHosts := a.hosts && (saved == nil || saved.HasHostSteps())
	r, err := makeApply(ctx, a, client, f, lockPath, withHosts)
	if err != nil {
		return nil, err
	}
	if saved != nil {
		if err := plan.CheckSaved(saved, r.p, r.obs, a.planFile, a.prune); err != nil {
			return nil, err
		}
		if a.hosts && !withHosts {
			r.addHosts(ctx, client, f)
		}
	}
	// The plan goes with the text report; JSON and markdown keep stdout
	// for the report itself.
	out := e.stdout
	if a.format != formatText {
		out = e.stderr
	}
	if err := plan.WriteText(out, r.p, plan.TextOptions{}); err != nil {
		return nil, err
	}
	if !a.allowDestroy && slices.ContainsFunc(r.p.Steps, (*plan.Step).Destructive) {
		return nil, fmt.Errorf("%w\nnothing was changed", plan.ErrDestroy)
	}
	if !r.p.Empty() && !a.autoApprove {
		if !isTerminal(e.stdin) {
			return nil, errors.New("no terminal to confirm on; review the plan and rerun with --auto-approve (or apply a saved plan with --plan FILE --auto-approve)")
		}
		if !confirm(e, "\nApply these changes? Only 'yes' is accepted: ") {
			return nil, errors.New("cancelled; nothing was changed")
		}
	}
	return r, nil
}

// executeApply runs a confirmed plan; r.obs is the observation it was
// checked against, from which plan.Apply takes what the fleet may change.
func executeApply(ctx context.Context, a *applyArgs, e env, f *schema.Fleet, client *ecs.Client, lockPath string, r *applyRun) int {
	start := time.Now()
	opts := plan.ApplyOptions{
		Parallelism:  a.parallelism,
		AllowDestroy: a.allowDestroy,
		Prune:        a.prune,
		SaveLock:     func(l *schema.Lock) error { return schema.WriteLockFile(lockPath, l) },
		Observed:     r.obs,
	}
	if a.hosts {
		opts.Hosts = a.host.options(client, lockedPayloads(f, a.skipProbes.with(guest.PayloadOptions{AllowCompeting: a.allowCompeting})))
		opts.Hosts.Unreachable = r.unreachable
	}
	// Steps print through the heartbeat, which says what is still in
	// flight when nothing else was printed for a while.
	hb := startHeartbeat(e.stderr, heartbeatEvery(e))
	opts.Progress = hb.track(progressPrinter(hb))
	rep, err := plan.Apply(ctx, client, f, r.p, r.lock, opts)
	hb.Stop()
	if errors.Is(err, plan.ErrDestroy) || errors.Is(err, plan.ErrOutOfScope) {
		return fail(e, formatText, "ecsnet apply", fmt.Errorf("%w\nnothing was changed", err))
	}
	recheck := "ecsnet plan "
	if a.prune {
		recheck += "--prune "
	}
	took := time.Since(start)
	code := reportApply(e, rep, err, lockPath, recheck+strings.Join(a.paths, " "), took)
	var finish []finishStep
	switch {
	case rep == nil:
	case !a.hosts:
		hosts := plan.HostsToPush(r.p, rep.Done, f, r.obs)
		writeHostsToPush(e.stderr, hosts, pushCommand(&a.cloud, hosts, a.paths))
		if len(hosts) > 0 {
			finish = append(finish, finishStep{Kind: finishPush, Hosts: hosts, When: "now: this apply changed the cloud without configuring them (no --hosts)",
				Command: pushCommand(&a.cloud, hosts, a.paths)})
		}
	default:
		finish = applyFinish(a, f, rep)
		writeFinish(e.stderr, finish)
	}
	if a.format != formatText && rep != nil {
		writeApplyReport(e.stdout, a.format, f.Name, rep, err, finish, took)
	}
	return code
}
