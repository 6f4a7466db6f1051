package main

// The Done-when of issue 15 in hosts mode with the guest root: every
// NetworkManager, networkd and netplan host of the example fleet is a
// Debian guest booted with systemd-nspawn, running its stack's daemon
// under its own systemd; ifupdown and iproute2 hosts are namespaces
// around the machine's tools. All seven are configured for real, and
// verify compares their live `ip -j` state with the render. ifcfg, wicked
// and Windows hosts stay "not executed", never success.

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/internal/hosttest/daemons"
	"github.com/ecsnet/ecsnet/plan"
)

// The example fleet's hosts by how the emulator runs them with a guest
// root.
var (
	bootedE2EGuests   = []string{"api-1", "app-1", "cache-1", "db-2"} // NetworkManager, netplan, networkd, NetworkManager
	realE2EGuests     = []string{"api-1", "app-1", "cache-1", "db-2", "edge-1", "lb-1", "lb-2"}
	recordedE2EGuests = []string{"db-1", "web-1", "win-1"} // wicked, ifcfg, Windows
)

// newBootedE2E is newHostsE2E with the guest root (ECSNET_NSPAWN_GUESTS=1,
// as CI sets it).
func newBootedE2E(t *testing.T) *e2e {
	t.Helper()
	daemons.RequireNspawn(t)
	root, _ := daemons.Root(t)
	c := newHostsE2EConfig(t, dualStackWorld, emulator.HostsConfig{GuestRoot: root})
	for _, name := range bootedE2EGuests {
		if h := c.guest(name); !h.Up() {
			t.Fatalf("%s is not up", name)
		}
	}
	return c
}

// wantBootedOutcomes checks a hosts-mode report in text: the named real
// guests applied, every recorded one not executed with the emulator's
// reason.
func wantBootedOutcomes(t *testing.T, what, out string, applied ...string) {
	t.Helper()
	for _, name := range recordedE2EGuests {
		re := regexp.MustCompile(`(?m)^  ` + name + ` +i-\S+ +not executed +\d+\.\ds  ecsnet emulator: ` + name + ` \(.*\): recorded, not executed \(.*$`)
		if !re.MatchString(out) {
			t.Errorf("%s: %s is not reported as not executed with the emulator's reason:\n%s", what, name, out)
		}
	}
	wantApplied(t, what, out, applied...)
}

// wantApplied checks that a report in text says the named hosts applied.
func wantApplied(t *testing.T, what, out string, applied ...string) {
	t.Helper()
	for _, name := range applied {
		re := regexp.MustCompile(`(?m)^  ` + name + ` +i-\S+ +applied +\d+\.\ds  applied and verified(; not probed: .+)?$`)
		if !re.MatchString(out) {
			t.Errorf("%s: %s is not reported as applied:\n%s", what, name, out)
		}
	}
}

// reboot calls RebootInstance with the Alibaba Cloud SDK, as an operator
// would, and waits until DescribeInstances reports it Running again (the
// guest has booted by then: the emulator boots it when the instance
// becomes Running).
func (c *e2e) reboot(instanceID string) {
	c.t.Helper()
	u, err := url.Parse(c.url)
	if err != nil {
		c.t.Fatal(err)
	}
	cl, err := ecs.NewClientWithAccessKey("cn-hangzhou", c.keyID, c.secret)
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Shutdown()
	r := ecs.CreateRebootInstanceRequest()
	r.InstanceId = instanceID
	r.Domain, r.Scheme = u.Host, "http"
	if _, err := cl.RebootInstance(r); err != nil {
		c.t.Fatalf("RebootInstance %s: %v", instanceID, err)
	}
	ecl := c.client()
	for deadline := time.Now().Add(3 * time.Minute); ; {
		ins, err := ecl.DescribeInstances(context.Background(), []string{instanceID})
		if err != nil {
			c.t.Fatal(err)
		}
		if len(ins) == 1 && ins[0].Status == plan.InstanceRunning && c.srv.Host(instanceID).Up() {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s is not Running again after RebootInstance: %+v\n%s", instanceID, ins, c.srv.Host(instanceID).Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHostsE2EBootedGuests is issue 15's Done-when for the real stacks:
// apply --hosts configures every NetworkManager, networkd, netplan,
// ifupdown and iproute2 guest for real and verify is clean; then an
// address change on the booted guests with a failover of the VIP, and a
// RebootInstance of every real guest: verify clean after each. The
// ifcfg, wicked and Windows hosts are "not executed" in text, JSON and
// markdown, never applied. Issue 17: the example's dual-stack and prefix
// ENIs work live after the first apply; then IPv6 addresses and prefixes
// the host answers for on every real stack (dualStackEveryStack), and
// after the reboots every IPv6 address still pings its gateway and every
// prefix still answers.
func TestHostsE2EBootedGuests(t *testing.T) {
	t.Parallel() // hosts mode: each test has its own emulator and namespaces
	c := newBootedE2E(t)

	out, errs := c.must(exitError, "apply", "--auto-approve", "--hosts", c.dir)
	t.Logf("apply --hosts:\n%s\n%s", out, errs)
	noNotExecutedReal(t, "apply --hosts", errs)
	wantBootedOutcomes(t, "apply --hosts", errs, "api-1", "app-1", "cache-1", "db-2", "edge-1", "lb-1") // lb-2 has nothing to do yet
	c.hostsRightOf("after apply --hosts", realE2EGuests...)
	const clean = "Verify: 7 in sync, 0 with drift, 0 errors, 3 not checked."
	if code, vout := c.verify(); code != exitOK || !strings.Contains(vout, clean) {
		t.Fatalf("verify after apply --hosts: exit %d\n%s", code, vout)
	}
	// The example's dual-stack ENI (cache-1-data, networkd) and prefix
	// ENI (db-2-pods, NetworkManager), live.
	if v6, _ := c.dualStackLive("after apply --hosts", "cache-1"); v6 != 2 {
		t.Errorf("cache-1 has %d IPv6 addresses in the render, want the example's 2", v6)
	}
	if _, prefixes := c.dualStackLive("after apply --hosts", "db-2"); prefixes != 2 {
		t.Errorf("db-2 has %d prefixes on the host in the render, want the example's 2", prefixes)
	}

	t.Run("not executed in every format", func(t *testing.T) {
		// apply's text report is checked above; push's in each format, on
		// the recorded hosts.
		recorded := strings.Join(recordedE2EGuests, ",")
		code, out, errs := c.run("push", "--instance", recorded, c.dir)
		if code != exitError || !strings.Contains(out, "\nPush: 0 hosts done of 3: 3 not executed in ") {
			t.Errorf("push: exit %d\n%s\n%s", code, out, errs)
		}
		wantBootedOutcomes(t, "push", out)
		code, out, _ = c.run("push", "--format", "json", "--instance", recorded, c.dir)
		var doc pushDoc
		if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitError {
			t.Fatalf("push --format json: exit %d, %v\n%s", code, err, out)
		}
		if doc.Done != 0 || doc.Summary["not_executed"] != 3 || strings.Contains(out, `"outcome": "applied"`) {
			t.Errorf("push --format json: done %d, summary %v\n%s", doc.Done, doc.Summary, out)
		}
		code, out, _ = c.run("push", "--format", "markdown", "--instance", recorded, c.dir)
		for _, name := range recordedE2EGuests {
			if code != exitError || !regexp.MustCompile(`(?m)^\| `+name+` \| i-\S+ \| not executed \| ecsnet emulator: `+name+` .*recorded, not executed`).MatchString(out) {
				t.Errorf("push --format markdown: exit %d: %s is not \"not executed\" with the reason:\n%s", code, name, out)
			}
		}
		code, vout := c.verify("--format", "json")
		if code != exitOK || !strings.Contains(vout, `"not_checked": 3`) || !strings.Contains(vout, `"in_sync": 7`) {
			t.Errorf("verify --format json: exit %d\n%s", code, vout)
		}
	})

	t.Run("address change and failover", func(t *testing.T) {
		c.edit(`secondaryIps: ["172.16.1.31"]`, `secondaryIps: ["172.16.1.32", "172.16.1.33"]`)                                                      // cache-1, networkd
		c.edit(`ip: "172.16.1.12", securityGroups: ["db"], secondaryIpCount: 1`, `ip: "172.16.1.12", securityGroups: ["db"], secondaryIpCount: 2`)   // db-2, NetworkManager
		c.edit(`ip: "172.16.1.10", securityGroups: ["web"], secondaryIpCount: 3`, `ip: "172.16.1.10", securityGroups: ["web"], secondaryIpCount: 2`) // app-1, netplan
		c.edit(`attachTo: "lb-1"`, `attachTo: "lb-2"`)                                                                                               // the VIP
		// The recorded hosts have nothing to do: exit 0.
		out, errs := c.must(exitOK, "apply", "--auto-approve", "--hosts", c.dir)
		t.Logf("address change and failover:\n%s\n%s", out, errs)
		wantApplied(t, "the change", errs, "app-1", "cache-1", "db-2", "lb-1", "lb-2")
		c.hostsRightOf("after the address change and failover", realE2EGuests...)
		if code, vout := c.verify(); code != exitOK || !strings.Contains(vout, clean) {
			t.Errorf("verify after the change: exit %d\n%s", code, vout)
		}
	})

	t.Run("IPv6 and prefixes on every real stack", func(t *testing.T) { dualStackEveryStack(t, c, clean) })

	t.Run("reboot every real guest", func(t *testing.T) {
		for _, name := range realE2EGuests {
			in := c.fleet().Instance(name)
			c.reboot(in.ID)
			g := c.guest(name)
			if b := g.BootTimes(); len(b) > 0 {
				t.Logf("%s (%s): boots %v", name, g.Stack(), b)
			}
			c.hostsRightOf("after rebooting "+name, name)
			if code, vout := c.verify(); code != exitOK || !strings.Contains(vout, clean) {
				t.Errorf("verify after rebooting %s: exit %d\n%s\nboot log:\n%s", name, code, vout, g.BootLog())
			}
		}
		c.dualStackLive("after the reboots", realE2EGuests...)
	})
}

// noNotExecutedReal fails when a guest that runs for real is reported
// not executed.
func noNotExecutedReal(t *testing.T, what, out string) {
	t.Helper()
	for _, name := range realE2EGuests {
		if regexp.MustCompile(`(?m)^  ` + name + ` +i-\S+ +not executed`).MatchString(out) {
			t.Errorf("%s: %s runs for real but is reported not executed:\n%s", what, name, out)
		}
	}
}
