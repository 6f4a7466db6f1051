package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/ecsnet/ecsnet/schema"
)

func runVersion(_ context.Context, args []string, e env) int {
	fs := newFlagSet("version")
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if fs.NArg() > 0 {
		return flagError(fs, fmt.Errorf("version takes no arguments, not %q", fs.Arg(0)), e)
	}
	v := "(devel)"
	goVersion := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		goVersion = bi.GoVersion
	}
	fmt.Fprintf(e.stdout, "ecsnet %s %s\n", v, goVersion)
	return exitOK
}

func runHelp(_ context.Context, args []string, e env) int {
	switch {
	case len(args) == 0:
		usage(e.stdout)
		return exitOK
	case len(args) > 1:
		fmt.Fprintf(e.stderr, "ecsnet help: name one command, not %s\nRun 'ecsnet help' for the list of commands.\n", strings.Join(args, " "))
		return exitError
	case args[0] == "os":
		helpOS(e)
		return exitOK
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(e.stderr, "ecsnet help: unknown command %q\n", args[0])
		return exitError
	}
	commandUsage(e.stdout, c)
	return exitOK
}

// helpOS lists the OS names the desired state accepts and the network stack
// each one renders for.
func helpOS(e env) {
	fmt.Fprintln(e.stdout, "Operating systems (the instance's os: field) and the network stack each implies:")
	byStack := map[schema.Stack][]string{}
	for _, o := range schema.OSes() {
		st, _ := o.DefaultStack()
		byStack[st] = append(byStack[st], string(o))
	}
	for _, st := range schema.Stacks() {
		if len(byStack[st]) == 0 {
			continue
		}
		fmt.Fprintf(e.stdout, "  %-15s %s\n", st, strings.Join(byStack[st], ", "))
	}
	names := make([]string, 0, len(schema.Stacks()))
	for _, st := range schema.Stacks() {
		names = append(names, string(st))
	}
	fmt.Fprintf(e.stdout, "\nAn instance's network: field overrides the stack: %s.\n", strings.Join(names, ", "))
}
