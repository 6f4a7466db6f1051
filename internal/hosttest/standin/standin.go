// Package standin stands a network namespace in for a rendered host, for
// the real-tool tests of render (the host files) and of guest (the
// payloads that deliver them): the example fleet's hosts, a namespace with
// one veth per ENI as the kernel names and addresses it before ecsnet
// (Netns, Prepare), and the host's network state read back in comparable
// lines (Live) beside what its render wants (Want).
//
// It is a test helper, not product API. It imports render, so render's
// tests that use it are in package render_test; the tools and the
// namespaces themselves are hosttest's.
package standin

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// Runnable are the stacks whose apply script runs for real in a
// namespace here: their live part needs ip(8) and ifupdown only.
var Runnable = []schema.Stack{schema.StackIfupdown, schema.StackIproute2}

// exampleDir is fixtures/example of the module, found from this file so
// that a test of any package reads the same fleet.
func exampleDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "fixtures", "example")
}

// Example loads the example fleet and its committed lock, skipping while
// the lock is not there.
func Example(t testing.TB) (*schema.Fleet, *schema.Lock) {
	t.Helper()
	dir := exampleDir()
	f, err := schema.Load([]string{filepath.Join(dir, "fleet.cue")}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(dir, "ecsnet.lock.json")
	if _, err := os.Stat(lockPath); err != nil {
		t.Skipf("the example lock %s is not there yet: %v", lockPath, err)
	}
	lock, err := schema.ReadLockFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	return f, lock
}

// ExampleHosts resolves every host of the example fleet with its lock.
func ExampleHosts(t testing.TB) []*render.Host {
	t.Helper()
	hosts, err := render.Hosts(Example(t))
	if err != nil {
		t.Fatalf("the example lock lacks data: %v", err)
	}
	return hosts
}

// Bundle renders h, skipping while its renderer is not written yet.
func Bundle(t testing.TB, h *render.Host) []render.File {
	t.Helper()
	files, err := render.ForHost(h)
	if err != nil && strings.Contains(err.Error(), "not written yet") {
		t.Skipf("the %s renderer is not written yet", h.Stack)
	}
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// NICs returns the host's NICs, primary first.
func NICs(h *render.Host) []render.NIC { return append([]render.NIC{h.Primary}, h.Secondary...) }

// Netns makes a namespace standing in for h: one veth per ENI, named as
// the kernel would (eth<device index>), with the ENI's MAC, and the
// primary ENI's address and default route as DHCP leaves them.
func Netns(t testing.TB, h *render.Host) *hosttest.Netns {
	t.Helper()
	ns := hosttest.NewNetns(t, h.Name)
	for _, n := range NICs(h) {
		mac := n.MAC
		if mac == "" {
			mac = "00:16:3e:ff:ff:00"
		}
		if err := ns.AddLink(n.Name(), mac); err != nil {
			t.Fatal(err)
		}
	}
	ns.SetDHCPAddress(t, h.Primary.Name(), netip.PrefixFrom(h.Primary.Address, h.Primary.Bits()), h.Primary.Gateway)
	return ns
}

// Prepare gives a namespace the files a real host of h's family has
// before ecsnet: cloud-init's configuration of the primary ENI.
func Prepare(t testing.TB, ns *hosttest.Netns, h *render.Host) {
	t.Helper()
	p := h.Primary
	switch h.Stack {
	case schema.StackIfupdown:
		ns.WriteFile(t, "/etc/network/interfaces.d/50-cloud-init", []byte(fmt.Sprintf(
			"# written by cloud-init (test stand-in)\nauto lo\niface lo inet loopback\n\nauto %s\niface %[1]s inet dhcp\n", p.Name())), 0o644)
		// ifupdown's record of what boot brought up.
		ns.WriteFile(t, "/run/network/ifstate", []byte(fmt.Sprintf("lo=lo\n%s=%[1]s\n", p.Name())), 0o644)
		ns.WriteFile(t, "/run/network/ifstate.lo", []byte("lo\n"), 0o644)
		ns.WriteFile(t, "/run/network/ifstate."+p.Name(), []byte(p.Name()+"\n"), 0o644)
	case schema.StackNetplan:
		ns.WriteFile(t, "/etc/netplan/50-cloud-init.yaml", CloudInitNetplan(h), 0o600)
	case schema.StackNetworkd:
		ns.WriteFile(t, "/etc/systemd/network/10-cloud-init-"+p.Name()+".network", CloudInitNetworkd(h), 0o644)
	}
}

// CloudInitNetplan is the primary ENI as cloud-init's AliYun datasource
// renders it for netplan (host-config.md §3.3): DHCP, matched by MAC,
// under the ID eth0.
func CloudInitNetplan(h *render.Host) []byte {
	return []byte(fmt.Sprintf(`# written by cloud-init (test stand-in)
network:
    version: 2
    ethernets:
        %s:
            dhcp4: true
            match:
                macaddress: %s
            set-name: %[1]s
`, h.Primary.Name(), h.Primary.MAC))
}

// CloudInitNetworkd is the primary ENI as cloud-init's networkd renderer
// writes it.
func CloudInitNetworkd(h *render.Host) []byte {
	return []byte(fmt.Sprintf("# written by cloud-init (test stand-in)\n[Match]\nMACAddress=%s\nName=%s\n\n[Network]\nDHCP=ipv4\n", h.Primary.MAC, h.Primary.Name()))
}

// Drop returns a copy of h with the last secondary address of every NIC
// that has one removed: the file shrank, and a converging apply must
// remove those addresses.
func Drop(h *render.Host) *render.Host {
	c := *h
	c.Primary.Secondary = slices.Clone(h.Primary.Secondary)
	if n := len(c.Primary.Secondary); n > 0 {
		c.Primary.Secondary = c.Primary.Secondary[:n-1]
	}
	c.Secondary = slices.Clone(h.Secondary)
	for i := range c.Secondary {
		if n := len(c.Secondary[i].Secondary); n > 0 {
			c.Secondary[i].Secondary = slices.Clone(c.Secondary[i].Secondary[:n-1])
		}
	}
	return &c
}
