package daemons

import (
	"context"
	"errors"
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
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// NspawnEnv names the environment variable that enables the guests booted
// with systemd-nspawn (BootNspawn): the first run debootstraps a Debian
// root (minutes, and it needs a Debian mirror), so they stay out of the
// default test run.
const NspawnEnv = "ECSNET_NSPAWN_GUESTS"

// RequireNspawn skips the test unless NspawnEnv is 1; in strict mode
// (CI: hosttest.StrictEnv=1) it fails instead, so that the booted guests
// never pass there by being skipped.
func RequireNspawn(t testing.TB) {
	t.Helper()
	if os.Getenv(NspawnEnv) != "1" {
		if hosttest.Strict() {
			t.Fatalf("%s=1 is required with %s=1 (.ci/run sets both): the booted guests must run", NspawnEnv, hosttest.StrictEnv)
		}
		t.Skipf("set %s=1 to boot guests with systemd-nspawn (the first run debootstraps a Debian root)", NspawnEnv)
	}
}

// RootDir is where the Debian root the nspawn guests boot is cached
// (guestroot.Dir).
func RootDir() string { return guestroot.Dir() }

// Root returns the cached Debian root, making it with debootstrap the
// first time (guestroot.Build, under a lock, so parallel tests make it
// once), and how long that took (0 when it was there).
func Root(t testing.TB) (string, time.Duration) {
	t.Helper()
	hosttest.RequireRoot(t)
	dir := RootDir()
	if guestroot.Check(dir) == nil {
		return dir, 0
	}
	hosttest.RequireTool(t, "debootstrap")
	hosttest.RequireTool(t, "flock")
	start := time.Now()
	var log strings.Builder
	if err := guestroot.Build(context.Background(), dir, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	return dir, time.Since(start)
}

// units enables the stack's daemon in the guest's layer, as the distribution
// does on a host of that stack.
func units(t testing.TB, upper string, stack schema.Stack) {
	t.Helper()
	if err := guestroot.Enable(upper, stack); err != nil {
		t.Fatal(err)
	}
}

// writeUpper writes a file into the guest's upper layer at its path in the
// guest.
func writeUpper(t testing.TB, upper, p string, data []byte, mode os.FileMode) {
	t.Helper()
	full := filepath.Join(upper, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, data, mode.Perm()); err != nil {
		t.Fatal(err)
	}
}

// BootNspawn is Boot with a booted guest: the cached Debian root under a
// private overlay, booted by systemd-nspawn as PID 1 of its own in the
// namespace standing in for h, with the stack's daemon enabled as its
// distribution enables it (NetworkManager.service, or
// systemd-networkd.service, netplan's generator running at boot). The
// bundle's files are in the guest's /etc before it boots, and the whole
// bundle is at /ecsnet-bundle/<host> for Apply. Stop powers the guest
// off; the namespace goes when the test ends.
func BootNspawn(t testing.TB, h *render.Host, files []render.File) *Guest {
	t.Helper()
	RequireNspawn(t)
	hosttest.RequireTool(t, "systemd-nspawn")
	hosttest.RequireTool(t, "nsenter")
	root, _ := Root(t)
	start := time.Now()
	g := &Guest{Host: h, Want: want(h)}
	g.NS = standin.Netns(t, h)
	tmp := t.TempDir()
	upper, work, bundle := filepath.Join(tmp, "upper"), filepath.Join(tmp, "work"), filepath.Join(tmp, "bundle")
	for _, d := range []string{upper, work, bundle} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := render.WriteHost(bundle, h.Name, files); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if installed(h.Stack, f.Path) {
			writeUpper(t, upper, f.Path, f.Data, f.Mode)
			n++
		}
	}
	if n == 0 && h.Stack != schema.StackNetworkManager {
		t.Fatalf("%s: the bundle has no file the %s daemon reads", h.Name, h.Stack)
	}
	// cloud-init's file for the primary ENI, as standin.Prepare writes it.
	switch h.Stack {
	case schema.StackNetplan:
		writeUpper(t, upper, "etc/netplan/50-cloud-init.yaml", standin.CloudInitNetplan(h), 0o600)
	case schema.StackNetworkd:
		writeUpper(t, upper, "etc/systemd/network/10-cloud-init-"+h.Primary.Name()+".network", standin.CloudInitNetworkd(h), 0o644)
	}
	units(t, upper, h.Stack)
	g.Setup = time.Since(start)

	start = time.Now()
	cmd := guestroot.BootCommand(root, upper, work, g.NS.Name, h.Name, "--bind-ro="+bundle+":/ecsnet-bundle")
	var log strings.Builder
	var mu sync.Mutex
	cmd.Stdout = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return log.Write(p) })
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start systemd-nspawn: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	var once sync.Once
	g.Stop = func() {
		once.Do(func() {
			// SIGTERM makes nspawn ask the guest's systemd to power off.
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		})
	}
	t.Cleanup(g.Stop)
	// The guest's PID 1 is nspawn's child (unshare and sh exec in turn).
	var pid1 int
	hosttest.WaitFor(10*time.Second, func() bool { pid1 = guestroot.PID1(cmd.Process.Pid); return pid1 > 0 })
	if pid1 == 0 {
		g.Stop()
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("systemd-nspawn started no guest:\n%s", log.String())
	}
	g.exec = func(stdin []byte, args ...string) (string, string, error) {
		c := exec.Command("nsenter", append([]string{"--target", strconv.Itoa(pid1), "--all", "--"}, args...)...)
		var o, e strings.Builder
		c.Stdout, c.Stderr = &o, &e
		if stdin != nil {
			c.Stdin = strings.NewReader(string(stdin))
		}
		err := c.Run()
		return o.String(), e.String(), err
	}
	g.bundle = "/ecsnet-bundle"
	g.Log = func() string {
		out, _, _ := g.exec(nil, "journalctl", "-b", "--no-pager", "-o", "short-monotonic")
		mu.Lock()
		defer mu.Unlock()
		return log.String() + out
	}
	// Settled: the guest's boot finished (every unit started, or failed:
	// degraded) and, on NetworkManager, its startup complete, by which it
	// has activated every profile it can; then the state the files want.
	var state string
	hosttest.WaitFor(SettleTimeout, func() bool {
		out, _, _ := g.exec(nil, "systemctl", "is-system-running", "--wait")
		state = strings.TrimSpace(out)
		return state == "running" || state == "degraded"
	})
	if state == "degraded" {
		out, _, _ := g.exec(nil, "systemctl", "--failed", "--no-pager")
		t.Errorf("%s: the guest booted degraded:\n%s", h.Name, out)
	}
	if h.Stack == schema.StackNetworkManager {
		if o, e, err := g.exec(nil, "nm-online", "-s", "-q", "-t", "30"); err != nil {
			t.Errorf("%s: NetworkManager did not complete its startup: %v\n%s%s", h.Name, err, o, e)
		}
	}
	hosttest.WaitFor(SettleTimeout, func() bool { g.Live = standin.Live(t, g.NS); return g.Live.Equal(g.Want) })
	g.Settle = time.Since(start)
	return g
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// exitCode returns err's exit code, or fails the test when the command did
// not run.
func exitCode(t testing.TB, what string, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("run %s: %v", what, err)
	}
	return ee.ExitCode()
}
