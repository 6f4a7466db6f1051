package render

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

var ifcfgLine = regexp.MustCompile(`^[A-Z][A-Z0-9_]*=[^ \t'"$` + "`" + `\\;&|<>()]*$`)

// TestIfcfgErrata checks the seed document's RHEL mistakes never appear:
// spaces round '=' (E1), GATEWAY or noise in alias files (E2, E3), a
// DEVICE that is not the file's suffix (E4), and a secondary ENI's
// gateway in the main table (E15).
func TestIfcfgErrata(t *testing.T) {
	for name, h := range testHosts(schema.StackIfcfg, "centos7") {
		files := render(t, h)
		aliases := 0
		for p, f := range files {
			base := filepath.Base(p)
			if p == ScriptName || p == ManifestName || p == reconcilePath(h) || p == "etc/systemd/system/"+reconcileUnitName(h) {
				continue // scripts, and the boot reconcile's unit
			}
			if !strings.HasPrefix(p, "etc/sysconfig/network-scripts/") || f.Mode != 0o644 {
				t.Errorf("%s: %s mode %o", name, p, f.Mode)
			}
			if !strings.HasPrefix(base, "ifcfg-") {
				continue
			}
			keys := map[string]string{}
			for _, l := range configLines(f.Data) {
				if !ifcfgLine.MatchString(l) {
					t.Errorf("%s: %s: %q is not KEY=value without spaces or shell syntax", name, p, l)
				}
				k, v, _ := strings.Cut(l, "=")
				keys[k] = v
			}
			if keys["DEVICE"] != strings.TrimPrefix(base, "ifcfg-") {
				t.Errorf("%s: %s has DEVICE=%s", name, p, keys["DEVICE"])
			}
			if _, ok := keys["GATEWAY"]; ok {
				t.Errorf("%s: %s sets GATEWAY", name, p)
			}
			if strings.Contains(base, ":") {
				aliases++
				for k := range keys {
					if k != "DEVICE" && k != "IPADDR" && k != "PREFIX" && k != "ONPARENT" {
						t.Errorf("%s: alias file %s sets %s", name, p, k)
					}
				}
				continue
			}
			if keys["DEFROUTE"] != "no" || keys["BOOTPROTO"] != "none" || keys["HWADDR"] == "" || keys["ONBOOT"] != "yes" {
				t.Errorf("%s: secondary ENI file %s: %v", name, p, keys)
			}
		}
		want := len(h.Primary.Secondary)
		for _, n := range h.Secondary {
			want += len(n.Secondary)
			route := string(files["etc/sysconfig/network-scripts/route-"+n.Name()].Data)
			if !strings.Contains(route, fmt.Sprintf("default via %s dev %s table %d\n", n.Gateway, n.Name(), n.Table)) ||
				!strings.Contains(route, fmt.Sprintf("%s dev %s table %d\n", n.Prefix, n.Name(), n.Table)) {
				t.Errorf("%s: route-%s:\n%s", name, n.Name(), route)
			}
			rules := configLines(files["etc/sysconfig/network-scripts/rule-"+n.Name()].Data)
			if len(rules) != 1+len(n.Secondary) {
				t.Errorf("%s: rule-%s has %d rules", name, n.Name(), len(rules))
			}
			for i, a := range n.AllAddresses() {
				if w := fmt.Sprintf("from %s table %d priority %d", a, n.Table, n.Priority); rules[i] != w {
					t.Errorf("%s: rule-%s line %d: %q, want %q", name, n.Name(), i+1, rules[i], w)
				}
			}
		}
		if aliases != want {
			t.Errorf("%s: %d alias files for %d secondary addresses", name, aliases, want)
		}
	}
}

// TestIfcfgSourced sources every ifcfg file with bash, as initscripts
// does, and reads the variables back.
func TestIfcfgSourced(t *testing.T) {
	bash := lookTool(t, "bash")
	h := testHosts(schema.StackIfcfg, "centos7")["full"]
	dir := t.TempDir()
	want := map[string]string{
		"ifcfg-eth0:21": "eth0:21|172.16.0.21|24||",
		"ifcfg-eth1":    "eth1|172.16.2.20|24|00:16:3e:00:01:14|no",
		"ifcfg-eth1:22": "eth1:22|172.16.2.22|24||",
		"ifcfg-eth3":    "eth3|172.16.4.30|24|00:16:3e:00:03:1e|no",
	}
	files := render(t, h)
	for base, w := range want {
		f, ok := files["etc/sysconfig/network-scripts/"+base]
		if !ok {
			t.Fatalf("no %s", base)
		}
		p := filepath.Join(dir, base)
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bash, "-c", `set -eu; HWADDR= DEFROUTE=; . "$1"; printf '%s|%s|%s|%s|%s' "$DEVICE" "$IPADDR" "$PREFIX" "$HWADDR" "$DEFROUTE"`, "bash", p).CombinedOutput()
		if err != nil || string(out) != w {
			t.Errorf("sourcing %s: %v: %q, want %q", base, err, out, w)
		}
	}
}

// TestIfcfgStableAliases: adding an address leaves the other alias files
// as they were.
func TestIfcfgStableAliases(t *testing.T) {
	h := testHosts(schema.StackIfcfg, "centos7")["full"]
	before := render(t, h)
	h.Primary.Secondary = append([]netip.Addr{addr("172.16.0.5")}, h.Primary.Secondary...)
	after := render(t, h)
	for _, p := range []string{"etc/sysconfig/network-scripts/ifcfg-eth0:21", "etc/sysconfig/network-scripts/ifcfg-eth0:22"} {
		if string(before[p].Data) != string(after[p].Data) {
			t.Errorf("%s changed when another address was added", p)
		}
	}
	if _, ok := after["etc/sysconfig/network-scripts/ifcfg-eth0:5"]; !ok {
		t.Error("no ifcfg-eth0:5 for 172.16.0.5")
	}
}
