package main

// End-to-end tests of the CLI against the emulator over real HTTP on
// loopback: every scenario runs `ecsnet ...` in-process through run, with
// an environment that holds only the world's access key, and checks the
// exit code, the output, the lock and the emulator's state and call
// counters.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/fixtures"
	"github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// e2eAsyncDelay is how long attach, detach and delete take on the
// emulator's clock. The clock below advances by this much on every
// reading, so a transition is always done by the next request: the
// client's first poll (made at once) sees it, and its 1 s polling
// interval, which the CLI does not expose, never sleeps.
const e2eAsyncDelay = time.Millisecond

// e2e is one emulator serving the example world over HTTP, and a copy of
// the example fleet in a temporary directory.
type e2e struct {
	t       *testing.T
	srv     *emulator.Server
	url     string
	keyID   string
	secret  string
	dir     string // the fleet's directory; the lock goes here
	initial *emulator.World
}

// newE2E starts the emulator on the example world, after edit (if any)
// has changed the world.
func newE2E(t *testing.T, edit func(*emulator.World)) *e2e {
	t.Helper()
	w, err := exampleWorld()
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(w)
	}
	var tick atomic.Int64
	srv, err := emulator.New(w, emulator.Options{AsyncDelay: e2eAsyncDelay, Now: func() time.Time {
		return time.Now().Add(time.Duration(tick.Add(1)) * e2eAsyncDelay)
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := &e2e{t: t, srv: srv, url: hs.URL, keyID: w.AccessKeys[0].AccessKeyId, secret: w.AccessKeys[0].AccessKeySecret,
		dir: filepath.Join(t.TempDir(), "example"), initial: srv.State()}
	// Only the fleet: the example's lock belongs to another apply, and
	// these scenarios start from scratch.
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

// env returns an environment whose only variables are the access key.
func (c *e2e) env(stdin string) (env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	vars := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": c.keyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": c.secret}
	return env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}, &out, &errb
}

// run runs `ecsnet CMD --endpoint URL ARGS...`.
func (c *e2e) run(cmd string, args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	e, out, errb := c.env("")
	code = run(append([]string{cmd, "--endpoint", c.url}, args...), e)
	return code, out.String(), errb.String()
}

// must runs a command and fails the test unless it exits with want.
func (c *e2e) must(want int, cmd string, args ...string) (stdout, stderr string) {
	c.t.Helper()
	code, out, errs := c.run(cmd, args...)
	if code != want {
		c.t.Fatalf("ecsnet %s %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", cmd, strings.Join(args, " "), code, want, out, errs)
	}
	return out, errs
}

func (c *e2e) fleetPath() string { return filepath.Join(c.dir, "fleet.cue") }
func (c *e2e) lockPath() string  { return filepath.Join(c.dir, schema.LockFileName) }

func (c *e2e) writeFleet(src string) {
	c.t.Helper()
	if err := os.WriteFile(c.fleetPath(), []byte(src), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// edit replaces old by new in the fleet file; old must occur exactly once.
func (c *e2e) edit(old, new string) {
	c.t.Helper()
	src, err := os.ReadFile(c.fleetPath())
	if err != nil {
		c.t.Fatal(err)
	}
	if n := strings.Count(string(src), old); n != 1 {
		c.t.Fatalf("fleet edit: %q occurs %d times, want 1", old, n)
	}
	c.writeFleet(strings.Replace(string(src), old, new, 1))
}

// apply runs apply --auto-approve and expects it to converge.
func (c *e2e) apply(args ...string) (stdout, stderr string) {
	c.t.Helper()
	out, errs := c.must(exitOK, "apply", append([]string{"--auto-approve"}, append(args, c.dir)...)...)
	if !strings.Contains(errs, "The cloud matches the desired state.") {
		c.t.Fatalf("apply did not report convergence:\n%s", errs)
	}
	return out, errs
}

// calls returns the counters since the last reset, and resets them.
func (c *e2e) calls() (mutating int, byAction map[string]int) {
	mutating, byAction = c.srv.MutatingCalls(), c.srv.Calls()
	c.srv.ResetCounters()
	return mutating, byAction
}

// wantCalls checks the mutating calls since the last reset, action by
// action (actions not named must be 0), and resets the counters.
func (c *e2e) wantCalls(want map[string]int) {
	c.t.Helper()
	_, got := c.calls()
	total := 0
	for _, n := range want {
		total += n
	}
	mut := map[string]int{}
	for a, n := range got {
		if mutatingAction(a) && n > 0 {
			mut[a] = n
		}
	}
	// An apply with changes takes and releases the fleet's lease: a
	// TagResources and an UntagResources (more when retried). Only import
	// tags otherwise. An apply that refuses, or has nothing to do, takes
	// no lease, so the zero-call checks stay exact.
	if len(want) > 0 {
		if _, tagging := want["TagResources"]; !tagging {
			delete(mut, "TagResources")
		}
		delete(mut, "UntagResources")
	}
	if fmt.Sprint(mut) != fmt.Sprint(want) {
		c.t.Errorf("mutating calls %v, want %v (all calls: %v)", mut, want, got)
	}
}

func mutatingAction(a string) bool {
	switch a {
	case "CreateNetworkInterface", "AttachNetworkInterface", "DetachNetworkInterface", "DeleteNetworkInterface",
		"ModifyNetworkInterfaceAttribute", "AssignPrivateIpAddresses", "UnassignPrivateIpAddresses",
		"TagResources", "UntagResources", "RunCommand":
		return true
	}
	return false
}

// client is an SDK client for changes made "by hand" behind ecsnet's back.
func (c *e2e) client() *ecs.Client {
	c.t.Helper()
	cl, err := ecs.New(ecs.Config{Region: "cn-hangzhou", Endpoint: c.url, WaitInterval: time.Millisecond,
		Credentials: ecs.Credentials{AccessKeyID: c.keyID, AccessKeySecret: c.secret}})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(cl.Close)
	return cl
}

func (c *e2e) fleet() *schema.Fleet {
	c.t.Helper()
	f, err := schema.Load([]string{c.dir}, schema.LoadOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return f
}

func (c *e2e) lock() *schema.Lock {
	c.t.Helper()
	data, err := os.ReadFile(c.lockPath())
	if err != nil {
		c.t.Fatal(err)
	}
	l, err := schema.ReadLock(bytes.NewReader(data), c.lockPath())
	if err != nil {
		c.t.Fatal(err)
	}
	return l
}

// fleetENIs returns the cloud's secondary ENIs tagged with the example
// fleet, by the tagged name.
func fleetENIs(w *emulator.World) map[string][]emulator.NetworkInterface {
	out := map[string][]emulator.NetworkInterface{}
	for _, n := range w.NetworkInterfaces {
		if tag(n, plan.TagFleet) == "shop-prod" {
			out[tag(n, plan.TagENI)] = append(out[tag(n, plan.TagENI)], n)
		}
	}
	return out
}

func tag(n emulator.NetworkInterface, key string) string {
	for _, t := range n.Tags {
		if t.TagKey == key {
			return t.TagValue
		}
	}
	return ""
}

func eniByID(w *emulator.World, id string) *emulator.NetworkInterface {
	for i := range w.NetworkInterfaces {
		if w.NetworkInterfaces[i].NetworkInterfaceId == id {
			return &w.NetworkInterfaces[i]
		}
	}
	return nil
}

func instanceByID(w *emulator.World, id string) *emulator.Instance {
	for i := range w.Instances {
		if w.Instances[i].InstanceId == id {
			return &w.Instances[i]
		}
	}
	return nil
}

func sortedStrings(s []string) []string {
	s = slices.Clone(s)
	sort.Slice(s, func(i, j int) bool {
		a, erra := netip.ParseAddr(s[i])
		b, errb := netip.ParseAddr(s[j])
		if erra == nil && errb == nil {
			return a.Less(b)
		}
		return s[i] < s[j]
	})
	if s == nil {
		s = []string{}
	}
	return s
}

func addrStrs(as []netip.Addr) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}

// converged checks the emulator against the desired state and the lock:
// every fleet ENI exists exactly once, where the file wants it, with
// exactly the addresses the lock records (pinned ones as the file pins
// them, counted ones as many as the file counts); every instance's primary
// ENI likewise; no other ENI carries the fleet's tags; and the ENIs of the
// initial world that ecsnet does not own are as they were. extra lists
// addresses added by hand that are expected to stay, by ENI ID.
func (c *e2e) converged(extra map[string][]string) {
	c.t.Helper()
	f, l, w := c.fleet(), c.lock(), c.srv.State()
	owned := fleetENIs(w)
	for name, ns := range owned {
		if f.ENI(name) == nil {
			c.t.Errorf("ENI %s carries the tags of %q, which the file does not name", ns[0].NetworkInterfaceId, name)
		}
	}
	checkAddrs := func(what, id string, have []string, want schema.Secondaries, locked *schema.LockedENI) {
		have = sortedStrings(have)
		if locked == nil {
			c.t.Errorf("%s: not in the lock", what)
			return
		}
		if locked.ID != id {
			c.t.Errorf("%s: lock says %s, the cloud has %s", what, locked.ID, id)
		}
		rec := sortedStrings(append(addrStrs(locked.Addrs()), extra[id]...))
		if !slices.Equal(have, rec) {
			c.t.Errorf("%s (%s): cloud has %v, lock (+ hand-made %v) records %v", what, id, have, extra[id], rec)
		}
		if want.Counted {
			if len(locked.Addrs()) != want.Count {
				c.t.Errorf("%s: %d addresses recorded, the file counts %d", what, len(locked.Addrs()), want.Count)
			}
		} else if got, pin := sortedStrings(addrStrs(locked.Addrs())), sortedStrings(addrStrs(want.PinnedAddrs())); !slices.Equal(got, pin) {
			c.t.Errorf("%s: lock records %v, the file pins %v", what, got, pin)
		}
	}
	for _, x := range f.ENIs {
		ns := owned[x.Name]
		if x.ID != "" {
			ns = nil
			if n := eniByID(w, x.ID); n != nil {
				ns = append(ns, *n)
			}
		}
		if len(ns) != 1 {
			c.t.Errorf("eni/%s: %d ENIs in the cloud, want 1", x.Name, len(ns))
			continue
		}
		n := ns[0]
		wantInst := ""
		if x.AttachTo != "" {
			wantInst = f.Instance(x.AttachTo).ID
		}
		if n.InstanceId != wantInst {
			c.t.Errorf("eni/%s: attached to %q, want %q", x.Name, n.InstanceId, wantInst)
		}
		if v := f.VSwitch(x.VSwitch); n.VSwitchId != v.ID {
			c.t.Errorf("eni/%s: vSwitch %s, want %s", x.Name, n.VSwitchId, v.ID)
		}
		var sgs []string
		for _, g := range x.SecurityGroups {
			sgs = append(sgs, f.SecurityGroup(g).ID)
		}
		if !slices.Equal(sortedStrings(n.SecurityGroupIds), sortedStrings(sgs)) {
			c.t.Errorf("eni/%s: security groups %v, want %v", x.Name, n.SecurityGroupIds, sgs)
		}
		if x.PrimaryIP.IsValid() && n.PrivateIpAddress != x.PrimaryIP.String() {
			c.t.Errorf("eni/%s: primary address %s, want %s", x.Name, n.PrivateIpAddress, x.PrimaryIP)
		}
		locked := l.Secondary(x.Name)
		if locked != nil && locked.PrimaryIP.String() != n.PrivateIpAddress {
			c.t.Errorf("eni/%s: lock records primary %s, cloud has %s", x.Name, locked.PrimaryIP, n.PrivateIpAddress)
		}
		if locked != nil && locked.AttachedTo != x.AttachTo {
			c.t.Errorf("eni/%s: lock says attached to %q, want %q", x.Name, locked.AttachedTo, x.AttachTo)
		}
		checkAddrs("eni/"+x.Name, n.NetworkInterfaceId, n.SecondaryPrivateIpAddresses, x.Secondaries, locked)
	}
	for _, in := range f.Instances {
		wi := instanceByID(w, in.ID)
		checkAddrs("instance/"+in.Name, wi.NetworkInterfaceId, wi.SecondaryPrivateIpAddresses, in.Primary.Secondaries, l.Primary(in.Name))
	}
	// The ENIs ecsnet does not own are as they were (addresses, state,
	// attachment, tags), unless the file adopted them by ID.
	adopted := map[string]bool{}
	for _, x := range f.ENIs {
		if x.ID != "" {
			adopted[x.ID] = true
		}
	}
	for _, n := range c.initial.NetworkInterfaces {
		if adopted[n.NetworkInterfaceId] {
			continue
		}
		now := eniByID(w, n.NetworkInterfaceId)
		if now == nil {
			c.t.Errorf("unmanaged ENI %s is gone", n.NetworkInterfaceId)
			continue
		}
		n.SecondaryPrivateIpAddresses = append(n.SecondaryPrivateIpAddresses, extra[n.NetworkInterfaceId]...)
		a, _ := json.Marshal(normENI(n))
		b, _ := json.Marshal(normENI(*now))
		if !bytes.Equal(a, b) {
			c.t.Errorf("unmanaged ENI changed:\nwas %s\nnow %s", a, b)
		}
	}
}

func normENI(n emulator.NetworkInterface) emulator.NetworkInterface {
	n.SecondaryPrivateIpAddresses = sortedStrings(n.SecondaryPrivateIpAddresses)
	n.SecurityGroupIds = sortedStrings(n.SecurityGroupIds)
	return n
}

// appliedE2E is an emulator with the example fleet applied, and the
// counters reset.
func appliedE2E(t *testing.T, edit func(*emulator.World)) *e2e {
	t.Helper()
	c := newE2E(t, edit)
	c.apply()
	c.calls()
	return c
}

// TestE2EScratch applies the example fleet to a cloud that has none of it,
// then checks that a second apply changes nothing and that plan's
// detailed exit code tells the two apart.
func TestE2EScratch(t *testing.T) {
	c := newE2E(t, nil)
	out, _ := c.must(exitChanges, "plan", "--detailed-exitcode", c.dir)
	if !strings.Contains(out, "Plan: 10 to create, 9 to change, 0 to destroy.") {
		t.Errorf("plan summary:\n%s", out)
	}
	c.wantCalls(map[string]int{})

	out, errs := c.apply()
	if !strings.Contains(out, "Plan: 10 to create") || !strings.Contains(errs, "done     create eni/vip") {
		t.Errorf("apply output:\nstdout:\n%s\nstderr:\n%s", out, errs)
	}
	// The formula: a new bound ENI costs 1 create + 1 attach, plus 1
	// assign for addresses beyond the 10 create takes (api-1-pool's 12);
	// each instance whose primary ENI lacks addresses costs 1 assign. The
	// counted IPv6 addresses (cache-1-data) and prefixes (db-2-pods) ride
	// on the create.
	c.wantCalls(map[string]int{"AssignPrivateIpAddresses": 10, "AttachNetworkInterface": 9, "CreateNetworkInterface": 10})
	c.converged(nil)
	if l := c.lock(); l.Fleet != "shop-prod" || len(l.ENIs) != 20 {
		t.Errorf("lock: fleet %q, %d entries, want shop-prod and 20 (10 instances, 10 ENIs)", l.Fleet, len(l.ENIs))
	}
	lock1, _ := os.ReadFile(c.lockPath())

	out, errs = c.apply()
	if !strings.Contains(out, "No changes.") {
		t.Errorf("second apply:\n%s\n%s", out, errs)
	}
	c.wantCalls(map[string]int{})
	lock2, _ := os.ReadFile(c.lockPath())
	if !bytes.Equal(lock1, lock2) {
		t.Errorf("a no-op apply rewrote the lock differently")
	}
	c.must(exitOK, "plan", "--detailed-exitcode", c.dir)
	c.must(exitOK, "plan", "--detailed-exitcode", "--format", "json", c.dir)
	c.wantCalls(map[string]int{})
}

// TestE2EPlanGolden pins the example's plan from scratch in the three
// formats. The plan is computed before anything is applied, from a fresh
// emulator with the world's fixed seed, so it is the same on every run;
// each format is rendered twice and must come out byte for byte the same.
func TestE2EPlanGolden(t *testing.T) {
	c := newE2E(t, nil)
	for _, tt := range []struct{ format, file string }{
		{formatText, "scratch.txt"},
		{formatJSON, "scratch.json"},
		{formatMarkdown, "scratch.md"},
	} {
		t.Run(tt.format, func(t *testing.T) {
			first, _ := c.must(exitOK, "plan", "--format", tt.format, c.dir)
			again, _ := c.must(exitOK, "plan", "--format", tt.format, c.dir)
			if first != again {
				t.Errorf("two plans of the same cloud differ:\n%s\n---\n%s", first, again)
			}
			golden.Check(t, filepath.Join("..", "..", "fixtures", "example", "want", "plan", tt.file), []byte(first))
		})
	}
	c.wantCalls(map[string]int{})
}

// lockedAddrs returns the addresses the lock records for a key
// ("eni/x" or "instance/x").
func (c *e2e) lockedAddrs(key string) []string {
	c.t.Helper()
	l := c.lock()
	var e *schema.LockedENI
	if name, ok := strings.CutPrefix(key, "instance/"); ok {
		e = l.Primary(name)
	} else {
		e = l.Secondary(strings.TrimPrefix(key, "eni/"))
	}
	if e == nil {
		c.t.Fatalf("lock has no %s", key)
	}
	return addrStrs(e.Addrs())
}

func (c *e2e) lockedID(key string) string {
	c.t.Helper()
	l := c.lock()
	e := l.Secondary(strings.TrimPrefix(key, "eni/"))
	if name, ok := strings.CutPrefix(key, "instance/"); ok {
		e = l.Primary(name)
	}
	if e == nil {
		c.t.Fatalf("lock has no %s", key)
	}
	return e.ID
}

// TestE2EAddresses adds, removes and re-pins secondary addresses.
func TestE2EAddresses(t *testing.T) {
	c := appliedE2E(t, nil)

	// Add one address and remove another on a primary ENI: one assign and
	// one unassign, and the lock follows.
	c.edit(`secondaryIps: ["172.16.0.21", "172.16.0.22"]`, `secondaryIps: ["172.16.0.21", "172.16.0.23"]`)
	out, _ := c.must(exitChanges, "plan", "--detailed-exitcode", c.dir)
	if !strings.Contains(out, "+ 172.16.0.23") || !strings.Contains(out, "- 172.16.0.22") {
		t.Errorf("plan does not show the address change:\n%s", out)
	}
	c.apply()
	c.wantCalls(map[string]int{"AssignPrivateIpAddresses": 1, "UnassignPrivateIpAddresses": 1})
	c.converged(nil)
	if got := c.lockedAddrs("instance/web-1"); !slices.Equal(got, []string{"172.16.0.21", "172.16.0.23"}) {
		t.Errorf("lock of web-1: %v", got)
	}

	// Re-pin an address from one ENI to another: it is unassigned from
	// spare-1 before it is assigned to web-1-data.
	c.edit(`secondaryIps: ["172.16.2.61", "172.16.2.62"]`, `secondaryIps: ["172.16.2.62"]`)
	c.edit(`secondaryIps: ["172.16.2.21", "172.16.2.22"]`, `secondaryIps: ["172.16.2.21", "172.16.2.22", "172.16.2.61"]`)
	out, _ = c.must(exitChanges, "plan", "--detailed-exitcode", c.dir)
	if !strings.Contains(out, "1. unassign eni/spare-1") || !strings.Contains(out, "2. assign eni/web-1-data: pinned addresses missing\n     after: unassign eni/spare-1\n") {
		t.Errorf("the assign to web-1-data does not wait for the unassign from spare-1:\n%s", out)
	}
	c.apply()
	c.wantCalls(map[string]int{"AssignPrivateIpAddresses": 1, "UnassignPrivateIpAddresses": 1})
	c.converged(nil)

	// Pin exactly what the cloud picked for a count: nothing to do.
	picked := c.lockedAddrs("eni/edge-1-data")
	c.edit("secondaryIpCount: 2\n\t\tattachTo:         \"edge-1\"", fmt.Sprintf("secondaryIps: [%q, %q]\n\t\tattachTo: \"edge-1\"", picked[0], picked[1]))
	c.must(exitOK, "plan", "--detailed-exitcode", c.dir)
	c.apply()
	c.wantCalls(map[string]int{})
	c.converged(nil)
}

// TestE2ECounts grows and shrinks counted addresses; a shrink releases the
// highest addresses, says which, and releases exactly those.
func TestE2ECounts(t *testing.T) {
	c := appliedE2E(t, nil)
	before := c.lockedAddrs("eni/app-1-data")

	c.edit("secondaryIpCount: 4", "secondaryIpCount: 6")
	c.apply()
	c.wantCalls(map[string]int{"AssignPrivateIpAddresses": 1})
	c.converged(nil)
	grown := c.lockedAddrs("eni/app-1-data")
	if len(grown) != 6 {
		t.Fatalf("app-1-data has %v after growing to 6", grown)
	}
	for _, a := range before {
		if !slices.Contains(grown, a) {
			t.Errorf("growing the count dropped %s", a)
		}
	}

	c.edit("secondaryIpCount: 6", "secondaryIpCount: 3")
	released := grown[3:] // the lock lists addresses in order: the highest go
	out, _ := c.must(exitChanges, "plan", "--detailed-exitcode", c.dir)
	if want := "releasing " + strings.Join(released, ","); !strings.Contains(out, want) {
		t.Errorf("plan does not say %q:\n%s", want, out)
	}
	c.apply()
	c.wantCalls(map[string]int{"UnassignPrivateIpAddresses": 1})
	c.converged(nil)
	id := c.lockedID("eni/app-1-data")
	if got := sortedStrings(eniByID(c.srv.State(), id).SecondaryPrivateIpAddresses); !slices.Equal(got, grown[:3]) {
		t.Errorf("after the shrink the cloud holds %v, want %v", got, grown[:3])
	}

	// A primary ENI's count shrinks the same way.
	primary := c.lockedAddrs("instance/api-1")
	c.edit(`securityGroups: ["web"], secondaryIpCount: 2}`, `securityGroups: ["web"], secondaryIpCount: 1}`)
	out, _ = c.apply()
	if !strings.Contains(out, "releasing "+primary[1]) {
		t.Errorf("apply's plan does not name %s:\n%s", primary[1], out)
	}
	c.wantCalls(map[string]int{"UnassignPrivateIpAddresses": 1})
	c.converged(nil)
	if got := c.lockedAddrs("instance/api-1"); !slices.Equal(got, primary[:1]) {
		t.Errorf("api-1 keeps %v, want %v", got, primary[:1])
	}
}

// TestE2EFailover moves the VIP to the other load balancer and back: one
// detach and one attach each way, and the ENI keeps its ID and addresses.
func TestE2EFailover(t *testing.T) {
	c := appliedE2E(t, nil)
	id := c.lockedID("eni/vip")
	c.edit(`attachTo: "lb-1"`, `attachTo: "lb-2"`)
	out, _ := c.must(exitChanges, "plan", "--detailed-exitcode", c.dir)
	if !strings.Contains(out, "failover from lb-1 to lb-2") || !strings.Contains(out, "0 to create, 1 to change, 0 to destroy") {
		t.Errorf("plan:\n%s", out)
	}
	c.apply()
	c.wantCalls(map[string]int{"AttachNetworkInterface": 1, "DetachNetworkInterface": 1})
	c.converged(nil)
	if got := c.lockedID("eni/vip"); got != id {
		t.Errorf("the VIP is %s after the move, was %s", got, id)
	}
	if l := c.lock().Secondary("vip"); l.AttachedTo != "lb-2" {
		t.Errorf("lock: vip attached to %q", l.AttachedTo)
	}
	c.edit(`attachTo: "lb-2"`, `attachTo: "lb-1"`)
	c.apply()
	c.wantCalls(map[string]int{"AttachNetworkInterface": 1, "DetachNetworkInterface": 1})
	c.converged(nil)
}

// TestE2EModify changes an ENI's security groups and description in place.
func TestE2EModify(t *testing.T) {
	c := appliedE2E(t, nil)
	c.edit("securityGroups: [\"web\"]\n\t\tdescription:    \"web-1 data plane\"", "securityGroups: [\"web\", \"db\"]\n\t\tdescription:    \"web-1 data plane\"")
	c.apply()
	c.wantCalls(map[string]int{"ModifyNetworkInterfaceAttribute": 1})
	c.converged(nil)
	c.edit(`description:    "web-1 data plane"`, `description:    "web-1 storage plane"`)
	c.apply()
	c.wantCalls(map[string]int{"ModifyNetworkInterfaceAttribute": 1})
	if n := eniByID(c.srv.State(), c.lockedID("eni/web-1-data")); n.Description != "web-1 storage plane" {
		t.Errorf("description %q", n.Description)
	}
	c.converged(nil)
}

// TestE2EReplace moves an ENI to another vSwitch, which replaces it: apply
// refuses without --allow-destroy and changes nothing, then replaces it
// with it.
func TestE2EReplace(t *testing.T) {
	c := appliedE2E(t, nil)
	old := c.lockedID("eni/web-1-data")
	oldGen := c.lock().Secondary("web-1-data").Generation
	c.edit("\"web-1-data\": {\n\t\tvswitch:        \"data-h\"", "\"web-1-data\": {\n\t\tvswitch:        \"app-h\"")
	c.edit(`secondaryIps: ["172.16.2.21", "172.16.2.22"]`, `secondaryIps: ["172.16.0.61", "172.16.0.62"]`)
	out, _ := c.must(exitChanges, "plan", "--detailed-exitcode", c.dir)
	if !strings.Contains(out, "1 to create, 0 to change, 1 to destroy") {
		t.Errorf("plan:\n%s", out)
	}
	lockBefore, _ := os.ReadFile(c.lockPath())
	_, errs := c.must(exitError, "apply", "--auto-approve", c.dir)
	if !strings.Contains(errs, "--allow-destroy") || !strings.Contains(errs, "nothing was changed") {
		t.Errorf("stderr:\n%s", errs)
	}
	c.wantCalls(map[string]int{})
	if lockAfter, _ := os.ReadFile(c.lockPath()); !bytes.Equal(lockBefore, lockAfter) {
		t.Errorf("a refused apply changed the lock")
	}

	c.apply("--allow-destroy")
	c.wantCalls(map[string]int{"AttachNetworkInterface": 1, "CreateNetworkInterface": 1, "DeleteNetworkInterface": 1, "DetachNetworkInterface": 1})
	c.converged(nil)
	if eniByID(c.srv.State(), old) != nil {
		t.Errorf("the replaced ENI %s still exists", old)
	}
	if l := c.lock().Secondary("web-1-data"); l.ID == old || l.Generation <= oldGen {
		t.Errorf("lock after the replacement: ID %s (was %s), generation %d (was %d)", l.ID, old, l.Generation, oldGen)
	}
}

func addrs(t *testing.T, ss ...string) []netip.Addr {
	t.Helper()
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// TestE2EUnmanagedAndPrune adds addresses to the fleet's ENIs by hand, and
// an ENI of its own: apply leaves them alone; with --prune it removes the
// addresses (one unassign per ENI) and still leaves every ENI ecsnet does
// not own alone, the world's and the hand-made one.
func TestE2EUnmanagedAndPrune(t *testing.T) {
	c := appliedE2E(t, func(w *emulator.World) {
		// An ENI of the world, attached to an instance of the fleet.
		w.NetworkInterfaces = append(w.NetworkInterfaces, emulator.NetworkInterface{NetworkInterfaceId: "eni-bp1backup0000001",
			NetworkInterfaceName: "backup", VSwitchId: "vsw-bp1app0000h", SecurityGroupIds: []string{"sg-bp1web000001"},
			PrivateIpAddress: "172.16.0.140", InstanceId: "i-bp1lb0000002"})
	})
	ctx := context.Background()
	cl := c.client()
	vip := c.lockedID("eni/vip")
	if _, err := cl.AssignPrivateIpAddresses(ctx, ecs.AssignInput{ENIID: vip, IPs: addrs(t, "172.16.0.110"), ClientToken: "by-hand-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AssignPrivateIpAddresses(ctx, ecs.AssignInput{ENIID: "eni-bp1lb2primary00001", IPs: addrs(t, "172.16.0.120"), ClientToken: "by-hand-2"}); err != nil {
		t.Fatal(err)
	}
	hand, err := cl.CreateNetworkInterface(ctx, ecs.CreateENIInput{VSwitchID: "vsw-bp1data000h", SecurityGroupIDs: []string{"sg-bp1web000001"},
		PrimaryIP: netip.MustParseAddr("172.16.2.230"), SecondaryIPs: addrs(t, "172.16.2.231"), Name: "by-hand", ClientToken: "by-hand-3"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.AttachNetworkInterface(ctx, hand.ID, "i-bp1web000001"); err != nil {
		t.Fatal(err)
	}
	c.calls()
	handBefore, _ := json.Marshal(normENI(*eniByID(c.srv.State(), hand.ID)))
	extra := map[string][]string{vip: {"172.16.0.110"}, "eni-bp1lb2primary00001": {"172.16.0.120"}}

	out, _ := c.must(exitOK, "plan", "--detailed-exitcode", c.dir)
	for _, want := range []string{"Addresses not in the lock: kept; plan --prune removes them", "172.16.0.110", "172.16.0.120",
		"eni-bp1backup0000001 \"backup\"", hand.ID + ` "by-hand", attached to i-bp1web000001`} {
		if !strings.Contains(out, want) {
			t.Errorf("plan does not mention %q:\n%s", want, out)
		}
	}
	c.apply()
	c.wantCalls(map[string]int{})
	c.converged(extra)

	out, _ = c.must(exitChanges, "plan", "--prune", "--detailed-exitcode", c.dir)
	if !strings.Contains(out, "pruning addresses the lock does not record") {
		t.Errorf("plan --prune:\n%s", out)
	}
	c.apply("--prune")
	c.wantCalls(map[string]int{"UnassignPrivateIpAddresses": 2})
	c.converged(nil)
	if handAfter, _ := json.Marshal(normENI(*eniByID(c.srv.State(), hand.ID))); !bytes.Equal(handBefore, handAfter) {
		t.Errorf("--prune touched an ENI ecsnet does not own:\nwas %s\nnow %s", handBefore, handAfter)
	}
}

// TestE2ESavedPlan refuses a saved plan whose resources changed behind it,
// and applies a fresh one exactly as saved; show renders it.
func TestE2ESavedPlan(t *testing.T) {
	c := appliedE2E(t, nil)
	stale := filepath.Join(t.TempDir(), "stale.json")
	c.edit(`secondaryIps: ["172.16.0.21", "172.16.0.22"]`, `secondaryIps: ["172.16.0.21", "172.16.0.22", "172.16.0.23"]`)
	c.must(exitChanges, "plan", "--save", stale, "--detailed-exitcode", c.dir)

	// Someone adds an address to web-1 by hand: the plan touches web-1.
	if _, err := c.client().AssignPrivateIpAddresses(context.Background(), ecs.AssignInput{ENIID: "eni-bp1web1primary0001",
		IPs: addrs(t, "172.16.0.24"), ClientToken: "by-hand"}); err != nil {
		t.Fatal(err)
	}
	c.calls()
	_, errs := c.must(exitError, "apply", "--plan", stale, "--auto-approve", c.dir)
	if !strings.Contains(errs, "the cloud changed since "+stale+" was made") {
		t.Errorf("stderr:\n%s", errs)
	}
	c.wantCalls(map[string]int{})

	fresh := filepath.Join(t.TempDir(), "fresh.json")
	planText, _ := c.must(exitOK, "plan", "--save", fresh, c.dir)
	// show reads only the file: no cloud, no credentials.
	code, shown, errs := runCLI(t, "show", fresh)
	if code != exitOK || shown != planText {
		t.Errorf("show: exit %d, %s; renders the saved plan differently from plan:\n%s\n---\n%s", code, errs, shown, planText)
	}
	code, md, errs := runCLI(t, "show", "--format", "markdown", fresh)
	if code != exitOK || !strings.HasPrefix(md, "### ecsnet plan for shop-prod (cn-hangzhou): 0 to create, 1 to change, 0 to destroy") || !strings.Contains(md, "172.16.0.24") {
		t.Errorf("show --format markdown: exit %d, %s\n%s", code, errs, md)
	}
	var doc struct {
		Steps []struct{ ID string } `json:"steps"`
	}
	data, _ := os.ReadFile(fresh)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	c.calls()
	_, errs = c.must(exitOK, "apply", "--plan", fresh, "--auto-approve", c.dir)
	var done, planned []string
	for _, line := range strings.Split(errs, "\n") {
		if rest, ok := strings.CutPrefix(line, "  done     "); ok {
			done = append(done, strings.TrimSpace(rest[:40]))
		}
	}
	for _, s := range doc.Steps {
		planned = append(planned, s.ID)
	}
	slices.Sort(done)
	slices.Sort(planned)
	if !slices.Equal(done, planned) || len(done) != 1 {
		t.Errorf("apply --plan did %v, the plan has %v", done, planned)
	}
	c.wantCalls(map[string]int{"AssignPrivateIpAddresses": 1})
	c.converged(map[string][]string{"eni-bp1web1primary0001": {"172.16.0.24"}})
}

// TestE2ENoTerminal: apply without a terminal and without --auto-approve
// shows the plan and refuses, even when stdin says yes.
func TestE2ENoTerminal(t *testing.T) {
	c := newE2E(t, nil)
	e, out, errb := c.env("yes\n")
	if code := run([]string{"apply", "--endpoint", c.url, c.dir}, e); code != exitError {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(out.String(), "Plan: 10 to create") || !strings.Contains(errb.String(), "no terminal to confirm on") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errb)
	}
	c.wantCalls(map[string]int{})
	if _, err := os.Stat(c.lockPath()); !os.IsNotExist(err) {
		t.Errorf("a refused apply wrote the lock: %v", err)
	}
}

// TestE2EFaults applies the example while the emulator throttles requests
// and commits changes whose answer then fails or never comes. Retries with
// the same ClientToken, and observing before repeating token-less calls,
// must leave no duplicate ENI and no leaked address.
func TestE2EFaults(t *testing.T) {
	c := newE2E(t, nil)
	c.srv.SetFaults(emulator.Faults{ThrottleRate: 0.1, CommitThenFailRate: 0.15, CommitThenDropRate: 0.1})
	var code int
	var out, errs string
	for try := 1; try <= 3; try++ {
		code, out, errs = c.run("apply", "--auto-approve", c.dir)
		if code == exitOK {
			break
		}
		t.Logf("apply under faults, try %d: exit %d\n%s", try, code, errs)
	}
	if code != exitOK {
		t.Fatalf("apply under faults did not converge in 3 runs:\nstdout:\n%s\nstderr:\n%s", out, errs)
	}
	mut, all := c.calls()
	t.Logf("under faults: %d mutating calls (29 without faults); %v", mut, all)
	if mut < 29 {
		t.Errorf("%d mutating calls, fewer than the plan's 29 steps", mut)
	}
	c.srv.SetFaults(emulator.Faults{})
	c.apply()
	c.wantCalls(map[string]int{})
	c.converged(nil)
	if w := c.srv.State(); len(w.NetworkInterfaces) != len(c.initial.NetworkInterfaces)+10 {
		t.Errorf("%d secondary ENIs in the cloud, want %d", len(w.NetworkInterfaces), len(c.initial.NetworkInterfaces)+10)
	}
}

// TestE2EFailureThenConverge: a step fails mid-apply; the apply finishes
// what it can, starts nothing that depends on the failure, lists done,
// failed and skipped steps, writes the lock and exits 1; once the cause is
// fixed a re-run converges, doing only what is left.
//
// The apply runs with --parallelism 1 so that the failed step's dependents
// are skipped while no other step is in flight: plan.Apply counts skipped
// steps without its lock (executor.run, ex.done++), which races with the
// step goroutines and fails this test under -race at the default
// parallelism (reported to the plan package's owner).
func TestE2EFailureThenConverge(t *testing.T) {
	c := appliedE2E(t, nil)

	// An instance in a transitional state is caught by the plan: exit 1,
	// pointing at the file, before any change.
	c.edit(`secondaryIps: ["172.16.0.31"]`, `secondaryIps: ["172.16.0.31", "172.16.0.32"]`)
	if err := c.srv.SetInstanceStatus("i-bp1lb0000001", "Starting"); err != nil {
		t.Fatal(err)
	}
	_, errs := c.must(exitError, "apply", "--auto-approve", c.dir)
	if !strings.Contains(errs, "instance i-bp1lb0000001 is Starting") || !strings.Contains(errs, "fleet.cue:") {
		t.Errorf("stderr:\n%s", errs)
	}
	c.wantCalls(map[string]int{})
	if err := c.srv.SetInstanceStatus("i-bp1lb0000001", "Running"); err != nil {
		t.Fatal(err)
	}
	c.edit(`secondaryIps: ["172.16.0.31", "172.16.0.32"]`, `secondaryIps: ["172.16.0.31"]`)

	// Four changes: a description, an address for db-1 and one for web-1,
	// and one more address for the cloud to pick on api-1, which waits for
	// the pins of its vSwitch (web-1's among them).
	c.edit(`description:    "cold spare"`, `description:    "cold spare, row 4"`)
	c.edit(`secondaryIps: ["172.16.1.21", "172.16.1.22"]`, `secondaryIps: ["172.16.1.21", "172.16.1.22", "172.16.1.23"]`)
	c.edit(`secondaryIps: ["172.16.0.21", "172.16.0.22"]`, `secondaryIps: ["172.16.0.21", "172.16.0.22", "172.16.0.23"]`)
	c.edit(`securityGroups: ["web"], secondaryIpCount: 2}`, `securityGroups: ["web"], secondaryIpCount: 3}`)
	p := filepath.Join(t.TempDir(), "p.json")
	c.must(exitChanges, "plan", "--save", p, "--detailed-exitcode", c.dir)
	cl := c.client()
	ctx := context.Background()
	squat := func(token string) *plan.ObservedENI {
		t.Helper()
		sq, err := cl.CreateNetworkInterface(ctx, ecs.CreateENIInput{VSwitchID: "vsw-bp1app0000h", SecurityGroupIDs: []string{"sg-bp1web000001"},
			PrimaryIP: netip.MustParseAddr("172.16.0.23"), ClientToken: token})
		if err != nil {
			t.Fatal(err)
		}
		return sq
	}
	unsquat := func(sq *plan.ObservedENI) {
		t.Helper()
		if err := cl.DeleteNetworkInterface(ctx, sq.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := cl.WaitENI(ctx, sq.ID, ecs.ENIGone); err != nil {
			t.Fatal(err)
		}
	}

	// Someone takes web-1's new address between plan and apply. It is not
	// among the resources the saved plan touches, but apply plans again
	// before it changes anything: the address is taken, so nothing runs.
	squatter := squat("squatter")
	c.calls()
	_, errs = c.must(exitError, "apply", "--plan", p, "--auto-approve", c.dir)
	if !strings.Contains(errs, "172.16.0.23 is held by ENI "+squatter.ID) {
		t.Errorf("stderr:\n%s", errs)
	}
	c.wantCalls(map[string]int{})
	unsquat(squatter)

	// Someone takes it while the apply runs, after its first step: web-1's
	// assign fails, the step that waits for it is skipped, the others
	// are done and recorded.
	c.calls()
	squatter = nil
	errb := &hookBuffer{hook: func(text string) {
		// The progress line is written before the next step starts.
		if squatter == nil && strings.Contains(text, "done     modify eni/spare-1") {
			squatter = squat("squatter-2")
		}
	}}
	e, _, _ := c.env("")
	e.stderr = errb
	if code := run([]string{"apply", "--endpoint", c.url, "--plan", p, "--auto-approve", "--parallelism", "1", c.dir}, e); code != exitError {
		t.Errorf("apply: exit %d, want 1", code)
	}
	errs = errb.String()
	for _, want := range []string{"done     modify eni/spare-1", "done     assign instance/db-1",
		"FAILED   assign instance/web-1", "InvalidPrivateIpAddress.Duplicated", "skipped  assign instance/api-1",
		"Apply: 2 done, 1 failed, 1 skipped", "failed: assign instance/web-1"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, errs)
		}
	}
	// The create is the squatter's, made by hand during the apply.
	c.wantCalls(map[string]int{"AssignPrivateIpAddresses": 2, "CreateNetworkInterface": 1, "ModifyNetworkInterfaceAttribute": 1})
	if got := c.lockedAddrs("instance/db-1"); !slices.Contains(got, "172.16.1.23") {
		t.Errorf("the lock after a failed apply does not record the step that was done: db-1 has %v", got)
	}
	if got := c.lockedAddrs("instance/web-1"); slices.Contains(got, "172.16.0.23") {
		t.Errorf("the lock records an address that was never assigned: web-1 has %v", got)
	}

	// Fix: remove the squatter. The re-run does only what is left.
	unsquat(squatter)
	c.calls()
	out, _ := c.apply()
	if !strings.Contains(out, "0 to create, 2 to change, 0 to destroy") {
		t.Errorf("the re-run's plan:\n%s", out)
	}
	c.wantCalls(map[string]int{"AssignPrivateIpAddresses": 2})
	c.converged(nil)
}

// TestE2EObservedSnapshot plans from an `ecsnet observe` snapshot with no
// credentials at all, and makes no API call.
func TestE2EObservedSnapshot(t *testing.T) {
	c := appliedE2E(t, nil)
	snap, _ := c.must(exitOK, "observe", c.dir)
	path := filepath.Join(t.TempDir(), "snapshot.json")
	if err := os.WriteFile(path, []byte(snap), 0o644); err != nil {
		t.Fatal(err)
	}
	c.calls()
	code, out, errs := runCLI(t, "plan", "--observed", path, "--detailed-exitcode", c.dir)
	if code != exitOK || !strings.Contains(out, "No changes.") {
		t.Errorf("plan --observed: exit %d\n%s\n%s", code, out, errs)
	}
	c.edit(`attachTo: "lb-1"`, `attachTo: "lb-2"`)
	if code, out, errs := runCLI(t, "plan", "--observed", path, "--detailed-exitcode", c.dir); code != exitChanges || !strings.Contains(out, "failover from lb-1 to lb-2") {
		t.Errorf("plan --observed after an edit: exit %d\n%s\n%s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "plan", "--endpoint", c.url, c.dir); code != exitError || !strings.Contains(errs, "no credentials") {
		t.Errorf("plan without credentials or snapshot: exit %d\n%s", code, errs)
	}
	if all := c.srv.Calls(); len(all) != 0 {
		t.Errorf("planning from a snapshot called the API: %v", all)
	}
}

// TestE2EInvalidInput: no invalid desired state reaches the cloud; plan
// and apply refuse it before the first call.
func TestE2EInvalidInput(t *testing.T) {
	c := newE2E(t, nil)
	dir := filepath.Join("..", "..", "fixtures", "invalid")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case ".cue", ".json", ".yaml", ".yml":
		default:
			continue
		}
		n++
		input := filepath.Join(dir, e.Name())
		for _, args := range [][]string{{"plan", input}, {"apply", "--auto-approve", input}} {
			code, out, errs := c.run(args[0], args[1:]...)
			if code != exitError || !strings.Contains(errs, filepath.ToSlash(input)+":") {
				t.Errorf("ecsnet %s: exit %d, want 1 with a position in the file\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
			}
			if all := c.srv.Calls(); len(all) != 0 {
				t.Errorf("ecsnet %s called the API: %v", strings.Join(args, " "), all)
				c.srv.ResetCounters()
			}
		}
		if _, err := os.Stat(filepath.Join(dir, schema.LockFileName)); err == nil {
			t.Fatalf("an apply of invalid input wrote %s", filepath.Join(dir, schema.LockFileName))
		}
	}
	if n < 25 {
		t.Errorf("only %d invalid cases", n)
	}
}
