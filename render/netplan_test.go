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

const netplanPath = "etc/netplan/60-ecsnet.yaml"

func TestNetplanFile(t *testing.T) {
	for name, h := range testHosts(schema.StackNetplan, "ubuntu22.04") {
		f := render(t, h)[netplanPath]
		if f.Mode != 0o600 {
			t.Errorf("%s: mode %o, want 0600 (netplan warns about readable files)", name, f.Mode)
		}
		s := string(f.Data)
		for _, bad := range []string{"gateway4", "renderer", "dhcp4: true", "version: 1"} {
			if strings.Contains(strings.Join(configLines(f.Data), "\n"), bad) {
				t.Errorf("%s: the drop-in says %q", name, bad)
			}
		}
		if len(h.Primary.Secondary) > 0 && !strings.Contains(s, "\n    eth0:\n") {
			t.Errorf("%s: the primary ENI is not under cloud-init's ID eth0:\n%s", name, s)
		}
		for _, n := range h.Secondary {
			if !strings.Contains(s, fmt.Sprintf("      match:\n        macaddress: \"%s\"\n      set-name: %s\n", n.MAC, n.Name())) {
				t.Errorf("%s: ENI %s is not matched by its MAC", name, n.ENI)
			}
		}
		// Every route has a table: a secondary ENI's gateway never
		// reaches the main table (E15).
		if got, want := strings.Count(s, "        - to: "), strings.Count(s, "          table: ")-strings.Count(s, "        - from: "); got != want {
			t.Errorf("%s: %d routes, %d of them with a table", name, got, want)
		}
	}
}

// TestNetplanGenerate feeds the drop-in, beside a cloud-init file as the
// AliYun datasource writes it, to `netplan generate --root-dir`, and reads
// the networkd files it writes: one file for eth0 (the drop-in merged into
// cloud-init's definition), the table routes and the rules.
func TestNetplanGenerate(t *testing.T) {
	netplan := lookTool(t, "netplan")
	h := testHosts(schema.StackNetplan, "ubuntu22.04")["full"]
	root := t.TempDir()
	dir := filepath.Join(root, "etc/netplan")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cloudInit := fmt.Sprintf("network:\n    ethernets:\n        eth0:\n            dhcp4: true\n            match:\n                macaddress: %s\n            set-name: eth0\n    version: 2\n", h.Primary.MAC)
	if err := os.WriteFile(filepath.Join(dir, "50-cloud-init.yaml"), []byte(cloudInit), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, netplanPath), render(t, h)[netplanPath].Data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(netplan, "generate", "--root-dir", root).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("netplan generate: %v\n%s", err, out)
	}
	gen := filepath.Join(root, "run/systemd/network")
	names, _ := filepath.Glob(filepath.Join(gen, "*.network"))
	if len(names) != 1+len(h.Secondary) {
		t.Errorf("netplan wrote %d .network files: %v", len(names), names)
	}
	eth0 := readString(t, filepath.Join(gen, "10-netplan-eth0.network"))
	for _, want := range []string{"DHCP=ipv4", "Address=172.16.0.21/24", "Address=172.16.0.22/24"} {
		if !strings.Contains(eth0, want) {
			t.Errorf("10-netplan-eth0.network lacks %s:\n%s", want, eth0)
		}
	}
	for _, n := range h.Secondary {
		got := readString(t, filepath.Join(gen, "10-netplan-"+n.Name()+".network"))
		want := []string{
			"[Route]\nDestination=" + n.Prefix.String() + "\nScope=link\nTable=" + fmt.Sprint(n.Table),
			"[Route]\nDestination=0.0.0.0/0\nGateway=" + n.Gateway.String() + "\nTable=" + fmt.Sprint(n.Table),
		}
		for _, a := range n.AllAddresses() {
			want = append(want, fmt.Sprintf("Address=%s", cidr(a, n.Bits())),
				fmt.Sprintf("[RoutingPolicyRule]\nFrom=%s\nTable=%d\nPriority=%d", a, n.Table, n.Priority))
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("10-netplan-%s.network lacks %q:\n%s", n.Name(), w, got)
			}
		}
		if regexp.MustCompile(`(?m)^DHCP=(yes|ipv4)`).MatchString(got) {
			t.Errorf("ENI %s runs DHCP", n.ENI)
		}
	}
}

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// bashFunc returns the definition of a function in a generated script.
func bashFunc(t *testing.T, script []byte, name string) string {
	t.Helper()
	s := string(script)
	i := strings.Index(s, "\n"+name+"() {")
	if i < 0 {
		t.Fatalf("no function %s", name)
	}
	j := strings.Index(s[i+1:], "\n}\n")
	return s[i+1 : i+1+j+3]
}

// TestNetplanPrimaryID runs the apply script's check of cloud-init's
// netplan ID against a few 50-cloud-init.yaml files.
func TestNetplanPrimaryID(t *testing.T) {
	bash := lookTool(t, "bash")
	sc := render(t, testHosts(schema.StackNetplan, "ubuntu22.04")["full"])[ScriptName].Data
	funcs := bashFunc(t, sc, "netplan_ids") + bashFunc(t, sc, "netplan_check_primary_id") +
		"ecsnet_refuse() { echo \"refused: $*\"; exit 3; }\n"
	for name, c := range map[string]struct {
		file string
		ok   bool
	}{
		"cloud-init eth0":     {"network:\n    ethernets:\n        eth0:\n            dhcp4: true\n    version: 2\n", true},
		"two-space indent":    {"network:\n  version: 2\n  ethernets:\n    eth1:\n      dhcp4: true\n    \"eth0\":\n      dhcp4: true\n", true},
		"other id":            {"network:\n    ethernets:\n        ens5:\n            dhcp4: true\n            set-name: eth0\n    version: 2\n", false},
		"eth0 outside":        {"network:\n    version: 2\n    bonds:\n        eth0:\n            interfaces: []\n", false},
		"no ethernets at all": {"network:\n    version: 2\n", false},
	} {
		root := t.TempDir()
		os.MkdirAll(filepath.Join(root, "etc/netplan"), 0o755)
		os.WriteFile(filepath.Join(root, "etc/netplan/50-cloud-init.yaml"), []byte(c.file), 0o600)
		script := "set -euo pipefail\nROOT_P=" + shq(root) + "\nNETPLAN_FILE=etc/netplan/60-ecsnet.yaml\nNETPLAN_PRIMARY_ID=eth0\n" + funcs + "netplan_check_primary_id\necho ok\n"
		out, err := exec.Command(bash, "-c", script).CombinedOutput()
		if ok := err == nil && strings.HasSuffix(string(out), "ok\n"); ok != c.ok {
			t.Errorf("%s: accepted %v, want %v: %s", name, ok, c.ok, out)
		}
	}
}
