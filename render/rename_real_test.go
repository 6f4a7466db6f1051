package render

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/schema"
)

// TestRealRenamedInterfaces runs, for real in a network namespace, the
// apply script of the stacks whose files name a secondary ENI's interface
// (eth<slot>) on a host whose kernel names its interfaces otherwise: the
// slot is ecsnet's (plan/slot.go), and an ENI ecsnet does not own, or
// another kernel order, gives the interfaces other names. The script must
// find each ENI by its MAC and install the files under that interface's
// name: here ENI data-a (slot 1) is eth2, data-b (slot 2) is eth1, data-c
// (slot 3) is ens5, and eth3 is an interface ecsnet does not own. Of the stacks that
// rename, ifupdown without MAC stanzas (Debian 9) and initscripts' ifcfg
// run here (ip(8) applies ifcfg live); wicked and netplan share the same
// renaming code but need their daemons.
func TestRealRenamedInterfaces(t *testing.T) {
	for _, tc := range []struct {
		stack schema.Stack
		os    schema.OS
	}{
		{schema.StackIfupdown, "debian9"},
		{schema.StackIfcfg, "centos7"},
	} {
		t.Run(string(tc.stack), func(t *testing.T) {
			if tc.stack == schema.StackIfupdown {
				hosttest.RequireTool(t, "ifup")
			}
			h := &Host{Name: "web-9", InstanceID: "i-bp1web000009", Fleet: "shop-prod", OS: tc.os, Stack: tc.stack,
				Primary: NIC{ENIID: "eni-bp1web9primary01", MAC: "00:16:3e:10:00:09", Prefix: prefix("172.16.0.0/24"),
					Gateway: addr("172.16.0.253"), Address: addr("172.16.0.10"), Secondary: []netip.Addr{addr("172.16.0.21")}}}
			h.Secondary = []NIC{secondaryNIC("data-a", 1, 20, 21, 22), secondaryNIC("data-b", 2, 30, 31), secondaryNIC("data-c", 3, 40)}
			kernel := map[string]string{"data-a": "eth2", "data-b": "eth1", "data-c": "ens5"}

			ns := hosttest.NewNetns(t, h.Name)
			links := [][2]string{{"eth0", h.Primary.MAC}, {"eth3", "00:16:3e:77:77:77"}}
			for _, n := range h.Secondary {
				links = append(links, [2]string{kernel[n.ENI], n.MAC})
			}
			for _, l := range links {
				if err := ns.AddLink(l[0], l[1]); err != nil {
					t.Fatal(err)
				}
			}
			ns.SetDHCPAddress(t, "eth0", netip.PrefixFrom(h.Primary.Address, 24), h.Primary.Gateway)
			var dir string
			switch tc.stack {
			case schema.StackIfupdown:
				dir = "/etc/network/interfaces.d/"
				ns.WriteFile(t, "/etc/network/interfaces", []byte("source /etc/network/interfaces.d/*\n"), 0o644)
				ns.WriteFile(t, dir+"50-cloud-init", []byte("auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n"), 0o644)
				ns.WriteFile(t, "/run/network/ifstate", []byte("lo=lo\neth0=eth0\n"), 0o644)
				ns.WriteFile(t, "/run/network/ifstate.lo", []byte("lo\n"), 0o644)
				ns.WriteFile(t, "/run/network/ifstate.eth0", []byte("eth0\n"), 0o644)
			case schema.StackIfcfg:
				dir = "/etc/sysconfig/network-scripts/"
				ns.WriteFile(t, dir+"ifup-aliases", []byte("# initscripts stand-in\n"), 0o755)
				// The foreign interface's own file: ecsnet leaves it alone.
				ns.WriteFile(t, dir+"ifcfg-eth3", []byte("DEVICE=eth3\nBOOTPROTO=dhcp\n"), 0o644)
			}

			apply := func(h *Host, args ...string) (int, string) {
				t.Helper()
				files, err := ForHost(h)
				if err != nil {
					t.Fatal(err)
				}
				out := t.TempDir()
				if err := WriteHost(out, h.Name, files); err != nil {
					t.Fatal(err)
				}
				stdout, stderr, err := ns.Exec(nil, append([]string{"/bin/bash", filepath.Join(out, h.Name, ScriptName)}, args...)...)
				code := 0
				var ee interface{ ExitCode() int }
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				return code, stdout + stderr
			}
			want := func(h *Host) []string {
				var s []string
				for _, a := range h.Primary.AllAddresses() {
					s = append(s, fmt.Sprintf("addr eth0 %s/24", a))
				}
				for _, n := range h.Secondary {
					dev := kernel[n.ENI]
					for _, a := range n.AllAddresses() {
						s = append(s, fmt.Sprintf("addr %s %s/24", dev, a), fmt.Sprintf("rule %d: from %s lookup %d", n.Priority, a, n.Table))
					}
					s = append(s, fmt.Sprintf("route %d %s dev %s", n.Table, n.Prefix, dev), fmt.Sprintf("route %d default via %s dev %s", n.Table, n.Gateway, dev))
				}
				slices.Sort(s)
				return s
			}
			live := func() []string {
				var s []string
				for _, a := range ns.Addrs(t) {
					s = append(s, "addr "+a.String())
				}
				for _, r := range ns.Rules(t) {
					if !r.Default() {
						s = append(s, "rule "+r.String())
					}
				}
				for _, r := range ns.Routes(t, "all") {
					if r.Table != "all" && r.Table != "main" && r.Table != "local" {
						s = append(s, "route "+r.String())
					}
				}
				slices.Sort(s)
				return s
			}
			check := func(what string, h *Host) {
				t.Helper()
				if got, want := live(), want(h); !slices.Equal(got, want) {
					t.Errorf("%s: live state\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				if code, out := apply(h, "verify"); code != 0 {
					t.Errorf("%s, then verify: exit %d\n%s", what, code, out)
				}
			}

			code, out := apply(h)
			if code != 0 {
				t.Fatalf("apply: exit %d\n%s", code, out)
			}
			t.Logf("apply:\n%s", out)
			if !strings.Contains(out, "ENI data-a (eni-bp1dataa0000, MAC 00:16:3e:00:01:14) is eth2 on this host, eth1 in the "+string(tc.stack)+" files") {
				t.Errorf("the apply does not say it renamed:\n%s", out)
			}
			check("after the apply", h)

			switch tc.stack {
			case schema.StackIfupdown:
				got, _ := ns.ReadFile(t, dir+"60-ecsnet")
				for _, n := range h.Secondary {
					if !strings.Contains(got, fmt.Sprintf("auto %s\niface %[1]s inet static\n    address %s/24\n", kernel[n.ENI], n.Address)) {
						t.Errorf("60-ecsnet has no stanza %s for ENI %s:\n%s", kernel[n.ENI], n.ENI, got)
					}
				}
				state, _ := ns.ReadFile(t, "/var/lib/ecsnet/shop-prod/state")
				for _, s := range []string{"ifup eth2 -", "ifup eth1 -", "ifup ens5 -"} {
					if !strings.Contains(state, s+"\n") {
						t.Errorf("the state record lacks %q:\n%s", s, state)
					}
				}
			case schema.StackIfcfg:
				for _, n := range h.Secondary {
					dev := kernel[n.ENI]
					got, ok := ns.ReadFile(t, dir+"ifcfg-"+dev)
					if !ok || !strings.Contains(got, "\nDEVICE="+dev+"\nHWADDR="+n.MAC+"\n") {
						t.Errorf("ifcfg-%s of ENI %s:\n%s", dev, n.ENI, got)
					}
					if got, _ := ns.ReadFile(t, dir+"route-"+dev); !strings.Contains(got, " dev "+dev+" table ") {
						t.Errorf("route-%s of ENI %s:\n%s", dev, n.ENI, got)
					}
				}
				if _, ok := ns.ReadFile(t, dir+"ifcfg-eth2:21"); !ok {
					t.Errorf("no ifcfg-eth2:21 for ENI data-a's address 172.16.2.21")
				}
				if got, _ := ns.ReadFile(t, dir+"ifcfg-eth3"); got != "DEVICE=eth3\nBOOTPROTO=dhcp\n" {
					t.Errorf("the foreign interface's ifcfg-eth3 changed:\n%s", got)
				}
			}

			code, out = apply(h)
			if code != 0 || strings.Contains(out, "installed /") || strings.Contains(out, "added ") {
				t.Errorf("a second apply changed something: exit %d\n%s", code, out)
			}
			check("after the second apply", h)

			// ENI data-c leaves the bundle: its interface's files go, under its
			// name here.
			small := *h
			small.Secondary = h.Secondary[:2]
			code, out = apply(&small)
			if code != 0 {
				t.Fatalf("apply without data-c: exit %d\n%s", code, out)
			}
			t.Logf("apply without data-c:\n%s", out)
			check("without data-c", &small)
			if tc.stack == schema.StackIfcfg {
				if _, ok := ns.ReadFile(t, dir+"ifcfg-ens5"); ok {
					t.Errorf("ifcfg-ens5 is still there once data-c left the bundle")
				}
			}
		})
	}
}

// TestNetplanRenamedGenerates: netplan's file names a secondary ENI's
// interface in its ID and set-name (eth<slot>). Renamed the way the apply
// script renames it (its own ecsnet_rename_words, for a host where the
// ENIs of slots 1 and 2 are eth2 and eth1), the file is one netplan
// generate takes, and what it generates gives each ENI's MAC its kernel
// name: no rename that would fight another interface for its name.
func TestNetplanRenamedGenerates(t *testing.T) {
	hosttest.RequireTool(t, "netplan")
	h := &Host{Name: "app-9", InstanceID: "i-bp1app000009", Fleet: "shop-prod", OS: "ubuntu22.04", Stack: schema.StackNetplan,
		Primary: NIC{ENIID: "eni-bp1app9primary01", MAC: "00:16:3e:10:00:09", Prefix: prefix("172.16.0.0/24"),
			Gateway: addr("172.16.0.253"), Address: addr("172.16.0.10"), Secondary: []netip.Addr{addr("172.16.0.21")}}}
	h.Secondary = []NIC{secondaryNIC("data-a", 1, 20, 21), secondaryNIC("data-b", 2, 30)}
	kernel := map[string]string{"data-a": "eth2", "data-b": "eth1"}
	files := render(t, h)
	dir := t.TempDir()
	script := filepath.Join(dir, ScriptName)
	if err := os.WriteFile(script, files[ScriptName].Data, 0o755); err != nil {
		t.Fatal(err)
	}
	// The script's definitions without its main, then the renaming.
	cmd := exec.Command("bash", "-c", `source <(sed '/^# ---- main ----$/,$d' "$1") && RENAME[eth1]=eth2 && RENAME[eth2]=eth1 && ecsnet_rename_words`, "bash", script)
	cmd.Stdin = bytes.NewReader(files["etc/netplan/60-ecsnet.yaml"].Data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	renamed, err := cmd.Output()
	if err != nil {
		t.Fatalf("ecsnet_rename_words: %v\n%s", err, stderr.String())
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/netplan"), 0o755); err != nil {
		t.Fatal(err)
	}
	cloudInit := fmt.Sprintf("network:\n    version: 2\n    ethernets:\n        eth0:\n            dhcp4: true\n            match:\n                macaddress: %s\n            set-name: eth0\n", h.Primary.MAC)
	for p, data := range map[string]string{"etc/netplan/50-cloud-init.yaml": cloudInit, "etc/netplan/60-ecsnet.yaml": string(renamed)} {
		if err := os.WriteFile(filepath.Join(root, p), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	generated, _ := hosttest.NetplanGenerate(t, root)
	for _, n := range h.Secondary {
		dev := kernel[n.ENI]
		network := generated["run/systemd/network/10-netplan-"+dev+".network"]
		if !strings.Contains(strings.ToLower(network), "macaddress="+n.MAC) || !strings.Contains(network, "Table="+fmt.Sprint(n.Table)) {
			t.Errorf("ENI %s: 10-netplan-%s.network does not match its MAC %s with table %d:\n%s\n(generated: %v)", n.ENI, dev, n.MAC, n.Table, network, slices.Sorted(maps.Keys(generated)))
		}
		link := generated["run/systemd/network/10-netplan-"+dev+".link"]
		if !strings.Contains(strings.ToLower(link), "macaddress="+n.MAC) || !strings.Contains(link, "Name="+dev+"\n") {
			t.Errorf("ENI %s: 10-netplan-%s.link does not keep its MAC %s at %s:\n%s", n.ENI, dev, n.MAC, dev, link)
		}
	}
}
