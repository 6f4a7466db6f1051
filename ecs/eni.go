package ecs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	ecssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecsnet/ecsnet/plan"
)

// ENIQuery selects ENIs for DescribeNetworkInterfaces: every ENI of a VPC,
// or a list of ENI IDs. Set exactly one of VPCID and IDs.
type ENIQuery struct {
	VPCID string
	IDs   []string
	// MaxResults is the page size of a VPC listing, 1 to 500 (default
	// 500, the largest the API takes).
	MaxResults int
}

// Page sizes: the largest each API accepts (ecs-api.md §2).
const (
	eniPageSize      = 500 // DescribeNetworkInterfaces MaxResults
	idsPerCall       = 100 // NetworkInterfaceId.N, DescribeInstances InstanceIds
	typesPerCall     = 10  // DescribeInstanceTypes InstanceTypes.N
	vswitchPageSize  = 50  // DescribeVSwitches PageSize
	resourcesPerTag  = 50  // TagResources ResourceId.N
	tagsPerCall      = 20  // Tag.N
	instancesPerCall = 50  // RunCommand InstanceId.N
)

// DescribeNetworkInterfaces returns the ENIs q selects, primary and
// secondary, sorted by ID. A VPC listing pages with NextToken, so it costs
// max(1, ceil(n/MaxResults)) calls; a list of IDs costs ceil(len(IDs)/100)
// calls, and IDs the cloud does not know are simply absent from the
// result.
func (c *Client) DescribeNetworkInterfaces(ctx context.Context, q ENIQuery) ([]*plan.ObservedENI, error) {
	if (q.VPCID == "") == (len(q.IDs) == 0) {
		return nil, errors.New("ecs DescribeNetworkInterfaces: set exactly one of VPC ID and ENI IDs")
	}
	if q.VPCID != "" {
		size := q.MaxResults
		if size == 0 {
			size = eniPageSize
		}
		if size < 1 || size > eniPageSize {
			return nil, fmt.Errorf("ecs DescribeNetworkInterfaces: MaxResults %d is not from 1 to %d", size, eniPageSize)
		}
		return c.listENIs(ctx, func(r *ecssdk.DescribeNetworkInterfacesRequest) { r.VpcId = q.VPCID }, size)
	}
	ids := slices.Clone(q.IDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var out []*plan.ObservedENI
	for chunk := range slices.Chunk(ids, idsPerCall) {
		got, err := c.listENIs(ctx, func(r *ecssdk.DescribeNetworkInterfacesRequest) {
			r.NetworkInterfaceId = &chunk
		}, idsPerCall)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	slices.SortFunc(out, func(a, b *plan.ObservedENI) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// listENIs follows NextToken until the API says there is no more.
func (c *Client) listENIs(ctx context.Context, filter func(*ecssdk.DescribeNetworkInterfacesRequest), size int) ([]*plan.ObservedENI, error) {
	var out []*plan.ObservedENI
	seen := map[string]bool{}
	token := ""
	for {
		var resp *ecssdk.DescribeNetworkInterfacesResponse
		err := c.run(ctx, actDescribeENIs, func(cn *conn) error {
			req := ecssdk.CreateDescribeNetworkInterfacesRequest()
			filter(req)
			req.MaxResults = requests.NewInteger(size)
			req.NextToken = token
			var err error
			resp, err = cn.ecs.DescribeNetworkInterfaces(req)
			return err
		}, nil)
		if err != nil {
			return nil, err
		}
		for _, s := range resp.NetworkInterfaceSets.NetworkInterfaceSet {
			e, err := eniFromSDK(s)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		if resp.NextToken == "" {
			break
		}
		if seen[resp.NextToken] {
			return nil, &TransportError{Action: actDescribeENIs, Kind: KindResponse, Msg: "the API returned the same NextToken twice"}
		}
		seen[resp.NextToken] = true
		token = resp.NextToken
	}
	return out, nil
}

// eniFromSDK reads one ENI of a DescribeNetworkInterfaces answer. It reads
// only fields the API reference gives every account, and of Attachment
// (DeviceIndex, InstanceId, NetworkCardIndex), which the reference marks
// as an invitational preview, unavailable to general users
// (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describenetworkinterfaces),
// only NetworkCardIndex, which has a value only when an attach gave one:
// the plan takes a 0 there for "not reported" and goes by the card the
// lock records (plan.cardOf).
// The instance an ENI is attached to is the set's own InstanceId, the
// host finds the interface by MacAddress, and the slot that numbers it on
// the host is ecsnet's (plan/slot.go), so an account with or without the
// preview gets the same observation.
func eniFromSDK(s ecssdk.NetworkInterfaceSet) (*plan.ObservedENI, error) {
	e := &plan.ObservedENI{
		ID:             s.NetworkInterfaceId,
		Name:           s.NetworkInterfaceName,
		Description:    s.Description,
		Type:           plan.ENIType(s.Type),
		Status:         plan.ENIStatus(s.Status),
		InstanceID:     s.InstanceId,
		VSwitch:        s.VSwitchId,
		Zone:           s.ZoneId,
		VPC:            s.VpcId,
		MAC:            strings.ToLower(s.MacAddress),
		SecurityGroups: slices.Clone(s.SecurityGroupIds.SecurityGroupId),
	}
	var err error
	if e.PrimaryIP, e.SecondaryIPs, err = splitIPs(s.PrivateIpAddress, s.PrivateIpSets.PrivateIpSet); err != nil {
		return nil, fmt.Errorf("ecs DescribeNetworkInterfaces: ENI %s: %w", e.ID, err)
	}
	if e.IPv6, err = ipv6Of(s.Ipv6Sets.Ipv6Set); err != nil {
		return nil, fmt.Errorf("ecs DescribeNetworkInterfaces: ENI %s: IPv6: %w", e.ID, err)
	}
	if e.Prefixes, err = prefixesOf(s.Ipv4PrefixSets.Ipv4PrefixSet); err != nil {
		return nil, fmt.Errorf("ecs DescribeNetworkInterfaces: ENI %s: %w", e.ID, err)
	}
	e.QueueNumber = s.QueueNumber
	if e.InstanceID != "" {
		e.NetworkCard = s.Attachment.NetworkCardIndex
	}
	e.Tags = tagsFromSDK(s.Tags.Tag)
	slices.Sort(e.SecurityGroups)
	return e, nil
}

// splitIPs returns an ENI's primary address and its secondary addresses,
// sorted. The primary address is both the top-level field and the
// Primary:true entry of the set (ecs-api.md §2.1).
func splitIPs(primary string, set []ecssdk.PrivateIpSet) (netip.Addr, []netip.Addr, error) {
	var p netip.Addr
	if primary != "" {
		a, err := netip.ParseAddr(primary)
		if err != nil {
			return p, nil, fmt.Errorf("primary address %q: %w", primary, err)
		}
		p = a
	}
	var sec []netip.Addr
	for _, s := range set {
		a, err := netip.ParseAddr(s.PrivateIpAddress)
		if err != nil {
			return p, nil, fmt.Errorf("address %q: %w", s.PrivateIpAddress, err)
		}
		switch {
		case s.Primary && !p.IsValid():
			p = a
		case s.Primary || a == p:
		default:
			sec = append(sec, a)
		}
	}
	slices.SortFunc(sec, netip.Addr.Compare)
	return p, slices.Compact(sec), nil
}

// tagsFromSDK reads tags, which ENI responses spell TagKey/TagValue and
// other responses Key/Value (the SDK struct has both).
func tagsFromSDK(tags []ecssdk.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		k, v := t.TagKey, t.TagValue
		if k == "" {
			k, v = t.Key, t.Value
		}
		if k != "" {
			m[k] = v
		}
	}
	return m
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// CreateENIInput is a new secondary ENI.
type CreateENIInput struct {
	VSwitchID        string
	SecurityGroupIDs []string     // 1 to 5 (the default quota), in one VPC
	PrimaryIP        netip.Addr   // zero: the cloud picks a free address
	SecondaryIPs     []netip.Addr // pinned secondary addresses
	SecondaryIPCount int          // or: how many the cloud picks; not with SecondaryIPs
	// IPv6 addresses (or a count of them) and /28 IPv4 prefixes (or a
	// count; at most 10, and not beside secondary IPv4 addresses), and
	// the queue number (0: the type's default).
	IPv6        []netip.Addr
	IPv6Count   int
	Prefixes    []netip.Prefix
	PrefixCount int
	QueueNumber int
	Name        string
	Description string
	Tags        map[string]string // at most 20
	// ClientToken makes the call idempotent: the same token with the same
	// parameters returns the ENI the first call created. It is required,
	// at most 64 ASCII characters, and sent unchanged on every retry.
	ClientToken string
}

// CreateNetworkInterface creates an ENI, which is Available at once (the
// call is synchronous), and returns it as the answer describes it.
func (c *Client) CreateNetworkInterface(ctx context.Context, in CreateENIInput) (*plan.ObservedENI, error) {
	if err := checkToken(actCreateENI, in.ClientToken); err != nil {
		return nil, err
	}
	switch {
	case in.VSwitchID == "":
		return nil, errors.New("ecs CreateNetworkInterface: no vSwitch")
	case len(in.SecurityGroupIDs) == 0:
		return nil, errors.New("ecs CreateNetworkInterface: no security group")
	case len(in.SecondaryIPs) > 0 && in.SecondaryIPCount > 0:
		return nil, errors.New("ecs CreateNetworkInterface: pinned secondary addresses and a count are mutually exclusive")
	case len(in.Tags) > tagsPerCall:
		return nil, fmt.Errorf("ecs CreateNetworkInterface: %d tags, the API takes at most %d", len(in.Tags), tagsPerCall)
	case len(in.IPv6) > 0 && in.IPv6Count > 0, len(in.Prefixes) > 0 && in.PrefixCount > 0:
		return nil, errors.New("ecs CreateNetworkInterface: pinned IPv6 addresses or prefixes and a count of them are mutually exclusive")
	case (len(in.Prefixes) > 0 || in.PrefixCount > 0) && (len(in.SecondaryIPs) > 0 || in.SecondaryIPCount > 0):
		return nil, errors.New("ecs CreateNetworkInterface: one call takes secondary addresses or prefixes, not both")
	case len(in.Prefixes) > plan.PrefixesPerCall || in.PrefixCount > plan.PrefixesPerCall:
		return nil, fmt.Errorf("ecs CreateNetworkInterface: at most %d prefixes per call", plan.PrefixesPerCall)
	}
	var resp *ecssdk.CreateNetworkInterfaceResponse
	err := c.run(ctx, actCreateENI, func(cn *conn) error {
		req := ecssdk.CreateCreateNetworkInterfaceRequest()
		req.VSwitchId = in.VSwitchID
		req.SecurityGroupIds = ptr(slices.Clone(in.SecurityGroupIDs))
		if in.PrimaryIP.IsValid() {
			req.PrimaryIpAddress = in.PrimaryIP.String()
		}
		if len(in.SecondaryIPs) > 0 {
			req.PrivateIpAddress = ptr(addrStrings(in.SecondaryIPs))
		}
		if in.SecondaryIPCount > 0 {
			req.SecondaryPrivateIpAddressCount = requests.NewInteger(in.SecondaryIPCount)
		}
		if len(in.IPv6) > 0 {
			req.Ipv6Address = ptr(addrStrings(in.IPv6))
		}
		if in.IPv6Count > 0 {
			req.Ipv6AddressCount = requests.NewInteger(in.IPv6Count)
		}
		if len(in.Prefixes) > 0 {
			req.Ipv4Prefix = ptr(prefixStrings(in.Prefixes))
		}
		if in.PrefixCount > 0 {
			req.Ipv4PrefixCount = requests.NewInteger(in.PrefixCount)
		}
		if in.QueueNumber > 0 {
			req.QueueNumber = requests.NewInteger(in.QueueNumber)
		}
		req.NetworkInterfaceName = in.Name
		req.Description = in.Description
		if len(in.Tags) > 0 {
			var tags []ecssdk.CreateNetworkInterfaceTag
			for _, k := range sortedKeys(in.Tags) {
				tags = append(tags, ecssdk.CreateNetworkInterfaceTag{Key: k, Value: in.Tags[k]})
			}
			req.Tag = &tags
		}
		req.ClientToken = in.ClientToken
		var err error
		resp, err = cn.ecs.CreateNetworkInterface(req)
		if err == nil && resp.NetworkInterfaceId == "" {
			// "If NetworkInterfaceId is empty, no ENI was created: call
			// again" (CreateNetworkInterface, DOCSNOW; ecs-api.md §2.2).
			return &TransportError{Action: actCreateENI, Kind: KindResponse, Msg: "the answer names no ENI: none was created"}
		}
		return err
	}, nil)
	if err != nil {
		if in.PrefixCount > 0 || len(in.Prefixes) > 0 {
			return nil, noFreePrefix(in.Name+" (being created)", err)
		}
		return nil, err
	}
	e := &plan.ObservedENI{
		ID:             resp.NetworkInterfaceId,
		Name:           resp.NetworkInterfaceName,
		Description:    resp.Description,
		Type:           plan.ENIType(cmpOr(resp.Type, string(plan.ENISecondary))),
		Status:         plan.ENIStatus(cmpOr(resp.Status, string(plan.ENIAvailable))),
		VSwitch:        resp.VSwitchId,
		Zone:           resp.ZoneId,
		VPC:            resp.VpcId,
		MAC:            strings.ToLower(resp.MacAddress),
		SecurityGroups: slices.Clone(resp.SecurityGroupIds.SecurityGroupId),
		Tags:           tagsFromSDK(resp.Tags.Tag),
	}
	slices.Sort(e.SecurityGroups)
	if e.PrimaryIP, e.SecondaryIPs, err = splitIPs(resp.PrivateIpAddress, resp.PrivateIpSets.PrivateIpSet); err != nil {
		return nil, fmt.Errorf("ecs CreateNetworkInterface: ENI %s: %w", e.ID, err)
	}
	if e.IPv6, err = ipv6Of(resp.Ipv6Sets.Ipv6Set); err != nil {
		return nil, fmt.Errorf("ecs CreateNetworkInterface: ENI %s: IPv6: %w", e.ID, err)
	}
	if e.Prefixes, err = prefixesOf(resp.Ipv4PrefixSets.Ipv4PrefixSet); err != nil {
		return nil, fmt.Errorf("ecs CreateNetworkInterface: ENI %s: %w", e.ID, err)
	}
	e.QueueNumber = in.QueueNumber
	return e, nil
}

// AttachNetworkInterface attaches an Available ENI to an instance. The
// attachment completes asynchronously: wait for InUse with WaitENI.
//
// Attach takes no ClientToken. When the API answers
// InvalidOperation.InvalidEniState, the ENI is looked up: already attached
// (or attaching) to this instance counts as success, which makes a repeated
// or retried attach safe; attached to another instance is an error; any
// other state (detaching, not yet visible as Available) is retried.
func (c *Client) AttachNetworkInterface(ctx context.Context, eniID, instanceID string) error {
	return c.AttachNetworkInterfaceCard(ctx, eniID, instanceID, 0)
}

// AttachNetworkInterfaceCard is AttachNetworkInterface on a network card:
// NetworkCardIndex, sent when card is not 0, for types with several cards
// (DescribeInstanceTypes NetworkCardQuantity;
// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-attachnetworkinterface).
func (c *Client) AttachNetworkInterfaceCard(ctx context.Context, eniID, instanceID string, card int) error {
	if eniID == "" || instanceID == "" {
		return errors.New("ecs AttachNetworkInterface: ENI and instance IDs are required")
	}
	if card < 0 {
		return fmt.Errorf("ecs AttachNetworkInterface: network card %d", card)
	}
	return c.run(ctx, actAttach, func(cn *conn) error {
		req := ecssdk.CreateAttachNetworkInterfaceRequest()
		req.NetworkInterfaceId = eniID
		req.InstanceId = instanceID
		if card > 0 {
			req.NetworkCardIndex = requests.NewInteger(card)
		}
		_, err := cn.ecs.AttachNetworkInterface(req)
		return err
	}, c.stateJudge(actAttach, eniID, func(e *plan.ObservedENI) verdict {
		switch {
		case e == nil:
			return verdictFail
		case e.InstanceID == instanceID && (e.Status == plan.ENIInUse || e.Status == plan.ENIAttaching):
			return verdictDone
		case e.InstanceID != "" && e.InstanceID != instanceID && e.Status != plan.ENIDetaching:
			return verdictFail
		}
		return verdictRetry
	}))
}

// DetachNetworkInterface detaches a secondary ENI from an instance. The
// detachment completes asynchronously: wait for Available with WaitENI.
// An ENI that is gone, already Available, Detaching, or attached elsewhere
// counts as detached from this instance (Terway treats InvalidEniId.NotFound
// and InvalidEcsId.NotFound the same way).
func (c *Client) DetachNetworkInterface(ctx context.Context, eniID, instanceID string) error {
	if eniID == "" || instanceID == "" {
		return errors.New("ecs DetachNetworkInterface: ENI and instance IDs are required")
	}
	return c.run(ctx, actDetach, func(cn *conn) error {
		req := ecssdk.CreateDetachNetworkInterfaceRequest()
		req.NetworkInterfaceId = eniID
		req.InstanceId = instanceID
		_, err := cn.ecs.DetachNetworkInterface(req)
		return err
	}, c.stateJudge(actDetach, eniID, func(e *plan.ObservedENI) verdict {
		switch {
		case e == nil, e.InstanceID != instanceID, e.Status == plan.ENIAvailable, e.Status == plan.ENIDetaching:
			return verdictDone
		}
		return verdictRetry
	}))
}

// DeleteNetworkInterface deletes an Available ENI. Deletion completes
// asynchronously: wait with WaitENI(ctx, id, ENIGone). An ENI that is
// already gone or Deleting counts as deleted; one that is attached is an
// error (detach it first).
func (c *Client) DeleteNetworkInterface(ctx context.Context, eniID string) error {
	if eniID == "" {
		return errors.New("ecs DeleteNetworkInterface: no ENI ID")
	}
	return c.run(ctx, actDeleteENI, func(cn *conn) error {
		req := ecssdk.CreateDeleteNetworkInterfaceRequest()
		req.NetworkInterfaceId = eniID
		_, err := cn.ecs.DeleteNetworkInterface(req)
		return err
	}, c.stateJudge(actDeleteENI, eniID, func(e *plan.ObservedENI) verdict {
		switch {
		case e == nil, e.Status == plan.ENIDeleting:
			return verdictDone
		case e.Status == plan.ENIInUse, e.Status == plan.ENIAttaching:
			return verdictFail
		}
		return verdictRetry
	}))
}

// stateJudge is the judge of the calls without a ClientToken whose
// InvalidEniState and InvalidEniType answers are ambiguous: it looks the
// ENI up and lets decide tell "already done" from "wait" and "never". A
// primary ENI can be neither attached, detached nor deleted, so that is
// "never" at once rather than after every retry (Terraform retries
// InvalidEniType for the transient cases, PR #7236). Every other error goes
// to the default classification.
func (c *Client) stateJudge(action, eniID string, decide func(*plan.ObservedENI) verdict) judge {
	def := byCode(action)
	return func(ctx context.Context, err error) verdict {
		if !IsCode(err, "InvalidOperation.InvalidEniState") && !IsCode(err, "InvalidOperation.InvalidEniType") {
			return def(ctx, err)
		}
		got, derr := c.DescribeNetworkInterfaces(ctx, ENIQuery{IDs: []string{eniID}})
		if derr != nil {
			return def(ctx, err)
		}
		var e *plan.ObservedENI
		if len(got) == 1 {
			e = got[0]
		}
		if e != nil && e.Type == plan.ENIPrimary {
			return verdictFail
		}
		if IsCode(err, "InvalidOperation.InvalidEniType") {
			return def(ctx, err)
		}
		return decide(e)
	}
}

// ModifyENIInput changes an ENI's attributes. Empty fields are left as
// they are (the API cannot set a name or description to empty).
type ModifyENIInput struct {
	ENIID            string
	SecurityGroupIDs []string // the complete new set
	Name             string
	Description      string
	// QueueNumber changes the ENI's queues (0 leaves them); the API takes
	// it only while the ENI is Available or its instance Stopped.
	QueueNumber int
}

// ModifyNetworkInterfaceAttribute changes an ENI's security groups, name or
// description. Repeating it is harmless: it sets, it does not add.
func (c *Client) ModifyNetworkInterfaceAttribute(ctx context.Context, in ModifyENIInput) error {
	if in.ENIID == "" {
		return errors.New("ecs ModifyNetworkInterfaceAttribute: no ENI ID")
	}
	if len(in.SecurityGroupIDs) == 0 && in.Name == "" && in.Description == "" && in.QueueNumber == 0 {
		return errors.New("ecs ModifyNetworkInterfaceAttribute: nothing to change")
	}
	return c.run(ctx, actModifyENI, func(cn *conn) error {
		req := ecssdk.CreateModifyNetworkInterfaceAttributeRequest()
		req.NetworkInterfaceId = in.ENIID
		if len(in.SecurityGroupIDs) > 0 {
			req.SecurityGroupId = ptr(slices.Clone(in.SecurityGroupIDs))
		}
		req.NetworkInterfaceName = in.Name
		req.Description = in.Description
		if in.QueueNumber > 0 {
			req.QueueNumber = requests.NewInteger(in.QueueNumber)
		}
		_, err := cn.ecs.ModifyNetworkInterfaceAttribute(req)
		return err
	}, nil)
}

// AssignInput adds secondary private addresses to an ENI: either the
// addresses given, or Count addresses the cloud picks.
type AssignInput struct {
	ENIID string
	IPs   []netip.Addr
	Count int
	// ClientToken is required and sent unchanged on every retry: the same
	// token and parameters return the first call's addresses.
	ClientToken string
}

// AssignPrivateIpAddresses assigns addresses and returns the ones assigned,
// sorted, as the answer's AssignedPrivateIpAddressesSet lists them.
func (c *Client) AssignPrivateIpAddresses(ctx context.Context, in AssignInput) ([]netip.Addr, error) {
	if err := checkToken(actAssign, in.ClientToken); err != nil {
		return nil, err
	}
	switch {
	case in.ENIID == "":
		return nil, errors.New("ecs AssignPrivateIpAddresses: no ENI ID")
	case (len(in.IPs) > 0) == (in.Count > 0):
		return nil, errors.New("ecs AssignPrivateIpAddresses: set exactly one of addresses and count")
	}
	var resp *ecssdk.AssignPrivateIpAddressesResponse
	err := c.run(ctx, actAssign, func(cn *conn) error {
		req := ecssdk.CreateAssignPrivateIpAddressesRequest()
		req.NetworkInterfaceId = in.ENIID
		if len(in.IPs) > 0 {
			req.PrivateIpAddress = ptr(addrStrings(in.IPs))
		} else {
			req.SecondaryPrivateIpAddressCount = requests.NewInteger(in.Count)
		}
		req.ClientToken = in.ClientToken
		var err error
		resp, err = cn.ecs.AssignPrivateIpAddresses(req)
		return err
	}, nil)
	if err != nil {
		return nil, err
	}
	var got []netip.Addr
	for _, s := range resp.AssignedPrivateIpAddressesSet.PrivateIpSet.PrivateIpAddress {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("ecs AssignPrivateIpAddresses: ENI %s: address %q: %w", in.ENIID, s, err)
		}
		got = append(got, a)
	}
	if len(got) == 0 && len(in.IPs) > 0 {
		// API versions before 2020 answered without the set
		// (denverdino/aliyungo#439): explicit addresses are known anyway.
		got = slices.Clone(in.IPs)
	}
	if in.Count > 0 && len(got) != in.Count {
		return nil, fmt.Errorf("ecs AssignPrivateIpAddresses: ENI %s: asked for %d addresses, the answer lists %d", in.ENIID, in.Count, len(got))
	}
	slices.SortFunc(got, netip.Addr.Compare)
	return got, nil
}

// UnassignPrivateIpAddresses removes secondary addresses from an ENI. An
// address that is no longer on the ENI (InvalidIp.IpUnassigned), or an ENI
// that is gone, counts as done.
func (c *Client) UnassignPrivateIpAddresses(ctx context.Context, eniID string, ips []netip.Addr) error {
	if eniID == "" || len(ips) == 0 {
		return errors.New("ecs UnassignPrivateIpAddresses: ENI ID and addresses are required")
	}
	return c.run(ctx, actUnassign, func(cn *conn) error {
		req := ecssdk.CreateUnassignPrivateIpAddressesRequest()
		req.NetworkInterfaceId = eniID
		req.PrivateIpAddress = ptr(addrStrings(ips))
		_, err := cn.ecs.UnassignPrivateIpAddresses(req)
		return err
	}, nil)
}

// TagResources sets tags on ENIs, 50 ENIs a call. Tagging is idempotent:
// it overwrites a key's value.
func (c *Client) TagResources(ctx context.Context, eniIDs []string, tags map[string]string) error {
	switch {
	case len(eniIDs) == 0 || len(tags) == 0:
		return errors.New("ecs TagResources: ENI IDs and tags are required")
	case len(tags) > tagsPerCall:
		return fmt.Errorf("ecs TagResources: %d tags, the API takes at most %d", len(tags), tagsPerCall)
	}
	var list []ecssdk.TagResourcesTag
	for _, k := range sortedKeys(tags) {
		list = append(list, ecssdk.TagResourcesTag{Key: k, Value: tags[k]})
	}
	for chunk := range slices.Chunk(eniIDs, resourcesPerTag) {
		err := c.run(ctx, actTagResources, func(cn *conn) error {
			req := ecssdk.CreateTagResourcesRequest()
			req.ResourceType = "eni"
			req.ResourceId = ptr(slices.Clone(chunk))
			req.Tag = ptr(slices.Clone(list))
			_, err := cn.ecs.TagResources(req)
			return err
		}, nil)
		if err != nil {
			return err
		}
	}
	return nil
}

func checkToken(action, token string) error {
	switch {
	case token == "":
		return fmt.Errorf("ecs %s: a ClientToken is required: without one a retried call could act twice", action)
	case len(token) > 64:
		return fmt.Errorf("ecs %s: ClientToken is %d characters, the API takes at most 64", action, len(token))
	}
	for i := 0; i < len(token); i++ {
		if token[i] < 0x20 || token[i] > 0x7e {
			return fmt.Errorf("ecs %s: ClientToken must be printable ASCII", action)
		}
	}
	return nil
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func ptr[T any](v T) *T { return &v }
