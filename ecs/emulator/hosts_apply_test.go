package emulator

import (
	"context"
	"net/netip"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// TestHostsApplyBundle delivers real ecsnet bundles to the ifupdown and
// generic Linux hosts of the example world: the apply script accepts the
// hosts as they boot (it refuses a wrong stack, so this proves the seeds),
// converges, changes nothing the second time, verifies, and the state
// survives a reboot through the host's own configuration.
func TestHostsApplyBundle(t *testing.T) {
	e := newHostsEnv(t, exampleWorld(t))
	ctx := context.Background()
	ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", "eni-bp1legacynfs000001", "InstanceId", "i-bp1lb0000001"))
	e.waitENI(t, "eni-bp1legacynfs000001", "InUse")

	app := netip.MustParsePrefix("172.16.0.0/24")
	data := netip.MustParsePrefix("172.16.2.0/24")
	gw := func(p netip.Prefix) netip.Addr {
		return netip.MustParseAddr(strings.TrimSuffix(p.Addr().String(), "0") + "253")
	}
	hosts := []*render.Host{
		{Name: "lb-1", InstanceID: "i-bp1lb0000001", Fleet: "shop-prod", OS: "debian12", Stack: schema.StackIfupdown,
			Primary: render.NIC{MAC: "00:16:3e:10:00:03", Address: netip.MustParseAddr("172.16.0.12"), Prefix: app, Gateway: gw(app),
				Secondary: []netip.Addr{netip.MustParseAddr("172.16.0.31")}},
			Secondary: []render.NIC{{ENI: "lb-1-nfs", ENIID: "eni-bp1legacynfs000001", MAC: "00:16:3e:20:00:01", DeviceIndex: 1,
				Address: netip.MustParseAddr("172.16.2.200"), Prefix: data, Gateway: gw(data),
				Secondary: []netip.Addr{netip.MustParseAddr("172.16.2.201")}, Table: 1001, Priority: 1001}}},
		{Name: "edge-1", InstanceID: "i-bp1edge00001", Fleet: "shop-prod", OS: "linux", Stack: schema.StackIproute2,
			Primary: render.NIC{MAC: "00:16:3e:10:00:06", Address: netip.MustParseAddr("172.16.0.15"), Prefix: app, Gateway: gw(app),
				Secondary: []netip.Addr{netip.MustParseAddr("172.16.0.51")}}},
	}
	want := map[string][]string{
		"lb-1": {"addr eth0 172.16.0.12/24", "addr eth0 172.16.0.31/24", "addr eth1 172.16.2.200/24", "addr eth1 172.16.2.201/24",
			"rule 1001: from 172.16.2.200 lookup 1001", "rule 1001: from 172.16.2.201 lookup 1001",
			"route 1001 172.16.2.0/24 dev eth1", "route 1001 default via 172.16.2.253 dev eth1",
			"route main default via 172.16.0.253 dev eth0", "route main 172.16.0.0/24 dev eth0", "route main 172.16.2.0/24 dev eth1"},
		"edge-1": {"addr eth0 172.16.0.15/24", "addr eth0 172.16.0.51/24",
			"route main default via 172.16.0.253 dev eth0", "route main 172.16.0.0/24 dev eth0"},
	}
	live := func(h *Host) []string {
		t.Helper()
		var out []string
		addrs, err := h.Addrs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			out = append(out, "addr "+a.String())
		}
		rules, err := h.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			if !r.Default() {
				out = append(out, "rule "+r.String())
			}
		}
		for _, table := range []string{"main", "1001"} {
			routes, err := h.Routes(ctx, table)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range routes {
				out = append(out, "route "+r.String())
			}
		}
		slices.Sort(out)
		return out
	}
	for _, rh := range hosts {
		files, err := render.ForHost(rh)
		if err != nil {
			t.Fatal(err)
		}
		h := e.srv.Host(rh.InstanceID)
		for _, f := range files {
			if err := h.WriteFile(ctx, path.Join("/root/bundle", f.Path), f.Data, f.Mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	apply := func(what string) {
		t.Helper()
		for _, r := range e.invoke(t, "RunShellScript", "bash /root/bundle/ecsnet-apply.sh "+what, "i-bp1lb0000001", "i-bp1edge00001") {
			if str(r, "InvocationStatus") != "Success" {
				t.Fatalf("ecsnet-apply.sh %s on %s: %v\n%s", what, str(r, "InstanceId"), r, str(r, "Output"))
			}
			t.Logf("%s %s:\n%s", what, str(r, "InstanceId"), str(r, "Output"))
		}
	}
	check := func(when string) {
		t.Helper()
		for _, rh := range hosts {
			w := slices.Clone(want[rh.Name])
			slices.Sort(w)
			if got := live(e.srv.Host(rh.InstanceID)); !slices.Equal(got, w) {
				t.Errorf("%s, %s:\n got %s\nwant %s", when, rh.Name, strings.Join(got, "\n     "), strings.Join(w, "\n     "))
			}
		}
	}
	apply("apply")
	check("after apply")
	apply("apply")
	for _, c := range e.srv.Host("i-bp1lb0000001").Commands()[1:] {
		if strings.Contains(string(c.Result.Output), "added") || strings.Contains(string(c.Result.Output), "installed") {
			t.Errorf("the second apply changed something:\n%s", c.Result.Output)
		}
	}
	check("after a second apply")
	apply("verify")

	for _, id := range []string{"i-bp1lb0000001", "i-bp1edge00001"} {
		for _, st := range []string{"Stopped", "Running"} {
			if err := e.srv.SetInstanceStatus(id, st); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.srv.Host(id).Err(); err != nil {
			t.Error(err)
		}
	}
	check("after a reboot")
	apply("verify")
	if t.Failed() {
		for _, rh := range hosts {
			t.Logf("boot log of %s:\n%s", rh.Name, e.srv.Host(rh.InstanceID).BootLog())
		}
	}
}
