package plan_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/fixtures"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// exampleCloud serves the example world (the fleet's instances and three
// ENIs that are not the fleet's) over HTTP and returns the emulator, a
// client of it and the example fleet.
func exampleCloud(t *testing.T) (*emulator.Server, *ecs.Client, *schema.Fleet) {
	t.Helper()
	return exampleCloudWith(t, emulator.Options{AsyncDelay: time.Millisecond})
}

func exampleCloudWith(t *testing.T, opts emulator.Options) (*emulator.Server, *ecs.Client, *schema.Fleet) {
	t.Helper()
	w, err := emulator.ReadWorld(bytes.NewReader(fixtures.ExampleWorld))
	if err != nil {
		t.Fatal(err)
	}
	key := w.AccessKeys[0]
	srv, err := emulator.New(w, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cl, err := ecs.New(ecs.Config{Region: "cn-hangzhou", Endpoint: hs.URL, WaitInterval: time.Millisecond,
		Credentials: ecs.Credentials{AccessKeyID: key.AccessKeyId, AccessKeySecret: key.AccessKeySecret}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	f, err := schema.Load([]string{"../fixtures/example/fleet.cue"}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return srv, cl, f
}

// TestApplyRefusesStepsOutsideTheFleet builds plans in Go with one step on
// something that is not the fleet's and runs them through Apply against
// the emulator: each is refused with ErrOutOfScope before any call,
// whatever the step's Destroys says, with AllowDestroy, and with a lock
// that claims the foreign ENI as one of the fleet's.
func TestApplyRefusesStepsOutsideTheFleet(t *testing.T) {
	srv, cl, f := exampleCloud(t)
	ctx := context.Background()
	pods := netip.MustParseAddr("172.16.3.201")
	forgedLock := &schema.Lock{Fleet: f.Name}
	forgedLock.Put(&schema.LockedENI{Name: "vip", ID: "eni-bp1podpool00000001", Secondary: []schema.LockedAddr{{Addr: pods, Added: true}}})
	forgedLock.Put(&schema.LockedENI{Name: "old", ID: "eni-bp1legacynfs000001", Adopted: true})

	for _, tc := range []struct {
		name string
		step *plan.Step
	}{
		{"delete an untagged ENI", &plan.Step{ID: "delete eni/old", Action: plan.DeleteENI, Target: plan.ENITarget("old"), ENI: "old", ENIID: "eni-bp1legacynfs000001"}},
		{"detach an untagged ENI", &plan.Step{ID: "detach eni/mon", Action: plan.DetachENI, Target: plan.ENITarget("mon"), ENIID: "eni-bp1monitor00000001", InstanceID: "i-bp1db0000001"}},
		{"unassign from a Terway ENI", &plan.Step{ID: "unassign eni/vip", Action: plan.UnassignIPs, Target: plan.ENITarget("vip"), ENI: "vip", ENIID: "eni-bp1podpool00000001", IPs: []netip.Addr{pods}}},
		{"assign on a foreign ENI", &plan.Step{ID: "assign eni/vip", Action: plan.AssignIPs, Target: plan.ENITarget("vip"), ENI: "vip", ENIID: "eni-bp1monitor00000001", Count: 1}},
		{"modify a foreign ENI", &plan.Step{ID: "modify eni/vip", Action: plan.ModifyENI, Target: plan.ENITarget("vip"), ENIID: "eni-bp1monitor00000001", Modify: &plan.ModifySpec{SecurityGroupIDs: []string{"sg-bp1web000001"}}}},
		{"attach without an ENI", &plan.Step{ID: "attach eni/vip", Action: plan.AttachENI, Target: plan.ENITarget("vip"), ENI: "vip", InstanceID: "i-bp1web000001"}},
		{"create with another fleet's tags", &plan.Step{ID: "create eni/vip", Action: plan.CreateENI, Target: plan.ENITarget("vip"), ENI: "vip",
			Create: &plan.CreateSpec{VSwitchID: "vsw-bp1app0000h", Tags: map[string]string{plan.TagFleet: "other", plan.TagENI: "vip"}}}},
		{"a host step on an unlisted instance", &plan.Step{ID: "host-apply host/x", Action: plan.HostApply, Target: plan.HostTarget("x"), InstanceID: "i-bp1notours00001"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.ResetCounters()
			p := &plan.Plan{Fleet: f.Name, Region: f.Region, Steps: []*plan.Step{tc.step}}
			for _, lock := range []*schema.Lock{nil, forgedLock} {
				_, err := plan.Apply(ctx, cl, f, p, lock, plan.ApplyOptions{AllowDestroy: true,
					Hosts: &plan.HostOptions{Runner: cl, Payload: func(*plan.Step, *schema.Lock) (plan.HostPayload, error) { return plan.HostPayload{}, nil }}})
				if !errors.Is(err, plan.ErrOutOfScope) {
					t.Errorf("lock %v: err = %v, want ErrOutOfScope", lock != nil, err)
				}
			}
			if n := srv.MutatingCalls(); n != 0 {
				t.Errorf("%d mutating calls: %v", n, srv.Calls())
			}
		})
	}
}

// TestApplyDestroyIsDerived: a delete step whose Destroys is false is
// still refused without AllowDestroy.
func TestApplyDestroyIsDerived(t *testing.T) {
	srv, cl, f := exampleCloud(t)
	p := &plan.Plan{Fleet: f.Name, Region: f.Region, Steps: []*plan.Step{{ID: "delete eni/x@eni-bp1legacynfs000001", Action: plan.DeleteENI,
		Target: plan.RemovedENITarget("x", "eni-bp1legacynfs000001"), ENIID: "eni-bp1legacynfs000001", Destroys: false}}}
	if _, err := plan.Apply(context.Background(), cl, f, p, nil, plan.ApplyOptions{}); !errors.Is(err, plan.ErrDestroy) {
		t.Errorf("err = %v, want ErrDestroy", err)
	}
	if n := srv.MutatingCalls(); n != 0 {
		t.Errorf("%d mutating calls: %v", n, srv.Calls())
	}
}

// TestApplyInScope: the fleet's own steps pass the guard: applying the
// example from scratch (creates, then attaches and assigns on the ENIs
// they made, assigns on primary ENIs) converges.
func TestApplyInScope(t *testing.T) {
	_, cl, f := exampleCloud(t)
	ctx := context.Background()
	obs, err := cl.Observe(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Compute(f, obs, nil, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := plan.Apply(ctx, cl, f, p, nil, plan.ApplyOptions{Observed: obs})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) > 0 || rep.Drift == nil || !rep.Drift.Empty() {
		t.Errorf("failed %v, drift %v", rep.Failed, rep.Drift)
	}
}
