package main

import (
	"context"
	"fmt"
	"runtime"
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
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	fmt.Fprintln(e.stdout, versionLine(bi, runtime.GOOS+"/"+runtime.GOARCH))
	return exitOK
}

// versionLine says which ecsnet this is: the module version go build
// stamped (a tag, or a pseudo-version from the commit), the commit and
// whether the tree had uncommitted changes, the Go release and the
// platform. A build without version control information (go run, or
// -buildvcs=false as CI uses) says so rather than print a bare (devel).
func versionLine(bi *debug.BuildInfo, platform string) string {
	if bi == nil {
		return "ecsnet (devel: built without module information) " + platform
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	var detail []string
	switch {
	case rev != "":
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified {
			rev += " with uncommitted changes"
		}
		detail = append(detail, "commit "+rev)
		if when != "" {
			detail = append(detail, when)
		}
	case v == "(devel)":
		detail = append(detail, "built without version control information: go run, or -buildvcs=false")
	}
	line := "ecsnet " + v
	if len(detail) > 0 {
		line += " (" + strings.Join(detail, ", ") + ")"
	}
	return line + " " + bi.GoVersion + " " + platform
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
