package ecs

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/plan"
)

// TestChangesSettleBeforeDone: on a cloud whose reads trail its writes,
// an assign or unassign step returns only once DescribeNetworkInterfaces
// shows it, so the observation an apply ends with (and the lock it
// records) sees what the steps did.
func TestChangesSettleBeforeDone(t *testing.T) {
	clock := newFakeClock()
	e := startEmu(t, smallWorld(), emulator.Options{Now: clock.Now, Timing: &emulator.Timing{ReadLag: emulator.Duration(10 * time.Second)}})
	c := clockedClient(t, e, clock)
	ctx := context.Background()
	a := netip.MustParseAddr("10.0.1.30")
	shows := func() bool {
		t.Helper()
		got := eniByID(t, c, "eni-pweb2")
		return slices.Contains(got.SecondaryIPs, a)
	}
	if _, err := c.Do(ctx, &plan.Step{ID: "assign instance/web-2", Action: plan.AssignIPs, ENIID: "eni-pweb2", IPs: []netip.Addr{a}, Token: "lag-1"}); err != nil {
		t.Fatal(err)
	}
	if !shows() {
		t.Error("assign returned before reads show the address")
	}
	if _, err := c.Do(ctx, &plan.Step{ID: "unassign instance/web-2", Action: plan.UnassignIPs, ENIID: "eni-pweb2", IPs: []netip.Addr{a}}); err != nil {
		t.Fatal(err)
	}
	if shows() {
		t.Error("unassign returned before reads stop showing the address")
	}
}
