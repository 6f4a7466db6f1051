package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/schema"
)

// TestApplyInterrupted sends SIGINT, or SIGTERM, to `ecsnet apply` while
// its steps are in flight: the calls in flight finish, no other step
// starts, the lock is written and loads, the lease is released, and the
// exit code is 130, or 143. A second apply right after, without
// --lock-timeout, takes the lease at once and converges.
func TestApplyInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) { applyInterrupted(t, tc.sig, tc.code) })
	}
}

func applyInterrupted(t *testing.T, sig syscall.Signal, want int) {
	_, url, dir := slowCloud(t, emulator.Options{Latency: 60 * time.Millisecond, AsyncDelay: 50 * time.Millisecond})
	lockPath := filepath.Join(dir, schema.LockFileName)
	c := startCLI(t, "apply", "--auto-approve", "--parallelism", "2", "--endpoint", url, dir)
	var doneBefore int
	for l := range c.lines {
		c.stderr.WriteString(l + "\n")
		if strings.HasPrefix(l, "  done ") {
			doneBefore++
			if doneBefore == 1 {
				c.cmd.Process.Signal(sig)
			}
		}
	}
	err := c.cmd.Wait()
	out := c.stderr.String()
	if code := exitCode(err); code != want {
		t.Errorf("exit %d (%v), want %d\n%s", code, err, want, out)
	}
	if !strings.Contains(out, "interrupted") || !strings.Contains(out, "lock written to") {
		t.Errorf("stderr does not say the apply was interrupted and the lock written:\n%s", out)
	}
	// Parallelism 2 of 29 steps: the step whose line was read, one that
	// finished with it, and the two that had started when the signal
	// arrived; nothing after.
	if doneBefore < 1 || doneBefore > 4 || !strings.Contains(out, fmt.Sprintf("Apply: %d done, 0 failed, %d skipped", doneBefore, 29-doneBefore)) {
		t.Errorf("%d steps done, want 1 to 4 and the rest skipped\n%s", doneBefore, out)
	}
	l := readLockStrict(t, lockPath)
	created := 0
	for _, e := range l.ENIs {
		if e.Name != "" && e.ID != "" {
			created++
		}
	}
	if created == 0 {
		t.Errorf("the lock records none of the ENIs the interrupted apply created:\n%s", schema.MarshalLock(l))
	}
	cl := soakClient(t, url, 0)
	f, err := schema.Load([]string{dir}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tags := leaseTags(t, cl, f); len(tags) != 0 {
		t.Errorf("lease tags left by the interrupted apply: %v", tags)
	}

	again := startCLI(t, "apply", "--auto-approve", "--endpoint", url, dir)
	if err := again.wait(); err != nil || !strings.Contains(again.stderr.String(), "The cloud matches the desired state.") {
		t.Fatalf("the apply after the interruption: %v\n%s", err, tail(again.stderr.String(), 30))
	}
	planClean(t, url, dir)
}
