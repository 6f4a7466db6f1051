package main

// Crash tests: `ecsnet apply` as a real process, killed with SIGKILL at
// random points of a 500-step apply and re-run, against the emulator
// served from the test process over loopback. The child is this test
// binary, re-executed with ECSNET_TEST_MAIN set (see TestMain), so it runs
// exactly the code under test, with the race detector when the tests have
// it, and no build step is needed.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/schema"
)

// TestMain runs the ecsnet command instead of the tests when the crash
// tests re-execute this binary as the apply process.
func TestMain(m *testing.M) {
	if os.Getenv("ECSNET_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], newEnv()))
	}
	os.Exit(m.Run())
}

// crashInstances gives a plan of 500 steps from scratch (see
// soakInstances).
const crashInstances = 100

// child is one `ecsnet apply` process.
type child struct {
	cmd    *exec.Cmd
	lines  chan string // stderr, line by line; closed at EOF
	stderr strings.Builder
}

func startApply(t *testing.T, url, dir string) *child {
	t.Helper()
	return startCLI(t, "apply", "--auto-approve", "--endpoint", url, dir)
}

// wait collects stderr and the exit status.
func (c *child) wait() error {
	for l := range c.lines {
		c.stderr.WriteString(l + "\n")
	}
	return c.cmd.Wait()
}

// TestCrashApply kills `ecsnet apply` with SIGKILL at random points of a
// 500-step apply from scratch: right after a random number of finished
// steps, or (every third kill) up to 20 ms later, in the middle of the
// steps in flight. Every kill is followed by a
// re-run, which the next kill interrupts in turn, so each re-run starts
// from the lock, the cloud and the lease a killed process left: it finds
// the lease's holder dead on this machine and releases it at once. After every kill the
// lock parses and claims nothing the cloud lacks, and the cloud holds no
// duplicate ENI and no address the file does not pin; no re-run fails on
// its own; the last one converges to exactly the desired state, and one
// more apply changes nothing. ECSNET_CRASH_KILLS sets the number of kills
// (default 20), ECSNET_CRASH_CHAINS the number of such sequences, each on
// a fresh cloud with its own random points (default 1).
func TestCrashApply(t *testing.T) { crashApply(t, false) }

// TestCrashApplyCounted is TestCrashApply for the fleet of
// TestSoakFaultsCounted: a kill between an assign or create by count and
// the lock write leaves picked addresses on the ENI that the lock does not
// record. The re-run must neither pick again nor leak them: the assign
// replays its ClientToken (built from the recorded addresses) and gets the
// same addresses back, and an owned ENI the lock never recorded keeps the
// addresses its create picked.
func TestCrashApplyCounted(t *testing.T) { crashApply(t, true) }

func crashApply(t *testing.T, counted bool) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	kills := envInt(t, "ECSNET_CRASH_KILLS", 20)
	chains := envInt(t, "ECSNET_CRASH_CHAINS", 1)
	for chain := 1; chain <= chains; chain++ {
		t.Run(fmt.Sprintf("chain=%d", chain), func(t *testing.T) { crashChain(t, int64(chain), kills, counted) })
	}
}

func crashChain(t *testing.T, seed int64, kills int, counted bool) {
	dir := memDir(t)
	f, w := soakFleet(t, dir, crashInstances, counted)
	srv, url := bareCloud(t, w, emulator.Options{Seed: seed})
	cl := soakClient(t, url, 0)
	lockPath := filepath.Join(dir, schema.LockFileName)
	total := 5 * crashInstances
	rng := rand.New(rand.NewPCG(uint64(seed), 7))

	doneSoFar := 0
	for i := range kills {
		held := len(leaseTags(t, cl, f)) > 0
		c := startApply(t, url, dir)
		byDelay := i%3 == 2
		// Kill after a random share of what this run plans, so that the
		// kills spread over the whole apply: on average each takes an
		// equal part of what is left.
		want := -1
		killed := false
		var timer <-chan time.Time
		done := 0
	read:
		for {
			select {
			case l, ok := <-c.lines:
				if !ok {
					break read
				}
				c.stderr.WriteString(l + "\n")
				if strings.HasPrefix(l, "  done ") {
					done++
					if want < 0 {
						n := planned(l)
						if i == 0 && n != total {
							t.Errorf("the first plan has %d steps, want %d", n, total)
						}
						want = 1 + rng.IntN(max(1, 2*n/(kills-i+1)))
					}
					switch {
					case killed || done < want:
					case !byDelay:
						c.cmd.Process.Signal(syscall.SIGKILL)
						killed = true
					case timer == nil:
						// Somewhere in the steps in flight, not just after one.
						timer = time.After(time.Duration(rng.IntN(20_000)) * time.Microsecond)
					}
				}
			case <-timer:
				if !killed {
					c.cmd.Process.Signal(syscall.SIGKILL)
					killed = true
				}
			}
		}
		err := c.cmd.Wait()
		if held && !strings.Contains(c.stderr.String(), "no longer running on this machine") {
			t.Errorf("kill %d: the re-run did not release the killed apply's lease:\n%s", i+1, tail(c.stderr.String(), 40))
		}
		doneSoFar += done
		how := fmt.Sprintf("kill %d (after %d steps this run, %d in all", i+1, done, doneSoFar)
		if byDelay {
			how += ", by delay"
		}
		how += ")"
		if !killed || !isKilled(err) {
			// The run ended by itself before the kill: only convergence is
			// acceptable.
			if err != nil || !strings.Contains(c.stderr.String(), "The cloud matches the desired state.") {
				t.Fatalf("%s: the re-run failed on its own: %v\n%s", how, err, tail(c.stderr.String(), 40))
			}
			t.Logf("%s: the run converged before the kill", how)
		}
		if _, err := os.Stat(lockPath); err == nil {
			reportBad(t, how, checkCloud(f, srv.State(), readLockStrict(t, lockPath), false))
		} else if doneSoFar > 0 && !os.IsNotExist(err) {
			t.Fatalf("%s: %v", how, err)
		}
		if t.Failed() {
			t.FailNow()
		}
	}

	// The last re-run, not killed, converges.
	c := startApply(t, url, dir)
	if err := c.wait(); err != nil || !strings.Contains(c.stderr.String(), "The cloud matches the desired state.") {
		t.Fatalf("the final re-run: %v\n%s", err, tail(c.stderr.String(), 40))
	}
	reportBad(t, "converged", checkCloud(f, srv.State(), readLockStrict(t, lockPath), true))
	srv.ResetCounters()
	c = startApply(t, url, dir)
	if err := c.wait(); err != nil || !strings.Contains(c.stderr.String(), "The cloud matches the desired state.") {
		t.Fatalf("apply after convergence: %v\n%s", err, tail(c.stderr.String(), 40))
	}
	// The lease's TagResources and UntagResources change no network.
	for a, n := range srv.Calls() {
		if mutatingAction(a) && a != "TagResources" && a != "UntagResources" && n > 0 {
			t.Errorf("apply after convergence made %d %s calls: %v", n, a, srv.Calls())
		}
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, ".ecsnet.lock.*.tmp"))
	t.Logf("%d kills over a %d-step apply; %d steps done across the killed runs; %d temporary lock files left by killed writes",
		kills, total, doneSoFar, len(tmps))
}

// planned returns the plan's size from a progress line ("... [3/500]").
func planned(line string) int {
	i := strings.LastIndexByte(line, '/')
	j := strings.LastIndexByte(line, ']')
	if i < 0 || j < i {
		return 0
	}
	n, _ := strconv.Atoi(line[i+1 : j])
	return n
}

// isKilled reports whether a process ended by SIGKILL.
func isKilled(err error) bool {
	ee, ok := err.(*exec.ExitError)
	if !ok {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// TestCrashApplyLeaseReleased: `ecsnet apply` killed with SIGKILL in the
// middle of its steps leaves its lease tag behind, with a TTL of 2
// minutes. The next apply on the same machine, with no --lock-timeout,
// does not wait for it: it finds the holder's process gone, releases the
// lease at once, says whose it was and that it was dead, and converges.
func TestCrashApplyLeaseReleased(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := memDir(t)
	f, w := soakFleet(t, dir, 10, false)
	_, url := bareCloud(t, w, emulator.Options{Seed: 1})
	cl := soakClient(t, url, 0)

	c := startApply(t, url, dir)
	for l := range c.lines {
		c.stderr.WriteString(l + "\n")
		if strings.HasPrefix(l, "  done ") {
			c.cmd.Process.Signal(syscall.SIGKILL)
			break
		}
	}
	if err := c.wait(); !isKilled(err) {
		t.Fatalf("the apply was not killed mid-way: %v\n%s", err, tail(c.stderr.String(), 20))
	}
	left := leaseTags(t, cl, f)
	if len(left) != 1 {
		t.Fatalf("lease tags after the kill: %v, want the killed apply's", left)
	}
	var holder string
	for k := range left {
		holder = strings.TrimPrefix(k, ecs.LeaseTagPrefix)
	}

	start := time.Now()
	next := startApply(t, url, dir)
	if err := next.wait(); err != nil || !strings.Contains(next.stderr.String(), "The cloud matches the desired state.") {
		t.Fatalf("the next apply: %v\n%s", err, tail(next.stderr.String(), 40))
	}
	want := fmt.Sprintf("ecsnet apply: released the lease of %s (pid %d, since ", holder, c.cmd.Process.Pid)
	if !strings.Contains(next.stderr.String(), want) || !strings.Contains(next.stderr.String(), "no longer running on this machine") {
		t.Errorf("the next apply does not say it released the dead holder's lease (%q):\n%s", want, tail(next.stderr.String(), 40))
	}
	if got := leaseTags(t, cl, f); len(got) != 0 {
		t.Errorf("lease tags after the next apply: %v", got)
	}
	t.Logf("the next apply ran and converged in %s", time.Since(start).Round(time.Millisecond))
}
