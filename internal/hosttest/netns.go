package hosttest

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Netns is one emulated host: a network namespace whose interfaces are
// veths (their far ends sit in a second namespace, Peer, so nothing ever
// reaches the machine's own network), and a set of private directories
// that every command run in it sees as /etc, /var and /run.
//
// /etc and /var are overlays: the machine's files show through, read
// only, and whatever a command writes lands in Root. /run starts empty.
// Each command gets the mounts in a mount namespace of its own, which ends
// with it, so an apply script run with ROOT=/ reads and writes "its" /etc
// while the machine's stays untouched.
type Netns struct {
	Name string // the `ip netns` name
	Peer string // the namespace that holds the far end of every veth
	Root string // host directory holding the private layers

	links atomic.Int32
}

// prefix starts the name of every namespace this package makes; the pid
// after it lets a later run remove what a killed one left behind.
const prefix = "ecsnet-t"

var (
	seq       atomic.Int32
	sweepOnce sync.Once
	goodName  = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,40}$`)
	staleName = regexp.MustCompile(`^` + prefix + `(\d+)-`)
)

// Create makes a namespace pair for a host called name, with its private
// layers under root (an empty directory outside /etc, /var and /run whose
// path has no comma, colon or space, which overlay options cannot carry).
// Close removes it.
func Create(name, root string) (*Netns, error) {
	if !goodName.MatchString(name) {
		return nil, fmt.Errorf("netns name %q: use 1-40 of [A-Za-z0-9_.-]", name)
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(root, ",: \t\n\\") {
		return nil, fmt.Errorf("netns root %q: overlay options cannot carry a comma, colon, backslash or space", root)
	}
	for _, d := range []string{"/etc", "/var", "/run"} {
		if root == d || strings.HasPrefix(root, d+"/") {
			return nil, fmt.Errorf("netns root %q lies under %s, which it overlays", root, d)
		}
	}
	sweepOnce.Do(sweepStale)
	for _, d := range []string{"etc.up", "etc.work", "var.up", "var.work", "run/lock", "run/network", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, err
		}
	}
	n := &Netns{
		Name: fmt.Sprintf("%s%d-%d-%s", prefix, os.Getpid(), seq.Add(1), name),
		Root: root,
	}
	n.Peer = n.Name + "-p"
	if err := ip("netns", "add", n.Name); err != nil {
		return nil, err
	}
	if err := ip("netns", "add", n.Peer); err != nil {
		ip("netns", "del", n.Name)
		return nil, err
	}
	if err := ip("-n", n.Name, "link", "set", "lo", "up"); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Close stops every process left in the namespaces and deletes them.
func (n *Netns) Close() error {
	var errs []error
	for _, ns := range []string{n.Name, n.Peer} {
		if out, err := exec.Command(ipPath(), "netns", "pids", ns).Output(); err == nil {
			for _, f := range strings.Fields(string(out)) {
				if pid, err := strconv.Atoi(f); err == nil {
					if p, err := os.FindProcess(pid); err == nil {
						p.Kill()
					}
				}
			}
		}
		if err := ip("netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sweepStale deletes namespaces left by test processes that no longer
// run (a killed `go test`), so they do not pile up.
func sweepStale() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		m := staleName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		if _, err := os.Stat("/proc/" + m[1]); err == nil {
			continue
		}
		ip("netns", "del", e.Name())
	}
}

// AddLink adds an interface called name with the given MAC (a veth whose
// far end is in Peer) and sets both ends up.
func (n *Netns) AddLink(name, mac string) error {
	peer := fmt.Sprintf("p%d", n.links.Add(1))
	if err := ip("link", "add", name, "netns", n.Name, "address", mac, "type", "veth", "peer", "name", peer, "netns", n.Peer); err != nil {
		return err
	}
	if err := ip("-n", n.Peer, "link", "set", peer, "up"); err != nil {
		return err
	}
	return ip("-n", n.Name, "link", "set", name, "up")
}

// DelLink removes an interface (and its far end), as a detached ENI
// vanishes.
func (n *Netns) DelLink(name string) error { return ip("-n", n.Name, "link", "del", name) }

// mountScript sets up the private /etc, /var and /run, then runs the
// command. $1 is the root of the private layers.
const mountScript = `set -e
r=$1; shift
mount -t overlay ecsnet-etc -o "lowerdir=/etc,upperdir=$r/etc.up,workdir=$r/etc.work" /etc
mount -t overlay ecsnet-var -o "lowerdir=/var,upperdir=$r/var.up,workdir=$r/var.work" /var
mount --bind "$r/run" /run
export TMPDIR="$r/tmp" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C
exec "$@"`

// Command returns a command that runs args inside the namespace with the
// private mounts. The caller may set Stdin, Env, Dir and the outputs.
func (n *Netns) Command(args ...string) *exec.Cmd {
	return privateCommand(n.Root, []string{ipPath(), "netns", "exec", n.Name}, args)
}

// privateCommand runs args under prefix (an `ip netns exec`, or unshare's
// own network namespace) in a new mount namespace with the private layers
// of root.
func privateCommand(root string, prefix, args []string) *exec.Cmd {
	unshare, err := LookTool("unshare")
	if err != nil {
		unshare = "unshare"
	}
	full := append(append([]string{}, prefix...), unshare, "--mount", "--propagation", "private", "--", "/bin/sh", "-c", mountScript, "ecsnet-netns", root)
	full = append(full, args...)
	return exec.Command(full[0], full[1:]...)
}

// Exec runs args in the namespace with stdin, returning stdout and
// stderr; err is non-nil when the command fails.
func (n *Netns) Exec(stdin []byte, args ...string) (stdout, stderr string, err error) {
	return run(n.Command(args...), stdin)
}

func run(cmd *exec.Cmd, stdin []byte) (string, string, error) {
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
	}
	return o.String(), e.String(), err
}

// Run runs args in the namespace and returns their stdout; a failure
// fails the test, showing both outputs.
func (n *Netns) Run(t testing.TB, args ...string) string {
	t.Helper()
	out, errOut, err := n.Exec(nil, args...)
	if err != nil {
		t.Fatalf("in %s: %v\nstdout:\n%s\nstderr:\n%s", n.Name, err, out, errOut)
	}
	return out
}

// WriteFile writes a file inside the namespace's private tree (path is a
// path as the host sees it, such as /etc/network/interfaces).
func (n *Netns) WriteFile(t testing.TB, path string, data []byte, mode os.FileMode) {
	t.Helper()
	_, errOut, err := n.Exec(data, "/bin/sh", "-c", `mkdir -p "$(dirname "$1")" && cat >"$1" && chmod "$2" "$1"`, "sh", path, fmt.Sprintf("%o", mode.Perm()))
	if err != nil {
		t.Fatalf("write %s in %s: %v\n%s", path, n.Name, err, errOut)
	}
}

// ReadFile reads a file as commands in the namespace see it; ok is false
// when it does not exist.
func (n *Netns) ReadFile(t testing.TB, path string) (data string, ok bool) {
	t.Helper()
	out, _, err := n.Exec(nil, "/bin/sh", "-c", `[ -e "$1" ] || exit 3; cat "$1"`, "sh", path)
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 3 {
		return "", false
	}
	if err != nil {
		t.Fatalf("read %s in %s: %v", path, n.Name, err)
	}
	return out, true
}

// SetDHCPAddress puts addr on dev with a main-table default route via gw,
// as a DHCP client would have (protocol dhcp, so readers can tell it from
// what ecsnet adds).
func (n *Netns) SetDHCPAddress(t testing.TB, dev string, addr netip.Prefix, gw netip.Addr) {
	t.Helper()
	for _, args := range [][]string{
		{"-n", n.Name, "addr", "add", addr.String(), "dev", dev},
		{"-n", n.Name, "route", "add", "default", "via", gw.String(), "dev", dev, "proto", "dhcp"},
	} {
		if err := ip(args...); err != nil {
			t.Fatal(err)
		}
	}
}

// Addrs returns the namespace's IPv4 addresses, read with `ip -j addr`.
func (n *Netns) Addrs(t testing.TB) []Addr {
	t.Helper()
	a, err := ParseAddrs(n.ipJSON(t, "addr", "show"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Rules returns the namespace's IPv4 routing rules, read with
// `ip -j rule`.
func (n *Netns) Rules(t testing.TB) []Rule {
	t.Helper()
	r, err := ParseRules(n.ipJSON(t, "rule", "show"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Routes returns the IPv4 routes of a table ("main", "1001", ...), read
// with `ip -j route show table`.
func (n *Netns) Routes(t testing.TB, table string) []Route {
	t.Helper()
	r, err := ParseRoutes(n.ipJSON(t, "route", "show", "table", table), table)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (n *Netns) ipJSON(t testing.TB, args ...string) []byte {
	t.Helper()
	// -4 filters rules and routes; ip addr drops the link's MAC with it,
	// and ParseAddrs keeps IPv4 only anyway.
	family := []string{"-4"}
	if args[0] == "addr" {
		family = nil
	}
	cmd := exec.Command(ipPath(), append(append([]string{"-n", n.Name, "-j"}, family...), args...)...)
	out, errOut, err := run(cmd, nil)
	if err != nil && strings.Contains(errOut, "FIB table does not exist") {
		return []byte("[]") // a table nothing was ever added to
	}
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	return []byte(out)
}

func ipPath() string {
	if p, err := LookTool("ip"); err == nil {
		return p
	}
	return "ip"
}

func ip(args ...string) error {
	_, errOut, err := run(exec.Command(ipPath(), args...), nil)
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(errOut))
	}
	return nil
}

// NewNetns creates a namespace for the test and removes it (and every
// process left in it) when the test ends. It skips the test, or fails it
// in strict mode, without root, ip, unshare or overlayfs.
func NewNetns(t testing.TB, name string) *Netns {
	t.Helper()
	RequireRoot(t)
	RequireTool(t, "ip")
	RequireTool(t, "unshare")
	root, err := os.MkdirTemp("", "ecsnet-ns-")
	if err != nil {
		t.Fatal(err)
	}
	n, err := Create(name, root)
	if err != nil {
		os.RemoveAll(root)
		t.Fatalf("create network namespace: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("remove network namespace: %v", err)
		}
		os.RemoveAll(root)
	})
	if _, errOut, err := n.Exec(nil, "true"); err != nil {
		Unavailable(t, "private mount namespace (unshare --mount, overlayfs over /etc and /var) does not work here: %v: %s", err, errOut)
	}
	return n
}

// networkdScript runs systemd-networkd inside a Netns command. A
// read-only /sys tells networkd that udev is not running (systemd's
// udev_available()), so it configures links without waiting for udev.
const networkdScript = `set -e
mount -o remount,ro,bind /sys
mkdir -p /run/systemd/netif
chown systemd-network:systemd-network /run/systemd/netif 2>/dev/null || true
exec "$0"`

// StartNetworkd runs systemd-networkd in the namespace, as the hosts that
// use it do, reading .network files from the namespace's /etc, /run and
// /lib systemd/network directories. It stops when stop is called or the
// test ends; the configuration it applied stays. Its log is returned by
// the log func. networkd also sends DHCP and IPv6 router solicitations:
// they reach only the peer namespace.
func (n *Netns) StartNetworkd(t testing.TB) (stop func(), log func() string) {
	t.Helper()
	var bin string
	for _, p := range []string{"/lib/systemd/systemd-networkd", "/usr/lib/systemd/systemd-networkd"} {
		if exists(p) {
			bin = p
			break
		}
	}
	if bin == "" {
		Unavailable(t, "needs systemd-networkd (package systemd)")
	}
	cmd := n.Command("/bin/sh", "-c", networkdScript, bin)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=info", "SYSTEMD_LOG_TARGET=console")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start systemd-networkd: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		})
	}
	t.Cleanup(stop)
	return stop, out.String
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitFor polls cond every 100 ms until it holds or timeout passes, and
// reports whether it held.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
