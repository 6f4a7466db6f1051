package render_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// pbFiles returns the boot unit and boot script of a bundle (zero Files
// when it has none).
func pbFiles(h *render.Host, files []render.File) (unit, script render.File) {
	for _, f := range files {
		switch f.Path {
		case "etc/systemd/system/ecsnet-" + h.Fleet + ".service":
			unit = f
		case "etc/ecsnet/" + h.Fleet + "/ecsnet-primary.sh":
			script = f
		}
	}
	return unit, script
}

// pbExecStart is the unit's ExecStart command line.
func pbExecStart(t *testing.T, unit []byte) []string {
	t.Helper()
	for _, l := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
			return strings.Fields(v)
		}
	}
	t.Fatalf("the unit has no ExecStart:\n%s", unit)
	return nil
}

// pbHosts are the example hosts of a stack whose primary ENI has
// secondary addresses.
func pbHosts(t *testing.T, stack schema.Stack) []*render.Host {
	var out []*render.Host
	for _, h := range rtHosts(t, stack) {
		if len(h.Primary.Secondary) > 0 {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		t.Fatalf("the example has no %s host with secondary addresses on its primary ENI", stack)
	}
	return out
}

// TestPrimaryBootUnit: NetworkManager and wicked bundles whose primary ENI
// has secondary addresses carry a boot unit, ordered after cloud-init and
// the stack, that runs a boot script; the apply script enables it with a
// symlink it owns (render.OwnedPaths, so a payload backs it up). Without
// such addresses there is no unit, and the next apply removes it.
func TestPrimaryBootUnit(t *testing.T) {
	for _, tt := range []struct {
		stack schema.Stack
		after string
	}{
		{schema.StackNetworkManager, "NetworkManager-wait-online.service"},
		{schema.StackWicked, "wicked.service"},
	} {
		h := pbHosts(t, tt.stack)[0]
		t.Run(string(tt.stack), func(t *testing.T) {
			files := standin.Bundle(t, h)
			unit, script := pbFiles(h, files)
			if unit.Path == "" || script.Path == "" {
				t.Fatalf("%s: no boot unit and script in the bundle", h.Name)
			}
			if unit.Mode != 0o644 || script.Mode != 0o755 {
				t.Errorf("modes: unit %v, script %v", unit.Mode, script.Mode)
			}
			for _, want := range []string{"After=cloud-init.service cloud-init-network.service cloud-config.service\n",
				"Wants=network-online.target\n", "WantedBy=multi-user.target\n", tt.after} {
				if !strings.Contains(string(unit.Data), want) {
					t.Errorf("the unit lacks %q:\n%s", want, unit.Data)
				}
			}
			if got := pbExecStart(t, unit.Data); !slices.Equal(got, []string{"/" + script.Path, "up"}) {
				t.Errorf("ExecStart=%q, want /%s up", got, script.Path)
			}
			wants := "etc/systemd/system/multi-user.target.wants/ecsnet-" + h.Fleet + ".service"
			if got := render.OwnedPaths(h); !slices.Contains(got, wants) {
				t.Errorf("OwnedPaths = %q, want %q among them", got, wants)
			}
			var apply string
			for _, f := range files {
				if f.Path == render.ScriptName {
					apply = string(f.Data)
				}
			}
			if !strings.Contains(apply, "\n  "+render.ShellQuote(wants)+"\n") {
				t.Errorf("the apply script does not own %s", wants)
			}
			if strings.Contains(apply, "may rewrite") {
				t.Error("the apply script still warns that cloud-init may undo the primary's addresses")
			}

			c := *h
			c.Primary.Secondary = nil
			unit, script = pbFiles(&c, standin.Bundle(t, &c))
			if unit.Path != "" || script.Path != "" {
				t.Errorf("a host without secondary addresses on its primary ENI gets %q %q", unit.Path, script.Path)
			}
			if got := render.OwnedPaths(&c); slices.Contains(got, wants) {
				t.Errorf("OwnedPaths without a unit = %q", got)
			}
		})
	}
}

// TestRealBootUnitsVerify checks every boot unit of the example's bundles
// with systemd-analyze verify, in a namespace whose private /etc holds the
// unit and the script it runs (verify checks that ExecStart's program is
// there and executable).
func TestRealBootUnitsVerify(t *testing.T) {
	analyze := hosttest.RequireTool(t, "systemd-analyze")
	n := 0
	for _, h := range standin.ExampleHosts(t) {
		if h.Stack == schema.StackWindows {
			continue
		}
		files := standin.Bundle(t, h)
		var units []render.File
		for _, f := range files {
			if strings.HasPrefix(f.Path, "etc/systemd/system/") && strings.HasSuffix(f.Path, ".service") {
				units = append(units, f)
			}
		}
		if len(units) == 0 {
			continue
		}
		n++
		t.Run(h.Name, func(t *testing.T) {
			ns := hosttest.NewNetns(t, h.Name)
			var args []string
			for _, u := range units {
				for _, f := range files {
					if f.Path == u.Path || "/"+f.Path == pbExecStart(t, u.Data)[0] {
						ns.WriteFile(t, "/"+f.Path, f.Data, f.Mode)
					}
				}
				args = append(args, "/"+u.Path)
			}
			out, errOut, err := ns.Exec(nil, append([]string{analyze, "verify"}, args...)...)
			if err != nil || strings.TrimSpace(out+errOut) != "" {
				t.Errorf("systemd-analyze verify %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
			}
		})
	}
	if n == 0 {
		t.Fatal("no example bundle has a boot unit")
	}
}

// TestRealWickedReboot: a SUSE host applies its bundle; then it reboots,
// cloud-init having rewritten ifcfg-eth0 without the secondary addresses
// (cloud-init 23.4+ on Alibaba Cloud re-renders it at every boot), and
// the runtime state is gone. Running the boot unit's ExecStart brings the
// primary ENI's secondary addresses back on eth0 with their ifcfg labels
// (eth0:n); a second run changes nothing. wicked cannot run here: a
// stand-in records its calls (the apply script's ifreload of secondary
// ENIs), and the "reboot" is a fresh namespace over the same files.
func TestRealWickedReboot(t *testing.T) {
	const primary = "/etc/sysconfig/network/ifcfg-eth0"
	bin := t.TempDir()
	stand := "#!/bin/sh\necho \"wicked $*: (test stand-in)\"\n"
	if err := os.WriteFile(filepath.Join(bin, "wicked"), []byte(stand), 0o755); err != nil {
		t.Fatal(err)
	}
	path := "PATH=" + bin + ":/usr/sbin:/usr/bin:/sbin:/bin"
	for _, h := range pbHosts(t, schema.StackWicked) {
		t.Run(h.Name, func(t *testing.T) {
			files := standin.Bundle(t, h)
			dir := rtWrite(t, h, files)
			// cloud-init's ifcfg-eth0 for SUSE: DHCP, no secondary address.
			cloudInit := []byte(fmt.Sprintf("# Created by cloud-init (test stand-in)\nBOOTPROTO=dhcp4\nLLADDR=%s\nSTARTMODE=auto\n", h.Primary.MAC))
			ns := pbBoot(t, h, pbRoot(t))
			ns.WriteFile(t, primary, cloudInit, 0o644)
			if out, errOut, err := ns.Exec(nil, "/usr/bin/env", path, "/bin/bash", filepath.Join(dir, render.ScriptName)); err != nil {
				t.Fatalf("apply: %v\n%s%s", err, out, errOut)
			}
			standin.Expect(t, "after apply", standin.Live(t, ns), standin.Want(h))
			unit, _ := pbFiles(h, files)
			wants := "/etc/systemd/system/multi-user.target.wants/ecsnet-" + h.Fleet + ".service"
			if got, ok := ns.ReadFile(t, wants); !ok || got != string(unit.Data) {
				t.Fatalf("the apply did not enable the boot unit (%s)", wants)
			}

			// Reboot: the files persist (the namespace's private layers),
			// the live state does not; cloud-init writes ifcfg-eth0 again.
			reboot := pbReboot(t, ns, h)
			reboot.WriteFile(t, primary, cloudInit, 0o644)
			execStart := pbExecStart(t, unit.Data)
			want := pbPrimaryAddrs(h)
			for i := 1; i <= 2; i++ {
				out, errOut, err := reboot.Exec(nil, execStart...)
				if err != nil {
					t.Fatalf("boot run %d of %s: %v\n%s%s", i, strings.Join(execStart, " "), err, out, errOut)
				}
				if i == 2 && strings.Contains(out, "added") {
					t.Errorf("the second run changed something:\n%s", out)
				}
				var got []string
				for _, a := range reboot.Addrs(t) {
					if a.Dev == h.Primary.Name() {
						got = append(got, a.Label+" "+a.Prefix.String())
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("after boot run %d, eth0 has\n\t%s\nwant\n\t%s\n%s", i, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"), out+errOut)
				}
			}
			if got, _ := reboot.ReadFile(t, primary); got != string(cloudInit) {
				t.Errorf("the boot script changed %s:\n%s", primary, got)
			}
			if out, errOut, err := reboot.Exec(nil, execStart[0], "verify"); err != nil {
				t.Errorf("%s verify: %v\n%s%s", execStart[0], err, out, errOut)
			}

			// The desired state drops the primary's secondary addresses:
			// the next apply removes them, the unit, its link and script.
			c := *h
			c.Primary.Secondary = nil
			if out, errOut, err := reboot.Exec(nil, "/usr/bin/env", path, "/bin/bash", filepath.Join(rtWrite(t, &c, standin.Bundle(t, &c)), render.ScriptName)); err != nil {
				t.Fatalf("apply without the primary's secondary addresses: %v\n%s%s", err, out, errOut)
			}
			for _, p := range []string{wants, "/" + unit.Path, execStart[0]} {
				if _, ok := reboot.ReadFile(t, p); ok {
					t.Errorf("%s is still there after an apply of a bundle without the boot unit", p)
				}
			}
			for _, a := range reboot.Addrs(t) {
				if a.Dev == h.Primary.Name() && a.Prefix.Addr() != h.Primary.Address {
					t.Errorf("%s is still on %s after an apply that dropped it", a.Prefix, a.Dev)
				}
			}
		})
	}
}

// pbPrimaryAddrs is what eth0 holds after boot: its DHCP address, and
// each secondary address labelled eth0:n as ifcfg-eth0's LABEL_n names it.
func pbPrimaryAddrs(h *render.Host) []string {
	p := h.Primary
	bits := p.Prefix.Bits()
	out := []string{fmt.Sprintf("%s %s/%d", p.Name(), p.Address, bits)}
	base := p.Prefix.Addr().As4()
	for _, a := range p.Secondary {
		b := a.As4()
		off := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) -
			(uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3]))
		out = append(out, fmt.Sprintf("%s:%d %s/%d", p.Name(), off, a, bits))
	}
	slices.Sort(out)
	return out
}

// pbBoot stands a namespace in for h as it boots: NICs with the ENIs'
// MACs, the primary's DHCP address and nothing else live, over the
// private /etc, /var and /run layers in root, which persist from one boot
// to the next (the tests keep their scratch roots in /run too).
func pbBoot(t *testing.T, h *render.Host, root string) *hosttest.Netns {
	t.Helper()
	hosttest.RequireRoot(t)
	n, err := hosttest.Create(h.Name, root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() }) // again after a reboot closed it: no matter
	for _, nic := range standin.NICs(h) {
		if err := n.AddLink(nic.Name(), nic.MAC); err != nil {
			t.Fatal(err)
		}
	}
	n.SetDHCPAddress(t, h.Primary.Name(), netip.PrefixFrom(h.Primary.Address, h.Primary.Bits()), h.Primary.Gateway)
	return n
}

// pbReboot powers the namespace off (every process and the live state
// go) and boots h again over the same layers.
func pbReboot(t *testing.T, ns *hosttest.Netns, h *render.Host) *hosttest.Netns {
	t.Helper()
	if err := ns.Close(); err != nil {
		t.Fatal(err)
	}
	return pbBoot(t, h, ns.Root)
}

// pbRoot is a directory for a namespace's private layers.
func pbRoot(t *testing.T) string {
	t.Helper()
	root, err := os.MkdirTemp("", "ecsnet-ns-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	return root
}
