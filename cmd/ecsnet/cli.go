package main

// This file holds what several commands share of talking to the user:
// printing a command's error, asking for confirmation, the lines an
// apply prints as it goes and when it ends, and small formatting
// helpers. A command file is its flags, the library calls, and the
// printing that is its own.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ecsnet/ecsnet/guest"
	"github.com/ecsnet/ecsnet/plan"
)

// errReported is an error already printed where it was found.
var errReported = errors.New("reported")

// fail prints err for the command cmd ("ecsnet apply") and returns
// exitError. Errors in the desired state (schema.Errors, from loading,
// planning or rendering) go the way validate prints them, in format:
// file:line:col lines on stderr, the JSON document or GitHub annotations
// on stdout, so that a pull request shows a plan's errors on their lines
// as it shows validate's. Any other error is one line on stderr.
func fail(e env, format, cmd string, err error) int {
	switch {
	case errors.Is(err, errReported):
	case isSchemaErrors(err):
		if format != formatJSON && format != formatGitHub {
			format = formatText
		}
		reportLoad(e, format, cmd, nil, err, false)
	default:
		fmt.Fprintf(e.stderr, "%s: %v\n", cmd, err)
	}
	return exitError
}

func isSchemaErrors(err error) bool {
	_, ok := asErrors(err)
	return ok
}

// isTerminal reports whether r is a terminal someone can answer on (see
// isTTY: /dev/null is a character device but no terminal).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && isTTY(f.Fd())
}

// confirm asks question on stdout and reports whether the answer on
// stdin was "yes".
func confirm(e env, question string) bool {
	fmt.Fprint(e.stdout, question)
	answer, _ := bufio.NewReader(e.stdin).ReadString('\n')
	return strings.TrimSpace(answer) == "yes"
}

// homeDir returns the user's home directory as the environment names it.
func homeDir(e env) string {
	if h := e.getenv("HOME"); h != "" {
		return h
	}
	return e.getenv("USERPROFILE")
}

// addrList writes addresses for a human: "none", or comma-separated.
func addrList(as []netip.Addr) string {
	if len(as) == 0 {
		return "none"
	}
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// progressPrinter prints a line per finished step, with its elapsed time,
// on stderr: stdout stays for the plan. plan.Apply reports from the
// goroutines that run the steps, so the writes are serialised here.
func progressPrinter(w io.Writer) func(plan.Event) {
	var mu sync.Mutex
	return func(ev plan.Event) {
		mu.Lock()
		defer mu.Unlock()
		host := ""
		if ev.Host != nil && ev.Err == nil {
			host = fmt.Sprintf(": exit %d (%s)", ev.Host.ExitCode, guest.ExitMeaning(ev.Host.ExitCode))
		}
		var notExecuted *plan.NotExecutedError
		switch {
		case ev.Phase == plan.Succeeded:
			fmt.Fprintf(w, "  done     %-40s %6.1fs  [%d/%d]%s\n", ev.Step.ID, ev.Elapsed.Seconds(), ev.Done, ev.Total, host)
		case ev.Phase == plan.Failed && errors.As(ev.Err, &notExecuted):
			// Nothing ran on the host: not a failure of it, and never
			// done (guest.NotExecuted).
			fmt.Fprintf(w, "  not run  %-40s %6.1fs  [%d/%d]: %v\n", ev.Step.ID, ev.Elapsed.Seconds(), ev.Done, ev.Total, ev.Err)
		case ev.Phase == plan.Failed:
			fmt.Fprintf(w, "  FAILED   %-40s %6.1fs  [%d/%d]: %v\n", ev.Step.ID, ev.Elapsed.Seconds(), ev.Done, ev.Total, ev.Err)
		case ev.Phase == plan.Skipped:
			why := "a step it depends on failed"
			if ev.Err != nil {
				why = ev.Err.Error()
			}
			fmt.Fprintf(w, "  skipped  %-40s          [%d/%d]: %s\n", ev.Step.ID, ev.Done, ev.Total, why)
		}
	}
}

// reportApply prints the outcome of plan.Apply (for apply and the demo);
// the steps' own results decide the exit code. A failed read of the
// cloud after the steps (plan.ErrUnverified) is only a warning: the steps
// stand, and recheck (the plan command that says whether the cloud
// converged) is suggested.
func reportApply(e env, rep *plan.Report, err error, lockPath, recheck string, took time.Duration) int {
	if rep == nil {
		fmt.Fprintf(e.stderr, "ecsnet apply: %v\n", err)
		return exitError
	}
	writeApplySteps(e.stderr, rep, lockPath, took)
	if errors.Is(err, plan.ErrUnverified) {
		fmt.Fprintf(e.stderr, "warning: %v\nThe steps above are done and recorded in the lock; to see whether anything is left to do, run: %s\n", err, recheck)
		if len(rep.Failed) > 0 {
			return exitError
		}
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet apply: %v\n", err)
		if errors.Is(err, plan.ErrInterrupted) {
			fmt.Fprintln(e.stderr, "No step started after the interruption; the lock records what was done. Run ecsnet apply again to finish.")
		}
		return exitError
	}
	if rep.Drift != nil && !rep.Drift.Empty() {
		fmt.Fprintln(e.stderr, "\nThe cloud has not converged; a fresh plan still shows:")
		plan.WriteText(e.stderr, rep.Drift, plan.TextOptions{})
		if len(rep.Failed) == 0 {
			fmt.Fprintln(e.stderr, "Run ecsnet apply again; if the drift persists, something outside ecsnet is changing these resources.")
		}
		return exitError
	}
	if len(rep.Failed) > 0 {
		return exitError
	}
	if len(rep.Hosts) > 0 {
		fmt.Fprintln(e.stderr) // after the Hosts block
	}
	fmt.Fprintln(e.stderr, "The cloud matches the desired state.")
	return exitOK
}
