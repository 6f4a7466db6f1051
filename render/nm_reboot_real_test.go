package render_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/guestroot"
	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/daemons"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// TestRealNMReboot boots a NetworkManager host for real (the cached Debian
// root under systemd-nspawn, as daemons.BootNspawn does, with an overlay
// upper layer of its own that persists across the reboot), the primary
// ENI on DHCP from cloud-init's profile (cloud-init devel net-convert -O
// network-manager; dnsmasq on the wire answers the primary's MAC). The
// apply script adds the primary's secondary addresses to that profile.
// Then the host reboots as on Alibaba Cloud with cloud-init 23.4 or
// later: the live state is gone and cloud-init has written its profile
// again, without them (Debian's 22.4 does not, so the test does it). After
// the boot, the addresses are back, put there by the bundle's boot unit,
// and the whole live state is what the bundle wants. The apply never
// removes the primary's DHCP address, even briefly, and a DHCP renewal
// keeps what it added.
func TestRealNMReboot(t *testing.T) {
	if os.Getenv(daemons.NspawnEnv) != "1" {
		t.Skipf("set %s=1 to boot guests with systemd-nspawn", daemons.NspawnEnv)
	}
	hosttest.RequireRoot(t)
	for _, tool := range []string{"systemd-nspawn", "nsenter", "unshare", "dnsmasq", "cloud-init"} {
		hosttest.RequireTool(t, tool)
	}
	root, _ := daemons.Root(t)
	h := pbHosts(t, schema.StackNetworkManager)[0]
	files := standin.Bundle(t, h)
	dir := pbRoot(t)
	upper, work, bundle := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "bundle")
	for _, d := range []string{upper, work, bundle} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The cached root has nothing enabled; a NetworkManager host has it.
	if err := guestroot.Enable(upper, schema.StackNetworkManager); err != nil {
		t.Fatal(err)
	}
	if err := render.WriteHost(bundle, h.Name, files); err != nil {
		t.Fatal(err)
	}
	v2 := fmt.Sprintf("network:\n  version: 2\n  ethernets:\n    %s:\n      match: {macaddress: \"%s\"}\n      set-name: %[1]s\n      dhcp4: true\n",
		h.Primary.Name(), h.Primary.MAC)
	cloudInit := hosttest.NetConvert(t, []byte(v2), "rhel", "network-manager")
	profile := "etc/NetworkManager/system-connections/cloud-init-" + h.Primary.Name() + ".nmconnection"
	if _, ok := cloudInit[profile]; !ok {
		t.Fatalf("cloud-init wrote no %s: %v", profile, cloudInit)
	}
	cloudInitRender := func() {
		for p, data := range cloudInit {
			full := filepath.Join(upper, p)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}

	ns := pbBoot(t, h, pbRoot(t))
	cloudInitRender()
	g := nmBoot(t, root, upper, work, bundle, ns, h)
	// The primary's DHCP address must stay on it throughout the apply:
	// re-activating its profile would run DHCP again and drop it for a
	// moment, cutting Cloud Assistant's connection on a live host.
	mon := exec.Command("ip", "-n", ns.Name, "-o", "monitor", "address")
	var monMu sync.Mutex
	var monOut strings.Builder
	monitor := func() string { monMu.Lock(); defer monMu.Unlock(); return monOut.String() }
	mon.Stdout = writerTo(func(p []byte) { monMu.Lock(); defer monMu.Unlock(); monOut.Write(p) })
	if err := mon.Start(); err != nil {
		t.Fatalf("ip monitor: %v", err)
	}
	defer func() { mon.Process.Kill(); mon.Wait() }()
	time.Sleep(200 * time.Millisecond)
	out, errOut, err := g.exec(3*time.Minute, "/bin/bash", "/ecsnet-bundle/"+h.Name+"/"+render.ScriptName)
	if err != nil {
		t.Fatalf("apply: %v\n%s%s\n%s", err, out, errOut, g.log())
	}
	t.Logf("apply:\n%s%s", out, errOut)
	got := rtWait(t, ns, standin.Want(h), 30*time.Second)
	standin.Expect(t, "after apply", got, standin.Want(h))
	// A DHCP renewal (the lease is pbLease; NetworkManager renews at half
	// of it) keeps the addresses the apply added with ip(8).
	primary := " " + h.Primary.Address.String() + "/"
	applied := len(monitor())
	if !hosttest.WaitFor(3*time.Minute, func() bool {
		for _, l := range strings.Split(monitor()[applied:], "\n") {
			if strings.Contains(l, primary) && !strings.HasPrefix(l, "Deleted") {
				return true
			}
		}
		return false
	}) {
		t.Errorf("no DHCP renewal of %s within 3 minutes:\n%s", h.Primary.Address, monitor())
	}
	standin.Expect(t, "after a DHCP renewal", rtWait(t, ns, standin.Want(h), 10*time.Second), standin.Want(h))
	for _, l := range strings.Split(monitor(), "\n") {
		if strings.HasPrefix(l, "Deleted") && strings.Contains(l, primary) {
			t.Errorf("the primary's DHCP address went away during the apply or the renewal after it:\n%s", monitor())
			break
		}
	}
	g.stop()
	modified, err := os.ReadFile(filepath.Join(upper, profile))
	if err != nil || string(modified) == cloudInit[profile] {
		t.Fatalf("the apply did not add the addresses to cloud-init's profile /%s (%v)", profile, err)
	}

	// Reboot: cloud-init renders the primary's profile again; nothing
	// live survives.
	cloudInitRender()
	ns = pbReboot(t, ns, h)
	start := time.Now()
	g = nmBoot(t, root, upper, work, bundle, ns, h)
	got = rtWait(t, ns, standin.Want(h), 60*time.Second)
	t.Logf("rebooted: the live state settled %v after the boot began", time.Since(start).Round(time.Millisecond))
	unit, _, _ := g.exec(time.Minute, "journalctl", "-b", "--no-pager", "-o", "cat", "-u", "ecsnet-"+h.Fleet+".service")
	if !got.Equal(standin.Want(h)) {
		t.Errorf("after the reboot: live state differs\n--- got\n%s\n--- want\n%s\n--- the boot unit's log:\n%s", got, standin.Want(h), unit)
	} else {
		t.Logf("the boot unit's log:\n%s", unit)
	}
	if out, _, err := g.exec(time.Minute, "systemctl", "is-active", "ecsnet-"+h.Fleet+".service"); err != nil || strings.TrimSpace(out) != "active" {
		t.Errorf("ecsnet-%s.service is %q (%v) after the boot", h.Fleet, strings.TrimSpace(out), err)
	}
	if out, errOut, err := g.exec(time.Minute, "/bin/bash", "/ecsnet-bundle/"+h.Name+"/"+render.ScriptName, "verify"); err != nil {
		t.Errorf("verify after the reboot: %v\n%s%s", err, out, errOut)
	}
}

// nmGuest is a booted guest: exec runs a command in it, stop powers it
// off, log is its console and journal.
type nmGuest struct {
	exec func(timeout time.Duration, args ...string) (string, string, error)
	stop func()
	log  func() string
}

// nmBootScript mounts the guest's overlay and boots it (the flags are
// daemons.BootNspawn's: no machined, no scope unit, CAP_NET_ADMIN).
const nmBootScript = `set -eu
root=$1 upper=$2 work=$3 netns=$4 bundle=$5 name=$6
merged=$upper.merged
mkdir -p "$merged"
mount -t overlay ecsnet-guest -o "lowerdir=$root,upperdir=$upper,workdir=$work" "$merged"
exec systemd-nspawn --quiet --directory="$merged" --boot --register=no --keep-unit --console=pipe \
	--network-namespace-path="/run/netns/$netns" --capability=CAP_NET_ADMIN \
	--bind-ro="$bundle:/ecsnet-bundle" --machine="$name"`

// nmBoot serves DHCP for h's primary ENI on ns's wire, flushes the
// address the namespace gave it (so that NetworkManager takes it by
// DHCP), boots the guest and waits until its boot finished and
// NetworkManager has started.
func nmBoot(t *testing.T, root, upper, work, bundle string, ns *hosttest.Netns, h *render.Host) *nmGuest {
	t.Helper()
	pbDHCP(t, ns, h)
	for _, args := range [][]string{{"-n", ns.Name, "route", "flush", "dev", h.Primary.Name()}, {"-n", ns.Name, "addr", "flush", "dev", h.Primary.Name()}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--",
		"/bin/sh", "-c", nmBootScript, "boot", root, upper, work, ns.Name, bundle, h.Name)
	var mu sync.Mutex
	var console strings.Builder
	w := writerTo(func(p []byte) { mu.Lock(); defer mu.Unlock(); console.Write(p) })
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatalf("start systemd-nspawn: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	var once sync.Once
	g := &nmGuest{}
	g.stop = func() {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM) // nspawn asks the guest's systemd to power off
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		})
	}
	t.Cleanup(g.stop)
	// The guest's PID 1 is the child of nspawn that is PID 1 in its own
	// PID namespace (nspawn's first child is a helper that goes away).
	var pid1 int
	hosttest.WaitFor(60*time.Second, func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%[1]d/children", cmd.Process.Pid))
		for _, f := range strings.Fields(string(b)) {
			status, _ := os.ReadFile("/proc/" + f + "/status")
			for _, l := range strings.Split(string(status), "\n") {
				if ns, ok := strings.CutPrefix(l, "NSpid:"); ok && strings.HasSuffix(strings.TrimSpace(ns), "\t1") {
					pid1, _ = strconv.Atoi(f)
				}
			}
		}
		return pid1 > 0
	})
	if pid1 == 0 {
		g.stop()
		t.Fatalf("systemd-nspawn started no guest:\n%s", console.String())
	}
	g.exec = func(timeout time.Duration, args ...string) (string, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		c := exec.CommandContext(ctx, "nsenter", append([]string{"--target", strconv.Itoa(pid1), "--all", "--"}, args...)...)
		var o, e strings.Builder
		c.Stdout, c.Stderr = &o, &e
		err := c.Run()
		return o.String(), e.String(), err
	}
	g.log = func() string {
		out, _, _ := g.exec(time.Minute, "journalctl", "-b", "--no-pager", "-o", "short-monotonic")
		mu.Lock()
		defer mu.Unlock()
		return console.String() + out
	}
	var state string
	hosttest.WaitFor(3*time.Minute, func() bool {
		out, _, _ := g.exec(3*time.Minute, "systemctl", "is-system-running", "--wait")
		state = strings.TrimSpace(out)
		return state == "running" || state == "degraded"
	})
	if state != "running" {
		out, _, _ := g.exec(time.Minute, "systemctl", "--failed", "--no-pager")
		t.Errorf("%s: the guest booted %q:\n%s", h.Name, state, out)
	}
	return g
}

// pbDHCP serves the primary ENI's address by DHCP on its wire, as the
// vSwitch does: dnsmasq in the namespace's peer, on the primary's veth
// peer (the first link hosttest.Netns.AddLink made, p1), answering only
// its MAC; it stops when the test ends or the namespace goes.
func pbDHCP(t *testing.T, ns *hosttest.Netns, h *render.Host) {
	t.Helper()
	const peer = "p1"
	p := h.Primary
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("-n", ns.Peer, "addr", "replace", netip.PrefixFrom(p.Gateway, p.Bits()).String(), "dev", peer)
	dir := t.TempDir()
	cmd := exec.Command("ip", "netns", "exec", ns.Peer, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
		"--port=0", "--user=root", "--interface="+peer, "--bind-interfaces", "--except-interface=lo",
		"--dhcp-range="+p.Prefix.Addr().String()+",static,"+pbNetmask(p.Bits())+","+pbLease,
		"--dhcp-host="+p.MAC+","+p.Address.String(),
		"--dhcp-option=option:router,"+p.Gateway.String(),
		"--dhcp-leasefile="+filepath.Join(dir, "leases"), "--pid-file="+filepath.Join(dir, "pid"), "--log-facility=-")
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dnsmasq: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("dnsmasq on %s's wire:\n%s", h.Name, log.String())
		}
	})
}

// pbLease is the DHCP lease time: dnsmasq's shortest, so that a test sees
// NetworkManager renew it (at half of it).
const pbLease = "2m"

func pbNetmask(bits int) string {
	m := ^uint32(0) << (32 - bits)
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

type writerTo func([]byte)

func (w writerTo) Write(p []byte) (int, error) { w(p); return len(p), nil }
