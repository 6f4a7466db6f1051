// Package guestroot makes and boots the Debian root that stands in for a
// host whose network stack needs a running system (NetworkManager,
// systemd-networkd, netplan): a debootstrapped bookworm, made once and
// cached, booted by systemd-nspawn under a private overlay per guest, in
// the network namespace that holds the guest's NICs. Both hosts mode of
// ecs/emulator (ecsnet emulator --hosts) and the daemon tests of
// internal/hosttest/daemons use it, so they boot the same guest.
//
// This machine and CI are containers whose PID 1 is not systemd; nspawn
// boots there all the same (without machined: --register=no
// --keep-unit).
package guestroot

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ecsnet/ecsnet/schema"
)

var (
	//go:embed root.sh
	rootScript string
	//go:embed boot.sh
	bootScript string
	//go:embed vethmac.service
	vethMACUnit []byte
	//go:embed udevadm.sh
	udevadmShim []byte
)

// Packages are what debootstrap adds to bookworm's minbase: systemd to
// boot, the three stacks' daemons, and what the payload's probes run
// (ping). Changing the list changes Dir, so a root made from another
// list is never reused.
var Packages = []string{
	"systemd", "systemd-sysv", "libpam-systemd", "dbus", "iproute2",
	"network-manager", "netplan.io", "iputils-ping",
}

// Stacks are the stacks whose guests boot from the root.
var Stacks = []schema.Stack{schema.StackNetworkManager, schema.StackNetworkd, schema.StackNetplan}

// Dir is where the root is cached: $ECSNET_TOOL_CACHE, else
// $XDG_CACHE_HOME/ecsnet, else ~/.cache/ecsnet, then
// nspawn/bookworm-<key>, the key naming the package list and the
// layout (rootLayout).
func Dir() string {
	cache := os.Getenv("ECSNET_TOOL_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "ecsnet")
	}
	return filepath.Join(cache, "nspawn", "bookworm-"+key())
}

// rootLayout changes when root.sh makes a root that differs in more than
// its packages.
const rootLayout = "2" // 2: NetworkManager is not enabled in the root

func key() string {
	h := sha256.New()
	io.WriteString(h, rootLayout+"\n"+strings.Join(Packages, ","))
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Check reports why dir is not a root a guest can boot, nil when it is.
func Check(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, ".ecsnet-complete")); err != nil {
		return fmt.Errorf("%s is not a complete guest root (no .ecsnet-complete): build one with `make guest-root` or `ecsnet emulator --build-guest-root`", dir)
	}
	for _, p := range []string{"lib/systemd/systemd", "usr/sbin/NetworkManager", "usr/sbin/netplan", "bin/ping"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			return fmt.Errorf("guest root %s lacks /%s: rebuild it with `make guest-root` (a root of another package list)", dir, p)
		}
	}
	return nil
}

// Build makes the root in dir with debootstrap unless it is complete
// already (concurrent builders wait on a lock), writing progress and, on
// failure, the end of debootstrap's log to w. It needs root, debootstrap
// and flock, and a Debian mirror ($ECSNET_DEBIAN_MIRROR, default
// deb.debian.org).
func Build(ctx context.Context, dir string, w io.Writer) error {
	if Check(dir) == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return errors.New("building a guest root needs root (debootstrap)")
	}
	for _, tool := range []string{"debootstrap", "flock"} {
		if _, err := LookTool(tool); err != nil {
			return fmt.Errorf("building a guest root needs %s: %w (apt-get install debootstrap util-linux)", tool, err)
		}
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", rootScript, "root.sh", dir, strings.Join(Packages, ","))
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("debootstrap a Debian root into %s: %w", dir, err)
	}
	return Check(dir)
}

// LookTool finds a command on PATH or in the sbin directories a non-root
// PATH often lacks.
func LookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not installed (not on PATH nor in /usr/local/sbin, /usr/sbin, /sbin)", name)
}

// Enable enables the stack's daemon in a guest's upper layer, as the
// distribution does on a host of that stack: NetworkManager.service, or
// systemd-networkd.service and its socket (netplan's generator runs at
// boot by itself), plus, for netplan, the harness unit and the udevadm
// shim of Rewrites.
func Enable(upper string, stack schema.Stack) error {
	link := func(target, dir string) error {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		l := filepath.Join(dir, filepath.Base(target))
		if _, err := os.Lstat(l); err == nil {
			return nil
		}
		return os.Symlink(target, l)
	}
	sys := filepath.Join(upper, "etc/systemd/system")
	wants := filepath.Join(sys, "multi-user.target.wants")
	var err error
	switch stack {
	case schema.StackNetworkManager:
		// What `systemctl enable NetworkManager` makes (its Also= and
		// the dispatcher's Alias=).
		err = errors.Join(link("/lib/systemd/system/NetworkManager.service", wants),
			link("/lib/systemd/system/NetworkManager-wait-online.service", filepath.Join(sys, "network-online.target.wants")))
		if err == nil {
			l := filepath.Join(sys, "dbus-org.freedesktop.nm-dispatcher.service")
			if _, e := os.Lstat(l); e != nil {
				err = os.Symlink("/lib/systemd/system/NetworkManager-dispatcher.service", l)
			}
		}
	case schema.StackNetworkd, schema.StackNetplan:
		err = errors.Join(link("/lib/systemd/system/systemd-networkd.service", wants),
			link("/lib/systemd/system/systemd-networkd.socket", filepath.Join(sys, "sockets.target.wants")))
		if err == nil && stack == schema.StackNetplan {
			if err = os.WriteFile(filepath.Join(sys, "ecsnet-veth-mac.service"), vethMACUnit, 0o644); err == nil {
				err = link("/etc/systemd/system/ecsnet-veth-mac.service", filepath.Join(sys, "systemd-networkd.service.wants"))
			}
			if err == nil {
				sbin := filepath.Join(upper, "usr/local/sbin")
				if err = os.MkdirAll(sbin, 0o755); err == nil {
					err = os.WriteFile(filepath.Join(sbin, "udevadm"), udevadmShim, 0o755)
				}
			}
		}
	default:
		return fmt.Errorf("no daemon for stack %s in a booted guest", stack)
	}
	if err != nil {
		return fmt.Errorf("enable %s's daemon in %s: %w", stack, upper, err)
	}
	return nil
}

// BootCommand returns the command that boots a guest: root under an
// overlay (upper takes every write, work is overlayfs' work directory,
// both on one file system, upper's sibling upper+".merged" the mount
// point), systemd-nspawn in the network namespace netns (an ip netns
// name) with the host name name, extra passed on to systemd-nspawn
// (--bind-ro=...). The overlay lives in a private mount namespace and
// goes with the guest. SIGTERM to the command makes nspawn power the
// guest off; the guest's PID 1 is the command's child (see PID1).
func BootCommand(root, upper, work, netns, name string, extra ...string) *exec.Cmd {
	args := append([]string{"--mount", "--propagation", "private", "--",
		"/bin/sh", "-c", bootScript, "boot.sh", root, upper, work, netns, name}, extra...)
	return exec.Command("unshare", args...)
}

// PID1 returns the guest's PID 1 once systemd-nspawn (pid, the
// BootCommand's process: unshare and sh exec in turn) has started it, 0
// before. nspawn's children are its own until one execs the guest's
// systemd: only that one is the guest (entering a child that is still
// setting up the guest's namespaces would hang).
func PID1(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%[1]d/children", pid))
	if err != nil {
		return 0
	}
	for _, f := range strings.Fields(string(b)) {
		comm, err := os.ReadFile("/proc/" + f + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "systemd" {
			continue
		}
		var p int
		fmt.Sscan(f, &p)
		return p
	}
	return 0
}
