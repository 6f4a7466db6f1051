package ecs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// Observe reads the part of the region that fleet f touches:
//
//   - the fleet's vSwitches, which give the VPCs in scope, and every vSwitch
//     of those VPCs (ID, zone, CIDR, free addresses);
//   - every ENI in those VPCs, ecsnet's or not, primary ENIs included,
//     listed by VPC: a tag filter would return at most 1,000 ENIs
//     (ecs-api.md §2.1), and the plan counts the ENIs ecsnet does not own
//     toward the instance's ENI quota and the security groups' address
//     totals. That listing sees them all: an ENI attaches only to an
//     instance of its own VPC, and a security group holds only ENIs of
//     its VPC;
//   - the fleet's instances, by ID;
//   - the live quotas of the instance types in use (the fleet's and the
//     cloud's, should they differ);
//   - the network card of each secondary ENI attached to one of the
//     fleet's instances whose type has more than one (card.go), one ENI
//     per call, unless the listing reported it.
//
// Its cost is fixed by the sizes involved. With V the VPCs in scope, M the
// fleet's vSwitches the cloud does not have, S(v) and E(v) the vSwitches and
// ENIs of VPC v, I the fleet's instances, T the instance types in use and C
// the secondary ENIs attached to the fleet's instances of types with more
// than one network card (0 for most fleets; the listing's card not
// reported), Observe makes exactly
//
//	DescribeVSwitches                  V + M + Σv max(1, ⌈S(v)/50⌉)
//	DescribeNetworkInterfaces          Σv max(1, ⌈E(v)/500⌉)
//	DescribeInstances                  ⌈I/100⌉
//	DescribeInstanceTypes              ⌈T/10⌉
//	DescribeNetworkInterfaceAttribute  C
//
// calls when none is retried: each VPC is found by looking up one of its
// vSwitches by ID, then listed whole. For one VPC that is
// ⌈E/500⌉ + ⌈I/100⌉ + a few vSwitch and type calls. ObserveCalls computes
// the formula.
//
// Instances, vSwitches and types the cloud does not know are absent from
// the result, for the planner to report. The result is normalised, and the
// same cloud always gives the same Observed.
func (c *Client) Observe(ctx context.Context, f *schema.Fleet) (*plan.Observed, error) {
	if f == nil {
		return nil, errors.New("ecs Observe: no fleet")
	}
	if f.Region != "" && f.Region != c.region {
		return nil, fmt.Errorf("ecs Observe: the fleet is in region %s, the client calls %s", f.Region, c.region)
	}

	// 1. vSwitches → VPCs in scope.
	vswitches, vpcs, err := c.observeVSwitches(ctx, f)
	if err != nil {
		return nil, err
	}

	// 2. ENIs by VPC, and instances by ID, side by side.
	ids := make([]string, 0, len(f.Instances))
	for _, in := range f.Instances {
		ids = append(ids, in.ID)
	}
	var (
		wg             sync.WaitGroup
		enis           []*plan.ObservedENI
		instances      []*plan.ObservedInstance
		eniErr, insErr error
	)
	ctx2, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() {
		for _, vpc := range vpcs {
			got, err := c.DescribeNetworkInterfaces(ctx2, ENIQuery{VPCID: vpc})
			if err != nil {
				eniErr = fmt.Errorf("list the ENIs of %s: %w", vpc, err)
				cancel()
				return
			}
			enis = append(enis, got...)
		}
	})
	wg.Go(func() {
		var err error
		if instances, err = c.DescribeInstances(ctx2, ids); err != nil {
			insErr = fmt.Errorf("describe the fleet's instances: %w", err)
			cancel()
		}
	})
	wg.Wait()
	if err := errors.Join(eniErr, insErr); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ecs Observe: %w", ctx.Err())
		}
		return nil, fmt.Errorf("ecs Observe: %w", err)
	}

	// 3. Quotas of the types in use.
	types, err := c.DescribeInstanceTypes(ctx, typesInUse(f, instances))
	if err != nil {
		return nil, fmt.Errorf("ecs Observe: instance type quotas: %w", err)
	}

	// 4. The network card of each ENI attached to one of the fleet's
	// instances whose type has several.
	if err := c.readCards(ctx, multiCardENIs(enis, instances, types)); err != nil {
		return nil, fmt.Errorf("ecs Observe: %w", err)
	}

	o := &plan.Observed{Region: c.region, VSwitches: vswitches, InstanceTypes: types, Instances: instances, ENIs: enis}
	if err := o.Normalize(); err != nil {
		return nil, fmt.Errorf("ecs Observe: %w", err)
	}
	return o, nil
}

// observeVSwitches finds the VPC of each of the fleet's vSwitches and lists
// every vSwitch of those VPCs. It returns the vSwitches and the VPC IDs,
// sorted.
func (c *Client) observeVSwitches(ctx context.Context, f *schema.Fleet) ([]*plan.ObservedVSwitch, []string, error) {
	want := make([]string, 0, len(f.VSwitches))
	for _, v := range f.VSwitches {
		want = append(want, v.ID)
	}
	slices.Sort(want)
	want = slices.Compact(want)

	seen := map[string]bool{}
	var (
		out  []*plan.ObservedVSwitch
		vpcs []string
	)
	for _, id := range want {
		if seen[id] {
			continue // listed with its VPC already
		}
		one, err := c.DescribeVSwitches(ctx, VSwitchQuery{VSwitchID: id})
		if err != nil && !IsCode(err, "InvalidVSwitchId.NotFound") {
			return nil, nil, fmt.Errorf("ecs Observe: look up vSwitch %s: %w", id, err)
		}
		if len(one) == 0 || one[0].VPC == "" {
			seen[id] = true // not in the cloud: the planner reports it
			continue
		}
		vpc := one[0].VPC
		all, err := c.DescribeVSwitches(ctx, VSwitchQuery{VPCID: vpc})
		if err != nil {
			return nil, nil, fmt.Errorf("ecs Observe: list the vSwitches of %s: %w", vpc, err)
		}
		vpcs = append(vpcs, vpc)
		for _, v := range all {
			if !seen[v.ID] {
				seen[v.ID] = true
				out = append(out, v)
			}
		}
		if !seen[id] {
			// Listed by ID but not by VPC: an inconsistent answer. Keep
			// what the look-up said.
			seen[id] = true
			out = append(out, one[0])
		}
	}
	slices.Sort(vpcs)
	return out, vpcs, nil
}

func typesInUse(f *schema.Fleet, observed []*plan.ObservedInstance) []string {
	var names []string
	for _, in := range f.Instances {
		if in.Type != "" {
			names = append(names, in.Type)
		}
	}
	for _, in := range observed {
		if in.Type != "" {
			names = append(names, in.Type)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// ObserveSizes are the quantities Observe's call count depends on.
type ObserveSizes struct {
	MissingVSwitches int   // the fleet's vSwitches the cloud does not have (M)
	VSwitchesPerVPC  []int // S(v), one entry per VPC in scope
	ENIsPerVPC       []int // E(v), in the same order
	Instances        int   // I: the fleet's instances
	InstanceTypes    int   // T: the instance types in use
	MultiCardENIs    int   // C: attached ENIs whose card Observe asks for
}

// ObserveCalls returns how many calls Observe makes, per action, for a
// cloud of the given sizes when no call is retried (see Observe).
func ObserveCalls(s ObserveSizes) map[string]int {
	pages := func(n, size int) int { return max(1, ceilDiv(n, size)) }
	m := map[string]int{
		actDescribeVSwitches:     len(s.VSwitchesPerVPC) + s.MissingVSwitches,
		actDescribeENIs:          0,
		actDescribeInstances:     ceilDiv(s.Instances, idsPerCall),
		actDescribeInstanceTypes: ceilDiv(s.InstanceTypes, typesPerCall),
	}
	if s.MultiCardENIs > 0 {
		m[actDescribeENIAttribute] = s.MultiCardENIs
	}
	for _, n := range s.VSwitchesPerVPC {
		m[actDescribeVSwitches] += pages(n, vswitchPageSize)
	}
	for _, n := range s.ENIsPerVPC {
		m[actDescribeENIs] += pages(n, eniPageSize)
	}
	return m
}

func ceilDiv(n, d int) int { return (n + d - 1) / d }
