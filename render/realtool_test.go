package render_test

// Real-tool tests (issue 5, "Proven by real tools"): every example host's
// bundle is checked by the tool of its family, on this Debian machine, in
// network namespaces made by internal/hosttest (its package standin stands
// one in for a rendered host; guest's TestRealPayload uses the same one
// for the payloads). What runs for real:
//
//   ifupdown     ifup/ifdown of the rendered interfaces.d file in a
//                namespace; the apply script run twice, then converging
//                to a smaller file and back
//   iproute2     the apply script run twice and converging, and the boot
//                script run on a fresh namespace
//   networkd     systemd-networkd itself, in the namespace, on the rendered
//                .network files beside the primary's cloud-init file
//   netplan      netplan generate --root-dir with cloud-init's
//                50-cloud-init.yaml, then systemd-networkd on its output
//   NetworkManager  nmcli --offline round trip of every keyfile, with the
//                address/route/rule sets compared in and out
//   ifcfg (RHEL) bash sources every file; route-/rule- lines go to
//                ip route/rule add as initscripts' ifup-routes does
//   wicked       wicked's own reading rule (no line ignored, the same
//                values as bash); ifroute/ifrule lines go to ip
//   Windows      tree-sitter-powershell parse
//
// The apply scripts of the families whose daemon cannot run here
// (NetworkManager, initscripts, wicked, netplan, networkd: they reload a
// daemon over D-Bus) must refuse there, exit 3, and change nothing.
//
// TestCloudInitCrossCheck renders the same intent with cloud-init's
// renderers and brings the eni and networkd results up the same way,
// logging where they lose the policy routing that ecsnet keeps.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// rtHosts returns the example hosts of the given stacks.
func rtHosts(t *testing.T, stacks ...schema.Stack) []*render.Host {
	var out []*render.Host
	for _, h := range standin.ExampleHosts(t) {
		if slices.Contains(stacks, h.Stack) {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		t.Fatalf("the example has no host of %v", stacks)
	}
	return out
}

// rtWrite writes a bundle to a new directory (under the temp dir, which
// namespaces see at the same path) and returns it.
func rtWrite(t *testing.T, h *render.Host, files []render.File) string {
	t.Helper()
	dir := t.TempDir()
	if err := render.WriteHost(dir, h.Name, files); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, h.Name)
}

// rtFiles returns the bundle's files under dir (a slash path) whose base
// name starts with one of prefixes.
func rtFiles(files []render.File, dir string, prefixes ...string) []render.File {
	var out []render.File
	for _, f := range files {
		if path.Dir(f.Path) != dir {
			continue
		}
		for _, p := range prefixes {
			if strings.HasPrefix(path.Base(f.Path), p) {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// rtDHCPOnly is the state before ecsnet: the primary's DHCP address.
func rtDHCPOnly(h *render.Host) standin.State {
	return standin.State{Addrs: []string{fmt.Sprintf("%s %s/%d", h.Primary.Name(), h.Primary.Address, h.Primary.Bits())}}
}

// rtWait polls the live state until it equals want (daemons work
// asynchronously).
func rtWait(t *testing.T, ns *hosttest.Netns, want standin.State, timeout time.Duration) standin.State {
	t.Helper()
	var got standin.State
	hosttest.WaitFor(timeout, func() bool { got = standin.Live(t, ns); return got.Equal(want) })
	return got
}

// TestRealIfupdown brings each Debian host's interfaces.d file up with
// ifup in a namespace, compares, brings it down and checks that nothing
// of ecsnet's is left (host-config.md §7a).
func TestRealIfupdown(t *testing.T) {
	for _, h := range rtHosts(t, schema.StackIfupdown) {
		t.Run(h.Name, func(t *testing.T) {
			files := rtFiles(standin.Bundle(t, h), "etc/network/interfaces.d", "")
			if len(files) == 0 {
				t.Fatal("no etc/network/interfaces.d file in the bundle")
			}
			hosttest.RequireTool(t, "ifup")
			ns := standin.Netns(t, h)
			ifupdown := func(cmd string) {
				for _, f := range files {
					ns.WriteFile(t, "/"+f.Path, f.Data, f.Mode)
					for _, class := range []string{"auto", "hotplug"} {
						out, errOut, err := ns.Exec(nil, cmd, "-i", "/"+f.Path, "--state-dir", "/run/network", "--no-scripts", "-a", "--allow="+class)
						if err != nil || strings.Contains(errOut, "failed") || strings.Contains(errOut, "RTNETLINK") {
							t.Fatalf("%s -a --allow=%s -i %s: %v\n%s%s", cmd, class, f.Path, err, out, errOut)
						}
					}
				}
			}
			ifupdown("ifup")
			standin.Expect(t, "after ifup", standin.Live(t, ns), standin.Want(h))
			standin.CheckMain(t, ns, h)
			dsExpect(t, "after ifup", dsLive(t, ns, h), h)
			ifupdown("ifup") // again: "already configured", nothing changes
			standin.Expect(t, "after a second ifup", standin.Live(t, ns), standin.Want(h))
			ifupdown("ifdown")
			standin.Expect(t, "after ifdown", standin.Live(t, ns), rtDHCPOnly(h))
			standin.CheckMain(t, ns, h)
		})
	}
}

// rtApply runs a bundle's apply script in the namespace with ROOT=/ (the
// namespace's private /etc, /var and /run) and returns its exit code and
// output.
func rtApply(t *testing.T, ns *hosttest.Netns, dir string, args ...string) (int, string) {
	t.Helper()
	out, errOut, err := ns.Exec(nil, append([]string{"/bin/bash", filepath.Join(dir, render.ScriptName)}, args...)...)
	code := 0
	if err != nil {
		var ee interface{ ExitCode() int }
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return code, out + errOut
}

// TestRealApplyScripts runs the apply script of every example host whose
// stack can run here, twice, then converges to a smaller file and back.
// The others must refuse (exit 3) and change nothing.
func TestRealApplyScripts(t *testing.T) {
	for _, h := range standin.ExampleHosts(t) {
		if h.Stack == schema.StackWindows {
			continue
		}
		t.Run(h.Name, func(t *testing.T) {
			files := standin.Bundle(t, h)
			dir := rtWrite(t, h, files)
			ns := standin.Netns(t, h)
			standin.Prepare(t, ns, h)
			before := standin.Live(t, ns)

			if !slices.Contains(standin.Runnable, h.Stack) {
				code, out := rtApply(t, ns, dir)
				if code != 3 {
					t.Errorf("the %s apply script ran where its stack is not live: exit %d, want 3 (refused)\n%s", h.Stack, code, out)
				}
				standin.Expect(t, "after a refused apply", standin.Live(t, ns), before)
				for _, f := range files {
					if strings.HasPrefix(f.Path, "etc/") {
						if _, ok := ns.ReadFile(t, "/"+f.Path); ok {
							t.Errorf("a refused apply installed /%s", f.Path)
						}
					}
				}
				if code == 3 {
					t.Logf("refused, as it must off its stack:\n%s", out)
				}
				return
			}

			apply := func(what, dir string, want standin.State) {
				t.Helper()
				code, out := rtApply(t, ns, dir)
				if code != 0 {
					t.Fatalf("%s: exit %d\n%s", what, code, out)
				}
				t.Logf("%s:\n%s", what, out)
				standin.Expect(t, what, standin.Live(t, ns), want)
				standin.CheckMain(t, ns, h)
				if code, out := rtApply(t, ns, dir, "verify"); code != 0 {
					t.Errorf("%s, then verify: exit %d\n%s", what, code, out)
				}
			}
			apply("first apply", dir, standin.Want(h))
			installed := map[string]string{}
			for _, f := range files {
				if strings.HasPrefix(f.Path, "etc/") {
					got, ok := ns.ReadFile(t, "/"+f.Path)
					if !ok || got != string(f.Data) {
						t.Errorf("/%s not installed as rendered", f.Path)
					}
					installed[f.Path] = got
				}
			}
			apply("second apply", dir, standin.Want(h))
			for p, was := range installed {
				if got, _ := ns.ReadFile(t, "/"+p); got != was {
					t.Errorf("the second apply changed /%s", p)
				}
			}

			small := standin.Drop(h)
			apply("apply of a file with one address fewer per NIC", rtWrite(t, small, standin.Bundle(t, small)), standin.Want(small))
			apply("apply of the full file again", dir, standin.Want(h))
		})
	}
}

// TestRealIproute2BootScript runs the generic stack's boot script on a
// fresh namespace, twice: it alone brings the host up at boot.
func TestRealIproute2BootScript(t *testing.T) {
	for _, h := range rtHosts(t, schema.StackIproute2) {
		t.Run(h.Name, func(t *testing.T) {
			var boot []render.File
			for _, f := range standin.Bundle(t, h) {
				// The reconcile script is the other boot script; it adds nothing.
				if strings.HasSuffix(f.Path, ".sh") && f.Path != render.ScriptName && !strings.HasSuffix(f.Path, "/ecsnet-reconcile.sh") {
					boot = append(boot, f)
				}
			}
			if len(boot) != 1 {
				t.Fatalf("want one boot script besides %s, found %d", render.ScriptName, len(boot))
			}
			ns := standin.Netns(t, h)
			ns.WriteFile(t, "/"+boot[0].Path, boot[0].Data, boot[0].Mode)
			for i := 0; i < 2; i++ {
				ns.Run(t, "/"+boot[0].Path)
				standin.Expect(t, fmt.Sprintf("after boot script run %d", i+1), standin.Live(t, ns), standin.Want(h))
			}
			standin.CheckMain(t, ns, h)
			ns.Run(t, "/"+boot[0].Path, "verify")
		})
	}
}

// rtNetworkdUp starts systemd-networkd in ns and waits for h's state:
// standin.Want's, then the IPv6 and prefix lines of dsWant.
func rtNetworkdUp(t *testing.T, ns *hosttest.Netns, h *render.Host) standin.State {
	t.Helper()
	want := standin.Want(h)
	stop, log := ns.StartNetworkd(t)
	got := rtWait(t, ns, want, 15*time.Second)
	// IPv6 routes may follow the IPv4 state (DAD): wait for them too
	// before networkd stops.
	dsWait(t, ns, h, 15*time.Second)
	stop()
	if !got.Equal(want) {
		t.Logf("systemd-networkd log:\n%s", log())
	}
	return got
}

// TestRealNetworkd runs systemd-networkd itself on the rendered .network
// files, beside cloud-init's file for the primary ENI.
func TestRealNetworkd(t *testing.T) {
	for _, h := range rtHosts(t, schema.StackNetworkd) {
		t.Run(h.Name, func(t *testing.T) {
			files := standin.Bundle(t, h)
			ns := standin.Netns(t, h)
			standin.Prepare(t, ns, h)
			n := 0
			for _, f := range files {
				if strings.HasPrefix(f.Path, "etc/systemd/network/") {
					ns.WriteFile(t, "/"+f.Path, f.Data, f.Mode)
					n++
				}
			}
			if n == 0 {
				t.Fatal("no etc/systemd/network file in the bundle")
			}
			got := rtNetworkdUp(t, ns, h)
			standin.Expect(t, "systemd-networkd on the rendered files", got, standin.Want(h))
			standin.CheckMain(t, ns, h)
			dsExpect(t, "systemd-networkd on the rendered files", dsLive(t, ns, h), h)
		})
	}
}

// TestRealNetplan checks the drop-in with netplan generate beside
// cloud-init's 50-cloud-init.yaml, then runs systemd-networkd on what
// netplan generated.
func TestRealNetplan(t *testing.T) {
	for _, h := range rtHosts(t, schema.StackNetplan) {
		t.Run(h.Name, func(t *testing.T) {
			files := standin.Bundle(t, h)
			yamls := rtFiles(files, "etc/netplan", "")
			if len(yamls) == 0 {
				t.Fatal("no etc/netplan file in the bundle")
			}
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "etc/netplan"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "etc/netplan/50-cloud-init.yaml"), standin.CloudInitNetplan(h), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, f := range yamls {
				if f.Mode.Perm()&0o077 != 0 {
					t.Errorf("%s has mode %04o; netplan wants 0600", f.Path, f.Mode.Perm())
				}
				if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(f.Path)), f.Data, f.Mode.Perm()); err != nil {
					t.Fatal(err)
				}
			}
			generated, warnings := hosttest.NetplanGenerate(t, root)
			if warnings != "" {
				t.Errorf("netplan generate warned:\n%s", warnings)
			}
			// One .network file per NIC: a second file matching the
			// primary's MAC would be ignored by networkd (host-config.md
			// §2.4), losing the addresses.
			for _, n := range standin.NICs(h) {
				var matching []string
				for p, data := range generated {
					if strings.HasSuffix(p, ".network") && strings.Contains(strings.ToLower(data), "macaddress="+n.MAC) {
						matching = append(matching, p)
					}
				}
				if len(matching) != 1 {
					t.Errorf("%s: %d generated .network files match MAC %s, want 1: %v", n.Name(), len(matching), n.MAC, matching)
				}
			}
			ns := standin.Netns(t, h)
			for p, data := range generated {
				if strings.HasPrefix(p, "run/systemd/network/") && strings.HasSuffix(p, ".network") {
					// netplan matches a NIC by its permanent MAC (an ENI's
					// virtio NIC has one); a veth has none, so the namespace
					// matches on the current MAC, which the test set to the
					// ENI's. The .link files only rename: the veths already
					// have their names.
					data = strings.ReplaceAll(data, "PermanentMACAddress=", "MACAddress=")
					ns.WriteFile(t, "/"+p, []byte(data), 0o644)
				}
			}
			got := rtNetworkdUp(t, ns, h)
			standin.Expect(t, "systemd-networkd on netplan's output", got, standin.Want(h))
			standin.CheckMain(t, ns, h)
			dsExpect(t, "systemd-networkd on netplan's output", dsLive(t, ns, h), h)
		})
	}
}

// TestRealNMKeyfiles passes every keyfile through nmcli --offline and
// compares the addresses, routes and rules that come out with the host.
func TestRealNMKeyfiles(t *testing.T) {
	for _, h := range rtHosts(t, schema.StackNetworkManager) {
		t.Run(h.Name, func(t *testing.T) {
			files := standin.Bundle(t, h)
			keyfiles := rtFiles(files, "etc/NetworkManager/system-connections", "")
			seen := map[string]bool{}
			for _, f := range keyfiles {
				if f.Mode.Perm() != 0o600 {
					t.Errorf("%s has mode %04o; NetworkManager ignores keyfiles that are not 0600", f.Path, f.Mode.Perm())
				}
				if !strings.HasSuffix(f.Path, ".nmconnection") {
					t.Errorf("%s lacks the .nmconnection suffix", f.Path)
				}
				out := hosttest.NMOfflineRoundTrip(t, f.Data)
				if lost := hosttest.NMLost(f.Data, out); len(lost) > 0 {
					t.Errorf("%s: nmcli dropped or changed %q", f.Path, lost)
				}
				kf := hosttest.NMKeyfile(out)
				mac := strings.ToLower(kf["ethernet"]["mac-address"])
				var nic *render.NIC
				for _, n := range h.Secondary {
					if n.MAC == mac {
						nic = &n
					}
				}
				if nic == nil {
					t.Errorf("%s matches MAC %q, no secondary ENI of the host", f.Path, mac)
					continue
				}
				seen[mac] = true
				got, want := rtNMSets(kf["ipv4"], kf["ipv6"]), rtNMWant(*nic)
				if !got.Equal(want) {
					t.Errorf("%s after nmcli:\n--- got\n%s\n--- want\n%s", f.Path, got, want)
				}
				if kf["ipv4"]["never-default"] != "true" {
					t.Errorf("%s: never-default is %q; the ENI's gateway must stay out of the main table", f.Path, kf["ipv4"]["never-default"])
				}
				if kf["ipv4"]["gateway"] != "" {
					t.Errorf("%s has a gateway= in [ipv4]", f.Path)
				}
			}
			for _, n := range h.Secondary {
				if !seen[n.MAC] {
					t.Errorf("no keyfile for ENI %s (%s)", n.ENI, n.MAC)
				}
			}
			if len(keyfiles) == 0 && len(h.Secondary) == 0 {
				t.Logf("%s has no secondary ENI: its primary ENI is changed by nmcli at apply time, no keyfile to check", h.Name)
			}
		})
	}
}

// rtNMSets reads the [ipv4] and [ipv6] sections as standin.State lines.
func rtNMSets(secs ...map[string]string) standin.State {
	var s standin.State
	for _, sec := range secs {
		if sec["method"] == "ignore" {
			continue
		}
		for k, v := range sec {
			switch {
			case strings.HasPrefix(k, "address"):
				s.Addrs = append(s.Addrs, strings.SplitN(v, ",", 2)[0])
			case strings.HasPrefix(k, "routing-rule"):
				s.Rules = append(s.Rules, v)
			case strings.HasPrefix(k, "route") && !strings.HasSuffix(k, "_options"):
				s.Routes = append(s.Routes, v+" "+sec[k+"_options"])
			}
		}
	}
	return s.Sorted()
}

// rtNMWant is a secondary ENI's keyfile in rtNMSets' lines: its IPv4 and
// IPv6 addresses, a rule from each and from each prefix the host answers
// for, its routes and the prefixes' local routes (table local).
func rtNMWant(n render.NIC) standin.State {
	var s standin.State
	for _, a := range n.AllAddresses() {
		s.Addrs = append(s.Addrs, fmt.Sprintf("%s/%d", a, n.Bits()))
		s.Rules = append(s.Rules, fmt.Sprintf("priority %d from %s table %d", n.Priority, a, n.Table))
	}
	s.Routes = []string{fmt.Sprintf("%s table=%d", n.Prefix, n.Table), fmt.Sprintf("0.0.0.0/0,%s table=%d", n.Gateway, n.Table)}
	for _, p := range n.HostPrefixes() {
		s.Rules = append(s.Rules, fmt.Sprintf("priority %d from %s table %d", n.Priority, p, n.Table))
		s.Routes = append(s.Routes, fmt.Sprintf("%s table=255,type=local", p))
	}
	if n.HasIPv6() {
		for _, a := range n.IPv6 {
			s.Addrs = append(s.Addrs, fmt.Sprintf("%s/%d", a, n.IPv6Bits()))
			s.Rules = append(s.Rules, fmt.Sprintf("priority %d from %s table %d", n.Priority, a, n.Table))
		}
		s.Routes = append(s.Routes, fmt.Sprintf("%s table=%d", n.IPv6Prefix, n.Table), fmt.Sprintf("::/0,%s table=%d", n.IPv6Gateway(), n.Table))
	}
	return s.Sorted()
}

// TestRealIfcfg sources every RHEL ifcfg file with bash, checks the
// variables, and replays the addresses and the route-/rule- files with
// ip(8) in a namespace, as initscripts' ifup-aliases and ifup-routes do.
func TestRealIfcfg(t *testing.T) {
	for _, h := range rtHosts(t, schema.StackIfcfg) {
		t.Run(h.Name, func(t *testing.T) {
			files := standin.Bundle(t, h)
			dir := rtWrite(t, h, files)
			const base = "etc/sysconfig/network-scripts"
			ns := standin.Netns(t, h)
			for _, f := range rtFiles(files, base, "ifcfg-") {
				vars := hosttest.SourceIfcfg(t, filepath.Join(dir, filepath.FromSlash(f.Path)))
				dev := strings.TrimPrefix(path.Base(f.Path), "ifcfg-")
				if vars["DEVICE"] != dev {
					t.Errorf("%s: DEVICE=%q, want %q (NetworkManager rejects a mismatch)", f.Path, vars["DEVICE"], dev)
				}
				if _, ok := vars["GATEWAY"]; ok {
					t.Errorf("%s sets GATEWAY (host-config.md E2, E15)", f.Path)
				}
				parent, _, alias := strings.Cut(dev, ":")
				nic := rtNICByName(h, parent)
				if nic == nil {
					t.Errorf("%s: no NIC %s", f.Path, parent)
					continue
				}
				if !alias {
					if !strings.EqualFold(vars["HWADDR"], nic.MAC) || vars["DEFROUTE"] != "no" {
						t.Errorf("%s: HWADDR=%q DEFROUTE=%q, want %s and no", f.Path, vars["HWADDR"], vars["DEFROUTE"], nic.MAC)
					}
				}
				if vars["PREFIX"] != fmt.Sprint(nic.Bits()) {
					t.Errorf("%s: PREFIX=%q, want %d", f.Path, vars["PREFIX"], nic.Bits())
				}
				args := []string{"ip", "addr", "add", vars["IPADDR"] + "/" + vars["PREFIX"], "dev", parent}
				if alias {
					args = append(args, "label", dev)
				}
				ns.Run(t, args...)
			}
			rtReplay(t, ns, rtFiles(files, base, "route-"), "route")
			rtReplay(t, ns, rtFiles(files, base, "rule-"), "rule")
			standin.Expect(t, "addresses, route- and rule- files replayed with ip", standin.Live(t, ns), standin.Want(h))
			standin.CheckMain(t, ns, h)
		})
	}
}

func rtNICByName(h *render.Host, name string) *render.NIC {
	for _, n := range standin.NICs(h) {
		if n.Name() == name {
			return &n
		}
	}
	return nil
}

// rtReplay passes every line of the files to `ip <obj> add`, as
// initscripts' ifup-routes does with route-* and rule-* files.
func rtReplay(t *testing.T, ns *hosttest.Netns, files []render.File, obj string) {
	t.Helper()
	for _, f := range files {
		for _, line := range strings.Split(string(f.Data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			ns.Run(t, append([]string{"ip", obj, "add"}, strings.Fields(line)...)...)
		}
	}
}

// TestRealWicked reads every SUSE file the way wicked does (no line may
// be skipped, and the values must be what bash reads), then replays the
// addresses and the ifroute-/ifrule- files with ip(8) in a namespace.
func TestRealWicked(t *testing.T) {
	for _, h := range rtHosts(t, schema.StackWicked) {
		t.Run(h.Name, func(t *testing.T) {
			files := standin.Bundle(t, h)
			dir := rtWrite(t, h, files)
			const base = "etc/sysconfig/network"
			ns := standin.Netns(t, h)
			all := rtFiles(files, base, "ifcfg-", "ifroute-", "ifrule-")
			if len(all) == 0 {
				t.Fatal("no etc/sysconfig/network file in the bundle")
			}
			for _, f := range rtFiles(files, base, "ifcfg-") {
				vars, ignored := hosttest.ReadWickedSysconfig(f.Data)
				for _, l := range ignored {
					t.Errorf("%s: wicked skips the line %q", f.Path, l)
				}
				if !bytes.HasSuffix(f.Data, []byte("\n")) {
					t.Errorf("%s does not end in a newline: wicked drops an unquoted last line", f.Path)
				}
				bash := hosttest.SourceIfcfg(t, filepath.Join(dir, filepath.FromSlash(f.Path)))
				if fmt.Sprint(vars) != fmt.Sprint(bash) {
					t.Errorf("%s: wicked reads %v, bash %v", f.Path, vars, bash)
				}
				dev := strings.TrimPrefix(path.Base(f.Path), "ifcfg-")
				nic := rtNICByName(h, dev)
				if nic == nil {
					t.Errorf("%s: no NIC %s", f.Path, dev)
					continue
				}
				for k, v := range vars {
					if strings.HasPrefix(k, "NETMASK") && !strings.Contains(v, ".") {
						t.Errorf("%s: %s=%q is not a dotted mask (host-config.md E9)", f.Path, k, v)
					}
					if !strings.HasPrefix(k, "IPADDR") || v == "" {
						continue
					}
					if !strings.Contains(v, "/") {
						t.Errorf("%s: %s=%q has no prefix length", f.Path, k, v)
						continue
					}
					if k == "IPADDR" && nic.ENI == "" {
						t.Errorf("%s: the primary ENI's own address belongs to DHCP, yet IPADDR=%q", f.Path, v)
					}
					args := []string{"ip", "addr", "add", v, "dev", dev}
					if suffix, ok := strings.CutPrefix(k, "IPADDR"); ok && vars["LABEL"+suffix] != "" {
						label := dev + ":" + vars["LABEL"+suffix]
						if len(label) > 15 {
							t.Errorf("%s: label %q is longer than 15 characters", f.Path, label)
						}
						args = append(args, "label", label)
					}
					ns.Run(t, args...)
				}
			}
			for _, f := range rtFiles(files, base, "ifroute-") {
				for _, line := range rtLines(f.Data) {
					// Destination Gateway Netmask Interface Options (ifroute(5)).
					c := strings.Fields(line)
					if len(c) < 4 {
						t.Errorf("%s: %q has fewer than four columns", f.Path, line)
						continue
					}
					args := []string{"ip", "route", "add", c[0]}
					if c[1] != "-" {
						args = append(args, "via", c[1])
					}
					if c[2] != "-" {
						t.Errorf("%s: %q: give the prefix in the destination, not the netmask column", f.Path, line)
					}
					args = append(args, "dev", c[3])
					ns.Run(t, append(args, c[4:]...)...)
				}
			}
			for _, f := range rtFiles(files, base, "ifrule-") {
				for _, line := range rtLines(f.Data) {
					// [ipv4|ipv6] selector action (ifrule(5)).
					fields := strings.Fields(line)
					if fields[0] == "ipv4" {
						fields = fields[1:]
					}
					ns.Run(t, append([]string{"ip", "-4", "rule", "add"}, fields...)...)
				}
			}
			standin.Expect(t, "addresses, ifroute and ifrule replayed with ip", standin.Live(t, ns), standin.Want(h))
			standin.CheckMain(t, ns, h)
		})
	}
}

func rtLines(data []byte) []string {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && l[0] != '#' {
			out = append(out, l)
		}
	}
	return out
}

// TestRealScriptSyntax checks every shell script of every Linux bundle
// with bash -n, and the Windows script with tree-sitter-powershell.
func TestRealScriptSyntax(t *testing.T) {
	for _, h := range standin.ExampleHosts(t) {
		t.Run(h.Name, func(t *testing.T) {
			files := standin.Bundle(t, h)
			dir := rtWrite(t, h, files)
			for _, f := range files {
				switch {
				case strings.HasSuffix(f.Path, ".ps1"):
					hosttest.PowerShellSyntax(t, f.Data)
				case strings.HasSuffix(f.Path, ".sh") || bytes.HasPrefix(f.Data, []byte("#!/bin/bash")) || bytes.HasPrefix(f.Data, []byte("#!/bin/sh")):
					bash := hosttest.RequireTool(t, "bash")
					out, err := execOutput(bash, "-n", filepath.Join(dir, filepath.FromSlash(f.Path)))
					if err != nil {
						t.Errorf("bash -n %s: %v\n%s", f.Path, err, out)
					}
				}
			}
		})
	}
}

func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// rtV2 is the host's intent as cloud-init network-config v2: the primary
// on DHCP with its secondary addresses, every secondary ENI static with a
// default route in its own table and one rule per address. withLink adds
// the table's subnet route (a route without a gateway).
func rtV2(h *render.Host, withLink bool) []byte {
	var b strings.Builder
	b.WriteString("network:\n  version: 2\n  ethernets:\n")
	for _, n := range standin.NICs(h) {
		fmt.Fprintf(&b, "    %s:\n      match: {macaddress: \"%s\"}\n      set-name: %[1]s\n", n.Name(), n.MAC)
		var addrs []string
		for _, a := range n.Secondary {
			addrs = append(addrs, fmt.Sprintf("%s/%d", a, n.Bits()))
		}
		if n.Table == 0 {
			b.WriteString("      dhcp4: true\n")
		} else {
			addrs = append([]string{fmt.Sprintf("%s/%d", n.Address, n.Bits())}, addrs...)
		}
		if len(addrs) > 0 {
			fmt.Fprintf(&b, "      addresses: [%s]\n", strings.Join(addrs, ", "))
		}
		if n.Table == 0 {
			continue
		}
		fmt.Fprintf(&b, "      routes:\n        - {to: 0.0.0.0/0, via: %s, table: %d}\n", n.Gateway, n.Table)
		if withLink {
			fmt.Fprintf(&b, "        - {to: %s, scope: link, table: %d}\n", n.Prefix, n.Table)
		}
		b.WriteString("      routing-policy:\n")
		for _, a := range n.AllAddresses() {
			fmt.Fprintf(&b, "        - {from: %s, table: %d, priority: %d}\n", a, n.Table, n.Priority)
		}
	}
	return []byte(b.String())
}

// rtDiff lists what got lacks and has beyond want.
func rtDiff(got, want standin.State) []string {
	var out []string
	for _, p := range []struct {
		kind string
		g, w []string
	}{{"address", got.Addrs, want.Addrs}, {"rule", got.Rules, want.Rules}, {"route", got.Routes, want.Routes}} {
		for _, x := range p.w {
			if !slices.Contains(p.g, x) {
				out = append(out, fmt.Sprintf("missing %s %s", p.kind, x))
			}
		}
		for _, x := range p.g {
			if !slices.Contains(p.w, x) {
				out = append(out, fmt.Sprintf("extra %s %s", p.kind, x))
			}
		}
	}
	return out
}

// rtMainDefaults lists the main table's default routes, with who added
// them (proto dhcp: the test's stand-in for the DHCP client).
func rtMainDefaults(t *testing.T, ns *hosttest.Netns) []string {
	var out []string
	for _, r := range ns.Routes(t, "main") {
		if r.Dst == "default" {
			proto := r.Protocol
			if proto == "" {
				proto = "boot"
			}
			out = append(out, fmt.Sprintf("%s proto %s", r, proto))
		}
	}
	slices.Sort(out)
	return out
}

// TestCloudInitCrossCheck renders the intent of two example hosts (one
// secondary ENI in the primary's subnet, one in another subnet) with
// cloud-init's own renderers, brings the eni result up with ifup and the
// networkd result up with systemd-networkd exactly as the ecsnet tests do,
// and records where cloud-init loses the policy routing that ecsnet's
// bundles keep (host-config.md §6). The findings are a golden file per
// cloud-init version: testdata/cloudinit/<version>.txt.
func TestCloudInitCrossCheck(t *testing.T) {
	hosttest.RequireRoot(t)
	version := hosttest.CloudInitVersion(t)
	var findings strings.Builder
	fmt.Fprintf(&findings, "cloud-init %s, devel net-convert, on the intent ecsnet renders (rtV2)\n", version)
	for _, name := range []string{"lb-1", "edge-1"} {
		var h *render.Host
		for _, x := range standin.ExampleHosts(t) {
			if x.Name == name {
				h = x
			}
		}
		if h == nil || len(h.Secondary) == 0 {
			t.Fatalf("the example has no host %s with a secondary ENI", name)
		}
		n := h.Secondary[0]
		fmt.Fprintf(&findings, "\n== %s: ENI %s on %s (primary ENI on %s), table %d\n", h.Name, n.ENI, n.Prefix, h.Primary.Prefix, n.Table)

		// With the table's subnet route (no gateway) in the intent, the
		// renderers that crash on it (once: it does not depend on the host).
		if name == "lb-1" {
			for _, k := range [][2]string{{"eni", "debian"}, {"sysconfig", "rhel"}} {
				if _, err := hosttest.TryNetConvert(t, rtV2(h, true), k[1], k[0]); err != nil {
					fmt.Fprintf(&findings, "%s/%s with a gateway-less table route: fails: %s\n", k[0], k[1], rtLastLine(err))
				} else {
					fmt.Fprintf(&findings, "%s/%s with a gateway-less table route: renders\n", k[0], k[1])
				}
			}
			fmt.Fprintf(&findings, "(below: the intent without that route, which every renderer takes)\n")
		}
		v2 := rtV2(h, false)
		// Every conversion at once: each is a second of Python start-up.
		kinds := [][2]string{{"eni", "debian"}, {"networkd", "debian"}, {"sysconfig", "rhel"}, {"sysconfig", "sles"}, {"network-manager", "rhel"}, {"netplan", "ubuntu"}}
		converted := make([]map[string]string, len(kinds))
		errs := make([]error, len(kinds))
		var wg sync.WaitGroup
		for i, k := range kinds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				converted[i], errs[i] = hosttest.TryNetConvert(t, v2, k[1], k[0])
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}

		// eni, brought up with ifup as TestRealIfupdown does; cloud-init's
		// DHCP stanza for the primary becomes manual (the test set the
		// DHCP address already).
		eni := converted[0]["etc/network/interfaces.d/50-cloud-init"]
		eni = strings.Replace(eni, "iface "+h.Primary.Name()+" inet dhcp", "iface "+h.Primary.Name()+" inet manual", 1)
		ns := standin.Netns(t, h)
		ns.WriteFile(t, "/etc/network/interfaces.d/50-cloud-init", []byte(eni), 0o644)
		out, errOut, err := ns.Exec(nil, "ifup", "-a", "-i", "/etc/network/interfaces.d/50-cloud-init", "--state-dir", "/run/network", "--no-scripts")
		if err != nil {
			t.Logf("ifup of cloud-init's eni output: %v\n%s%s", err, out, errOut)
		}
		rtFinding(&findings, "eni/debian, ifup", rtDiff(standin.Live(t, ns), standin.Want(h)), rtMainDefaults(t, ns))

		// networkd, brought up with systemd-networkd.
		ns = standin.Netns(t, h)
		files := converted[1]
		for _, p := range rtSorted(files) {
			ns.WriteFile(t, "/"+p, []byte(files[p]), 0o644)
		}
		want := standin.Want(h)
		stop, _ := ns.StartNetworkd(t)
		hosttest.WaitFor(10*time.Second, func() bool {
			return len(standin.Live(t, ns).Addrs) == len(want.Addrs)
		})
		// Routes follow addresses: wait until nothing changes for a second.
		last := fmt.Sprint(standin.Live(t, ns), rtMainDefaults(t, ns))
		hosttest.WaitFor(10*time.Second, func() bool {
			time.Sleep(time.Second)
			now := fmt.Sprint(standin.Live(t, ns), rtMainDefaults(t, ns))
			same := now == last
			last = now
			return same
		})
		stop()
		rtFinding(&findings, "networkd/debian, systemd-networkd", rtDiff(standin.Live(t, ns), want), rtMainDefaults(t, ns))

		// The rest, read as text.
		for i, k := range kinds[2:] {
			files := converted[2+i]
			var all strings.Builder
			for _, p := range rtSorted(files) {
				all.WriteString(files[p])
			}
			s := all.String()
			var notes []string
			if !strings.Contains(s, fmt.Sprint(n.Table)) {
				notes = append(notes, fmt.Sprintf("table %d dropped", n.Table))
			}
			rules := 0
			for _, a := range n.AllAddresses() {
				if strings.Contains(s, "from: "+a.String()) || strings.Contains(s, "from "+a.String()) {
					rules++
				}
			}
			if rules == 0 {
				notes = append(notes, "every routing rule dropped")
			} else if rules < len(n.AllAddresses()) {
				notes = append(notes, fmt.Sprintf("%d of %d routing rules kept", rules, len(n.AllAddresses())))
			}
			if strings.Contains(s, "GATEWAY="+n.Gateway.String()) || strings.Contains(s, "DEFROUTE=yes") {
				notes = append(notes, "the ENI's gateway goes to the main table (GATEWAY=, DEFROUTE=yes)")
			}
			if len(notes) == 0 {
				notes = []string{"table and rules kept"}
			}
			fmt.Fprintf(&findings, "%s/%s, as text: %s\n", k[0], k[1], strings.Join(notes, "; "))
		}
		fmt.Fprintf(&findings, "ecsnet (TestRealIfupdown, TestRealApplyScripts, TestRealNetworkd, TestRealNetplan): table %d, its routes and every rule present; main table untouched\n", n.Table)
	}
	t.Log("\n" + findings.String())
	goldenFile := filepath.Join("testdata", "cloudinit", version+".txt")
	if _, err := os.Stat(goldenFile); err != nil && !golden.Updating() {
		t.Skipf("no recorded findings for cloud-init %s (%s); run with -update to record them", version, goldenFile)
	}
	golden.Check(t, goldenFile, []byte(findings.String()))
}

func rtFinding(b *strings.Builder, what string, diff, mainDefaults []string) {
	fmt.Fprintf(b, "%s:\n", what)
	if len(diff) == 0 {
		b.WriteString("\tlive state as wanted\n")
	}
	for _, d := range diff {
		fmt.Fprintf(b, "\t%s\n", d)
	}
	fmt.Fprintf(b, "\tmain table default routes: %s\n", strings.Join(mainDefaults, "; "))
}

func rtLastLine(err error) string {
	s := strings.TrimSpace(err.Error())
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

func rtSorted(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
