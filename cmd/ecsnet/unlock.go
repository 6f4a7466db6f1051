package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/internal/plural"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// unlockHelp is the longer text of `ecsnet help unlock`.
const unlockHelp = `Breaks the fleet's lease on purpose, like terraform force-unlock: for an
apply that was killed on another machine, whose lease would otherwise block
every apply until it lapses (2 minutes after its last renewal). An apply
killed on this machine needs no unlock: the next apply here finds its
process gone and releases its lease itself.

LEASE_ID is the holder that the refusal names ("fleet F is being changed by
LEASE_ID ..."). unlock removes that lease's tag and changes nothing else; it
refuses when the fleet's lease has another ID, so a command copied from an
old message cannot break a newer apply's lease. An apply whose lease is
broken while it still runs stops at its next renewal.

Then unlock reads the fleet's ENIs and names the command that finishes
what the interrupted apply left: the apply, or apply --allow-failback when
an ENI carries a failover record that the desired state disagrees with
(a plain apply refuses to move it), saying first when such an ENI is
attached to no instance, its addresses served nowhere.
`

type unlockArgs struct {
	cloud cloudArgs
}

func unlockFlags(a *unlockArgs) *pflag.FlagSet {
	fs := newFlagSet("unlock")
	addCloudFlags(fs, &a.cloud, false)
	// unlock reads and writes no lock file.
	fs.MarkHidden("lock")
	return fs
}

func runUnlock(ctx context.Context, args []string, e env) int {
	var a unlockArgs
	fs := unlockFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if fs.NArg() < 2 {
		return flagError(fs, errors.New("unlock needs the lease ID and the desired-state PATH: ecsnet unlock LEASE_ID PATH... (the lease ID is the holder the refusal names)"), e)
	}
	id, paths := fs.Arg(0), fs.Args()[1:]
	f, code := loadFleetContext(ctx, e, formatText, paths, loadOptions(e, a.cloud.maxInput, a.cloud.eval))
	if f == nil {
		return code
	}
	client, err := newClient(&a.cloud, f, e)
	if err != nil {
		return fail(e, formatText, "ecsnet unlock", err)
	}
	defer client.Close()
	b, err := client.BreakLease(ctx, f, id)
	if err != nil {
		return fail(e, formatText, "ecsnet unlock", err)
	}
	who := b.Holder
	if d := b.Describe(); d != "" {
		who += " (" + d + ")"
	}
	state := ""
	switch {
	case b.Dead:
		state = "; its process was no longer running on this machine"
	case b.Here:
		state = "; its process is still running on this machine: it stops at its next renewal, when it finds its lease gone"
	case b.Expired:
		state = "; it had expired"
	case !b.Expires.IsZero():
		state = "; it was to lapse at " + b.Expires.UTC().Format(time.RFC3339) + " unless renewed: if that apply still runs, it stops at its next renewal"
	}
	fmt.Fprintf(e.stdout, "ecsnet unlock: broke the lease of fleet %s held by %s on ENI %s%s\n", f.Name, who, b.ENIID, state)
	// The lease is broken: what follows only advises, so a cloud that
	// cannot be read now costs the advice its detail, not the exit code.
	obs, err := client.Observe(ctx, f)
	if err != nil {
		fmt.Fprintf(e.stdout, "(could not read the fleet's ENIs to say what finishes the interrupted apply: %v)\n", err)
	}
	writeUnlockNext(e.stdout, &a.cloud, paths, f, obs)
	return exitOK
}

// writeUnlockNext says which command finishes what the interrupted apply
// left. A plain apply does, unless one of the fleet's ENIs carries a
// failover record that the desired state disagrees with: then a plain
// apply refuses to move that ENI (the failback guard), and the apply that
// was interrupted was moving it back with --allow-failback, so the
// command that finishes the job is that one. An ENI attached to no
// instance is named first: its addresses are served nowhere until then.
func writeUnlockNext(w io.Writer, cloud *cloudArgs, paths []string, f *schema.Fleet, obs *plan.Observed) {
	planCmd := ecsnetCommand(cloud, []string{"plan"}, paths)
	var back []plan.Failover
	if obs != nil {
		for _, fo := range plan.Failovers(f, obs) {
			if !fo.Agrees(f) {
				back = append(back, fo)
			}
		}
	}
	if len(back) == 0 {
		fmt.Fprintf(w, "Run %s to see what the interrupted apply left, then finish it (add --hosts if it configured hosts):\n  %s\n",
			planCmd, ecsnetCommand(cloud, []string{"apply"}, paths))
		return
	}
	for _, fo := range back {
		x := f.ENI(fo.ENI)
		to := fo.To
		if fo.Unreadable {
			to = "(unreadable record)"
		}
		want := "leaves it unbound"
		if x.Bound() {
			want = "attaches it to " + x.AttachTo
		}
		fmt.Fprintf(w, "ENI %s (%s) carries the record of a failover to %s, and the desired state %s: a plain apply refuses to move it.\n", fo.ENI, fo.ENIID, to, want)
		if o := plan.FleetENI(f, obs, x); o != nil && !o.Attached() && x.Bound() {
			fmt.Fprintf(w, "ENI %s is attached to no instance now: its addresses are served nowhere until it is attached; finish the move now.\n", fo.ENI)
		}
	}
	fmt.Fprintf(w, "If the interrupted apply was moving %s back (apply --allow-failback), run %s to see what it left, then finish it (add --hosts if it configured hosts):\n  %s\n"+
		"To keep the failover instead, commit it to the desired state (attachTo) and run the apply without --allow-failback.\n",
		plural.Word(len(back), "it", "them"), planCmd, ecsnetCommand(cloud, []string{"apply", "--allow-failback"}, paths))
}

// unlockCommand registers unlock; run.go lists it.
func unlockCommand() command {
	return command{name: "unlock", summary: "break the fleet's lease of an apply that was killed (like terraform force-unlock)",
		usage: "[flags] LEASE_ID PATH...", help: unlockHelp,
		flags: func() *pflag.FlagSet { return unlockFlags(&unlockArgs{}) }, run: runUnlock}
}
