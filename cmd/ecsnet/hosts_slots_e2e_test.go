package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/render"
)

// wantStateByMAC is wantState with each NIC on the interface that has its
// MAC on the guest, whatever the interface is called.
func (c *e2e) wantStateByMAC(name string) hostState {
	c.t.Helper()
	links, err := c.guest(name).Links(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	dev := map[string]string{}
	for _, l := range links {
		dev[l.MAC] = l.Name
	}
	hosts, err := render.Hosts(c.fleet(), c.lock())
	if err != nil {
		c.t.Fatal(err)
	}
	i := slices.IndexFunc(hosts, func(h *render.Host) bool { return h.Name == name })
	h := hosts[i]
	var s hostState
	for _, n := range append([]render.NIC{h.Primary}, h.Secondary...) {
		d := dev[n.MAC]
		for _, a := range n.AllAddresses() {
			s.Addrs = append(s.Addrs, fmt.Sprintf("%s %s/%d", d, a, n.Bits()))
		}
		if n.Table == 0 {
			continue
		}
		for _, a := range n.AllAddresses() {
			s.Rules = append(s.Rules, fmt.Sprintf("%d: from %s lookup %d", n.Priority, a, n.Table))
		}
		s.Routes = append(s.Routes, fmt.Sprintf("%d %s dev %s", n.Table, n.Prefix, d),
			fmt.Sprintf("%d default via %s dev %s", n.Table, n.Gateway, d))
	}
	s.MainDefaults = []string{fmt.Sprintf("default via %s dev eth0", h.Primary.Gateway)}
	slices.Sort(s.Addrs)
	slices.Sort(s.Rules)
	slices.Sort(s.Routes)
	return s
}

// TestHostsE2ESlotsDifferFromKernelNames: the slot ecsnet gives an ENI
// (its route table, and eth<slot> in the files of stacks that name
// interfaces) is ecsnet's own, counted over the ENIs ecsnet owns, so on a
// host with an ENI ecsnet does not own the kernel's names differ from the
// slots. Here lb-2 runs Debian 9, whose ifupdown names interfaces in its
// stanzas, and carries the legacy NFS ENI, attached by hand as eth1. The
// VIP fails over to lb-2 keeping its slot 1 (table 1001, eth1 in the
// files); the cloud puts it at device index 2, eth2 on the guest. The
// apply script finds it by its MAC and installs the stanzas as eth2's,
// leaves eth1 alone, and ecsnet verify finds the host in sync. All of it
// holds whether or not the account sees the preview field
// Attachment.DeviceIndex, and the lock is the same either way.
func TestHostsE2ESlotsDifferFromKernelNames(t *testing.T) {
	t.Parallel() // hosts mode: each test has its own emulator and namespaces
	var locks []string
	for _, preview := range []bool{false, true} {
		t.Run(fmt.Sprintf("preview fields %t", preview), func(t *testing.T) {
			locks = append(locks, slotsDifferFromKernelNames(t, preview))
		})
	}
	if len(locks) == 2 && locks[0] != locks[1] {
		t.Errorf("the lock depends on the preview fields:\n--- without\n%s\n--- with\n%s", locks[0], locks[1])
	}
}

// slotsDifferFromKernelNames runs the scenario and returns the lock.
func slotsDifferFromKernelNames(t *testing.T, preview bool) string {
	var lb2 string
	c := newHostsE2EWorld(t, func(w *emulator.World) {
		w.PreviewFields = &preview
		for i, in := range w.Instances {
			if in.InstanceName == "lb-2" {
				lb2 = in.InstanceId
				w.Instances[i].OSName, w.Instances[i].EcsnetOS = "Debian 9.13 64 bit", "debian9"
			}
		}
		for i, n := range w.NetworkInterfaces {
			if n.NetworkInterfaceName == "legacy-nfs" {
				w.NetworkInterfaces[i].Status, w.NetworkInterfaces[i].InstanceId, w.NetworkInterfaces[i].DeviceIndex = "InUse", lb2, 1
			}
		}
	})
	c.edit(`id:   "i-bp1lb0000002"
		type: "ecs.g7.large"
		os:   "debian12"`, `id:   "i-bp1lb0000002"
		type: "ecs.g7.large"
		os:   "debian9"`)
	// The guests the emulator only records are not executed: exit 1.
	_, errs := c.must(exitError, "apply", "--auto-approve", "--hosts", c.dir)
	wantOutcomes(t, "apply --hosts", errs, "edge-1", "lb-1")

	c.edit(`attachTo: "lb-1"`, `attachTo: "lb-2"`)
	out, errs := c.must(exitOK, "apply", "--auto-approve", "--hosts", c.dir)
	t.Logf("failover:\n%s\n%s", out, errs)
	vip := c.lock().Secondary("vip")
	if vip.AttachedTo != "lb-2" || vip.DeviceIndex != 1 {
		t.Fatalf("vip in the lock: %+v, want on lb-2 at slot 1", vip)
	}
	g := c.guest("lb-2")
	links, err := g.Links(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, l := range links {
		names[l.MAC] = l.Name
	}
	if names[vip.MAC] != "eth2" || names["00:16:3e:20:00:01"] != "eth1" {
		t.Fatalf("lb-2's links %v: want the VIP (%s) at eth2 and the NFS ENI at eth1, or this test tests nothing", links, vip.MAC)
	}
	if got, want := c.liveState("lb-2"), c.wantStateByMAC("lb-2"); !got.equal(want) {
		t.Errorf("lb-2 differs from the render\n--- got\n%s\n--- want\n%s", got, want)
	}
	for _, a := range c.liveState("lb-2").Addrs {
		if strings.HasPrefix(a, "eth1 ") {
			t.Errorf("ecsnet configured the NFS ENI's eth1: %s", a)
		}
	}
	file, err := g.ReadFile(context.Background(), "/etc/network/interfaces.d/60-ecsnet")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(file), "\nauto eth2\niface eth2 inet static\n    address 172.16.0.100/24\n") || strings.Contains(string(file), "iface eth1 ") {
		t.Errorf("lb-2's 60-ecsnet does not name the VIP's interface eth2:\n%s", file)
	}
	if code, vout := c.verify(); code != exitOK || !strings.Contains(vout, "3 in sync") {
		t.Errorf("verify: exit %d\n%s", code, vout)
	}
	out, _ = c.must(exitOK, "apply", "--auto-approve", "--hosts", c.dir)
	if !strings.Contains(out, "No changes.") {
		t.Errorf("a second apply --hosts:\n%s", out)
	}
	if code, out, errs := c.run("push", "--instance", "lb-2", c.dir); code != exitOK || !strings.Contains(out+errs, "applied and verified") {
		t.Errorf("push lb-2 again: exit %d\n%s\n%s", code, out, errs)
	}
	if got, want := c.liveState("lb-2"), c.wantStateByMAC("lb-2"); !got.equal(want) {
		t.Errorf("lb-2 after push differs from the render\n--- got\n%s\n--- want\n%s", got, want)
	}
	lock, err := os.ReadFile(c.lockPath())
	if err != nil {
		t.Fatal(err)
	}
	return string(lock)
}
