package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"
)

type observeArgs struct {
	cloud cloudArgs
	paths []string
}

func observeFlags(a *observeArgs) *pflag.FlagSet {
	fs := newFlagSet("observe")
	addCloudFlags(fs, &a.cloud, false)
	return fs
}

// runObserve writes a snapshot of the cloud as the fleet sees it, for
// planning offline (plan --observed).
func runObserve(ctx context.Context, args []string, e env) int {
	var a observeArgs
	fs := observeFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	f, code := loadFleetContext(ctx, e, formatText, fs.Args(), loadOptions(e, a.cloud.maxInput, a.cloud.eval))
	if f == nil {
		return code
	}
	obs, err := observe(ctx, &a.cloud, f, e)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet observe: %v\n", err)
		return exitError
	}
	if err := obs.WriteJSON(e.stdout); err != nil {
		fmt.Fprintf(e.stderr, "ecsnet observe: %v\n", err)
		return exitError
	}
	return exitOK
}
