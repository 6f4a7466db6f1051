package plan_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/testfleet/testcloud"
	"github.com/ecsnet/ecsnet/plan"
)

// TestFailoversAtScale: Failovers finds each ENI's record as FleetENI does,
// in time linear in the fleet. It called FleetENI, a scan of every observed
// ENI, for each of the fleet's ENIs: 3 minutes of every plan at 20,000
// instances, and about 10 s at the 5,000 here.
func TestFailoversAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 5,000-instance fleet")
	}
	f, err := testcloud.Fleet(5000)
	if err != nil {
		t.Fatal(err)
	}
	_, obs, _, err := testcloud.Snapshot(f, testcloud.Converged)
	if err != nil {
		t.Fatal(err)
	}
	// Records on every thousandth ENI, found by FleetENI.
	in := f.Instances[7]
	var want []plan.Failover
	for i, x := range f.ENIs {
		if i%1000 == 0 {
			o := plan.FleetENI(f, obs, x)
			o.Tags[plan.TagFailover] = plan.FailoverTag(in, time.Unix(1e9, 0))
			want = append(want, plan.Failover{ENI: x.Name, ENIID: o.ID, To: in.Name, ToID: in.ID, At: time.Unix(1e9, 0).UTC()})
		}
	}
	start := time.Now()
	got := plan.Failovers(f, obs)
	took := time.Since(start)
	if len(want) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("Failovers: %d records, want %d (%v, want %v)", len(got), len(want), got, want)
	}
	if took > 2*time.Second {
		t.Errorf("Failovers over %d ENIs took %v, want well under 2 s (a scan per ENI?)", len(f.ENIs), took)
	}
}
