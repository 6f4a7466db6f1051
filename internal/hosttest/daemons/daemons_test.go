package daemons_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/daemons"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// TestDaemonGuests runs every example host of a daemon stack
// (NetworkManager, networkd, netplan) under its real daemon, on render's
// unmodified files, and compares the namespace's `ip -j` addresses, rules
// and per-ENI tables with what the files want. It then stops the daemon
// and checks that nothing of it is left running, and after the
// namespace's removal that the namespace is gone.
func TestDaemonGuests(t *testing.T) {
	runGuests(t, daemons.Boot, []schema.Stack{schema.StackNetworkManager})
}

// TestNspawnGuests is TestDaemonGuests with guests booted by
// systemd-nspawn from a debootstrapped Debian root (daemons.BootNspawn),
// the daemon started by the guest's systemd, and the apply script run in
// every guest. It runs only with ECSNET_NSPAWN_GUESTS=1.
func TestNspawnGuests(t *testing.T) {
	daemons.RequireNspawn(t)
	_, took := daemons.Root(t)
	t.Logf("Debian root %s (made in %v)", daemons.RootDir(), took.Round(time.Second))
	runGuests(t, daemons.BootNspawn, daemons.Stacks)
}

// runGuests boots every example host of the daemon stacks with boot,
// compares, runs the apply script on the guests of the apply stacks, and
// checks that nothing is left once the guest stopped.
func runGuests(t *testing.T, boot func(testing.TB, *render.Host, []render.File) *daemons.Guest, apply []schema.Stack) {
	begin := time.Now()
	var names []string
	for _, h := range standin.ExampleHosts(t) {
		if !slices.Contains(daemons.Stacks, h.Stack) {
			continue
		}
		var ns string
		t.Run(h.Name, func(t *testing.T) {
			files := standin.Bundle(t, h)
			g := boot(t, h, files)
			ns = g.NS.Name
			t.Log(g)
			if !g.Live.Equal(g.Want) {
				t.Logf("%s log:\n%s", h.Stack, g.Log())
			}
			standin.Expect(t, string(h.Stack)+" on the rendered files", g.Live, g.Want)
			standin.CheckMain(t, g.NS, h)
			if slices.Contains(apply, h.Stack) {
				// The apply script adds the primary ENI's secondary
				// addresses to its profile with nmcli, against the
				// running NetworkManager; then the whole render holds.
				start := time.Now()
				code, out := g.Apply(t, files)
				t.Logf("%s ran in %v", render.ScriptName, time.Since(start).Round(time.Millisecond))
				if code != 0 {
					t.Fatalf("%s exit %d:\n%s\nNetworkManager log:\n%s", render.ScriptName, code, out, g.Log())
				}
				standin.Expect(t, "after "+render.ScriptName, standin.Live(t, g.NS), standin.Want(h))
				standin.CheckMain(t, g.NS, h)
				if code, out := g.Apply(t, files); code != 0 || !strings.Contains(out, "live state matches") {
					t.Errorf("second run of %s: exit %d:\n%s", render.ScriptName, code, out)
				}
			}
			g.Stop()
			if pids := g.NS.Pids(); len(pids) > 0 {
				t.Errorf("after the daemon stopped, processes are left in the namespace: %v", pids)
			}
		})
		if ns != "" {
			names = append(names, h.Name)
			if _, err := os.Stat("/run/netns/" + ns); err == nil {
				t.Errorf("%s: namespace %s is left after the test", h.Name, ns)
			}
		}
	}
	if len(names) == 0 && !t.Failed() {
		hosttest.Unavailable(t, "no example host of %v ran", daemons.Stacks)
	}
	t.Logf("%d guests (%v) in %v", len(names), names, time.Since(begin).Round(time.Millisecond))
}
