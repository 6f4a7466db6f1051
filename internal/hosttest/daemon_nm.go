package hosttest

import (
	_ "embed"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

//go:embed daemon_nm.sh
var nmScript string

// Daemon is a daemon running in a namespace, in a mount namespace of its
// own with the namespace's private layers.
type Daemon struct {
	ns   *Netns
	pid  int
	out  *syncBuffer
	done chan struct{}
	once sync.Once
	stop func()
}

// Stop ends the daemon (and any helper it started, such as its bus); what
// it configured stays. It also runs when the test ends.
func (d *Daemon) Stop() { d.once.Do(d.stop) }

// Log returns what the daemon printed so far.
func (d *Daemon) Log() string { return d.out.String() }

// Command returns a command that runs args in the daemon's network and
// mount namespaces, so it sees the same /etc, /var and /run as the daemon.
//
// Netns.Command would mount the private layers anew: a second overlay on
// the same upper and work directories, which overlayfs does not support
// while the daemon's is mounted (each mount empties the work directory, so
// the daemon's next copy-up fails with ENOENT: NetworkManager then cannot
// save a profile in a directory that was only in the lower layer), and
// which may not show the daemon's writes.
func (d *Daemon) Command(args ...string) *exec.Cmd {
	nsenter, err := LookTool("nsenter")
	if err != nil {
		nsenter = "nsenter"
	}
	full := append([]string{nsenter, "--target", strconv.Itoa(d.pid), "--mount", "--net", "--",
		"/usr/bin/env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "TMPDIR=" + d.ns.Root + "/tmp"}, args...)
	return exec.Command(full[0], full[1:]...)
}

// Exec runs args like Command, with stdin, returning stdout and stderr;
// err is non-nil when the command fails.
func (d *Daemon) Exec(stdin []byte, args ...string) (stdout, stderr string, err error) {
	return run(d.Command(args...), stdin)
}

// StartNetworkManager runs NetworkManager itself in the namespace
// (`NetworkManager --no-daemon`), with a dbus-daemon of its own as the
// system bus on the namespace's private /run, reading keyfiles from the
// namespace's /etc/NetworkManager/system-connections. Commands run with
// the Daemon's Exec (nmcli, nm-online, an apply script) reach it there.
// It returns once NetworkManager reports its startup complete
// (nm-online -s), by when it has activated every profile it can.
func (n *Netns) StartNetworkManager(t testing.TB) *Daemon {
	t.Helper()
	RequireTool(t, "nsenter")
	nm := RequireTool(t, "NetworkManager")
	bus := RequireTool(t, "dbus-daemon")
	online := RequireTool(t, "nm-online")
	cmd := n.Command("/bin/sh", "-c", nmScript, "daemon_nm.sh", nm, bus)
	d := &Daemon{ns: n, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start NetworkManager: %v", err)
	}
	// ip netns exec, unshare and both shells exec in turn: the pid is
	// that of the daemon_nm.sh shell, inside the mount namespace.
	d.pid = cmd.Process.Pid
	go func() { cmd.Wait(); close(d.done) }()
	d.stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-d.done
		}
	}
	t.Cleanup(d.Stop)
	// The mount namespace is there once the script printed its first
	// line; nm-online needs the bus, so retry until both are up.
	deadline := time.Now().Add(30 * time.Second)
	for {
		o, e, err := d.Exec(nil, online, "-s", "-q", "-t", "30")
		if err == nil {
			break
		}
		select {
		case <-d.done:
			t.Fatalf("NetworkManager exited during startup:\n%s", d.Log())
		default:
		}
		if time.Now().After(deadline) {
			d.Stop()
			t.Fatalf("NetworkManager did not complete its startup in 30 s: %v\n%s%s\nlog:\n%s", err, o, e, d.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return d
}

// Pids returns the processes still running in the namespace or its peer.
// A test that stopped its daemons expects none.
func (n *Netns) Pids() []string {
	var pids []string
	for _, ns := range []string{n.Name, n.Peer} {
		o, _, err := run(exec.Command(ipPath(), "netns", "pids", ns), nil)
		if err == nil {
			pids = append(pids, strings.Fields(o)...)
		}
	}
	return pids
}
