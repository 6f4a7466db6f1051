package emulator

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ecsnet/ecsnet/internal/guestroot"
	"github.com/ecsnet/ecsnet/schema"
)

// HostsConfig turns on hosts mode (Options.Hosts): every instance gets an
// emulated guest, and Cloud Assistant commands reach it. See the package
// documentation, section "Hosts mode".
type HostsConfig struct {
	// Dir is where the hosts' private trees go, in a new directory
	// ecsnet-emu-<pid>-<n>-* that Close removes. Default os.TempDir(). It
	// must not lie under /etc or /var (which the trees overlay), and its
	// path cannot hold a comma, colon, backslash or space (overlayfs
	// options cannot carry them).
	Dir string
	// Log receives one line per host event (boot, NIC added or removed,
	// halt) and failure; nil discards them.
	Log io.Writer
	// GuestRoot is the Debian root (internal/guestroot: `ecsnet emulator
	// --build-guest-root`) that hosts of the NetworkManager, networkd and
	// netplan stacks boot with systemd-nspawn. "" leaves those hosts
	// recording their commands, with a reason that says how to get one.
	GuestRoot string
}

// ErrHostsNeedRoot is New's error when hosts mode is asked for by a user
// other than root.
var ErrHostsNeedRoot = errors.New("hosts mode needs root (it makes network and mount namespaces); run as root or without hosts mode")

// HostCommand is one Cloud Assistant command as a host received it.
type HostCommand struct {
	Command
	// Executed is true when the script ran in the host (its namespaces,
	// or its booted guest), false when it was recorded and parse-checked
	// only.
	Executed bool
	Result   CommandResult
	// Err is set when the host could not run the command (its namespaces
	// were gone); the invocation then fails with ClientNotResponse.
	Err error
}

// Host is one emulated guest. Hosts whose family runs for real
// (Runs) have namespaces while their instance is Running; the others
// only record the commands they get.
type Host struct {
	set  *hostSet
	id   string
	name string // hostname: the instance name, or its ID
	fam  hostFamily
	root string   // the private tree; "" when the family does not run
	ns   nsHandle // names only; they exist while up

	mu      sync.Mutex
	hw      hostHW
	up      bool         // the namespaces exist
	booted  bool         // it booted once: later boots replay the configuration
	guest   *nspawnGuest // the running boot of a booted guest (fam.nspawn)
	pid1    atomic.Int64 // the booted guest's PID 1, 0 when it is down; read without h.mu
	boots   []time.Duration
	nics    map[string]int // MAC -> device index of the secondary NICs hosts mode added
	wire    hostWire       // the vSwitch side (hosts_wire.go)
	errs    []error
	history []HostCommand
	bootLog bytes.Buffer
}

// hostHW is the hardware of an instance at one moment: what the cloud
// says its guest has. gen orders snapshots (a later one wins).
type hostHW struct {
	gen     uint64
	running bool
	mac     string
	addr    netip.Prefix // primary address, vSwitch prefix length
	gw      netip.Addr
	gw6     netip.Prefix // the primary's vSwitch IPv6 gateway, block length; zero: no IPv6 block
	nics    []hostNIC    // secondary ENIs present in the guest, by device index
}

type hostNIC struct {
	index int
	mac   string
	addr  netip.Prefix // the ENI's primary address, vSwitch prefix length
	gw    netip.Addr   // its vSwitch's gateway
	gw6   netip.Prefix // its vSwitch's IPv6 gateway, block length; zero: no IPv6 block
}

type hostSet struct {
	t         nsTools
	guestRoot string // HostsConfig.GuestRoot, checked
	dir       string // this server's trees
	tag       string // ecsnet-emu-<pid>-<n>-
	log       io.Writer
	gen       atomic.Uint64
	hosts     map[string]*Host // fixed after New
	wire      wireSet          // hosts_wire.go

	mu     sync.Mutex // closed, log
	closed bool
}

var hostSetSeq atomic.Int64

// newHostSet checks that hosts mode can work here, sweeps what dead
// emulators left and makes the directory of this server's trees.
func newHostSet(cfg HostsConfig) (*hostSet, error) {
	if os.Geteuid() != 0 {
		return nil, ErrHostsNeedRoot
	}
	t, err := findTools()
	if err != nil {
		return nil, fmt.Errorf("hosts mode: %w", err)
	}
	dir := cfg.Dir
	if dir == "" {
		dir = os.TempDir()
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	if strings.ContainsAny(dir, ",: \t\n\\") {
		return nil, fmt.Errorf("hosts mode: directory %q: overlayfs options cannot carry a comma, colon, backslash or space", dir)
	}
	for _, d := range []string{"/etc", "/var"} {
		if dir == d || strings.HasPrefix(dir, d+"/") {
			return nil, fmt.Errorf("hosts mode: directory %q lies under %s, which every host overlays; pick another (HostsConfig.Dir, or TMPDIR)", dir, d)
		}
	}
	guestRoot := cfg.GuestRoot
	if guestRoot != "" {
		if guestRoot, err = filepath.Abs(guestRoot); err != nil {
			return nil, err
		}
		if err := guestroot.Check(guestRoot); err != nil {
			return nil, fmt.Errorf("hosts mode: %w", err)
		}
		for _, tool := range []string{"systemd-nspawn", "cloud-init"} {
			if _, err := lookTool(tool); err != nil {
				return nil, fmt.Errorf("hosts mode: the booted guests need %w (apt-get install systemd-container cloud-init)", err)
			}
		}
	}
	t.sweepStale(dir)
	tag := fmt.Sprintf("%s%d-%d-", hostsPrefix, os.Getpid(), hostSetSeq.Add(1))
	root, err := os.MkdirTemp(dir, tag+"*")
	if err != nil {
		return nil, fmt.Errorf("hosts mode: %w", err)
	}
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	return &hostSet{t: t, guestRoot: guestRoot, dir: root, tag: tag, log: log, hosts: map[string]*Host{}}, nil
}

func (hs *hostSet) logf(format string, args ...any) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	fmt.Fprintf(hs.log, "ecsnet emulator: hosts: "+format+"\n", args...)
}

func (hs *hostSet) isClosed() bool {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.closed
}

// startHosts creates a Host per instance and boots those that run for
// real and are Running, a few at a time. Called by New, before the server
// is shared.
func (s *Server) startHosts(cfg HostsConfig) error {
	hs, err := newHostSet(cfg)
	if err != nil {
		return err
	}
	s.hosts = hs
	hs.wire = s.newWireSet(hs)
	used := map[string]bool{}
	var boot []*Host
	var ifupdownHost string
	for _, in := range s.cloud.instList {
		h := &Host{set: hs, id: in.id, name: cmp.Or(in.name, in.id), fam: familyOf(in, hs.guestRoot != ""), nics: map[string]int{}}
		hs.hosts[in.id] = h
		if !h.fam.runs() {
			hs.logf("%s (%s): %s on %s: commands are recorded, not executed (%s)", h.name, h.id, h.fam.stack, h.fam.os, h.fam.reason())
			continue
		}
		if h.fam.nspawn {
			hs.logf("%s (%s): %s on %s: runs for real, booted from %s by systemd-nspawn", h.name, h.id, h.fam.stack, h.fam.os, hs.guestRoot)
		} else {
			hs.logf("%s (%s): %s on %s: runs for real, in namespaces with this machine's tools", h.name, h.id, h.fam.stack, h.fam.os)
		}
		if h.fam.stack == schema.StackIfupdown {
			ifupdownHost = h.name
		}
		base := safeName(in.id)
		for n := 2; used[base]; n++ {
			base = safeName(in.id) + "-" + strconv.Itoa(n)
		}
		used[base] = true
		h.ns = newHandle(hs.tag + base)
		h.root = filepath.Join(hs.dir, base)
		makeTree := h.makeTree
		if h.fam.nspawn {
			makeTree = h.makeGuestTree
		}
		if err := makeTree(); err != nil {
			hs.close()
			return err
		}
		h.hw = s.hostSnapshot(in)
		boot = append(boot, h)
	}
	if ifupdownHost != "" {
		if _, err := lookTool("ifup"); err != nil {
			hs.close()
			return fmt.Errorf("hosts mode: %s runs ifupdown, but %v (apt-get install ifupdown)", ifupdownHost, err)
		}
	}
	sem := make(chan struct{}, 4)
	errs := make([]error, len(boot))
	var wg sync.WaitGroup
	for i, h := range boot {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.hw.running {
				errs[i] = h.bootLocked()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		hs.close()
		return fmt.Errorf("hosts mode: %w", err)
	}
	s.runner = hs.run
	return nil
}

// safeName keeps the characters a namespace and a directory name may
// carry.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}

// hostSnapshot reads an instance's hardware. s.mu is held (or the server
// is not shared yet).
func (s *Server) hostSnapshot(in *instance) hostHW {
	c := s.cloud
	v := c.vswitches[in.vsw]
	hw := hostHW{gen: s.hosts.gen.Add(1), running: in.status == "Running", mac: in.primary.mac,
		addr: netip.PrefixFrom(in.primary.ip, v.cidr.Bits()), gw: u32ToAddr(v.base + v.size - 3), gw6: ipv6Gateway(v.ipv6)}
	for _, e := range in.enis {
		if !e.primary && e.instanceID == in.id && (e.status == stInUse || e.status == stDetaching) {
			n := hostNIC{index: e.deviceIndex, mac: e.mac}
			if ev := c.vswitches[e.vsw]; ev != nil {
				n.addr, n.gw, n.gw6 = netip.PrefixFrom(e.ip, ev.cidr.Bits()), u32ToAddr(ev.base+ev.size-3), ipv6Gateway(ev.ipv6)
			}
			hw.nics = append(hw.nics, n)
		}
	}
	slices.SortFunc(hw.nics, func(a, b hostNIC) int { return a.index - b.index })
	s.publishMetadata(in)
	return hw
}

// hostChanged tells the instance's host that its hardware changed (a NIC
// came or went). s.mu is held: the change is made before the request that
// observed it answers.
func (s *Server) hostChanged(in *instance) {
	if s.hosts == nil || in == nil {
		return
	}
	if h := s.hosts.hosts[in.id]; h != nil {
		h.apply(s.hostSnapshot(in))
	}
}

// apply brings the host in line with a hardware snapshot: boots it,
// halts it, or adds and removes NICs. Failures are recorded (Err) and
// logged.
func (h *Host) apply(hw hostHW) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if hw.gen < h.hw.gen {
		return // a later snapshot was applied already
	}
	h.hw = hw
	if !h.fam.runs() || h.set.isClosed() {
		return
	}
	var err error
	switch {
	case hw.running && !h.up:
		err = h.bootLocked()
	case !hw.running && h.up:
		err = h.haltLocked()
	case h.up:
		err = h.syncNICsLocked()
	}
	if err != nil {
		h.errs = append(h.errs, err)
		h.set.logf("%s: %v", h.name, err)
	}
}

// makeTree creates the host's private tree, seeded with what its family's
// image holds before ecsnet ran on it.
func (h *Host) makeTree() error {
	for _, d := range []string{"etc.up", "etc.work", "var.up", "var.work", "run", "tmp", "home-root"} {
		if err := os.MkdirAll(filepath.Join(h.root, d), 0o755); err != nil {
			return err
		}
	}
	os.Chmod(filepath.Join(h.root, "tmp"), 0o1777)
	os.Chmod(filepath.Join(h.root, "home-root"), 0o700)
	sd := familySeed(h.fam, h.name)
	layer := func(p string) string {
		top, rest, _ := strings.Cut(p, "/")
		return filepath.Join(h.root, top+".up", filepath.FromSlash(rest))
	}
	for _, d := range sd.opaque {
		p := layer(d)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		if err := setOpaque(p); err != nil {
			return fmt.Errorf("hosts mode: %s cannot carry overlayfs' trusted xattrs (%v); set HostsConfig.Dir (or TMPDIR) to a directory on ext4, xfs or tmpfs", h.root, err)
		}
	}
	return writeSeed(layer, sd.files)
}

// writeSeed writes files (a path ending in / is a directory) through the
// path mapping at.
func writeSeed(at func(string) string, files map[string]string) error {
	for _, p := range slices.Sorted(maps.Keys(files)) {
		dst := at(strings.TrimSuffix(p, "/"))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, []byte(files[p]), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// bootLocked starts the host: a fresh /run and /tmp, the namespaces, the
// primary NIC with its address as DHCP sets it, the secondary NICs; and,
// from the second boot on, what the host's configuration brings up at
// boot (ifup -a, the units it enabled).
func (h *Host) bootLocked() error {
	if h.fam.nspawn {
		return h.bootNspawnLocked()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h.writeCloudInitLocked(ctx); err != nil && !errors.Is(err, errNoCloudInit) {
		return err
	}
	for _, d := range []string{"run", "tmp"} {
		p := filepath.Join(h.root, d)
		if err := os.RemoveAll(p); err != nil {
			return err
		}
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
	}
	os.Chmod(filepath.Join(h.root, "tmp"), 0o1777)
	if err := writeSeed(func(p string) string { return filepath.Join(h.root, "run", filepath.FromSlash(p)) }, runSeed(h.fam)); err != nil {
		return err
	}
	t := h.set.t
	if err := t.create(ctx, h.ns, h.root, h.name); err != nil {
		return fmt.Errorf("boot %s: %w", h.name, err)
	}
	h.up = true
	if err := h.plugNICsLocked(ctx); err != nil {
		return err
	}
	if h.booted {
		h.replayBootLocked(ctx)
	}
	h.booted = true
	h.set.logf("%s (%s): up as %s (%s on %s), eth0 %s %s", h.name, h.id, h.ns.net, h.fam.stack, h.fam.os, h.hw.mac, h.hw.addr)
	return nil
}

// bootNspawnLocked boots a booted guest: cloud-init's render for the
// primary ENI into its /etc, its network namespace with the NICs, then
// the guest root by systemd-nspawn, whose systemd starts the stack's
// daemon and the units ecsnet enabled.
func (h *Host) bootNspawnLocked() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	if err := h.writeCloudInitLocked(ctx); err != nil {
		return err
	}
	if err := h.set.t.createNet(ctx, h.ns); err != nil {
		return fmt.Errorf("boot %s: %w", h.name, err)
	}
	h.up = true
	if err := h.plugNICsLocked(ctx); err != nil {
		return err
	}
	if err := h.bootGuestLocked(ctx); err != nil {
		h.haltLocked()
		return err
	}
	took := time.Since(start)
	h.boots = append(h.boots, took)
	what := "booted"
	if h.booted {
		what = "rebooted"
	}
	h.booted = true
	fmt.Fprintf(&h.bootLog, "--- boot %s: %s in %v\n", time.Now().UTC().Format(time.RFC3339), what, took.Round(time.Millisecond))
	h.set.logf("%s (%s): %s in %v by systemd-nspawn in %s (%s on %s), eth0 %s %s", h.name, h.id, what, took.Round(time.Millisecond), h.ns.net, h.fam.stack, h.fam.os, h.hw.mac, h.hw.addr)
	return nil
}

// plugNICsLocked gives a booting host its NICs: eth0 with the primary
// ENI's MAC and the secondary NICs. Unless the guest's own DHCP client
// takes it (primaryByDHCPLocked), eth0 is up with its address and
// default route as DHCP leaves them. On failure the host is halted.
func (h *Host) plugNICsLocked(ctx context.Context) error {
	t := h.set.t
	hw := h.hw
	steps := [][]string{
		{"link", "add", "eth0", "netns", h.ns.net, "address", hw.mac, "type", "veth", "peer", "name", "w0", "netns", h.ns.wire},
		{"-n", h.ns.wire, "link", "set", "w0", "up"},
	}
	if !h.primaryByDHCPLocked() {
		steps = append(steps,
			[]string{"-n", h.ns.net, "link", "set", "eth0", "up"},
			[]string{"-n", h.ns.net, "addr", "add", hw.addr.String(), "dev", "eth0"},
			[]string{"-n", h.ns.net, "route", "add", "default", "via", hw.gw.String(), "dev", "eth0", "proto", "dhcp"})
	}
	for _, s := range steps {
		if err := runTool(ctx, t.ip, s...); err != nil {
			h.haltLocked()
			return fmt.Errorf("boot %s: %w", h.name, err)
		}
	}
	if err := h.wireUpLocked(ctx, "w0", hostNIC{mac: hw.mac, addr: hw.addr, gw: hw.gw, gw6: hw.gw6}); err != nil {
		h.haltLocked()
		return fmt.Errorf("boot %s: %w", h.name, err)
	}
	h.nics = map[string]int{}
	if err := h.syncNICsLocked(); err != nil {
		h.haltLocked()
		return err
	}
	return nil
}

// replayBootLocked runs what the host's configuration brings up at boot:
// ifup -a on ifupdown (lo and eth0 are up already, as DHCP left them),
// then the ExecStart of every unit the host enabled in
// multi-user.target.wants. The output goes to BootLog.
func (h *Host) replayBootLocked(ctx context.Context) {
	fmt.Fprintf(&h.bootLog, "--- boot %s\n", time.Now().UTC().Format(time.RFC3339))
	runIn := func(args ...string) {
		cmd := h.command(ctx, nil, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		fmt.Fprintf(&h.bootLog, "$ %s\n%s", strings.Join(args, " "), out.String())
		if err != nil {
			fmt.Fprintf(&h.bootLog, "(%v)\n", err)
			h.set.logf("%s: boot: %s: %v", h.name, strings.Join(args, " "), err)
		}
	}
	if h.fam.stack == schema.StackIfupdown {
		runIn("ifup", "-a", "--exclude=lo", "--exclude=eth0")
	}
	wants := filepath.Join(h.root, "etc.up", "systemd", "system", "multi-user.target.wants")
	entries, _ := os.ReadDir(wants)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".service") {
			continue
		}
		out, _, err := h.execNS(ctx, nil, "cat", "/etc/systemd/system/multi-user.target.wants/"+e.Name())
		if err != nil {
			continue
		}
		for _, line := range strings.Split(out, "\n") {
			v, ok := strings.CutPrefix(strings.TrimSpace(line), "ExecStart=")
			if !ok {
				continue
			}
			args := strings.Fields(strings.TrimLeft(v, "-@+!:"))
			if len(args) > 0 {
				runIn(args...)
			}
		}
	}
}

// haltLocked stops the host: every process in it is killed and its
// namespaces go, NICs and live network state with them. Its tree stays
// (/etc and /var persist; /run and /tmp start afresh at the next boot).
func (h *Host) haltLocked() error {
	h.up = false
	h.pid1.Store(0)
	h.wireDownLocked()
	h.haltGuestLocked()
	h.nics = map[string]int{}
	if err := h.set.t.destroy(h.ns); err != nil {
		return fmt.Errorf("halt %s: %w", h.name, err)
	}
	h.set.logf("%s (%s): halted", h.name, h.id)
	return nil
}

// syncNICsLocked adds the secondary NICs the hardware has and the host
// lacks (eth<device index>, the ENI's MAC, down, as a hot-plugged NIC
// appears), and removes those it no longer has, found by MAC whatever
// they were renamed to. Interfaces made by hand are left alone.
func (h *Host) syncNICsLocked() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t := h.set.t
	want := map[string]int{}
	for _, n := range h.hw.nics {
		want[n.mac] = n.index
	}
	var errs []error
	for mac, idx := range h.nics {
		if w, ok := want[mac]; ok && w == idx {
			continue
		}
		links, err := h.linksLocked(ctx)
		if err != nil {
			return err
		}
		for _, l := range links {
			if l.MAC == mac {
				if err := runTool(ctx, t.ip, "-n", h.ns.net, "link", "del", l.Name); err != nil {
					errs = append(errs, err)
				}
			}
		}
		delete(h.nics, mac)
		runTool(ctx, t.ip, "-n", h.ns.wire, "link", "del", "w"+strconv.Itoa(idx)) // gone with its peer; just in case
		h.set.logf("%s: eth%d (%s) removed", h.name, idx, mac)
	}
	for _, n := range h.hw.nics {
		if _, ok := h.nics[n.mac]; ok {
			continue
		}
		dev, peer := "eth"+strconv.Itoa(n.index), "w"+strconv.Itoa(n.index)
		if err := runTool(ctx, t.ip, "link", "add", dev, "netns", h.ns.net, "address", n.mac, "type", "veth", "peer", "name", peer, "netns", h.ns.wire); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := runTool(ctx, t.ip, "-n", h.ns.wire, "link", "set", peer, "up"); err != nil {
			errs = append(errs, err)
		} else if err := h.wireNICLocked(ctx, peer, n); err != nil {
			errs = append(errs, err)
		}
		h.nics[n.mac] = n.index
		h.set.logf("%s: %s (%s) added", h.name, dev, n.mac)
	}
	errs = append(errs, h.wireSyncLocked(ctx))
	return errors.Join(errs...)
}

// run is the Runner of hosts mode.
func (hs *hostSet) run(ctx context.Context, c Command) (CommandResult, error) {
	h := hs.hosts[c.InstanceId]
	if h == nil {
		return CommandResult{}, fmt.Errorf("no emulated host for %s", c.InstanceId)
	}
	rec := HostCommand{Command: c}
	if h.fam.runs() && c.Type == "RunShellScript" {
		rec.Executed = true
		rec.Result, rec.Err = h.runScript(ctx, c)
	} else {
		rec.Result = h.record(ctx, c)
	}
	h.mu.Lock()
	h.history = append(h.history, rec)
	h.mu.Unlock()
	return rec.Result, rec.Err
}

// runScript runs a RunShellScript command in the host: the script is
// saved as /run/ecsnet-emulator/commands/<InvokeId>.sh and run by bash as
// root, in WorkingDir (default /root), with stdin from /dev/null and
// stdout and stderr together as its output.
func (h *Host) runScript(ctx context.Context, c Command) (CommandResult, error) {
	h.mu.Lock()
	up := h.up
	h.mu.Unlock()
	if !up {
		return CommandResult{}, fmt.Errorf("the emulated host %s is not up", h.name)
	}
	name := safeName(c.InvokeId) + ".sh"
	wd := cmp.Or(c.WorkingDir, "/root")
	script := "/run/ecsnet-emulator/commands/" + name
	var cmd *exec.Cmd
	if h.fam.nspawn {
		// The guest's /run is its own tmpfs: the script comes on stdin.
		cmd = h.command(ctx, nil, "/bin/bash", "-c", `set -e; mkdir -p -m 700 "${2%/*}"; cat >"$2"; chmod 700 "$2"; cd -- "$1" || exit 1; shift; exec /bin/bash "$@" </dev/null`,
			"ecsnet-emulator", wd, script)
		cmd.Stdin = strings.NewReader(c.Content)
	} else {
		dir := filepath.Join(h.root, "run", "ecsnet-emulator", "commands")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return CommandResult{}, err
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(c.Content), 0o700); err != nil {
			return CommandResult{}, err
		}
		cmd = h.command(ctx, nil, "/bin/bash", "-c", `cd -- "$1" || exit 1; shift; exec /bin/bash "$@"`,
			"ecsnet-emulator", wd, script)
	}
	out := &tailBuffer{max: maxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	res := CommandResult{Output: out.bytes(), Dropped: out.dropped}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.ExitCode = 128 + int(ws.Signal())
		} else {
			res.ExitCode = ee.ExitCode()
		}
	case ctx.Err() != nil:
		res.ExitCode = 128 + int(syscall.SIGKILL)
	default:
		return res, err
	}
	return res, nil
}

// plainNotExecuted is the output of every command without a Runner or
// hosts mode (ecsnet emulator without --hosts): Cloud Assistant's
// Success with exit code 0, as the API answers, and a line that says no
// script ran and how to run them, so that no report takes it for a
// host that was configured (guest.NotExecuted reads it).
const plainNotExecuted = "ecsnet emulator: not executed: start the emulator with --hosts to run scripts\n"

// record answers a command the host's family cannot run: parse-checked,
// kept in Commands, and successful unless the check failed.
func (h *Host) record(ctx context.Context, c Command) CommandResult {
	code, msg := parseCheck(ctx, c.Type, c.Content)
	what := fmt.Sprintf("%s (%s, %s)", h.name, h.fam.os, h.fam.stack)
	reason := h.fam.reason()
	if h.fam.runs() {
		reason = c.Type + " is not run on Linux hosts"
	}
	if code != 0 {
		return CommandResult{ExitCode: code, Output: []byte(fmt.Sprintf("%s\necsnet emulator: %s: recorded, not executed (%s); the script fails its parse check\n", msg, what, reason))}
	}
	return CommandResult{Output: []byte(fmt.Sprintf("ecsnet emulator: %s: recorded, not executed (%s); the script %s\n", what, reason, msg))}
}

// tailBuffer keeps the last max bytes written to it and counts the rest.
type tailBuffer struct {
	max     int
	buf     []byte
	dropped int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.dropped += over
		t.buf = append(t.buf[:0:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) bytes() []byte { return t.buf }

// close halts every host and removes the trees. Idempotent.
func (hs *hostSet) close() error {
	hs.mu.Lock()
	if hs.closed {
		hs.mu.Unlock()
		return nil
	}
	hs.closed = true
	hs.mu.Unlock()
	var errs []error
	for _, h := range hs.hosts {
		h.mu.Lock()
		h.pid1.Store(0)
		h.wireDownLocked()
		h.haltGuestLocked()
		if h.root != "" {
			if err := hs.t.destroy(h.ns); err != nil {
				errs = append(errs, err)
			}
		}
		h.up = false
		h.mu.Unlock()
	}
	if err := os.RemoveAll(hs.dir); err != nil {
		errs = append(errs, err)
	}
	releaseNSDir()
	return errors.Join(errs...)
}

// Close ends hosts mode: it kills what runs in the emulated hosts and
// deletes every namespace and tree it made. A server without hosts mode
// has nothing to close. The API keeps answering, with hosts that no
// longer run commands.
func (s *Server) Close() error {
	if s.hosts == nil {
		return nil
	}
	return s.hosts.close()
}

// Host returns the emulated guest of an instance, or nil without hosts
// mode or for an unknown instance. Due transitions complete first, so the
// host shows what the API would answer now.
func (s *Server) Host(instanceID string) *Host {
	if s.hosts == nil {
		return nil
	}
	s.mu.Lock()
	s.advance(s.now())
	s.mu.Unlock()
	return s.hosts.hosts[instanceID]
}

// Hosts returns every emulated guest, by instance ID; nil without hosts
// mode.
func (s *Server) Hosts() []*Host {
	if s.hosts == nil {
		return nil
	}
	s.mu.Lock()
	s.advance(s.now())
	s.mu.Unlock()
	out := make([]*Host, 0, len(s.hosts.hosts))
	for _, id := range slices.Sorted(maps.Keys(s.hosts.hosts)) {
		out = append(out, s.hosts.hosts[id])
	}
	return out
}

// InstanceID returns the host's instance.
func (h *Host) InstanceID() string { return h.id }

// Hostname returns the host's name: its instance's name, or its ID.
func (h *Host) Hostname() string { return h.name }

// OS returns what the host runs, as the desired state names it.
func (h *Host) OS() schema.OS { return h.fam.os }

// Stack returns the host's network configuration stack.
func (h *Host) Stack() schema.Stack { return h.fam.stack }

// Runs reports whether the host runs shell commands for real; false means
// they are recorded and parse-checked.
func (h *Host) Runs() bool { return h.fam.runs() }

// Up reports whether the host's namespaces exist (it runs for real and
// its instance is Running).
func (h *Host) Up() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.up
}

// Netns returns the name of the host's network namespace (for ip -n and
// ip netns exec), "" when it is not up. Commands run that way see the
// machine's files, not the host's: use Exec for those.
func (h *Host) Netns() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.up {
		return ""
	}
	return h.ns.net
}

// Err returns what went wrong applying hardware changes (boot, halt, NICs
// added or removed), nil when nothing did.
func (h *Host) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return errors.Join(h.errs...)
}

// Commands returns the Cloud Assistant commands the host received, in
// order, with what each answered.
func (h *Host) Commands() []HostCommand {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.history)
}

// BootLog returns what the host's configuration printed at its boots
// after the first (after SetInstanceStatus took it from Stopped to
// Running).
func (h *Host) BootLog() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bootLog.String()
}

// Exec runs args as root inside the host (its network, mount and UTS
// namespaces: its own /etc, /var, /run, /tmp and /root), with stdin
// (nil: none) and a clean environment, and returns stdout and stderr; err
// is non-nil when the command fails. Tests use it to read the host and to
// change it by hand (drift).
func (h *Host) Exec(ctx context.Context, stdin []byte, args ...string) (stdout, stderr string, err error) {
	if err := h.checkUp(); err != nil {
		return "", "", err
	}
	return h.execNS(ctx, stdin, args...)
}

// checkUp fails unless the host runs for real and is up.
func (h *Host) checkUp() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.fam.runs() {
		return fmt.Errorf("emulated host %s (%s) does not run commands: its family only records them", h.name, h.fam.stack)
	}
	if !h.up {
		return fmt.Errorf("emulated host %s is not up (its instance is not Running)", h.name)
	}
	return nil
}

// execNS runs args in the host's namespaces; the caller made sure they
// exist. It never takes h.mu, so that a long command cannot hold up the
// hardware changes the API makes.
func (h *Host) execNS(ctx context.Context, stdin []byte, args ...string) (string, string, error) {
	cmd := h.command(ctx, nil, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("in %s: %s: %w: %s", h.name, strings.Join(args, " "), err, strings.TrimSpace(e.String()))
	}
	return o.String(), e.String(), err
}

// command returns a command that runs args in the host: in its
// namespaces, or, for a booted guest, in its PID 1's (a command for a
// guest that is down fails to start).
func (h *Host) command(ctx context.Context, env []string, args ...string) *exec.Cmd {
	if h.fam.nspawn {
		return h.guestCommand(ctx, int(h.pid1.Load()), env, args...)
	}
	return h.set.t.enter(ctx, h.ns, env, args...)
}

// BootTimes returns how long each boot of a booted guest took, from
// cloud-init's render to its systemd's boot being complete; nil for the
// other hosts.
func (h *Host) BootTimes() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.boots)
}

// ReadFile reads a file as the host sees it.
func (h *Host) ReadFile(ctx context.Context, path string) ([]byte, error) {
	out, _, err := h.Exec(ctx, nil, "cat", "--", path)
	return []byte(out), err
}

// WriteFile writes a file as the host sees it, creating its directory.
func (h *Host) WriteFile(ctx context.Context, path string, data []byte, perm os.FileMode) error {
	_, _, err := h.Exec(ctx, data, "/bin/sh", "-c", `mkdir -p -- "$(dirname -- "$1")" && cat >"$1" && chmod "$2" "$1"`,
		"sh", path, strconv.FormatUint(uint64(perm.Perm()), 8))
	return err
}

// ipJSON runs ip -j in the host's network namespace.
func (h *Host) ipJSON(ctx context.Context, args ...string) ([]byte, error) {
	if err := h.checkUp(); err != nil {
		return nil, err
	}
	return h.ipJSONNS(ctx, args...)
}

func (h *Host) ipJSONNS(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, h.set.t.ip, append([]string{"-n", h.ns.net, "-j"}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		if strings.Contains(e.String(), "FIB table does not exist") {
			return []byte("[]"), nil
		}
		return nil, fmt.Errorf("ip -n %s -j %s: %w: %s", h.ns.net, strings.Join(args, " "), err, strings.TrimSpace(e.String()))
	}
	return o.Bytes(), nil
}

func (h *Host) linksLocked(ctx context.Context) ([]HostLink, error) {
	js, err := h.ipJSONNS(ctx, "link", "show")
	if err != nil {
		return nil, err
	}
	return parseLinks(js)
}

// Links returns the host's interfaces (the loopback left out).
func (h *Host) Links(ctx context.Context) ([]HostLink, error) {
	js, err := h.ipJSON(ctx, "link", "show")
	if err != nil {
		return nil, err
	}
	return parseLinks(js)
}

// Addrs returns the host's IPv4 addresses (ip -j addr).
func (h *Host) Addrs(ctx context.Context) ([]HostAddr, error) {
	js, err := h.ipJSON(ctx, "addr", "show")
	if err != nil {
		return nil, err
	}
	return parseAddrs(js)
}

// Rules returns the host's IPv4 routing rules (ip -4 -j rule).
func (h *Host) Rules(ctx context.Context) ([]HostRule, error) {
	js, err := h.ipJSON(ctx, "-4", "rule", "show")
	if err != nil {
		return nil, err
	}
	return parseRules(js)
}

// Routes returns the IPv4 routes of a table ("main", "1001", ...) of the
// host (ip -4 -j route show table T).
func (h *Host) Routes(ctx context.Context, table string) ([]HostRoute, error) {
	js, err := h.ipJSON(ctx, "-4", "route", "show", "table", table)
	if err != nil {
		return nil, err
	}
	return parseRoutes(js, table)
}
