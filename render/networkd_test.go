package render

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// sections returns the keys of every [name] section, in order.
func sections(data []byte, name string) []map[string]string {
	var out []map[string]string
	var cur map[string]string
	for _, l := range configLines(data) {
		if strings.HasPrefix(l, "[") {
			cur = nil
			if l == "["+name+"]" {
				cur = map[string]string{}
				out = append(out, cur)
			}
			continue
		}
		if cur != nil {
			k, v, _ := strings.Cut(l, "=")
			cur[k] = v
		}
	}
	return out
}

func TestNetworkdFiles(t *testing.T) {
	for name, h := range testHosts(schema.StackNetworkd, "debian12") {
		files := render(t, h)
		var names []string
		for p, f := range files {
			if !strings.HasPrefix(p, "etc/systemd/network/") {
				continue
			}
			names = append(names, p)
			if f.Mode != 0o644 || !strings.HasPrefix(p, "etc/systemd/network/05-ecsnet-") || !strings.HasSuffix(p, ".network") {
				t.Errorf("%s: %s mode %o", name, p, f.Mode)
			}
			// Only the first matching file applies: ours must sort
			// before cloud-init's and netplan's.
			if base := p[len("etc/systemd/network/"):]; base >= "10-cloud-init" || base >= "10-netplan" {
				t.Errorf("%s: %s does not sort before 10-", name, p)
			}
			for _, n := range sections(f.Data, "Network") {
				if _, ok := n["Gateway"]; ok {
					t.Errorf("%s: %s has a Gateway= in [Network]", name, p)
				}
			}
			for _, r := range sections(f.Data, "Route") {
				if r["Table"] == "" {
					t.Errorf("%s: %s: a route outside a table: %v", name, p, r)
				}
			}
		}
		want := len(h.Secondary)
		if len(h.Primary.Secondary) > 0 {
			want++
			p := files["etc/systemd/network/05-ecsnet-eth0.network"]
			m := sections(p.Data, "Match")[0]
			if h.Primary.MAC != "" && m["MACAddress"] != h.Primary.MAC || h.Primary.MAC == "" && m["Name"] != "eth0" {
				t.Errorf("%s: eth0 matched by %v", name, m)
			}
			if sections(p.Data, "Network")[0]["DHCP"] != "ipv4" {
				t.Errorf("%s: the primary ENI's file does not keep DHCP", name)
			}
		}
		if len(names) != want {
			t.Errorf("%s: %d files: %v", name, len(names), names)
		}
		for _, n := range h.Secondary {
			f := files["etc/systemd/network/05-ecsnet-"+n.Name()+".network"]
			if sections(f.Data, "Match")[0]["MACAddress"] != n.MAC {
				t.Errorf("%s: %s not matched by MAC", name, n.ENI)
			}
			var rules, addrs []string
			for _, r := range sections(f.Data, "RoutingPolicyRule") {
				rules = append(rules, fmt.Sprintf("%s %s %s", r["From"], r["Table"], r["Priority"]))
			}
			for _, a := range sections(f.Data, "Address") {
				addrs = append(addrs, a["Address"])
			}
			var wantRules, wantAddrs []string
			for _, a := range n.AllAddresses() {
				wantRules = append(wantRules, fmt.Sprintf("%s %d %d", a, n.Table, n.Priority))
				wantAddrs = append(wantAddrs, cidr(a, n.Bits()))
			}
			if !slices.Equal(rules, wantRules) || !slices.Equal(addrs, wantAddrs) {
				t.Errorf("%s: %s: rules %v addresses %v", name, n.ENI, rules, addrs)
			}
		}
	}
}
