package plan

// APIAction returns the ECS API action a cloud step calls ("" for a host
// step): the prefix steps call AssignPrivateIpAddresses and
// UnassignPrivateIpAddresses with Ipv4Prefix.N / Ipv4PrefixCount, the
// IPv6 steps AssignIpv6Addresses and UnassignIpv6Addresses.
func (a Action) APIAction() string {
	switch a {
	case CreateENI:
		return "CreateNetworkInterface"
	case AttachENI:
		return "AttachNetworkInterface"
	case DetachENI:
		return "DetachNetworkInterface"
	case DeleteENI:
		return "DeleteNetworkInterface"
	case ModifyENI:
		return "ModifyNetworkInterfaceAttribute"
	case AssignIPs, AssignPrefixes:
		return "AssignPrivateIpAddresses"
	case UnassignIPs, UnassignPrefixes:
		return "UnassignPrivateIpAddresses"
	case AssignIPv6:
		return "AssignIpv6Addresses"
	case UnassignIPv6:
		return "UnassignIpv6Addresses"
	}
	return ""
}

// Calls is the call-count formula of a plan: how many calls of each
// mutating API action apply makes when none is retried, one per cloud
// step but ⌈n/10⌉ for a prefix step of n prefixes (Step.Calls). The
// reads that wait for an asynchronous attach, detach or delete, and
// apply's observations, are not counted.
func (p *Plan) Calls() map[string]int {
	m := map[string]int{}
	for _, s := range p.Steps {
		if name := s.Action.APIAction(); name != "" {
			m[name] += s.Calls()
		}
	}
	return m
}
