package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// TestDemoCloudOnlyReason: when the demo runs as root but hosts mode
// does not start, it says why, not "not root". Hosts mode is made to fail
// here by a hosts directory that is a file (as a missing ifupdown would).
func TestDemoCloudOnlyReason(t *testing.T) {
	w, err := exampleWorld()
	if err != nil {
		t.Fatal(err)
	}
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	srv, why, err := demoEmulator(w, emulator.Options{Hosts: &emulator.HostsConfig{Dir: notDir}}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if strings.Contains(why, "not root") || !strings.HasPrefix(why, "cloud-only: hosts mode did not start, so the hosts are not configured: ") {
		t.Errorf("as root, cloud-only because %q", why)
	}

	w, _ = exampleWorld()
	srv2, why, err := demoEmulator(w, emulator.Options{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	if !strings.HasPrefix(why, "not root: cloud-only") {
		t.Errorf("not root, cloud-only because %q", why)
	}
}
