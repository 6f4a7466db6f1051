package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/plan"
)

type showArgs struct{ format string }

func showFlags(a *showArgs) *pflag.FlagSet {
	fs := newFlagSet("show")
	fs.StringVar(&a.format, "format", formatText, "output format: text, json or markdown")
	return fs
}

// runShow renders a saved plan, e.g. a CI artefact, in any format.
func runShow(_ context.Context, args []string, e env) int {
	var a showArgs
	fs := showFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if err := checkFormat(a.format, formatText, formatJSON, formatMarkdown); err != nil {
		return flagError(fs, err, e)
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "ecsnet show: name one saved plan file (plan --save FILE)")
		return exitError
	}
	p, err := plan.ReadFile(fs.Arg(0))
	if err == nil {
		err = writePlan(e.stdout, p, a.format)
	}
	if err != nil {
		return fail(e, a.format, "ecsnet show", err)
	}
	return exitOK
}

const formatMarkdown = "markdown"

// writePlan writes the plan in the format plan and show print it in;
// GitHub's, for plan's errors as annotations, shows the plan as text.
func writePlan(w io.Writer, p *plan.Plan, format string) error {
	switch format {
	case formatJSON:
		return plan.WriteJSON(w, p)
	case formatMarkdown:
		return plan.WriteMarkdown(w, p, plan.MarkdownOptions{})
	}
	return plan.WriteText(w, p, plan.TextOptions{})
}
