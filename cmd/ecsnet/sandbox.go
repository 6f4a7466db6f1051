package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/schema"
)

// A desired state that needs the CUE evaluator is evaluated in a child
// process: this program, re-executed with schema.EvalChildEnv set. The
// check is in init, so that every binary built from this package (the
// tests' too, which re-execute themselves) serves the evaluation before
// it does anything else.
func init() { schema.EvalChildMain() }

// evalLimits are the caps on evaluating CUE, set by --eval-memory and
// --eval-time on every command that loads a desired state.
type evalLimits struct {
	memory int64
	time   time.Duration
}

func addEvalFlags(fs *pflag.FlagSet, l *evalLimits) {
	fs.Int64Var(&l.memory, "eval-memory", schema.DefaultMaxEvalMemory, "cap the memory (address space, bytes) of evaluating CUE inputs that are more than plain data")
	fs.DurationVar(&l.time, "eval-time", schema.DefaultMaxEvalTime, "cap the time of evaluating CUE inputs that are more than plain data")
}

// loadOptions are the options every command loads the desired state with.
func loadOptions(e env, maxInput int64, l evalLimits) schema.LoadOptions {
	return schema.LoadOptions{MaxInputBytes: maxInput, Stdin: e.stdin,
		Sandbox: &schema.Sandbox{MaxMemory: l.memory, MaxTime: l.time}}
}

// loadFleetContext loads the desired state, printing errors as validate
// does. Stopped by a signal, it prints nothing: run exits 130 or 143.
func loadFleetContext(ctx context.Context, e env, format string, paths []string, opts schema.LoadOptions) (*schema.Fleet, int) {
	if len(paths) == 0 {
		fmt.Fprintln(e.stderr, "ecsnet: name the desired-state files or directory")
		return nil, exitError
	}
	f, err := schema.LoadContext(ctx, paths, opts)
	if err != nil {
		if _, ok := signalExit(ctx); ok {
			return nil, exitError
		}
		if format != formatJSON && format != formatGitHub {
			format = formatText
		}
		return nil, reportLoad(e, format, "ecsnet", nil, err, false)
	}
	return f, exitOK
}
