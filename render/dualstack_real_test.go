package render_test

// Issue 17 on the six configuration-file stacks: IPv6 statics with their
// default route in the ENI's own table and ip -6 rules, the primary ENI's
// IPv6 in the main table, and IPv4 prefixes as local routes only when the
// desired state asks. Each stack's files go through its own tool here (the
// daemon itself where one runs: systemd-networkd, NetworkManager, ifupdown;
// netplan generate; bash and ip(8) as initscripts and wicked apply the
// route and rule files) and the live IPv6 addresses, routes and rules are
// read back with ip -j in a namespace.

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// dsHost is a dual-stack host: the primary ENI with a secondary IPv4
// address, two IPv6 addresses and a prefix on the host; ENI data-a with
// IPv6 and two prefixes on the host; ENI data-b with a prefix the host
// leaves alone (a CNI's) and no IPv6.
func dsHost(stack schema.Stack, os schema.OS) *render.Host {
	a, p, pf := netip.MustParseAddr, netip.MustParsePrefix, func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, x := range s {
			out = append(out, netip.MustParsePrefix(x))
		}
		return out
	}
	return &render.Host{Name: "dual-1", InstanceID: "i-bp1dual00001", Fleet: "shop-prod", OS: os, Stack: stack,
		Primary: render.NIC{ENIID: "eni-bp1dual1primary", MAC: "00:16:3e:20:00:01",
			Prefix: p("172.16.0.0/24"), Gateway: a("172.16.0.253"), Address: a("172.16.0.10"),
			Secondary:  []netip.Addr{a("172.16.0.21")},
			IPv6:       []netip.Addr{a("2408:4005:3aa:1b00::10"), a("2408:4005:3aa:1b00::11")},
			IPv6Prefix: p("2408:4005:3aa:1b00::/64"),
			Prefixes:   pf("172.16.0.32/28"), PrefixesOnHost: true},
		Secondary: []render.NIC{
			{ENI: "data-a", ENIID: "eni-bp1dataa0000", MAC: "00:16:3e:20:01:14", DeviceIndex: 1,
				Prefix: p("172.16.1.0/24"), Gateway: a("172.16.1.253"), Address: a("172.16.1.20"),
				Secondary:  []netip.Addr{a("172.16.1.21")},
				IPv6:       []netip.Addr{a("2408:4005:3aa:1b01::20"), a("2408:4005:3aa:1b01::21")},
				IPv6Prefix: p("2408:4005:3aa:1b01::/64"),
				Prefixes:   pf("172.16.1.48/28", "172.16.1.64/28"), PrefixesOnHost: true,
				Table: 1001, Priority: 1001},
			{ENI: "data-b", ENIID: "eni-bp1datab0000", MAC: "00:16:3e:20:02:1e", DeviceIndex: 2,
				Prefix: p("172.16.2.0/24"), Gateway: a("172.16.2.253"), Address: a("172.16.2.30"),
				Prefixes: pf("172.16.2.48/28"),
				Table:    1002, Priority: 1002},
		}}
}

// dsNICs returns the host's NICs, primary first.
func dsNICs(h *render.Host) []render.NIC { return append([]render.NIC{h.Primary}, h.Secondary...) }

// dsWant is the IPv6 and prefix state the host's files must give, in
// dsLive's lines.
func dsWant(h *render.Host) []string {
	var s []string
	for _, n := range dsNICs(h) {
		for _, x := range n.IPv6 {
			s = append(s, fmt.Sprintf("addr %s %s/%d", n.Name(), x, n.IPv6Bits()))
		}
		for _, p := range n.HostPrefixes() {
			s = append(s, fmt.Sprintf("answers %s on %s", p.Addr().Next().Next(), n.Name()))
		}
		if n.Table == 0 {
			if n.HasIPv6() {
				s = append(s, fmt.Sprintf("route6 main default via %s dev %s", n.IPv6Gateway(), n.Name()))
			}
			for _, p := range n.HostPrefixes() {
				s = append(s, fmt.Sprintf("local local %s dev %s", p, n.Name()))
			}
			continue
		}
		if n.HasIPv6() {
			s = append(s, fmt.Sprintf("route6 %d default via %s dev %s", n.Table, n.IPv6Gateway(), n.Name()),
				fmt.Sprintf("route6 %d %s dev %s", n.Table, n.IPv6Prefix, n.Name()))
			for _, x := range n.IPv6 {
				s = append(s, fmt.Sprintf("rule6 %d from %s lookup %d", n.Priority, x, n.Table))
			}
		}
		for _, p := range n.HostPrefixes() {
			// The local route in table local, which the kernel consults
			// first for every packet: in the ENI's table, which only the
			// rule from the prefix selects, an arriving packet (from
			// elsewhere) would never find it. The rule sends replies out
			// through the ENI's table.
			s = append(s, fmt.Sprintf("local local %s dev %s", p, n.Name()),
				fmt.Sprintf("rule4 %d from %s lookup %d", n.Priority, p, n.Table))
		}
	}
	slices.Sort(s)
	return s
}

// dsIP runs ip -j in the namespace and decodes its answer.
func dsIP(t testing.TB, ns *hosttest.Netns, v any, args ...string) {
	t.Helper()
	bin := hosttest.RequireTool(t, "ip")
	out, err := exec.Command(bin, append([]string{"-n", ns.Name, "-j"}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && strings.Contains(string(ee.Stderr), "does not exist") {
			return // a table nothing was ever added to
		}
		t.Fatalf("ip %s: %v", strings.Join(args, " "), err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// dsLive reads the namespace's IPv6 addresses (global), IPv6 routes in
// the host's tables and main's IPv6 default routes, every IPv6 rule and
// IPv4 rule from a prefix, and the IPv4 local routes of prefixes.
func dsLive(t testing.TB, ns *hosttest.Netns, h *render.Host) []string {
	t.Helper()
	var s []string
	var links []struct {
		IfName   string `json:"ifname"`
		AddrInfo []struct {
			Family    string `json:"family"`
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
			Scope     string `json:"scope"`
		} `json:"addr_info"`
	}
	dsIP(t, ns, &links, "addr", "show")
	for _, l := range links {
		for _, x := range l.AddrInfo {
			if x.Family == "inet6" && x.Scope == "global" {
				s = append(s, fmt.Sprintf("addr %s %s/%d", l.IfName, x.Local, x.PrefixLen))
			}
		}
	}
	type route struct {
		Type    string `json:"type"`
		Dst     string `json:"dst"`
		Gateway string `json:"gateway"`
		Dev     string `json:"dev"`
	}
	tables := []string{"main"}
	for _, n := range h.Secondary {
		tables = append(tables, fmt.Sprint(n.Table))
	}
	for _, tb := range tables {
		var rs []route
		dsIP(t, ns, &rs, "-6", "route", "show", "table", tb)
		for _, r := range rs {
			if tb == "main" && r.Dst != "default" {
				continue // the kernel's own prefix and link-local routes
			}
			line := fmt.Sprintf("route6 %s %s", tb, r.Dst)
			if r.Gateway != "" {
				line += " via " + r.Gateway
			}
			s = append(s, line+" dev "+r.Dev)
		}
		rs = nil
		dsIP(t, ns, &rs, "-4", "route", "show", "table", tb, "type", "local")
		for _, r := range rs {
			s = append(s, fmt.Sprintf("local %s %s dev %s", tb, r.Dst, r.Dev))
		}
	}
	// The host answers for a prefix when a packet arriving on the ENI for
	// an address in it, from another address of the vSwitch, is
	// delivered locally: ip route get with iif runs the input lookup.
	for _, n := range dsNICs(h) {
		for _, p := range n.Prefixes {
			to := p.Addr().Next().Next()
			out, _ := exec.Command(hosttest.RequireTool(t, "ip"), "-n", ns.Name, "route", "get", to.String(),
				"from", n.Gateway.String(), "iif", n.Name()).CombinedOutput()
			if strings.HasPrefix(string(out), "local ") {
				s = append(s, fmt.Sprintf("answers %s on %s", to, n.Name()))
			}
		}
	}
	var locals []route
	dsIP(t, ns, &locals, "-4", "route", "show", "table", "local", "type", "local")
	for _, r := range locals {
		// The kernel's own: each address (no length) and loopback.
		if strings.Contains(r.Dst, "/") && !strings.HasPrefix(r.Dst, "127.") {
			s = append(s, fmt.Sprintf("local local %s dev %s", r.Dst, r.Dev))
		}
	}
	type rule struct {
		Priority int    `json:"priority"`
		Src      string `json:"src"`
		SrcLen   int    `json:"srclen"`
		Table    string `json:"table"`
	}
	var rules []rule
	dsIP(t, ns, &rules, "-6", "rule", "show")
	for _, r := range rules {
		if r.Table == "local" || r.Table == "main" {
			continue
		}
		src := r.Src
		if r.SrcLen != 0 && r.SrcLen != 128 {
			src += fmt.Sprintf("/%d", r.SrcLen)
		}
		s = append(s, fmt.Sprintf("rule6 %d from %s lookup %s", r.Priority, src, r.Table))
	}
	rules = nil
	dsIP(t, ns, &rules, "-4", "rule", "show")
	for _, r := range rules {
		if r.SrcLen != 0 && r.SrcLen != 32 {
			s = append(s, fmt.Sprintf("rule4 %d from %s/%d lookup %s", r.Priority, r.Src, r.SrcLen, r.Table))
		}
	}
	slices.Sort(s)
	return s
}

// dsWait polls the live state until it is want.
func dsWait(t testing.TB, ns *hosttest.Netns, h *render.Host, timeout time.Duration) []string {
	t.Helper()
	want := dsWant(h)
	var got []string
	hosttest.WaitFor(timeout, func() bool { got = dsLive(t, ns, h); return slices.Equal(got, want) })
	return got
}

// dsExpect fails t when the live state is not what h wants.
func dsExpect(t testing.TB, what string, got []string, h *render.Host) {
	t.Helper()
	if want := dsWant(h); !slices.Equal(got, want) {
		t.Errorf("%s: live IPv6/prefix state differs\n--- got\n\t%s\n--- want\n\t%s", what, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// dsNetns makes a namespace for h: one veth per ENI with its MAC, the
// primary's IPv4 address and default route as DHCP leaves them.
func dsNetns(t testing.TB, h *render.Host) *hosttest.Netns {
	t.Helper()
	hosttest.RequireRoot(t)
	ns := hosttest.NewNetns(t, h.Name)
	for _, n := range dsNICs(h) {
		if err := ns.AddLink(n.Name(), n.MAC); err != nil {
			t.Fatal(err)
		}
	}
	ns.SetDHCPAddress(t, h.Primary.Name(), netip.PrefixFrom(h.Primary.Address, h.Primary.Bits()), h.Primary.Gateway)
	return ns
}

// dsRender renders h and returns its files by path.
func dsRender(t testing.TB, h *render.Host) map[string]render.File {
	t.Helper()
	files, err := render.ForHost(h)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]render.File{}
	for _, f := range files {
		out[f.Path] = f
	}
	return out
}

// TestDualStackNetworkdReal runs systemd-networkd on the rendered .network
// files and reads the IPv6 and prefix state back.
func TestDualStackNetworkdReal(t *testing.T) {
	h := dsHost(schema.StackNetworkd, "debian12")
	files := dsRender(t, h)
	ns := dsNetns(t, h)
	n := 0
	for p, f := range files {
		if strings.HasPrefix(p, "etc/systemd/network/") {
			ns.WriteFile(t, "/"+p, f.Data, f.Mode)
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d .network files, want 3 (the primary's and two ENIs')", n)
	}
	stop, log := ns.StartNetworkd(t)
	got := dsWait(t, ns, h, 20*time.Second)
	stop()
	dsExpect(t, "systemd-networkd", got, h)
	if t.Failed() {
		t.Logf("systemd-networkd log:\n%s", log())
	}
}

// TestDualStackNetplanReal checks the drop-in with netplan generate beside
// cloud-init's 50-cloud-init.yaml, then runs systemd-networkd on what
// netplan generated.
func TestDualStackNetplanReal(t *testing.T) {
	h := dsHost(schema.StackNetplan, "ubuntu22.04")
	files := dsRender(t, h)
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/netplan"), 0o755); err != nil {
		t.Fatal(err)
	}
	// cloud-init's AliYun datasource with apply_full_imds_network_config:
	// every NIC by DHCP, dhcp6 too where the NIC has IPv6 addresses
	// (host-config.md §3.3). The drop-in turns a secondary ENI's off.
	ci := string(standin.CloudInitNetplan(h)) + fmt.Sprintf(`            dhcp6: true
        %s:
            dhcp4: true
            dhcp6: true
            match:
                macaddress: %s
            set-name: %[1]s
`, h.Secondary[0].Name(), h.Secondary[0].MAC)
	if err := os.WriteFile(filepath.Join(root, "etc/netplan/50-cloud-init.yaml"), []byte(ci), 0o600); err != nil {
		t.Fatal(err)
	}
	f := files["etc/netplan/60-ecsnet.yaml"]
	if err := os.WriteFile(filepath.Join(root, "etc/netplan/60-ecsnet.yaml"), f.Data, 0o600); err != nil {
		t.Fatal(err)
	}
	generated, warnings := hosttest.NetplanGenerate(t, root)
	if warnings != "" {
		t.Errorf("netplan generate warned:\n%s", warnings)
	}
	ns := dsNetns(t, h)
	n := 0
	for p, data := range generated {
		if strings.HasSuffix(p, ".network") && strings.Contains(data, "MACAddress="+h.Secondary[0].MAC) &&
			regexp.MustCompile(`(?m)^DHCP=(yes|ipv4|ipv6)$`).MatchString(data) {
			t.Errorf("%s: the secondary ENI keeps a DHCP client:\n%s", p, data)
		}
		if strings.HasPrefix(p, "run/systemd/network/") && strings.HasSuffix(p, ".network") {
			// A veth has no permanent MAC (TestRealNetplan says more).
			data = strings.ReplaceAll(data, "PermanentMACAddress=", "MACAddress=")
			ns.WriteFile(t, "/"+p, []byte(data), 0o644)
			n++
		}
	}
	if n != 3 {
		t.Fatalf("netplan generated %d .network files, want 3 (one per NIC)", n)
	}
	stop, log := ns.StartNetworkd(t)
	got := dsWait(t, ns, h, 20*time.Second)
	stop()
	dsExpect(t, "systemd-networkd on netplan's output", got, h)
	if t.Failed() {
		t.Logf("systemd-networkd log:\n%s", log())
	}
}

// dsSecondaryOnly is h as far as files of secondary ENIs configure it:
// the primary ENI's IPv6 and prefixes left to the apply script
// (NetworkManager, ifcfg).
func dsSecondaryOnly(h *render.Host) *render.Host {
	c := *h
	c.Primary.IPv6, c.Primary.IPv6Prefix, c.Primary.Prefixes, c.Primary.PrefixesOnHost = nil, netip.Prefix{}, nil, false
	return &c
}

// TestDualStackNMKeyfiles passes the dual-stack keyfiles through
// nmcli --offline (nothing may be dropped: an invalid route or rule is
// dropped silently), then runs NetworkManager itself on them in a
// namespace and reads the IPv6 and prefix state back.
func TestDualStackNMKeyfiles(t *testing.T) {
	h := dsHost(schema.StackNetworkManager, "rocky9")
	files := dsRender(t, h)
	var keyfiles []render.File
	for p, f := range files {
		if strings.HasPrefix(p, "etc/NetworkManager/system-connections/") {
			keyfiles = append(keyfiles, f)
		}
	}
	if len(keyfiles) != 2 {
		t.Fatalf("%d keyfiles, want 2", len(keyfiles))
	}
	for _, f := range keyfiles {
		out := hosttest.NMOfflineRoundTrip(t, f.Data)
		if lost := hosttest.NMLost(f.Data, out); len(lost) > 0 {
			t.Errorf("%s: nmcli dropped or changed %q", f.Path, lost)
		}
		kf := hosttest.NMKeyfile(out)
		switch {
		case strings.Contains(f.Path, "data-a"):
			if kf["ipv6"]["method"] != "manual" || kf["ipv6"]["never-default"] != "true" || kf["ipv6"]["gateway"] != "" {
				t.Errorf("%s [ipv6] after nmcli: %v", f.Path, kf["ipv6"])
			}
		default:
			if kf["ipv6"]["method"] != "ignore" {
				t.Errorf("%s [ipv6] after nmcli: %v; an IPv4-only ENI keeps method=ignore", f.Path, kf["ipv6"])
			}
		}
	}
	if t.Failed() {
		return
	}
	ns := dsNetns(t, h)
	for _, f := range keyfiles {
		ns.WriteFile(t, "/"+f.Path, f.Data, f.Mode)
	}
	d := ns.StartNetworkManager(t)
	want := dsSecondaryOnly(h)
	got := dsWait(t, ns, want, 20*time.Second)
	d.Stop()
	dsExpect(t, "NetworkManager", got, want)
	if t.Failed() {
		t.Logf("NetworkManager log:\n%s", d.Log())
	}
}

// TestDualStackIfupdownReal brings the dual-stack interfaces.d file up
// with ifup in a namespace (both ifupdown forms: stanzas bound by MAC on
// Debian 12, named after the interface on Debian 9), reads the IPv6 and
// prefix state back, brings it down and checks that nothing of it is left
// and the primary interface is still up.
func TestDualStackIfupdownReal(t *testing.T) {
	for _, osName := range []schema.OS{"debian12", "debian9"} {
		t.Run(string(osName), func(t *testing.T) {
			h := dsHost(schema.StackIfupdown, osName)
			var f render.File
			for p, x := range dsRender(t, h) {
				if strings.HasPrefix(p, "etc/network/interfaces.d/") {
					f = x
				}
			}
			hosttest.RequireTool(t, "ifup")
			ns := dsNetns(t, h)
			ns.WriteFile(t, "/"+f.Path, f.Data, f.Mode)
			ifupdown := func(cmd string) {
				t.Helper()
				out, errOut, err := ns.Exec(nil, cmd, "-i", "/"+f.Path, "--state-dir", "/run/network", "--no-scripts", "-a")
				if err != nil || strings.Contains(errOut, "failed") || strings.Contains(errOut, "RTNETLINK") {
					t.Fatalf("%s -a -i %s: %v\n%s%s", cmd, f.Path, err, out, errOut)
				}
			}
			ifupdown("ifup")
			dsExpect(t, "after ifup", dsLive(t, ns, h), h)
			for _, n := range dsNICs(h) {
				if !n.HasIPv6() {
					continue
				}
				// Router advertisements off wherever IPv6 is static.
				if v := ns.Run(t, "cat", "/proc/sys/net/ipv6/conf/"+n.Name()+"/accept_ra"); strings.TrimSpace(v) != "0" {
					t.Errorf("%s: accept_ra is %q after ifup, want 0", n.Name(), strings.TrimSpace(v))
				}
			}
			ifupdown("ifup") // again: "already configured", nothing changes
			dsExpect(t, "after a second ifup", dsLive(t, ns, h), h)
			ifupdown("ifdown")
			if got := dsLive(t, ns, h); len(got) != 0 {
				t.Errorf("after ifdown, left behind:\n\t%s", strings.Join(got, "\n\t"))
			}
			var links []struct {
				Flags []string `json:"flags"`
			}
			dsIP(t, ns, &links, "link", "show", "dev", h.Primary.Name())
			if len(links) != 1 || !slices.Contains(links[0].Flags, "UP") {
				t.Errorf("after ifdown the primary interface is not up: %+v", links)
			}
		})
	}
}

// dsReplay passes every line of a route-/rule-/route6-/rule6- file to
// ip, as initscripts' ifup-routes (handle_ip_file) does: ip -6 for the
// files whose kind ends in 6.
func dsReplay(t *testing.T, ns *hosttest.Netns, f render.File) {
	t.Helper()
	kind, _, _ := strings.Cut(filepath.Base(f.Path), "-")
	proto, obj := "-4", kind
	if strings.HasSuffix(kind, "6") {
		proto, obj = "-6", strings.TrimSuffix(kind, "6")
	}
	for _, line := range strings.Split(string(f.Data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		ns.Run(t, append([]string{"ip", proto, obj, "add"}, strings.Fields(line)...)...)
	}
}

// TestDualStackIfcfg sources every RHEL ifcfg file with bash, adds the
// IPv6 addresses it names (IPV6ADDR, IPV6ADDR_SECONDARIES) as ifup-ipv6
// does, replays the route/rule files with ip(8) as ifup-routes does, and
// reads the state back. The primary ENI's IPv6 and prefixes have no file
// in this stack (its ifcfg-eth0 is cloud-init's): the apply script's.
func TestDualStackIfcfg(t *testing.T) {
	h := dsHost(schema.StackIfcfg, "centos7")
	files := dsRender(t, h)
	dir := t.TempDir()
	ns := dsNetns(t, h)
	var replay []render.File
	for p, f := range files {
		base := filepath.Base(p)
		if !strings.HasPrefix(p, "etc/sysconfig/network-scripts/") {
			continue
		}
		switch {
		case strings.HasPrefix(base, "ifcfg-"):
			file := filepath.Join(dir, base)
			if err := os.WriteFile(file, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			vars := hosttest.SourceIfcfg(t, file)
			dev, _, alias := strings.Cut(strings.TrimPrefix(base, "ifcfg-"), ":")
			if alias {
				continue
			}
			var n render.NIC
			for _, x := range h.Secondary {
				if x.Name() == dev {
					n = x
				}
			}
			if !n.HasIPv6() {
				if vars["IPV6INIT"] != "no" {
					t.Errorf("%s: IPV6INIT=%q on an IPv4-only ENI", base, vars["IPV6INIT"])
				}
				continue
			}
			if vars["IPV6INIT"] != "yes" || vars["IPV6_AUTOCONF"] != "no" || vars["IPV6_DEFAULTGW"] != "" {
				t.Errorf("%s: IPV6INIT=%q IPV6_AUTOCONF=%q IPV6_DEFAULTGW=%q, want yes, no and none", base, vars["IPV6INIT"], vars["IPV6_AUTOCONF"], vars["IPV6_DEFAULTGW"])
			}
			for _, a := range append([]string{vars["IPV6ADDR"]}, strings.Fields(vars["IPV6ADDR_SECONDARIES"])...) {
				ns.Run(t, "ip", "-6", "addr", "add", a, "dev", dev, "nodad")
			}
		case strings.HasPrefix(base, "route"), strings.HasPrefix(base, "rule"):
			replay = append(replay, f)
		}
	}
	// Routes first, as ifup-routes does (route-, route6-, rule-, rule6-).
	slices.SortFunc(replay, func(a, b render.File) int { return strings.Compare(a.Path, b.Path) })
	for _, f := range replay {
		dsReplay(t, ns, f)
	}
	want := dsSecondaryOnly(h)
	dsExpect(t, "ifcfg files sourced, route and rule files replayed with ip", dsLive(t, ns, want), want)
}

// TestDualStackWicked reads every SUSE file the way wicked does (no line
// skipped, the values bash reads), adds the IPADDR* addresses, replays the
// ifroute (Destination Gateway Netmask Interface Options) and ifrule
// ([ipv4|ipv6] selector action) lines with ip(8), and reads the state
// back: wicked's files carry the primary ENI's IPv6 and prefixes too.
func TestDualStackWicked(t *testing.T) {
	h := dsHost(schema.StackWicked, "sles15")
	files := dsRender(t, h)
	dir := t.TempDir()
	ns := dsNetns(t, h)
	var routes, rules []render.File
	for p, f := range files {
		base := filepath.Base(p)
		if !strings.HasPrefix(p, "etc/sysconfig/network/") {
			continue
		}
		switch {
		case strings.HasPrefix(base, "ifroute-"):
			routes = append(routes, f)
		case strings.HasPrefix(base, "ifrule-"):
			rules = append(rules, f)
		case strings.HasPrefix(base, "ifcfg-"):
			vars, ignored := hosttest.ReadWickedSysconfig(f.Data)
			for _, l := range ignored {
				t.Errorf("%s: wicked skips the line %q", base, l)
			}
			file := filepath.Join(dir, base)
			if err := os.WriteFile(file, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			if bash := hosttest.SourceIfcfg(t, file); fmt.Sprint(vars) != fmt.Sprint(bash) {
				t.Errorf("%s: wicked reads %v, bash %v", base, vars, bash)
			}
			dev := strings.TrimPrefix(base, "ifcfg-")
			for k, v := range vars {
				suffix, ok := strings.CutPrefix(k, "IPADDR")
				if !ok || v == "" || k == "IPADDR" && dev == h.Primary.Name() {
					continue
				}
				args := []string{"ip", "addr", "add", v, "dev", dev}
				if strings.Contains(v, ":") {
					if vars["LABEL"+suffix] != "" {
						t.Errorf("%s: %s has a label; labels are IPv4's", base, k)
					}
					args = append(args, "nodad")
				} else if l := vars["LABEL"+suffix]; l != "" {
					args = append(args, "label", dev+":"+l)
				}
				ns.Run(t, args...)
			}
		}
	}
	for _, f := range routes {
		for _, line := range strings.Split(string(f.Data), "\n") {
			c := strings.Fields(line)
			if len(c) == 0 || strings.HasPrefix(c[0], "#") {
				continue
			}
			if len(c) < 4 || c[2] != "-" {
				t.Errorf("%s: %q: want four columns and no netmask", f.Path, line)
				continue
			}
			args := []string{"ip", "route", "add"}
			opts := c[4:]
			if i := slices.Index(opts, "type"); i >= 0 && i+1 < len(opts) {
				args = append(args, opts[i+1]) // ip(8) takes the type before the prefix
				opts = slices.Delete(slices.Clone(opts), i, i+2)
			}
			dst := c[0]
			if dst == "default" && strings.Contains(c[1], ":") {
				args = append(args[:1], append([]string{"-6"}, args[1:]...)...)
			}
			args = append(args, dst)
			if c[1] != "-" {
				args = append(args, "via", c[1])
			}
			ns.Run(t, append(append(args, "dev", c[3]), opts...)...)
		}
	}
	for _, f := range rules {
		for _, line := range strings.Split(string(f.Data), "\n") {
			c := strings.Fields(line)
			if len(c) == 0 || strings.HasPrefix(c[0], "#") {
				continue
			}
			family := map[string]string{"ipv4": "-4", "ipv6": "-6"}[c[0]]
			if family == "" {
				t.Errorf("%s: %q does not name its family", f.Path, line)
				continue
			}
			ns.Run(t, append([]string{"ip", family, "rule", "add"}, c[1:]...)...)
		}
	}
	dsExpect(t, "addresses, ifroute and ifrule replayed with ip", dsLive(t, ns, h), h)
}

// TestDualStackPrefixesOnlyWhenAsked renders the dual-stack host for every
// configuration-file stack: a prefix the host is not asked to answer for
// (data-b's, a CNI's) appears in no configuration file, one it is asked for
// does, and every IPv6 address and gateway is there.
func TestDualStackPrefixesOnlyWhenAsked(t *testing.T) {
	for _, c := range []struct {
		stack schema.Stack
		os    schema.OS
	}{
		{schema.StackNetworkd, "debian12"}, {schema.StackNetplan, "ubuntu22.04"},
		{schema.StackNetworkManager, "rocky9"}, {schema.StackIfupdown, "debian12"},
		{schema.StackIfcfg, "centos7"}, {schema.StackWicked, "sles15"},
	} {
		t.Run(string(c.stack), func(t *testing.T) {
			h := dsHost(c.stack, c.os)
			var config strings.Builder
			for p, f := range dsRender(t, h) {
				// The configuration files: not the apply script, its
				// boot scripts and units, nor the manifest.
				if strings.HasPrefix(p, "etc/") && !strings.HasPrefix(p, "etc/ecsnet/") && !strings.HasPrefix(p, "etc/systemd/system/") {
					config.Write(f.Data)
				}
			}
			s := config.String()
			if strings.Contains(s, "172.16.2.48") {
				t.Errorf("data-b's prefix 172.16.2.48/28 is configured, though ipv4PrefixesOnHost is not set")
			}
			want := []string{"172.16.1.48/28", "172.16.1.64/28"}
			for _, n := range h.Secondary {
				for _, a := range n.IPv6 {
					want = append(want, a.String())
				}
				if n.HasIPv6() {
					want = append(want, n.IPv6Gateway().String(), n.IPv6Prefix.String())
				}
			}
			if c.stack != schema.StackNetworkManager && c.stack != schema.StackIfcfg {
				// The primary ENI's are in these stacks' files.
				want = append(want, "172.16.0.32/28", h.Primary.IPv6Gateway().String())
				for _, a := range h.Primary.IPv6 {
					want = append(want, a.String())
				}
			}
			for _, w := range want {
				if !strings.Contains(s, w) {
					t.Errorf("%s is in no configuration file", w)
				}
			}
		})
	}
}
