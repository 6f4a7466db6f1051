package render_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// TestRealIfcfgRebootDualStack: an initscripts host (centos7) whose
// primary ENI has IPv6 addresses and a prefix the host answers for
// applies its bundle; then it reboots: cloud-init writes ifcfg-eth0 again
// (DHCP, nothing of ecsnet's), initscripts brings the primary's IPv4
// secondary addresses back from ecsnet's alias files, and the live IPv6
// addresses, the IPv6 default route in main and the prefix's local route
// are gone: no file holds them. Running the boot unit's ExecStart brings
// them back; a second run changes nothing. A later bundle whose primary
// has neither removes the unit, its link and its script again. The
// "reboot" is a fresh namespace over the same files (pbReboot);
// initscripts cannot run here, so the test adds the alias files' addresses
// as ifup-aliases would.
func TestRealIfcfgRebootDualStack(t *testing.T) {
	const scripts = "/etc/sysconfig/network-scripts/"
	h := dsHost(schema.StackIfcfg, "centos7")
	files, err := render.ForHost(h)
	if err != nil {
		t.Fatal(err)
	}
	unit, script := pbFiles(h, files)
	if unit.Path == "" || script.Path == "" {
		t.Fatalf("the bundle of an ifcfg host whose primary ENI has IPv6 and a prefix on the host has no boot unit")
	}
	if !strings.Contains(string(unit.Data), "network.service") {
		t.Errorf("the unit is not ordered after network.service:\n%s", unit.Data)
	}
	dir := rtWrite(t, h, files)
	cloudInit := []byte(fmt.Sprintf("# Created by cloud-init (test stand-in)\nBOOTPROTO=dhcp\nDEVICE=eth0\nHWADDR=%s\nONBOOT=yes\nTYPE=Ethernet\n", h.Primary.MAC))
	stage := func(ns *hosttest.Netns) {
		ns.WriteFile(t, scripts+"ifup-aliases", []byte("# initscripts stand-in\n"), 0o755)
		ns.WriteFile(t, scripts+"ifcfg-eth0", cloudInit, 0o644)
	}
	ns := pbBoot(t, h, pbRoot(t))
	stage(ns)
	if out, errOut, err := ns.Exec(nil, "/bin/bash", filepath.Join(dir, render.ScriptName)); err != nil {
		t.Fatalf("apply: %v\n%s%s", err, out, errOut)
	}
	dsExpect(t, "after apply", dsLive(t, ns, h), h)
	wants := "/etc/systemd/system/multi-user.target.wants/ecsnet-" + h.Fleet + ".service"
	if got, ok := ns.ReadFile(t, wants); !ok || got != string(unit.Data) {
		t.Fatalf("the apply did not enable the boot unit (%s)", wants)
	}

	// Reboot: the files persist, the live state does not.
	reboot := pbReboot(t, ns, h)
	stage(reboot)
	var aliases []string
	for _, f := range files {
		base := filepath.Base(f.Path)
		if !strings.HasPrefix(base, "ifcfg-"+h.Primary.Name()+":") {
			continue
		}
		p := filepath.Join(t.TempDir(), base)
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		v := hosttest.SourceIfcfg(t, p)
		reboot.Run(t, "ip", "addr", "add", v["IPADDR"]+"/"+v["PREFIX"], "dev", h.Primary.Name(), "label", v["DEVICE"])
		aliases = append(aliases, v["IPADDR"])
	}
	if len(aliases) != len(h.Primary.Secondary) {
		t.Fatalf("alias files for %q, want one per secondary address %v", aliases, h.Primary.Secondary)
	}
	only := *h
	only.Secondary = nil // no initscripts here to bring them up
	if got := dsLive(t, reboot, &only); len(got) != 0 {
		t.Fatalf("after the reboot, before the boot unit, the primary still has\n\t%s", strings.Join(got, "\n\t"))
	}
	execStart := pbExecStart(t, unit.Data)
	for i := 1; i <= 2; i++ {
		out, errOut, err := reboot.Exec(nil, execStart...)
		if err != nil {
			t.Fatalf("boot run %d of %s: %v\n%s%s", i, strings.Join(execStart, " "), err, out, errOut)
		}
		if i == 2 && strings.Contains(out, "added") {
			t.Errorf("the second run changed something:\n%s", out)
		}
		dsExpect(t, fmt.Sprintf("after boot run %d", i), dsLive(t, reboot, &only), &only)
	}
	if got, _ := reboot.ReadFile(t, scripts+"ifcfg-eth0"); got != string(cloudInit) {
		t.Errorf("the boot script changed ifcfg-eth0:\n%s", got)
	}
	if out, errOut, err := reboot.Exec(nil, execStart[0], "verify"); err != nil {
		t.Errorf("%s verify: %v\n%s%s", execStart[0], err, out, errOut)
	}

	// The primary keeps its IPv4 secondary addresses only: no unit.
	c := *h
	c.Primary.IPv6, c.Primary.Prefixes, c.Primary.PrefixesOnHost = nil, nil, false
	c.Primary.IPv6Prefix = netip.Prefix{}
	cfiles, err := render.ForHost(&c)
	if err != nil {
		t.Fatal(err)
	}
	if u, s := pbFiles(&c, cfiles); u.Path != "" || s.Path != "" {
		t.Errorf("an ifcfg host whose primary has IPv4 secondary addresses only gets %q %q", u.Path, s.Path)
	}
	if out, errOut, err := reboot.Exec(nil, "/bin/bash", filepath.Join(rtWrite(t, &c, cfiles), render.ScriptName)); err != nil {
		t.Fatalf("apply without the primary's IPv6 and prefix: %v\n%s%s", err, out, errOut)
	}
	for _, p := range []string{wants, "/" + unit.Path, execStart[0]} {
		if _, ok := reboot.ReadFile(t, p); ok {
			t.Errorf("%s is still there after an apply of a bundle without the boot unit", p)
		}
	}
	for _, a := range reboot.Addrs(t) {
		if a.Dev == h.Primary.Name() && a.Prefix.Addr().Is6() && !a.Prefix.Addr().IsLinkLocalUnicast() {
			t.Errorf("%s is still on %s after an apply that dropped it", a.Prefix, a.Dev)
		}
	}
	dsExpect(t, "after the apply that dropped the primary's IPv6 and prefix", dsLive(t, reboot, &c), &c)
}
