package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/daemons"
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
	srv, mode, err := demoEmulator(w, emulator.Options{Hosts: &emulator.HostsConfig{Dir: notDir}}, true, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if why := mode.cloudOnly; strings.Contains(why, "not root") || !strings.HasPrefix(why, "cloud-only: hosts mode did not start, so the hosts are not configured: ") {
		t.Errorf("as root, cloud-only because %q", why)
	}

	w, _ = exampleWorld()
	srv2, mode, err := demoEmulator(w, emulator.Options{}, false, "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	if !strings.HasPrefix(mode.cloudOnly, "not root: cloud-only") {
		t.Errorf("not root, cloud-only because %q", mode.cloudOnly)
	}
}

// The example fleet's hosts by how the demo's emulator runs them.
var (
	demoNamespaceHosts = []string{"edge-1", "lb-1", "lb-2"}            // iproute2, ifupdown
	demoBootedHosts    = []string{"api-1", "app-1", "cache-1", "db-2"} // NetworkManager, netplan, networkd
	demoRecordedHosts  = []string{"db-1", "web-1", "win-1"}            // wicked, ifcfg, Windows
)

// runDemoHosts runs ecsnet demo in hosts mode with the guest root root and
// returns its output; the demo must pass.
func runDemoHosts(t *testing.T, root string) string {
	t.Helper()
	hosttest.RequireRoot(t)
	for _, tool := range []string{"ip", "unshare", "nsenter", "bash", "ifup", "mount"} {
		hosttest.RequireTool(t, tool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out bytes.Buffer
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	start := time.Now()
	code := runDemo(ctx, []string{"--dir", t.TempDir(), "--guest-root", root}, e)
	t.Logf("ecsnet demo --guest-root %s: exit %d in %s", root, code, time.Since(start).Round(100*time.Millisecond))
	if code != exitOK {
		t.Fatalf("ecsnet demo: exit %d:\n%s", code, out.String())
	}
	return out.String()
}

// wantDemoHosts checks the demo's apply and verify reports: the applied
// hosts applied and in sync, the others not executed in apply and not
// checked in verify, never applied.
func wantDemoHosts(t *testing.T, out string, applied, notExecuted []string) {
	t.Helper()
	for _, name := range applied {
		res := map[string]string{"verify": `(?m)^  ` + name + ` +i-\S+ +in sync +\d+\.\ds$`}
		// lb-2, the VIP's standby, has no secondary ENI or address: its
		// host has nothing to apply, and verify checks it.
		if name != "lb-2" {
			res["apply"] = `(?m)^  ` + name + ` +i-\S+ +applied +\d+\.\ds  applied and verified(; not probed: .+)?$`
		}
		for what, re := range res {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("%s: %s is not reported as configured:\n%s", what, name, out)
			}
		}
	}
	for _, name := range notExecuted {
		for what, re := range map[string]string{
			"apply":  `(?m)^  ` + name + ` +i-\S+ +not executed +\d+\.\ds  ecsnet emulator: ` + name + ` \(.*\): recorded, not executed \(`,
			"verify": `(?m)^  ` + name + ` +i-\S+ +not checked +\d+\.\ds  `,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("%s: %s is not reported as not executed:\n%s", what, name, out)
			}
		}
		if regexp.MustCompile(`(?m)^  (done +host-apply host/` + name + ` |` + name + ` +i-\S+ +(applied|in sync|unchanged) )`).MatchString(out) {
			t.Errorf("%s did not run, yet a line reports it done:\n%s", name, out)
		}
	}
}

// TestDemoNoGuestRoot: as root without a guest root, the demo configures
// the ifupdown and iproute2 hosts for real; its NetworkManager, networkd
// and netplan hosts are not executed (never success), the demo says once,
// in its own words, how to get a root, and it passes.
func TestDemoNoGuestRoot(t *testing.T) {
	out := runDemoHosts(t, t.TempDir())
	header := regexp.MustCompile(`(?m)^  not executed, recorded only: api-1 \(networkmanager\), app-1 \(netplan\), cache-1 \(networkd\), db-2 \(networkmanager\): no guest root: .*make guest-root.*$`)
	if n := len(header.FindAllString(out, -1)); n != 1 {
		t.Errorf("the demo says %d times, not once, that it has no guest root and how to get one:\n%s", n, out)
	}
	if strings.Contains(out, "booted by systemd-nspawn") {
		t.Errorf("without a guest root the demo claims booted guests:\n%s", out)
	}
	wantDemoHosts(t, out, demoNamespaceHosts, append(demoBootedHosts, demoRecordedHosts...))
	if !strings.Contains(out, "\nThe demo goes on: the 7 host steps not executed above are hosts that the emulator only records") {
		t.Errorf("the demo does not say why it goes on after apply's 7 host steps not executed:\n%s", out)
	}
}

// TestDemoGuestRoot: with the guest root (ECSNET_NSPAWN_GUESTS=1, as CI
// sets it), the demo boots the NetworkManager, networkd and netplan hosts
// from it, configures them for real and verify finds them in sync; only
// the wicked, ifcfg and Windows hosts are not executed, and the demo does
// not tell the user to build a root they have.
func TestDemoGuestRoot(t *testing.T) {
	daemons.RequireNspawn(t)
	root, _ := daemons.Root(t)
	out := runDemoHosts(t, root)
	if !strings.Contains(out, "\n  run for real under their own systemd, booted by systemd-nspawn from the guest root "+root+": api-1 (networkmanager), app-1 (netplan), cache-1 (networkd), db-2 (networkmanager)\n") {
		t.Errorf("the demo does not say that it boots the guests from %s:\n%s", root, out)
	}
	if strings.Contains(out, "guest-root") || strings.Contains(out, "no guest root") {
		t.Errorf("with a guest root the demo still says how to get one:\n%s", out)
	}
	wantDemoHosts(t, out, append(demoNamespaceHosts, demoBootedHosts...), demoRecordedHosts)
	if !strings.Contains(out, "\nThe demo goes on: the 3 host steps not executed above are hosts that the emulator only records") {
		t.Errorf("the demo does not say why it goes on after apply's 3 failed steps:\n%s", out)
	}
}
