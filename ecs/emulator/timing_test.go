package emulator

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// status returns an ENI's Status and InstanceId as DescribeNetworkInterfaces
// answers them, or "gone".
func (e *env) status(t testing.TB, id string) (string, string) {
	t.Helper()
	m := ok(t, e.cl.ecs(t, "DescribeNetworkInterfaces", "NetworkInterfaceId.1", id))
	set := list(m, "NetworkInterfaceSets", "NetworkInterfaceSet")
	if len(set) == 0 {
		return "gone", ""
	}
	return str(set[0], "Status"), str(set[0], "InstanceId")
}

func (e *env) expect(t testing.TB, id, want string) {
	t.Helper()
	if got, _ := e.status(t, id); got != want {
		t.Fatalf("%s is %s, want %s", id, got, want)
	}
}

// TestTimingDurations: with a Timing, attach, detach and delete each take
// their own duration, scaled; a zero field takes the realistic default.
func TestTimingDurations(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{Timing: &Timing{Detach: Duration(10 * time.Second), Scale: 0.5}})
	id := e.create(t)
	ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", "i-run"))
	e.clock.Advance(1499 * time.Millisecond) // realistic 3 s, halved
	e.expect(t, id, "Attaching")
	e.clock.Advance(time.Millisecond)
	e.expect(t, id, "InUse")
	ok(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", "i-run"))
	e.clock.Advance(4999 * time.Millisecond) // 10 s, halved
	e.expect(t, id, "Detaching")
	e.clock.Advance(time.Millisecond)
	e.expect(t, id, "Available")
	ok(t, e.cl.ecs(t, "DeleteNetworkInterface", "NetworkInterfaceId", id))
	e.clock.Advance(999 * time.Millisecond) // realistic 2 s, halved
	e.expect(t, id, "Deleting")
	e.clock.Advance(time.Millisecond)
	e.expect(t, id, "gone")
}

// TestStuckTransitions: a stuck attach stays Attaching for Timing.Stuck and
// then fails back to Available, its instance's slot free again; a stuck
// detach stays Detaching as long and then completes.
func TestStuckTransitions(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{Timing: &Timing{Stuck: Duration(10 * time.Minute)},
		Faults: &Faults{Actions: map[string]FaultRates{"AttachNetworkInterface": {StuckRate: 1}, "DetachNetworkInterface": {StuckRate: 1}}}})
	id := e.create(t)
	ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", "i-run"))
	e.clock.Advance(10*time.Minute - time.Second)
	e.expect(t, id, "Attaching")
	e.clock.Advance(time.Second)
	if st, inst := e.status(t, id); st != "Available" || inst != "" {
		t.Fatalf("a stuck attach ended %s on %q, want Available and unbound", st, inst)
	}
	// The detach of eni-used (InUse on i-run from the world) sticks too.
	ok(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", "eni-used", "InstanceId", "i-run"))
	e.clock.Advance(9 * time.Minute)
	e.expect(t, "eni-used", "Detaching")
	// Re-issuing the detach is accepted and changes nothing.
	ok(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", "eni-used", "InstanceId", "i-run"))
	e.clock.Advance(time.Minute)
	e.expect(t, "eni-used", "Available")
}

// TestInstanceConflict: with a Timing, an attach or detach on an instance
// whose other ENI is still Attaching or Detaching is 403
// Operation.Conflict, and goes through once that one settles. The
// simplified model (AsyncDelay only) never conflicts.
func TestInstanceConflict(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{Timing: &Timing{}})
	a, b := e.create(t), e.create(t)
	ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", a, "InstanceId", "i-stop"))
	wantErr(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", b, "InstanceId", "i-stop"), 403, "Operation.Conflict")
	// Another instance is not busy.
	ok(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", "eni-used", "InstanceId", "i-run"))
	e.clock.Advance(3 * time.Second)
	e.expect(t, a, "InUse")
	ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", b, "InstanceId", "i-stop"))
	wantErr(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", a, "InstanceId", "i-stop"), 403, "Operation.Conflict")
	e.clock.Advance(3 * time.Second)
	ok(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", a, "InstanceId", "i-stop"))

	s := newEnv(t, testWorld(t), Options{AsyncDelay: time.Minute})
	a, b = s.create(t), s.create(t)
	ok(t, s.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", a, "InstanceId", "i-stop"))
	ok(t, s.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", b, "InstanceId", "i-stop"))
}

// send posts a signed call and reports whether an answer came back.
func (e *env) answered(t testing.TB, action string, kv ...string) (response, bool) {
	t.Helper()
	v := e.cl.signed("2014-05-26", action, kv)
	req, err := http.NewRequest(http.MethodPost, e.cl.base+"/?"+v.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.cl.hc.Do(req)
	if err != nil {
		return response{}, false
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return response{resp.StatusCode, []byte(b.String())}, true
}

// TestFaultKinds: each fault kind, set for one action, hits that action
// only, before or after the change as documented.
func TestFaultKinds(t *testing.T) {
	secondaries := func(e *env) []string {
		for _, in := range e.srv.State().Instances {
			if in.InstanceId == "i-run" {
				return in.SecondaryPrivateIpAddresses
			}
		}
		return nil
	}
	assign := []string{"NetworkInterfaceId", "eni-prim-run", "PrivateIpAddress.1", "10.0.1.12"}
	for _, tc := range []struct {
		name      string
		rates     FaultRates
		answered  bool
		status    int
		code      string
		committed bool
	}{
		{"drop before", FaultRates{DropRate: 1}, false, 0, "", false},
		{"commit then drop", FaultRates{CommitThenDropRate: 1}, false, 0, "", true},
		{"commit then fail", FaultRates{CommitThenFailRate: 1}, true, 0, "", true},
		{"throttling", FaultRates{ThrottleRate: 1}, true, 400, "Throttling", false},
		{"throttling user", FaultRates{ThrottleUserRate: 1}, true, 400, "Throttling.User", false},
		{"conflict", FaultRates{ConflictRate: 1}, true, 403, "Operation.Conflict", false},
		{"server error", FaultRates{ServerErrorRate: 1}, true, 0, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, testWorld(t), Options{Faults: &Faults{Actions: map[string]FaultRates{"AssignPrivateIpAddresses": tc.rates}}})
			r, answered := e.answered(t, "AssignPrivateIpAddresses", assign...)
			if answered != tc.answered {
				t.Fatalf("answered %v, want %v", answered, tc.answered)
			}
			if answered {
				switch {
				case tc.code != "":
					wantErr(t, r, tc.status, tc.code)
				case r.status < 500:
					t.Errorf("got %d %s, want a 5xx", r.status, r.body)
				}
			}
			if got := len(secondaries(e)) == 2; got != tc.committed {
				t.Errorf("committed %v, want %v (secondaries %v)", got, tc.committed, secondaries(e))
			}
			// Other actions are untouched.
			ok(t, e.cl.ecs(t, "UnassignPrivateIpAddresses", "NetworkInterfaceId", "eni-prim-run", "PrivateIpAddress.1", "10.0.1.11"))
		})
	}

	// An Actions entry replaces the global rates for its action; the
	// conflict rate spares reads.
	e := newEnv(t, testWorld(t), Options{Faults: &Faults{ConflictRate: 1, ThrottleRate: 1,
		Actions: map[string]FaultRates{"DescribeInstances": {ConflictRate: 1}}}})
	ok(t, e.cl.ecs(t, "DescribeInstances"))
	wantErr(t, e.cl.ecs(t, "DescribeNetworkInterfaces"), 400, "Throttling")
}

// TestWorldClock: Timing and Faults come from the world file too, strictly
// read and checked; Options override them.
func TestWorldClock(t *testing.T) {
	base := strings.TrimSuffix(strings.TrimSpace(testWorldJSON), "}")
	read := func(extra string) (*World, error) {
		return ReadWorld(strings.NewReader(base + "," + extra + "}"))
	}
	w, err := read(`"Timing": {"Attach": "20s", "Scale": 0.5}, "Faults": {"Latency": "1ms",
		"Actions": {"AssignPrivateIpAddresses": {"ConflictRate": 1}}}`)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, w, Options{})
	wantErr(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-prim-run", "SecondaryPrivateIpAddressCount", "1"),
		403, "Operation.Conflict")
	id := e.create(t)
	ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", "i-run"))
	e.clock.Advance(9 * time.Second)
	e.expect(t, id, "Attaching")
	e.clock.Advance(time.Second)
	e.expect(t, id, "InUse")

	// Options.Faults replaces the world's.
	e = newEnv(t, w, Options{Faults: &Faults{}})
	ok(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-prim-run", "SecondaryPrivateIpAddressCount", "1"))

	for _, bad := range []struct{ extra, want string }{
		{`"Faults": {"ThrottelRate": 0.1}`, `unknown field "ThrottelRate"`},
		{`"Faults": {"ThrottleRate": 1.5}`, "ThrottleRate 1.5 is not a share from 0 to 1"},
		{`"Faults": {"Actions": {"AttachENI": {"DropRate": 0.1}}}`, `"AttachENI" is not an action the emulator answers`},
		{`"Faults": {"Actions": {"CreateNetworkInterface": {"StuckRate": 0.1}}}`, "only AttachNetworkInterface and DetachNetworkInterface"},
		{`"Timing": {"Attach": "3 seconds"}`, `"3 seconds" is not a duration`},
		{`"Timing": {"Scale": -1}`, "Scale -1 must not be negative"},
	} {
		if _, err := read(bad.extra); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: got %v, want an error containing %q", bad.extra, err, bad.want)
		}
	}
}

// TestReadLag: for Timing.ReadLag after a change, DescribeNetworkInterfaces
// still shows the ENI as it was before; then the change.
func TestReadLag(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{Timing: &Timing{ReadLag: Duration(5 * time.Second), Attach: Duration(time.Second)}})
	addrs := func() []string {
		m := ok(t, e.cl.ecs(t, "DescribeNetworkInterfaces", "NetworkInterfaceId.1", "eni-free"))
		var out []string
		for _, s := range list(list(m, "NetworkInterfaceSets", "NetworkInterfaceSet")[0], "PrivateIpSets", "PrivateIpSet") {
			out = append(out, str(s, "PrivateIpAddress"))
		}
		return out
	}
	ok(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "PrivateIpAddress.1", "10.0.1.102"))
	if got := addrs(); len(got) != 2 {
		t.Fatalf("right after assign: %v, want the two addresses from before", got)
	}
	e.clock.Advance(5 * time.Second)
	if got := addrs(); len(got) != 3 {
		t.Fatalf("after the lag: %v, want three addresses", got)
	}
	// An attach: Available (before) for the lag, though it completed
	// after a second; then InUse.
	ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", "eni-free", "InstanceId", "i-run"))
	e.clock.Advance(4 * time.Second)
	e.expect(t, "eni-free", "Available")
	e.clock.Advance(time.Second)
	e.expect(t, "eni-free", "Attaching")
	e.clock.Advance(time.Second)
	e.expect(t, "eni-free", "InUse")
	// State (the admin view) is never stale.
	if n := eniState(e.srv, "eni-free"); n.Status != "InUse" {
		t.Errorf("State: %s", n.Status)
	}
}

// TestENIBusyConflict: with Timing.Busy, a change to an ENI that a
// synchronous call changed within that window is 403 Operation.Conflict;
// other ENIs and later changes go through.
func TestENIBusyConflict(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{Timing: &Timing{Busy: Duration(2 * time.Second)}})
	id := e.create(t)
	wantErr(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", id, "SecondaryPrivateIpAddressCount", "1"), 403, "Operation.Conflict")
	ok(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "SecondaryPrivateIpAddressCount", "1"))
	wantErr(t, e.cl.ecs(t, "ModifyNetworkInterfaceAttribute", "NetworkInterfaceId", "eni-free", "Description", "x"), 403, "Operation.Conflict")
	e.clock.Advance(2 * time.Second)
	ok(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", id, "SecondaryPrivateIpAddressCount", "1"))
	wantErr(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", "i-run"), 403, "Operation.Conflict")
	e.clock.Advance(2 * time.Second)
	ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", "i-run"))

	s := newEnv(t, testWorld(t), Options{Timing: &Timing{}})
	id = s.create(t)
	ok(t, s.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", id, "SecondaryPrivateIpAddressCount", "1"))
}
