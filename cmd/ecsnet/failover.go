package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/internal/safefile"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// ecsnet failover ENI --to INSTANCE PATH... is the emergency path: it
// edits the one attachTo literal of the desired state in place, applies
// only that move (under the fleet's lease, with the usual checks), records
// it on the ENI so that an older desired state cannot move it back, and
// prints the git commands that make Git say what the cloud now does.

const failoverHelp = `Moves a secondary ENI to another instance now, when its host is down and
a pull request is too slow. The desired state stays the source of truth:
the command edits the ENI's attachTo in the file in place (only that
literal: comments, layout and format stay), applies only that move, and
prints the git commands to commit the edit.

It refuses, changing nothing, when attachTo is not one literal in the
ENI's own field (a reference, an expression, a default), when the
desired state has other changes the cloud does not have yet (they are
listed: apply or revert them first), or when the edited desired state is
invalid (an unknown instance, another zone, a quota).

The move is recorded as the tag ` + plan.TagFailover + ` on the ENI and in
the lock: until the desired state attaches the ENI there too, an apply
that would move it back fails and names the failover; apply
--allow-failback moves it back on purpose. The next apply of a desired
state that agrees clears the record.
`

type failoverArgs struct {
	cloud       cloudArgs
	to          string
	hosts       bool
	host        hostArgs
	parallelism int
	lockTimeout time.Duration
	eni         string
	paths       []string
}

func failoverFlags(a *failoverArgs) *pflag.FlagSet {
	fs := newFlagSet("failover")
	addCloudFlags(fs, &a.cloud, false)
	fs.StringVar(&a.to, "to", "", "the instance to move the ENI to, by its name in the desired state (required)")
	fs.BoolVar(&a.hosts, "hosts", false, "also reconfigure the two hosts through Cloud Assistant, as apply --hosts does")
	addHostFlags(fs, &a.host)
	fs.IntVar(&a.parallelism, "parallelism", 10, "steps in flight at once")
	fs.DurationVar(&a.lockTimeout, "lock-timeout", 0, "wait this long for another apply of the fleet to finish (default: refuse at once)")
	return fs
}

func runFailover(ctx context.Context, args []string, e env) int {
	var a failoverArgs
	fs := failoverFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if err := a.host.check(); err != nil {
		return flagError(fs, err, e)
	}
	switch {
	case a.to == "":
		return flagError(fs, errors.New("--to INSTANCE is required: the instance to move the ENI to"), e)
	case fs.NArg() < 2:
		return flagError(fs, errors.New("name the ENI and the desired-state PATH: ecsnet failover ENI --to INSTANCE PATH..."), e)
	case a.parallelism < 1:
		return flagError(fs, errors.New("--parallelism must be at least 1"), e)
	case slices.Contains(fs.Args()[1:], "-"):
		return flagError(fs, errors.New("failover edits the desired-state file in place, so it cannot read it from standard input"), e)
	}
	a.eni, a.paths = fs.Arg(0), fs.Args()[1:]
	f, code := loadFleetContext(ctx, e, formatText, a.paths, loadOptions(e, a.cloud.maxInput, a.cloud.eval))
	if f == nil {
		return code
	}
	code, err := failover(ctx, &a, e, f)
	if err != nil {
		return fail(e, formatText, "ecsnet failover", err)
	}
	return code
}

// failover checks, then, under the lease, edits the file and moves the
// ENI. An error before the file is written has changed nothing.
func failover(ctx context.Context, a *failoverArgs, e env, f *schema.Fleet) (int, error) {
	x := f.ENI(a.eni)
	if x == nil {
		return 0, fmt.Errorf("the desired state has no ENI %q (it has %s); nothing was changed", a.eni, strings.Join(names(f.ENIs, func(x *schema.ENI) string { return x.Name }), ", "))
	}
	to := f.Instance(a.to)
	if to == nil {
		pos := x.AttachToPos
		if !pos.IsValid() {
			pos = x.Pos
		}
		return 0, schema.Errors{{Pos: pos, Path: fmt.Sprintf("enis.%q.attachTo", x.Name),
			Msg:  fmt.Sprintf("--to %s: the desired state has no instance %q, so ENI %s cannot fail over to it; nothing was changed", a.to, a.to, x.Name),
			Hint: "name an instance of the desired state: " + strings.Join(names(f.Instances, func(in *schema.Instance) string { return in.Name }), ", ")}}
	}
	// The edit, before any call: a refusal here needs no credentials.
	var sp *schema.Splice
	if x.AttachTo != a.to {
		var err error
		if sp, err = schema.SpliceAttachTo(f, a.eni, a.to); err != nil {
			return 0, err
		}
		if st, err := os.Lstat(sp.File); err != nil {
			return 0, err
		} else if st.Mode()&os.ModeSymlink != 0 {
			return 0, fmt.Errorf("%s is a symbolic link, and ecsnet failover never writes through one; edit attachTo in the file it points to by hand and run ecsnet apply; nothing was changed", sp.File)
		}
	}
	lockPath := a.cloud.lockFile(a.paths)
	lock, err := schema.ReadLockFile(lockPath)
	if err != nil {
		return 0, err
	}
	client, err := newClient(&a.cloud, f, e)
	if err != nil {
		return 0, err
	}
	defer client.Close()
	obs, err := client.Observe(ctx, f)
	if err != nil {
		return 0, fmt.Errorf("observe: %w", err)
	}
	o := plan.FleetENI(f, obs, x)
	if o == nil {
		return 0, fmt.Errorf("ENI %s is not in the cloud yet (no ENI is tagged %s=%s, %s=%s); run ecsnet apply first; nothing was changed", x.Name, plan.TagFleet, f.Name, plan.TagENI, x.Name)
	}
	// The desired state as it is must be what the cloud has, but for
	// this ENI's move: anything else pending would be applied by the move
	// without review.
	before, err := plan.Compute(f, obs, lock, plan.Options{})
	if err != nil {
		return 0, err
	}
	if other := notTheMove(before, o.ID); len(other) > 0 {
		return 0, fmt.Errorf("the desired state has changes that are not applied yet, and a failover applies only its own move:\n%s\nnothing was changed: apply or revert them first (ecsnet plan %s), or edit attachTo by hand and run ecsnet apply",
			stepLines(other), shellJoin(a.paths))
	}
	g := f
	if sp != nil {
		if g, err = schema.LoadSpliced(ctx, a.paths, loadOptions(e, a.cloud.maxInput, a.cloud.eval), sp); err != nil {
			if isSchemaErrors(err) {
				fmt.Fprintf(e.stderr, "ecsnet failover: with attachTo: %q the desired state would be invalid; nothing was changed:\n", a.to)
			}
			return 0, err
		}
	}
	after, err := plan.Compute(g, obs, lock, plan.Options{})
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet failover: with attachTo: %q the plan fails; nothing was changed:\n", a.to)
		return 0, err
	}
	if other := notTheMove(after, o.ID); len(other) > 0 {
		return 0, fmt.Errorf("moving ENI %s to %s takes more than its detach and attach:\n%s\nnothing was changed: edit the desired state by hand and run ecsnet apply", x.Name, a.to, stepLines(other))
	}
	// The move runs as apply runs it: apply's defaults for what the
	// failover's flags do not set, the failback guard lifted (this is a
	// failover, and its record replaces any older one).
	aa := &applyArgs{}
	if err := applyFlags(aa).Parse(nil); err != nil {
		return 0, err
	}
	aa.cloud, aa.autoApprove, aa.parallelism, aa.hosts, aa.host = a.cloud, true, a.parallelism, a.hosts, a.host
	aa.lockTimeout, aa.paths, aa.allowFailback = a.lockTimeout, a.paths, true
	// The file is written under the lease, once the plan made there is
	// only the move: a failover refused by another apply's lease, or by
	// a cloud that changed, leaves the file as it was, so that it never
	// says the ENI moved when it did not.
	started := false
	code := withLease(ctx, client, g, leaseArgs{timeout: a.lockTimeout, command: "ecsnet failover"}, e, func(ctx context.Context) int {
		r, err := makeApply(ctx, aa, client, g, lockPath, a.hosts)
		if err != nil {
			return fail(e, formatText, "ecsnet failover", err)
		}
		if err := onlyTheMove(r.p, o.ID, x.AttachTo, a.to); err != nil {
			return fail(e, formatText, "ecsnet failover", err)
		}
		if sp != nil {
			if err := writeSplice(e, sp); err != nil {
				return fail(e, formatText, "ecsnet failover", err)
			}
		}
		started = true
		// The record goes on first: a failover cut short by a crash
		// still keeps an older desired state from moving the ENI back.
		at := time.Now().UTC().Truncate(time.Second)
		if err := client.TagResources(ctx, []string{o.ID}, map[string]string{plan.TagFailover: plan.FailoverTag(to, at)}); err != nil {
			return fail(e, formatText, "ecsnet failover", fmt.Errorf("record the failover on ENI %s: %w", o.ID, err))
		}
		le := r.lock.Secondary(x.Name)
		if le == nil {
			le = &schema.LockedENI{Name: x.Name}
		} else {
			c := *le
			le = &c
		}
		le.Failover = &schema.LockedFailover{To: a.to, At: at}
		r.lock.Put(le)
		if err := plan.WriteText(e.stdout, r.p, plan.TextOptions{}); err != nil {
			return fail(e, formatText, "ecsnet failover", err)
		}
		return executeApply(ctx, aa, e, g, client, lockPath, r)
	})
	if started {
		if code != exitOK {
			fmt.Fprintf(e.stdout, "\nThe move did not finish (see above); the desired state already says %s, so run the same ecsnet failover again to finish it.\n", a.to)
		}
		writeCommitHint(e.stdout, x.AttachToPos.File, lockPath, x.Name, a.to)
	}
	return code, nil
}

// writeSplice writes the edited desired state over its file, unless the
// file changed since it was read.
func writeSplice(e env, sp *schema.Splice) error {
	st, err := os.Stat(sp.File)
	if err != nil {
		return fmt.Errorf("write the failover's edit: %w", err)
	}
	if now, err := os.ReadFile(sp.File); err != nil || !bytes.Equal(now, sp.Src) {
		return fmt.Errorf("%s changed while ecsnet failover was checking it; nothing was changed: run the command again", sp.File)
	}
	if err := safefile.WriteFile(sp.File, sp.Out, st.Mode().Perm()); err != nil {
		return fmt.Errorf("write the failover's edit: %w", err)
	}
	fmt.Fprintf(e.stdout, "ecsnet failover: %s: %s: %q -> %q\n", sp.Pos, sp.Path, sp.Old, sp.New)
	return nil
}

// notTheMove returns the steps of p that are not the detach or attach of
// the ENI id.
func notTheMove(p *plan.Plan, id string) []*plan.Step {
	var out []*plan.Step
	for _, s := range p.Steps {
		if s.ENIID != id || s.Action != plan.DetachENI && s.Action != plan.AttachENI {
			out = append(out, s)
		}
	}
	return out
}

// onlyTheMove checks the plan made under the lease: the ENI's detach and
// attach, and host steps on the two instances only. Another apply may
// have changed the cloud since the first look.
func onlyTheMove(p *plan.Plan, id, from, to string) error {
	var other []*plan.Step
	for _, s := range notTheMove(p, id) {
		if s.Action.Host() && (s.Target.Name == from || s.Target.Name == to) {
			continue
		}
		other = append(other, s)
	}
	if len(other) > 0 {
		return fmt.Errorf("the cloud changed since the failover was checked; the plan now also has:\n%s\nnothing was changed (the ENI stays where it is, and the desired-state file as it was): run ecsnet plan, apply or revert those changes, then run the failover to %s again", stepLines(other), to)
	}
	return nil
}

func stepLines(steps []*plan.Step) string {
	var b strings.Builder
	for i, s := range steps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("  " + s.ID)
		if s.Reason != "" {
			b.WriteString(": " + s.Reason)
		}
	}
	return b.String()
}

// writeCommitHint prints the commands that commit the edited file (and
// the lock, when it is in the same directory), so that Git says where
// the ENI is before the next merge runs apply.
func writeCommitHint(w io.Writer, file, lockPath, eni, to string) {
	dir := filepath.Dir(file)
	add := []string{"git", "-C", dir, "add", filepath.Base(file)}
	if filepath.Dir(lockPath) == dir {
		add = append(add, filepath.Base(lockPath))
	}
	commit := []string{"git", "-C", dir, "commit", "-m", fmt.Sprintf("failover %s to %s", eni, to)}
	fmt.Fprintf(w, "\nCommit the failover, so that the desired state in Git says where ENI %s is (until it does, apply refuses to move it back):\n  %s && %s\n",
		eni, shellJoin(add), shellJoin(commit))
}

func names[T any](xs []T, name func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = name(x)
	}
	return out
}

func failoverCommand() command {
	return command{name: "failover", summary: "move an ENI to another instance now: edit its attachTo in place, apply only that move, print the git commands",
		usage: "ENI --to INSTANCE [flags] PATH...", help: failoverHelp, flags: func() *pflag.FlagSet { return failoverFlags(&failoverArgs{}) }, run: runFailover}
}
