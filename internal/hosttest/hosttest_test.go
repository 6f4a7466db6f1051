package hosttest

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/ecsnet/ecsnet/internal/golden"
)

// recorder is a testing.TB whose Fatal and Skip end only the goroutine
// they run on, so the helpers' failure paths can be tested.
type recorder struct {
	testing.TB
	mu      sync.Mutex
	failed  bool
	skipped bool
	msg     string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(f string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed, r.msg = true, r.msg+fmt.Sprintf(f, a...)+"\n"
}
func (r *recorder) Fatalf(f string, a ...any) { r.Errorf(f, a...); runtime.Goexit() }
func (r *recorder) Fatal(a ...any)            { r.Errorf("%s", fmt.Sprint(a...)); runtime.Goexit() }
func (r *recorder) Skipf(f string, a ...any) {
	r.mu.Lock()
	r.skipped, r.msg = true, fmt.Sprintf(f, a...)
	r.mu.Unlock()
	runtime.Goexit()
}

// record runs f with a recorder in its own goroutine.
func record(t *testing.T, f func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); f(r) }()
	wg.Wait()
	return r
}

func TestMissingToolSkipsOrFails(t *testing.T) {
	t.Setenv(StrictEnv, "")
	r := record(t, func(tb testing.TB) { RequireTool(tb, "ecsnet-no-such-tool") })
	if !r.skipped || r.failed || !strings.Contains(r.msg, "ecsnet-no-such-tool") || !strings.Contains(r.msg, "install.sh") {
		t.Errorf("without %s: skipped=%v failed=%v msg=%q; want a skip naming the tool and install.sh", StrictEnv, r.skipped, r.failed, r.msg)
	}
	t.Setenv(StrictEnv, "1")
	r = record(t, func(tb testing.TB) { RequireTool(tb, "ecsnet-no-such-tool") })
	if r.skipped || !r.failed || !strings.Contains(r.msg, StrictEnv) {
		t.Errorf("with %s=1: skipped=%v failed=%v msg=%q; want a failure", StrictEnv, r.skipped, r.failed, r.msg)
	}
}

func TestParseIPJSON(t *testing.T) {
	addrs, err := ParseAddrs([]byte(`[{"ifindex":1,"ifname":"lo","link_type":"loopback","address":"00:00:00:00:00:00","addr_info":[]},
{"ifindex":2,"ifname":"eth1","address":"00:16:3E:00:00:02","addr_info":[
 {"family":"inet","local":"10.99.1.20","prefixlen":24,"scope":"global","label":"eth1"},
 {"family":"inet","local":"10.99.1.21","prefixlen":24,"scope":"global","secondary":true,"label":"eth1:0"},
 {"family":"inet6","local":"fe80::216:3eff:fe00:2","prefixlen":64,"scope":"link"}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Addr{
		{Dev: "eth1", MAC: "00:16:3e:00:00:02", Prefix: netip.MustParsePrefix("10.99.1.20/24"), Label: "eth1"},
		{Dev: "eth1", MAC: "00:16:3e:00:00:02", Prefix: netip.MustParsePrefix("10.99.1.21/24"), Label: "eth1:0", Secondary: true},
	}
	if !slices.Equal(addrs, want) {
		t.Errorf("ParseAddrs = %+v, want %+v", addrs, want)
	}

	rules, err := ParseRules([]byte(`[{"priority":0,"src":"all","table":"local"},{"priority":900,"src":"10.99.1.0","srclen":24,"table":"main"},
{"priority":1001,"src":"10.99.1.20","table":"1001"},{"priority":1002,"src":"all","iif":"eth1","table":"7"},
{"priority":32766,"src":"all","table":"main"},{"priority":32767,"src":"all","table":"default"}]`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rules {
		if !r.Default() {
			got = append(got, r.String())
		}
	}
	wantRules := []string{"900: from 10.99.1.0/24 lookup main", "1001: from 10.99.1.20 lookup 1001", "1002: from all lookup 7 iif=eth1"}
	if !slices.Equal(got, wantRules) {
		t.Errorf("rules = %q, want %q", got, wantRules)
	}

	routes, err := ParseRoutes([]byte(`[{"dst":"default","gateway":"10.99.1.253","dev":"eth1","flags":[]},
{"dst":"10.99.1.0/24","dev":"eth1","scope":"link","flags":[]},
{"type":"local","dst":"10.99.1.20","dev":"eth1","table":"local","protocol":"kernel","scope":"host"}]`), "1001")
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, r := range routes {
		got = append(got, r.String())
	}
	wantRoutes := []string{"1001 default via 10.99.1.253 dev eth1", "1001 10.99.1.0/24 dev eth1"}
	if !slices.Equal(got, wantRoutes) {
		t.Errorf("routes = %q, want %q", got, wantRoutes)
	}
}

func TestReadWickedSysconfig(t *testing.T) {
	src := "# comment\n" +
		"BOOTPROTO='dhcp'\n" +
		"  STARTMODE=auto\n" +
		"IPADDR_1='172.16.0.11/24'\n" +
		"NAME=\"a b\"\n" +
		"LABEL_2=x y\n" +
		"IPADDR_0 = 172.16.0.10\n" + // E8: spaces round '=' are skipped
		"IPADDR-3='1.2.3.4/24'\n" +
		"1PADDR='1.2.3.4/24'\n" +
		"BROKEN='unterminated\n" +
		"\n" +
		"LAST=1" // no newline: wicked's fgets loop drops it
	vars, ignored := ReadWickedSysconfig([]byte(src))
	want := map[string]string{"BOOTPROTO": "dhcp", "STARTMODE": "auto", "IPADDR_1": "172.16.0.11/24", "NAME": "a b", "LABEL_2": "x"}
	if fmt.Sprint(vars) != fmt.Sprint(want) {
		t.Errorf("vars = %v, want %v", vars, want)
	}
	wantIgnored := []string{"IPADDR_0 = 172.16.0.10", "IPADDR-3='1.2.3.4/24'", "1PADDR='1.2.3.4/24'", "BROKEN='unterminated", "LAST=1"}
	if !slices.Equal(ignored, wantIgnored) {
		t.Errorf("ignored = %q, want %q", ignored, wantIgnored)
	}
}

func TestNMLost(t *testing.T) {
	in := []byte(`[connection]
id=x
[ethernet]
mac-address=00:16:3e:00:00:02
[ipv4]
method=manual
address1=10.0.0.1/24
address2=10.0.0.300/24
route1=0.0.0.0/0,10.0.0.253
route1_options=table=1001
routing-rule1=priority 1001 from 10.0.0.1/32 table 1001
bogus=1
`)
	out := []byte(`[connection]
id=x
[ethernet]
mac-address=00:16:3E:00:00:02
[ipv4]
address1=10.0.0.1/24
method=manual
route1=0.0.0.0/0,10.0.0.253
route1_options=table=1001
routing-rule1=priority 1001 from 10.0.0.1 table 1001
`)
	got := NMLost(in, out)
	want := []string{"[ipv4] address 10.0.0.300/24", "[ipv4] bogus=1: dropped"}
	if !slices.Equal(got, want) {
		t.Errorf("NMLost = %q, want %q", got, want)
	}
}

func TestNMOfflineRoundTrip(t *testing.T) {
	RequireTool(t, "nmcli")
	good := []byte(`[connection]
id=ecsnet-eth1
uuid=6f1d2c3a-1111-4222-8333-444455556666
type=ethernet

[ethernet]
mac-address=00:16:3e:00:00:02

[ipv4]
method=manual
address1=10.99.1.20/24
address2=10.99.1.21/24
never-default=true
route1=0.0.0.0/0,10.99.1.253
route1_options=table=1001
routing-rule1=priority 1001 from 10.99.1.20 table 1001

[ipv6]
method=ignore
`)
	out := NMOfflineRoundTrip(t, good)
	if lost := NMLost(good, out); len(lost) > 0 {
		t.Errorf("nmcli dropped %q from a valid keyfile:\n%s", lost, out)
	}
	bad := []byte(strings.Replace(string(good), "address2=10.99.1.21/24", "address2=10.99.1.300/24", 1))
	out = NMOfflineRoundTrip(t, bad)
	if lost := NMLost(bad, out); !slices.Equal(lost, []string{"[ipv4] address 10.99.1.300/24"}) {
		t.Errorf("NMLost after nmcli = %q; want the invalid address reported", lost)
	}
}

func TestSourceIfcfg(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "ifcfg-eth0:0")
	os.WriteFile(good, []byte("DEVICE=eth0:0\nIPADDR=172.16.0.11\nPREFIX=24\nNAME='a b'\n"), 0o644)
	vars := SourceIfcfg(t, good)
	want := map[string]string{"DEVICE": "eth0:0", "IPADDR": "172.16.0.11", "PREFIX": "24", "NAME": "a b"}
	if fmt.Sprint(vars) != fmt.Sprint(want) {
		t.Errorf("SourceIfcfg = %v, want %v", vars, want)
	}
	bad := filepath.Join(dir, "ifcfg-eth0:1")
	os.WriteFile(bad, []byte("DEVICE=eth0:1\nIPADDR = 172.16.0.12\n"), 0o644) // E1
	r := record(t, func(tb testing.TB) { SourceIfcfg(tb, bad) })
	if !r.failed || !strings.Contains(r.msg, "IPADDR") {
		t.Errorf("SourceIfcfg of a spaced assignment: failed=%v msg=%q; want a failure naming IPADDR", r.failed, r.msg)
	}
	evil := filepath.Join(dir, "ifcfg-evil")
	os.WriteFile(evil, []byte("NAME=$(touch "+filepath.Join(dir, "pwned")+")\n"), 0o644)
	record(t, func(tb testing.TB) { SourceIfcfg(tb, evil) })
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("sourcing ran a command substitution")
	}
}

func TestPowerShellParse(t *testing.T) {
	good := []byte("$ErrorActionPreference = 'Stop'\n$mac = '00-16-3E-0A-0B-0C'\n" +
		"$nic = @(Get-NetAdapter | Where-Object { $_.MacAddress -eq $mac })\n" +
		"if ($nic.Count -ne 1) { throw \"expected 1 adapter with MAC $mac, got $($nic.Count)\" }\n")
	bad := []byte("function f {\n  if ($a) {\n    1\n}\n")
	probs := PowerShellParse(t, good, bad)
	if len(probs[0]) != 0 {
		t.Errorf("valid script: %v", probs[0])
	}
	if len(probs[1]) == 0 {
		t.Error("unclosed brace: no problem reported")
	}
	PowerShellSyntax(t, good)
}

// TestNetnsIsolation proves the harness itself: links with the ENI's MAC,
// readback, and private /etc, /var and /run that survive from one command
// to the next but never reach the machine.
func TestNetnsIsolation(t *testing.T) {
	ns := NewNetns(t, "iso")
	if err := ns.AddLink("eth0", "00:16:3e:aa:bb:01"); err != nil {
		t.Fatal(err)
	}
	if err := ns.AddLink("eth1", "00:16:3e:aa:bb:02"); err != nil {
		t.Fatal(err)
	}
	ns.SetDHCPAddress(t, "eth0", netip.MustParsePrefix("10.99.0.10/24"), netip.MustParseAddr("10.99.0.253"))
	ns.Run(t, "ip", "addr", "add", "10.99.1.20/24", "dev", "eth1")
	ns.Run(t, "ip", "route", "add", "default", "via", "10.99.1.253", "dev", "eth1", "table", "1001")
	ns.Run(t, "ip", "rule", "add", "from", "10.99.1.20", "lookup", "1001", "priority", "1001")

	var addrs []string
	for _, a := range ns.Addrs(t) {
		addrs = append(addrs, a.String()+" "+a.MAC)
	}
	wantAddrs := []string{"eth0 10.99.0.10/24 00:16:3e:aa:bb:01", "eth1 10.99.1.20/24 00:16:3e:aa:bb:02"}
	if !slices.Equal(addrs, wantAddrs) {
		t.Errorf("addrs = %q, want %q", addrs, wantAddrs)
	}
	var rules []string
	for _, r := range ns.Rules(t) {
		if !r.Default() {
			rules = append(rules, r.String())
		}
	}
	if !slices.Equal(rules, []string{"1001: from 10.99.1.20 lookup 1001"}) {
		t.Errorf("rules = %q", rules)
	}
	var main []string
	for _, r := range ns.Routes(t, "main") {
		main = append(main, r.String()+" "+r.Protocol)
	}
	if !slices.Contains(main, "main default via 10.99.0.253 dev eth0 dhcp") || slices.Contains(main, "main default via 10.99.1.253 dev eth1 ") {
		t.Errorf("main table = %q", main)
	}

	// The private tree: writes persist inside, the machine sees none.
	ns.WriteFile(t, "/etc/network/interfaces.d/99-hosttest", []byte("# test\n"), 0o644)
	ns.Run(t, "sh", "-c", "mkdir -p /var/lib/ecsnet/hosttest && echo x > /var/lib/ecsnet/hosttest/state && echo y > /run/hosttest")
	if got, ok := ns.ReadFile(t, "/var/lib/ecsnet/hosttest/state"); !ok || got != "x\n" {
		t.Errorf("state file inside = %q, %v", got, ok)
	}
	if _, ok := ns.ReadFile(t, "/run/hosttest"); !ok {
		t.Error("/run does not persist between commands")
	}
	for _, p := range []string{"/etc/network/interfaces.d/99-hosttest", "/var/lib/ecsnet/hosttest", "/run/hosttest"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s reached the machine", p)
		}
	}
	if _, ok := ns.ReadFile(t, "/run/netns"); ok {
		t.Error("the machine's /run shows through")
	}
	// Interfaces as seen through /sys inside (scripts find NICs by MAC).
	if got := ns.Run(t, "cat", "/sys/class/net/eth1/address"); got != "00:16:3e:aa:bb:02\n" {
		t.Errorf("/sys/class/net/eth1/address = %q", got)
	}
	if err := ns.DelLink("eth1"); err != nil {
		t.Fatal(err)
	}
	if rs := ns.Routes(t, "1001"); len(rs) != 0 {
		t.Errorf("table 1001 after the link went: %v", rs)
	}
}

// TestIfupdownInNetns runs ifupdown on a hand-written alias file: the
// recipe of host-config.md §7a that render's tests use.
func TestIfupdownInNetns(t *testing.T) {
	ns := NewNetns(t, "ifup")
	RequireTool(t, "ifup")
	if err := ns.AddLink("eth0", "00:16:3e:aa:bb:01"); err != nil {
		t.Fatal(err)
	}
	ns.SetDHCPAddress(t, "eth0", netip.MustParsePrefix("10.99.0.10/24"), netip.MustParseAddr("10.99.0.253"))
	file := "/etc/network/interfaces.d/60-test"
	ns.WriteFile(t, file, []byte("auto eth0:0\niface eth0:0 inet static\n\taddress 10.99.0.11/24\n"), 0o644)
	ns.Run(t, "ifup", "-i", file, "--state-dir", "/run/network", "--no-scripts", "-a")
	var got []string
	for _, a := range ns.Addrs(t) {
		got = append(got, a.String()+" "+a.Label)
	}
	want := []string{"eth0 10.99.0.10/24 eth0", "eth0 10.99.0.11/24 eth0:0"}
	if !slices.Equal(got, want) {
		t.Errorf("after ifup: %q, want %q", got, want)
	}
	ns.Run(t, "ifdown", "-i", file, "--state-dir", "/run/network", "--no-scripts", "-a")
	got = nil
	for _, a := range ns.Addrs(t) {
		got = append(got, a.String())
	}
	if !slices.Equal(got, []string{"eth0 10.99.0.10/24"}) {
		t.Errorf("after ifdown: %q", got)
	}
}

func TestNetplanGenerate(t *testing.T) {
	RequireTool(t, "netplan")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/netplan"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/netplan/60-test.yaml"), []byte(`network:
  version: 2
  ethernets:
    eth1:
      match: {macaddress: "00:16:3e:aa:bb:02"}
      set-name: eth1
      addresses: [10.99.1.20/24]
      routes:
        - {to: default, via: 10.99.1.253, table: 1001}
      routing-policy:
        - {from: 10.99.1.20, table: 1001, priority: 1001}
`), 0o600)
	files, warn := NetplanGenerate(t, root)
	nw := files["run/systemd/network/10-netplan-eth1.network"]
	for _, s := range []string{"Address=10.99.1.20/24", "Table=1001", "[RoutingPolicyRule]", "Priority=1001"} {
		if !strings.Contains(nw, s) {
			t.Errorf("generated .network lacks %q:\n%s", s, nw)
		}
	}
	if warn != "" {
		t.Errorf("warnings: %s", warn)
	}
}

func TestNetConvert(t *testing.T) {
	RequireRoot(t)
	RequireTool(t, "cloud-init")
	files := NetConvert(t, []byte(`network:
  version: 2
  ethernets:
    eth0:
      match: {macaddress: "00:16:3e:aa:bb:01"}
      set-name: eth0
      dhcp4: true
      addresses: [10.99.0.11/24]
`), "debian", "eni")
	eni := files["etc/network/interfaces.d/50-cloud-init"]
	if !strings.Contains(eni, "address 10.99.0.11/24") {
		t.Errorf("net-convert eni output lacks the address: %v", files)
	}
}

// TestNetworkdInNetns runs systemd-networkd on a .network file with
// addresses, a table route and a rule.
func TestNetworkdInNetns(t *testing.T) {
	ns := NewNetns(t, "nwd")
	if err := ns.AddLink("eth1", "00:16:3e:aa:bb:02"); err != nil {
		t.Fatal(err)
	}
	ns.WriteFile(t, "/etc/systemd/network/10-eth1.network", []byte(`[Match]
MACAddress=00:16:3e:aa:bb:02

[Network]
Address=10.99.1.20/24
Address=10.99.1.21/24

[Route]
Gateway=10.99.1.253
Table=1001

[RoutingPolicyRule]
From=10.99.1.21
Table=1001
Priority=1001
`), 0o644)
	stop, log := ns.StartNetworkd(t)
	want := "eth1 10.99.1.20/24 eth1 10.99.1.21/24 | 1001: from 10.99.1.21 lookup 1001 | 1001 default via 10.99.1.253 dev eth1"
	state := func() string {
		var a, r, rt []string
		for _, x := range ns.Addrs(t) {
			a = append(a, x.String())
		}
		for _, x := range ns.Rules(t) {
			if !x.Default() {
				r = append(r, x.String())
			}
		}
		for _, x := range ns.Routes(t, "1001") {
			rt = append(rt, x.String())
		}
		return strings.Join(a, " ") + " | " + strings.Join(r, " ") + " | " + strings.Join(rt, " ")
	}
	if !WaitFor(10*time.Second, func() bool { return state() == want }) {
		t.Errorf("networkd configured %q, want %q\nlog:\n%s", state(), want, log())
	}
	stop()
	if got := state(); got != want {
		t.Errorf("after networkd stopped: %q", got)
	}
}
