package main

// End-to-end tests of ecsnet failover and apply's failback guard, against
// the emulator over real HTTP (see e2e_test.go).

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// oneLineChanged fails unless a and b differ in exactly one line, which
// must read want in b; every other byte is the same.
func oneLineChanged(t *testing.T, a, b []byte, want string) {
	t.Helper()
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	if len(la) != len(lb) {
		t.Fatalf("the edit changed the number of lines: %d, then %d", len(la), len(lb))
	}
	var diff []string
	for i := range la {
		if !bytes.Equal(la[i], lb[i]) {
			diff = append(diff, string(la[i])+" => "+string(lb[i]))
			if strings.TrimSpace(string(lb[i])) != want {
				t.Errorf("line %d is now %q, want %q", i+1, lb[i], want)
			}
		}
	}
	if len(diff) != 1 {
		t.Errorf("%d lines changed, want 1: %q", len(diff), diff)
	}
}

// vipOn returns the instance ID the cloud has the vip ENI on, and its
// failover tag.
func (c *e2e) vipOn() (instance, record string) {
	c.t.Helper()
	ns := fleetENIs(c.srv.State())["vip"]
	if len(ns) != 1 {
		c.t.Fatalf("%d vip ENIs in the cloud", len(ns))
	}
	return ns[0].InstanceId, tag(ns[0], plan.TagFailover)
}

// TestFailoverE2E: on the applied example, failover edits exactly the
// attachTo line of fleet.cue, moves the ENI with one detach and one
// attach, records the move on the ENI and in the lock, and prints the git
// commands. Then the failback guard: the old file fails apply, naming the
// failover and --allow-failback, with no call that changes the cloud;
// --allow-failback moves it back and clears the record. A second failover
// and the agreeing file: apply clears the record and moves nothing.
func TestFailoverE2E(t *testing.T) {
	c := appliedE2E(t, nil)
	before, err := os.ReadFile(c.fleetPath())
	if err != nil {
		t.Fatal(err)
	}
	out, errs := c.must(exitOK, "failover", "vip", "--to", "lb-2", c.dir)
	after, _ := os.ReadFile(c.fleetPath())
	oneLineChanged(t, before, after, `attachTo: "lb-2"`)
	c.wantCalls(map[string]int{"DetachNetworkInterface": 1, "AttachNetworkInterface": 1, "TagResources": 2})
	on, record := c.vipOn()
	if on != "i-bp1lb0000002" || !strings.HasPrefix(record, "to=i-bp1lb0000002 name=lb-2 at=") {
		t.Errorf("vip on %s, record %q; want lb-2 and its record", on, record)
	}
	if fo := c.lock().Secondary("vip").Failover; fo == nil || fo.To != "lb-2" || fo.At.IsZero() {
		t.Errorf("lock's failover record %+v", fo)
	}
	if c.lock().Secondary("vip").AttachedTo != "lb-2" {
		t.Errorf("lock: vip attached to %q", c.lock().Secondary("vip").AttachedTo)
	}
	wantGit := "git -C " + c.dir + " add fleet.cue ecsnet.lock.json && git -C " + c.dir + " commit -m 'failover vip to lb-2'"
	if !strings.Contains(out, wantGit) || !strings.Contains(out, vipAt(t)+`:13: enis."vip".attachTo: "lb-1" -> "lb-2"`) {
		t.Errorf("failover output lacks the edit or %q:\nstdout:\n%s\nstderr:\n%s", wantGit, out, errs)
	}
	c.converged(nil)

	// The old desired state (a merge written before the incident).
	c.writeFleet(string(before))
	code, out, errs := c.run("apply", "--auto-approve", c.dir)
	if code != exitError || !strings.Contains(errs, "ecsnet failover moved ENI") || !strings.Contains(errs, "--allow-failback") ||
		!strings.Contains(errs, vipAt(t)+":13") || !strings.Contains(errs, " at 20") {
		t.Errorf("apply of the old file: exit %d, want 1 and the failover named at attachTo\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	c.wantCalls(map[string]int{})
	if on, _ := c.vipOn(); on != "i-bp1lb0000002" {
		t.Errorf("the refused apply moved vip to %s", on)
	}

	_, errs = c.apply("--allow-failback")
	if on, record := c.vipOn(); on != "i-bp1lb0000001" || record != "" {
		t.Errorf("after --allow-failback: vip on %s, record %q; want lb-1 and none", on, record)
	}
	if fo := c.lock().Secondary("vip").Failover; fo != nil || !strings.Contains(errs, "Cleared the failover record of ENI vip") {
		t.Errorf("after --allow-failback: lock record %+v\n%s", fo, errs)
	}
	c.converged(nil)

	// Fail over again; this time the file with the failover is merged.
	c.must(exitOK, "failover", "vip", "--to", "lb-2", c.dir)
	edited, _ := os.ReadFile(c.fleetPath())
	c.calls()
	_, errs = c.apply()
	// The lease (one tag, one untag) and the record's untag: nothing moves.
	if mut, calls := c.calls(); mut != 3 || calls["UntagResources"] != 2 || calls["TagResources"] != 1 {
		t.Errorf("the agreeing apply made %d mutating calls (%v), want the lease's two and one UntagResources", mut, calls)
	}
	if on, record := c.vipOn(); on != "i-bp1lb0000002" || record != "" || c.lock().Secondary("vip").Failover != nil {
		t.Errorf("the agreeing apply: vip on %s, record %q, lock %+v; want lb-2 and no record", on, record, c.lock().Secondary("vip").Failover)
	}
	if !strings.Contains(errs, "Cleared the failover record of ENI vip: the desired state attaches it to lb-2.") {
		t.Errorf("the agreeing apply does not say it cleared the record:\n%s", errs)
	}
	lock1, _ := os.ReadFile(c.lockPath())
	c.apply()
	c.wantCalls(map[string]int{})
	if lock2, _ := os.ReadFile(c.lockPath()); !bytes.Equal(lock1, lock2) {
		t.Error("a no-op apply after the record was cleared rewrote the lock")
	}
	if now, _ := os.ReadFile(c.fleetPath()); !bytes.Equal(now, edited) {
		t.Error("apply changed the desired state")
	}
}

// Two-host fleets on the example world, in YAML and JSON, with a comment
// where the syntax has one: the failover must keep it.
const (
	failoverYAML = `# lb-1 and lb-2 share the VIP
fleet: shop-prod
region: cn-hangzhou
vswitches:
  app-h: {id: vsw-bp1app0000h, zone: cn-hangzhou-h, cidr: 172.16.0.0/24}
securityGroups:
  web: {id: sg-bp1web000001}
instances:
  lb-1:
    id: i-bp1lb0000001
    type: ecs.g7.large
    os: debian12
    primary: {vswitch: app-h, ip: 172.16.0.12, securityGroups: [web], secondaryIps: [172.16.0.31]}
  lb-2:
    id: i-bp1lb0000002
    type: ecs.g7.large
    os: debian12
    primary: {vswitch: app-h, ip: 172.16.0.13, securityGroups: [web]}
enis:
  vip:
    vswitch: app-h
    securityGroups: [web]
    primaryIp: 172.16.0.100
    secondaryIps: [172.16.0.101, 172.16.0.102]
    attachTo: lb-1 # the active load balancer
`
	failoverJSON = `{
  "fleet": "shop-prod",
  "region": "cn-hangzhou",
  "vswitches": {"app-h": {"id": "vsw-bp1app0000h", "zone": "cn-hangzhou-h", "cidr": "172.16.0.0/24"}},
  "securityGroups": {"web": {"id": "sg-bp1web000001"}},
  "instances": {
    "lb-1": {"id": "i-bp1lb0000001", "type": "ecs.g7.large", "os": "debian12",
      "primary": {"vswitch": "app-h", "ip": "172.16.0.12", "securityGroups": ["web"], "secondaryIps": ["172.16.0.31"]}},
    "lb-2": {"id": "i-bp1lb0000002", "type": "ecs.g7.large", "os": "debian12",
      "primary": {"vswitch": "app-h", "ip": "172.16.0.13", "securityGroups": ["web"]}}
  },
  "enis": {
    "vip": {
      "vswitch": "app-h",
      "securityGroups": ["web"],
      "primaryIp": "172.16.0.100",
      "secondaryIps": ["172.16.0.101", "172.16.0.102"],
      "attachTo": "lb-1"
    }
  }
}
`
)

// TestFailoverE2EYAMLJSON: a YAML and a JSON fleet fail over with a
// one-line diff each, and the cloud follows.
func TestFailoverE2EYAMLJSON(t *testing.T) {
	for _, tc := range []struct{ name, file, src, want string }{
		{"yaml", "fleet.yaml", failoverYAML, "attachTo: lb-2 # the active load balancer"},
		{"json", "fleet.json", failoverJSON, `"attachTo": "lb-2"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newE2E(t, nil)
			os.Remove(c.fleetPath())
			p := filepath.Join(c.dir, tc.file)
			if err := os.WriteFile(p, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			c.apply()
			c.calls()
			c.must(exitOK, "failover", "vip", "--to", "lb-2", c.dir)
			after, _ := os.ReadFile(p)
			oneLineChanged(t, []byte(tc.src), after, tc.want)
			c.wantCalls(map[string]int{"DetachNetworkInterface": 1, "AttachNetworkInterface": 1, "TagResources": 2})
			if on, _ := c.vipOn(); on != "i-bp1lb0000002" {
				t.Errorf("vip on %s, want lb-2", on)
			}
			c.converged(nil)
		})
	}
}

// TestFailoverE2ERefuses: an attachTo that is not one literal, other
// changes pending, an unknown or invalid target: exit 1, the file byte for
// byte as it was, and no call that changes the cloud.
func TestFailoverE2ERefuses(t *testing.T) {
	c := appliedE2E(t, nil)
	original, _ := os.ReadFile(c.fleetPath())
	for _, tc := range []struct {
		name   string
		edit   func()
		to     string
		wanted []string
	}{
		{"reference", func() {
			c.edit(`attachTo: "lb-1"`, `attachTo: _active`)
			src, _ := os.ReadFile(c.fleetPath())
			c.writeFleet(string(src) + "\n_active: \"lb-1\"\n")
		}, "lb-2", []string{vipAt(t) + ":", `enis."vip".attachTo: attachTo is not one literal`}},
		{"pending", func() { c.edit(`"172.16.0.101", "172.16.0.102"`, `"172.16.0.101", "172.16.0.103"`) }, "lb-2",
			[]string{"changes that are not applied yet", "assign eni/vip", "unassign eni/vip", "nothing was changed"}},
		{"unknown", nil, "lb-9", []string{vipAt(t) + `:13: enis."vip".attachTo: --to lb-9: the desired state has no instance "lb-9"`, "lb-2"}},
		// app-1 is in zone i, the VIP's vSwitch in zone h.
		{"other zone", nil, "app-1", []string{`would be invalid`, "zone"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.writeFleet(string(original))
			if tc.edit != nil {
				tc.edit()
			}
			src, _ := os.ReadFile(c.fleetPath())
			lock, _ := os.ReadFile(c.lockPath())
			c.calls()
			code, out, errs := c.run("failover", "vip", "--to", tc.to, c.dir)
			if code != exitError {
				t.Errorf("exit %d, want 1", code)
			}
			for _, w := range tc.wanted {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\nstdout:\n%s\nstderr:\n%s", w, out, errs)
				}
			}
			if now, _ := os.ReadFile(c.fleetPath()); !bytes.Equal(now, src) {
				t.Error("the desired state changed")
			}
			if now, _ := os.ReadFile(c.lockPath()); !bytes.Equal(now, lock) {
				t.Error("the lock changed")
			}
			c.wantCalls(map[string]int{})
			if on, record := c.vipOn(); on != "i-bp1lb0000001" || record != "" {
				t.Errorf("vip on %s with record %q", on, record)
			}
		})
	}
}

// TestFailoverBadArgs: a failover without --to, ENI or PATH, or with the
// desired state on standard input, is refused before anything is read.
func TestFailoverBadArgs(t *testing.T) {
	c := newE2E(t, nil)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"vip", c.dir}, "--to INSTANCE is required"},
		{[]string{"--to", "lb-2", c.dir}, "name the ENI and the desired-state PATH"},
		{[]string{"vip", "--to", "lb-2", "-"}, "standard input"},
		{[]string{"nope", "--to", "lb-2", c.dir}, `no ENI "nope"`},
	} {
		code, out, errs := c.run("failover", tc.args...)
		if code != exitError || !strings.Contains(errs, tc.want) {
			t.Errorf("failover %v: exit %d, want 1 and %q\nstdout:\n%s\nstderr:\n%s", tc.args, code, tc.want, out, errs)
		}
	}
	c.wantCalls(map[string]int{})
}

// TestFailbackGuardIgnoresSavedPlanAndLock: after a failover, neither a
// plan saved from the old desired state nor a lock without the record
// lifts the guard: it reads the ENI's tag.
func TestFailbackGuardIgnoresSavedPlanAndLock(t *testing.T) {
	c := appliedE2E(t, nil)
	before, _ := os.ReadFile(c.fleetPath())
	c.must(exitOK, "failover", "vip", "--to", "lb-2", c.dir)
	c.writeFleet(string(before))
	c.writeLock(func(l *schema.Lock) { l.Secondary("vip").Failover = nil })
	saved := filepath.Join(t.TempDir(), "plan.json")
	pout, _ := c.must(exitChanges, "plan", "--detailed-exitcode", "--save", saved, c.dir)
	if !strings.Contains(pout, "apply will refuse this plan without --allow-failback: ") || !strings.Contains(pout, vipAt(t)+":13") {
		t.Errorf("the plan does not say apply will refuse it:\n%s", pout)
	}
	c.calls()
	code, out, errs := c.run("apply", "--auto-approve", "--plan", saved, c.dir)
	if code != exitError || !strings.Contains(errs, "ecsnet failover moved ENI") {
		t.Errorf("apply --plan of the old desired state: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	c.wantCalls(map[string]int{})
	if on, record := c.vipOn(); on != "i-bp1lb0000002" || record == "" {
		t.Errorf("vip on %s with record %q, want lb-2 and the record", on, record)
	}
}

// TestFailoverRefusesSymlink: a desired-state file that is a symbolic
// link is never written through (nor replaced by a file): refused,
// nothing changed.
func TestFailoverRefusesSymlink(t *testing.T) {
	c := appliedE2E(t, nil)
	real := filepath.Join(t.TempDir(), "real.cue")
	src, _ := os.ReadFile(c.fleetPath())
	if err := os.WriteFile(real, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(c.fleetPath()); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, c.fleetPath()); err != nil {
		t.Fatal(err)
	}
	code, out, errs := c.run("failover", "vip", "--to", "lb-2", c.fleetPath())
	if code != exitError || !strings.Contains(errs, "symbolic link") {
		t.Errorf("exit %d, want 1 and the link named\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if st, err := os.Lstat(c.fleetPath()); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v", err)
	}
	if now, _ := os.ReadFile(real); !bytes.Equal(now, src) {
		t.Error("the link's target changed")
	}
	c.wantCalls(map[string]int{})
}

// TestFailoverE2EDeadSource: the runbook's case. lb-1, which holds the
// VIP, is stopped; failover --hosts edits the file, skips lb-1's
// host-remove (not reachable, so exit 1: a step did not run), moves the
// VIP, configures lb-2, and still prints both the push that cleans lb-1
// when it is back and the git commands.
func TestFailoverE2EDeadSource(t *testing.T) {
	c, ran := newRunnerE2E(t, nil)
	c.must(exitOK, "apply", "--auto-approve", "--hosts", c.dir)
	c.power("StopInstance", lb1ID, plan.InstanceStopped)
	before, _ := os.ReadFile(c.fleetPath())
	code, out, errs := c.run("failover", "vip", "--to", "lb-2", "--hosts", c.dir)
	if code != exitError {
		t.Errorf("exit %d, want 1 (lb-1's host-remove did not run)", code)
	}
	after, _ := os.ReadFile(c.fleetPath())
	oneLineChanged(t, before, after, `attachTo: "lb-2"`)
	for _, want := range []string{"  done     host-apply host/lb-2 ", "  skipped  host-remove host/lb-1 ", "ecsnet push --instance lb-1"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if !strings.Contains(out, "git -C "+c.dir+" add fleet.cue ecsnet.lock.json") {
		t.Errorf("no git commands:\n%s", out)
	}
	if on, record := c.vipOn(); on != "i-bp1lb0000002" || record == "" {
		t.Errorf("vip on %s, record %q", on, record)
	}
	if !slices.Contains(ran(), "i-bp1lb0000002") {
		t.Errorf("lb-2 never got a command: %v", ran())
	}
}

// TestFailoverE2EResume: a failover whose file edit landed but whose move
// did not (or a hand edit not applied yet) is finished by running it
// again: the file is left as it is, the ENI moves and the move is
// recorded.
func TestFailoverE2EResume(t *testing.T) {
	c := appliedE2E(t, nil)
	c.edit(`attachTo: "lb-1"`, `attachTo: "lb-2"`)
	edited, _ := os.ReadFile(c.fleetPath())
	out, errs := c.must(exitOK, "failover", "vip", "--to", "lb-2", c.dir)
	if now, _ := os.ReadFile(c.fleetPath()); !bytes.Equal(now, edited) {
		t.Error("the file changed")
	}
	if strings.Contains(out, `-> "lb-2"`) {
		t.Errorf("failover says it edited the file:\n%s", out)
	}
	c.wantCalls(map[string]int{"DetachNetworkInterface": 1, "AttachNetworkInterface": 1, "TagResources": 2})
	if on, record := c.vipOn(); on != "i-bp1lb0000002" || record == "" {
		t.Errorf("vip on %s, record %q\n%s\n%s", on, record, out, errs)
	}
	c.converged(nil)
}

// vipAt returns "fleet.cue:N", N being the line of the example fleet's
// attachTo of ENI vip, where failover splices and the errors point: the
// example grows, and a number written here went stale with it.
func vipAt(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "example", "fleet.cue"))
	if err != nil {
		t.Fatal(err)
	}
	in := false
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), `"vip": {`) {
			in = true
		}
		if in && strings.HasPrefix(strings.TrimSpace(line), "attachTo:") {
			return "fleet.cue:" + strconv.Itoa(i+1)
		}
	}
	t.Fatal("the example fleet has no attachTo in ENI vip")
	return ""
}
