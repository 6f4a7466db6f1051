package main

import (
	"strings"
	"testing"
)

// TestVerifyPlainEmulator runs verify against the emulator without
// --hosts, which runs no scripts: each host's error says, in the user's
// words, that the host reported nothing and why that may be, not the
// protocol's marker line.
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
	want := "the host's verify script did not report its live state (exit 0, no output): was it run? (ecsnet emulator without --hosts runs no scripts)"
	if n := strings.Count(out, want); n == 0 {
		t.Errorf("verify does not say what is missing (%q):\n%s", want, out)
	}
}
