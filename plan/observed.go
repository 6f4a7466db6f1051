package plan

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// ENIStatus is the Status of an ENI as DescribeNetworkInterfaces reports it.
type ENIStatus string

// ENI statuses (ecs-api.md §3). Attach, detach and delete are asynchronous:
// the transitional statuses last until the cloud finishes the change.
const (
	ENICreating     ENIStatus = "Creating"
	ENIAvailable    ENIStatus = "Available" // not attached
	ENIAttaching    ENIStatus = "Attaching"
	ENIInUse        ENIStatus = "InUse" // attached
	ENIDetaching    ENIStatus = "Detaching"
	ENIDeleting     ENIStatus = "Deleting"
	ENICreateFailed ENIStatus = "CreateFailed"
)

// ENIType tells an instance's primary ENI from a secondary one.
type ENIType string

// ENI types. A primary ENI comes and goes with its instance; it can be
// neither detached nor deleted.
const (
	ENIPrimary   ENIType = "Primary"
	ENISecondary ENIType = "Secondary"
)

// InstanceStatus is the Status of an instance as DescribeInstances reports it.
type InstanceStatus string

// Instance statuses. Attaching an ENI and assigning addresses to a primary
// ENI need Running or Stopped.
const (
	InstancePending  InstanceStatus = "Pending"
	InstanceRunning  InstanceStatus = "Running"
	InstanceStarting InstanceStatus = "Starting"
	InstanceStopping InstanceStatus = "Stopping"
	InstanceStopped  InstanceStatus = "Stopped"
)

// Observed is the cloud as one observation saw it: the vSwitches of the VPCs
// in scope, the live quotas of the instance types in use, the fleet's
// instances and every ENI in those VPCs, ecsnet's or not.
//
// Every list is sorted by ID (types by name) and every address list
// numerically once Normalize has run; Observe and ReadSnapshot return
// normalised values. After that an Observed is read-only and may be shared
// across goroutines.
type Observed struct {
	Region        string
	VSwitches     []*ObservedVSwitch
	InstanceTypes []TypeQuota
	Instances     []*ObservedInstance
	ENIs          []*ObservedENI

	vswitches  map[string]*ObservedVSwitch
	types      map[string]TypeQuota
	instances  map[string]*ObservedInstance
	enis       map[string]*ObservedENI
	byInstance map[string][]*ObservedENI
}

// ObservedVSwitch is a vSwitch of a VPC in scope.
type ObservedVSwitch struct {
	ID           string
	VPC          string
	Zone         string
	CIDR         netip.Prefix
	IPv6CIDR     netip.Prefix // Ipv6CidrBlock; zero when the vSwitch has no IPv6 block
	AvailableIPs int          // AvailableIpAddressCount: free addresses left
}

// TypeQuota holds the live network quotas of one instance type, as
// DescribeInstanceTypes reports them.
type TypeQuota struct {
	Name string
	// MaxENIs is EniQuantity: ENIs per instance, the primary included.
	MaxENIs int
	// MaxIPsPerENI is EniPrivateIpAddressQuantity: private IPv4 addresses
	// per ENI, the ENI's primary address included.
	MaxIPsPerENI int
	// MaxIPv6PerENI is EniIpv6AddressQuantity, NetworkCards is
	// NetworkCardQuantity and MaxQueuesPerENI is MaximumQueueNumberPerEni
	// (0: not reported).
	MaxIPv6PerENI   int
	NetworkCards    int
	MaxQueuesPerENI int
}

// ObservedInstance is an instance of the fleet, with its primary ENI.
type ObservedInstance struct {
	ID     string
	Name   string
	Type   string
	Status InstanceStatus
	Zone   string
	VPC    string
	OSType string // "linux" or "windows"
	OSName string // the image's name, e.g. "Ubuntu 22.04 64 bit"

	// The primary ENI: its ID, MAC, primary address and secondary addresses.
	PrimaryENI   string
	MAC          string
	PrimaryIP    netip.Addr
	SecondaryIPs []netip.Addr
	IPv6         []netip.Addr   // the primary ENI's IPv6 addresses (Ipv6Sets)
	Prefixes     []netip.Prefix // the primary ENI's IPv4 prefixes (Ipv4PrefixSets)

	SecurityGroups []string
}

// ObservedENI is an ENI of a VPC in scope, primary or secondary.
type ObservedENI struct {
	ID           string
	Name         string
	Description  string
	Type         ENIType
	Status       ENIStatus
	InstanceID   string // "" when not attached
	DeviceIndex  int    // the cloud's, a preview field: ecs never fills it, nothing that reaches the lock reads it (slot.go); kept for snapshots
	VSwitch      string
	Zone         string
	VPC          string
	MAC          string
	PrimaryIP    netip.Addr
	SecondaryIPs []netip.Addr
	IPv6         []netip.Addr   // Ipv6Sets
	Prefixes     []netip.Prefix // Ipv4PrefixSets
	NetworkCard  int            // Attachment.NetworkCardIndex; 0 when not attached or not reported
	QueueNumber  int            // 0 when not reported

	SecurityGroups []string
	Tags           map[string]string
}

// Attached reports whether the ENI is bound to an instance, or on its way
// to or from one.
func (e *ObservedENI) Attached() bool { return e.InstanceID != "" }

// Normalize sorts every list (resources by ID, types by name, addresses
// numerically, security groups by ID), lower-cases MAC addresses, checks that
// IDs are present and unique and that addresses are valid, and indexes the
// result for the look-up methods. Call it once on an Observed built by hand,
// before sharing it.
func (o *Observed) Normalize() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	slices.SortFunc(o.VSwitches, func(a, b *ObservedVSwitch) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(o.InstanceTypes, func(a, b TypeQuota) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(o.Instances, func(a, b *ObservedInstance) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(o.ENIs, func(a, b *ObservedENI) int { return strings.Compare(a.ID, b.ID) })
	o.indexVSwitches(bad)
	o.indexTypes(bad)
	o.indexInstances(bad)
	o.indexENIs(bad)
	if len(errs) > 0 {
		return fmt.Errorf("observed state is inconsistent: %s", strings.Join(errs, "; "))
	}
	return nil
}

func (o *Observed) indexVSwitches(bad func(string, ...any)) {
	o.vswitches = make(map[string]*ObservedVSwitch, len(o.VSwitches))
	for i, v := range o.VSwitches {
		switch {
		case v == nil:
			bad("vswitches[%d] is empty", i)
			continue
		case v.ID == "":
			bad("vswitches[%d] has no ID", i)
		case o.vswitches[v.ID] != nil:
			bad("vSwitch %s is listed twice", v.ID)
		}
		if v.CIDR.IsValid() && v.CIDR != v.CIDR.Masked() {
			bad("vSwitch %s: CIDR %s has host bits set", v.ID, v.CIDR)
		}
		o.vswitches[v.ID] = v
	}
}

func (o *Observed) indexTypes(bad func(string, ...any)) {
	o.types = make(map[string]TypeQuota, len(o.InstanceTypes))
	for i, t := range o.InstanceTypes {
		if t.Name == "" {
			bad("instance_types[%d] has no name", i)
		} else if _, dup := o.types[t.Name]; dup {
			bad("instance type %s is listed twice", t.Name)
		}
		o.types[t.Name] = t
	}
}

func (o *Observed) indexInstances(bad func(string, ...any)) {
	o.instances = make(map[string]*ObservedInstance, len(o.Instances))
	for i, in := range o.Instances {
		switch {
		case in == nil:
			bad("instances[%d] is empty", i)
			continue
		case in.ID == "":
			bad("instances[%d] has no ID", i)
		case o.instances[in.ID] != nil:
			bad("instance %s is listed twice", in.ID)
		}
		in.MAC = strings.ToLower(in.MAC)
		sortAddrs(&in.SecondaryIPs, "instance "+in.ID, bad)
		slices.SortFunc(in.IPv6, netip.Addr.Compare)
		slices.SortFunc(in.Prefixes, comparePrefix)
		slices.Sort(in.SecurityGroups)
		o.instances[in.ID] = in
	}
}

func (o *Observed) indexENIs(bad func(string, ...any)) {
	o.enis = make(map[string]*ObservedENI, len(o.ENIs))
	o.byInstance = make(map[string][]*ObservedENI)
	for i, e := range o.ENIs {
		switch {
		case e == nil:
			bad("enis[%d] is empty", i)
			continue
		case e.ID == "":
			bad("enis[%d] has no ID", i)
		case o.enis[e.ID] != nil:
			bad("ENI %s is listed twice", e.ID)
		}
		e.MAC = strings.ToLower(e.MAC)
		sortAddrs(&e.SecondaryIPs, "ENI "+e.ID, bad)
		slices.SortFunc(e.IPv6, netip.Addr.Compare)
		slices.SortFunc(e.Prefixes, comparePrefix)
		slices.Sort(e.SecurityGroups)
		o.enis[e.ID] = e
		if e.InstanceID != "" {
			o.byInstance[e.InstanceID] = append(o.byInstance[e.InstanceID], e)
		}
	}
	for _, list := range o.byInstance {
		slices.SortFunc(list, func(a, b *ObservedENI) int {
			return cmp.Or(cmp.Compare(a.DeviceIndex, b.DeviceIndex), strings.Compare(a.ID, b.ID))
		})
	}
}

// sortAddrs sorts addresses numerically and reports invalid and repeated
// ones.
func sortAddrs(addrs *[]netip.Addr, owner string, bad func(string, ...any)) {
	s := *addrs
	slices.SortFunc(s, netip.Addr.Compare)
	for i, a := range s {
		if !a.IsValid() {
			bad("%s has an invalid secondary address", owner)
		} else if i > 0 && s[i-1] == a {
			bad("%s lists secondary address %s twice", owner, a)
		}
	}
}

// VSwitch returns the vSwitch with the given ID, or nil.
func (o *Observed) VSwitch(id string) *ObservedVSwitch {
	if o.vswitches == nil {
		for _, v := range o.VSwitches {
			if v.ID == id {
				return v
			}
		}
		return nil
	}
	return o.vswitches[id]
}

// InstanceType returns the live quotas of an instance type, if they were
// observed.
func (o *Observed) InstanceType(name string) (TypeQuota, bool) {
	if o.types == nil {
		for _, t := range o.InstanceTypes {
			if t.Name == name {
				return t, true
			}
		}
		return TypeQuota{}, false
	}
	t, ok := o.types[name]
	return t, ok
}

// Instance returns the instance with the given ID, or nil when the cloud
// does not have it.
func (o *Observed) Instance(id string) *ObservedInstance {
	if o.instances == nil {
		for _, in := range o.Instances {
			if in.ID == id {
				return in
			}
		}
		return nil
	}
	return o.instances[id]
}

// ENI returns the ENI with the given ID, or nil when it is not in the VPCs
// observed.
func (o *Observed) ENI(id string) *ObservedENI {
	if o.enis == nil {
		for _, e := range o.ENIs {
			if e.ID == id {
				return e
			}
		}
		return nil
	}
	return o.enis[id]
}

// ENIsOf returns the ENIs attached to an instance (or attaching to it, or
// detaching from it), its primary ENI included, ordered by device index.
// The caller must not modify the returned slice.
func (o *Observed) ENIsOf(instanceID string) []*ObservedENI {
	if o.byInstance == nil {
		var out []*ObservedENI
		for _, e := range o.ENIs {
			if e.InstanceID == instanceID {
				out = append(out, e)
			}
		}
		slices.SortFunc(out, func(a, b *ObservedENI) int {
			return cmp.Or(cmp.Compare(a.DeviceIndex, b.DeviceIndex), strings.Compare(a.ID, b.ID))
		})
		return out
	}
	return o.byInstance[instanceID]
}

// ENIsTagged returns the ENIs that carry the tag key=value, sorted by ID.
func (o *Observed) ENIsTagged(key, value string) []*ObservedENI {
	var out []*ObservedENI
	for _, e := range o.ENIs {
		if v, ok := e.Tags[key]; ok && v == value {
			out = append(out, e)
		}
	}
	return out
}
