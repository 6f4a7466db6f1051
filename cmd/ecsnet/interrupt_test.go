package main

// Interruption tests: `ecsnet apply` as a real process (this test binary
// re-executed, see TestMain in crash_test.go) against the example world on
// an emulator whose calls take real time, stopped by SIGINT or killed by
// SIGKILL in the middle of its steps.

import (
	"bufio"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/fixtures"
	"github.com/ecsnet/ecsnet/schema"
)

// slowCloud serves the example world on an emulator with the real clock,
// so that calls and asynchronous transitions take the time opts says, and
// returns it with its URL and a directory holding the example fleet.
func slowCloud(t *testing.T, opts emulator.Options) (*emulator.Server, string, string) {
	t.Helper()
	w, err := exampleWorld()
	if err != nil {
		t.Fatal(err)
	}
	w.AccessKeys = []emulator.AccessKey{soakKey}
	srv, err := emulator.New(w, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	dir := filepath.Join(t.TempDir(), "example")
	src, err := fixtures.Example.ReadFile("example/fleet.cue")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, hs.URL, dir
}

// startCLI starts `ecsnet ARGS...` as a child process, with the
// environment startApply gives it.
func startCLI(t *testing.T, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = []string{"ECSNET_TEST_MAIN=1", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"),
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + soakKey.AccessKeyId, "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + soakKey.AccessKeySecret,
		"ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true", "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"}
	if gr := os.Getenv("GORACE"); gr != "" {
		cmd.Env = append(cmd.Env, "GORACE="+gr)
	}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 1024)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	return c
}

// exitCode returns a finished child's exit code, or -1 if a signal ended
// it.
func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// TestApplyAfterKillWaitsForLease: an apply killed by SIGKILL while its
// attaches are in flight leaves its lease tag behind. The next apply with
// --lock-timeout waits for that lease to lapse and then converges at the
// first attempt, although the killed apply's attaches finished (the ENIs
// went from Attaching to InUse) while it waited.
func TestApplyAfterKillWaitsForLease(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	srv, url, dir := slowCloud(t, emulator.Options{Latency: 20 * time.Millisecond, AsyncDelay: 1500 * time.Millisecond})
	cl := soakClient(t, url, 0)
	f, err := schema.Load([]string{dir}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := startCLI(t, "apply", "--auto-approve", "--endpoint", url, dir)
	// Kill once the creates are done and the attaches have been sent:
	// the attaches take AsyncDelay to finish in the cloud.
	var attaching bool
	deadline := time.After(30 * time.Second)
wait:
	for !attaching {
		select {
		case <-deadline:
			break wait
		case <-time.After(20 * time.Millisecond):
		}
		for _, n := range srv.State().NetworkInterfaces {
			if n.Status == "Attaching" {
				attaching = true
			}
		}
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.wait()
	if !attaching {
		t.Fatalf("no attach was in flight before the kill:\n%s", c.stderr.String())
	}
	tags := leaseTags(t, cl, f)
	if len(tags) != 1 {
		t.Fatalf("lease tags after the kill: %v, want the killed apply's", tags)
	}
	// The killed holder's lease would last two minutes; make it lapse in
	// two seconds, as if the kill had happened long ago, and leave the
	// attaches time to finish only while the next apply waits.
	ins, err := cl.DescribeInstances(context.Background(), []string{f.Instances[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	soon := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339)
	for k := range tags {
		if err := cl.TagResources(context.Background(), []string{ins[0].PrimaryENI}, map[string]string{k: soon}); err != nil {
			t.Fatal(err)
		}
	}
	next := startCLI(t, "apply", "--auto-approve", "--lock-timeout", "1m", "--endpoint", url, dir)
	if err := next.wait(); err != nil || !strings.Contains(next.stderr.String(), "The cloud matches the desired state.") {
		t.Fatalf("the first apply after the kill, with --lock-timeout: %v\n%s\nkilled run:\n%s", err, next.stderr.String(), c.stderr.String())
	}
	if !strings.Contains(next.stderr.String(), "waiting up to 1m0s") {
		t.Errorf("the apply did not wait for the killed holder's lease:\n%s", next.stderr.String())
	}
	planClean(t, url, dir)
	if tags := leaseTags(t, cl, f); len(tags) != 0 {
		t.Errorf("lease tags left: %v", tags)
	}
}

// planClean checks that a fresh plan of the fleet in dir has no changes
// and that the lock loads.
func planClean(t *testing.T, url, dir string) {
	t.Helper()
	readLockStrict(t, filepath.Join(dir, schema.LockFileName))
	var out, errb strings.Builder
	vars := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": soakKey.AccessKeyId, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": soakKey.AccessKeySecret}
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	if code := run([]string{"plan", "--detailed-exitcode", "--endpoint", url, dir}, e); code != exitOK {
		t.Errorf("plan after the apply: exit %d, want 0 (no changes)\n%s%s", code, out.String(), errb.String())
	}
}
