package ecs

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// lagFleet has the cloud pick addresses: what they are, only the lock
// knows until reads show them.
const lagFleet = `{
	"fleet": "small",
	"region": "cn-hangzhou",
	"vswitches": {"app-h": {"id": "vsw-bp1aaaa", "zone": "cn-hangzhou-h", "cidr": "10.0.1.0/24"}},
	"securityGroups": {"web": {"id": "sg-bp1web1"}},
	"instances": {
		"web-2": {"id": "i-bp1web2", "type": "ecs.g7.large", "os": "debian12",
			"primary": {"vswitch": "app-h", "ip": "10.0.1.20", "securityGroups": ["web"], "secondaryIpCount": 3}}
	}
}`

// TestApplySettlesBeforeReconcile: on a cloud whose reads trail its
// writes, apply observes again until the cloud shows what its steps did
// before it reconciles the lock, so the addresses the cloud picked stay
// recorded and the apply converges in one run.
func TestApplySettlesBeforeReconcile(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{Timing: &emulator.Timing{ReadLag: emulator.Duration(300 * time.Millisecond)}})
	c := newClient(t, fastConfig(e.URL))
	f := loadFleet(t, lagFleet)
	ctx := context.Background()
	obs, err := c.Observe(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	lock := &schema.Lock{}
	p, err := plan.Compute(f, obs, lock, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := plan.Apply(ctx, c, f, p, lock, plan.ApplyOptions{Observed: obs})
	if err != nil {
		t.Fatal(err)
	}
	var held []string
	for _, in := range e.State().Instances {
		if in.InstanceId == "i-bp1web2" {
			held = in.SecondaryPrivateIpAddresses
		}
	}
	var recorded []string
	for _, a := range rep.Lock.Primary("web-2").Secondary {
		recorded = append(recorded, a.Addr.String())
	}
	slices.Sort(held)
	slices.Sort(recorded)
	if len(held) != 3 || !slices.Equal(held, recorded) {
		t.Errorf("the cloud holds %v, the lock records %v", held, recorded)
	}
	if !rep.Drift.Empty() {
		t.Errorf("not converged: %d steps left", len(rep.Drift.Steps))
	}
}
