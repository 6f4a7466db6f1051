//go:build linux

package emulator

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/hosttest/daemons"
	"github.com/ecsnet/ecsnet/schema"
)

// newGuestsEnv is newHostsEnv with the guest root: the example world's
// NetworkManager, networkd and netplan hosts boot with systemd-nspawn.
// It needs ECSNET_NSPAWN_GUESTS=1 (daemons.RequireNspawn).
func newGuestsEnv(t *testing.T) *env {
	t.Helper()
	requireHostsMode(t)
	daemons.RequireNspawn(t)
	root, took := daemons.Root(t)
	if took > 0 {
		t.Logf("guest root %s made in %v", root, took.Round(time.Second))
	}
	return newHostsEnvConfig(t, exampleWorld(t), HostsConfig{Log: logWriter{t}, GuestRoot: root})
}

// The example world's booted guests, by instance: api-1 (rocky9) and
// db-2 (sles16) run NetworkManager, app-1 (ubuntu22.04) netplan, cache-1
// (debian12) networkd.
var bootedGuests = map[string]schema.Stack{
	"i-bp1api000001": schema.StackNetworkManager,
	"i-bp1db0000002": schema.StackNetworkManager,
	"i-bp1app000001": schema.StackNetplan,
	"i-bp1cache0001": schema.StackNetworkd,
}

// TestHostsBootedGuests: with a guest root, every NetworkManager,
// networkd and netplan host of the example world is a booted Debian guest
// running its stack's daemon under its own systemd, with cloud-init's
// file for the primary ENI in /etc; Cloud Assistant scripts run in it
// for real; ifcfg, wicked and Windows hosts still only record.
func TestHostsBootedGuests(t *testing.T) {
	e := newGuestsEnv(t)
	ctx := context.Background()
	var ids []string
	for _, h := range e.srv.Hosts() {
		st, booted := bootedGuests[h.InstanceID()]
		switch {
		case booted:
			ids = append(ids, h.InstanceID())
			if !h.Runs() || !h.Up() || h.Stack() != st {
				t.Fatalf("%s: Runs %v, Up %v, stack %s; want a running %s guest", h.Hostname(), h.Runs(), h.Up(), h.Stack(), st)
			}
			t.Logf("%s (%s): booted in %v", h.Hostname(), st, h.BootTimes())
		case slices.Contains([]schema.Stack{schema.StackIfcfg, schema.StackWicked, schema.StackWindows}, h.Stack()):
			if h.Runs() {
				t.Errorf("%s (%s) runs; its stack cannot run here", h.Hostname(), h.Stack())
			}
		}
	}
	if len(ids) != len(bootedGuests) {
		t.Fatalf("booted guests %v, want %v", ids, bootedGuests)
	}
	daemon := map[schema.Stack]string{schema.StackNetworkManager: "NetworkManager", schema.StackNetworkd: "systemd-networkd", schema.StackNetplan: "systemd-networkd"}
	ciFile := map[schema.Stack]string{
		schema.StackNetworkd: "/etc/systemd/network/10-cloud-init-eth0.network",
		schema.StackNetplan:  "/etc/netplan/50-cloud-init.yaml",
	}
	if e.srv.Host(ids[0]).DHCPServed() {
		// The guest's own DHCP client took eth0, from cloud-init's profile.
		ciFile[schema.StackNetworkManager] = "/etc/NetworkManager/system-connections/cloud-init-eth0.nmconnection"
	}
	script := "set -e\n. /etc/os-release\necho \"$ID $VERSION_CODENAME $(hostname) $(cat /proc/1/comm)\"\nsystemctl is-active \"$1\"\n"
	for _, id := range ids {
		h := e.srv.Host(id)
		st := bootedGuests[id]
		r := e.invoke(t, "RunShellScript", strings.Replace(script, `"$1"`, daemon[st], 1), id)[0]
		want := "debian bookworm " + h.Hostname() + " systemd\nactive\n"
		if str(r, "InvocationStatus") != "Success" || str(r, "Output") != want {
			t.Errorf("%s: %v, want output %q", h.Hostname(), r, want)
		}
		if cmds := h.Commands(); len(cmds) != 1 || !cmds[0].Executed {
			t.Errorf("%s: commands %+v, want one executed", h.Hostname(), cmds)
		}
		if f := ciFile[st]; f != "" {
			data, err := h.ReadFile(ctx, f)
			if err != nil || !strings.Contains(strings.ToLower(string(data)), strings.ToLower(h.hw.mac)) {
				t.Errorf("%s: cloud-init's %s: %v\n%s", h.Hostname(), f, err, data)
			}
		}
		addrs, err := h.Addrs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(addrs, func(a HostAddr) bool { return a.Dev == "eth0" && a.Prefix == h.hw.addr }) {
			t.Errorf("%s: the daemon dropped the primary address %s: %v", h.Hostname(), h.hw.addr, addrs)
		}
		if h.DHCPServed() {
			if out, _, err := h.Exec(ctx, nil, "ip", "-4", "addr", "show", "dev", "eth0"); err != nil || !strings.Contains(out, h.hw.addr.String()) || !strings.Contains(out, "dynamic") {
				t.Errorf("%s: eth0 has no DHCP lease for %s: %v\n%s", h.Hostname(), h.hw.addr, err, out)
			}
		}
	}
}

// TestHostsBootedGuestReboot: RebootInstance powers a booted guest off
// and boots it again: /etc persists, /run is lost, cloud-init's render
// is written again, the daemon runs.
func TestHostsBootedGuestReboot(t *testing.T) {
	e := newGuestsEnv(t)
	ctx := context.Background()
	for _, id := range []string{"i-bp1api000001", "i-bp1app000001", "i-bp1cache0001"} {
		h := e.srv.Host(id)
		if err := h.WriteFile(ctx, "/etc/ecsnet-test-persists", []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := h.WriteFile(ctx, "/run/ecsnet-test-lost", []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		ok(t, e.cl.ecs(t, "RebootInstance", "InstanceId", id))
		if got := e.instStatus(t, id); got != "Running" || !h.Up() {
			t.Fatalf("%s after RebootInstance: %s, up %v\n%s", h.Hostname(), got, h.Up(), h.BootLog())
		}
		if b := h.BootTimes(); len(b) != 2 {
			t.Errorf("%s: boots %v, want 2", h.Hostname(), b)
		} else {
			t.Logf("%s (%s): boot %v, reboot %v", h.Hostname(), h.Stack(), b[0].Round(time.Millisecond), b[1].Round(time.Millisecond))
		}
		if _, _, err := h.Exec(ctx, nil, "test", "-e", "/etc/ecsnet-test-persists"); err != nil {
			t.Errorf("%s: /etc did not persist: %v", h.Hostname(), err)
		}
		if _, _, err := h.Exec(ctx, nil, "test", "!", "-e", "/run/ecsnet-test-lost"); err != nil {
			t.Errorf("%s: /run survived the reboot: %v", h.Hostname(), err)
		}
		if r := e.invoke(t, "RunShellScript", "cat /proc/sys/kernel/random/boot_id >/dev/null && echo up", id)[0]; str(r, "Output") != "up\n" {
			t.Errorf("%s: a command after the reboot: %v", h.Hostname(), r)
		}
		if !strings.Contains(h.BootLog(), "rebooted in") {
			t.Errorf("%s: boot log %q", h.Hostname(), h.BootLog())
		}
	}
}

// TestHostsNoGuestRoot: without a guest root, NetworkManager, networkd and
// netplan hosts only record their commands, and the answer says how to get
// a root; they never run or report success as if configured.
func TestHostsNoGuestRoot(t *testing.T) {
	e := newHostsEnv(t, exampleWorld(t))
	for id, st := range bootedGuests {
		h := e.srv.Host(id)
		if h.Runs() || h.Up() {
			t.Errorf("%s (%s): Runs %v, Up %v without a guest root", h.Hostname(), st, h.Runs(), h.Up())
		}
		r := e.invoke(t, "RunShellScript", "echo ran", id)[0]
		out := str(r, "Output")
		if strings.Contains(out, "ran") || !strings.Contains(out, "recorded, not executed (it needs ") ||
			!strings.Contains(out, "the emulator has no guest root (see the emulator's startup line)") || strings.Contains(out, "--build-guest-root") {
			t.Errorf("%s (%s): %q", h.Hostname(), st, out)
		}
	}
}
