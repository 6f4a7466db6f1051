package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/schema"
)

// TestApplyNoopHonoursLease: an apply with nothing to do, started while
// another apply holds the fleet's lease, refuses and names the holder,
// and leaves the lock file untouched (same bytes, same file); with
// --lock-timeout it waits for the other apply and then plans again.
func TestApplyNoopHonoursLease(t *testing.T) {
	c := newE2E(t, nil)
	c.apply()
	f, cl := c.fleet(), c.client()
	ctx := context.Background()
	before, err := os.ReadFile(c.lockPath())
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(c.lockPath())
	if err != nil {
		t.Fatal(err)
	}
	busy, err := cl.AcquireLease(ctx, f, "busy-apply", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c.calls()

	code, _, errs := c.run("apply", "--auto-approve", c.dir)
	if code != exitError || !strings.Contains(errs, "fleet shop-prod is being changed by busy-apply") || !strings.Contains(errs, "--lock-timeout") {
		t.Errorf("no-op apply under another's lease: exit %d, stderr:\n%s", code, errs)
	}
	c.wantCalls(map[string]int{})
	after, err := os.ReadFile(c.lockPath())
	if err != nil {
		t.Fatal(err)
	}
	st2, err := os.Stat(c.lockPath())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) || !os.SameFile(st, st2) || !st.ModTime().Equal(st2.ModTime()) {
		t.Errorf("the lock file was rewritten under another apply's lease")
	}

	go func() {
		time.Sleep(time.Second)
		busy.Release(ctx)
	}()
	code, _, errs = c.run("apply", "--auto-approve", "--lock-timeout", "30s", c.dir)
	if code != exitOK || !strings.Contains(errs, "waiting up to 30s") || !strings.Contains(errs, "the other apply finished; planning again") ||
		!strings.Contains(errs, "The cloud matches the desired state.") {
		t.Errorf("no-op apply with --lock-timeout: exit %d, stderr:\n%s", code, errs)
	}
}

// TestApplyNoopMidAttach is the incident: apply A (a real process) is in
// the middle of its attaches, on the emulator's clock that makes an
// attach take 9 s. Once the cloud shows every ENI InUse, and before A's
// next poll sees it (A polls 0, 1, 2.5, 4.75 and 8.1 s after it sends an
// attach, then every 5 s), apply B of
// the same fleet finds nothing to do. B must not report the cloud
// converged nor rewrite the lock under A: it refuses, naming A, and the
// lock file is the same file with the same bytes. A then finishes, and
// leaves no lease behind.
func TestApplyNoopMidAttach(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and takes 30 s")
	}
	dir := memDir(t)
	f, w := soakFleet(t, dir, 2, false)
	w.AccessKeys = []emulator.AccessKey{soakKey}
	srv, err := emulator.New(w, emulator.Options{Timing: &emulator.Timing{Attach: emulator.Duration(9 * time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	vars := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": soakKey.AccessKeyId, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": soakKey.AccessKeySecret}
	runB := func() (int, string) {
		var out, errb bytes.Buffer
		e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
		code := run([]string{"apply", "--auto-approve", "--endpoint", hs.URL, dir}, e)
		return code, errb.String()
	}

	var primaries []string
	for _, n := range srv.State().NetworkInterfaces {
		primaries = append(primaries, n.NetworkInterfaceId)
	}
	a := startApply(t, hs.URL, dir)
	aDone := make(chan error, 1)
	go func() { aDone <- a.wait() }()
	// Wait for the cloud to finish the attaches A started.
	deadline := time.Now().Add(30 * time.Second)
	for {
		attached, all := 0, 0
		for _, n := range srv.State().NetworkInterfaces {
			if !slices.Contains(primaries, n.NetworkInterfaceId) {
				all++
				if n.Status == "InUse" {
					attached++
				}
			}
		}
		if all == 4 && attached == all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the attaches did not finish: %d of %d InUse", attached, all)
		}
		time.Sleep(20 * time.Millisecond)
	}
	before, err := os.ReadFile(filepath.Join(dir, schema.LockFileName))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, schema.LockFileName))
	if err != nil {
		t.Fatal(err)
	}
	code, errs := runB()
	after, err := os.ReadFile(filepath.Join(dir, schema.LockFileName))
	if err != nil {
		t.Fatal(err)
	}
	st2, err := os.Stat(filepath.Join(dir, schema.LockFileName))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-aDone:
		t.Fatal("A finished before B ran: the test's window was missed (machine too slow?)")
	default:
	}
	if code != exitError || !strings.Contains(errs, "fleet testfleet is being changed by") || strings.Contains(errs, "The cloud matches the desired state.") {
		t.Errorf("B during A's attach: exit %d, stderr:\n%s", code, errs)
	}
	if !bytes.Equal(before, after) || !os.SameFile(st, st2) {
		t.Errorf("B rewrote the lock file under A")
	}

	// (Waiting with --lock-timeout instead: TestApplyNoopHonoursLease.)
	if err := <-aDone; err != nil || !strings.Contains(a.stderr.String(), "The cloud matches the desired state.") {
		t.Fatalf("A: %v\n%s", err, a.stderr.String())
	}
	if got := leaseTags(t, soakClient(t, hs.URL, 0), f); len(got) != 0 {
		t.Errorf("lease tags left: %v", got)
	}
}

// TestApplyNoopReleasesDeadHolder: an apply with nothing to do, after an
// apply on this machine was killed once the cloud had everything, releases
// the dead apply's lease and says so, as an apply with changes does.
func TestApplyNoopReleasesDeadHolder(t *testing.T) {
	c := newE2E(t, nil)
	c.apply()
	f, cl := c.fleet(), c.client()
	model, eni := modelLease(t, cl, f)
	dead := pidField.ReplaceAllString(model, fmt.Sprintf("pid=%d start=1", os.Getpid()))
	if err := cl.TagResources(context.Background(), []string{eni}, map[string]string{ecs.LeaseTagPrefix + "killed-9-cc": dead}); err != nil {
		t.Fatal(err)
	}
	_, errs := c.apply()
	if !strings.Contains(errs, "ecsnet apply: released the lease of killed-9-cc (pid ") || !strings.Contains(errs, "no longer running on this machine") {
		t.Errorf("stderr does not say the dead holder's lease was released:\n%s", errs)
	}
	if got := leaseTags(t, cl, f); len(got) != 0 {
		t.Errorf("lease tags left: %v", got)
	}
}
