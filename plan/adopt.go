package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ecsnet/ecsnet/schema"
)

// Adoption is what Adopt decides: the lock entry, the desired-state entry,
// and whether the ENI carries ecsnet's tags already (a repeated import).
type Adoption struct {
	Locked   *schema.LockedENI
	Entry    schema.ImportedENI
	Tagged   bool
	Warnings []string
	fleet    string
}

// Record puts the adopted ENI into the lock of its fleet. An attached ENI
// gets its slot there as one that apply attaches would (slot.go): the one
// the name had, if free on the instance, else the lowest free one.
func (a *Adoption) Record(lock *schema.Lock) {
	prev := 0
	if old := lock.Secondary(a.Locked.Name); old != nil {
		// A name used before keeps its generation, so no ClientToken of
		// the old ENI is ever sent for this one. It saturates, as apply's
		// does: ReadLock refuses a generation above schema.MaxGeneration.
		a.Locked.Generation = min(old.Generation+1, schema.MaxGeneration)
		prev = old.DeviceIndex
	}
	if a.Locked.AttachedTo != "" {
		a.Locked.DeviceIndex = freeSlot(usedSlots(lock, a.Locked.AttachedTo, a.Locked.Name), prev)
	}
	lock.Fleet = a.fleet
	lock.Put(a.Locked)
}

// CheckAdopt checks what the desired state f alone says of adopting the
// ENI id as name: the name is free and the ENI is not in f already.
func CheckAdopt(f *schema.Fleet, id, name string) error {
	if x := f.ENI(name); x != nil {
		return fmt.Errorf("the desired state already has an ENI called %q (%s); choose another --as", name, x.Pos)
	}
	for _, x := range f.ENIs {
		if x.ID == id {
			return fmt.Errorf("ENI %s is adopted already, as %q (%s)", id, x.Name, x.Pos)
		}
	}
	return nil
}

// Adopt checks that the ENI id of the observed cloud may join fleet f as
// name, and returns what adopting it means. It is pure: no I/O. The
// caller tags the ENI (unless Tagged) and records it with Record.
func Adopt(f *schema.Fleet, obs *Observed, id, name string) (*Adoption, error) {
	if err := CheckAdopt(f, id, name); err != nil {
		return nil, err
	}
	o, err := adoptable(f, obs, id, name)
	if err != nil {
		return nil, err
	}
	n, err := adoptedNames(f, obs, o)
	if err != nil {
		return nil, err
	}

	ad := &Adoption{fleet: f.Name, Tagged: o.Tags[TagFleet] == f.Name && o.Tags[TagENI] == name}
	ad.Locked = &schema.LockedENI{Name: name, ID: o.ID, MAC: strings.ToLower(o.MAC), PrimaryIP: o.PrimaryIP, Adopted: true}
	ad.Locked.AttachedTo = n.attachTo // its slot is decided by Record, against the lock
	for _, a := range o.SecondaryIPs {
		ad.Locked.Secondary = append(ad.Locked.Secondary, schema.LockedAddr{Addr: a})
	}
	// IPv6 addresses and prefixes are recorded as found, not Added, as
	// the secondary addresses are: ecsnet did not assign them, and without
	// them in the lock the next plan lists them as unrecorded.
	for _, a := range o.IPv6 {
		ad.Locked.IPv6 = append(ad.Locked.IPv6, schema.LockedAddr{Addr: a})
	}
	for _, p := range o.Prefixes {
		ad.Locked.Prefixes = append(ad.Locked.Prefixes, schema.LockedPrefix{Prefix: p})
	}
	ad.Entry = schema.ImportedENI{Name: name, ID: o.ID, VSwitch: n.vswitch, SecurityGroups: n.groups, Description: o.Description,
		PrimaryIP: o.PrimaryIP, SecondaryIPs: o.SecondaryIPs, IPv6: o.IPv6, Prefixes: o.Prefixes, AttachTo: n.attachTo}
	if n.attachTo != "" {
		// The card is known only where the cloud reports it; else 0,
		// which the plan reads as "as the lock says" (cardOf), and the
		// lock says 0 too. Without it, an ENI on card 1 would plan a
		// detach to attach it again on card 0. The queue number is left
		// out, as import --all leaves it: the cloud reports one for every
		// ENI, and a file without queues: never changes it.
		ad.Entry.NetworkCard = o.NetworkCard
		ad.Locked.NetworkCard = o.NetworkCard
	}
	if n.attachTo == "" && len(o.SecondaryIPs) > f.Limits.UnboundENIMaxSecondaryIPs {
		ad.Warnings = append(ad.Warnings, fmt.Sprintf("the ENI is unbound and holds %d secondary addresses; the file allows %d: add limits: unboundEniMaxSecondaryIps: %d",
			len(o.SecondaryIPs), f.Limits.UnboundENIMaxSecondaryIPs, len(o.SecondaryIPs)))
	}
	return ad, nil
}

// adoptable returns the observed ENI id, or why it cannot be adopted as
// name.
func adoptable(f *schema.Fleet, obs *Observed, id, name string) (*ObservedENI, error) {
	o := obs.ENI(id)
	if o == nil {
		var vpcs []string
		for _, v := range obs.VSwitches {
			vpcs = append(vpcs, v.VPC)
		}
		slices.Sort(vpcs)
		return nil, fmt.Errorf("ENI %s was not found in the fleet's VPCs (%s) in %s; check the ID and the region",
			id, strings.Join(slices.Compact(vpcs), ", "), f.Region)
	}
	switch {
	case o.Type == ENIPrimary:
		return nil, fmt.Errorf("ENI %s is the primary ENI of instance %s: ecsnet manages a primary ENI through its instance; add the instance to instances: instead (ecsnet import --all writes its entry)", id, o.InstanceID)
	case o.Tags[TagFleet] != "" && o.Tags[TagFleet] != f.Name:
		return nil, fmt.Errorf("ENI %s carries the tags of fleet %q (as %q): it belongs to that fleet's desired state", id, o.Tags[TagFleet], o.Tags[TagENI])
	case o.Tags[TagFleet] == f.Name && o.Tags[TagENI] != "" && o.Tags[TagENI] != name:
		return nil, fmt.Errorf("ENI %s carries this fleet's tags already, as %q; import it under that name", id, o.Tags[TagENI])
	case o.Status != ENIAvailable && o.Status != ENIInUse:
		return nil, fmt.Errorf("ENI %s is %s; import it once it is Available or InUse", id, o.Status)
	}
	for _, x := range obs.ENIs {
		if x.ID != id && x.Tags[TagFleet] == f.Name && x.Tags[TagENI] == name && x.Status != ENIDeleting {
			return nil, fmt.Errorf("ENI %s already carries the tags of %q in fleet %s; choose another --as", x.ID, name, f.Name)
		}
	}
	return o, nil
}

// adoptedRefs are the desired state's names for what an adopted ENI
// refers to.
type adoptedRefs struct {
	vswitch  string
	groups   []string // sorted
	attachTo string   // "" when unbound
}

// adoptedNames finds the desired state's names for o's vSwitch, security
// groups and instance: everything the entry refers to must be in the file
// under a name. The error lists what is missing and the entry to add.
func adoptedNames(f *schema.Fleet, obs *Observed, o *ObservedENI) (adoptedRefs, error) {
	var missing []string
	vswName := ""
	for _, v := range f.VSwitches {
		if v.ID == o.VSwitch {
			vswName = v.Name
		}
	}
	if vswName == "" {
		entry := fmt.Sprintf("%q: {id: %q}", o.VSwitch, o.VSwitch)
		if v := obs.VSwitch(o.VSwitch); v != nil {
			entry = fmt.Sprintf("%q: {id: %q, zone: %q, cidr: %q}", v.ID, v.ID, v.Zone, v.CIDR.String())
		}
		missing = append(missing, fmt.Sprintf("its vSwitch %s: add to vswitches:\n        %s", o.VSwitch, entry))
	}
	var groups []string
	for _, sg := range o.SecurityGroups {
		n := ""
		for _, g := range f.SecurityGroups {
			if g.ID == sg {
				n = g.Name
			}
		}
		if n == "" {
			missing = append(missing, fmt.Sprintf("its security group %s: add to securityGroups:\n        %q: {id: %q}", sg, sg, sg))
		}
		groups = append(groups, n)
	}
	attachTo := ""
	if o.InstanceID != "" {
		for _, in := range f.Instances {
			if in.ID == o.InstanceID {
				attachTo = in.Name
			}
		}
		if attachTo == "" {
			missing = append(missing, fmt.Sprintf("the instance it is attached to, %s: add it to instances (ecsnet import --all writes its entry); without attachTo the plan would detach the ENI", o.InstanceID))
		}
	}
	if len(missing) > 0 {
		return adoptedRefs{}, fmt.Errorf("cannot adopt %s: the desired state does not name\n  - %s\nthen run ecsnet import again", o.ID, strings.Join(missing, "\n  - "))
	}
	slices.Sort(groups)
	return adoptedRefs{vswitch: vswName, groups: groups, attachTo: attachTo}, nil
}
