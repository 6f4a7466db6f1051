package plan

import "github.com/ecsnet/ecsnet/schema"

// Slots: ecsnet's own numbering of the secondary ENIs of an instance.
//
// The host configuration needs a number per secondary ENI: its route
// table and rule priority are 1000 + the number, and the files of the
// stacks that name interfaces call it eth<number>. The cloud's
// Attachment.DeviceIndex cannot be that number: the API reference marks
// Attachment (and DeviceIndex in DescribeNetworkInterfaceAttribute) as an
// invitational preview, unavailable to general users
// (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describenetworkinterfaces),
// so most accounts never see it. ecsnet therefore decides the number
// itself, records it in the lock (the JSON key stays "device_index", so
// locks written by earlier releases, which recorded the cloud's index,
// keep their numbers and render the same bytes), and never reads the
// cloud's index for anything.
//
// The rules:
//   - an ENI attached by apply, or found attached by Reconcile (adopted,
//     attached by hand, or a lock rebuilt from nothing), gets the slot it
//     had before if no other ENI the lock records on that instance holds
//     it, and otherwise the lowest free slot from 1. An ENI keeps its slot
//     in the lock while detached, and a replaced ENI (same name) inherits
//     it, so a re-attach, a failover to an instance where the slot is free
//     and a replacement keep their route table;
//   - a slot is unique among the ENIs the lock records on one instance.
//     ENIs ecsnet does not own are not counted: the kernel names the host
//     gives its interfaces may therefore differ from eth<slot>, and the
//     apply scripts find every interface by its MAC;
//   - apply decides the slots of a plan's attaches before it runs them, in
//     plan order, so the lock does not depend on which attach finishes
//     first; a slot freed by a detach in the same plan is not reused
//     before the next apply.

// maxSlot is the highest slot the renderers accept (render.checkNIC).
const maxSlot = 99

// usedSlots returns the slots of the ENIs the lock records as attached
// to instance, other than the ENI called except.
func usedSlots(lock *schema.Lock, instance, except string) map[int]bool {
	used := map[int]bool{}
	for _, e := range lock.ENIs {
		if e.Name != "" && e.Name != except && e.AttachedTo == instance && e.DeviceIndex >= 1 {
			used[e.DeviceIndex] = true
		}
	}
	return used
}

// freeSlot returns prev when it is a slot and not in used, and otherwise
// the lowest slot from 1 that is not.
func freeSlot(used map[int]bool, prev int) int {
	if prev >= 1 && prev <= maxSlot && !used[prev] {
		return prev
	}
	s := 1
	for used[s] {
		s++
	}
	return s
}

// attachSlots decides the slot of every attach step of p, in plan order,
// from the lock as it is before the apply.
func attachSlots(lock *schema.Lock, p *Plan) map[string]int {
	slots := map[string]int{}
	taken := map[string]map[int]bool{} // instance -> slots given in this pass
	for _, s := range p.Steps {
		if s.Action != AttachENI || s.ENI == "" || s.Instance == "" {
			continue
		}
		used := usedSlots(lock, s.Instance, s.ENI)
		for x := range taken[s.Instance] {
			used[x] = true
		}
		prev := 0
		if e := lock.Secondary(s.ENI); e != nil {
			prev = e.DeviceIndex
		}
		slot := freeSlot(used, prev)
		slots[s.ID] = slot
		if taken[s.Instance] == nil {
			taken[s.Instance] = map[int]bool{}
		}
		taken[s.Instance][slot] = true
	}
	return slots
}

// settleSlots gives a slot to every secondary ENI the lock records as
// attached that has none, whose attachment Reconcile just found changed
// (moved, in need), or whose slot another ENI on the same instance holds.
// Within an instance the ENIs are taken in name order, those that keep
// their slot first, so the outcome depends only on the lock.
func settleSlots(lock *schema.Lock, moved map[string]bool) {
	byInstance := map[string][]*schema.LockedENI{}
	for _, e := range lock.ENIs { // sorted by key: by name within the secondaries
		if e.Name != "" && e.AttachedTo != "" {
			byInstance[e.AttachedTo] = append(byInstance[e.AttachedTo], e)
		}
	}
	for _, list := range byInstance {
		used := map[int]bool{}
		var todo []*schema.LockedENI
		for _, e := range list {
			if moved[e.Name] || e.DeviceIndex < 1 || e.DeviceIndex > maxSlot || used[e.DeviceIndex] {
				todo = append(todo, e)
				continue
			}
			used[e.DeviceIndex] = true
		}
		for _, e := range todo {
			e.DeviceIndex = freeSlot(used, e.DeviceIndex)
			used[e.DeviceIndex] = true
		}
	}
}
