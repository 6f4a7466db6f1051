package main

// This file turns SIGINT and SIGTERM into the cancellation of a
// command's context, and the signal into the exit code.

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
)

// signalError is the cause of the command's context when SIGINT or
// SIGTERM stopped it: context.Cause(ctx) is one, and signalExit maps it
// to the exit code.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return "stopped by " + e.sig.String() }

// exitCode is the shell's code for death by the signal: 128+n, so 130 for
// SIGINT and 143 for SIGTERM.
func (e signalError) exitCode() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

// signalExit reports whether a signal stopped ctx and with which exit code
// the command should end.
func signalExit(ctx context.Context) (int, bool) {
	var se signalError
	if errors.As(context.Cause(ctx), &se) {
		return se.exitCode(), true
	}
	return 0, false
}

// signalContext returns a context that the first SIGINT or SIGTERM
// cancels, with a signalError as its cause; the commands stop at their next
// check of it (apply: after the calls in flight). A second signal ends the
// process at once, for a user who will not wait.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			cancel(signalError{sig})
		case <-done:
			return
		}
		select {
		case sig := <-ch:
			os.Exit(signalError{sig}.exitCode())
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}
