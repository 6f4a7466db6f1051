package main

// End-to-end tests of the host side against the emulator in hosts mode:
// every instance has a guest, and the ifupdown (lb-1, lb-2) and generic
// Linux (edge-1) guests are network namespaces that run what Cloud
// Assistant delivers, for real. They need root and the host tools; they
// skip with the reason otherwise, and fail instead with
// ECSNET_REQUIRE_REAL_TOOLS=1 (CI).

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/fixtures"
	"github.com/ecsnet/ecsnet/guest"
	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
)

// The guests whose stack runs for real in the emulator.
var realGuests = []string{"edge-1", "lb-1", "lb-2"}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// newHostsE2E starts the emulator in hosts mode on the example world and
// copies the example fleet (without its lock) to a temporary directory.
func newHostsE2E(t *testing.T) *e2e {
	t.Helper()
	return newHostsE2EWorld(t, func(*emulator.World) {})
}

// newHostsE2EWorld is newHostsE2E on the example world after edit. It
// gives the emulator no guest root: the NetworkManager, networkd and
// netplan hosts record their commands (newBootedE2E boots them).
func newHostsE2EWorld(t *testing.T, edit func(*emulator.World)) *e2e {
	t.Helper()
	return newHostsE2EConfig(t, edit, emulator.HostsConfig{})
}

// newHostsE2EConfig is newHostsE2EWorld with a hosts configuration (its
// Log is the test's).
func newHostsE2EConfig(t *testing.T, edit func(*emulator.World), cfg emulator.HostsConfig) *e2e {
	t.Helper()
	hosttest.RequireRoot(t)
	for _, tool := range []string{"ip", "unshare", "nsenter", "bash", "ifup", "mount"} {
		hosttest.RequireTool(t, tool)
	}
	w, err := exampleWorld()
	if err != nil {
		t.Fatal(err)
	}
	edit(w)
	cfg.Log = testLog{t}
	var tick atomic.Int64
	srv, err := emulator.New(w, emulator.Options{AsyncDelay: e2eAsyncDelay, Now: func() time.Time {
		return time.Now().Add(time.Duration(tick.Add(1)) * e2eAsyncDelay)
	}, Hosts: &cfg})
	if errors.Is(err, emulator.ErrHostsNeedRoot) {
		hosttest.Unavailable(t, "%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close the emulator's hosts: %v", err)
		}
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := &e2e{t: t, srv: srv, url: hs.URL, keyID: w.AccessKeys[0].AccessKeyId, secret: w.AccessKeys[0].AccessKeySecret,
		dir: t.TempDir() + "/example", initial: srv.State()}
	src, err := fixtures.Example.ReadFile("example/fleet.cue")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.writeFleet(string(src))
	return c
}

// guest returns the emulated host of an instance of the file.
func (c *e2e) guest(name string) *emulator.Host {
	c.t.Helper()
	in := c.fleet().Instance(name)
	if in == nil {
		c.t.Fatalf("no instance %s", name)
	}
	h := c.srv.Host(in.ID)
	if h == nil || !h.Runs() {
		c.t.Fatalf("%s has no guest that runs", name)
	}
	return h
}

// hostState is a guest's network state in comparable lines.
type hostState struct {
	Addrs, Rules, Routes, MainDefaults []string
}

func (s hostState) String() string {
	return fmt.Sprintf("addresses: %v\nrules: %v\nroutes: %v\nmain defaults: %v", s.Addrs, s.Rules, s.Routes, s.MainDefaults)
}

func (s hostState) equal(o hostState) bool {
	return slices.Equal(s.Addrs, o.Addrs) && slices.Equal(s.Rules, o.Rules) && slices.Equal(s.Routes, o.Routes) && slices.Equal(s.MainDefaults, o.MainDefaults)
}

// liveState reads a guest's state with ip -j (the emulator's accessors).
func (c *e2e) liveState(name string) hostState {
	c.t.Helper()
	g := c.guest(name)
	ctx := context.Background()
	var s hostState
	addrs, err := g.Addrs(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, a := range addrs {
		s.Addrs = append(s.Addrs, a.String())
	}
	rules, err := g.Rules(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, r := range rules {
		if !r.Default() {
			s.Rules = append(s.Rules, r.String())
		}
	}
	routes, err := g.Routes(ctx, "all")
	if err != nil {
		c.t.Fatal(err)
	}
	for _, r := range routes {
		switch {
		case r.Table == "all" || r.Table == "main" || r.Table == "":
			if r.Dst == "default" {
				s.MainDefaults = append(s.MainDefaults, fmt.Sprintf("default via %s dev %s", r.Gateway, r.Dev))
			}
		case r.Table != "local":
			s.Routes = append(s.Routes, r.String())
		}
	}
	slices.Sort(s.Addrs)
	slices.Sort(s.Rules)
	slices.Sort(s.Routes)
	slices.Sort(s.MainDefaults)
	return s
}

// wantState is what a guest must have by the render of the desired
// state and the lock: every address on its ENI's interface with the
// vSwitch prefix, a table and a rule per address for each secondary ENI,
// and only the primary's default route in the main table.
func (c *e2e) wantState(name string) hostState {
	c.t.Helper()
	hosts, err := render.Hosts(c.fleet(), c.lock())
	if err != nil {
		c.t.Fatal(err)
	}
	var h *render.Host
	for _, x := range hosts {
		if x.Name == name {
			h = x
		}
	}
	w := standin.Want(h)
	return hostState{Addrs: w.Addrs, Rules: w.Rules, Routes: w.Routes,
		MainDefaults: []string{fmt.Sprintf("default via %s dev eth0", h.Primary.Gateway)}}
}

// hostsRight checks every real guest against the render.
func (c *e2e) hostsRight(when string) {
	c.t.Helper()
	c.hostsRightOf(when, realGuests...)
}

// hostsRightOf checks the named guests against the render.
func (c *e2e) hostsRightOf(when string, names ...string) {
	c.t.Helper()
	for _, name := range names {
		if got, want := c.liveState(name), c.wantState(name); !got.equal(want) {
			c.t.Errorf("%s: %s: the host differs from the render\n--- got\n%s\n--- want\n%s", when, name, got, want)
		}
	}
}

// verify runs ecsnet verify and returns its exit code and output.
func (c *e2e) verify(args ...string) (int, string) {
	c.t.Helper()
	code, out, errs := c.run("verify", append(args, c.dir)...)
	return code, out + errs
}

func TestHostsE2E(t *testing.T) {
	t.Parallel() // hosts mode: each test has its own emulator and namespaces
	c := newHostsE2E(t)

	// From nothing to the example fleet, hosts included.
	// The guests of the stacks the emulator only records are "not
	// executed", with the emulator's reason, and make the exit code 1
	// (issue 15); the real ones are applied.
	out, errs := c.must(exitError, "apply", "--auto-approve", "--hosts", c.dir)
	if !strings.Contains(out, "instances to reconfigure with Cloud Assistant") {
		t.Errorf("the plan does not show the host steps:\n%s", out)
	}
	if !strings.Contains(errs, "result: applied and verified") {
		t.Fatalf("apply --hosts:\n%s", errs)
	}
	wantOutcomes(t, "apply --hosts", errs, "edge-1", "lb-1") // lb-2 has nothing to do yet
	t.Logf("apply --hosts:\n%s\n%s", out, errs)
	c.hostsRight("after the first apply --hosts")
	if code, vout := c.verify(); code != exitOK || !strings.Contains(vout, "Verify: 3 in sync, 0 with drift, 0 errors, 7 not checked.") {
		t.Fatalf("verify after apply --hosts: exit %d\n%s", code, vout)
	}

	// A second apply --hosts changes nothing: no cloud call, no host call.
	c.calls()
	out, _ = c.must(exitOK, "apply", "--auto-approve", "--hosts", c.dir)
	if !strings.Contains(out, "No changes.") || strings.Contains(out, "Hosts:") {
		t.Errorf("second apply --hosts:\n%s", out)
	}
	c.wantCalls(map[string]int{})

	t.Run("verify json", func(t *testing.T) {
		code, out, _ := c.run("verify", "--format", "json", c.dir)
		if code != exitOK || !strings.Contains(out, `"status": "in_sync"`) || !strings.Contains(out, `"not_checked": 7`) ||
			!strings.Contains(out, `"eth1 172.16.0.100/24"`) || !strings.Contains(out, `"1001: from 172.16.0.100/32 lookup 1001"`) {
			t.Errorf("verify --format json: exit %d\n%s", code, out)
		}
	})

	t.Run("address change and failover", func(t *testing.T) {
		c.edit(`secondaryIps: ["172.16.0.31"]`, `secondaryIps: ["172.16.0.32"]`)
		c.edit(`attachTo: "lb-1"`, `attachTo: "lb-2"`)
		out, errs := c.must(exitOK, "apply", "--auto-approve", "--hosts", c.dir)
		for _, want := range []string{"host-remove host/lb-1", "host-apply host/lb-2", "host-apply host/lb-1"} {
			if !strings.Contains(out, want) {
				t.Errorf("the plan lacks %s:\n%s", want, out)
			}
		}
		t.Logf("failover:\n%s\n%s", out, errs)
		c.hostsRight("after the failover")
		if got := c.liveState("lb-1"); slices.ContainsFunc(got.Addrs, func(a string) bool { return strings.Contains(a, "172.16.0.10") || strings.Contains(a, "172.16.0.31/") }) {
			t.Errorf("lb-1 keeps the VIP or the old address: %v", got.Addrs)
		}
		if code, vout := c.verify(); code != exitOK {
			t.Errorf("verify after the failover: exit %d\n%s", code, vout)
		}
		// The host step ran before the cloud took the VIP away.
		iRemove, iDetach := strings.Index(errs, "host-remove host/lb-1"), strings.Index(errs, "done     detach eni/vip")
		if iRemove < 0 || iDetach < 0 || iRemove > iDetach {
			t.Errorf("host-remove host/lb-1 did not finish before detach eni/vip:\n%s", errs)
		}
	})

	t.Run("a failing verification leaves the host as it was", func(t *testing.T) {
		before := c.liveState("lb-2")
		f, lock := c.fleet(), c.lock()
		h, err := render.LockedHost(f, lock, "lb-2")
		if err != nil {
			t.Fatal(err)
		}
		// A bundle that would change the host: one address fewer.
		h.Primary.Secondary = nil
		if len(h.Secondary) > 0 {
			h.Secondary[0].Secondary = h.Secondary[0].Secondary[:len(h.Secondary[0].Secondary)-1]
		}
		pl, err := hostPayload(h, guest.PayloadOptions{FailVerify: "injected by the e2e test"})
		if err != nil {
			t.Fatal(err)
		}
		cl := c.client()
		var last plan.HostResult
		for _, s := range pl.Scripts {
			rs, err := cl.RunScript(context.Background(), plan.HostScript{InstanceIDs: []string{h.InstanceID}, Content: s, Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			last = rs[0]
		}
		if guest.Exit(last.ExitCode) != guest.RolledBack || !strings.Contains(last.Output, "rolled back: verification failed: injected by the e2e test; the host is as it was before") {
			t.Fatalf("exit %d\n%s", last.ExitCode, last.Output)
		}
		if after := c.liveState("lb-2"); !after.equal(before) {
			t.Errorf("the host changed\n--- before\n%s\n--- after\n%s", before, after)
		}
		if code, vout := c.verify(); code != exitOK {
			t.Errorf("verify after the rollback: exit %d\n%s", code, vout)
		}
	})

	t.Run("a host changed by hand shows as drift", func(t *testing.T) {
		g := c.guest("lb-2")
		vip := c.lock().Secondary("vip")
		addr := fmt.Sprintf("%s/24", vip.Addrs()[0])
		if _, stderr, err := g.Exec(context.Background(), nil, "ip", "addr", "del", addr, "dev", "eth1"); err != nil {
			t.Fatalf("ip addr del: %v: %s", err, stderr)
		}
		code, vout := c.verify()
		if code != exitChanges || !strings.Contains(vout, "ENI vip on eth1: "+addr+" is missing") {
			t.Fatalf("verify after a change by hand: exit %d\n%s", code, vout)
		}
		code, out, _ := c.run("verify", "--format", "json", c.dir)
		if code != exitChanges || !strings.Contains(out, `"status": "drift"`) {
			t.Errorf("verify --format json: exit %d\n%s", code, out)
		}
		// push puts it back.
		pout, perr := c.must(exitOK, "push", "--instance", "lb-2", c.dir)
		if !strings.Contains(pout, "applied and verified") {
			t.Errorf("push:\n%s\n%s", pout, perr)
		}
		c.hostsRight("after push")
		if code, vout := c.verify(); code != exitOK {
			t.Errorf("verify after push: exit %d\n%s", code, vout)
		}
	})

	t.Run("a canary failure stops the rollout", func(t *testing.T) {
		// Every real guest gains an address; edge-1's host step comes
		// first in plan order and is the canary. Its ENI's interface
		// loses its MAC, so its apply script refuses.
		c.edit(`ip: "172.16.0.15", securityGroups: ["web"], secondaryIps: ["172.16.0.51"]`, `ip: "172.16.0.15", securityGroups: ["web"], secondaryIps: ["172.16.0.51", "172.16.0.52"]`)
		c.edit(`secondaryIps: ["172.16.0.32"]`, `secondaryIps: ["172.16.0.32", "172.16.0.33"]`)
		c.edit(`ip: "172.16.0.13", securityGroups: ["web"]`, `ip: "172.16.0.13", securityGroups: ["web"], secondaryIps: ["172.16.0.34"]`)
		g := c.guest("edge-1")
		edgeData := c.lock().Secondary("edge-1-data")
		if _, stderr, err := g.Exec(context.Background(), nil, "ip", "link", "set", "dev", "eth1", "address", "02:00:00:00:00:99"); err != nil {
			t.Fatalf("ip link set: %v: %s", err, stderr)
		}
		lb1, lb2 := c.liveState("lb-1"), c.liveState("lb-2")
		code, out, errs := c.run("apply", "--auto-approve", "--hosts", "--canary", "1", "--max-failures", "5", c.dir)
		if code != exitError {
			t.Fatalf("apply with a failing canary: exit %d\n%s\n%s", code, out, errs)
		}
		t.Logf("canary:\n%s", errs)
		if !strings.Contains(errs, "FAILED   host-apply host/edge-1") || !strings.Contains(errs, "exit 3 (refused; nothing changed)") {
			t.Errorf("the canary's failure is not reported:\n%s", errs)
		}
		for _, s := range []string{"host-apply host/lb-1", "host-apply host/lb-2"} {
			if !strings.Contains(errs, "skipped  "+s) || !strings.Contains(errs, "the host rollout stopped") {
				t.Errorf("%s was not stopped:\n%s", s, errs)
			}
		}
		if got := c.liveState("lb-1"); !got.equal(lb1) {
			t.Errorf("lb-1 changed after the canary failed:\n%s", got)
		}
		if got := c.liveState("lb-2"); !got.equal(lb2) {
			t.Errorf("lb-2 changed after the canary failed:\n%s", got)
		}
		// The canary's cloud steps ran; lb-1 and lb-2 were never
		// admitted, so the cloud did not give them their addresses either
		// (issue 16). Once edge-1 is repaired, push configures it, and
		// the same apply finishes lb-1 and lb-2.
		if pc, pout, _ := c.run("plan", "--hosts", c.dir); pc != exitOK || !strings.Contains(pout, "assign instance/lb-1") ||
			!strings.Contains(pout, "assign instance/lb-2") || strings.Contains(pout, "edge-1") {
			t.Errorf("the cloud after the canary failed: plan exit %d\n%s", pc, pout)
		}
		if _, stderr, err := g.Exec(context.Background(), nil, "ip", "link", "set", "dev", "eth1", "address", edgeData.MAC); err != nil {
			t.Fatalf("ip link set: %v: %s", err, stderr)
		}
		if pout, perr := c.must(exitOK, "push", "--instance", "edge-1", c.dir); !strings.Contains(pout, "\nPush: 1 host done of 1: 1 applied in ") {
			t.Errorf("push edge-1:\n%s\n%s", pout, perr)
		}
		c.must(exitOK, "apply", "--auto-approve", "--hosts", "--canary", "1", c.dir)
		c.hostsRight("after repairing edge-1, pushing to it and applying again")
		if code, vout := c.verify(); code != exitOK {
			t.Errorf("verify: exit %d\n%s", code, vout)
		}
	})

	// Nothing is left to do.
	out, _ = c.must(exitOK, "apply", "--auto-approve", "--hosts", c.dir)
	if !strings.Contains(out, "No changes.") {
		t.Errorf("final apply --hosts:\n%s", out)
	}
}

// wantOutcomes checks a hosts-mode report of the example fleet: every
// real guest applied, every guest the emulator only records (one per
// stack it cannot run: NetworkManager, netplan, networkd, wicked, ifcfg,
// Windows) not executed with the emulator's reason, never applied; the
// real guests named applied.
func wantOutcomes(t *testing.T, what, out string, applied ...string) {
	t.Helper()
	for _, name := range []string{"api-1", "app-1", "cache-1", "db-1", "db-2", "web-1", "win-1"} {
		re := regexp.MustCompile(`(?m)^  ` + name + ` +i-\S+ +not executed +\d+\.\ds  ecsnet emulator: ` + name + ` \(.*\): recorded, not executed \(.*$`)
		if !re.MatchString(out) {
			t.Errorf("%s: %s is not reported as not executed with the emulator's reason:\n%s", what, name, out)
		}
	}
	for _, name := range applied {
		re := regexp.MustCompile(`(?m)^  ` + name + ` +i-\S+ +applied +\d+\.\ds  applied and verified(; not probed: .+)?$`)
		if !re.MatchString(out) {
			t.Errorf("%s: %s is not reported as applied:\n%s", what, name, out)
		}
	}
}

// newRunnerE2E is the e2e harness with the emulator's Runner seam: every
// Cloud Assistant command is answered by fail (nil: success), without
// root. It records which instances got a command.
func newRunnerE2E(t *testing.T, fail func(instanceID string) bool) (*e2e, func() []string) {
	t.Helper()
	var mu sync.Mutex
	ran := map[string]bool{}
	runner := func(_ context.Context, cmd emulator.Command) (emulator.CommandResult, error) {
		mu.Lock()
		ran[cmd.InstanceId] = true
		mu.Unlock()
		if fail != nil && fail(cmd.InstanceId) {
			return emulator.CommandResult{ExitCode: int(guest.RolledBack),
				Output: []byte("ecsnet: x: result: rolled back: verification failed: injected; the host is as it was before\n")}, nil
		}
		return emulator.CommandResult{Output: []byte("ecsnet: x: result: applied and verified\n")}, nil
	}
	w, err := exampleWorld()
	if err != nil {
		t.Fatal(err)
	}
	var tick atomic.Int64
	srv, err := emulator.New(w, emulator.Options{AsyncDelay: e2eAsyncDelay, Runner: runner, Now: func() time.Time {
		return time.Now().Add(time.Duration(tick.Add(1)) * e2eAsyncDelay)
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := &e2e{t: t, srv: srv, url: hs.URL, keyID: w.AccessKeys[0].AccessKeyId, secret: w.AccessKeys[0].AccessKeySecret,
		dir: t.TempDir() + "/example", initial: srv.State()}
	src, err := fixtures.Example.ReadFile("example/fleet.cue")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.writeFleet(string(src))
	return c, func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for id := range ran {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
}

// TestHostsRolloutCanary: the first hosts in plan order (cache-1 and
// db-1, with their cloud steps) are the canary; db-1 fails, so no other
// host is admitted: none gets a command, and their cloud steps do not
// run either (issue 16: canary, batch and --max-failures gate both
// layers). The apply ends with the exact commands that finish the job;
// once the cause is dealt with, they do.
func TestHostsRolloutCanary(t *testing.T) {
	t.Parallel() // hosts mode: each test has its own emulator and namespaces
	var broken atomic.Bool
	broken.Store(true)
	c, ran := newRunnerE2E(t, func(id string) bool { return broken.Load() && id == "i-bp1db0000001" })
	code, out, errs := c.run("apply", "--auto-approve", "--hosts", "--canary", "2", "--max-failures", "9", c.dir)
	if code != exitError {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if got, want := ran(), []string{"i-bp1cache0001", "i-bp1db0000001"}; !slices.Equal(got, want) {
		t.Errorf("commands reached %v, want only the canary %v\n%s", got, want, errs)
	}
	if !strings.Contains(errs, "FAILED   host-apply host/db-1") || !strings.Contains(errs, "exit 5 (failed and rolled back; the host is as it was)") {
		t.Errorf("the canary's failure is not reported:\n%s", errs)
	}
	// The hosts not admitted kept their cloud state: lb-1 got neither
	// its address nor the VIP; the canary's cloud steps ran.
	for _, s := range []string{"assign instance/lb-1", "attach eni/vip", "assign instance/web-1", "attach eni/web-1-data"} {
		if !strings.Contains(errs, "skipped  "+s+" ") {
			t.Errorf("%s was not stopped before the cloud:\n%s", s, errs)
		}
	}
	for _, s := range []string{"assign instance/cache-1", "attach eni/cache-1-data", "attach eni/db-1-repl"} {
		if !strings.Contains(errs, "done     "+s+" ") {
			t.Errorf("the canary's %s did not run:\n%s", s, errs)
		}
	}
	pc, pout, _ := c.run("plan", "--hosts", c.dir)
	if pc != exitOK || !strings.Contains(pout, "attach eni/vip") || !strings.Contains(pout, "host-apply host/lb-1") || strings.Contains(pout, "attach eni/cache-1-data") {
		t.Errorf("the cloud after the canary failed: plan exit %d\n%s", pc, pout)
	}
	// The exact commands that finish the job: the same apply for the
	// hosts not admitted, push for db-1, whose cloud steps ran.
	applyCmd := "ecsnet apply --hosts --canary 2 --max-failures 9 --endpoint " + c.url + " " + c.dir
	pushCmd := "ecsnet push --instance db-1 --endpoint " + c.url + " " + c.dir
	if !strings.Contains(errs, "\n  "+applyCmd+"\n") || !strings.HasSuffix(errs, "\n  "+pushCmd+"\n") {
		t.Fatalf("apply does not end with the commands that finish the job:\n%s", errs)
	}
	broken.Store(false)
	for _, cmd := range []string{applyCmd, pushCmd} {
		args := strings.Fields(cmd)[1:]
		if args[0] == "apply" {
			args = append([]string{"apply", "--auto-approve"}, args[1:]...)
		}
		if code, out, errs := c.run(args[0], args[1:]...); code != exitOK {
			t.Fatalf("%s: exit %d\n%s\n%s", cmd, code, out, errs)
		}
	}
	c.must(exitOK, "plan", "--detailed-exitcode", c.dir)
}

// TestHostsRolloutMaxFailures: one host at a time, two may fail; the
// third failure stops the rollout. Every host fails, so exactly three
// get a command, and the hosts after them keep their cloud state.
func TestHostsRolloutMaxFailures(t *testing.T) {
	t.Parallel() // hosts mode: each test has its own emulator and namespaces
	c, ran := newRunnerE2E(t, func(string) bool { return true })
	code, out, errs := c.run("apply", "--auto-approve", "--hosts", "--hosts-batch", "1", "--max-failures", "2", c.dir)
	if code != exitError {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if n := strings.Count(errs, "  FAILED   host-apply"); n != 3 {
		t.Errorf("%d host steps failed, want 3 (the third stops the rollout):\n%s", n, errs)
	}
	if got := len(ran()); got != 3 {
		t.Errorf("%d hosts got a command, want 3: %v\n%s", got, ran(), errs)
	}
	if !strings.Contains(errs, "skipped  assign instance/lb-1 ") || !strings.Contains(errs, "skipped  attach eni/vip ") {
		t.Errorf("the cloud steps of the hosts after the third failure ran:\n%s", errs)
	}
	// push with the same rollout: the hosts whose cloud steps ran, in
	// name order, one at a time; the others are refused (run apply).
	pc, pout, perrs := c.run("push", "--hosts-batch", "1", "--max-failures", "2", "--instance", "cache-1,db-1,edge-1", c.dir)
	if pc != exitError || !strings.Contains(pout, "Push: 0 hosts done of 3: 3 rolled back") ||
		!strings.Contains(pout, "host-apply host/cache-1\n  cache-1 ") {
		t.Errorf("push: exit %d\n%s\n%s", pc, pout, perrs)
	}
}
