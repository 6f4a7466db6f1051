package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
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
	fmt.Fprintf(e.stdout, "Run ecsnet plan to see what the interrupted apply left; the next apply finishes it.\n")
	return exitOK
}

// unlockCommand registers unlock; run.go lists it.
func unlockCommand() command {
	return command{name: "unlock", summary: "break the fleet's lease of an apply that was killed (like terraform force-unlock)",
		usage: "[flags] LEASE_ID PATH...", help: unlockHelp,
		flags: func() *pflag.FlagSet { return unlockFlags(&unlockArgs{}) }, run: runUnlock}
}
