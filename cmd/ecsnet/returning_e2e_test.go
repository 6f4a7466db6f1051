package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
)

// TestHostsE2EReturningHost: in hosts mode, lb-1 (a real ifupdown guest,
// which holds the VIP) is stopped through the API and the VIP moves to
// lb-2 with apply --hosts (lb-1's host-remove is skipped: not reachable).
// lb-2 serves the address: it is on its eth1 and a ping sourced from it
// reaches the vSwitch gateway. Then lb-1 is started and nothing is pushed
// to it: its boot-time reconcile (ecsnet-<fleet>-reconcile.service) asks
// the metadata service, finds the VIP's ENI gone and removes its
// configuration, so that lb-1 has no trace of the VIP's addresses, rules
// or routes, its interfaces.d file is the one the new render gives it,
// its state record no longer names the ENI, and verify is clean on both
// (issue 16).
func TestHostsE2EReturningHost(t *testing.T) {
	c := newHostsE2E(t)
	c.must(exitError, "apply", "--auto-approve", "--hosts", c.dir) // the recorded guests are not executed
	c.hostsRight("after the first apply --hosts")
	vipENI := c.lock().Secondary("vip")
	vipAddr := vipENI.Addrs()[0].String()
	vip := vipAddr + "/24"
	table := 0
	before, err := render.Hosts(c.fleet(), c.lock())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range before {
		for _, n := range h.Secondary {
			if h.Name == "lb-1" && n.ENI == "vip" {
				table = n.Table
			}
		}
	}
	if table == 0 {
		t.Fatal("lb-1 has no VIP ENI in the render")
	}

	c.power("StopInstance", lb1ID, plan.InstanceStopped)
	c.edit(`attachTo: "lb-1"`, `attachTo: "lb-2"`)
	code, out, errs := c.run("apply", "--auto-approve", "--hosts", c.dir)
	t.Logf("failover from a stopped lb-1:\n%s\n%s", out, errs)
	if code != exitError {
		t.Fatalf("exit %d, want 1 (lb-1's host-remove skipped)", code)
	}
	if got, want := c.liveState("lb-2"), c.wantState("lb-2"); !got.equal(want) || !slices.Contains(got.Addrs, "eth1 "+vip) {
		t.Errorf("lb-2 does not hold the VIP as rendered\n--- got\n%s\n--- want\n%s", got, want)
	}
	ctx := context.Background()
	hosts, err := render.Hosts(c.fleet(), c.lock())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		if h.Name != "lb-2" {
			continue
		}
		for _, n := range h.Secondary {
			if n.ENI != "vip" {
				continue
			}
			if o, e, err := c.guest("lb-2").Exec(ctx, nil, "ping", "-c", "1", "-W", "5", "-I", vipAddr, n.Gateway.String()); err != nil {
				t.Errorf("lb-2: ping from %s to its gateway %s: %v\n%s%s", vipAddr, n.Gateway, err, o, e)
			}
		}
	}

	c.power("StartInstance", lb1ID, plan.InstanceRunning)
	g := c.guest("lb-1")
	boot := g.BootLog()
	t.Logf("lb-1's boot:\n%s", boot)
	if !strings.Contains(boot, "is no longer attached to this instance (the metadata service does not list MAC "+vipENI.MAC) {
		t.Errorf("lb-1's reconcile does not say it removed the VIP's ENI and why")
	}
	got := c.liveState("lb-1")
	for _, s := range slices.Concat(got.Addrs, got.Rules, got.Routes) {
		for _, a := range vipENI.Addrs() {
			if strings.Contains(s, " "+a.String()+"/") || strings.HasSuffix(s, " "+a.String()) || strings.Contains(s, " "+a.String()+" ") {
				t.Errorf("lb-1 still has the VIP's %s: %s", a, s)
			}
		}
	}
	for _, s := range got.Routes {
		if strings.Contains(s, fmt.Sprintf("table %d", table)) {
			t.Errorf("lb-1 still has a route of the VIP's table: %s", s)
		}
	}
	state, _, err := g.Exec(ctx, nil, "cat", "/var/lib/ecsnet/"+c.fleet().Name+"/state")
	if err != nil || strings.Contains(state, vipENI.MAC) {
		t.Errorf("lb-1's state record still names the VIP's ENI (%v):\n%s", err, state)
	}
	for _, h := range hosts {
		if h.Name != "lb-1" {
			continue
		}
		files, err := render.ForHost(h)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if !strings.HasPrefix(f.Path, "etc/network/") {
				continue
			}
			have, _, err := g.Exec(ctx, nil, "cat", "/"+f.Path)
			if err != nil || have != string(f.Data) {
				t.Errorf("lb-1's /%s is not the new render's (%v):\n--- have\n%s\n--- want\n%s", f.Path, err, have, f.Data)
			}
		}
	}
	if code, vout := c.verify(); code != exitOK || !strings.Contains(vout, "Verify: 3 in sync, 0 with drift") {
		t.Errorf("verify: exit %d\n%s", code, vout)
	}
}
