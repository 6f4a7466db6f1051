package schema

import "sort"

// InstanceType holds the network quotas of one ECS instance type, as
// DescribeInstanceTypes reports them.
type InstanceType struct {
	Name string
	// MaxENIs is EniQuantity: ENIs per instance, the primary included.
	MaxENIs int
	// MaxIPsPerENI is EniPrivateIpAddressQuantity: private IPv4 addresses
	// per ENI, the ENI's primary address included.
	MaxIPsPerENI int
	// AttachNeedsStopped is set for types without NIC hot-plug: ENIs can be
	// attached or detached only while the instance is Stopped.
	AttachNeedsStopped bool
	// MaxIPv6PerENI is EniIpv6AddressQuantity: IPv6 addresses per ENI; 0
	// for a type without IPv6.
	MaxIPv6PerENI int
	// NetworkCards is NetworkCardQuantity: 0 or 1 for the usual single
	// card, more for types whose ENIs can attach to another card
	// (AttachNetworkInterface NetworkCardIndex).
	NetworkCards int
	// MaxQueuesPerENI is MaximumQueueNumberPerEni: the most queues one ENI
	// may have (QueueNumber); 0 when unknown, and then not checked.
	MaxQueuesPerENI int
}

// MaxSecondaryIPs returns how many secondary addresses one ENI may carry.
func (t InstanceType) MaxSecondaryIPs() int { return t.MaxIPsPerENI - 1 }

// BuiltinInstanceType returns the built-in row for an instance type.
func BuiltinInstanceType(name string) (InstanceType, bool) {
	i := sort.Search(len(builtinTypes), func(i int) bool { return builtinTypes[i].Name >= name })
	if i < len(builtinTypes) && builtinTypes[i].Name == name {
		return builtinTypes[i], true
	}
	return InstanceType{}, false
}

// BuiltinInstanceTypes returns a copy of the built-in table, sorted by name.
func BuiltinInstanceTypes() []InstanceType {
	return append([]InstanceType(nil), builtinTypes...)
}

func builtinNames() []string {
	out := make([]string, len(builtinTypes))
	for i, t := range builtinTypes {
		out[i] = t.Name
	}
	return out
}
