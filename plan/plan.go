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
)

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
	return []Action{UnassignIPs, DetachENI, DeleteENI, CreateENI, ModifyENI, AttachENI, AssignIPs, HostRemove, HostApply}
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
	// IPs are the addresses to assign (pinned) or unassign; for a host
	// step, the addresses that leave or join the host.
	IPs []netip.Addr
	// Count is how many addresses the cloud picks (assign by count).
	Count int
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
	Name             string
	Description      string
	Tags             map[string]string
}

// ModifySpec holds the changes of ModifyNetworkInterfaceAttribute; nil
// fields stay as they are.
type ModifySpec struct {
	SecurityGroupIDs []string
	Name             *string
	Description      *string
	// The Old fields hold the observed values of the fields that change,
	// so a reviewer sees both sides; nil beside an unchanged field. The
	// executor never reads them.
	OldSecurityGroupIDs []string
	OldName             *string
	OldDescription      *string
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
	IPs    []netip.Addr
	Pruned bool
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Steps) == 0 }
