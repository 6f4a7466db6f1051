package emulator

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ecsnet/ecsnet/schema"
)

// The far side of a host's NICs: what the vSwitch shows the guest. Each
// NIC's veth peer lives in the host's wire namespace, where
//
//   - a bridge, br0, has every peer as a port, and carries the gateway
//     address of each vSwitch the host's ENIs are in (.253, the cloud's
//     rule; several ENIs of one vSwitch share it), so that the guest's
//     pings to its gateways are answered and a wrong gateway is not. The
//     bridge knows each ENI's address and MAC (a permanent neighbour entry
//     and a static forwarding entry on the ENI's port), as the vSwitch
//     knows them from the control plane: a reply goes out the port of the
//     ENI that owns the address, never by learning or flooding. Nothing is
//     routed out: the wire namespace forwards nothing and has no other
//     interface. A vSwitch with an IPv6 block also has its IPv6 gateway
//     on br0 (hosts_wire6.go: a fixed address of the block, answered by
//     neighbour discovery, no router advertisements); the guest's IPv6
//     addresses are found by neighbour discovery, as IPv4 secondaries are
//     by ARP.
//   - dnsmasq answers DHCP for every attached ENI's MAC, with the ENI's
//     primary address, the vSwitch prefix and router = gateway, and for no
//     other MAC (Alibaba's own guides configure secondary ENIs by DHCP:
//     ifcfg-eth1 BOOTPROTO=dhcp, "iface eth1 inet dhcp", netplan dhcp4;
//     https://www.alibabacloud.com/help/en/ecs/user-guide/create-and-use-an-eni,
//     https://www.alibabacloud.com/help/doc-detail/56955.htm (ifcfg-eth1
//     made from eth0's), and ../shared/ref/host-config.md §3.1). When
//     dnsmasq is not installed, the log says so once and no DHCP (nor DNS)
//     is served; the guests still get their primary address as before.
//   - the VPC's resolvers, 100.100.2.136 and .138 (addresses of br0, the
//     servers a VPC's DHCP hands out and the metadata service lists in
//     dns-conf/nameservers; host-config.md §2.7 and §5), are the same
//     dnsmasq, and know exactly one name: the Cloud Assistant server of
//     the region, <region>.axt.aliyun.com, which the agent reaches on TCP
//     443 (https://www.alibabacloud.com/help/en/ecs/user-guide/configure-network-permissions-for-the-cloud-assistant-agent;
//     the agent's own source names the domain ".axt.aliyun.com" for VPC
//     instances, aliyun/aliyun_assist_client common/apiserver). Any other
//     name is refused: there is no upstream, nothing leaves the wire
//     namespace. DHCP hands the resolvers out (option dns-server), so a
//     guest's own DHCP client configures them; a guest whose primary
//     address the emulator sets with ip gets them in /etc/resolv.conf from
//     the emulator, as its DHCP client would have written them
//     (guestResolvConfLocked).
//   - the Cloud Assistant server's address, cloudAssistantAddr, is an
//     address of br0 where a TCP listener made inside the wire namespace
//     accepts connections on 443 and closes them: enough for the payload's
//     probe (a TCP connect), which is all that ever connects to it.
//   - the instance metadata service listens on 100.100.100.200:80, an
//     address of br0, so the guest reaches it through its default route.
//     The emulator process serves it itself: the listening socket is made
//     inside the wire namespace (listenInNetns), so nothing listens on the
//     machine's own network. It answers from the emulator's current state.
//
// The hooks are called with h.mu held: wireUpLocked at boot, wireNICLocked
// for each NIC added, wireSyncLocked after NICs were added and removed,
// wireDownLocked at halt and close.

// metadataAddr is where the ECS metadata service answers (host-config.md §5).
const metadataAddr = "100.100.100.200"

// vpcResolvers are the VPC's DNS servers: what DHCP hands out on Alibaba
// Cloud unless a DHCP options set says otherwise (host-config.md §2.7:
// "100.100.2.136/.138 are the Alibaba resolvers seen in metadata
// dns-conf/nameservers examples"; the PrivateZone API reserves
// 100.100.2.136-138 for them).
const vpcResolver1, vpcResolver2 = "100.100.2.136", "100.100.2.138"

// cloudAssistantAddr is where <region>.axt.aliyun.com resolves on the
// emulator's vSwitches. The real server's addresses differ by region and
// no document in our references lists them (the payload learns them by
// resolving the name, as the agent does); this one is the emulator's
// choice, in 100.100.0.0/16 beside the VPC's other services.
const cloudAssistantAddr = "100.100.45.1"

// cloudAssistantHost is the Cloud Assistant server's name in a region.
func cloudAssistantHost(region string) string { return region + ".axt.aliyun.com" }

// gatewayMAC is br0's MAC, fixed so that it does not follow the lowest MAC
// of its ports as ENIs come and go (a guest's ARP entry for its gateway
// stays right). It is the address ECS guests commonly show for their
// gateway in ip neigh; no document in our references states it.
const gatewayMAC = "ee:ff:ff:ff:ff:ff"

// dhcpLease is the lease dnsmasq gives: long enough that no test run sees
// a renewal.
const dhcpLease = "24h"

// wireSet is what every host's wire side shares.
type wireSet struct {
	srv     *Server // the metadata service reads its state
	dnsmasq string  // dnsmasq's path; "" when it is not installed
	bridge  string  // the bridge command's path
	region  string  // the emulator's region, which names the Cloud Assistant server
}

// newWireSet finds the tools of the wire side and says in the log what is
// missing. Called by startHosts.
func (s *Server) newWireSet(hs *hostSet) wireSet {
	ws := wireSet{srv: s, region: s.cloud.region}
	ws.dnsmasq, _ = lookTool("dnsmasq")
	if ws.dnsmasq == "" {
		hs.logf("dnsmasq is not installed: the vSwitches answer no DHCP (guests keep their primary address as set at boot); apt-get install dnsmasq-base")
	}
	ws.bridge, _ = lookTool("bridge")
	return ws
}

// hostWire is one host's wire side.
type hostWire struct {
	// meta is the instance's metadata as last read; the metadata service
	// reads it without locks.
	meta atomic.Pointer[metaDir]
	wireState
}

// wireState is the wire side while the host is up. Guarded by h.mu.
type wireState struct {
	up   bool
	nics map[string]hostNIC    // MAC -> the NIC whose peer is a port of br0
	gws  map[netip.Prefix]bool // gateway addresses on br0
	arp  map[netip.Addr]string // permanent neighbour entries on br0 -> MAC
	http *http.Server          // the metadata service
	axt  net.Listener          // the Cloud Assistant server's port 443
	dhcp *exec.Cmd             // dnsmasq
	done chan struct{}         // closed when dnsmasq exited
	conf string                // the configuration dnsmasq runs with
}

// DHCPServed reports whether the host's vSwitch side answers DHCP now
// (dnsmasq is installed and runs for it). A guest whose stack takes the
// primary ENI by DHCP can then be left to do so.
func (h *Host) DHCPServed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dhcpServedLocked()
}

func (h *Host) dhcpServedLocked() bool { return h.wire.dhcp != nil }

// dhcpAvailable reports whether the host's vSwitch side will answer DHCP
// once it is up (dnsmasq is installed): what a boot can rely on before
// the wire side exists.
func (h *Host) dhcpAvailable() bool { return h.set.wire.dnsmasq != "" }

// wireUpLocked prepares the wire side at boot, once the primary NIC's
// peer (peer, in the wire namespace) is up; n is the primary ENI.
func (h *Host) wireUpLocked(ctx context.Context, peer string, n hostNIC) error {
	ns := h.ns.wire
	h.wire.wireState = wireState{up: true, nics: map[string]hostNIC{}, gws: map[netip.Prefix]bool{}, arp: map[netip.Addr]string{}}
	for _, s := range [][]string{
		{"-n", ns, "link", "set", "lo", "up"},
		// No multicast snooping: a guest's neighbour solicitation for its
		// IPv6 gateway reaches br0 whether or not anything sent an MLD
		// report, as on the cloud's vSwitch.
		{"-n", ns, "link", "add", "br0", "address", gatewayMAC, "type", "bridge", "stp_state", "0", "mcast_snooping", "0"},
		{"-n", ns, "link", "set", "br0", "up"},
		{"-n", ns, "addr", "add", metadataAddr + "/32", "dev", "br0"},
		{"-n", ns, "addr", "add", vpcResolver1 + "/32", "dev", "br0"},
		{"-n", ns, "addr", "add", vpcResolver2 + "/32", "dev", "br0"},
		{"-n", ns, "addr", "add", cloudAssistantAddr + "/32", "dev", "br0"},
	} {
		if err := runTool(ctx, h.set.t.ip, s...); err != nil {
			return fmt.Errorf("vSwitch side: %w", err)
		}
	}
	ln, err := listenInNetns("/run/netns/"+ns, metadataAddr+":80")
	if err != nil {
		return fmt.Errorf("vSwitch side: the metadata service: %w", err)
	}
	h.wire.http = &http.Server{Handler: http.HandlerFunc(h.serveMetadata), ReadHeaderTimeout: 10 * time.Second}
	go h.wire.http.Serve(ln) // ends with ErrServerClosed at wireDownLocked
	axt, err := listenInNetns("/run/netns/"+ns, cloudAssistantAddr+":443")
	if err != nil {
		return fmt.Errorf("vSwitch side: the Cloud Assistant server: %w", err)
	}
	h.wire.axt = axt
	go acceptAndClose(axt) // ends when wireDownLocked closes it
	if err := h.guestResolvConfLocked(ctx); err != nil {
		return fmt.Errorf("vSwitch side: %w", err)
	}
	return h.wireNICLocked(ctx, peer, n)
}

// acceptAndClose answers TCP connections by closing them: the Cloud
// Assistant server as the payload's probe sees it (a connect that opens).
func acceptAndClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// resolvConf is what a DHCP client writes into /etc/resolv.conf from the
// VPC's DHCP answer (dhclient-script writes the servers it was given).
const resolvConf = "# written by the ecsnet emulator, as the DHCP client would from the vSwitch's answer\n" +
	"nameserver " + vpcResolver1 + "\nnameserver " + vpcResolver2 + "\n"

// guestResolvConfLocked gives the guest the VPC's resolvers where nothing
// in the guest would write them from DHCP, at boot, when the vSwitch side
// serves DNS:
//
//   - a namespace guest (ifupdown, iproute2) has eth0 set by the emulator
//     with ip, as its DHCP client would leave it; a real host's DHCP client
//     (dhclient on Debian's "iface eth0 inet dhcp") also writes the
//     servers into /etc/resolv.conf, so the emulator does that too;
//   - a booted networkd or netplan guest runs its own DHCP client, but
//     networkd hands the servers to systemd-resolved, which the guest root
//     lacks (a real Debian or Ubuntu host has it, and resolves through
//     it): the file is written into the guest's layer before it boots, a
//     stand-in for resolved (a harness gap), and /etc/resolv.conf is a
//     symbolic link to it, as resolved's is to its own: systemd-nspawn's
//     default (--resolv-conf=auto, which copies the machine's file over a
//     regular file in a network namespace it did not make) leaves a
//     symbolic link alone (systemd-nspawn(1), "copy-host");
//   - a booted NetworkManager guest writes /etc/resolv.conf itself from
//     its DHCP lease: nothing to do.
func (h *Host) guestResolvConfLocked(ctx context.Context) error {
	if h.set.wire.dnsmasq == "" || h.root == "" {
		return nil
	}
	if !h.fam.nspawn {
		// The machine's /etc/resolv.conf shows through the overlay and may
		// be a symbolic link: replaced, not written through.
		_, _, err := h.execNS(ctx, []byte(resolvConf), "/bin/sh", "-c", "rm -f /etc/resolv.conf && cat >/etc/resolv.conf")
		return err
	}
	if h.fam.stack == schema.StackNetworkManager {
		return nil
	}
	etc := filepath.Join(h.root, "guest.up", "etc")
	if err := os.MkdirAll(filepath.Join(etc, guestResolvDir), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(etc, guestResolvDir, "resolv.conf"), []byte(resolvConf), 0o644); err != nil {
		return err
	}
	link := filepath.Join(etc, "resolv.conf")
	os.Remove(link) // whatever the guest left there is replaced, not followed
	return os.Symlink(guestResolvDir+"/resolv.conf", link)
}

// guestResolvDir is the directory of a booted guest's /etc (relative to
// it) that holds the resolv.conf standing in for systemd-resolved's.
const guestResolvDir = "ecsnet-emulator"

// wireNICLocked connects a NIC's peer to br0 once it is up, and brings
// the gateways, neighbour entries and DHCP in line.
func (h *Host) wireNICLocked(ctx context.Context, peer string, n hostNIC) error {
	if !h.wire.up {
		return nil
	}
	ns := h.ns.wire
	if err := runTool(ctx, h.set.t.ip, "-n", ns, "link", "set", peer, "master", "br0"); err != nil {
		return fmt.Errorf("vSwitch side: %w", err)
	}
	if b := h.set.wire.bridge; b != "" {
		if err := runTool(ctx, b, "-n", ns, "fdb", "replace", n.mac, "dev", peer, "master", "static"); err != nil {
			return fmt.Errorf("vSwitch side: %w", err)
		}
	}
	h.wire.nics[n.mac] = n
	return h.wireApplyLocked(ctx)
}

// wireSyncLocked forgets the NICs the host no longer has (their peers went
// with them) and brings the rest in line.
func (h *Host) wireSyncLocked(ctx context.Context) error {
	if !h.wire.up {
		return nil
	}
	for mac := range h.wire.nics {
		if _, ok := h.nics[mac]; !ok && mac != h.hw.mac {
			delete(h.wire.nics, mac)
		}
	}
	return h.wireApplyLocked(ctx)
}

// wireApplyLocked makes br0's gateway addresses and neighbour entries, and
// dnsmasq's configuration, those of the connected NICs.
func (h *Host) wireApplyLocked(ctx context.Context) error {
	ns, ip := h.ns.wire, h.set.t.ip
	gws := map[netip.Prefix]bool{}
	arp := map[netip.Addr]string{}
	for _, n := range h.wire.nics {
		if n.gw.IsValid() && n.addr.IsValid() {
			gws[netip.PrefixFrom(n.gw, n.addr.Bits())] = true
			arp[n.addr.Addr()] = n.mac
		}
		if n.gw6.IsValid() {
			gws[n.gw6] = true
		}
	}
	var errs []error
	for g := range h.wire.gws {
		if !gws[g] {
			if err := runTool(ctx, ip, "-n", ns, "addr", "del", g.String(), "dev", "br0"); err != nil {
				errs = append(errs, err)
			}
			delete(h.wire.gws, g)
		}
	}
	for a := range h.wire.arp {
		if _, ok := arp[a]; !ok {
			if err := runTool(ctx, ip, "-n", ns, "neigh", "del", a.String(), "dev", "br0"); err != nil {
				errs = append(errs, err)
			}
			delete(h.wire.arp, a)
		}
	}
	for _, g := range slices.SortedFunc(maps.Keys(gws), netip.Prefix.Compare) {
		if h.wire.gws[g] {
			continue
		}
		args := []string{"-n", ns, "addr", "replace", g.String(), "dev", "br0"}
		if g.Addr().Is6() {
			// Usable at once, as the cloud's gateway is: no duplicate
			// address detection holding it tentative for a second.
			args = append(args, "nodad")
		}
		if err := runTool(ctx, ip, args...); err != nil {
			errs = append(errs, err)
			continue
		}
		h.wire.gws[g] = true
	}
	for _, a := range slices.SortedFunc(maps.Keys(arp), netip.Addr.Compare) {
		if h.wire.arp[a] == arp[a] {
			continue
		}
		if err := runTool(ctx, ip, "-n", ns, "neigh", "replace", a.String(), "lladdr", arp[a], "dev", "br0", "nud", "permanent"); err != nil {
			errs = append(errs, err)
			continue
		}
		h.wire.arp[a] = arp[a]
	}
	if err := h.dhcpApplyLocked(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("vSwitch side: %w", err)
	}
	return nil
}

// wireDownLocked stops what serves the host from outside: the metadata
// service and dnsmasq. The namespace itself goes with the host's.
func (h *Host) wireDownLocked() {
	if h.wire.http != nil {
		h.wire.http.Close()
	}
	if h.wire.axt != nil {
		h.wire.axt.Close()
	}
	h.stopDHCPLocked()
	h.wire.wireState = wireState{}
}

// dhcpConfLocked is dnsmasq's configuration for the connected NICs: one
// static range per vSwitch (tagged so that each gets its own router), one
// host line per ENI, and nothing for any other MAC; DNS on the VPC's
// resolver addresses only (not on the gateways nor the metadata address),
// knowing the Cloud Assistant server's name and nothing else.
func (h *Host) dhcpConfLocked() string {
	dir := filepath.Join(h.root, "wire")
	var b strings.Builder
	fmt.Fprintf(&b, `# dnsmasq for %s's vSwitch side (ecsnet emulator, hosts mode)
listen-address=%s,%s
bind-interfaces
user=root
group=root
no-resolv
no-hosts
host-record=%s,%s
dhcp-option=option:dns-server,%s,%s
dhcp-authoritative
dhcp-ignore=tag:!known
dhcp-leasefile=%s
pid-file=%s
log-facility=%s
log-dhcp
`, h.name, vpcResolver1, vpcResolver2, cloudAssistantHost(h.set.wire.region), cloudAssistantAddr, vpcResolver1, vpcResolver2,
		filepath.Join(dir, "dnsmasq.leases"), filepath.Join(dir, "dnsmasq.pid"), filepath.Join(dir, "dnsmasq.log"))
	nets := map[netip.Prefix]netip.Addr{}
	for _, n := range h.wire.nics {
		if n.gw.IsValid() && n.addr.IsValid() {
			nets[n.addr.Masked()] = n.gw
		}
	}
	for i, p := range slices.SortedFunc(maps.Keys(nets), netip.Prefix.Compare) {
		mask := net.IP(net.CIDRMask(p.Bits(), 32)).String()
		fmt.Fprintf(&b, "dhcp-range=set:vsw%d,%s,static,%s,%s\n", i, p.Addr(), mask, dhcpLease)
		fmt.Fprintf(&b, "dhcp-option=tag:vsw%d,option:router,%s\n", i, nets[p])
	}
	for _, mac := range slices.Sorted(maps.Keys(h.wire.nics)) {
		if n := h.wire.nics[mac]; n.addr.IsValid() {
			fmt.Fprintf(&b, "dhcp-host=%s,%s\n", mac, n.addr.Addr())
		}
	}
	return b.String()
}

// dhcpApplyLocked (re)starts dnsmasq when its configuration changed.
func (h *Host) dhcpApplyLocked() error {
	exe := h.set.wire.dnsmasq
	if exe == "" || h.root == "" {
		return nil
	}
	conf := h.dhcpConfLocked()
	if h.wire.dhcp != nil && conf == h.wire.conf {
		return nil
	}
	h.stopDHCPLocked()
	dir := filepath.Join(h.root, "wire")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	confPath, pidPath := filepath.Join(dir, "dnsmasq.conf"), filepath.Join(dir, "dnsmasq.pid")
	os.Remove(pidPath)
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return err
	}
	errFile, err := os.Create(filepath.Join(dir, "dnsmasq.err"))
	if err != nil {
		return err
	}
	defer errFile.Close()
	// Not tied to a request's context: dnsmasq lives as long as the host
	// is up. nsenter execs it, so its pid is dnsmasq's.
	cmd := exec.Command(h.set.t.nsenter, "--net=/run/netns/"+h.ns.wire, "--", exe, "--keep-in-foreground", "--conf-file="+confPath)
	cmd.Stdout, cmd.Stderr = errFile, errFile
	setPgid(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("dnsmasq: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	// Ready when it wrote its pid file (after binding the DHCP port).
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Stat(pidPath); err == nil {
			break
		}
		select {
		case <-done:
			out, _ := os.ReadFile(filepath.Join(dir, "dnsmasq.err"))
			return fmt.Errorf("dnsmasq exited at start (%v): %s", cmd.ProcessState, strings.TrimSpace(string(out)))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			killGroup(cmd.Process.Pid, syscall.SIGKILL)
			<-done
			return errors.New("dnsmasq did not start within 10 s")
		}
	}
	h.wire.dhcp, h.wire.done, h.wire.conf = cmd, done, conf
	return nil
}

// stopDHCPLocked stops dnsmasq, if it runs, and waits for it.
func (h *Host) stopDHCPLocked() {
	if h.wire.dhcp == nil {
		return
	}
	pid := h.wire.dhcp.Process.Pid
	killGroup(pid, syscall.SIGTERM)
	select {
	case <-h.wire.done:
	case <-time.After(2 * time.Second):
		killGroup(pid, syscall.SIGKILL)
		<-h.wire.done
	}
	h.wire.dhcp, h.wire.done, h.wire.conf = nil, nil, ""
}

// metaDir is one directory of the metadata tree: each value is a string
// (a leaf) or a metaDir.
type metaDir map[string]any

// publishMetadata records an instance's metadata for its host's metadata
// service. s.mu is held; hostSnapshot calls it at every hardware change,
// so that the service answers right while a boot holds s.mu.
func (s *Server) publishMetadata(in *instance) {
	if s.hosts == nil {
		return
	}
	if h := s.hosts.hosts[in.id]; h != nil {
		m := s.metadataOf(in)
		h.wire.meta.Store(&m)
	}
}

// metadataOf builds an instance's metadata tree, the paths of
// host-config.md §5 that ecsnet and cloud-init read
// (https://www.alibabacloud.com/help/en/ecs/user-guide/view-instance-metadata).
// The ENIs are those whose NIC the guest has: the primary and the
// secondaries InUse or Detaching. s.mu is held.
func (s *Server) metadataOf(in *instance) metaDir {
	c := s.cloud
	macs := metaDir{}
	var enis []*eni
	for _, e := range in.enis {
		if e.primary || e.instanceID == in.id && (e.status == stInUse || e.status == stDetaching) {
			enis = append(enis, e)
		}
	}
	for _, e := range enis {
		d := metaDir{"network-interface-id": e.id, "primary-ip-address": e.ip.String()}
		ips := []string{e.ip.String()}
		for _, a := range e.secondaries {
			ips = append(ips, a.String())
		}
		js, _ := json.Marshal(ips)
		d["private-ipv4s"] = string(js)
		if v := c.vswitches[e.vsw]; v != nil {
			d["vswitch-id"] = v.id
			d["vswitch-cidr-block"] = v.cidr.String()
			d["netmask"] = net.IP(net.CIDRMask(v.cidr.Bits(), 32)).String()
			d["gateway"] = u32ToAddr(v.base + v.size - 3).String()
		}
		addIPv6Metadata(d, e, c.vswitches[e.vsw])
		if p := c.vpcs[e.vpcID]; p != nil {
			d["vpc-id"] = p.id
			d["vpc-cidr-block"] = p.cidr.String()
		}
		macs[e.mac] = d
	}
	m := metaDir{
		"instance-id": in.id,
		"hostname":    cmp.Or(in.name, in.id),
		"region-id":   c.region,
		"zone-id":     in.zone,
		// The VPC's resolvers, which DHCP hands out (host-config.md §5:
		// newline-separated).
		"dns-conf": metaDir{"nameservers": vpcResolver1 + "\n" + vpcResolver2},
		"network":  metaDir{"interfaces": metaDir{"macs": macs}},
	}
	if p := in.primary; p != nil {
		m["mac"] = p.mac
		m["private-ipv4"] = p.ip.String()
		if d, ok := macs[p.mac].(metaDir); ok {
			for _, k := range []string{"vpc-id", "vpc-cidr-block", "vswitch-id", "vswitch-cidr-block"} {
				if v, ok := d[k]; ok {
					m[k] = v
				}
			}
		}
	}
	return m
}

// currentMetadata reads the instance's metadata afresh when the server's
// lock comes free soon, and otherwise answers what was last published: a
// boot holds s.mu while it runs the guest's boot units, which may ask the
// metadata service (waiting there would hold the boot up until the
// guest's request timed out).
func (h *Host) currentMetadata() metaDir {
	srv := h.set.wire.srv
	for deadline := time.Now().Add(100 * time.Millisecond); srv != nil; {
		if srv.mu.TryLock() {
			if in := srv.cloud.instances[h.id]; in != nil {
				m := srv.metadataOf(in)
				h.wire.meta.Store(&m)
			}
			srv.mu.Unlock()
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if m := h.wire.meta.Load(); m != nil {
		return *m
	}
	return metaDir{}
}

// serveMetadata answers the guest's metadata requests: GET
// /latest/meta-data/... (and /<date>/meta-data/..., as cloud-init asks
// /2016-01-01/), a directory as one entry a line with subdirectories
// ending in "/", a leaf as its value; PUT /latest/api/token hands out a
// token for hardened mode's clients, which the service then accepts
// along with requests without one (normal mode).
func (h *Host) serveMetadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" {
		ttl, err := strconv.Atoi(r.Header.Get("X-aliyun-ecs-metadata-token-ttl-seconds"))
		if err != nil || ttl < 1 || ttl > 21600 {
			http.Error(w, "X-aliyun-ecs-metadata-token-ttl-seconds must be 1 to 21600", http.StatusBadRequest)
			return
		}
		var b [16]byte
		rand.Read(b[:])
		fmt.Fprint(w, hex.EncodeToString(b[:]))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if v := parts[0]; v != "latest" && !isMetaVersion(v) {
		http.NotFound(w, r)
		return
	}
	var node any = metaDir{"meta-data": metaDir{}}
	if len(parts) > 1 {
		if parts[1] != "meta-data" {
			http.NotFound(w, r)
			return
		}
		node = h.currentMetadata()
		for _, p := range parts[2:] {
			d, ok := node.(metaDir)
			if !ok {
				http.NotFound(w, r)
				return
			}
			if node, ok = d[p]; !ok {
				http.NotFound(w, r)
				return
			}
		}
	}
	switch v := node.(type) {
	case string:
		fmt.Fprint(w, v)
	case metaDir:
		var lines []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if _, dir := v[k].(metaDir); dir {
				k += "/"
			}
			lines = append(lines, k)
		}
		fmt.Fprint(w, strings.Join(lines, "\n"))
	}
}

// isMetaVersion reports whether s is a dated version of the metadata
// paths, such as 2016-01-01.
func isMetaVersion(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}
