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
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ecsnet/ecsnet/internal/guestroot"
)

// The namespace plumbing of hosts mode. Each emulated host is
//
//   - a network namespace <name> (ip netns) holding lo and one veth end per
//     NIC, and a "wire" namespace <name>-w holding the far ends, so that
//     nothing a host sends reaches the machine's own network;
//   - a mount namespace and a UTS namespace, kept alive by bind mounts of
//     their /proc files under /run/ecsnet-emu (as ip netns keeps network
//     namespaces under /run/netns), in which /etc and /var are overlays
//     (the machine's directories show through read-only, what the host
//     writes lands in its own tree), /run, /tmp and /root are the host's
//     own directories, /sys shows the host's interfaces (read-only), and
//     the hostname is the instance's name.
//
// Every command enters all three with nsenter. The names start with
// ecsnet-emu-<pid>-, so that a later run can remove what a killed one left
// behind (sweepStale).

// hostsPrefix starts every namespace, file and directory hosts mode makes.
const hostsPrefix = "ecsnet-emu-"

// nsDir holds the bind mounts that keep the mount and UTS namespaces.
const nsDir = "/run/ecsnet-emu"

var staleRE = regexp.MustCompile(`^` + hostsPrefix + `(\d+)-`)

// hostPath is the PATH every command in a host runs with.
const hostPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// lookTool finds a command the way the guest root's builder does.
func lookTool(name string) (string, error) { return guestroot.LookTool(name) }

// nsTools are the paths of the commands hosts mode runs itself.
type nsTools struct {
	ip, nsenter, unshare, sh string
}

func findTools() (nsTools, error) {
	var t nsTools
	var errs []error
	for _, x := range []struct {
		p    *string
		name string
	}{{&t.ip, "ip"}, {&t.nsenter, "nsenter"}, {&t.unshare, "unshare"}, {&t.sh, "sh"}} {
		p, err := lookTool(x.name)
		if err != nil {
			errs = append(errs, err)
		}
		*x.p = p
	}
	if _, err := lookTool("bash"); err != nil {
		errs = append(errs, err)
	}
	return t, errors.Join(errs...)
}

// run runs a command on the machine and returns its stderr in the error.
func runTool(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return nil
}

// nsHandle names one host's namespaces.
type nsHandle struct {
	net, wire string // ip netns names
	mnt, uts  string // bind-mounted namespace files under nsDir
}

func newHandle(name string) nsHandle {
	return nsHandle{net: name, wire: name + "-w", mnt: filepath.Join(nsDir, name+".mnt"), uts: filepath.Join(nsDir, name+".uts")}
}

// setupScript builds the host's mount namespace: it runs once, in the new
// mount and UTS namespaces, with the host's network namespace already
// entered (so the sysfs it mounts shows the host's interfaces). $1 is the
// host's tree, $2 its hostname. Paths are taken relative to the tree, so
// that mounting over /tmp or /root cannot hide it halfway.
const setupScript = `set -e
cd "$1"
printf '%s' "$2" >/proc/sys/kernel/hostname
# Drop the copies of the machine's namespace bind mounts (under /run):
# held here, they would keep other hosts' namespaces alive.
awk '$5 ~ "^/run/" { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
	umount -l "$m" 2>/dev/null || true
done
umount -l /sys 2>/dev/null || true
mount -t sysfs -o ro,nosuid,nodev,noexec ecsnet-sysfs /sys
mount -t overlay ecsnet-etc -o "lowerdir=/etc,upperdir=$PWD/etc.up,workdir=$PWD/etc.work" /etc
mount -t overlay ecsnet-var -o "lowerdir=/var,upperdir=$PWD/var.up,workdir=$PWD/var.work" /var
mount --bind run /run
mount --bind home-root /root
mount --bind tmp /tmp
`

// create makes the namespaces of a host whose tree is root. The tree's
// layer directories must exist.
func (t nsTools) create(ctx context.Context, h nsHandle, root, hostname string) (err error) {
	defer func() {
		if err != nil {
			t.destroy(h)
		}
	}()
	if err := runTool(ctx, t.ip, "netns", "add", h.net); err != nil {
		return err
	}
	if err := runTool(ctx, t.ip, "netns", "add", h.wire); err != nil {
		return err
	}
	if err := t.bindNamespaces(ctx, h, root, hostname); err != nil {
		return err
	}
	return runTool(ctx, t.ip, "-n", h.net, "link", "set", "lo", "up")
}

// createNet makes the network namespaces of a booted guest, which
// brings its own mount and UTS namespaces (systemd-nspawn).
func (t nsTools) createNet(ctx context.Context, h nsHandle) (err error) {
	defer func() {
		if err != nil {
			t.destroy(h)
		}
	}()
	for _, ns := range []string{h.net, h.wire} {
		if err := runTool(ctx, t.ip, "netns", "add", ns); err != nil {
			return err
		}
	}
	return runTool(ctx, t.ip, "-n", h.net, "link", "set", "lo", "up")
}

// bindNamespaces makes the mount and UTS namespaces and binds them under
// nsDir, holding the lock that keeps another emulator from releasing
// nsDir meanwhile.
func (t nsTools) bindNamespaces(ctx context.Context, h nsHandle, root, hostname string) error {
	unlock, err := lockNSDir()
	if err != nil {
		return err
	}
	defer unlock()
	if err := prepareNSDir(); err != nil {
		return err
	}
	for _, f := range []string{h.mnt, h.uts} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			return err
		}
	}
	if err := runTool(ctx, t.nsenter, "--net=/run/netns/"+h.net, "--", t.unshare, "--mount="+h.mnt, "--uts="+h.uts,
		"--propagation", "private", "--", t.sh, "-c", setupScript, "ecsnet-emu-setup", root, hostname); err != nil {
		return fmt.Errorf("private mounts for %s: %w", hostname, err)
	}
	return nil
}

// pids lists the processes in a network namespace.
func (t nsTools) pids(ns string) []int {
	out, err := exec.Command(t.ip, "netns", "pids", ns).Output()
	if err != nil {
		return nil
	}
	var ps []int
	for _, f := range strings.Fields(string(out)) {
		if p, err := strconv.Atoi(f); err == nil && p != os.Getpid() {
			ps = append(ps, p)
		}
	}
	return ps
}

// killAll kills every process left in a host's namespaces (a daemon a
// script started) and waits a little for them to go.
func (t nsTools) killAll(h nsHandle) {
	for _, ns := range []string{h.net, h.wire} {
		for _, p := range t.pids(ns) {
			syscall.Kill(p, syscall.SIGKILL)
		}
	}
	for range 50 {
		if len(t.pids(h.net)) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// destroy removes a host's namespaces, whatever exists of them.
func (t nsTools) destroy(h nsHandle) error {
	t.killAll(h)
	var errs []error
	for _, f := range []string{h.mnt, h.uts} {
		if err := syscall.Unmount(f, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", f, err))
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for _, ns := range []string{h.net, h.wire} {
		if _, err := os.Stat("/run/netns/" + ns); err != nil {
			continue
		}
		if err := runTool(context.Background(), t.ip, "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// enter returns a command that runs args inside a host's namespaces, with
// a clean environment (env added to it), in the host's / (nsenter enters
// the mount namespace at its root). Its process group is killed when ctx
// ends.
func (t nsTools) enter(ctx context.Context, h nsHandle, env []string, args ...string) *exec.Cmd {
	full := append([]string{"--net=/run/netns/" + h.net, "--mount=" + h.mnt, "--uts=" + h.uts, "--"}, args...)
	cmd := exec.CommandContext(ctx, t.nsenter, full...)
	cmd.Env = append([]string{"PATH=" + hostPath, "HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/bash", "LANG=C.UTF-8"}, env...)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// prepareNSDir makes nsDir a private mount, as bind-mounted mount
// namespace files require (the way ip netns prepares /run/netns). The
// caller holds lockNSDir.
func prepareNSDir() error {
	if err := os.MkdirAll(nsDir, 0o755); err != nil {
		return err
	}
	if isMountPoint(nsDir) {
		return nil
	}
	if err := syscall.Mount(nsDir, nsDir, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s: %w", nsDir, err)
	}
	if err := syscall.Mount("", nsDir, "", syscall.MS_PRIVATE, ""); err != nil {
		syscall.Unmount(nsDir, syscall.MNT_DETACH)
		return fmt.Errorf("make %s private: %w", nsDir, err)
	}
	return nil
}

// releaseNSDir undoes prepareNSDir when no emulator uses nsDir any more.
func releaseNSDir() {
	unlock, err := lockNSDir()
	if err != nil {
		return
	}
	defer unlock()
	if entries, err := os.ReadDir(nsDir); err != nil || len(entries) > 0 {
		return
	}
	if isMountPoint(nsDir) {
		if syscall.Unmount(nsDir, 0) != nil {
			return
		}
	}
	os.Remove(nsDir)
}

var nsDirMu sync.Mutex

// lockNSDir serialises the preparation and release of nsDir between
// emulators: servers of this process with a mutex, other processes with
// a flock on nsDir's parent (which leaves no file behind).
func lockNSDir() (func(), error) {
	nsDirMu.Lock()
	f, err := os.Open(filepath.Dir(nsDir))
	if err != nil {
		nsDirMu.Unlock()
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		nsDirMu.Unlock()
		return nil, err
	}
	return func() { f.Close(); nsDirMu.Unlock() }, nil
}

func isMountPoint(dir string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

// alive reports whether the process that made a name (its pid follows the
// prefix) still runs.
func alive(name string) bool {
	m := staleRE.FindStringSubmatch(name)
	if m == nil {
		return true
	}
	pid, _ := strconv.Atoi(m[1])
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// sweepStale removes what emulators that no longer run left behind: their
// namespaces, namespace files and host trees under tmp.
func (t nsTools) sweepStale(tmp string) {
	seen := map[string]bool{}
	if entries, err := os.ReadDir("/run/netns"); err == nil {
		for _, e := range entries {
			n := strings.TrimSuffix(e.Name(), "-w")
			if staleRE.MatchString(n) && !alive(n) {
				seen[n] = true
			}
		}
	}
	if entries, err := os.ReadDir(nsDir); err == nil {
		for _, e := range entries {
			n := strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".mnt"), ".uts")
			if staleRE.MatchString(n) && !alive(n) {
				seen[n] = true
			}
		}
	}
	for n := range seen {
		t.destroy(newHandle(n))
	}
	if entries, err := os.ReadDir(tmp); err == nil {
		for _, e := range entries {
			if e.IsDir() && staleRE.MatchString(e.Name()) && !alive(e.Name()) {
				os.RemoveAll(filepath.Join(tmp, e.Name()))
			}
		}
	}
}
