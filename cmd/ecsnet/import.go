package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"
)

type importArgs struct {
	cloud cloudArgs
	as    string
	all   bool
}

func importFlags(a *importArgs) *pflag.FlagSet {
	fs := newFlagSet("import")
	addCloudFlags(fs, &a.cloud, false)
	fs.StringVar(&a.as, "as", "", "the name the adopted ENI takes in the desired state")
	fs.BoolVar(&a.all, "all", false, "write a desired state for what the region already has")
	return fs
}

func runImport(_ context.Context, args []string, e env) int {
	var a importArgs
	fs := importFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	fmt.Fprintln(e.stderr, "ecsnet import: not available yet")
	return exitError
}
