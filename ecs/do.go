package ecs

import (
	"context"
	"errors"
	"fmt"

	"github.com/ecsnet/ecsnet/plan"
)

// Client is the cloud plan.Apply drives.
var _ plan.Cloud = (*Client)(nil)

// Do performs one plan step and waits for its asynchronous result, so the
// steps that depend on it find the ENI settled: an attach returns once the
// ENI is InUse on the instance, a detach once it has left the instance, a
// delete once it is gone. Create and assign send the step's Token as their
// ClientToken; the other actions treat "already done" answers as success
// (see AlreadyDone and AttachNetworkInterface), so a step can be repeated
// after a crash or a lost answer.
func (c *Client) Do(ctx context.Context, s *plan.Step) (plan.Result, error) {
	if s.Action != plan.CreateENI && s.ENIID == "" {
		return plan.Result{}, fmt.Errorf("ecs: step %q has no ENI ID", s.ID)
	}
	switch s.Action {
	case plan.CreateENI:
		spec := s.Create
		if spec == nil {
			return plan.Result{}, fmt.Errorf("ecs: create step %q has no parameters", s.ID)
		}
		e, err := c.CreateNetworkInterface(ctx, CreateENIInput{
			VSwitchID: spec.VSwitchID, SecurityGroupIDs: spec.SecurityGroupIDs, PrimaryIP: spec.PrimaryIP,
			SecondaryIPs: spec.IPs, SecondaryIPCount: spec.Count, Name: spec.Name, Description: spec.Description,
			Tags: spec.Tags, ClientToken: s.Token,
			IPv6: spec.IPv6, IPv6Count: spec.IPv6Count, Prefixes: spec.Prefixes, PrefixCount: spec.PrefixCount, QueueNumber: spec.QueueNumber,
		})
		if err != nil {
			return plan.Result{}, err
		}
		return plan.Result{ENIID: e.ID, MAC: e.MAC, PrimaryIP: e.PrimaryIP, IPs: e.SecondaryIPs, IPv6: e.IPv6, Prefixes: e.Prefixes}, nil

	case plan.AttachENI:
		if s.InstanceID == "" {
			return plan.Result{}, fmt.Errorf("ecs: attach step %q has no instance ID", s.ID)
		}
		if err := c.AttachNetworkInterfaceCard(ctx, s.ENIID, s.InstanceID, s.NetworkCard); err != nil {
			return plan.Result{}, err
		}
		e, err := c.WaitENI(ctx, s.ENIID, plan.ENIInUse)
		if err != nil {
			return plan.Result{}, err
		}
		if e.InstanceID != s.InstanceID {
			return plan.Result{}, fmt.Errorf("ecs: ENI %s is InUse on %s, not %s", s.ENIID, e.InstanceID, s.InstanceID)
		}
		// No device index: the cloud shows it only to accounts in a
		// preview (eniFromSDK), and apply gives the ENI its own slot.
		return plan.Result{}, nil

	case plan.DetachENI:
		if s.InstanceID == "" {
			return plan.Result{}, fmt.Errorf("ecs: detach step %q has no instance ID", s.ID)
		}
		if err := c.DetachNetworkInterface(ctx, s.ENIID, s.InstanceID); err != nil {
			return plan.Result{}, err
		}
		// Done when the ENI has left this instance: Available, gone, or
		// (moved by someone else meanwhile) on another instance.
		_, err := c.waitFor(ctx, s.ENIID, "detach from "+s.InstanceID, func(e *plan.ObservedENI) (bool, error) {
			return e == nil || e.Status == plan.ENIAvailable || e.InstanceID != s.InstanceID, nil
		})
		return plan.Result{}, err

	case plan.DeleteENI:
		if err := c.DeleteNetworkInterface(ctx, s.ENIID); err != nil {
			return plan.Result{}, err
		}
		_, err := c.WaitENI(ctx, s.ENIID, ENIGone)
		return plan.Result{}, err

	case plan.ModifyENI:
		m := s.Modify
		if m == nil {
			return plan.Result{}, fmt.Errorf("ecs: modify step %q has no parameters", s.ID)
		}
		in := ModifyENIInput{ENIID: s.ENIID, SecurityGroupIDs: m.SecurityGroupIDs}
		if m.QueueNumber != nil {
			in.QueueNumber = *m.QueueNumber
		}
		if m.Name != nil {
			in.Name = *m.Name
		}
		if m.Description != nil {
			in.Description = *m.Description
		}
		if (m.Name != nil && *m.Name == "") || (m.Description != nil && *m.Description == "") {
			// The SDK drops empty parameters, so the API never sees them.
			return plan.Result{}, errors.New("ecs: ModifyNetworkInterfaceAttribute cannot set an empty name or description")
		}
		return plan.Result{}, c.ModifyNetworkInterfaceAttribute(ctx, in)

	case plan.AssignIPs:
		ips, err := c.AssignPrivateIpAddresses(ctx, AssignInput{ENIID: s.ENIID, IPs: s.IPs, Count: s.Count, ClientToken: s.Token})
		if err != nil {
			return plan.Result{}, err
		}
		return plan.Result{IPs: ips}, nil

	case plan.UnassignIPs:
		return plan.Result{}, c.UnassignPrivateIpAddresses(ctx, s.ENIID, s.IPs)

	case plan.AssignIPv6:
		ips, err := c.AssignIpv6Addresses(ctx, AssignIPv6Input{ENIID: s.ENIID, IPs: s.IPs, Count: s.Count, ClientToken: s.Token})
		if err != nil {
			return plan.Result{}, err
		}
		return plan.Result{IPv6: ips}, nil

	case plan.UnassignIPv6:
		return plan.Result{}, c.UnassignIpv6Addresses(ctx, s.ENIID, s.IPs)

	case plan.AssignPrefixes:
		ps, err := c.AssignIpv4Prefixes(ctx, AssignPrefixesInput{ENIID: s.ENIID, Prefixes: s.Prefixes, Count: s.Count, ClientToken: s.Token})
		if err != nil {
			return plan.Result{}, err
		}
		return plan.Result{Prefixes: ps}, nil

	case plan.UnassignPrefixes:
		return plan.Result{}, c.UnassignIpv4Prefixes(ctx, s.ENIID, s.Prefixes)
	}
	return plan.Result{}, fmt.Errorf("ecs: step %q has unknown action %v", s.ID, s.Action)
}
