package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/daemons"
	"github.com/ecsnet/ecsnet/plan"
)

// TestBootedE2EReturningHost is TestHostsE2EReturningHost on a booted
// systemd-networkd guest (ECSNET_NSPAWN_GUESTS=1): cache-1 is stopped,
// its ENI cache-1-data moves to db-2 (NetworkManager, same zone) with
// apply --hosts, and db-2 holds its addresses as rendered. When cache-1
// is started, its own systemd runs ecsnet-<fleet>-reconcile.service,
// which removes the ENI's .network file (the guest root has no curl, so
// it goes by the NIC's absence after its grace period) and its state
// record entries; nothing is pushed to cache-1, and verify is clean on
// both (issue 16).
func TestBootedE2EReturningHost(t *testing.T) {
	daemons.RequireNspawn(t)
	root, _ := daemons.Root(t)
	c := newHostsE2EConfig(t, func(*emulator.World) {}, emulator.HostsConfig{GuestRoot: root})
	c.run("apply", "--auto-approve", "--hosts", c.dir) // the recorded guests are not executed
	c.hostsRightOf("after the first apply --hosts", "cache-1", "db-2")
	eni := c.lock().Secondary("cache-1-data")
	const file = "/etc/systemd/network/05-ecsnet-eth1.network"
	ctx := context.Background()
	if _, _, err := c.guest("cache-1").Exec(ctx, nil, "test", "-f", file); err != nil {
		t.Fatalf("cache-1 has no %s after the apply: %v", file, err)
	}

	c.power("StopInstance", "i-bp1cache0001", plan.InstanceStopped)
	// db-2's type (ecs.r7.large) takes no IPv6: the move drops the
	// ENI's IPv6 addresses, which the cloud unassigns before the detach.
	c.edit("\t\tipv6IpCount: 2\n\t\tattachTo:    \"cache-1\"", "\t\tattachTo: \"db-2\"")
	code, out, errs := c.run("apply", "--auto-approve", "--hosts", c.dir)
	t.Logf("move cache-1-data from a stopped cache-1 to db-2:\n%s\n%s", out, errs)
	if code != exitError {
		t.Errorf("exit %d, want 1 (cache-1's host-remove skipped)", code)
	}
	c.hostsRightOf("after the move", "db-2")

	c.power("StartInstance", "i-bp1cache0001", plan.InstanceRunning)
	g := c.guest("cache-1")
	var unit string
	if !hosttest.WaitFor(4*time.Minute, func() bool {
		o, _, _ := g.Exec(ctx, nil, "systemctl", "show", "-p", "ActiveState", "--value", "ecsnet-"+c.fleet().Name+"-reconcile.service")
		unit = strings.TrimSpace(o)
		return unit == "active" || unit == "failed"
	}) || unit != "active" {
		o, _, _ := g.Exec(ctx, nil, "journalctl", "-b", "--no-pager", "-o", "cat", "-u", "ecsnet-"+c.fleet().Name+"-reconcile.service")
		t.Fatalf("cache-1's reconcile unit is %q:\n%s", unit, o)
	}
	log, _, _ := g.Exec(ctx, nil, "journalctl", "-b", "--no-pager", "-o", "cat", "-u", "ecsnet-"+c.fleet().Name+"-reconcile.service")
	t.Logf("cache-1's reconcile:\n%s", log)
	if !strings.Contains(log, "MAC "+eni.MAC+") is no longer attached to this instance") {
		t.Errorf("the reconcile does not say it removed cache-1-data and why")
	}
	if _, _, err := g.Exec(ctx, nil, "test", "-e", file); err == nil {
		t.Errorf("cache-1 still has %s", file)
	}
	if state, _, _ := g.Exec(ctx, nil, "cat", "/var/lib/ecsnet/"+c.fleet().Name+"/state"); strings.Contains(state, eni.MAC) {
		t.Errorf("cache-1's state record still names cache-1-data:\n%s", state)
	}
	c.hostsRightOf("after cache-1 came back", "cache-1", "db-2")
	_, vout := c.verify()
	for _, name := range []string{"cache-1", "db-2"} {
		for _, l := range strings.Split(vout, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), name+" ") && !strings.Contains(l, "in sync") {
				t.Errorf("verify: %s is not in sync: %s", name, l)
			}
		}
	}
	t.Logf("verify:\n%s", vout)
}
