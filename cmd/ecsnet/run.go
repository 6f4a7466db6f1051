package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// Exit codes, as the README documents them.
const (
	exitOK      = 0
	exitError   = 1 // an error, or invalid input
	exitChanges = 2 // reserved: the plan has changes (with --detailed-exitcode)
)

// env is what a command may touch of the outside world. main fills it from
// the process; tests fill it with buffers and a fake environment.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	tune   tuning // zero in main; tests shorten waits
}

func newEnv() env {
	return env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
}

// command is one ecsnet subcommand.
type command struct {
	name    string
	summary string
	usage   string                // argument synopsis after the name
	help    string                // optional longer text for `ecsnet help NAME`
	flags   func() *pflag.FlagSet // a fresh flag set, for help and completion
	run     func(context.Context, []string, env) int
}

func commands() []command {
	return []command{
		{name: "validate", summary: "check desired-state files offline, with file:line:col errors", usage: "[flags] PATH...", flags: func() *pflag.FlagSet { return validateFlags(&validateArgs{}) }, run: runValidate},
		{name: "plan", summary: "show the ECS changes that bring the cloud to the desired state", usage: "[flags] PATH...", flags: func() *pflag.FlagSet { return planFlags(&planArgs{}) }, run: runPlan},
		{name: "apply", summary: "make the changes, idempotently, and write the lock file", usage: "[flags] PATH...", flags: func() *pflag.FlagSet { return applyFlags(&applyArgs{}) }, run: runApply},
		failoverCommand(),
		unlockCommand(),
		{name: "push", summary: "deliver the current render to the hosts through Cloud Assistant, with no cloud change", usage: "[flags] PATH...", help: pushHelp, flags: func() *pflag.FlagSet { return pushFlags(&pushArgs{}) }, run: runPush},
		{name: "verify", summary: "compare every host's live addresses, routes and rules with the render (exit 2 on drift)", usage: "[flags] PATH...", help: verifyHelp, flags: func() *pflag.FlagSet { return verifyFlags(&verifyArgs{}) }, run: runVerify},
		{name: "render", summary: "write each instance's network configuration for its OS (--check: exit 2 when out of date)", usage: "--out DIR [flags] PATH...", flags: func() *pflag.FlagSet { return renderFlags(&renderArgs{}) }, run: runRender},
		{name: "import", summary: "adopt an existing ENI (import ENI_ID --as NAME), or write a desired state for a region (import --all)", usage: "[flags] ENI_ID --as NAME PATH... | --all --region REGION --vpc VPC_ID", help: importHelp, flags: func() *pflag.FlagSet { return importFlags(&importArgs{}) }, run: runImport},
		{name: "show", summary: "render a saved plan (plan --save) as text, JSON or markdown", usage: "[flags] PLANFILE", flags: func() *pflag.FlagSet { return showFlags(&showArgs{}) }, run: runShow},
		{name: "observe", summary: "write a snapshot of the cloud as the fleet sees it, for planning offline", usage: "[flags] PATH... > snapshot.json", flags: func() *pflag.FlagSet { return observeFlags(&observeArgs{}) }, run: runObserve},
		{name: "emulator", summary: "serve a local ECS API emulator (for rehearsals and tests)", usage: "[--listen ADDR] [--world FILE] [--hosts]", flags: func() *pflag.FlagSet { return emulatorFlags(&emulatorArgs{}) }, run: runEmulator},
		{name: "demo", summary: "run the bundled example fleet end to end (no cloud account needed)", usage: "[flags]", flags: func() *pflag.FlagSet { return demoFlags(&demoArgs{}) }, run: runDemo},
		{name: "completion", summary: "print a shell completion script (bash, zsh or fish)", usage: "bash|zsh|fish", flags: noFlags("completion"), run: runCompletion},
		{name: "version", summary: "print ecsnet's version", usage: "", flags: noFlags("version"), run: runVersion},
		{name: "help", summary: "show help for ecsnet or one command; `help os` lists operating systems", usage: "[COMMAND|os]", flags: noFlags("help"), run: runHelp},
	}
}

func noFlags(name string) func() *pflag.FlagSet {
	return func() *pflag.FlagSet { return newFlagSet(name) }
}

func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // we print errors and usage ourselves
	fs.SortFlags = true
	return fs
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func run(args []string, e env) int {
	ctx, stop := signalContext()
	defer stop()
	code := dispatch(ctx, args, e)
	if sc, ok := signalExit(ctx); ok {
		return sc
	}
	return code
}

func dispatch(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitError
	}
	switch args[0] {
	case "-h", "--help":
		usage(e.stdout)
		return exitOK
	case "-v", "--version":
		return runVersion(ctx, nil, e)
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(e.stderr, "ecsnet: unknown command %q\n", args[0])
		if s := closest(args[0]); s != "" {
			fmt.Fprintf(e.stderr, "Did you mean %q?\n", s)
		}
		fmt.Fprintln(e.stderr, "Run 'ecsnet help' for the list of commands.")
		return exitError
	}
	return c.run(ctx, terraformLongFlags(c.flags(), args[1:]), e)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `ecsnet compiles a reviewed desired-state file into an Alibaba Cloud ECS
network change plan and per-host network configuration.

Usage:
  ecsnet COMMAND [flags] [ARGS]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Exit codes: 0 success, 1 error or invalid input, 2 changes present (plan
with --detailed-exitcode), 130 or 143 stopped by SIGINT or SIGTERM (a
second signal exits at once).

Run 'ecsnet help COMMAND' for a command's flags.
`)
}

func commandUsage(w io.Writer, c command) {
	fmt.Fprintf(w, "Usage: ecsnet %s %s\n\n%s.\n", c.name, c.usage, upperFirst(c.summary))
	if c.help != "" {
		fmt.Fprintf(w, "\n%s", c.help)
	}
	if fs := c.flags(); fs.HasFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", flagUsages(fs))
	}
	examples, exits := commandDoc(c.name)
	if examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s", examples)
	}
	if exits != "" {
		fmt.Fprintf(w, "\nExit codes:\n%s  130  stopped by SIGINT (143: by SIGTERM)\n", exits)
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func closest(name string) string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.HasPrefix(n, name) || strings.HasPrefix(name, n) {
			return n
		}
	}
	return closestWord(name, names) // a typo: "valdiate"
}
