package ecs

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/fixtures"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

func TestDoEveryAction(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	ctx := context.Background()
	do := func(s *plan.Step) plan.Result {
		t.Helper()
		r, err := c.Do(ctx, s)
		if err != nil {
			t.Fatalf("%s: %v", s.ID, err)
		}
		return r
	}
	name, desc := "data2", "moved"
	created := do(&plan.Step{ID: "create eni/data", Action: plan.CreateENI, Token: "tok-create",
		Create: &plan.CreateSpec{VSwitchID: "vsw-bp1aaaa", SecurityGroupIDs: []string{"sg-bp1web1"}, Count: 2, Name: "data",
			Tags: map[string]string{plan.TagFleet: "small", plan.TagENI: "data"}}})
	if created.ENIID == "" || created.MAC == "" || !created.PrimaryIP.IsValid() || len(created.IPs) != 2 {
		t.Fatalf("create result %+v", created)
	}
	id := created.ENIID
	// An attach reports nothing: the ENI's slot is apply's to decide.
	if r := do(&plan.Step{ID: "attach eni/data", Action: plan.AttachENI, ENIID: id, InstanceID: "i-bp1web2"}); r.ENIID != "" || r.MAC != "" || len(r.IPs) != 0 {
		t.Errorf("attach result %+v", r)
	}
	if r := do(&plan.Step{ID: "assign eni/data", Action: plan.AssignIPs, ENIID: id, IPs: mustAddrs("10.0.1.201"), Token: "tok-assign"}); len(r.IPs) != 1 {
		t.Errorf("assign result %+v", r)
	}
	do(&plan.Step{ID: "unassign eni/data", Action: plan.UnassignIPs, ENIID: id, IPs: created.IPs})
	do(&plan.Step{ID: "modify eni/data", Action: plan.ModifyENI, ENIID: id,
		Modify: &plan.ModifySpec{SecurityGroupIDs: []string{"sg-bp1db01"}, Name: &name, Description: &desc}})
	got := eniByID(t, c, id)
	if got.Status != plan.ENIInUse || got.Name != name || got.Description != desc || len(got.SecondaryIPs) != 1 ||
		got.SecurityGroups[0] != "sg-bp1db01" {
		t.Errorf("after the steps: %+v", got)
	}
	do(&plan.Step{ID: "detach eni/data", Action: plan.DetachENI, ENIID: id, InstanceID: "i-bp1web2"})
	if got := eniByID(t, c, id); got.Status != plan.ENIAvailable {
		t.Errorf("after detach: %s", got.Status)
	}
	do(&plan.Step{ID: "delete eni/data", Action: plan.DeleteENI, ENIID: id})
	if eniByID(t, c, id) != nil {
		t.Error("the ENI is still there")
	}
	// Repeating a step after it is done is a success.
	do(&plan.Step{ID: "delete eni/data", Action: plan.DeleteENI, ENIID: id})

	empty := ""
	for _, s := range []*plan.Step{
		{ID: "no id", Action: plan.AttachENI, InstanceID: "i-bp1web2"},
		{ID: "no spec", Action: plan.CreateENI, Token: "x"},
		{ID: "no token", Action: plan.CreateENI, Create: &plan.CreateSpec{VSwitchID: "vsw-bp1aaaa", SecurityGroupIDs: []string{"sg-bp1web1"}}},
		{ID: "clear name", Action: plan.ModifyENI, ENIID: "eni-vip", Modify: &plan.ModifySpec{Name: &empty}},
		{ID: "unknown", Action: plan.Action(99), ENIID: "eni-vip"},
	} {
		if _, err := c.Do(ctx, s); err == nil {
			t.Errorf("%s: accepted", s.ID)
		}
	}
}

// TestApplyExampleConverges is the fixed point the executor relies on:
// planning and applying the example fleet with this client against the
// example world converges (no drift), and a second plan is empty and
// costs no mutating call, also when the cloud throttles and fails answers
// after committing.
func TestApplyExampleConverges(t *testing.T) {
	f, err := schema.Load([]string{"../fixtures/example/fleet.cue"}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		opts        emulator.Options
		parallelism int
	}{
		// Ten steps at a time, as apply runs by default. The plan orders
		// the steps where the cloud picks addresses after those that pin
		// addresses in the same vSwitch, so no picked address can take a
		// pinned one.
		{"clean", emulator.Options{}, 10},
		{"faults", emulator.Options{ThrottleRate: 0.1, ServerErrorRate: 0.05, CommitThenFailRate: 0.2, CommitThenDropRate: 0.1}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := emulator.ReadWorld(bytes.NewReader(fixtures.ExampleWorld))
			if err != nil {
				t.Fatal(err)
			}
			w.AccessKeys = nil // startEmu installs the test keys
			e := startEmu(t, w, tc.opts)
			c := newClient(t, fastConfig(e.URL))
			ctx := context.Background()

			obs, err := c.Observe(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := plan.Compute(f, obs, nil, plan.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Empty() {
				t.Fatal("nothing to do on the example world")
			}
			rep, err := plan.Apply(ctx, c, f, p, nil, plan.ApplyOptions{Parallelism: tc.parallelism})
			if err != nil {
				t.Fatal(err)
			}
			for _, fl := range rep.Failed {
				t.Errorf("step %s failed: %v", fl.Step.ID, fl.Err)
			}
			if rep.Drift == nil || !rep.Drift.Empty() {
				var ids []string
				if rep.Drift != nil {
					for _, s := range rep.Drift.Steps {
						ids = append(ids, s.ID)
					}
				}
				t.Fatalf("drift after apply: %s", strings.Join(ids, ", "))
			}
			// Every fleet ENI exists exactly once.
			count := map[string]int{}
			for _, ni := range e.State().NetworkInterfaces {
				for _, tag := range ni.Tags {
					if tag.TagKey == plan.TagENI {
						count[tag.TagValue]++
					}
				}
			}
			for _, x := range f.ENIs {
				if count[x.Name] != 1 {
					t.Errorf("ENI %s exists %d times", x.Name, count[x.Name])
				}
			}

			applyCalls := e.Calls()
			if tc.opts.CommitThenFailRate > 0 && applyCalls["CreateNetworkInterface"] <= len(f.ENIs) {
				t.Errorf("no create was retried: %v", applyCalls)
			}
			t.Logf("calls during apply: %v", applyCalls)
			e.SetFaults(emulator.Faults{})
			e.ResetCounters()
			obs, err = c.Observe(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			p2, err := plan.Compute(f, obs, rep.Lock, plan.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !p2.Empty() {
				t.Errorf("second plan has %d steps", len(p2.Steps))
			}
			if n := e.MutatingCalls(); n != 0 {
				t.Errorf("%d mutating calls after convergence", n)
			}
		})
	}
}
