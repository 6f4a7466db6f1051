//go:build linux

package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ecsnet/ecsnet/internal/guestroot"
	"github.com/ecsnet/ecsnet/schema"
)

// Booted guests: the hosts whose stack needs a running system
// (NetworkManager, systemd-networkd, netplan) boot the guest root
// (HostsConfig.GuestRoot, made by internal/guestroot) with systemd-nspawn
// in their network namespace. The root is shared and read-only; each
// host's writes land in its own overlay layer, <tree>/guest.up, which
// outlives a reboot (/etc and /var persist; /run is the guest's tmpfs and
// is lost). Every command enters the guest's PID 1's namespaces with
// nsenter.

// nspawnGuest is one boot of a booted guest.
type nspawnGuest struct {
	cmd  *exec.Cmd
	pid1 int
	done chan struct{} // closed when systemd-nspawn exited
	mu   sync.Mutex
	out  bytes.Buffer // systemd-nspawn's own output
}

func (g *nspawnGuest) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.out.Len() < 64<<10 {
		g.out.Write(p)
	}
	return len(p), nil
}

func (g *nspawnGuest) output() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out.String()
}

// guestSettle bounds how long a boot waits for the guest's systemd to
// finish starting its units (and NetworkManager its startup).
const guestSettle = 90 * time.Second

// guestHalt bounds how long a halt waits for the guest's systemd to power
// off after SIGTERM before systemd-nspawn is killed.
const guestHalt = 30 * time.Second

// makeGuestTree creates a booted host's layer: its hostname and its
// stack's daemon enabled, as a fresh image of the family has them.
func (h *Host) makeGuestTree() error {
	for _, d := range []string{"guest.up/etc", "guest.work"} {
		if err := os.MkdirAll(filepath.Join(h.root, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(h.root, "guest.up/etc/hostname"), []byte(h.name+"\n"), 0o644); err != nil {
		return err
	}
	return guestroot.Enable(filepath.Join(h.root, "guest.up"), h.fam.stack)
}

// bootGuestLocked boots the guest root in the host's network namespace,
// whose NICs exist already, and waits until its systemd has started
// every unit (running or degraded) and, on NetworkManager, NetworkManager
// has completed its startup.
func (h *Host) bootGuestLocked(ctx context.Context) error {
	upper := filepath.Join(h.root, "guest.up")
	g := &nspawnGuest{done: make(chan struct{})}
	g.cmd = guestroot.BootCommand(h.set.guestRoot, upper, filepath.Join(h.root, "guest.work"), h.ns.net, h.name)
	g.cmd.Stdout, g.cmd.Stderr = g, g
	if err := g.cmd.Start(); err != nil {
		return fmt.Errorf("boot %s: systemd-nspawn: %w", h.name, err)
	}
	go func() { g.cmd.Wait(); close(g.done) }()
	h.guest = g
	for g.pid1 == 0 {
		select {
		case <-g.done:
			return fmt.Errorf("boot %s: systemd-nspawn exited: %s", h.name, strings.TrimSpace(g.output()))
		case <-ctx.Done():
			return fmt.Errorf("boot %s: systemd-nspawn started no guest: %w", h.name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
			g.pid1 = guestroot.PID1(g.cmd.Process.Pid)
		}
	}
	h.pid1.Store(int64(g.pid1))
	sctx, cancel := context.WithTimeout(ctx, guestSettle)
	defer cancel()
	// is-system-running --wait fails while the system bus is not up yet.
	var state string
	var lastErr error
	for {
		out, _, err := h.execNS(sctx, nil, "systemctl", "is-system-running", "--wait")
		lastErr = err
		state = strings.TrimSpace(out)
		if state == "running" || state == "degraded" || sctx.Err() != nil {
			break
		}
		select {
		case <-g.done:
			return fmt.Errorf("boot %s: the guest powered off while booting: %s", h.name, strings.TrimSpace(g.output()))
		case <-time.After(200 * time.Millisecond):
		}
	}
	switch state {
	case "running":
	case "degraded":
		out, _, _ := h.execNS(sctx, nil, "systemctl", "--failed", "--no-pager", "--plain", "--no-legend")
		fmt.Fprintf(&h.bootLog, "%s booted degraded: %s\n", h.name, strings.TrimSpace(out))
		h.set.logf("%s: booted degraded: %s", h.name, strings.Join(strings.Fields(out), " "))
	default:
		jctx, jcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer jcancel()
		jobs, _, _ := h.execNS(jctx, nil, "systemctl", "list-jobs", "--no-pager", "--plain", "--no-legend")
		return fmt.Errorf("boot %s: the guest's systemd did not finish booting in %v (state %q: %v); pending jobs: %s; systemd-nspawn: %s",
			h.name, guestSettle, state, lastErr, strings.Join(strings.Fields(jobs), " "), strings.TrimSpace(g.output()))
	}
	if h.fam.stack == schema.StackNetworkManager {
		if o, e, err := h.execNS(sctx, nil, "nm-online", "-s", "-q", "-t", "60"); err != nil {
			return fmt.Errorf("boot %s: NetworkManager did not complete its startup: %v %s%s", h.name, err, o, e)
		}
	}
	// The instance is up for its users (and Cloud Assistant's agent,
	// which starts after the network) once the primary ENI has its
	// address.
	for {
		addrs, err := h.ipJSONNS(sctx, "addr", "show", "dev", "eth0")
		if err == nil {
			if as, err := parseAddrs(addrs); err == nil && slices.ContainsFunc(as, func(a HostAddr) bool { return a.Prefix == h.hw.addr }) {
				return nil
			}
		}
		select {
		case <-sctx.Done():
			return fmt.Errorf("boot %s: eth0 did not get %s from the %s guest's DHCP client in %v", h.name, h.hw.addr, h.fam.stack, guestSettle)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// haltGuestLocked powers the guest off: SIGTERM makes systemd-nspawn ask
// the guest's systemd to shut down; after guestHalt it is killed.
func (h *Host) haltGuestLocked() {
	g := h.guest
	if g == nil {
		return
	}
	h.guest = nil
	start := time.Now()
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
		h.set.logf("%s (%s): powered off in %v", h.name, h.id, time.Since(start).Round(time.Millisecond))
	case <-time.After(guestHalt):
		h.set.logf("%s: the guest did not power off in %v; killed", h.name, guestHalt)
		g.cmd.Process.Kill()
		<-g.done
	}
}

// guestCommand returns a command that runs args in the booted guest (all
// of its PID 1's namespaces), with a clean environment (env added); its
// process group is killed when ctx ends.
func (h *Host) guestCommand(ctx context.Context, pid1 int, env []string, args ...string) *exec.Cmd {
	full := append([]string{"--target", strconv.Itoa(pid1), "--all", "--"}, args...)
	cmd := exec.CommandContext(ctx, h.set.t.nsenter, full...)
	cmd.Env = append([]string{"PATH=" + hostPath, "HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/bash", "LANG=C.UTF-8"}, env...)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// errNoCloudInit: cloud-init is not installed on the machine. Booted
// guests need it (newHostSet checks); ifupdown hosts keep the stand-in
// stanza of their seed.
var errNoCloudInit = errors.New("cloud-init is not installed")

// cloudInitTargets are the file cloud-init's network render writes for
// each stack (net-convert's output format and the file), as
// ../shared/ref/host-config.md E16 describes.
var cloudInitTargets = map[schema.Stack]struct{ format, file string }{
	schema.StackNetplan:        {"netplan", "etc/netplan/50-cloud-init.yaml"},
	schema.StackNetworkd:       {"networkd", "etc/systemd/network/10-cloud-init-eth0.network"},
	schema.StackNetworkManager: {"network-manager", "etc/NetworkManager/system-connections/cloud-init-eth0.nmconnection"},
	schema.StackIfupdown:       {"eni", "etc/network/interfaces.d/50-cloud-init"},
}

// cloudInitNetwork is the network configuration (v2) an Alibaba Cloud
// datasource gives cloud-init for an instance: its primary ENI, matched
// by MAC, named eth0, by DHCP.
func cloudInitNetwork(mac string) string {
	return fmt.Sprintf("version: 2\nethernets:\n  eth0:\n    match:\n      macaddress: %q\n    set-name: eth0\n    dhcp4: true\n", strings.ToLower(mac))
}

// cloudInitRender runs what cloud-init does at every boot on Alibaba
// Cloud (cloud-init 23.4 and later; Debian 12's 22.4.2 does it at the
// first boot only, so hosts mode does it itself): it renders the primary
// ENI's DHCP configuration for the stack with the machine's
// `cloud-init devel net-convert` and returns the file's path (relative to
// /) and content.
func cloudInitRender(ctx context.Context, stack schema.Stack, mac string) (string, []byte, error) {
	tg, ok := cloudInitTargets[stack]
	if !ok {
		return "", nil, fmt.Errorf("cloud-init renders no network file for %s", stack)
	}
	ci, err := lookTool("cloud-init")
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w (apt-get install cloud-init)", errNoCloudInit, err)
	}
	dir, err := os.MkdirTemp("", hostsPrefix+"cloud-init-")
	if err != nil {
		return "", nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "network-config.yaml")
	if err := os.WriteFile(in, []byte(cloudInitNetwork(mac)), 0o600); err != nil {
		return "", nil, err
	}
	out := filepath.Join(dir, "out")
	if err := runTool(ctx, ci, "devel", "net-convert", "-p", in, "-k", "yaml", "-O", tg.format, "-D", "debian", "-d", out); err != nil {
		return "", nil, err
	}
	data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(tg.file)))
	if err != nil {
		return "", nil, fmt.Errorf("cloud-init devel net-convert -O %s wrote no %s: %w", tg.format, tg.file, err)
	}
	return tg.file, data, nil
}

// writeCloudInitLocked replays cloud-init's per-boot network render into
// the host's /etc before it boots (the host is down). On ifupdown the
// file is where the release's interfaces sources it.
func (h *Host) writeCloudInitLocked(ctx context.Context) error {
	if h.fam.stack == schema.StackNetworkManager && !h.primaryByDHCPLocked() {
		// Without a DHCP server on the vSwitch side, cloud-init's profile
		// (method=auto, may-fail=false) would fail and take the primary's
		// address down; NetworkManager keeps the address set before boot
		// as external configuration instead (guestroot.Rewrites).
		return nil
	}
	if !h.fam.nspawn && h.fam.stack != schema.StackIfupdown {
		return nil
	}
	p, data, err := cloudInitRender(ctx, h.fam.stack, h.hw.mac)
	if err != nil {
		return fmt.Errorf("boot %s: cloud-init's network render: %w", h.name, err)
	}
	dst := filepath.Join(h.root, "guest.up", filepath.FromSlash(p))
	mode := os.FileMode(0o644)
	switch {
	case h.fam.stack == schema.StackIfupdown:
		dst = filepath.Join(h.root, "etc.up", strings.TrimPrefix(ifupdownCloudInit(h.fam.os), "etc/"))
	case h.fam.stack == schema.StackNetworkManager || h.fam.stack == schema.StackNetplan:
		mode = 0o600 // as cloud-init writes them: they may hold secrets
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}

// primaryByDHCPLocked reports whether the booted guest's own stack takes
// the primary ENI by DHCP, from cloud-init's profile, answered by the
// vSwitch side (hosts_wire.go: dnsmasq is installed). Otherwise hosts
// mode sets the address with ip before boot, as a DHCP client would
// leave it (ifupdown and iproute2 hosts always: they have no client).
func (h *Host) primaryByDHCPLocked() bool { return h.fam.nspawn && h.dhcpAvailable() }
