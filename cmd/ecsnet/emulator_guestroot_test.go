package main

import (
	"os"
	"strings"
	"testing"
)

// TestEmulatorGuestRootFlags: --guest-root needs --hosts, and a directory
// that is not a complete guest root is refused (exit 1) with how to build
// one, before anything is served.
func TestEmulatorGuestRootFlags(t *testing.T) {
	code, _, stderr := runCLI(t, "emulator", "--guest-root", t.TempDir())
	if code != exitError || !strings.Contains(stderr, "--guest-root needs --hosts") {
		t.Errorf("--guest-root without --hosts: exit %d\n%s", code, stderr)
	}
	if os.Geteuid() != 0 {
		t.Skip("the rest needs root (hosts mode)")
	}
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "emulator", "--hosts", "--guest-root", dir)
	if code != exitError || stdout != "" || !strings.Contains(stderr, dir+" is not a complete guest root") ||
		!strings.Contains(stderr, "ecsnet emulator --build-guest-root") {
		t.Errorf("--guest-root with an empty directory: exit %d\n%s%s", code, stdout, stderr)
	}
}
