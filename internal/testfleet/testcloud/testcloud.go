// Package testcloud builds the cloud that goes with a generated fleet
// (package testfleet), for benchmarks: the emulator world in which the
// fleet is bare (instances and vSwitches only, so an apply creates every
// ENI) or converged (every ENI and address in place, tagged as ecsnet tags
// what it creates), the observation ecs.Client.Observe returns for a world,
// and the lock an apply would leave.
//
// It is a test and bench helper, not product API. The observation is
// derived from the world without a server, so that a 20,000-instance
// snapshot costs well under a second to make; TestObservedMatchesEmulator
// proves it equal, byte for byte in snapshot form, to what Observe reads
// from the emulator for the same world.
package testcloud

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/internal/testfleet"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// VPCID is the one VPC every vSwitch of the world belongs to.
const VPCID = "vpc-bp1testfleet000000"

// State is how much of the fleet the world already holds.
type State int

const (
	// Bare: the instances (each with its primary ENI and primary address
	// only), the vSwitches and the security groups. An apply creates and
	// attaches every secondary ENI and assigns every secondary address.
	Bare State = iota
	// Converged: everything the fleet describes is in place, as an apply
	// would have left it. A plan against it is empty.
	Converged
)

// Fleet generates and loads a testfleet fleet of n instances (seed 1),
// the way `ecsnet validate` loads its JSON form.
func Fleet(n int) (*schema.Fleet, error) { return FleetOf(testfleet.Options{Instances: n, Seed: 1}) }

// FleetOf generates and loads the JSON form of a testfleet fleet (its
// Format is ignored).
func FleetOf(opts testfleet.Options) (*schema.Fleet, error) {
	opts.Format = "json"
	src := testfleet.Generate(opts)
	return schema.Load([]string{"-"}, schema.LoadOptions{Stdin: bytes.NewReader(src), StdinSyntax: "json", MaxInputBytes: int64(len(src)) + 1})
}

// PrimaryENIID, SecondaryENIID and MAC name the world's ENIs: instance i's
// primary ENI, its k-th secondary ENI in the order of f.ENIs (k from 1),
// and the MAC of ENI number n (primaries first, then secondaries).
func PrimaryENIID(i int) string   { return fmt.Sprintf("eni-bp1tfp%07d", i) }
func SecondaryENIID(j int) string { return fmt.Sprintf("eni-bp1tfs%07d", j) }
func MAC(n int) string            { return fmt.Sprintf("00:16:3e:%02x:%02x:%02x", n>>16&0xff, n>>8&0xff, n&0xff) }
func osType(in *schema.Instance) string {
	if in.OS.Windows() {
		return "windows"
	}
	return "linux"
}

// World returns the emulator world for f in state st. The account's ENI
// quota is raised to fit every secondary ENI of the fleet; the other quotas
// are the defaults (the fleet's shape fits them).
func World(f *schema.Fleet, st State) (*emulator.World, error) {
	if len(f.Instances) >= 1<<23 {
		return nil, fmt.Errorf("testcloud: %d instances: MACs would collide", len(f.Instances))
	}
	w := &emulator.World{
		RegionId: f.Region,
		Seed:     1,
		Quotas:   emulator.Quotas{MaxNetworkInterfaces: len(f.ENIs) + 100},
		Vpcs:     []emulator.Vpc{{VpcId: VPCID, CidrBlock: "10.0.0.0/8"}},
	}
	for _, v := range f.VSwitches {
		if !netip.MustParsePrefix("10.0.0.0/8").Contains(v.CIDR.Addr()) {
			return nil, fmt.Errorf("testcloud: vSwitch %s (%s) is outside 10.0.0.0/8", v.Name, v.CIDR)
		}
		wv := emulator.VSwitch{VSwitchId: v.ID, VpcId: VPCID, ZoneId: v.Zone, CidrBlock: v.CIDR.String()}
		if v.IPv6CIDR.IsValid() {
			wv.Ipv6CidrBlock = v.IPv6CIDR.String()
		}
		w.VSwitches = append(w.VSwitches, wv)
	}
	// The file's own type rows (a DualStack fleet's IPv6 figure) are the
	// cloud's too, so that the emulator takes what the fleet asks for.
	for _, name := range slices.Sorted(maps.Keys(f.Limits.InstanceTypes)) {
		t := f.Limits.InstanceTypes[name]
		w.InstanceTypes = append(w.InstanceTypes, emulator.InstanceType{InstanceTypeId: name, EniQuantity: t.MaxENIs,
			EniPrivateIpAddressQuantity: t.MaxIPsPerENI, AttachNeedsStopped: t.AttachNeedsStopped,
			EniIpv6AddressQuantity: t.MaxIPv6PerENI, NetworkCardQuantity: t.NetworkCards, MaximumQueueNumberPerEni: t.MaxQueuesPerENI})
	}
	picked := 0 // counted IPv6 addresses picked so far (converged)
	v6 := func(v6 schema.IPv6, vsw string) ([]string, error) {
		if !v6.Counted {
			return strs(v6.PinnedAddrs()), nil
		}
		// The cloud's picks, deterministic: interface identifiers from
		// 1<<32 up, far above testfleet's pinned ones.
		b := f.VSwitch(vsw).IPv6CIDR
		if !b.IsValid() {
			return nil, fmt.Errorf("testcloud: vSwitch %s has no IPv6 block", vsw)
		}
		out := make([]string, v6.Count)
		for k := range out {
			a := b.Addr().As16()
			n := uint64(1)<<32 + uint64(picked)
			picked++
			for j := range 8 {
				a[15-j] = byte(n >> (8 * j))
			}
			out[k] = netip.AddrFrom16(a).String()
		}
		return out, nil
	}
	prefixes := func(px schema.Prefixes, what string) ([]string, error) {
		if px.Counted {
			return nil, fmt.Errorf("testcloud: %s: a prefix count cannot be converged without the cloud picking", what)
		}
		out := make([]string, len(px.Pinned))
		for i, x := range px.Pinned {
			out[i] = x.Prefix.String()
		}
		return out, nil
	}
	for _, g := range f.SecurityGroups {
		w.SecurityGroups = append(w.SecurityGroups, emulator.SecurityGroup{SecurityGroupId: g.ID, VpcId: VPCID})
	}
	groups := func(names []string) ([]string, error) {
		out := make([]string, len(names))
		for i, n := range names {
			g := f.SecurityGroup(n)
			if g == nil {
				return nil, fmt.Errorf("testcloud: no security group %q", n)
			}
			out[i] = g.ID
		}
		return out, nil
	}
	index := make(map[string]int, len(f.Instances))
	for i, in := range f.Instances {
		index[in.Name] = i
		if in.Primary.Counted {
			return nil, fmt.Errorf("testcloud: instance %s: a count cannot be converged without the cloud picking", in.Name)
		}
		sgs, err := groups(in.Primary.SecurityGroups)
		if err != nil {
			return nil, err
		}
		if len(sgs) == 0 {
			sgs = []string{f.SecurityGroups[0].ID}
		}
		wi := emulator.Instance{
			InstanceId: in.ID, InstanceName: in.Name, InstanceType: in.Type, OSType: osType(in),
			VSwitchId: f.VSwitch(in.Primary.VSwitch).ID, PrivateIpAddress: in.Primary.IP.String(),
			NetworkInterfaceId: PrimaryENIID(i), MacAddress: MAC(i), SecurityGroupIds: sgs,
		}
		if st == Converged {
			wi.SecondaryPrivateIpAddresses = strs(in.Primary.PinnedAddrs())
			if wi.Ipv6Addresses, err = v6(in.Primary.IPv6, in.Primary.VSwitch); err != nil {
				return nil, err
			}
			if wi.Ipv4Prefixes, err = prefixes(in.Primary.Prefixes, in.Name); err != nil {
				return nil, err
			}
		}
		w.Instances = append(w.Instances, wi)
	}
	if st == Bare {
		return w, nil
	}
	devices := map[string]int{}
	for j, e := range f.ENIs {
		if e.Counted || !e.PrimaryIP.IsValid() {
			return nil, fmt.Errorf("testcloud: ENI %s: only pinned addresses can be converged", e.Name)
		}
		sgs, err := groups(e.SecurityGroups)
		if err != nil {
			return nil, err
		}
		ni := emulator.NetworkInterface{
			NetworkInterfaceId: SecondaryENIID(j + 1), NetworkInterfaceName: e.Name, Description: e.Description,
			VSwitchId: f.VSwitch(e.VSwitch).ID, SecurityGroupIds: sgs, PrivateIpAddress: e.PrimaryIP.String(),
			SecondaryPrivateIpAddresses: strs(e.PinnedAddrs()), MacAddress: MAC(len(f.Instances) + j),
			Tags: []emulator.Tag{{TagKey: plan.TagFleet, TagValue: f.Name}, {TagKey: plan.TagENI, TagValue: e.Name}},
		}
		if ni.Ipv6Addresses, err = v6(e.IPv6, e.VSwitch); err != nil {
			return nil, err
		}
		if ni.Ipv4Prefixes, err = prefixes(e.Prefixes, e.Name); err != nil {
			return nil, err
		}
		if e.Bound() {
			i, ok := index[e.AttachTo]
			if !ok {
				return nil, fmt.Errorf("testcloud: ENI %s: no instance %q", e.Name, e.AttachTo)
			}
			devices[e.AttachTo]++
			ni.InstanceId, ni.DeviceIndex, ni.Status = f.Instances[i].ID, devices[e.AttachTo], "InUse"
		}
		w.NetworkInterfaces = append(w.NetworkInterfaces, ni)
	}
	return w, nil
}

func strs(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

// Observed returns what ecs.Client.Observe reads from an emulator serving
// w for a fleet whose vSwitches are all in w's VPCs: every vSwitch of those
// VPCs with its free addresses, the quotas of the instance types in use,
// every instance and every ENI. w must be a world World returned (explicit
// IDs, MACs and addresses; no transitional states).
func Observed(w *emulator.World) (*plan.Observed, error) {
	o := &plan.Observed{Region: w.RegionId}
	type vsw struct {
		v    *plan.ObservedVSwitch
		used int
	}
	vsws := map[string]*vsw{}
	for _, v := range w.VSwitches {
		p, err := netip.ParsePrefix(v.CidrBlock)
		if err != nil {
			return nil, err
		}
		ov := &plan.ObservedVSwitch{ID: v.VSwitchId, VPC: v.VpcId, Zone: v.ZoneId, CIDR: p}
		if v.Ipv6CidrBlock != "" {
			if ov.IPv6CIDR, err = netip.ParsePrefix(v.Ipv6CidrBlock); err != nil {
				return nil, err
			}
		}
		vsws[v.VSwitchId] = &vsw{v: ov}
		o.VSwitches = append(o.VSwitches, ov)
	}
	addrs := func(ss []string) ([]netip.Addr, error) {
		if len(ss) == 0 {
			return nil, nil
		}
		out := make([]netip.Addr, len(ss))
		for i, s := range ss {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, err
			}
			out[i] = a
		}
		slices.SortFunc(out, netip.Addr.Compare)
		return out, nil
	}
	pfxs := func(ss []string) ([]netip.Prefix, error) {
		if len(ss) == 0 {
			return nil, nil
		}
		out := make([]netip.Prefix, len(ss))
		for i, s := range ss {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	}
	types := map[string]bool{}
	instances := map[string]*plan.ObservedInstance{}
	for _, in := range w.Instances {
		v := vsws[in.VSwitchId]
		if v == nil || in.NetworkInterfaceId == "" || in.MacAddress == "" || in.PrivateIpAddress == "" {
			return nil, fmt.Errorf("testcloud: instance %s: the world must name its vSwitch, primary ENI, MAC and address", in.InstanceId)
		}
		ip, err := netip.ParseAddr(in.PrivateIpAddress)
		if err != nil {
			return nil, err
		}
		sec, err := addrs(in.SecondaryPrivateIpAddresses)
		if err != nil {
			return nil, err
		}
		ip6, err := addrs(in.Ipv6Addresses)
		if err != nil {
			return nil, err
		}
		px, err := pfxs(in.Ipv4Prefixes)
		if err != nil {
			return nil, err
		}
		sgs := slices.Sorted(slices.Values(in.SecurityGroupIds))
		status := plan.InstanceStatus(in.Status)
		if status == "" {
			status = plan.InstanceRunning
		}
		oi := &plan.ObservedInstance{ID: in.InstanceId, Name: in.InstanceName, Type: in.InstanceType, Status: status,
			Zone: v.v.Zone, VPC: v.v.VPC, OSType: in.OSType, OSName: in.OSName, PrimaryENI: in.NetworkInterfaceId,
			MAC: in.MacAddress, PrimaryIP: ip, SecondaryIPs: sec, SecurityGroups: sgs, IPv6: ip6, Prefixes: px}
		instances[in.InstanceId] = oi
		o.Instances = append(o.Instances, oi)
		o.ENIs = append(o.ENIs, &plan.ObservedENI{ID: in.NetworkInterfaceId, Type: plan.ENIPrimary, Status: plan.ENIInUse,
			InstanceID: in.InstanceId, VSwitch: in.VSwitchId, Zone: v.v.Zone, VPC: v.v.VPC, MAC: in.MacAddress,
			PrimaryIP: ip, SecondaryIPs: slices.Clone(sec), SecurityGroups: slices.Clone(sgs),
			IPv6: slices.Clone(ip6), Prefixes: slices.Clone(px)})
		v.used += 1 + len(sec) + 16*len(px)
		types[in.InstanceType] = true
	}
	for _, n := range w.NetworkInterfaces {
		v := vsws[n.VSwitchId]
		if v == nil || n.NetworkInterfaceId == "" || n.MacAddress == "" || n.PrivateIpAddress == "" {
			return nil, fmt.Errorf("testcloud: ENI %s: the world must name its vSwitch, ID, MAC and address", n.NetworkInterfaceId)
		}
		ip, err := netip.ParseAddr(n.PrivateIpAddress)
		if err != nil {
			return nil, err
		}
		sec, err := addrs(n.SecondaryPrivateIpAddresses)
		if err != nil {
			return nil, err
		}
		ip6, err := addrs(n.Ipv6Addresses)
		if err != nil {
			return nil, err
		}
		px, err := pfxs(n.Ipv4Prefixes)
		if err != nil {
			return nil, err
		}
		status := plan.ENIStatus(n.Status)
		if status == "" {
			status = plan.ENIAvailable
			if n.InstanceId != "" {
				status = plan.ENIInUse
			}
		}
		var tags map[string]string
		if len(n.Tags) > 0 {
			tags = make(map[string]string, len(n.Tags))
			for _, t := range n.Tags {
				tags[t.TagKey] = t.TagValue
			}
		}
		e := &plan.ObservedENI{ID: n.NetworkInterfaceId, Name: n.NetworkInterfaceName, Description: n.Description,
			Type: plan.ENISecondary, Status: status, InstanceID: n.InstanceId, VSwitch: n.VSwitchId, Zone: v.v.Zone,
			VPC: v.v.VPC, MAC: n.MacAddress, PrimaryIP: ip, SecondaryIPs: sec,
			SecurityGroups: slices.Sorted(slices.Values(n.SecurityGroupIds)), Tags: tags, IPv6: ip6, Prefixes: px}
		if n.InstanceId != "" {
			if instances[n.InstanceId] == nil {
				return nil, fmt.Errorf("testcloud: ENI %s: no instance %s", n.NetworkInterfaceId, n.InstanceId)
			}
			// No DeviceIndex: Observe never reads the cloud's (a preview
			// field; plan/slot.go).
		}
		o.ENIs = append(o.ENIs, e)
		v.used += 1 + len(sec) + 16*len(px)
	}
	for _, v := range vsws {
		v.v.AvailableIPs = 1<<(32-v.v.CIDR.Bits()) - 4 - v.used
	}
	for name := range types {
		t, ok := schema.BuiltinInstanceType(name)
		// The world's own rows win, column by column, as in the emulator.
		for _, wt := range w.InstanceTypes {
			if wt.InstanceTypeId != name {
				continue
			}
			ok = true
			t.MaxENIs = cmp.Or(wt.EniQuantity, t.MaxENIs)
			t.MaxIPsPerENI = cmp.Or(wt.EniPrivateIpAddressQuantity, t.MaxIPsPerENI)
			t.MaxIPv6PerENI = cmp.Or(wt.EniIpv6AddressQuantity, t.MaxIPv6PerENI)
			t.NetworkCards = cmp.Or(wt.NetworkCardQuantity, t.NetworkCards)
			t.MaxQueuesPerENI = cmp.Or(wt.MaximumQueueNumberPerEni, t.MaxQueuesPerENI)
		}
		if !ok {
			return nil, fmt.Errorf("testcloud: instance type %s is not built in", name)
		}
		o.InstanceTypes = append(o.InstanceTypes, plan.TypeQuota{Name: name, MaxENIs: t.MaxENIs, MaxIPsPerENI: t.MaxIPsPerENI,
			MaxIPv6PerENI: t.MaxIPv6PerENI, NetworkCards: max(1, t.NetworkCards), MaxQueuesPerENI: t.MaxQueuesPerENI}) // the emulator reports at least one card
	}
	if err := o.Normalize(); err != nil {
		return nil, err
	}
	return o, nil
}

// Lock returns the lock an apply of f would leave for the observation: the
// lock Reconcile builds from nothing.
func Lock(f *schema.Fleet, obs *plan.Observed) *schema.Lock {
	l := &schema.Lock{}
	plan.Reconcile(l, f, obs)
	// Reconcile keeps only the pinned IPv6 addresses of an ENI it meets
	// for the first time; apply records the cloud's picks for a count as
	// it makes them, so the lock it leaves has them too.
	record := func(e *schema.LockedENI, v6 schema.IPv6, got []netip.Addr) {
		if e == nil || !v6.Counted || len(got) == 0 {
			return
		}
		c := *e
		c.IPv6 = make([]schema.LockedAddr, len(got))
		for i, a := range got {
			c.IPv6[i] = schema.LockedAddr{Addr: a, Added: true}
		}
		l.Put(&c)
	}
	for _, in := range f.Instances {
		if oi := obs.Instance(in.ID); oi != nil {
			record(l.Primary(in.Name), in.Primary.IPv6, oi.IPv6)
		}
	}
	for _, e := range f.ENIs {
		if le := l.Secondary(e.Name); le != nil {
			if oe := obs.ENI(le.ID); oe != nil {
				record(le, e.IPv6, oe.IPv6)
			}
		}
	}
	return l
}

// Snapshot returns the observation, world and lock of f in state st.
func Snapshot(f *schema.Fleet, st State) (*emulator.World, *plan.Observed, *schema.Lock, error) {
	w, err := World(f, st)
	if err != nil {
		return nil, nil, nil, err
	}
	o, err := Observed(w)
	if err != nil {
		return nil, nil, nil, err
	}
	return w, o, Lock(f, o), nil
}
