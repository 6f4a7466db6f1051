package main

import (
	"strings"
	"testing"
)

// TestVerifyPlainEmulator runs verify against the emulator without
// --hosts, which runs no scripts: each host is an error (exit 1, never
// "in sync") whose reason is the emulator's own line saying that nothing
// ran and how to run it, not the protocol's marker line.
func TestVerifyPlainEmulator(t *testing.T) {
	c := newE2E(t, nil)
	c.apply()
	code, out, errs := c.run("verify", c.dir)
	if code != exitError {
		t.Fatalf("verify: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if strings.Contains(out+errs, "ECSNET-LIVE-1") {
		t.Errorf("verify speaks of the protocol's marker line:\n%s", out)
	}
	want := "s  not executed: ecsnet emulator: not executed: start the emulator with --hosts to run scripts\n"
	if n := strings.Count(out, want); n != 10 || !strings.Contains(out, "Verify: 0 in sync, 0 with drift, 10 errors, 0 not checked.") {
		t.Errorf("verify does not say what is missing (%q):\n%s", want, out)
	}
}
