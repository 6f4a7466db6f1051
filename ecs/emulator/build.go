package emulator

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ecsnet/ecsnet/schema"
)

// build validates a world and turns it into a live cloud. Values the world
// leaves out (primary ENI IDs, MACs, addresses) are derived from seed.
func build(w *World, seed int64) (*cloud, error) {
	var errs worldErrors
	c := &cloud{
		region:    w.RegionId,
		quotas:    w.Quotas.withDefaults(),
		overrides: slices.Clone(w.InstanceTypes),
		types:     map[string]instanceType{},
		keys:      map[string]AccessKey{},
		vpcs:      map[string]*vpc{},
		vswitches: map[string]*vswitch{},
		groups:    map[string]*group{},
		instances: map[string]*instance{},
		enis:      map[string]*eni{},
		macs:      map[string]bool{},
		gen:       newGenerator(seed),
	}
	created := epoch.Format(timeLayout)
	if w.RegionId == "" {
		errs.add("RegionId is required")
	}
	q := w.Quotas
	if q.MaxNetworkInterfaces < 0 || q.UnboundEniMaxSecondaryIps < 0 || q.SecurityGroupMaxIps < 0 ||
		q.CreateMaxSecondaryIps < 0 || q.MaxSecurityGroupsPerEni < 0 {
		errs.add("Quotas: values must not be negative (0 means the default)")
	}
	for i, k := range w.AccessKeys {
		switch {
		case k.AccessKeyId == "" || k.AccessKeySecret == "":
			errs.add("AccessKeys[%d]: AccessKeyId and AccessKeySecret are required", i)
		case c.keys[k.AccessKeyId] != (AccessKey{}):
			errs.add("AccessKeys[%d]: duplicate AccessKeyId %q", i, k.AccessKeyId)
		default:
			c.keys[k.AccessKeyId] = k
		}
	}

	for _, t := range schema.BuiltinInstanceTypes() {
		cpu, mem := typeSize(t.Name)
		c.types[t.Name] = instanceType{id: t.Name, maxENIs: t.MaxENIs, maxIPs: t.MaxIPsPerENI,
			needsStopped: t.AttachNeedsStopped, cpu: cpu, mem: mem}
	}
	seenType := map[string]bool{}
	for i, o := range w.InstanceTypes {
		if o.InstanceTypeId == "" {
			errs.add("InstanceTypes[%d]: InstanceTypeId is required", i)
			continue
		}
		if seenType[o.InstanceTypeId] {
			errs.add("InstanceTypes[%d]: duplicate InstanceTypeId %q", i, o.InstanceTypeId)
			continue
		}
		seenType[o.InstanceTypeId] = true
		t, builtin := c.types[o.InstanceTypeId]
		if !builtin {
			cpu, mem := typeSize(o.InstanceTypeId)
			t = instanceType{id: o.InstanceTypeId, cpu: cpu, mem: mem}
		}
		if o.EniQuantity < 0 || o.EniPrivateIpAddressQuantity < 0 {
			errs.add("InstanceTypes[%d] %s: quantities must not be negative", i, o.InstanceTypeId)
		}
		if o.EniQuantity > 0 {
			t.maxENIs = o.EniQuantity
		}
		if o.EniPrivateIpAddressQuantity > 0 {
			t.maxIPs = o.EniPrivateIpAddressQuantity
		}
		if o.AttachNeedsStopped {
			t.needsStopped = true
		}
		if o.CpuCoreCount > 0 {
			t.cpu = o.CpuCoreCount
		}
		if o.MemorySize > 0 {
			t.mem = o.MemorySize
		}
		if t.maxENIs == 0 || t.maxIPs == 0 {
			errs.add("InstanceTypes[%d] %s: not a built-in type, so EniQuantity and EniPrivateIpAddressQuantity are required", i, o.InstanceTypeId)
		}
		c.types[o.InstanceTypeId] = t
	}

	// IDs are unique across every kind: a world that reuses one is a typo.
	seen := map[string]string{}
	claim := func(id, where string) bool {
		if id == "" {
			errs.add("%s: ID is required", where)
			return false
		}
		if prev, dup := seen[id]; dup {
			errs.add("%s: duplicate ID %q (also %s)", where, id, prev)
			return false
		}
		seen[id] = where
		return true
	}

	for i, v := range w.Vpcs {
		where := "Vpcs[" + strconv.Itoa(i) + "]"
		if !claim(v.VpcId, where) {
			continue
		}
		p, err := netip.ParsePrefix(v.CidrBlock)
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			errs.add("%s %s: CidrBlock %q is not an IPv4 block like 10.0.0.0/16", where, v.VpcId, v.CidrBlock)
			continue
		}
		c.vpcs[v.VpcId] = &vpc{id: v.VpcId, name: v.VpcName, cidr: p}
		c.vpcIDs = append(c.vpcIDs, v.VpcId)
	}
	for i, s := range w.VSwitches {
		where := "VSwitches[" + strconv.Itoa(i) + "]"
		if !claim(s.VSwitchId, where) {
			continue
		}
		where += " " + s.VSwitchId
		p, err := netip.ParsePrefix(s.CidrBlock)
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			errs.add("%s: CidrBlock %q is not an IPv4 block like 10.0.1.0/24", where, s.CidrBlock)
			continue
		}
		// vSwitch blocks are /16 to /29 (ecs-api.md §4).
		if p.Bits() < 16 || p.Bits() > 29 {
			errs.add("%s: CidrBlock %s: a vSwitch block must be /16 to /29", where, p)
			continue
		}
		owner := c.vpcs[s.VpcId]
		if owner == nil {
			errs.add("%s: VpcId %q is not in Vpcs", where, s.VpcId)
			continue
		}
		if !owner.cidr.Contains(p.Addr()) || owner.cidr.Bits() > p.Bits() {
			errs.add("%s: CidrBlock %s is outside VPC %s (%s)", where, p, owner.id, owner.cidr)
			continue
		}
		if s.ZoneId == "" {
			errs.add("%s: ZoneId is required", where)
		}
		overlap := false
		for _, id := range c.vswIDs {
			o := c.vswitches[id]
			if o.vpcID == s.VpcId && o.cidr.Overlaps(p) {
				errs.add("%s: CidrBlock %s overlaps vSwitch %s (%s)", where, p, o.id, o.cidr)
				overlap = true
			}
		}
		if overlap {
			continue
		}
		c.vswitches[s.VSwitchId] = &vswitch{id: s.VSwitchId, name: s.VSwitchName, vpcID: s.VpcId, zone: s.ZoneId,
			cidr: p, base: addrToU32(p.Addr()), size: 1 << (32 - p.Bits()), used: map[uint32]string{}}
		c.vswIDs = append(c.vswIDs, s.VSwitchId)
	}
	for i, g := range w.SecurityGroups {
		where := "SecurityGroups[" + strconv.Itoa(i) + "]"
		if !claim(g.SecurityGroupId, where) {
			continue
		}
		if c.vpcs[g.VpcId] == nil {
			errs.add("%s %s: VpcId %q is not in Vpcs", where, g.SecurityGroupId, g.VpcId)
			continue
		}
		c.groups[g.SecurityGroupId] = &group{id: g.SecurityGroupId, name: g.SecurityGroupName, vpcID: g.VpcId}
		c.groupIDs = append(c.groupIDs, g.SecurityGroupId)
	}

	// checkGroups validates an ENI's security groups against its VPC.
	checkGroups := func(where, vpcID string, ids []string) bool {
		ok := true
		if len(ids) == 0 {
			errs.add("%s: SecurityGroupIds must name at least one group", where)
			ok = false
		}
		dup := map[string]bool{}
		for _, id := range ids {
			g := c.groups[id]
			switch {
			case dup[id]:
				errs.add("%s: security group %s listed twice", where, id)
				ok = false
			case g == nil:
				errs.add("%s: security group %q is not in SecurityGroups", where, id)
				ok = false
			case g.vpcID != vpcID:
				errs.add("%s: security group %s is in VPC %s, not %s", where, id, g.vpcID, vpcID)
				ok = false
			}
			dup[id] = true
		}
		return ok
	}
	// addr parses one explicit address and takes it in v for eniID.
	addr := func(where string, v *vswitch, s, eniID string) (netip.Addr, bool) {
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil || !a.Is4():
			errs.add("%s: %q is not an IPv4 address", where, s)
		case !v.cidr.Contains(a):
			errs.add("%s: %s is outside vSwitch %s (%s)", where, a, v.id, v.cidr)
		case v.reserved(a):
			errs.add("%s: %s is reserved in vSwitch %s (the first address and the last three)", where, a, v.id)
		case v.inUse(a):
			errs.add("%s: %s is already held by %s", where, a, v.used[addrToU32(a)])
		default:
			v.take(a, eniID)
			return a, true
		}
		return netip.Addr{}, false
	}
	macOK := func(where, m string) bool {
		switch {
		case !schema.ValidMAC(m):
			errs.add("%s: MacAddress %q is not a lower-case MAC like 00:16:3e:0a:0b:0c", where, m)
		case c.macs[m]:
			errs.add("%s: MacAddress %s is used twice", where, m)
		default:
			c.macs[m] = true
			return true
		}
		return false
	}

	// Explicit IDs, MACs and addresses are claimed first, so that the ones
	// derived from the seed can never collide with them.
	type pendingENI struct {
		e      *eni
		autoIP bool
	}
	var all []pendingENI
	for i, in := range w.Instances {
		where := "Instances[" + strconv.Itoa(i) + "]"
		if !claim(in.InstanceId, where) {
			continue
		}
		where += " " + in.InstanceId
		bad := false
		if _, ok := c.types[in.InstanceType]; !ok {
			errs.add("%s: InstanceType %q is neither built in nor in InstanceTypes", where, in.InstanceType)
			bad = true
		}
		status := cmp.Or(in.Status, "Running")
		if !slices.Contains(instanceStatuses, status) {
			errs.add("%s: Status %q is not one of %s", where, in.Status, strings.Join(instanceStatuses, ", "))
			bad = true
		}
		osType := cmp.Or(in.OSType, "linux")
		if osType != "linux" && osType != "windows" {
			errs.add("%s: OSType %q is not linux or windows", where, in.OSType)
			bad = true
		}
		if msg := checkFamily(in.EcsnetOS, in.EcsnetNetwork, osType); msg != "" {
			errs.add("%s: %s", where, msg)
			bad = true
		}
		v := c.vswitches[in.VSwitchId]
		if v == nil {
			errs.add("%s: VSwitchId %q is not in VSwitches", where, in.VSwitchId)
			continue
		}
		if in.ZoneId != "" && in.ZoneId != v.zone {
			errs.add("%s: ZoneId %s differs from vSwitch %s's zone %s", where, in.ZoneId, v.id, v.zone)
			bad = true
		}
		if !checkGroups(where, v.vpcID, in.SecurityGroupIds) {
			bad = true
		}
		e := &eni{id: in.NetworkInterfaceId, vsw: v.id, vpcID: v.vpcID, zone: v.zone, primary: true,
			groups: slices.Clone(in.SecurityGroupIds), mac: in.MacAddress, status: stInUse,
			instanceID: in.InstanceId, created: created}
		if e.id != "" && !claim(e.id, where+" NetworkInterfaceId") {
			bad = true
		}
		if e.mac != "" && !macOK(where, e.mac) {
			bad = true
		}
		autoIP := in.PrivateIpAddress == ""
		if !autoIP {
			a, ok := addr(where+" PrivateIpAddress", v, in.PrivateIpAddress, in.InstanceId)
			bad = bad || !ok
			e.ip = a
		}
		for _, s := range in.SecondaryPrivateIpAddresses {
			a, ok := addr(where+" SecondaryPrivateIpAddresses", v, s, in.InstanceId)
			bad = bad || !ok
			e.secondaries = append(e.secondaries, a)
		}
		if bad {
			continue
		}
		c.instances[in.InstanceId] = &instance{id: in.InstanceId, name: in.InstanceName, typ: in.InstanceType,
			status: status, osType: osType, osName: in.OSName, zone: v.zone, vsw: v.id, created: created,
			ecsnetOS: in.EcsnetOS, ecsnetNetwork: in.EcsnetNetwork}
		c.instList = append(c.instList, c.instances[in.InstanceId])
		all = append(all, pendingENI{e, autoIP})
	}
	deviceIndex := map[string]map[int]bool{} // instance -> taken indexes
	for i, n := range w.NetworkInterfaces {
		where := "NetworkInterfaces[" + strconv.Itoa(i) + "]"
		if n.NetworkInterfaceId != "" {
			if !claim(n.NetworkInterfaceId, where) {
				continue
			}
			where += " " + n.NetworkInterfaceId
		}
		v := c.vswitches[n.VSwitchId]
		if v == nil {
			errs.add("%s: VSwitchId %q is not in VSwitches", where, n.VSwitchId)
			continue
		}
		bad := !checkGroups(where, v.vpcID, n.SecurityGroupIds)
		if len(n.Tags) > 20 {
			errs.add("%s: %d tags; a resource carries at most 20", where, len(n.Tags))
			bad = true
		}
		keys := map[string]bool{}
		for _, t := range n.Tags {
			if t.TagKey == "" || keys[t.TagKey] {
				errs.add("%s: tag keys must be non-empty and unique (%q)", where, t.TagKey)
				bad = true
			}
			keys[t.TagKey] = true
		}
		status := n.Status
		if status == "" {
			status = stAvailable
			if n.InstanceId != "" {
				status = stInUse
			}
		}
		switch status {
		case stAvailable, stDeleting:
			if n.InstanceId != "" {
				errs.add("%s: a %s ENI has no InstanceId", where, status)
				bad = true
			}
		case stAttaching, stInUse, stDetaching:
			in := c.instances[n.InstanceId]
			switch {
			case in == nil:
				errs.add("%s: InstanceId %q is not in Instances", where, n.InstanceId)
				bad = true
			case c.vswitches[in.vsw].vpcID != v.vpcID:
				errs.add("%s: instance %s is in VPC %s, the ENI in %s", where, in.id, c.vswitches[in.vsw].vpcID, v.vpcID)
				bad = true
			case in.zone != v.zone:
				errs.add("%s: instance %s is in zone %s, the ENI in %s", where, in.id, in.zone, v.zone)
				bad = true
			}
		default:
			errs.add("%s: Status %q is not one of Available, Attaching, InUse, Detaching, Deleting", where, n.Status)
			bad = true
		}
		if n.DeviceIndex < 0 || (n.DeviceIndex > 0 && n.InstanceId == "") {
			errs.add("%s: DeviceIndex %d needs an InstanceId and must be ≥ 1", where, n.DeviceIndex)
			bad = true
		}
		if n.DeviceIndex > 0 && n.InstanceId != "" {
			if deviceIndex[n.InstanceId] == nil {
				deviceIndex[n.InstanceId] = map[int]bool{}
			}
			if deviceIndex[n.InstanceId][n.DeviceIndex] {
				errs.add("%s: DeviceIndex %d is used twice on %s", where, n.DeviceIndex, n.InstanceId)
				bad = true
			}
			deviceIndex[n.InstanceId][n.DeviceIndex] = true
		}
		e := &eni{id: n.NetworkInterfaceId, name: n.NetworkInterfaceName, desc: n.Description,
			vsw: v.id, vpcID: v.vpcID, zone: v.zone, groups: slices.Clone(n.SecurityGroupIds), mac: n.MacAddress,
			status: status, instanceID: n.InstanceId, deviceIndex: n.DeviceIndex, tags: slices.Clone(n.Tags),
			created: created}
		sortTags(e.tags)
		if e.mac != "" && !macOK(where, e.mac) {
			bad = true
		}
		owner := cmp.Or(n.NetworkInterfaceId, where)
		autoIP := n.PrivateIpAddress == ""
		if !autoIP {
			a, ok := addr(where+" PrivateIpAddress", v, n.PrivateIpAddress, owner)
			bad = bad || !ok
			e.ip = a
		}
		for _, s := range n.SecondaryPrivateIpAddresses {
			a, ok := addr(where+" SecondaryPrivateIpAddresses", v, s, owner)
			bad = bad || !ok
			e.secondaries = append(e.secondaries, a)
		}
		if !bad {
			all = append(all, pendingENI{e, autoIP})
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}

	// Derived values, in file order.
	taken := func(id string) bool { _, ok := seen[id]; return ok }
	for _, p := range all {
		e := p.e
		v := c.vswitches[e.vsw]
		if e.id == "" {
			e.id = c.gen.id("eni-", "", taken)
			seen[e.id] = "derived"
		}
		if e.mac == "" {
			e.mac = c.gen.mac("", func(m string) bool { return c.macs[m] })
			c.macs[e.mac] = true
		}
		if p.autoIP {
			if v.free() < 1 {
				errs.add("ENI %s: vSwitch %s has no free address left for its primary address", e.id, v.id)
				continue
			}
			e.ip = c.allocate(v, 1, e.id)[0]
		}
		slices.SortFunc(e.secondaries, netip.Addr.Compare)
		// Re-own the addresses under the final ENI ID.
		for _, a := range e.addrs() {
			v.take(a, e.id)
		}
		if e.primary {
			c.instances[e.instanceID].primary = e
		}
		delete(c.macs, e.mac) // addENI re-adds it
		c.addENI(e)
		if e.bound() && !e.primary && e.deviceIndex == 0 {
			// Filled below, once every explicit index is known.
			e.deviceIndex = -1
		}
	}
	for _, e := range c.eniList {
		if e.deviceIndex == -1 {
			e.deviceIndex = 0
			e.deviceIndex = c.freeDeviceIndex(c.instances[e.instanceID])
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	slices.Sort(c.vpcIDs)
	slices.Sort(c.vswIDs)
	slices.Sort(c.groupIDs)
	slices.SortFunc(c.instList, func(a, b *instance) int { return strings.Compare(a.id, b.id) })
	return c, nil
}

// toWorld writes the live cloud back in world-file shape, every list in ID
// order. Access keys are left out: State is served without authentication.
func (c *cloud) toWorld(seed int64) *World {
	w := &World{RegionId: c.region, Seed: seed, Quotas: c.quotas,
		InstanceTypes: slices.Clone(c.overrides),
		Vpcs:          []Vpc{}, VSwitches: []VSwitch{}, SecurityGroups: []SecurityGroup{},
		Instances: []Instance{}, NetworkInterfaces: []NetworkInterface{}}
	for _, id := range c.vpcIDs {
		v := c.vpcs[id]
		w.Vpcs = append(w.Vpcs, Vpc{VpcId: v.id, VpcName: v.name, CidrBlock: v.cidr.String()})
	}
	for _, id := range c.vswIDs {
		v := c.vswitches[id]
		w.VSwitches = append(w.VSwitches, VSwitch{VSwitchId: v.id, VSwitchName: v.name, VpcId: v.vpcID,
			ZoneId: v.zone, CidrBlock: v.cidr.String()})
	}
	for _, id := range c.groupIDs {
		g := c.groups[id]
		w.SecurityGroups = append(w.SecurityGroups, SecurityGroup{SecurityGroupId: g.id, SecurityGroupName: g.name, VpcId: g.vpcID})
	}
	for _, in := range c.instList {
		p := in.primary
		w.Instances = append(w.Instances, Instance{InstanceId: in.id, InstanceName: in.name, InstanceType: in.typ,
			Status: in.status, OSType: in.osType, OSName: in.osName, ZoneId: in.zone, VSwitchId: in.vsw,
			PrivateIpAddress: p.ip.String(), NetworkInterfaceId: p.id, MacAddress: p.mac,
			SecurityGroupIds: slices.Clone(p.groups), SecondaryPrivateIpAddresses: addrStrings(p.secondaries),
			EcsnetOS: in.ecsnetOS, EcsnetNetwork: in.ecsnetNetwork})
	}
	for _, e := range c.eniList {
		if e.primary {
			continue
		}
		w.NetworkInterfaces = append(w.NetworkInterfaces, NetworkInterface{NetworkInterfaceId: e.id,
			NetworkInterfaceName: e.name, Description: e.desc, VSwitchId: e.vsw, SecurityGroupIds: slices.Clone(e.groups),
			PrivateIpAddress: e.ip.String(), SecondaryPrivateIpAddresses: addrStrings(e.secondaries),
			MacAddress: e.mac, Status: e.status, InstanceId: e.instanceID, DeviceIndex: e.deviceIndex,
			Tags: slices.Clone(e.tags)})
	}
	return w
}

func addrStrings(as []netip.Addr) []string {
	if len(as) == 0 {
		return nil
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}
