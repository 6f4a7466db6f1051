package render_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// dualOf returns a copy of the example's host h with IPv6 addresses on
// its primary ENI and first secondary ENI and one IPv4 prefix on each that
// the host answers for (ipv4PrefixesOnHost).
func dualOf(t *testing.T, h *render.Host) *render.Host {
	t.Helper()
	if len(h.Secondary) == 0 {
		t.Fatalf("%s has no secondary ENI", h.Name)
	}
	d := *h
	d.Secondary = slices.Clone(h.Secondary)
	v6 := func(n *render.NIC, block string, ids ...string) {
		n.IPv6Prefix = netip.MustParsePrefix(block)
		n.IPv6 = nil
		for _, id := range ids {
			n.IPv6 = append(n.IPv6, netip.MustParseAddr(strings.TrimSuffix(block, "/64")+id))
		}
	}
	v6(&d.Primary, "2408:4005:3aa:1b00::/64", "10", "11")
	v6(&d.Secondary[0], "2408:4005:3aa:1b02::/64", "20", "21")
	// A /28 clear of the NIC's addresses and gateway, from the top of its
	// block down.
	free := func(n render.NIC) netip.Prefix {
		for b := n.Prefix.Addr().As4(); ; {
			b[3] += 16
			p := netip.PrefixFrom(netip.AddrFrom4(b), 28)
			if !n.Prefix.Contains(p.Addr()) {
				t.Fatalf("no free /28 in %s", n.Prefix)
			}
			clear := !p.Contains(n.Address) && !p.Contains(n.Gateway)
			for _, a := range n.Secondary {
				clear = clear && !p.Contains(a)
			}
			if clear {
				return p
			}
		}
	}
	d.Primary.Prefixes, d.Primary.PrefixesOnHost = []netip.Prefix{free(d.Primary)}, true
	d.Secondary[0].Prefixes, d.Secondary[0].PrefixesOnHost = []netip.Prefix{free(d.Secondary[0])}, true
	return &d
}

// live6 is what the namespace has of the IPv6 and prefix configuration.
type live6 struct {
	addrs  map[string][]string // dev -> IPv6 global addresses with their length
	table  []string            // "dst via dev" of the ENI's table, IPv6
	main   []string            // IPv6 default routes of the main table, "via dev"
	rules  []string            // "from table priority", both families, ecsnet's priorities only
	locals []string            // "prefix dev" of table local's IPv4 routes of type local that are prefixes
}

func readLive6(t *testing.T, ns *hosttest.Netns, table string) live6 {
	t.Helper()
	var l live6
	l.addrs = map[string][]string{}
	var ifs []struct {
		Name  string `json:"ifname"`
		Addrs []struct {
			Family, Local, Scope string
			Len                  int `json:"prefixlen"`
		} `json:"addr_info"`
	}
	mustJSON(t, ns.Run(t, "ip", "-6", "-j", "addr", "show"), &ifs)
	for _, i := range ifs {
		for _, a := range i.Addrs {
			if a.Scope == "global" {
				l.addrs[i.Name] = append(l.addrs[i.Name], netip.PrefixFrom(netip.MustParseAddr(a.Local), a.Len).String())
			}
		}
	}
	type route struct {
		Dst, Gateway, Dev, Type string
	}
	var rs []route
	mustJSON(t, ns.Run(t, "ip", "-6", "-j", "route", "show", "table", table), &rs)
	for _, r := range rs {
		l.table = append(l.table, r.Dst+" "+r.Gateway+" "+r.Dev)
	}
	rs = nil
	mustJSON(t, ns.Run(t, "ip", "-6", "-j", "route", "show", "default"), &rs)
	for _, r := range rs {
		l.main = append(l.main, r.Gateway+" "+r.Dev)
	}
	for _, fam := range []string{"-4", "-6"} {
		var rules []struct {
			Priority int
			Src      string
			SrcLen   int `json:"srclen"`
			Table    string
		}
		mustJSON(t, ns.Run(t, "ip", fam, "-j", "rule", "show"), &rules)
		for _, r := range rules {
			if r.Priority >= 1000 && r.Priority < 1100 {
				src := r.Src
				if r.SrcLen != 0 && r.SrcLen != 32 && r.SrcLen != 128 {
					src = netip.PrefixFrom(netip.MustParseAddr(r.Src), r.SrcLen).String()
				}
				l.rules = append(l.rules, src+" "+r.Table)
			}
		}
	}
	rs = nil
	mustJSON(t, ns.Run(t, "ip", "-4", "-j", "route", "show", "table", "local", "type", "local"), &rs)
	for _, r := range rs {
		if strings.Contains(r.Dst, "/") && r.Dev != "lo" {
			l.locals = append(l.locals, r.Dst+" "+r.Dev)
		}
	}
	for _, s := range [][]string{l.table, l.main, l.rules, l.locals} {
		slices.Sort(s)
	}
	for _, v := range l.addrs {
		slices.Sort(v)
	}
	return l
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v in %q", err, s)
	}
}

// want6 is what h's render should leave live.
func want6(h *render.Host) live6 {
	var l live6
	l.addrs = map[string][]string{}
	for _, n := range standin.NICs(h) {
		for _, a := range n.IPv6 {
			l.addrs[n.Name()] = append(l.addrs[n.Name()], netip.PrefixFrom(a, n.IPv6Bits()).String())
		}
		for _, p := range n.HostPrefixes() {
			l.locals = append(l.locals, p.String()+" "+n.Name())
		}
		if n.ENI == "" {
			if n.HasIPv6() {
				l.main = append(l.main, n.IPv6Gateway().String()+" "+n.Name())
			}
			continue
		}
		if n.HasIPv6() {
			l.table = append(l.table, n.IPv6Prefix.String()+"  "+n.Name(), "default "+n.IPv6Gateway().String()+" "+n.Name())
		}
		for _, a := range append(n.AllAddresses(), n.IPv6...) {
			l.rules = append(l.rules, a.String()+" "+itoa(n.Table))
		}
		for _, p := range n.HostPrefixes() {
			l.rules = append(l.rules, p.String()+" "+itoa(n.Table))
		}
	}
	for _, s := range [][]string{l.table, l.main, l.rules, l.locals} {
		slices.Sort(s)
	}
	for _, v := range l.addrs {
		slices.Sort(v)
	}
	return l
}

func itoa(i int) string { return strconv.Itoa(i) }

func expect6(t *testing.T, what string, got, want live6) {
	t.Helper()
	eq := func(a, b []string) bool { return slices.Equal(a, b) || len(a)+len(b) == 0 }
	if len(got.addrs) != len(want.addrs) {
		t.Errorf("%s: IPv6 addresses %v, want %v", what, got.addrs, want.addrs)
	}
	for dev, w := range want.addrs {
		if !eq(got.addrs[dev], w) {
			t.Errorf("%s: IPv6 addresses of %s %v, want %v", what, dev, got.addrs[dev], w)
		}
	}
	for _, c := range []struct {
		name      string
		got, want []string
	}{{"the ENI's IPv6 table", got.table, want.table}, {"main's IPv6 default routes", got.main, want.main},
		{"rules", got.rules, want.rules}, {"local prefix routes", got.locals, want.locals}} {
		if !eq(c.got, c.want) {
			t.Errorf("%s: %s\n got %q\nwant %q", what, c.name, c.got, c.want)
		}
	}
}

// TestRealDualStackIproute2: the iproute2 host's apply script, run for
// real in a namespace wired as the vSwitches are (IPv4 and IPv6 gateways,
// no router advertisements), configures the IPv6 addresses (primary and
// secondary ENI), the secondary ENI's IPv6 block and default route in its
// own table with one ip -6 rule per address, the primary's IPv6 default
// route in the main table, and the IPv4 prefixes as local routes with the
// ENI's rule; source-routed pings to both IPv6 gateways and a ping from
// the wire to an address of the secondary ENI's prefix are answered. A
// second apply changes nothing; verify passes; the boot script restores
// what was lost; then the IPv4-only bundle takes away exactly what the
// script added, and an IPv6 address added by hand stays.
func TestRealDualStackIproute2(t *testing.T) {
	hosttest.RequireRoot(t)
	hosttest.RequireTool(t, "ping")
	base := rtHosts(t, schema.StackIproute2)[0]
	h := dualOf(t, base)
	ns := standin.Netns(t, h)
	standin.Prepare(t, ns, h)
	standin.Wire(t, ns, h)
	standin.Wire6(t, ns, h)
	dir := rtWrite(t, h, standin.Bundle(t, h))
	code, out := rtApply(t, ns, dir)
	t.Logf("apply:\n%s", out)
	if code != 0 {
		t.Fatalf("apply: exit %d", code)
	}
	table := itoa(h.Secondary[0].Table)
	expect6(t, "after apply", readLive6(t, ns, table), want6(h))
	standin.Expect(t, "IPv4 after apply", standin.Live(t, ns), standin.Want(h))
	standin.CheckMain(t, ns, h)

	sec, pri := h.Secondary[0], h.Primary
	for _, p := range []struct{ from, to netip.Addr }{{sec.IPv6[1], sec.IPv6Gateway()}, {pri.IPv6[0], pri.IPv6Gateway()}} {
		if _, errOut, err := ns.Exec(nil, "ping", "-6", "-c", "1", "-W", "3", "-I", p.from.String(), p.to.String()); err != nil {
			t.Errorf("ping -6 -I %s %s: %v %s", p.from, p.to, err, errOut)
		}
	}
	inPrefix := sec.Prefixes[0].Addr().Next().Next()
	if out, err := exec.Command("ip", "netns", "exec", ns.Peer, "ping", "-c", "1", "-W", "3", inPrefix.String()).CombinedOutput(); err != nil {
		t.Errorf("from the wire, ping %s (in %s on %s): %v %s", inPrefix, sec.Prefixes[0], sec.Name(), err, out)
	}

	if code, out := rtApply(t, ns, dir); code != 0 || strings.Contains(out, "added ") || strings.Contains(out, "removed ") {
		t.Errorf("a second apply changed something: exit %d\n%s", code, out)
	}
	if code, out := rtApply(t, ns, dir, "verify"); code != 0 {
		t.Errorf("verify: exit %d\n%s", code, out)
	}

	// Lost at run time: the boot script puts it back.
	ns.Run(t, "ip", "-6", "addr", "del", netip.PrefixFrom(sec.IPv6[0], 64).String(), "dev", sec.Name())
	ns.Run(t, "ip", "-6", "route", "del", "default", "via", pri.IPv6Gateway().String(), "dev", pri.Name())
	ns.Run(t, "ip", "-4", "route", "del", "local", sec.Prefixes[0].String(), "dev", sec.Name(), "table", "local")
	if code, out := rtApply(t, ns, dir, "verify"); code != 4 {
		t.Errorf("verify with an IPv6 address, the IPv6 default route and a prefix gone: exit %d, want 4\n%s", code, out)
	}
	if out, errOut, err := ns.Exec(nil, "/bin/bash", "/etc/ecsnet/"+h.Fleet+"/ecsnet-ip.sh", "up"); err != nil {
		t.Fatalf("boot script: %v\n%s%s", err, out, errOut)
	}
	expect6(t, "after the boot script", readLive6(t, ns, table), want6(h))

	// Back to IPv4 only: what the script added goes, an address added by
	// hand stays.
	byHand := netip.MustParsePrefix("2408:4005:3aa:1b02::99/64")
	ns.Run(t, "ip", "-6", "addr", "add", byHand.String(), "dev", sec.Name(), "nodad")
	code, out = rtApply(t, ns, rtWrite(t, base, standin.Bundle(t, base)))
	t.Logf("apply of the IPv4-only bundle:\n%s", out)
	if code != 0 {
		t.Fatalf("apply of the IPv4-only bundle: exit %d", code)
	}
	want := want6(base)
	want.addrs = map[string][]string{sec.Name(): {byHand.String()}}
	expect6(t, "after the IPv4-only apply", readLive6(t, ns, table), want)
	standin.Expect(t, "IPv4 after the IPv4-only apply", standin.Live(t, ns), standin.Want(base))
}

// TestRealDualStackNMPrimary: on NetworkManager the primary ENI's profile
// is cloud-init's (a stand-in here, IPv6 method ignore). The apply script
// adds the primary's IPv6 addresses to that profile (method switched to
// manual, ipv6.gateway the vSwitch's IPv6 gateway) and live, with the
// IPv6 default route in main and the local route of its prefix; the
// secondary ENI's IPv6 comes from its keyfile. A second apply changes
// nothing; the IPv4-only bundle takes the primary's IPv6 addresses out of
// the profile again.
func TestRealDualStackNMPrimary(t *testing.T) {
	hosttest.RequireRoot(t)
	base := rtHosts(t, schema.StackNetworkManager)[0]
	h := dualOf(t, base)
	// The secondary ENI's prefixes are its keyfile's business (another
	// test's); here only the primary's.
	h.Secondary[0].PrefixesOnHost = false
	ns := standin.Netns(t, h)
	p := h.Primary
	ns.WriteFile(t, "/etc/NetworkManager/system-connections/cloud-init-"+p.Name()+".nmconnection", []byte(
		"[connection]\nid=cloud-init "+p.Name()+"\nuuid=1dd9a779-d327-56e1-8454-c65e2556c12c\ntype=ethernet\ninterface-name="+p.Name()+"\n\n"+
			"[ipv4]\nmethod=manual\naddress1="+netip.PrefixFrom(p.Address, p.Bits()).String()+","+p.Gateway.String()+"\n\n[ipv6]\nmethod=ignore\n"), 0o600)
	d := ns.StartNetworkManager(t)
	run := func(dir string) (int, string) {
		out, errOut, err := d.Exec(nil, "/bin/bash", filepath.Join(dir, render.ScriptName))
		code := 0
		var ee interface{ ExitCode() int }
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out + errOut
	}
	dir := rtWrite(t, h, standin.Bundle(t, h))
	code, out := run(dir)
	t.Logf("apply:\n%s", out)
	if code != 0 {
		t.Fatalf("apply: exit %d\nNetworkManager:\n%s", code, d.Log())
	}
	table := itoa(h.Secondary[0].Table)
	expect6(t, "after apply", readLive6(t, ns, table), want6(h))
	prof, _, err := d.Exec(nil, "nmcli", "-g", "ipv6.method,ipv6.addresses,ipv6.gateway", "connection", "show", "uuid", "1dd9a779-d327-56e1-8454-c65e2556c12c")
	if err != nil {
		t.Fatal(err)
	}
	prof = strings.ReplaceAll(prof, `\:`, ":")
	for _, want := range []string{"manual", netip.PrefixFrom(p.IPv6[0], 64).String(), netip.PrefixFrom(p.IPv6[1], 64).String(), p.IPv6Gateway().String()} {
		if !strings.Contains(prof, want) {
			t.Errorf("the primary's profile lacks %s:\n%s", want, prof)
		}
	}
	if code, out := run(dir); code != 0 || strings.Contains(out, "added ") || strings.Contains(out, "removed ") {
		t.Errorf("a second apply changed something: exit %d\n%s", code, out)
	}
	code, out = run(rtWrite(t, base, standin.Bundle(t, base)))
	t.Logf("apply of the IPv4-only bundle:\n%s", out)
	if code != 0 {
		t.Fatalf("apply of the IPv4-only bundle: exit %d", code)
	}
	expect6(t, "after the IPv4-only apply", readLive6(t, ns, table), want6(base))
	prof, _, _ = d.Exec(nil, "nmcli", "-g", "ipv6.addresses", "connection", "show", "uuid", "1dd9a779-d327-56e1-8454-c65e2556c12c")
	if strings.TrimSpace(prof) != "" {
		t.Errorf("the primary's profile keeps IPv6 addresses: %s", prof)
	}
}

// TestRealReconcileDepartedIPv6: at boot, the reconcile removes what
// ecsnet configured for a dual-stack ENI that is no longer attached: its
// ip -6 rules and the rule of its prefix as well as its IPv4 rules, and
// every line of it in the state record (addresses of both families, rules,
// table, local routes). Before, its IPv6 rules stayed and sent traffic
// from those addresses to an empty table.
func TestRealReconcileDepartedIPv6(t *testing.T) {
	hosttest.RequireRoot(t)
	hosttest.RequireTool(t, "curl")
	hosttest.RequireTool(t, "python3")
	h := dualOf(t, rtHosts(t, schema.StackIproute2)[0])
	gone := h.Secondary[0]
	files := standin.Bundle(t, h)
	ns, err := hosttest.Create(h.Name, pbRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	var state strings.Builder
	state.WriteString("# What ecsnet added (test stand-in).\n")
	from := []string{}
	for _, a := range gone.AllAddresses() {
		fmt.Fprintf(&state, "addr %s %s/%d\n", gone.MAC, a, gone.Bits())
		from = append(from, a.String())
	}
	for _, a := range gone.IPv6 {
		fmt.Fprintf(&state, "addr %s %s/%d\n", gone.MAC, a, gone.IPv6Bits())
		from = append(from, a.String())
	}
	for _, p := range gone.HostPrefixes() {
		from = append(from, p.String())
		fmt.Fprintf(&state, "local %s %s\n", gone.MAC, p)
	}
	for _, f := range from {
		fmt.Fprintf(&state, "rule %s %d %d\n", f, gone.Table, gone.Priority)
	}
	fmt.Fprintf(&state, "table %d\n", gone.Table)
	for _, f := range files {
		if strings.HasPrefix(f.Path, "etc/") {
			ns.WriteFile(t, "/"+f.Path, f.Data, f.Mode)
			fmt.Fprintf(&state, "file %s\n", f.Path)
		}
	}
	ns.WriteFile(t, "/var/lib/ecsnet/"+h.Fleet+"/state", []byte(state.String()), 0o644)
	if err := ns.AddLink(h.Primary.Name(), h.Primary.MAC); err != nil {
		t.Fatal(err)
	}
	// The rules as the last boot left them; the ENI's NIC is gone.
	for _, f := range from {
		fam := "-4"
		if strings.Contains(f, ":") {
			fam = "-6"
		}
		ns.Run(t, "ip", fam, "rule", "add", "from", f, "table", itoa(gone.Table), "priority", itoa(gone.Priority))
	}
	startMetaStandIn(t, ns, h.Primary.MAC+"/\n", "/")
	out, errOut, err := ns.Exec(nil, "env", "ECSNET_METADATA_URL=http://127.0.0.1:8780", "RECONCILE_GRACE=1",
		"/bin/bash", "/etc/ecsnet/"+h.Fleet+"/ecsnet-reconcile.sh")
	t.Logf("reconcile:\n%s%s", out, errOut)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	for _, fam := range []string{"-4", "-6"} {
		if rules := ns.Run(t, "ip", fam, "rule", "show", "priority", itoa(gone.Priority)); strings.TrimSpace(rules) != "" {
			t.Errorf("ip %s rule still has the departed ENI's rules:\n%s", fam, rules)
		}
	}
	st, _ := ns.ReadFile(t, "/var/lib/ecsnet/"+h.Fleet+"/state")
	if strings.Contains(st, gone.MAC) || strings.Contains(st, " "+itoa(gone.Table)+" ") || strings.Contains(st, "table "+itoa(gone.Table)+"\n") {
		t.Errorf("the state record still has %s:\n%s", gone.ENI, st)
	}
}
