package main

import (
	"fmt"
	"maps"
	"testing"

	"github.com/ecsnet/ecsnet/internal/testfleet"
	"github.com/ecsnet/ecsnet/internal/testfleet/testcloud"
	"github.com/ecsnet/ecsnet/plan"
)

// TestScratchCalls checks the apply table's call formula against the
// plan's own count (Plan.Calls) from a bare world, for the IPv4 fleet and
// for issue 17's shape, whose IPv6 and prefix steps the formula once left
// out; and that every API action a plan step calls counts as mutating.
func TestScratchCalls(t *testing.T) {
	for _, dual := range []bool{false, true} {
		t.Run(fmt.Sprintf("dual-stack=%v", dual), func(t *testing.T) {
			f, err := testcloud.FleetOf(testfleet.Options{Instances: 250, Seed: 1, DualStack: dual})
			if err != nil {
				t.Fatal(err)
			}
			w, err := testcloud.World(f, testcloud.Bare)
			if err != nil {
				t.Fatal(err)
			}
			obs, err := testcloud.Observed(w)
			if err != nil {
				t.Fatal(err)
			}
			p, err := plan.Compute(f, obs, nil, plan.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, want := p.Calls(), scratchCalls(f)
			if !maps.Equal(got, want) {
				t.Errorf("Plan.Calls %v, the formula %v", got, want)
			}
			if dual && (want["AssignIpv6Addresses"] == 0 || want["AssignPrivateIpAddresses"] <= countPrimaryAssigns(f)) {
				t.Errorf("the dual-stack fleet plans no IPv6 or prefix calls: %v", want)
			}
		})
	}
	for _, a := range plan.Actions() {
		if api := a.APIAction(); api != "" && !mutating(api) {
			t.Errorf("%s (%s) does not count as mutating", api, a)
		}
	}
	if mutating("DescribeNetworkInterfaces") {
		t.Error("DescribeNetworkInterfaces counts as mutating")
	}
}
