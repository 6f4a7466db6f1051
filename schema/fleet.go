package schema

import (
	"net/netip"
	"slices"
	"strings"
)

// Fleet is one desired state: the instances ecsnet manages, the secondary
// ENIs it owns, and the addresses each of them should carry. Every slice is
// sorted by name; look-ups by name go through the methods.
type Fleet struct {
	Name           string // tag-safe; ecsnet tags what it creates with it
	Region         string
	VSwitches      []*VSwitch
	SecurityGroups []*SecurityGroup
	Instances      []*Instance
	ENIs           []*ENI
	Limits         Limits
	Files          []string // the input files, as named by the caller
	RegionPos      Pos

	vswitches map[string]*VSwitch
	groups    map[string]*SecurityGroup
	instances map[string]*Instance
	enis      map[string]*ENI
	bound     map[string][]*ENI // instance name -> ENIs attached to it, by name
	// misspelt holds the paths of fields written under a near-miss name
	// (see decoder.misspelt); references into them are not checked.
	misspelt map[string]bool
}

// VSwitch names a vSwitch of the VPC by its ID, zone and IPv4 block.
type VSwitch struct {
	Name string
	ID   string
	Zone string
	CIDR netip.Prefix
	// IPv6CIDR is the vSwitch's IPv6 block (DescribeVSwitches
	// Ipv6CidrBlock, a /64), or the zero Prefix when the vSwitch has none:
	// then no ENI in it may ask for IPv6 addresses.
	IPv6CIDR netip.Prefix

	Pos         Pos // where the vSwitch's name is written
	IDPos       Pos
	ZonePos     Pos
	CIDRPos     Pos
	IPv6CIDRPos Pos
}

// SecurityGroup names a security group by its ID.
type SecurityGroup struct {
	Name  string
	ID    string
	Pos   Pos
	IDPos Pos
}

// Address is an IPv4 address and where the user wrote it.
type Address struct {
	Addr netip.Addr
	Pos  Pos
}

// Secondaries is how many secondary private addresses an ENI should carry:
// either pinned addresses (manual assignment) or a count the cloud fills
// (auto assignment), never both.
type Secondaries struct {
	Pinned   []Address // secondaryIps, in the order written
	Count    int       // secondaryIpCount, when Counted
	Counted  bool
	CountPos Pos
}

// IPv6 is the IPv6 addresses an ENI should carry: pinned (ipv6Ips) or a
// count the cloud fills (ipv6IpCount), never both. The zero value wants
// none.
type IPv6 struct {
	Pinned   []Address // ipv6Ips, in the order written
	Count    int       // ipv6IpCount, when Counted
	Counted  bool
	CountPos Pos
}

// N returns the number of IPv6 addresses wanted.
func (v IPv6) N() int {
	if v.Counted {
		return v.Count
	}
	return len(v.Pinned)
}

// PinnedAddrs returns the pinned IPv6 addresses without their positions.
func (v IPv6) PinnedAddrs() []netip.Addr {
	out := make([]netip.Addr, len(v.Pinned))
	for i, a := range v.Pinned {
		out[i] = a.Addr
	}
	return out
}

// PrefixAt is an IPv4 prefix and where the user wrote it.
type PrefixAt struct {
	Prefix netip.Prefix
	Pos    Pos
}

// Prefixes is the /28 IPv4 prefixes an ENI should carry (prefix mode):
// pinned (ipv4Prefixes) or a count the cloud fills (ipv4PrefixCount),
// never both. OnHost (ipv4PrefixesOnHost) asks the host renderers to make
// the host answer for them; by default the prefixes are left to whatever
// consumes them (a CNI routes them itself).
type Prefixes struct {
	Pinned    []PrefixAt // ipv4Prefixes, in the order written
	Count     int        // ipv4PrefixCount, when Counted
	Counted   bool
	CountPos  Pos
	OnHost    bool
	OnHostPos Pos
}

// N returns the number of prefixes wanted.
func (p Prefixes) N() int {
	if p.Counted {
		return p.Count
	}
	return len(p.Pinned)
}

// PinnedPrefixes returns the pinned prefixes without their positions.
func (p Prefixes) PinnedPrefixes() []netip.Prefix {
	out := make([]netip.Prefix, len(p.Pinned))
	for i, x := range p.Pinned {
		out[i] = x.Prefix
	}
	return out
}

// N returns the number of secondary addresses wanted.
func (s Secondaries) N() int {
	if s.Counted {
		return s.Count
	}
	return len(s.Pinned)
}

// PinnedAddrs returns the pinned addresses without their positions.
func (s Secondaries) PinnedAddrs() []netip.Addr {
	out := make([]netip.Addr, len(s.Pinned))
	for i, a := range s.Pinned {
		out[i] = a.Addr
	}
	return out
}

// Instance is an existing ECS instance whose primary ENI's secondary
// addresses ecsnet manages. ecsnet never creates, stops or deletes instances.
type Instance struct {
	Name    string
	ID      string
	Type    string
	OS      OS
	Network Stack // the OS's default stack unless the file overrides it
	Primary PrimaryENI

	Pos     Pos // where the instance's name is written
	IDPos   Pos
	TypePos Pos
	OSPos   Pos
}

// PrimaryENI is the instance's primary network interface. Its primary address
// belongs to the instance (DHCP and cloud-init own it on the host); ecsnet
// manages only its secondary addresses.
type PrimaryENI struct {
	VSwitch        string
	IP             netip.Addr
	SecurityGroups []string // optional; counted towards each group's address quota
	Secondaries
	IPv6     IPv6     // ipv6Ips / ipv6IpCount
	Prefixes Prefixes // ipv4Prefixes / ipv4PrefixCount / ipv4PrefixesOnHost

	Pos        Pos
	IPPos      Pos
	VSwitchPos Pos
	GroupPos   []Pos // one per SecurityGroups entry
}

// ENI is a secondary elastic network interface that ecsnet creates (or has
// adopted), owns, binds, moves and deletes.
type ENI struct {
	Name           string
	ID             string // set only for an adopted ENI (ecsnet import); ecsnet finds its own by tag
	VSwitch        string
	SecurityGroups []string
	Description    string     // free text: never reaches a script unquoted
	PrimaryIP      netip.Addr // zero: the cloud picks
	AttachTo       string     // instance name; empty: unbound (Available)
	Secondaries
	IPv6     IPv6     // ipv6Ips / ipv6IpCount
	Prefixes Prefixes // ipv4Prefixes / ipv4PrefixCount / ipv4PrefixesOnHost
	// NetworkCard is the network card the ENI attaches to
	// (AttachNetworkInterface NetworkCardIndex); 0 unless the file says.
	// Only types with several cards (NetworkCardQuantity > 1) take another.
	NetworkCard    int
	NetworkCardSet bool
	// Queues is the ENI's queue number (QueueNumber on
	// CreateNetworkInterface and ModifyNetworkInterfaceAttribute); 0: the
	// cloud's default for the instance type.
	Queues int

	Pos            Pos
	IDPos          Pos
	PrimaryIPPos   Pos
	AttachToPos    Pos
	VSwitchPos     Pos
	GroupPos       []Pos // one per SecurityGroups entry
	NetworkCardPos Pos
	QueuesPos      Pos
}

// Bound reports whether the ENI should be attached to an instance.
func (e *ENI) Bound() bool { return e.AttachTo != "" }

// VSwitch returns the vSwitch called name, or nil.
func (f *Fleet) VSwitch(name string) *VSwitch { return f.vswitches[name] }

// SecurityGroup returns the security group called name, or nil.
func (f *Fleet) SecurityGroup(name string) *SecurityGroup { return f.groups[name] }

// Instance returns the instance called name, or nil.
func (f *Fleet) Instance(name string) *Instance { return f.instances[name] }

// ENI returns the secondary ENI called name, or nil.
func (f *Fleet) ENI(name string) *ENI { return f.enis[name] }

// AttachedTo returns the ENIs that should be attached to the named instance,
// sorted by name.
func (f *Fleet) AttachedTo(instance string) []*ENI { return f.bound[instance] }

// Zone returns the zone of the instance: that of its primary vSwitch.
func (f *Fleet) Zone(in *Instance) string {
	if v := f.vswitches[in.Primary.VSwitch]; v != nil {
		return v.Zone
	}
	return ""
}

// InstanceType returns the limits that apply to an instance type: the
// file's limits.instanceTypes entry if there is one, else the built-in row.
func (f *Fleet) InstanceType(name string) (InstanceType, bool) {
	if t, ok := f.Limits.InstanceTypes[name]; ok {
		return t, true
	}
	return BuiltinInstanceType(name)
}

// index builds the name look-ups and sorts every list. Load calls it once;
// after that the Fleet is read-only.
func (f *Fleet) index() {
	byName := func(a, b string) int { return strings.Compare(a, b) }
	slices.SortFunc(f.VSwitches, func(a, b *VSwitch) int { return byName(a.Name, b.Name) })
	slices.SortFunc(f.SecurityGroups, func(a, b *SecurityGroup) int { return byName(a.Name, b.Name) })
	slices.SortFunc(f.Instances, func(a, b *Instance) int { return byName(a.Name, b.Name) })
	slices.SortFunc(f.ENIs, func(a, b *ENI) int { return byName(a.Name, b.Name) })
	f.vswitches = make(map[string]*VSwitch, len(f.VSwitches))
	for _, v := range f.VSwitches {
		f.vswitches[v.Name] = v
	}
	f.groups = make(map[string]*SecurityGroup, len(f.SecurityGroups))
	for _, g := range f.SecurityGroups {
		f.groups[g.Name] = g
	}
	f.instances = make(map[string]*Instance, len(f.Instances))
	for _, in := range f.Instances {
		f.instances[in.Name] = in
	}
	f.enis = make(map[string]*ENI, len(f.ENIs))
	f.bound = make(map[string][]*ENI)
	for _, e := range f.ENIs {
		f.enis[e.Name] = e
		if e.AttachTo != "" {
			f.bound[e.AttachTo] = append(f.bound[e.AttachTo], e)
		}
	}
}

// Limits are the quotas the checks enforce. The defaults are the figures of
// the ECS documentation; a file may raise or lower them where the account
// differs.
type Limits struct {
	// UnboundENIMaxSecondaryIPs caps the secondary addresses of an ENI that
	// is not attached (state Available): 49 by the current API reference
	// (AssignPrivateIpAddresses and CreateNetworkInterface); the 2021
	// documentation and user guide said 10, and a file for an account that
	// still has that cap says so (limits.unboundEniMaxSecondaryIps: 10).
	UnboundENIMaxSecondaryIPs int
	// SecurityGroupMaxIPs caps the private addresses of all ENIs in one
	// basic security group (2,000).
	SecurityGroupMaxIPs int
	// InstanceTypes overrides or adds rows of the built-in type table.
	InstanceTypes map[string]InstanceType

	// broken names limits.instanceTypes rows that failed to decode, so the
	// checks do not also call those types unknown.
	broken map[string]bool
	// ipv6Pos is where each limits.instanceTypes row writes
	// maxIpv6PerEni, for a hint that names the user's own figure.
	ipv6Pos map[string]Pos
}

// Default limits, from the current ECS API reference (ecs-api.md §4):
// "up to 49 secondary private IP addresses" on an ENI in the Available
// state
// (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-assignprivateipaddresses,
// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-createnetworkinterface).
// The emulator's default (emulator.DefaultUnboundEniMaxSecondaryIps) is
// the same.
const (
	DefaultUnboundENIMaxSecondaryIPs = 49
	DefaultSecurityGroupMaxIPs       = 2000
)
