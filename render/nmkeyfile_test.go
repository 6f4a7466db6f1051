package render

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// keyfile parses a keyfile's "section.key" values.
func keyfile(data []byte) map[string]string {
	out := map[string]string{}
	section := ""
	for _, l := range configLines(data) {
		if strings.HasPrefix(l, "[") {
			section = strings.Trim(l, "[]")
			continue
		}
		k, v, _ := strings.Cut(l, "=")
		out[section+"."+k] = v
	}
	return out
}

func TestNMKeyfiles(t *testing.T) {
	for _, os := range []schema.OS{"rocky9", "alinux3", "sles16"} {
		for name, h := range testHosts(schema.StackNetworkManager, os) {
			files := render(t, h)
			uuids := map[string]bool{}
			n := 0
			for p, f := range files {
				if !strings.HasPrefix(p, "etc/NetworkManager/system-connections/") {
					continue
				}
				n++
				if f.Mode != 0o600 || !strings.HasSuffix(p, ".nmconnection") {
					t.Errorf("%s: %s mode %o", name, p, f.Mode)
				}
				k := keyfile(f.Data)
				if h.Primary.MAC != "" && strings.EqualFold(k["ethernet.mac-address"], h.Primary.MAC) {
					t.Errorf("%s: %s is a second profile for the primary ENI", name, p)
				}
				if k["ipv4.method"] != "manual" || k["ipv4.never-default"] != "true" || k["ipv4.gateway"] != "" || k["connection.interface-name"] != "" {
					t.Errorf("%s: %s: %v", name, p, k)
				}
				uuids[k["connection.uuid"]] = true
			}
			if n != len(h.Secondary) || len(uuids) != n {
				t.Errorf("%s: %d keyfiles, %d UUIDs for %d secondary ENIs", name, n, len(uuids), len(h.Secondary))
			}
			for _, e := range h.Secondary {
				k := keyfile(files[nmPath(e)].Data)
				if k["ethernet.mac-address"] != e.MACUpper() {
					t.Errorf("%s: %s matches %q", name, e.ENI, k["ethernet.mac-address"])
				}
				for i, a := range e.AllAddresses() {
					if got := k[fmt.Sprintf("ipv4.address%d", i+1)]; got != cidr(a, e.Bits()) {
						t.Errorf("%s: %s address%d=%s", name, e.ENI, i+1, got)
					}
					if got, want := k[fmt.Sprintf("ipv4.routing-rule%d", i+1)], fmt.Sprintf("priority %d from %s table %d", e.Priority, a, e.Table); got != want {
						t.Errorf("%s: %s routing-rule%d=%q, want %q", name, e.ENI, i+1, got, want)
					}
				}
				if k["ipv4.route2"] != "0.0.0.0/0,"+e.Gateway.String() || k["ipv4.route2_options"] != fmt.Sprintf("table=%d", e.Table) ||
					k["ipv4.route1_options"] != fmt.Sprintf("table=%d", e.Table) {
					t.Errorf("%s: %s routes: %v", name, e.ENI, k)
				}
			}
		}
	}
}

// TestNMKeyfileOffline round-trips every keyfile through
// `nmcli --offline connection modify` (host-config.md §7d), which
// normalises it the way NetworkManager reads it, and checks that no
// address, route or rule was dropped (an invalid one is dropped silently).
func TestNMKeyfileOffline(t *testing.T) {
	nmcli := lookTool(t, "nmcli")
	if out, err := exec.Command(nmcli, "--offline", "connection", "add", "type", "ethernet", "con-name", "probe", "ifname", "eth9").CombinedOutput(); err != nil {
		t.Skipf("this nmcli has no --offline mode (NetworkManager 1.42 or later): %v: %s", err, out)
	}
	for _, f := range render(t, testHosts(schema.StackNetworkManager, "rocky9")["full"]) {
		if !strings.HasSuffix(f.Path, ".nmconnection") {
			continue
		}
		want := keyfile(f.Data)
		cmd := exec.Command(nmcli, "--offline", "connection", "modify", "connection.id", want["connection.id"])
		cmd.Stdin = bytes.NewReader(f.Data)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("nmcli --offline rejects %s: %v", f.Path, err)
		}
		got := keyfile(out)
		var lost []string
		for k, v := range want {
			if k == "connection.autoconnect" {
				continue
			}
			if got[k] != v {
				lost = append(lost, fmt.Sprintf("%s=%q (nmcli: %q)", k, v, got[k]))
			}
		}
		slices.Sort(lost)
		if len(lost) > 0 {
			t.Errorf("%s: nmcli does not keep:\n%s\n%s", f.Path, strings.Join(lost, "\n"), out)
		}
	}
}
