package emulator

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
)

// Response pieces shared by the ENI actions, with the service's key names
// and list wrappers (ecs-api.md §2.1, §2.2).
type securityGroupIDs struct {
	SecurityGroupId []string `json:"SecurityGroupId"`
}

type privateIP struct {
	PrivateIpAddress string `json:"PrivateIpAddress"`
	Primary          bool   `json:"Primary"`
}

type privateIPSets struct {
	PrivateIpSet []privateIP `json:"PrivateIpSet"`
}

type tagSet struct {
	Tag []Tag `json:"Tag"`
}

func ipSets(e *eni) privateIPSets {
	out := privateIPSets{PrivateIpSet: make([]privateIP, 0, e.ipCount())}
	out.PrivateIpSet = append(out.PrivateIpSet, privateIP{e.ip.String(), true})
	for _, a := range e.secondaries {
		out.PrivateIpSet = append(out.PrivateIpSet, privateIP{a.String(), false})
	}
	return out
}

func tags(e *eni) tagSet { return tagSet{Tag: append([]Tag{}, e.tags...)} }

// lookupENI returns the ENI named by NetworkInterfaceId.
func (s *Server) lookupENI(p params) (*eni, *apiError) {
	id, err := p.required("NetworkInterfaceId")
	if err != nil {
		return nil, err
	}
	e := s.cloud.enis[id]
	if e == nil {
		return nil, errENINotFound(id)
	}
	return e, nil
}

// lookupInstance returns the instance named by InstanceId.
func (s *Server) lookupInstance(p params) (*instance, *apiError) {
	id, err := p.required("InstanceId")
	if err != nil {
		return nil, err
	}
	in := s.cloud.instances[id]
	if in == nil {
		return nil, errECSNotFound(id)
	}
	return in, nil
}

// checkGroups validates the security groups an ENI is to join.
func (c *cloud) checkGroups(param string, ids []string, vpcID string) *apiError {
	if len(ids) > c.quotas.MaxSecurityGroupsPerEni {
		return newErr(http.StatusBadRequest, "JoinedGroupLimitExceed",
			"An ENI can join at most %d security groups.", c.quotas.MaxSecurityGroupsPerEni)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			return errInvalid(param, "security group "+id+" is listed twice")
		}
		seen[id] = true
		g := c.groups[id]
		if g == nil {
			return errGroupNotFound(id)
		}
		if g.vpcID != vpcID {
			return newErr(http.StatusForbidden, "InvalidOperation.VpcMismatch",
				"The security group %s is in VPC %s, not in the ENI's VPC %s.", id, g.vpcID, vpcID)
		}
	}
	return nil
}

// checkGroupRoom enforces the 2,000 private addresses per basic security
// group (ecs-api.md §4), counted over every ENI in the group, primary ENIs
// included.
func (c *cloud) checkGroupRoom(groups []string, extra int) *apiError {
	for _, id := range groups {
		g := c.groups[id]
		if g.ips+extra > c.quotas.SecurityGroupMaxIps {
			return errGroupFull(g, c.quotas.SecurityGroupMaxIps)
		}
	}
	return nil
}

// checkAddrs validates explicitly requested addresses for an ENI in v; e
// is nil at create time. Which code a conflict gets follows ecs-api.md
// §5.2: an address the same ENI already holds is InvalidIp.IpAssigned,
// one another ENI holds is InvalidPrivateIpAddress.Duplicated.
func (c *cloud) checkAddrs(v *vswitch, e *eni, addrs []netip.Addr) *apiError {
	seen := map[netip.Addr]bool{}
	for _, a := range addrs {
		if seen[a] {
			return errIPRepeated(a.String())
		}
		seen[a] = true
	}
	for _, a := range addrs {
		if !v.usable(a) {
			return errIPInvalid(v, a.String())
		}
	}
	for _, a := range addrs {
		if e != nil && e.hasAddr(a) {
			return newErr(http.StatusForbidden, "InvalidIp.IpAssigned",
				"The IP address %s is already assigned to the ENI %s.", a, e.id)
		}
		if v.inUse(a) {
			return errIPDuplicated(a.String())
		}
	}
	return nil
}

// secondaryRequest reads PrivateIpAddress.N or
// SecondaryPrivateIpAddressCount, which are mutually exclusive.
func secondaryRequest(p params, maxN int) (addrs []netip.Addr, count int, err *apiError) {
	addrs, err = p.addrList("PrivateIpAddress", maxN)
	if err != nil {
		return nil, 0, err
	}
	if p.has("SecondaryPrivateIpAddressCount") {
		if len(addrs) > 0 {
			return nil, 0, errConflict("PrivateIpAddress.N", "SecondaryPrivateIpAddressCount")
		}
		count, err = p.integer("SecondaryPrivateIpAddressCount", 0, 0, maxN)
		if err != nil {
			return nil, 0, err
		}
		return nil, count, nil
	}
	return addrs, len(addrs), nil
}

type createResponse struct {
	RequestId            string           `json:"RequestId"`
	NetworkInterfaceId   string           `json:"NetworkInterfaceId"`
	Status               string           `json:"Status"`
	Type                 string           `json:"Type"`
	VpcId                string           `json:"VpcId"`
	VSwitchId            string           `json:"VSwitchId"`
	ZoneId               string           `json:"ZoneId"`
	PrivateIpAddress     string           `json:"PrivateIpAddress"`
	MacAddress           string           `json:"MacAddress"`
	NetworkInterfaceName string           `json:"NetworkInterfaceName"`
	Description          string           `json:"Description"`
	ServiceManaged       bool             `json:"ServiceManaged"`
	SecurityGroupIds     securityGroupIDs `json:"SecurityGroupIds"`
	PrivateIpSets        privateIPSets    `json:"PrivateIpSets"`
	Tags                 tagSet           `json:"Tags"`
	Ipv6Sets             *ipv6Sets        `json:"Ipv6Sets,omitempty"`
	Ipv4PrefixSets       *prefixSets      `json:"Ipv4PrefixSets,omitempty"`
}

func (r createResponse) replay(id string) any { r.RequestId = id; return r }

// CreateNetworkInterface is synchronous: the ENI is Available when the
// call returns (ecs-api.md §2.2).
func createNetworkInterface(s *Server, q *call) (any, *apiError) {
	c, p := s.cloud, q.p
	if err := p.rejectUnsupported("NetworkInterfaceTrafficMode", "BusinessType", "InstanceType",
		"TxQueueSize", "RxQueueSize", "QueuePairNumber"); err != nil {
		return nil, err
	}
	if r, err := s.replayed(q); r != nil || err != nil {
		return r, err
	}
	vswID, err := p.required("VSwitchId")
	if err != nil {
		return nil, err
	}
	groups, err := p.list("SecurityGroupIds", 16)
	if err != nil {
		return nil, err
	}
	switch {
	case p.has("SecurityGroupId") && len(groups) > 0:
		return nil, errConflict("SecurityGroupId", "SecurityGroupIds.N")
	case p.has("SecurityGroupId"):
		groups = []string{p.get("SecurityGroupId")}
	case len(groups) == 0:
		return nil, errMissing("SecurityGroupId")
	}
	name, desc := p.get("NetworkInterfaceName"), p.get("Description")
	if name != "" {
		if err := checkName(name); err != nil {
			return nil, err
		}
	}
	if desc != "" {
		if err := checkDescription(desc); err != nil {
			return nil, err
		}
	}
	tagList, err := p.tagParams("Tag", 20)
	if err != nil {
		return nil, err
	}
	if err := checkTags(tagList); err != nil {
		return nil, err
	}
	var primary netip.Addr
	if s := p.get("PrimaryIpAddress"); s != "" {
		a, perr := netip.ParseAddr(s)
		if perr != nil || !a.Is4() {
			return nil, errInvalid("PrimaryIpAddress", s+" is not an IPv4 address")
		}
		primary = a
	}
	// The create-time cap on secondary addresses is a parameter range
	// (N 0-10 in the 2021 documentation, "up to 49" now; ecs-api.md §2.2,
	// §8), hence InvalidParameter rather than a quota code.
	explicit, count, err := secondaryRequest(p, c.quotas.CreateMaxSecondaryIps)
	if err != nil {
		return nil, err
	}
	v6, count6, err := ipv6Request(p)
	if err != nil {
		return nil, err
	}
	pinnedPrefixes, countPrefixes, err := prefixRequest(p)
	if err != nil {
		return nil, err
	}
	if countPrefixes > 0 && count > 0 {
		// ipv6.go: one call carries addresses or prefixes, not both.
		return nil, errConflict("SecondaryPrivateIpAddressCount or PrivateIpAddress.N", "Ipv4PrefixCount or Ipv4Prefix.N")
	}
	queues, err := checkQueueNumber(p)
	if err != nil {
		return nil, err
	}
	v := c.vswitches[vswID]
	if v == nil {
		return nil, errVSwitchNotFound(vswID)
	}
	if err := c.checkGroups("SecurityGroupIds", groups, v.vpcID); err != nil {
		return nil, err
	}
	if count6 > 0 && !v.ipv6.IsValid() {
		return nil, errIPv6NotTurnOn(v)
	}
	if count+countPrefixes > c.quotas.UnboundEniMaxSecondaryIps {
		return nil, newErr(http.StatusForbidden, "MaxEniPrivateIpsCountExceeded",
			"An unattached ENI carries at most %d secondary private IP addresses.", c.quotas.UnboundEniMaxSecondaryIps)
	}
	if c.secondaries >= c.quotas.MaxNetworkInterfaces {
		return nil, newErr(http.StatusForbidden, "MaxEniCountExceeded",
			"The account already has %d ENIs in %s, its quota.", c.secondaries, c.region)
	}
	asked := explicit
	if primary.IsValid() {
		asked = append([]netip.Addr{primary}, explicit...)
	}
	if err := c.checkAddrs(v, nil, asked); err != nil {
		return nil, err
	}
	needAuto := 0
	if !primary.IsValid() {
		needAuto++
	}
	if len(explicit) == 0 {
		needAuto += count
	}
	if v.free()-len(asked) < needAuto {
		return nil, errIPNotEnough(v)
	}
	if err := c.checkIPv6(v, nil, v6); err != nil {
		return nil, err
	}
	if err := c.checkPrefixes(v, nil, pinnedPrefixes); err != nil {
		return nil, err
	}
	if primary.IsValid() && slices.ContainsFunc(pinnedPrefixes, func(pf netip.Prefix) bool { return pf.Contains(primary) }) {
		return nil, errIPDuplicated(primary.String())
	}
	if len(pinnedPrefixes) == 0 && countPrefixes > 0 {
		// Prefixes are picked before an automatic primary address, which
		// then comes from what they leave; a pinned primary inside a free
		// block takes that block away.
		if v.freePrefixes(countPrefixes, primary) < countPrefixes {
			return nil, errPrefixNotEnough(v, countPrefixes, v.freePrefixes(0, primary))
		}
		if needAuto > 0 && v.free()-len(asked)-countPrefixes*prefixSize < needAuto {
			return nil, errIPNotEnough(v)
		}
	}
	if err := c.checkGroupRoom(groups, 1+count); err != nil {
		return nil, err
	}

	e := &eni{
		id:   c.gen.id("eni-", p.fingerprint(), func(id string) bool { return c.enis[id] != nil || c.instances[id] != nil }),
		name: name, desc: desc, vsw: v.id, vpcID: v.vpcID, zone: v.zone, groups: groups,
		status: stAvailable, tags: tagList, created: c.stamp(), queues: queues,
	}
	e.mac = c.gen.mac(e.id, func(m string) bool { return c.macs[m] })
	sortTags(e.tags)
	e.ip = primary
	if e.ip.IsValid() {
		v.take(e.ip, e.id) // before allocate, which must not pick it again
	}
	// Prefixes before the automatic addresses (see the check above); the
	// pinned ones are taken now so that allocate avoids them, and addENI
	// takes them again.
	for _, pf := range pinnedPrefixes {
		v.takePrefix(pf, e.id)
	}
	e.prefixes = slices.Clone(pinnedPrefixes)
	if countPrefixes > 0 && len(pinnedPrefixes) == 0 {
		e.prefixes = c.allocatePrefixes(v, countPrefixes, e.id)
	}
	if !e.ip.IsValid() {
		e.ip = c.allocate(v, 1, e.id)[0]
	}
	if len(explicit) > 0 {
		e.secondaries = slices.Clone(explicit)
	} else {
		e.secondaries = c.allocate(v, count, e.id)
	}
	e.ipv6 = slices.Clone(v6)
	if count6 > 0 && len(v6) == 0 {
		e.ipv6 = c.allocate6(v, count6, e.id)
	}
	// allocate took the auto-picked addresses already; addENI takes the
	// rest and charges the groups.
	slices.SortFunc(e.secondaries, netip.Addr.Compare)
	slices.SortFunc(e.ipv6, netip.Addr.Compare)
	slices.SortFunc(e.prefixes, comparePrefix)
	c.addENI(e)
	s.markBusy(e, q.now)
	q.changed = true

	resp := createResponse{
		RequestId: q.requestID, NetworkInterfaceId: e.id, Status: e.status, Type: e.typ(), VpcId: e.vpcID,
		VSwitchId: e.vsw, ZoneId: e.zone, PrivateIpAddress: e.ip.String(), MacAddress: e.mac,
		NetworkInterfaceName: e.name, Description: e.desc,
		SecurityGroupIds: securityGroupIDs{slices.Clone(e.groups)}, PrivateIpSets: ipSets(e), Tags: tags(e),
		Ipv6Sets: ipv6SetsOf(e), Ipv4PrefixSets: prefixSetsOf(e),
	}
	s.remember(q, resp)
	return resp, nil
}

// checkAttachState enforces the instance-state rules of attach and detach
// (ecs-api.md §3): Running or Stopped, and Stopped only for types without
// NIC hot-plug.
func (c *cloud) checkAttachState(in *instance, op string) *apiError {
	t, _ := c.instanceType(in.typ)
	if t.needsStopped {
		if in.status != "Stopped" {
			return newErr(http.StatusBadRequest, "InvalidOperation.InvalidEcsState",
				"The instance %s is %s; instance type %s allows %s only while Stopped.", in.id, in.status, in.typ, op)
		}
		return nil
	}
	if in.status != "Running" && in.status != "Stopped" {
		return errECSState(in, op)
	}
	return nil
}

// AttachNetworkInterface is asynchronous: Available → Attaching → InUse
// (ecs-api.md §2.3).
func attachNetworkInterface(s *Server, q *call) (any, *apiError) {
	c, p := s.cloud, q.p
	if err := p.rejectUnsupported("TrunkNetworkInstanceId"); err != nil {
		return nil, err
	}
	card, err := p.integer("NetworkCardIndex", 0, 0, 1<<16)
	if err != nil {
		return nil, err
	}
	e, err := s.lookupENI(p)
	if err != nil {
		return nil, err
	}
	if err := s.checkENIBusy(e, q.now); err != nil {
		return nil, err
	}
	in, err := s.lookupInstance(p)
	if err != nil {
		return nil, err
	}
	if e.status != stAvailable {
		return nil, errENIState(e, "attach")
	}
	if err := c.checkAttachState(in, "attach"); err != nil {
		return nil, err
	}
	if err := s.checkInstanceBusy(in, e); err != nil {
		return nil, err
	}
	if v := c.vswitches[in.vsw]; v.vpcID != e.vpcID {
		return nil, newErr(http.StatusForbidden, "InvalidOperation.VpcMismatch",
			"The ENI %s is in VPC %s, the instance %s in %s.", e.id, e.vpcID, in.id, v.vpcID)
	}
	if in.zone != e.zone {
		return nil, newErr(http.StatusForbidden, "InvalidOperation.AvailabilityZoneMismatch",
			"The ENI %s is in zone %s, the instance %s in %s.", e.id, e.zone, in.id, in.zone)
	}
	t, _ := c.instanceType(in.typ)
	if len(in.enis) >= t.maxENIs {
		return nil, newErr(http.StatusForbidden, "EniPerInstanceLimitExceeded",
			"The instance %s (%s) already has %d ENIs, the most its type allows.", in.id, in.typ, len(in.enis))
	}
	// An unattached ENI may carry more addresses than a small type allows
	// per ENI. The documentation does not say what attaching it does; the
	// emulator refuses, so that a plan never relies on the cloud trimming
	// addresses (ecs-api.md §8 style ambiguity).
	if e.slots() > t.maxIPs {
		return nil, errIPsPerENI(e, t.maxIPs, "instance type "+in.typ+", each /28 prefix counting as one")
	}
	switch {
	case len(e.ipv6) > 0 && t.maxIPv6 == 0:
		return nil, newErr(http.StatusForbidden, "InvalidOperation.Ipv6NotSupport",
			"The instanceType of %s not support ipv6: the ENI %s carries IPv6 addresses.", in.typ, e.id)
	case len(e.ipv6) > t.maxIPv6:
		return nil, errIPv6Count(e, t.maxIPv6, "instance type "+in.typ)
	}
	if err := checkQueuesFit(e, e.queues, t); err != nil {
		return nil, err
	}
	// NetworkCardIndex: 0 up to NetworkCardQuantity-1 of the type
	// (DescribeInstanceTypes NetworkCards lists the indexes,
	// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-attachnetworkinterface).
	// The reference lists no code of its own for a wrong index;
	// InvalidParameter is what the gateway answers for a value out of range.
	if card >= t.networkCards() {
		return nil, errInvalid("NetworkCardIndex", fmt.Sprintf("instance type %s has %d network card(s): the index is 0 to %d",
			in.typ, t.networkCards(), t.networkCards()-1))
	}
	s.touch(e, q.now)
	e.status, e.instanceID, e.networkCard = stAttaching, in.id, card
	e.deviceIndex = c.freeDeviceIndex(in)
	in.enis = insertByID(in.enis, e)
	s.schedule(e, q.now, s.stuck(q))
	q.changed = true
	return requestOnly{q.requestID}, nil
}

// DetachNetworkInterface is asynchronous: InUse → Detaching → Available.
// Re-issuing it while Detaching is accepted (ecs-api.md §2.4, §3).
func detachNetworkInterface(s *Server, q *call) (any, *apiError) {
	c, p := s.cloud, q.p
	if err := p.rejectUnsupported("TrunkNetworkInstanceId"); err != nil {
		return nil, err
	}
	e, err := s.lookupENI(p)
	if err != nil {
		return nil, err
	}
	if err := s.checkENIBusy(e, q.now); err != nil {
		return nil, err
	}
	in, err := s.lookupInstance(p)
	if err != nil {
		return nil, err
	}
	if e.primary {
		return nil, newErr(http.StatusBadRequest, "InvalidOperation.DetachPrimaryEniNotAllowed",
			"The ENI %s is the primary ENI of %s and cannot be detached.", e.id, e.instanceID)
	}
	if e.status != stInUse && e.status != stDetaching {
		return nil, errENIState(e, "detach")
	}
	// The documentation has no code for "attached to another instance";
	// InvalidParameter is not retried by any client, which is the point.
	if e.instanceID != in.id {
		return nil, errInvalid("InstanceId", "the ENI "+e.id+" is attached to "+e.instanceID+", not "+in.id)
	}
	if err := c.checkAttachState(in, "detach"); err != nil {
		return nil, err
	}
	if e.status == stDetaching {
		return requestOnly{q.requestID}, nil
	}
	if err := s.checkInstanceBusy(in, e); err != nil {
		return nil, err
	}
	s.touch(e, q.now)
	e.status = stDetaching
	s.schedule(e, q.now, s.stuck(q))
	q.changed = true
	return requestOnly{q.requestID}, nil
}

// DeleteNetworkInterface is asynchronous: Available → Deleting → gone
// (ecs-api.md §2.5). The primary ENI goes only with its instance; the
// documented code for a wrong ENI type is InvalidOperation.InvalidEniType.
func deleteNetworkInterface(s *Server, q *call) (any, *apiError) {
	e, err := s.lookupENI(q.p)
	if err != nil {
		return nil, err
	}
	if err := s.checkENIBusy(e, q.now); err != nil {
		return nil, err
	}
	if e.primary {
		return nil, newErr(http.StatusForbidden, "InvalidOperation.InvalidEniType",
			"The ENI %s is the primary ENI of %s and cannot be deleted.", e.id, e.instanceID)
	}
	if e.status != stAvailable {
		return nil, errENIState(e, "delete")
	}
	s.touch(e, q.now)
	e.status = stDeleting
	s.schedule(e, q.now, false)
	q.changed = true
	return requestOnly{q.requestID}, nil
}

// ModifyNetworkInterfaceAttribute sets security groups, name and
// description.
func modifyNetworkInterfaceAttribute(s *Server, q *call) (any, *apiError) {
	c, p := s.cloud, q.p
	if err := p.rejectUnsupported("TxQueueSize", "RxQueueSize", "SourceDestCheck", "DeleteOnRelease",
		"QueuePairNumber", "NetworkInterfaceTrafficConfig.", "EnhancedNetwork.", "ConnectionTrackingConfiguration."); err != nil {
		return nil, err
	}
	e, err := s.lookupENI(p)
	if err != nil {
		return nil, err
	}
	if err := s.checkENIBusy(e, q.now); err != nil {
		return nil, err
	}
	groups, err := p.list("SecurityGroupId", 16)
	if err != nil {
		return nil, err
	}
	name, desc := p.get("NetworkInterfaceName"), p.get("Description")
	if name != "" {
		if err := checkName(name); err != nil {
			return nil, err
		}
	}
	if desc != "" {
		if err := checkDescription(desc); err != nil {
			return nil, err
		}
	}
	if len(groups) > 0 {
		if err := c.checkGroups("SecurityGroupId.N", groups, e.vpcID); err != nil {
			return nil, err
		}
	}
	if e.status == stDeleting {
		return nil, errENIState(e, "modify")
	}
	queues, err := checkQueueNumber(p)
	if err != nil {
		return nil, err
	}
	if queues > 0 {
		if err := c.checkQueueChange(e, queues); err != nil {
			return nil, err
		}
	}
	if len(groups) > 0 {
		var joining []string
		for _, g := range groups {
			if !slices.Contains(e.groups, g) {
				joining = append(joining, g)
			}
		}
		if err := c.checkGroupRoom(joining, e.ipCount()); err != nil {
			return nil, err
		}
		if !slices.Equal(groups, e.groups) {
			s.touch(e, q.now)
			s.markBusy(e, q.now)
			for _, g := range e.groups {
				c.groups[g].ips -= e.ipCount()
			}
			for _, g := range groups {
				c.groups[g].ips += e.ipCount()
			}
			e.groups = groups
			q.changed = true
		}
	}
	if name != "" && name != e.name {
		s.touch(e, q.now)
		s.markBusy(e, q.now)
		e.name, q.changed = name, true
	}
	if desc != "" && desc != e.desc {
		s.touch(e, q.now)
		s.markBusy(e, q.now)
		e.desc, q.changed = desc, true
	}
	if queues > 0 && queues != e.queues {
		s.touch(e, q.now)
		s.markBusy(e, q.now)
		e.queues, q.changed = queues, true
	}
	return requestOnly{q.requestID}, nil
}

// checkQueueChange enforces ModifyNetworkInterfaceAttribute's rules for
// QueueNumber (the 2021 reference, AlibabaCloudDocs/ecs
// cn.zh-CN/API参考/弹性网卡/ModifyNetworkInterfaceAttribute.md, and
// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifynetworkinterfaceattribute):
// only a secondary ENI's queues change, and only while it is Available or
// InUse on a Stopped instance; at most the type's MaximumQueueNumberPerEni.
// The total over an instance's ENIs (TotalEniQueueQuantity) is not
// modelled.
func (c *cloud) checkQueueChange(e *eni, queues int) *apiError {
	if e.primary {
		return newErr(http.StatusForbidden, "InvalidOperation.InvalidEniType",
			"The ENI %s is a primary ENI; only a secondary ENI's QueueNumber can be modified.", e.id)
	}
	switch e.status {
	case stAvailable:
		return nil
	case stInUse:
		in := c.instances[e.instanceID]
		if in.status != "Stopped" {
			return errECSState(in, "modifying the QueueNumber of its ENI "+e.id+" (allowed while Stopped)")
		}
		t, _ := c.instanceType(in.typ)
		return checkQueuesFit(e, queues, t)
	}
	return errENIState(e, "modifying QueueNumber")
}

// checkIPState enforces the preconditions of assign and unassign
// (ecs-api.md §2.6, §3): the ENI Available or InUse; for a primary ENI, its
// instance Running or Stopped.
func (c *cloud) checkIPState(e *eni, op string) *apiError {
	if e.status != stAvailable && e.status != stInUse {
		return errENIState(e, op)
	}
	if e.primary {
		in := c.instances[e.instanceID]
		if in.status != "Running" && in.status != "Stopped" {
			return errECSState(in, op)
		}
	}
	return nil
}

type assignResponse struct {
	RequestId                     string        `json:"RequestId"`
	AssignedPrivateIpAddressesSet assignedIPSet `json:"AssignedPrivateIpAddressesSet"`
}

// assignedIPSet nests as the SDK and the documentation sample do:
// PrivateIpSet is an object holding the array (ecs-api.md §2.6).
type assignedIPSet struct {
	NetworkInterfaceId string `json:"NetworkInterfaceId"`
	PrivateIpSet       struct {
		PrivateIpAddress []string `json:"PrivateIpAddress"`
	} `json:"PrivateIpSet"`
	Ipv4PrefixSet struct {
		Ipv4Prefixes []string `json:"Ipv4Prefixes"`
	} `json:"Ipv4PrefixSet"`
}

func (r assignResponse) replay(id string) any { r.RequestId = id; return r }

// maxPerRequest bounds PrivateIpAddress.N on assign and unassign; the real
// bound is the ENI's cap, which the quota checks enforce.
const maxPerRequest = 50

// AssignPrivateIpAddresses adds secondary addresses, synchronously.
func assignPrivateIpAddresses(s *Server, q *call) (any, *apiError) {
	c, p := s.cloud, q.p
	if r, err := s.replayed(q); r != nil || err != nil {
		return r, err
	}
	if _, err := p.required("NetworkInterfaceId"); err != nil {
		return nil, err
	}
	explicit, count, err := secondaryRequest(p, maxPerRequest)
	if err != nil {
		return nil, err
	}
	pinnedPrefixes, countPrefixes, err := prefixRequest(p)
	if err != nil {
		return nil, err
	}
	switch {
	case count > 0 && countPrefixes > 0:
		// ipv6.go: one call carries addresses or prefixes, not both.
		return nil, errConflict("PrivateIpAddress.N or SecondaryPrivateIpAddressCount", "Ipv4Prefix.N or Ipv4PrefixCount")
	case count == 0 && countPrefixes == 0:
		if p.has("SecondaryPrivateIpAddressCount") {
			return nil, errInvalid("SecondaryPrivateIpAddressCount", "must be at least 1")
		}
		return nil, errMissing("SecondaryPrivateIpAddressCount")
	}
	e, err := s.lookupENI(p)
	if err != nil {
		return nil, err
	}
	if err := s.checkENIBusy(e, q.now); err != nil {
		return nil, err
	}
	if err := c.checkIPState(e, "assigning private IP addresses"); err != nil {
		return nil, err
	}
	if err := c.checkSlots(e, count+countPrefixes); err != nil {
		return nil, err
	}
	v := c.vswitches[e.vsw]
	if countPrefixes > 0 {
		return s.assignPrefixes(q, e, v, pinnedPrefixes, countPrefixes)
	}
	if err := c.checkAddrs(v, e, explicit); err != nil {
		return nil, err
	}
	if len(explicit) == 0 && v.free() < count {
		return nil, errIPQuotaExceeded(v) // ipquota.go
	}
	if err := c.checkGroupRoom(e.groups, count); err != nil {
		return nil, err
	}
	s.touch(e, q.now)
	s.markBusy(e, q.now)
	added := explicit
	if len(added) > 0 {
		for _, a := range added {
			v.take(a, e.id)
		}
	} else {
		added = c.allocate(v, count, e.id)
	}
	e.secondaries = append(e.secondaries, added...)
	slices.SortFunc(e.secondaries, netip.Addr.Compare)
	for _, g := range e.groups {
		c.groups[g].ips += count
	}
	q.changed = true
	resp := assignResponse{RequestId: q.requestID}
	resp.AssignedPrivateIpAddressesSet.NetworkInterfaceId = e.id
	resp.AssignedPrivateIpAddressesSet.PrivateIpSet.PrivateIpAddress = addrStrings(added)
	resp.AssignedPrivateIpAddressesSet.Ipv4PrefixSet.Ipv4Prefixes = []string{}
	s.remember(q, resp)
	return resp, nil
}

// assignPrefixes is AssignPrivateIpAddresses with Ipv4Prefix.N or
// Ipv4PrefixCount (ipv6.go); the answer lists the prefixes in
// Ipv4PrefixSet.Ipv4Prefixes and no address.
func (s *Server) assignPrefixes(q *call, e *eni, v *vswitch, pinned []netip.Prefix, count int) (any, *apiError) {
	c := s.cloud
	if err := c.checkPrefixes(v, e, pinned); err != nil {
		return nil, err
	}
	if len(pinned) == 0 && v.freePrefixes(count, netip.Addr{}) < count {
		return nil, errPrefixNotEnough(v, count, v.freePrefixes(0, netip.Addr{}))
	}
	s.touch(e, q.now)
	s.markBusy(e, q.now)
	added := pinned
	if len(added) > 0 {
		for _, pf := range added {
			v.takePrefix(pf, e.id)
		}
	} else {
		added = c.allocatePrefixes(v, count, e.id)
	}
	e.prefixes = append(e.prefixes, added...)
	slices.SortFunc(e.prefixes, comparePrefix)
	q.changed = true
	resp := assignResponse{RequestId: q.requestID}
	resp.AssignedPrivateIpAddressesSet.NetworkInterfaceId = e.id
	resp.AssignedPrivateIpAddressesSet.PrivateIpSet.PrivateIpAddress = []string{}
	resp.AssignedPrivateIpAddressesSet.Ipv4PrefixSet.Ipv4Prefixes = prefixStrings(added)
	s.remember(q, resp)
	return resp, nil
}

// UnassignPrivateIpAddresses removes secondary addresses. An address the
// ENI does not hold is 403 InvalidIp.IpUnassigned (ecs-api.md §2.7), which
// callers treat as already done.
func unassignPrivateIpAddresses(s *Server, q *call) (any, *apiError) {
	c, p := s.cloud, q.p
	if _, err := p.required("NetworkInterfaceId"); err != nil {
		return nil, err
	}
	addrs, err := p.addrList("PrivateIpAddress", maxPerRequest)
	if err != nil {
		return nil, err
	}
	prefixes, err := p.prefixList("Ipv4Prefix", maxPrefixesPerCall)
	if err != nil {
		return nil, err
	}
	switch {
	case len(addrs) > 0 && len(prefixes) > 0:
		// ipv6.go: one call carries addresses or prefixes, not both.
		return nil, errConflict("PrivateIpAddress.N", "Ipv4Prefix.N")
	case len(addrs) == 0 && len(prefixes) == 0:
		return nil, errMissing("PrivateIpAddress.1")
	}
	e, err := s.lookupENI(p)
	if err != nil {
		return nil, err
	}
	if err := s.checkENIBusy(e, q.now); err != nil {
		return nil, err
	}
	if err := c.checkIPState(e, "unassigning private IP addresses"); err != nil {
		return nil, err
	}
	if len(prefixes) > 0 {
		return s.unassignPrefixes(q, e, prefixes)
	}
	seen := map[netip.Addr]bool{}
	for _, a := range addrs {
		switch {
		case seen[a]:
			return nil, errIPRepeated(a.String())
		case a == e.ip:
			return nil, errInvalid("PrivateIpAddress.N", a.String()+" is the ENI's primary address, which only goes with the ENI")
		case !e.hasAddr(a):
			return nil, newErr(http.StatusForbidden, "InvalidIp.IpUnassigned",
				"The IP address %s is not assigned to the ENI %s.", a, e.id)
		}
		seen[a] = true
	}
	v := c.vswitches[e.vsw]
	s.touch(e, q.now)
	s.markBusy(e, q.now)
	e.secondaries = slices.DeleteFunc(e.secondaries, func(a netip.Addr) bool { return seen[a] })
	for a := range seen {
		v.release(a)
	}
	for _, g := range e.groups {
		c.groups[g].ips -= len(addrs)
	}
	q.changed = true
	return requestOnly{q.requestID}, nil
}

// unassignPrefixes is UnassignPrivateIpAddresses with Ipv4Prefix.N. A
// prefix the ENI does not hold is 403 InvalidIp.IpUnassigned, as for an
// address.
func (s *Server) unassignPrefixes(q *call, e *eni, prefixes []netip.Prefix) (any, *apiError) {
	seen := map[netip.Prefix]bool{}
	for _, pf := range prefixes {
		switch {
		case seen[pf]:
			return nil, errIPRepeated(pf.String())
		case !e.hasPrefix(pf):
			return nil, newErr(http.StatusForbidden, "InvalidIp.IpUnassigned",
				"The prefix %s is not assigned to the ENI %s.", pf, e.id)
		}
		seen[pf] = true
	}
	v := s.cloud.vswitches[e.vsw]
	s.touch(e, q.now)
	s.markBusy(e, q.now)
	e.prefixes = slices.DeleteFunc(e.prefixes, func(pf netip.Prefix) bool { return seen[pf] })
	for pf := range seen {
		v.releasePrefix(pf)
	}
	q.changed = true
	return requestOnly{q.requestID}, nil
}
