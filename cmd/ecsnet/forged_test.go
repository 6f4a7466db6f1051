package main

// Forged inputs: a saved plan or a lock rewritten by whoever can touch a CI
// artefact or the repository must never make apply change more than the
// desired state and the live cloud say.

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/guest"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// savedPlan saves a plan of the example fleet with one more address for
// web-1, and returns its path and the plan read back.
func savedPlan(t *testing.T, c *e2e) (string, *plan.Plan) {
	t.Helper()
	c.edit(`secondaryIps: ["172.16.0.21", "172.16.0.22"]`, `secondaryIps: ["172.16.0.21", "172.16.0.22", "172.16.0.23"]`)
	path := filepath.Join(t.TempDir(), "plan.json")
	c.must(exitChanges, "plan", "--save", path, "--detailed-exitcode", c.dir)
	p, err := plan.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c.calls()
	return path, p
}

// forge writes p as a plan document, as someone who edits a saved plan
// with ecsnet's own code would: its summary and resource changes agree
// with its steps, so ReadJSON accepts it.
func forge(t *testing.T, p *plan.Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := plan.WriteJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "forged.json")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := plan.ReadFile(path); err != nil {
		t.Fatalf("the forged plan does not even read: %v", err)
	}
	return path
}

// TestE2EForgedSavedPlanRefused: a saved plan edited to detach and delete
// a foreign untagged ENI (its steps saying "destroys": false), to remove an
// address from a Terway ENI, or with one address changed by sed, is
// refused with exit 1, before any mutating call, with --allow-destroy
// too; the untouched plan then applies.
func TestE2EForgedSavedPlanRefused(t *testing.T) {
	c := appliedE2E(t, nil)
	path, saved := savedPlan(t, c)
	before := c.srv.State()

	withSteps := func(steps ...*plan.Step) *plan.Plan {
		p := *saved
		p.Steps = append(append([]*plan.Step{}, saved.Steps...), steps...)
		return &p
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sedded := filepath.Join(t.TempDir(), "sed.json")
	if n := bytes.Count(src, []byte(`"172.16.0.23"`)); n == 0 {
		t.Fatalf("the saved plan does not name 172.16.0.23:\n%s", src)
	}
	if err := os.WriteFile(sedded, bytes.ReplaceAll(src, []byte(`"172.16.0.23"`), []byte(`"172.16.0.29"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := plan.ReadFile(sedded); err != nil {
		t.Fatalf("the sedded plan does not read: %v", err)
	}

	for _, tc := range []struct {
		name string
		path string
	}{
		{"delete a foreign ENI", forge(t, withSteps(
			&plan.Step{ID: "detach eni/x@eni-bp1monitor00000001", Action: plan.DetachENI, Target: plan.ENITarget("x"), ENIID: "eni-bp1monitor00000001",
				InstanceID: "i-bp1db0000001", Reason: "cleanup"},
			&plan.Step{ID: "delete eni/x@eni-bp1monitor00000001", Action: plan.DeleteENI, Target: plan.ENITarget("x"), ENIID: "eni-bp1monitor00000001",
				DependsOn: []string{"detach eni/x@eni-bp1monitor00000001"}, Reason: "cleanup"},
		))},
		{"unassign from a Terway ENI", forge(t, withSteps(
			&plan.Step{ID: "unassign eni/pods", Action: plan.UnassignIPs, Target: plan.ENITarget("pods"), ENIID: "eni-bp1podpool00000001",
				IPs: []netip.Addr{netip.MustParseAddr("172.16.3.201")}, Reason: "cleanup"},
		))},
		{"sed of an address", sedded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, extra := range [][]string{nil, {"--allow-destroy"}} {
				args := append([]string{"--plan", tc.path, "--auto-approve"}, extra...)
				_, errs := c.must(exitError, "apply", append(args, c.dir)...)
				if !strings.Contains(errs, "does not match the plan made now") || !strings.Contains(errs, "nothing was changed") {
					t.Errorf("apply %v: stderr:\n%s", extra, errs)
				}
				c.wantCalls(map[string]int{})
			}
		})
	}
	if after := c.srv.State(); fmt.Sprint(after.NetworkInterfaces) != fmt.Sprint(before.NetworkInterfaces) {
		t.Errorf("the ENIs changed")
	}
	c.must(exitOK, "apply", "--plan", path, "--auto-approve", c.dir)
	c.wantCalls(map[string]int{"AssignPrivateIpAddresses": 1})
}

// TestE2ESavedPlanDestroysDerived: a saved plan that deletes an ENI (the
// desired state dropped it) with every "destroys" rewritten to false is
// still a destroy: show marks it, and apply refuses it without
// --allow-destroy.
func TestE2ESavedPlanDestroysDerived(t *testing.T) {
	c := appliedE2E(t, nil)
	c.edit(`	"spare-1": {
		vswitch:        "data-h"
		securityGroups: ["web"]
		description:    "cold spare"
		secondaryIps: ["172.16.2.61", "172.16.2.62"]
	}
`, "")
	path := filepath.Join(t.TempDir(), "plan.json")
	c.must(exitChanges, "plan", "--save", path, "--detailed-exitcode", c.dir)
	data, _ := os.ReadFile(path)
	if !bytes.Contains(data, []byte(`"destroys": true`)) {
		t.Fatalf("the plan destroys nothing:\n%s", data)
	}
	if err := os.WriteFile(path, bytes.ReplaceAll(data, []byte(`"destroys": true`), []byte(`"destroys": false`)), 0o644); err != nil {
		t.Fatal(err)
	}
	c.calls()
	code, shown, errs := runCLI(t, "show", "--format", "json", path)
	if code != exitOK || !strings.Contains(shown, `"destroys": true`) {
		t.Errorf("show: exit %d, %s; the delete is not marked:\n%s", code, errs, shown)
	}
	_, errs = c.must(exitError, "apply", "--plan", path, "--auto-approve", c.dir)
	if !strings.Contains(errs, "--allow-destroy") {
		t.Errorf("stderr:\n%s", errs)
	}
	c.wantCalls(map[string]int{})
	c.must(exitOK, "apply", "--plan", path, "--auto-approve", "--allow-destroy", c.dir)
	c.wantCalls(map[string]int{"DeleteNetworkInterface": 1})
}

// writeLock rewrites the lock file after edit has changed it.
func (c *e2e) writeLock(edit func(*schema.Lock)) {
	c.t.Helper()
	l := c.lock()
	edit(l)
	if err := os.WriteFile(c.lockPath(), schema.MarshalLock(l), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// TestE2EForgedLockGrantsNothing: a lock that names a foreign ENI as one of
// the fleet's (the Terway ENI as eni/vip; another fleet's ENI under a name
// the desired state dropped) makes plan and apply fail with exit 1,
// naming the entry and what to do, and apply makes no mutating call.
func TestE2EForgedLockGrantsNothing(t *testing.T) {
	c := appliedE2E(t, func(w *emulator.World) {
		w.NetworkInterfaces = append(w.NetworkInterfaces, emulator.NetworkInterface{NetworkInterfaceId: "eni-bp1otherfleet0001",
			NetworkInterfaceName: "vip", VSwitchId: "vsw-bp1app0000h", SecurityGroupIds: []string{"sg-bp1web000001"},
			PrivateIpAddress: "172.16.0.150", Tags: []emulator.Tag{{TagKey: plan.TagFleet, TagValue: "shop-staging"}, {TagKey: plan.TagENI, TagValue: "vip"}}})
	})
	for _, tc := range []struct {
		name, entry, eni, why string
	}{
		{"Terway ENI as vip", "eni/vip", "eni-bp1podpool00000001", "it carries no ecsnet:fleet tag"},
		{"another fleet's ENI as vip", "eni/vip", "eni-bp1otherfleet0001", `its tags say it belongs to fleet "shop-staging"`},
		{"a foreign ENI under a dropped name", "eni/ghost", "eni-bp1legacynfs000001", "it carries no ecsnet:fleet tag"},
		{"an instance's primary ENI", "instance/web-1", "eni-bp1monitor00000001", "it carries no ecsnet:fleet tag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			good, err := os.ReadFile(c.lockPath())
			if err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(c.lockPath(), good, 0o644)
			c.writeLock(func(l *schema.Lock) {
				var e *schema.LockedENI
				if name, ok := strings.CutPrefix(tc.entry, "instance/"); ok {
					e = l.Primary(name)
				} else if e = l.Secondary(strings.TrimPrefix(tc.entry, "eni/")); e == nil {
					e = &schema.LockedENI{Name: strings.TrimPrefix(tc.entry, "eni/")}
				}
				e.ID, e.MAC = tc.eni, "00:16:3e:20:00:03"
				l.Put(e)
			})
			for _, args := range [][]string{{"plan", c.dir}, {"apply", "--auto-approve", "--allow-destroy", "--prune", c.dir}} {
				out, errs := c.must(exitError, args[0], args[1:]...)
				for _, want := range []string{fmt.Sprintf("the lock entry %q names ENI %s, which is not this fleet's", tc.entry, tc.eni), tc.why,
					fmt.Sprintf("remove the entry %q from the lock file", tc.entry)} {
					if !strings.Contains(out+errs, want) {
						t.Errorf("%s does not say %q:\n%s%s", args[0], want, out, errs)
					}
				}
				c.wantCalls(map[string]int{})
			}
		})
	}
	c.apply()
	c.wantCalls(map[string]int{})
}

// TestE2ELockGeneration: a lock whose generation would overflow is refused
// with a clear error before anything changes; a lock at the largest
// generation applies, and the generation saturates instead of wrapping,
// so the lock apply writes still loads.
func TestE2ELockGeneration(t *testing.T) {
	c := appliedE2E(t, nil)
	l := c.lock()
	web := l.Primary("web-1")
	web.Generation = 1<<63 - 1
	if err := os.WriteFile(c.lockPath(), schema.MarshalLock(l), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"plan", c.dir}, {"apply", "--auto-approve", c.dir}} {
		_, errs := c.must(exitError, args[0], args[1:]...)
		if !strings.Contains(errs, "instance/web-1: generation 9223372036854775807 is above 9007199254740991") {
			t.Errorf("%s: stderr:\n%s", args[0], errs)
		}
	}
	c.wantCalls(map[string]int{})

	// At the largest generation a change still applies, and the
	// generation stays there.
	web.Generation = schema.MaxGeneration
	if err := os.WriteFile(c.lockPath(), schema.MarshalLock(l), 0o644); err != nil {
		t.Fatal(err)
	}
	c.edit(`secondaryIps: ["172.16.0.21", "172.16.0.22"]`, `secondaryIps: ["172.16.0.21", "172.16.0.22", "172.16.0.23"]`)
	c.apply()
	c.wantCalls(map[string]int{"AssignPrivateIpAddresses": 1})
	if got := c.lock().Primary("web-1"); got == nil || got.Generation != schema.MaxGeneration {
		t.Errorf("web-1's lock entry after apply: %+v, want generation %d", got, schema.MaxGeneration)
	}
}

// hookBuffer collects what a command writes, and calls hook with all of
// it after every write, under its lock: a test can act at a point of an
// apply's progress before the next step starts.
type hookBuffer struct {
	mu   sync.Mutex
	b    strings.Builder
	hook func(text string)
}

func (h *hookBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.b.Write(p)
	h.hook(h.b.String())
	return len(p), nil
}

func (h *hookBuffer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.b.String()
}

// TestE2ESavedPlanWithHosts: a saved plan made with --hosts applies with
// --hosts (its host steps are compared like the others) and is refused
// without it; a saved plan made without --hosts gains its host steps from
// apply --hosts.
func TestE2ESavedPlanWithHosts(t *testing.T) {
	c := appliedE2E(t, nil)
	c.edit(`secondaryIps: ["172.16.0.21", "172.16.0.22"]`, `secondaryIps: ["172.16.0.21", "172.16.0.22", "172.16.0.23"]`)
	withHosts := filepath.Join(t.TempDir(), "hosts.json")
	c.must(exitChanges, "plan", "--hosts", "--save", withHosts, "--detailed-exitcode", c.dir)
	_, errs := c.must(exitError, "apply", "--plan", withHosts, "--auto-approve", c.dir)
	if !strings.Contains(errs, "apply it with --hosts") {
		t.Errorf("stderr:\n%s", errs)
	}
	c.wantCalls(map[string]int{})
	// The plain emulator runs no script: the host step is not done
	// (issue 15), though the cloud's is.
	_, errs = c.must(exitError, "apply", "--plan", withHosts, "--hosts", "--auto-approve", c.dir)
	if !strings.Contains(errs, "not run  host-apply host/web-1") {
		t.Errorf("stderr:\n%s", errs)
	}
	c.wantCalls(map[string]int{"AssignPrivateIpAddresses": 1, "RunCommand": c.payloadParts("web-1")}) // the host step sends its payload's parts

	c.edit(`secondaryIps: ["172.16.0.21", "172.16.0.22", "172.16.0.23"]`, `secondaryIps: ["172.16.0.21", "172.16.0.22", "172.16.0.23", "172.16.0.24"]`)
	plain := filepath.Join(t.TempDir(), "plain.json")
	c.must(exitChanges, "plan", "--save", plain, "--detailed-exitcode", c.dir)
	c.calls()
	_, errs = c.must(exitError, "apply", "--plan", plain, "--hosts", "--auto-approve", c.dir)
	if !strings.Contains(errs, "not run  host-apply host/web-1") {
		t.Errorf("stderr:\n%s", errs)
	}
	c.wantCalls(map[string]int{"AssignPrivateIpAddresses": 1, "RunCommand": c.payloadParts("web-1")})
}

// payloadParts is how many RunCommand calls delivering the host's payload
// takes: one per part (guest.Invocations), for the bundle the lock now
// routes to it.
func (c *e2e) payloadParts(instance string) int {
	c.t.Helper()
	h, err := render.LockedHost(c.fleet(), c.lock(), instance)
	if err != nil {
		c.t.Fatal(err)
	}
	p, err := guest.HostPayload(h, guest.PayloadOptions{}, ecs.MaxCommandContent)
	if err != nil {
		c.t.Fatal(err)
	}
	if len(p.Scripts) < 1 {
		c.t.Fatalf("%s: a payload of no scripts", instance)
	}
	return len(p.Scripts)
}
