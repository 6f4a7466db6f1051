package plan

import "net/netip"

// Action is what one step does: to the cloud, or, for the host actions,
// to an instance's network configuration through Cloud Assistant.
type Action int

// The actions, in the order a plan lists steps of equal depth.
const (
	UnassignIPs Action = iota + 1
	DetachENI
	DeleteENI
	CreateENI
	ModifyENI
	AttachENI
	AssignIPs
	// HostRemove reconfigures an instance before the cloud unassigns an
	// address from it or detaches an ENI, so that the host never keeps
	// using an address the cloud no longer routes to it (hosts.go).
	HostRemove
	// HostApply delivers an instance's configuration after the cloud
	// assigned it addresses or attached an ENI.
	HostApply
	// UnassignIPv6 and AssignIPv6 remove and add an ENI's IPv6 addresses
	// (UnassignIpv6Addresses, AssignIpv6Addresses): IPs pinned, or Count
	// for the cloud to pick. UnassignPrefixes and AssignPrefixes remove and
	// add its /28 IPv4 prefixes (Ipv4Prefix.N / Ipv4PrefixCount of
	// UnassignPrivateIpAddresses and AssignPrivateIpAddresses): Prefixes
	// pinned, or Count, in calls of at most ten (Step.Calls). They come
	// after the host actions so that the values of the older actions, and
	// so saved plans, stay as they were; order ranks them with the other
	// unassigns and assigns (rank).
	UnassignIPv6
	UnassignPrefixes
	AssignIPv6
	AssignPrefixes
)

// PrefixesPerCall is the most IPv4 prefixes one call assigns or
// unassigns (Ipv4Prefix.N and Ipv4PrefixCount: 1 to 10, ecs-api.md §9;
// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-assignprivateipaddresses).
const PrefixesPerCall = 10

// Calls returns how many API calls the step makes when none is retried:
// a prefix step splits its prefixes (or its count) into calls of at most
// PrefixesPerCall; every other cloud step makes one call (plus the reads
// that wait for an asynchronous result); a host step none.
func (s *Step) Calls() int {
	switch {
	case s.Action.Host():
		return 0
	case s.Action == AssignPrefixes || s.Action == UnassignPrefixes:
		n := len(s.Prefixes) + s.Count
		return max(1, (n+PrefixesPerCall-1)/PrefixesPerCall)
	}
	return 1
}

// rank is the action's place among steps of equal depth: removals before
// additions, the IPv6 and prefix actions beside the IPv4 ones.
func (a Action) rank() int {
	switch a {
	case UnassignIPs, UnassignIPv6, UnassignPrefixes:
		return 1
	case DetachENI:
		return 2
	case DeleteENI:
		return 3
	case CreateENI:
		return 4
	case ModifyENI:
		return 5
	case AttachENI:
		return 6
	case AssignIPs, AssignIPv6, AssignPrefixes:
		return 7
	case HostRemove:
		return 8
	case HostApply:
		return 9
	}
	return 10
}

// Assigns reports whether the action adds addresses or prefixes to an
// ENI; Unassigns whether it takes them away.
func (a Action) Assigns() bool { return a == AssignIPs || a == AssignIPv6 || a == AssignPrefixes }
func (a Action) Unassigns() bool {
	return a == UnassignIPs || a == UnassignIPv6 || a == UnassignPrefixes
}

// String returns the action's stable name, as the JSON plan spells it.
func (a Action) String() string {
	switch a {
	case CreateENI:
		return "create"
	case AttachENI:
		return "attach"
	case DetachENI:
		return "detach"
	case DeleteENI:
		return "delete"
	case ModifyENI:
		return "modify"
	case AssignIPs:
		return "assign"
	case UnassignIPs:
		return "unassign"
	case HostRemove:
		return "host-remove"
	case HostApply:
		return "host-apply"
	case AssignIPv6:
		return "assign-ipv6"
	case UnassignIPv6:
		return "unassign-ipv6"
	case AssignPrefixes:
		return "assign-prefixes"
	case UnassignPrefixes:
		return "unassign-prefixes"
	}
	return "unknown"
}

// Destructive reports whether the step deletes an ENI, or detaches one on
// its way to deletion (its target is a removal, "eni/<name>@<id>", the
// form Compute gives a removed or replaced ENI). It depends on the action
// and the target only, never on the Destroys field a saved plan carries.
func (s *Step) Destructive() bool {
	return s.Action == DeleteENI || s.Action == DetachENI && s.Target.Removal()
}

// Host reports whether the action runs on a host rather than in the cloud.
func (a Action) Host() bool { return a == HostRemove || a == HostApply }

// Actions lists every action.
func Actions() []Action {
	return []Action{UnassignIPs, DetachENI, DeleteENI, CreateENI, ModifyENI, AttachENI, AssignIPs, HostRemove, HostApply,
		UnassignIPv6, UnassignPrefixes, AssignIPv6, AssignPrefixes}
}

// Tag keys ecsnet writes on the ENIs it creates. An ENI without the fleet
// tag is never modified or deleted.
const (
	TagFleet = "ecsnet:fleet"
	TagENI   = "ecsnet:eni"
)

// Step is one ECS call (and the wait for its asynchronous result), or
// one delivery to a host.
type Step struct {
	// ID is stable and unique in the plan, e.g. "attach eni/vip".
	ID     string
	Action Action
	// Target is what the step changes: a secondary ENI of the file, an
	// instance's primary ENI, an ENI being replaced or removed, or a host
	// (see Target).
	Target Target
	// ENI is the file's name of a secondary ENI; empty for a primary ENI.
	ENI string
	// ENIID is the cloud's ID. It is empty for an ENI this plan creates;
	// the executor fills it in from the create step's result.
	ENIID string
	// Instance and InstanceID name the instance an attach or detach
	// targets, or the instance owning a primary ENI.
	Instance   string
	InstanceID string
	// IPs are the addresses to assign (pinned) or unassign, IPv4 or, for
	// the IPv6 actions, IPv6; for a host step, the addresses that leave or
	// join the host.
	IPs []netip.Addr
	// Prefixes are the /28 IPv4 prefixes a prefix step assigns (pinned) or
	// unassigns.
	Prefixes []netip.Prefix
	// Count is how many addresses (or, for AssignPrefixes, prefixes) the
	// cloud picks (assign by count).
	Count int
	// NetworkCard is the card an attach puts the ENI on
	// (AttachNetworkInterface NetworkCardIndex); 0 sends none.
	NetworkCard int
	// Create and Modify carry the parameters of those actions.
	Create *CreateSpec
	Modify *ModifySpec
	// Token is the ClientToken, for the actions whose API takes one
	// (create, assign). It is derived from the fleet, the step, its content
	// and the ENI's generation in the lock.
	Token string
	// DependsOn lists the IDs of steps that must finish first.
	DependsOn []string
	// Destroys is set on steps that delete an ENI (removal or replacement);
	// apply runs them only with --allow-destroy. It is for the views:
	// Apply and ReadJSON use Destructive, which derives it from the action
	// and the target, so that a saved plan cannot claim a delete is not
	// one.
	Destroys bool
	// Reason says why the step exists. It is for humans only: the executor
	// never branches on it.
	Reason string
	// Drift marks a step that only undoes a change made outside ecsnet:
	// the cloud differs from what the lock records ecsnet made it (an
	// address unassigned, an ENI detached or deleted by hand) while the
	// desired state asks for what the lock records. Like Reason it is for
	// humans only.
	Drift bool
}

// CreateSpec holds the parameters of CreateNetworkInterface.
type CreateSpec struct {
	VSwitchID        string
	SecurityGroupIDs []string
	PrimaryIP        netip.Addr   // zero: the cloud picks
	IPs              []netip.Addr // pinned secondary addresses assigned at creation
	Count            int          // or: secondary addresses the cloud picks at creation
	// IPv6 addresses and /28 IPv4 prefixes at creation: pinned, or a
	// count for the cloud to pick (Ipv6Address.N / Ipv6AddressCount,
	// Ipv4Prefix.N / Ipv4PrefixCount). Prefixes are never asked for beside
	// secondary IPv4 addresses in one create: those ENIs get them from an
	// assign-prefixes step.
	IPv6        []netip.Addr
	IPv6Count   int
	Prefixes    []netip.Prefix
	PrefixCount int
	// QueueNumber is the ENI's queue number; 0 leaves the type's default.
	QueueNumber int
	Name        string
	Description string
	Tags        map[string]string
}

// ModifySpec holds the changes of ModifyNetworkInterfaceAttribute; nil
// fields stay as they are.
type ModifySpec struct {
	SecurityGroupIDs []string
	Name             *string
	Description      *string
	// QueueNumber changes the ENI's queues. The API takes it only while
	// the ENI is Available or its instance is Stopped
	// (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifynetworkinterfaceattribute).
	QueueNumber *int
	// The Old fields hold the observed values of the fields that change,
	// so a reviewer sees both sides; nil beside an unchanged field. The
	// executor never reads them.
	OldSecurityGroupIDs []string
	OldName             *string
	OldDescription      *string
	OldQueueNumber      *int
}

// Plan is the ordered list of steps that takes the cloud from what was
// observed to the desired state, plus what the plan deliberately leaves
// alone.
type Plan struct {
	Fleet  string
	Region string
	// Steps in dependency order; ties broken by action and target, so the
	// same inputs give the same plan.
	Steps []*Step
	// Unmanaged lists ENIs in the fleet's VPCs without ecsnet's tags. They
	// are never modified or deleted.
	Unmanaged []Unmanaged
	// Unrecorded lists addresses on managed ENIs that the lock does not
	// record (added by hand). They stay unless the plan was made with
	// Prune, in which case the steps remove them and Pruned is set.
	Unrecorded []Unrecorded
	// Notes are remarks for the reviewer, such as live quotas that differ
	// from ecsnet's table.
	Notes []string
	// Fingerprint is a digest of the observed resources the plan touches;
	// apply refuses a saved plan whose fingerprint no longer matches.
	Fingerprint string
	// Touched counts the observed resources the fingerprint covers, and
	// TouchedDigest digests their IDs. A saved plan holds these, not the
	// IDs: apply recomputes the set from the desired state, the lock and
	// the cloud, so the file cannot name what apply checks, and its size
	// follows the change rather than the fleet (issue 18). The digest only
	// tells a stale plan's two refusals apart (see CheckSaved).
	Touched       int
	TouchedDigest string
}

// Unmanaged is an ENI ecsnet does not own.
type Unmanaged struct {
	ID         string
	Name       string
	InstanceID string
	IPs        []netip.Addr
}

// Unrecorded is a set of addresses found on a managed ENI but not in the
// lock.
type Unrecorded struct {
	Target Target
	ENIID  string
	IPs    []netip.Addr // IPv4 and IPv6
	// Prefixes are the unrecorded IPv4 prefixes.
	Prefixes []netip.Prefix
	Pruned   bool
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Steps) == 0 }
