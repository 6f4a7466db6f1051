package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"
)

// toolRun is one child process run to completion.
type toolRun struct {
	wall   time.Duration
	rssKiB int64
	code   int // exit code; -1 when it did not exit normally
	err    error
	stdout []byte // the first MiB
	stderr string // the first lines
}

func (r toolRun) failed(want ...int) error {
	if r.err != nil {
		return r.err
	}
	if !slices.Contains(want, r.code) {
		return fmt.Errorf("exit %d: %s", r.code, r.stderr)
	}
	return nil
}

// run runs bin with args in the module root, with extra environment
// variables, and measures its wall time (around Wait) and peak resident
// set size (getrusage of the child).
func (c *config) run(bin string, env []string, args ...string) toolRun {
	return c.runOut("", bin, env, args...)
}

// runOut is run with standard output written to the file stdoutPath
// (when not empty) instead of kept.
func (c *config) runOut(stdoutPath, bin string, env []string, args ...string) toolRun {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = c.root
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &limited{w: &stdout, n: 1 << 20}
	if stdoutPath != "" {
		fh, err := os.Create(stdoutPath)
		if err != nil {
			return toolRun{code: -1, err: err}
		}
		defer fh.Close()
		cmd.Stdout = fh
	}
	cmd.Stderr = &limited{w: &stderr, n: 4096}
	if err := cmd.Start(); err != nil {
		return toolRun{code: -1, err: err}
	}
	start := time.Now()
	err := cmd.Wait()
	r := toolRun{wall: time.Since(start), code: -1, stdout: stdout.Bytes(), stderr: firstLines(stderr.String(), 5)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rssKiB = ru.Maxrss
	}
	var exit *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		r.err = fmt.Errorf("%s %s: timed out after %s", bin, args[0], c.timeout)
	case err == nil:
		r.code = 0
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		r.code = exit.ExitCode()
	default:
		r.err = fmt.Errorf("%s %s: %v: %s", bin, args[0], err, r.stderr)
	}
	return r
}

// syncDisks flushes dirty pages, so that one run's writeback does not
// slow the next.
func syncDisks() { syscall.Sync() }

var _ io.Writer = (*limited)(nil)
