// Package daemons runs a rendered host's files under the real daemon of
// its stack (issue 15, "Real guests for every stack Debian can run"):
// NetworkManager, systemd-networkd, and netplan (netplan generate, then
// systemd-networkd on its output), in a network namespace standing in for
// the host, whose veths carry the ENIs' MACs. Two ways:
//
//   - Boot runs the daemon directly in the namespace: NetworkManager
//     --no-daemon with a private dbus-daemon, or systemd-networkd, each
//     with private /etc, /var and /run. Fast (well under a second a
//     guest), needs only the Debian packages of install.sh.
//   - BootNspawn boots a guest: a debootstrapped Debian root (made once,
//     cached) under a private overlay, booted by systemd-nspawn in the
//     namespace, its systemd starting the daemon as on a real host, with
//     its own system bus, so every stack's apply script runs. This machine
//     and CI are containers whose PID 1 is not systemd; nspawn boots there
//     all the same (without machined: --register=no --keep-unit). Enabled
//     by ECSNET_NSPAWN_GUESTS=1, since its first run debootstraps.
//
// The files are render's bytes, unmodified, at the paths the bundle gives
// them. What the harness has to change to run them here is listed in
// Rewrites; each is a gap between this rehearsal and a real host.
//
// It is a test helper, not product API; it builds on hosttest (the
// namespaces and the daemons) and standin (render's host model).
package daemons

import (
	_ "embed"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/guestroot"
	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// Stacks are the stacks whose daemon Boot runs.
var Stacks = []schema.Stack{schema.StackNetworkManager, schema.StackNetworkd, schema.StackNetplan}

// Rewrite is one way the rehearsal differs from a real host of a stack.
type Rewrite = guestroot.Rewrite

// Rewrites lists every difference between a guest here (or in hosts
// mode) and a real host, for the README's gaps.
var Rewrites = guestroot.Rewrites

// Guest is a host's stand-in running its stack's daemon.
type Guest struct {
	NS     *hosttest.Netns
	Host   *render.Host
	Want   standin.State // what the installed files should give
	Live   standin.State // the state when Boot returned
	Setup  time.Duration // namespace, veths and files
	Settle time.Duration // daemon start until Live matched Want (or the timeout)
	Stop   func()        // stops the daemon(s); runs at the test's end anyway
	Log    func() string // the daemon's log

	// exec runs a command in the guest (nil: none can reach the daemon);
	// bundle is where a booted guest has the bundle.
	exec   func(stdin []byte, args ...string) (stdout, stderr string, err error)
	bundle string
}

// SettleTimeout bounds how long Boot waits for the daemon to configure
// what the files ask for.
const SettleTimeout = 30 * time.Second

// Boot installs the bundle's files for h's stack in a new namespace that
// stands in for h, starts the stack's daemon and waits until the live
// state matches what the files want (Guest.Want) or SettleTimeout
// passes; the caller compares Live with Want. The namespace and the
// daemons go when the test ends.
func Boot(t testing.TB, h *render.Host, files []render.File) *Guest {
	t.Helper()
	start := time.Now()
	g := &Guest{Host: h, Want: want(h)}
	g.NS = standin.Netns(t, h)
	standin.Prepare(t, g.NS, h)
	n := 0
	for _, f := range files {
		if installed(h.Stack, f.Path) {
			g.NS.WriteFile(t, "/"+f.Path, f.Data, f.Mode)
			n++
		}
	}
	if n == 0 && h.Stack != schema.StackNetworkManager {
		// A NetworkManager bundle may hold the apply script only, when
		// the host has no secondary ENI (its primary's addresses go into
		// the existing profile); other stacks always have a file.
		t.Fatalf("%s: the bundle has no file the %s daemon reads", h.Name, h.Stack)
	}
	if h.Stack == schema.StackNetplan {
		generate(t, g.NS)
	}
	g.Setup = time.Since(start)

	start = time.Now()
	switch h.Stack {
	case schema.StackNetworkManager:
		nm := g.NS.StartNetworkManager(t)
		g.Stop, g.Log, g.exec = nm.Stop, nm.Log, nm.Exec
	case schema.StackNetworkd, schema.StackNetplan:
		g.Stop, g.Log = g.NS.StartNetworkd(t)
	default:
		t.Fatalf("%s: no daemon for stack %s here", h.Name, h.Stack)
	}
	hosttest.WaitFor(SettleTimeout, func() bool { g.Live = standin.Live(t, g.NS); return g.Live.Equal(g.Want) })
	g.Settle = time.Since(start)
	return g
}

// installed reports whether the stack's daemon reads the bundle file p.
func installed(stack schema.Stack, p string) bool {
	dir := path.Dir(p)
	switch stack {
	case schema.StackNetworkManager:
		return dir == "etc/NetworkManager/system-connections"
	case schema.StackNetworkd:
		return dir == "etc/systemd/network"
	case schema.StackNetplan:
		return dir == "etc/netplan"
	}
	return false
}

// want is what h's installed files give: everything standin.Want lists,
// but on NetworkManager hosts without the primary ENI's secondary
// addresses, which only the apply script adds (Rewrites).
func want(h *render.Host) standin.State {
	if h.Stack != schema.StackNetworkManager {
		return standin.Want(h)
	}
	c := *h
	c.Primary.Secondary = nil
	return standin.Want(&c)
}

// generateScript runs netplan generate in a namespace and rewrites its
// output for veths.
//
//go:embed netplan_generate.sh
var generateScript string

// generate runs netplan generate inside the namespace, as netplan's
// systemd generator does at boot, writing /run/systemd/network.
func generate(t testing.TB, ns *hosttest.Netns) {
	t.Helper()
	hosttest.RequireTool(t, "netplan")
	out, errOut, err := ns.Exec(nil, "/bin/sh", "-c", generateScript)
	if err != nil {
		t.Fatalf("netplan generate in %s: %v\n%s%s", ns.Name, err, out, errOut)
	}
	if s := strings.TrimSpace(errOut); s != "" {
		t.Errorf("netplan generate warned: %s", s)
	}
}

// String describes the guest's timings for a test log.
func (g *Guest) String() string {
	return fmt.Sprintf("%s (%s): setup %v, daemon settled in %v", g.Host.Name, g.Host.Stack, g.Setup.Round(time.Millisecond), g.Settle.Round(time.Millisecond))
}

// Apply runs the bundle's apply script (render's ecsnet-apply.sh,
// unmodified) in the guest with ROOT=/, against the running daemon, as a
// push would, and returns its exit code and output. A Boot guest gets the
// bundle written to a new directory; a BootNspawn guest runs the copy it
// was booted with (files must be the same). Boot runs it for
// NetworkManager only: the networkd and netplan scripts reload networkd
// over the system bus, which StartNetworkd does not provide; a BootNspawn
// guest has its own bus.
func (g *Guest) Apply(t testing.TB, files []render.File) (code int, output string) {
	t.Helper()
	if g.exec == nil {
		t.Fatalf("%s: the %s apply script reloads its daemon over the system bus, which Boot runs for NetworkManager only", g.Host.Name, g.Host.Stack)
	}
	var script string
	if g.bundle != "" {
		script = path.Join(g.bundle, g.Host.Name, render.ScriptName)
	} else {
		dir := t.TempDir()
		if err := render.WriteHost(dir, g.Host.Name, files); err != nil {
			t.Fatal(err)
		}
		script = filepath.Join(dir, g.Host.Name, render.ScriptName)
	}
	out, errOut, err := g.exec(nil, "/bin/bash", script)
	return exitCode(t, script, err), out + errOut
}
