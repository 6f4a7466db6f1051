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
//
// It runs in two passes. The first checks every entry, in the file's
// order and in dependency order (types, VPCs, vSwitches, groups,
// instances, ENIs), and claims the IDs, MACs and addresses the world
// names, collecting every problem so that one run reports them all. Only
// a world without problems reaches the second pass, which derives what the
// world leaves out from the seed: derived values can then never collide
// with explicit ones.
func build(w *World, seed int64) (*cloud, error) {
	b := &builder{
		c: &cloud{
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
		},
		seen:    map[string]string{},
		created: epoch.Format(timeLayout),
		badIPv6: map[string]bool{},
	}
	b.account(w)
	b.instanceTypes(w.InstanceTypes)
	b.vpcs(w.Vpcs)
	b.vswitches(w.VSwitches)
	b.securityGroups(w.SecurityGroups)
	b.instances(w.Instances)
	b.networkInterfaces(w.NetworkInterfaces)
	if err := b.errs.err(); err != nil {
		return nil, err
	}
	b.derive()
	if err := b.errs.err(); err != nil {
		return nil, err
	}
	c := b.c
	slices.Sort(c.vpcIDs)
	slices.Sort(c.vswIDs)
	slices.Sort(c.groupIDs)
	slices.SortFunc(c.instList, func(a, b *instance) int { return strings.Compare(a.id, b.id) })
	return c, nil
}

// builder is the state of one build: the cloud so far, the problems found
// and what the world has claimed.
type builder struct {
	c       *cloud
	errs    worldErrors
	seen    map[string]string // ID -> where the world names it; IDs are unique across every kind
	created string            // CreationTime of everything the world holds
	// all holds the ENIs that passed the checks, primary ENIs first, in
	// file order, for derive.
	all []pendingENI
	// deviceIndex holds the explicit device indexes taken per instance.
	deviceIndex map[string]map[int]bool
	// badIPv6 holds the vSwitches whose Ipv6CidrBlock was refused: their
	// IPv6 addresses are not checked again (world6.go).
	badIPv6 map[string]bool
}

// pendingENI is a checked ENI whose derived values are still to come.
type pendingENI struct {
	e      *eni
	autoIP bool // the world left PrivateIpAddress out
}

// account checks the region, the quotas and the access keys.
func (b *builder) account(w *World) {
	if w.RegionId == "" {
		b.errs.add("RegionId is required")
	}
	q := w.Quotas
	if q.MaxNetworkInterfaces < 0 || q.UnboundEniMaxSecondaryIps < 0 || q.SecurityGroupMaxIps < 0 ||
		q.CreateMaxSecondaryIps < 0 || q.MaxSecurityGroupsPerEni < 0 {
		b.errs.add("Quotas: values must not be negative (0 means the default)")
	}
	for i, k := range w.AccessKeys {
		switch {
		case k.AccessKeyId == "" || k.AccessKeySecret == "":
			b.errs.add("AccessKeys[%d]: AccessKeyId and AccessKeySecret are required", i)
		case b.c.keys[k.AccessKeyId] != (AccessKey{}):
			b.errs.add("AccessKeys[%d]: duplicate AccessKeyId %q", i, k.AccessKeyId)
		default:
			b.c.keys[k.AccessKeyId] = k
		}
	}
}

// instanceTypes loads the built-in type table and merges the world's
// overrides and additions over it.
func (b *builder) instanceTypes(overrides []InstanceType) {
	c := b.c
	for _, t := range schema.BuiltinInstanceTypes() {
		cpu, mem := typeSize(t.Name)
		c.types[t.Name] = instanceType{id: t.Name, maxENIs: t.MaxENIs, maxIPs: t.MaxIPsPerENI,
			maxIPv6: t.MaxIPv6PerENI, cards: t.NetworkCards, maxQueues: t.MaxQueuesPerENI,
			needsStopped: t.AttachNeedsStopped, cpu: cpu, mem: mem}
	}
	seenType := map[string]bool{}
	for i, o := range overrides {
		if o.InstanceTypeId == "" {
			b.errs.add("InstanceTypes[%d]: InstanceTypeId is required", i)
			continue
		}
		if seenType[o.InstanceTypeId] {
			b.errs.add("InstanceTypes[%d]: duplicate InstanceTypeId %q", i, o.InstanceTypeId)
			continue
		}
		seenType[o.InstanceTypeId] = true
		t, builtin := c.types[o.InstanceTypeId]
		if !builtin {
			cpu, mem := typeSize(o.InstanceTypeId)
			t = instanceType{id: o.InstanceTypeId, cpu: cpu, mem: mem}
		}
		if o.EniQuantity < 0 || o.EniPrivateIpAddressQuantity < 0 {
			b.errs.add("InstanceTypes[%d] %s: quantities must not be negative", i, o.InstanceTypeId)
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
		if o.EniIpv6AddressQuantity < 0 || o.NetworkCardQuantity < 0 || o.MaximumQueueNumberPerEni < 0 {
			b.errs.add("InstanceTypes[%d] %s: quantities must not be negative", i, o.InstanceTypeId)
		}
		if o.EniIpv6AddressQuantity > 0 {
			t.maxIPv6 = o.EniIpv6AddressQuantity
		}
		if o.NetworkCardQuantity > 0 {
			t.cards = o.NetworkCardQuantity
		}
		if o.MaximumQueueNumberPerEni > 0 {
			t.maxQueues = o.MaximumQueueNumberPerEni
		}
		if o.MemorySize > 0 {
			t.mem = o.MemorySize
		}
		if t.maxENIs == 0 || t.maxIPs == 0 {
			b.errs.add("InstanceTypes[%d] %s: not a built-in type, so EniQuantity and EniPrivateIpAddressQuantity are required", i, o.InstanceTypeId)
		}
		c.types[o.InstanceTypeId] = t
	}
}

// claim records that the world names id at where. IDs are unique across
// every kind: a world that reuses one is a typo.
func (b *builder) claim(id, where string) bool {
	if id == "" {
		b.errs.add("%s: ID is required", where)
		return false
	}
	if prev, dup := b.seen[id]; dup {
		b.errs.add("%s: duplicate ID %q (also %s)", where, id, prev)
		return false
	}
	b.seen[id] = where
	return true
}

func (b *builder) vpcs(vpcs []Vpc) {
	c := b.c
	for i, v := range vpcs {
		where := "Vpcs[" + strconv.Itoa(i) + "]"
		if !b.claim(v.VpcId, where) {
			continue
		}
		p, err := netip.ParsePrefix(v.CidrBlock)
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			b.errs.add("%s %s: CidrBlock %q is not an IPv4 block like 10.0.0.0/16", where, v.VpcId, v.CidrBlock)
			continue
		}
		c.vpcs[v.VpcId] = &vpc{id: v.VpcId, name: v.VpcName, cidr: p}
		c.vpcIDs = append(c.vpcIDs, v.VpcId)
	}
}

func (b *builder) vswitches(vsws []VSwitch) {
	c := b.c
	for i, s := range vsws {
		where := "VSwitches[" + strconv.Itoa(i) + "]"
		if !b.claim(s.VSwitchId, where) {
			continue
		}
		where += " " + s.VSwitchId
		p, err := netip.ParsePrefix(s.CidrBlock)
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			b.errs.add("%s: CidrBlock %q is not an IPv4 block like 10.0.1.0/24", where, s.CidrBlock)
			continue
		}
		// vSwitch blocks are /16 to /29 (ecs-api.md §4).
		if p.Bits() < 16 || p.Bits() > 29 {
			b.errs.add("%s: CidrBlock %s: a vSwitch block must be /16 to /29", where, p)
			continue
		}
		owner := c.vpcs[s.VpcId]
		if owner == nil {
			b.errs.add("%s: VpcId %q is not in Vpcs", where, s.VpcId)
			continue
		}
		if !owner.cidr.Contains(p.Addr()) || owner.cidr.Bits() > p.Bits() {
			b.errs.add("%s: CidrBlock %s is outside VPC %s (%s)", where, p, owner.id, owner.cidr)
			continue
		}
		if s.ZoneId == "" {
			b.errs.add("%s: ZoneId is required", where)
		}
		overlap := false
		for _, id := range c.vswIDs {
			o := c.vswitches[id]
			if o.vpcID == s.VpcId && o.cidr.Overlaps(p) {
				b.errs.add("%s: CidrBlock %s overlaps vSwitch %s (%s)", where, p, o.id, o.cidr)
				overlap = true
			}
		}
		if overlap {
			continue
		}
		v6, ok := b.ipv6Block(where, s.Ipv6CidrBlock) // world6.go
		if !ok {
			// The vSwitch stays, without the block, so that its
			// instances and ENIs are checked against it and the one
			// mistake is reported once.
			b.badIPv6[s.VSwitchId] = true
		}
		c.vswitches[s.VSwitchId] = &vswitch{id: s.VSwitchId, name: s.VSwitchName, vpcID: s.VpcId, zone: s.ZoneId,
			cidr: p, ipv6: v6, base: addrToU32(p.Addr()), size: 1 << (32 - p.Bits()), used: map[uint32]string{},
			used6: map[netip.Addr]string{}}
		c.vswIDs = append(c.vswIDs, s.VSwitchId)
	}
}

func (b *builder) securityGroups(groups []SecurityGroup) {
	c := b.c
	for i, g := range groups {
		where := "SecurityGroups[" + strconv.Itoa(i) + "]"
		if !b.claim(g.SecurityGroupId, where) {
			continue
		}
		if c.vpcs[g.VpcId] == nil {
			b.errs.add("%s %s: VpcId %q is not in Vpcs", where, g.SecurityGroupId, g.VpcId)
			continue
		}
		c.groups[g.SecurityGroupId] = &group{id: g.SecurityGroupId, name: g.SecurityGroupName, vpcID: g.VpcId}
		c.groupIDs = append(c.groupIDs, g.SecurityGroupId)
	}
}

// checkGroups validates an ENI's security groups against its VPC.
func (b *builder) checkGroups(where, vpcID string, ids []string) bool {
	ok := true
	if len(ids) == 0 {
		b.errs.add("%s: SecurityGroupIds must name at least one group", where)
		ok = false
	}
	dup := map[string]bool{}
	for _, id := range ids {
		g := b.c.groups[id]
		switch {
		case dup[id]:
			b.errs.add("%s: security group %s listed twice", where, id)
			ok = false
		case g == nil:
			b.errs.add("%s: security group %q is not in SecurityGroups", where, id)
			ok = false
		case g.vpcID != vpcID:
			b.errs.add("%s: security group %s is in VPC %s, not %s", where, id, g.vpcID, vpcID)
			ok = false
		}
		dup[id] = true
	}
	return ok
}

// addr parses one explicit address and takes it in v for eniID.
func (b *builder) addr(where string, v *vswitch, s, eniID string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil || !a.Is4():
		b.errs.add("%s: %q is not an IPv4 address", where, s)
	case !v.cidr.Contains(a):
		b.errs.add("%s: %s is outside vSwitch %s (%s)", where, a, v.id, v.cidr)
	case v.reserved(a):
		b.errs.add("%s: %s is reserved in vSwitch %s (the first address and the last three)", where, a, v.id)
	case v.inUse(a):
		b.errs.add("%s: %s is already held by %s", where, a, v.used[addrToU32(a)])
	default:
		v.take(a, eniID)
		return a, true
	}
	return netip.Addr{}, false
}

// addrs takes an ENI's explicit primary and secondary addresses, each
// owned by owner until derive re-owns them under the final ENI ID.
func (b *builder) addrs(where string, v *vswitch, e *eni, primary string, secondaries []string, owner string) bool {
	ok := true
	if primary != "" {
		a, good := b.addr(where+" PrivateIpAddress", v, primary, owner)
		ok = ok && good
		e.ip = a
	}
	for _, s := range secondaries {
		a, good := b.addr(where+" SecondaryPrivateIpAddresses", v, s, owner)
		ok = ok && good
		e.secondaries = append(e.secondaries, a)
	}
	return ok
}

// macOK claims an explicit MAC.
func (b *builder) macOK(where, m string) bool {
	switch {
	case !schema.ValidMAC(m):
		b.errs.add("%s: MacAddress %q is not a lower-case MAC like 00:16:3e:0a:0b:0c", where, m)
	case b.c.macs[m]:
		b.errs.add("%s: MacAddress %s is used twice", where, m)
	default:
		b.c.macs[m] = true
		return true
	}
	return false
}

// instances checks the instances and their primary ENIs.
func (b *builder) instances(list []Instance) {
	c := b.c
	for i, in := range list {
		where := "Instances[" + strconv.Itoa(i) + "]"
		if !b.claim(in.InstanceId, where) {
			continue
		}
		where += " " + in.InstanceId
		bad := false
		if _, ok := c.types[in.InstanceType]; !ok {
			b.errs.add("%s: InstanceType %q is neither built in nor in InstanceTypes", where, in.InstanceType)
			bad = true
		}
		status := cmp.Or(in.Status, "Running")
		if !slices.Contains(instanceStatuses, status) {
			b.errs.add("%s: Status %q is not one of %s", where, in.Status, strings.Join(instanceStatuses, ", "))
			bad = true
		}
		osType := cmp.Or(in.OSType, "linux")
		if osType != "linux" && osType != "windows" {
			b.errs.add("%s: OSType %q is not linux or windows", where, in.OSType)
			bad = true
		}
		if msg := checkFamily(in.EcsnetOS, in.EcsnetNetwork, osType); msg != "" {
			b.errs.add("%s: %s", where, msg)
			bad = true
		}
		v := c.vswitches[in.VSwitchId]
		if v == nil {
			b.errs.add("%s: VSwitchId %q is not in VSwitches", where, in.VSwitchId)
			continue
		}
		if in.ZoneId != "" && in.ZoneId != v.zone {
			b.errs.add("%s: ZoneId %s differs from vSwitch %s's zone %s", where, in.ZoneId, v.id, v.zone)
			bad = true
		}
		if !b.checkGroups(where, v.vpcID, in.SecurityGroupIds) {
			bad = true
		}
		e := &eni{id: in.NetworkInterfaceId, vsw: v.id, vpcID: v.vpcID, zone: v.zone, primary: true,
			groups: slices.Clone(in.SecurityGroupIds), mac: in.MacAddress, status: stInUse,
			instanceID: in.InstanceId, created: b.created}
		if e.id != "" && !b.claim(e.id, where+" NetworkInterfaceId") {
			bad = true
		}
		if e.mac != "" && !b.macOK(where, e.mac) {
			bad = true
		}
		if !b.addrs(where, v, e, in.PrivateIpAddress, in.SecondaryPrivateIpAddresses, in.InstanceId) {
			bad = true
		}
		if !b.extras(where, v, e, in.Ipv6Addresses, in.Ipv4Prefixes, in.InstanceId) { // world6.go
			bad = true
		}
		if bad {
			continue
		}
		c.instances[in.InstanceId] = &instance{id: in.InstanceId, name: in.InstanceName, typ: in.InstanceType,
			status: status, osType: osType, osName: in.OSName, zone: v.zone, vsw: v.id, created: b.created,
			ecsnetOS: in.EcsnetOS, ecsnetNetwork: in.EcsnetNetwork}
		c.instList = append(c.instList, c.instances[in.InstanceId])
		b.all = append(b.all, pendingENI{e, in.PrivateIpAddress == ""})
	}
}

// networkInterfaces checks the secondary ENIs.
func (b *builder) networkInterfaces(list []NetworkInterface) {
	c := b.c
	b.deviceIndex = map[string]map[int]bool{}
	for i, n := range list {
		where := "NetworkInterfaces[" + strconv.Itoa(i) + "]"
		if n.NetworkInterfaceId != "" {
			if !b.claim(n.NetworkInterfaceId, where) {
				continue
			}
			where += " " + n.NetworkInterfaceId
		}
		v := c.vswitches[n.VSwitchId]
		if v == nil {
			b.errs.add("%s: VSwitchId %q is not in VSwitches", where, n.VSwitchId)
			continue
		}
		bad := !b.checkGroups(where, v.vpcID, n.SecurityGroupIds)
		if !b.checkTags(where, n.Tags) {
			bad = true
		}
		status, ok := b.eniStatus(where, n, v)
		if !ok {
			bad = true
		}
		if !b.checkDeviceIndex(where, n) {
			bad = true
		}
		e := &eni{id: n.NetworkInterfaceId, name: n.NetworkInterfaceName, desc: n.Description,
			vsw: v.id, vpcID: v.vpcID, zone: v.zone, groups: slices.Clone(n.SecurityGroupIds), mac: n.MacAddress,
			status: status, instanceID: n.InstanceId, deviceIndex: n.DeviceIndex, tags: slices.Clone(n.Tags),
			created: b.created}
		sortTags(e.tags)
		if e.mac != "" && !b.macOK(where, e.mac) {
			bad = true
		}
		owner := cmp.Or(n.NetworkInterfaceId, where)
		if !b.addrs(where, v, e, n.PrivateIpAddress, n.SecondaryPrivateIpAddresses, owner) {
			bad = true
		}
		if !b.extras(where, v, e, n.Ipv6Addresses, n.Ipv4Prefixes, owner) || !b.cardAndQueues(where, n, e) { // world6.go
			bad = true
		}
		if !bad {
			b.all = append(b.all, pendingENI{e, n.PrivateIpAddress == ""})
		}
	}
}

// checkTags enforces the tag limits of a resource.
func (b *builder) checkTags(where string, tags []Tag) bool {
	ok := true
	if len(tags) > 20 {
		b.errs.add("%s: %d tags; a resource carries at most 20", where, len(tags))
		ok = false
	}
	keys := map[string]bool{}
	for _, t := range tags {
		if t.TagKey == "" || keys[t.TagKey] {
			b.errs.add("%s: tag keys must be non-empty and unique (%q)", where, t.TagKey)
			ok = false
		}
		keys[t.TagKey] = true
	}
	return ok
}

// eniStatus returns an ENI's status, defaulted from whether it names an
// instance, and checks that the instance can hold it.
func (b *builder) eniStatus(where string, n NetworkInterface, v *vswitch) (string, bool) {
	c := b.c
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
			b.errs.add("%s: a %s ENI has no InstanceId", where, status)
			return status, false
		}
	case stAttaching, stInUse, stDetaching:
		in := c.instances[n.InstanceId]
		switch {
		case in == nil:
			b.errs.add("%s: InstanceId %q is not in Instances", where, n.InstanceId)
			return status, false
		case c.vswitches[in.vsw].vpcID != v.vpcID:
			b.errs.add("%s: instance %s is in VPC %s, the ENI in %s", where, in.id, c.vswitches[in.vsw].vpcID, v.vpcID)
			return status, false
		case in.zone != v.zone:
			b.errs.add("%s: instance %s is in zone %s, the ENI in %s", where, in.id, in.zone, v.zone)
			return status, false
		}
	default:
		b.errs.add("%s: Status %q is not one of Available, Attaching, InUse, Detaching, Deleting", where, n.Status)
		return status, false
	}
	return status, true
}

// checkDeviceIndex checks and claims an explicit device index.
func (b *builder) checkDeviceIndex(where string, n NetworkInterface) bool {
	if n.DeviceIndex < 0 || (n.DeviceIndex > 0 && n.InstanceId == "") {
		b.errs.add("%s: DeviceIndex %d needs an InstanceId and must be ≥ 1", where, n.DeviceIndex)
		return false
	}
	if n.DeviceIndex == 0 {
		return true
	}
	taken := b.deviceIndex[n.InstanceId]
	if taken == nil {
		taken = map[int]bool{}
		b.deviceIndex[n.InstanceId] = taken
	}
	ok := !taken[n.DeviceIndex]
	if !ok {
		b.errs.add("%s: DeviceIndex %d is used twice on %s", where, n.DeviceIndex, n.InstanceId)
	}
	taken[n.DeviceIndex] = true
	return ok
}

// derive fills in what the world left out, in file order, and registers
// every ENI: IDs and MACs from the seed, primary addresses from the ENI's
// vSwitch, device indexes once every explicit one is known.
func (b *builder) derive() {
	c := b.c
	taken := func(id string) bool { _, ok := b.seen[id]; return ok }
	for _, p := range b.all {
		e := p.e
		v := c.vswitches[e.vsw]
		if e.id == "" {
			e.id = c.gen.id("eni-", "", taken)
			b.seen[e.id] = "derived"
		}
		if e.mac == "" {
			e.mac = c.gen.mac("", func(m string) bool { return c.macs[m] })
			c.macs[e.mac] = true
		}
		if p.autoIP {
			if v.free() < 1 {
				b.errs.add("ENI %s: vSwitch %s has no free address left for its primary address", e.id, v.id)
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
		vs := VSwitch{VSwitchId: v.id, VSwitchName: v.name, VpcId: v.vpcID, ZoneId: v.zone, CidrBlock: v.cidr.String()}
		if v.ipv6.IsValid() {
			vs.Ipv6CidrBlock = v.ipv6.String()
		}
		w.VSwitches = append(w.VSwitches, vs)
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
			Ipv6Addresses: addrStrings(p.ipv6), Ipv4Prefixes: prefixStringsOrNil(p.prefixes),
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
			Tags: slices.Clone(e.tags), Ipv6Addresses: addrStrings(e.ipv6), Ipv4Prefixes: prefixStringsOrNil(e.prefixes),
			NetworkCardIndex: e.networkCard, QueueNumber: e.queues})
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
