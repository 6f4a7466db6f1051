package render

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// wickedVar is the only line shape wicked's sysconfig reader takes as a
// variable (openSUSE/wicked src/sysconfig.c): anything else, such as the
// seed's "IPADDR_0 = x" (E8), is skipped without a word.
var wickedVar = regexp.MustCompile(`^([A-Za-z0-9_]+)='([^']*)'$`)

// readWicked reads an ifcfg file the way wicked does, failing on any line
// wicked would skip.
func readWicked(t *testing.T, p string, data []byte) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, l := range configLines(data) {
		m := wickedVar.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("%s: wicked would skip %q", p, l)
			continue
		}
		vars[m[1]] = m[2]
	}
	return vars
}

func TestWickedErrata(t *testing.T) {
	cidrRE := regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+/\d+$`)
	for name, h := range testHosts(schema.StackWicked, "sles15") {
		files := render(t, h)
		if _, ok := files["etc/sysconfig/network/ifcfg-eth0"]; !ok {
			t.Errorf("%s: no ifcfg-eth0 (it is always rendered, so a later bundle never leaves eth0 without one)", name)
		}
		for p, f := range files {
			if p == ScriptName || p == ManifestName || p == primaryBootPath(h) || p == reconcilePath(h) {
				continue // scripts
			}
			if f.Mode != 0o644 {
				t.Errorf("%s: %s mode %o", name, p, f.Mode)
			}
			base := filepath.Base(p)
			if !strings.HasPrefix(base, "ifcfg-") {
				continue
			}
			vars := readWicked(t, p, f.Data)
			for k, v := range vars {
				switch {
				case strings.HasPrefix(k, "NETMASK"):
					t.Errorf("%s: %s sets %s=%s: the prefix length belongs in IPADDR (E9)", name, p, k, v)
				case strings.HasPrefix(k, "GATEWAY"), strings.HasPrefix(k, "LLADDR"):
					t.Errorf("%s: %s sets %s", name, p, k)
				case strings.HasPrefix(k, "IPADDR"):
					if !cidrRE.MatchString(v) {
						t.Errorf("%s: %s: %s='%s' lacks /len", name, p, k, v)
					}
					if suffix := strings.TrimPrefix(k, "IPADDR"); suffix != "" && vars["LABEL"+suffix] != strings.TrimPrefix(suffix, "_") {
						t.Errorf("%s: %s: %s has LABEL%s=%q", name, p, k, suffix, vars["LABEL"+suffix])
					}
				}
			}
			if base == "ifcfg-eth0" {
				if vars["BOOTPROTO"] != "dhcp" || vars["STARTMODE"] != "auto" || vars["IPADDR"] != "" {
					t.Errorf("%s: ifcfg-eth0 %v", name, vars)
				}
				if got, want := len(vars)-2, 2*len(h.Primary.Secondary); got != want {
					t.Errorf("%s: ifcfg-eth0 has %d address variables, want %d", name, got, want)
				}
			} else if vars["BOOTPROTO"] != "static" {
				t.Errorf("%s: %s BOOTPROTO=%q", name, p, vars["BOOTPROTO"])
			}
		}
		for _, n := range h.Secondary {
			routes := configLines(files["etc/sysconfig/network/ifroute-"+n.Name()].Data)
			want := []string{fmt.Sprintf("%s - - %s table %d", n.Prefix, n.Name(), n.Table), fmt.Sprintf("default %s - %s table %d", n.Gateway, n.Name(), n.Table)}
			if strings.Join(routes, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s: ifroute-%s: %q", name, n.Name(), routes)
			}
			rules := configLines(files["etc/sysconfig/network/ifrule-"+n.Name()].Data)
			for i, a := range n.AllAddresses() {
				if w := fmt.Sprintf("ipv4 from %s table %d priority %d", a, n.Table, n.Priority); i >= len(rules) || rules[i] != w {
					t.Errorf("%s: ifrule-%s: %q, want line %q", name, n.Name(), rules, w)
				}
			}
		}
	}
}

// TestWickedSourced: the files are also valid sourced by bash (yast and
// the old ifup scripts do so).
func TestWickedSourced(t *testing.T) {
	bash := lookTool(t, "bash")
	files := render(t, testHosts(schema.StackWicked, "sles15")["full"])
	dir := t.TempDir()
	for base, want := range map[string]string{
		"ifcfg-eth0": "dhcp||172.16.0.21/24|21",
		"ifcfg-eth1": "static|172.16.2.20/24|172.16.2.21/24|21",
	} {
		p := filepath.Join(dir, base)
		if err := os.WriteFile(p, files["etc/sysconfig/network/"+base].Data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bash, "-c", `set -eu; IPADDR=; . "$1"; printf '%s|%s|%s|%s' "$BOOTPROTO" "$IPADDR" "$IPADDR_21" "$LABEL_21"`, "bash", p).CombinedOutput()
		if err != nil || string(out) != want {
			t.Errorf("sourcing %s: %v: %q, want %q", base, err, out, want)
		}
	}
}
