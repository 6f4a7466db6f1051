package render

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

func TestIproute2Files(t *testing.T) {
	h := testHosts(schema.StackIproute2, "linux")["full"]
	files := render(t, h)
	boot, unit := files["etc/ecsnet/shop-prod/ecsnet-ip.sh"], files["etc/systemd/system/ecsnet-shop-prod.service"]
	if boot.Mode != 0o755 || unit.Mode != 0o644 {
		t.Errorf("modes %o %o", boot.Mode, unit.Mode)
	}
	if !strings.Contains(string(unit.Data), "\nExecStart=/etc/ecsnet/shop-prod/ecsnet-ip.sh up\n") ||
		!strings.Contains(string(unit.Data), "\nWantedBy=multi-user.target\n") {
		t.Errorf("unit:\n%s", unit.Data)
	}
	sc := string(files[ScriptName].Data)
	if !strings.Contains(sc, "'etc/systemd/system/multi-user.target.wants/ecsnet-shop-prod.service'") {
		t.Error("the apply script does not own the unit's enabling symlink")
	}
	if !strings.Contains(string(boot.Data), `ECSNET_CMD="${1:-up}"`) {
		t.Error("the boot script does not default to up")
	}
}

// TestApplyScriptInNamespace runs the generic bundle's apply script in a
// network namespace whose veths carry the ENIs' MACs, with ROOT at a
// scratch tree: it must add everything, change nothing the second time,
// remove what a smaller bundle drops (converging both ways), and verify.
// It exercises the library every Linux apply script shares.
func TestApplyScriptInNamespace(t *testing.T) {
	bash := lookTool(t, "bash")
	ipPath := lookTool(t, "ip")
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	ns := fmt.Sprintf("ecsnet-test-%d", os.Getpid())
	ip := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(ipPath, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out, err := exec.Command(ipPath, "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command(ipPath, "netns", "del", ns).Run()
		exec.Command(ipPath, "netns", "del", ns+"-p").Run()
	})
	ip("netns", "add", ns+"-p")
	h := testHosts(schema.StackIproute2, "linux")["full"]
	for i, n := range append([]NIC{h.Primary}, h.Secondary...) {
		ip("link", "add", n.Name(), "netns", ns, "address", n.MAC, "type", "veth", "peer", "name", fmt.Sprintf("p%d", i), "netns", ns+"-p")
		ip("-n", ns, "link", "set", n.Name(), "up")
	}
	ip("-n", ns, "addr", "add", cidr(h.Primary.Address, h.Primary.Bits()), "dev", "eth0") // as DHCP would
	root := t.TempDir()
	apply := func(h *Host, args ...string) (int, string) {
		t.Helper()
		dir := t.TempDir()
		files, err := ForHost(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteHost(dir, "b", files); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(ipPath, append([]string{"netns", "exec", ns, "env", "ROOT=" + root, bash, filepath.Join(dir, "b", ScriptName)}, args...)...)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	type addrInfo struct {
		Ifname   string `json:"ifname"`
		AddrInfo []struct {
			Family string `json:"family"`
			Local  string `json:"local"`
			Prefix int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	live := func() (addrs, rules []string) {
		var links []addrInfo
		if err := json.Unmarshal([]byte(ip("-n", ns, "-j", "addr")), &links); err != nil {
			t.Fatal(err)
		}
		for _, l := range links {
			for _, a := range l.AddrInfo {
				if a.Family == "inet" && l.Ifname != "lo" {
					addrs = append(addrs, fmt.Sprintf("%s %s/%d", l.Ifname, a.Local, a.Prefix))
				}
			}
		}
		for _, l := range strings.Split(strings.TrimSpace(ip("-n", ns, "-4", "rule")), "\n") {
			if !strings.Contains(l, "lookup local") && !strings.Contains(l, "lookup main") && !strings.Contains(l, "lookup default") {
				rules = append(rules, strings.Join(strings.Fields(l), " "))
			}
		}
		slices.Sort(addrs)
		slices.Sort(rules)
		return addrs, rules
	}
	want := func(h *Host) (addrs, rules []string) {
		addrs = append(addrs, "eth0 "+cidr(h.Primary.Address, 24))
		for _, a := range h.Primary.Secondary {
			addrs = append(addrs, "eth0 "+cidr(a, 24))
		}
		for _, n := range h.Secondary {
			for _, a := range n.AllAddresses() {
				addrs = append(addrs, n.Name()+" "+cidr(a, 24))
				rules = append(rules, fmt.Sprintf("%d: from %s lookup %d", n.Priority, a, n.Table))
			}
		}
		slices.Sort(addrs)
		slices.Sort(rules)
		return addrs, rules
	}
	check := func(h *Host) {
		t.Helper()
		ga, gr := live()
		wa, wr := want(h)
		if !slices.Equal(ga, wa) || !slices.Equal(gr, wr) {
			t.Fatalf("live state:\n%s\n%s\nwant:\n%s\n%s", strings.Join(ga, "\n"), strings.Join(gr, "\n"), strings.Join(wa, "\n"), strings.Join(wr, "\n"))
		}
		for _, n := range h.Secondary {
			routes := ip("-n", ns, "-4", "route", "show", "table", fmt.Sprint(n.Table))
			if !strings.Contains(routes, "default via "+n.Gateway.String()+" dev "+n.Name()) || !strings.Contains(routes, n.Prefix.String()+" dev "+n.Name()) {
				t.Fatalf("table %d:\n%s", n.Table, routes)
			}
		}
		if main := ip("-n", ns, "-4", "route", "show", "default"); main != "" {
			t.Fatalf("a default route in the main table: %s", main)
		}
	}

	if code, out := apply(h); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	check(h)
	if code, out := apply(h); code != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("second apply: exit %d, want one line:\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/ecsnet-shop-prod.service")); err != nil {
		t.Errorf("the unit is not enabled: %v", err)
	}

	// A smaller bundle: one address less on each ENI, one ENI gone.
	small := testHosts(schema.StackIproute2, "linux")["full"]
	small.Primary.Secondary = small.Primary.Secondary[:1]
	small.Secondary = small.Secondary[:1]
	small.Secondary[0].Secondary = small.Secondary[0].Secondary[1:]
	if code, out := apply(small); code != 0 {
		t.Fatalf("apply of the smaller bundle: exit %d\n%s", code, out)
	}
	check(small)
	if routes := ip("-n", ns, "-4", "route", "show", "table", "1003"); routes != "" {
		t.Errorf("the dropped ENI's table was not flushed:\n%s", routes)
	}
	if code, out := apply(small, "verify"); code != 0 {
		t.Errorf("verify: exit %d\n%s", code, out)
	}
	ip("-n", ns, "addr", "del", cidr(small.Secondary[0].Secondary[0], 24), "dev", "eth1")
	if code, out := apply(small, "verify"); code != 4 || !strings.Contains(out, "is not on eth1") {
		t.Errorf("verify after a hand change: exit %d\n%s", code, out)
	}
	if code, out := apply(small); code != 0 {
		t.Fatalf("repair: exit %d\n%s", code, out)
	}
	check(small)

	// A bundle for another host refuses before changing anything.
	other := testHosts(schema.StackIproute2, "linux")["full"]
	other.Secondary[0].MAC = "00:16:3e:77:77:77"
	if code, out := apply(other); code != 3 || !strings.Contains(out, "no interface has MAC 00:16:3e:77:77:77") {
		t.Errorf("a missing ENI: exit %d\n%s", code, out)
	}
	check(small)
}
