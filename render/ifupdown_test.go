package render

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

func ifupdownFile(t *testing.T, files map[string]File) File {
	t.Helper()
	for p, f := range files {
		if strings.HasPrefix(p, "etc/network/interfaces.d/") {
			return f
		}
	}
	t.Fatal("no file under etc/network/interfaces.d")
	return File{}
}

// TestIfupdownErrata: no gateway anywhere (E5, E15), CIDR addresses and no
// netmask (E6), one address per stanza (a second one is ignored), and no
// restart of networking in the script (E7).
func TestIfupdownErrata(t *testing.T) {
	for _, os := range []schema.OS{"debian8", "debian9", "debian12", "ubuntu14.04", "ubuntu16.04"} {
		for name, h := range testHosts(schema.StackIfupdown, os) {
			files := render(t, h)
			f := ifupdownFile(t, files)
			wantPath := "etc/network/interfaces.d/60-ecsnet"
			if os == "ubuntu14.04" || os == "ubuntu16.04" {
				wantPath += ".cfg"
			}
			if f.Path != wantPath || f.Mode != 0o644 {
				t.Errorf("%s/%s: %s mode %o", os, name, f.Path, f.Mode)
			}
			addresses := 0
			for _, stanza := range strings.Split(strings.Join(configLines(f.Data), "\n"), "iface ")[1:] {
				n := 0
				for _, l := range strings.Split(stanza, "\n") {
					fields := strings.Fields(l)
					if len(fields) == 0 {
						continue
					}
					switch fields[0] {
					case "gateway", "netmask":
						t.Errorf("%s/%s: %q", os, name, l)
					case "address":
						n++
						if !strings.Contains(fields[1], "/") {
							t.Errorf("%s/%s: %q is not CIDR", os, name, l)
						}
					case "up", "down":
						if strings.Contains(l, "route") && !strings.Contains(l, "table") {
							t.Errorf("%s/%s: a route outside the ENI's table: %q", os, name, l)
						}
					}
				}
				if n != 1 {
					t.Errorf("%s/%s: a stanza with %d addresses: iface %s", os, name, n, stanza)
				}
				addresses += n
			}
			want := len(h.Primary.Secondary)
			for _, n := range h.Secondary {
				want += 1 + len(n.Secondary)
				byMAC := strings.Contains(string(f.Data), fmt.Sprintf("auto mac/%s/=ecsnet-%s\n", n.MAC, n.ENI))
				if byMAC != (os == "debian12") {
					t.Errorf("%s/%s: ENI %s bound by MAC: %v", os, name, n.ENI, byMAC)
				}
			}
			if addresses != want {
				t.Errorf("%s/%s: %d addresses, want %d", os, name, addresses, want)
			}
			sc := string(files[ScriptName].Data)
			for _, bad := range []string{"restart networking", "networking restart", "ifdown -a", "ifup -a"} {
				if strings.Contains(sc, bad) {
					t.Errorf("%s/%s: the apply script runs %q", os, name, bad)
				}
			}
		}
	}
}

// TestIfupdownNoAct runs `ifup -n` (no-act) on every stanza: ifupdown
// parses the file and prints what it would run.
func TestIfupdownNoAct(t *testing.T) {
	ifup := lookTool(t, "ifup")
	for _, os := range []schema.OS{"debian12", "debian9"} {
		h := testHosts(schema.StackIfupdown, os)["full"]
		f := ifupdownFile(t, render(t, h))
		dir := t.TempDir()
		p := filepath.Join(dir, "60-ecsnet")
		if err := writeFile(p, f.Data); err != nil {
			t.Fatal(err)
		}
		targets := []string{"eth0:21", "eth0:22"}
		for _, n := range h.Secondary {
			if os == "debian12" {
				targets = append(targets, "lo=ecsnet-"+n.ENI) // any existing interface stands in
			} else {
				targets = append(targets, n.Name())
			}
		}
		for _, target := range targets {
			out, err := exec.Command(ifup, "-n", "--no-scripts", "-i", p, "--state-dir", dir, target).CombinedOutput()
			if err != nil {
				t.Errorf("%s: ifup -n %s: %v\n%s", os, target, err, out)
			}
			if !strings.Contains(string(out), "ip addr add") {
				t.Errorf("%s: ifup -n %s adds no address:\n%s", os, target, out)
			}
			if !strings.HasPrefix(target, "eth0:") && !strings.Contains(string(out), "table 1001") && !strings.Contains(string(out), "table 1003") {
				t.Errorf("%s: ifup -n %s sets up no table route:\n%s", os, target, out)
			}
		}
	}
}

func writeFile(p string, data []byte) error { return os.WriteFile(p, data, 0o644) }
