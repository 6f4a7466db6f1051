package ecs

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ecsnet/ecsnet/plan"
)

// ObserveVPCs lists the vSwitches and ENIs of the VPCs, the instances whose
// primary ENI is in them, the quotas of their types, and the network card
// of the ENIs attached to instances of types with several: what ecsnet
// import --all writes a desired state from. vSwitches and ENIs are sorted
// by ID.
func (c *Client) ObserveVPCs(ctx context.Context, vpcs []string) (*plan.Region, error) {
	name := c.region
	r := &plan.Region{Name: name, VPCs: vpcs}
	for _, vpc := range vpcs {
		vs, err := c.DescribeVSwitches(ctx, VSwitchQuery{VPCID: vpc})
		if err != nil {
			return nil, fmt.Errorf("list the vSwitches of %s: %w", vpc, err)
		}
		if len(vs) == 0 {
			return nil, fmt.Errorf("VPC %s has no vSwitch in %s (check the ID and --region)", vpc, name)
		}
		r.VSwitches = append(r.VSwitches, vs...)
		es, err := c.DescribeNetworkInterfaces(ctx, ENIQuery{VPCID: vpc})
		if err != nil {
			return nil, fmt.Errorf("list the ENIs of %s: %w", vpc, err)
		}
		r.ENIs = append(r.ENIs, es...)
	}
	var ids []string
	for _, x := range r.ENIs {
		if x.Type == plan.ENIPrimary && x.InstanceID != "" {
			ids = append(ids, x.InstanceID)
		}
	}
	var err error
	if r.Instances, err = c.DescribeInstances(ctx, ids); err != nil {
		return nil, fmt.Errorf("describe the instances: %w", err)
	}
	var types []string
	for _, in := range r.Instances {
		types = append(types, in.Type)
	}
	if r.Types, err = c.DescribeInstanceTypes(ctx, types); err != nil {
		return nil, fmt.Errorf("describe the instance types: %w", err)
	}
	if err := c.readCards(ctx, multiCardENIs(r.ENIs, r.Instances, r.Types)); err != nil { // card.go, as Observe
		return nil, err
	}
	slices.SortFunc(r.VSwitches, func(a, b *plan.ObservedVSwitch) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(r.ENIs, func(a, b *plan.ObservedENI) int { return strings.Compare(a.ID, b.ID) })
	return r, nil
}
