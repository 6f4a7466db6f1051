package main

import (
	"bytes"
	"context"
	"encoding/json"
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
//
// The command runs under `benchtable measure`, a small child of this
// process that starts it and reports its wall time and rusage: Go starts
// children with vfork, and Linux carries the parent's peak RSS into the
// child's ru_maxrss at exec, so a command started straight from this
// process (which holds a 20,000-instance fleet in memory) would report at
// least this process's peak.
func (c *config) runOut(stdoutPath, bin string, env []string, args ...string) toolRun {
	// The measuring child enforces the timeout (and still reports the
	// command's rusage); this context only guards against the child
	// itself hanging.
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout+time.Minute)
	defer cancel()
	self, err := os.Executable()
	if err != nil {
		return toolRun{code: -1, err: err}
	}
	cmd := exec.CommandContext(ctx, self, append([]string{"measure", c.timeout.String(), bin}, args...)...)
	cmd.Dir = c.root
	cmd.Env = append(os.Environ(), env...)
	// The measured command inherits the process group; a timeout kills
	// both.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
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
	pr, pw, err := os.Pipe()
	if err != nil {
		return toolRun{code: -1, err: err}
	}
	defer pr.Close()
	cmd.ExtraFiles = []*os.File{pw}
	if err := cmd.Start(); err != nil {
		pw.Close()
		return toolRun{code: -1, err: err}
	}
	pw.Close()
	report, _ := io.ReadAll(pr)
	werr := cmd.Wait()
	r := toolRun{code: -1, stdout: stdout.Bytes(), stderr: firstLines(stderr.String(), 5)}
	var m measured
	jerr := json.Unmarshal(report, &m)
	switch {
	case m.TimedOut || ctx.Err() == context.DeadlineExceeded:
		r.err = fmt.Errorf("%s %s: timed out after %s", bin, args[0], c.timeout)
		r.wall, r.rssKiB = time.Duration(m.WallNs), m.MaxRSSKiB
	case werr != nil || jerr != nil:
		r.err = fmt.Errorf("%s %s: the measuring child failed: %v %v: %s", bin, args[0], werr, jerr, r.stderr)
	case m.Err != "":
		r.err = fmt.Errorf("%s %s: %s: %s", bin, args[0], m.Err, r.stderr)
	default:
		r.code, r.wall, r.rssKiB = m.Code, time.Duration(m.WallNs), m.MaxRSSKiB
	}
	return r
}

// measured is what `benchtable measure` reports on file descriptor 3.
type measured struct {
	WallNs    int64
	MaxRSSKiB int64
	Code      int    // exit code; -1 when killed by a signal
	Err       string // the command could not run
	TimedOut  bool   // killed at the timeout
}

// measureMain is `benchtable measure TIMEOUT BIN ARGS...`: it runs the
// command with this process's standard files, kills it at the timeout, and
// reports a measured as JSON on file descriptor 3. Its own memory is small,
// so the command's ru_maxrss is the command's own.
func measureMain(args []string) int {
	out := os.NewFile(3, "report")
	if out == nil || len(args) < 2 {
		fmt.Fprintln(os.Stderr, "benchtable measure: run by benchtable only")
		return 2
	}
	defer out.Close()
	timeout, err := time.ParseDuration(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchtable measure: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[1], args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	var m measured
	start := time.Now()
	if err := cmd.Start(); err != nil {
		m.Err = err.Error()
	} else {
		start = time.Now()
		err := cmd.Wait()
		m.WallNs = int64(time.Since(start))
		var exit *exec.ExitError
		switch {
		case ctx.Err() == context.DeadlineExceeded:
			m.TimedOut, m.Code = true, -1
		case err == nil:
		case errors.As(err, &exit):
			m.Code = exit.ExitCode()
		default:
			m.Err = err.Error()
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.MaxRSSKiB = ru.Maxrss // KiB on Linux
		}
	}
	json.NewEncoder(out).Encode(m)
	return 0
}

// syncDisks flushes dirty pages, so that one run's writeback does not
// slow the next.
func syncDisks() { syscall.Sync() }

var _ io.Writer = (*limited)(nil)
