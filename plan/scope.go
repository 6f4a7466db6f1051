package plan

import (
	"errors"
	"fmt"
	"maps"

	"github.com/ecsnet/ecsnet/schema"
)

// ErrOutOfScope is returned by Apply, before any call, for a plan with a
// step that would change something that is not the fleet's: an ENI that
// is neither tagged for the fleet, nor adopted by id: in the desired
// state, nor the cloud-reported primary ENI of one of its instances; or an
// instance the desired state does not list. A plan Compute made never has
// one; a saved plan that was edited may.
var ErrOutOfScope = errors.New("the plan changes a resource that is not this fleet's")

// scope is what an apply of one fleet may change. It is built from the
// desired state and the cloud's own answers (its tags and its primary
// ENIs) only: never from the lock or a plan, which are files anyone with
// write access to a CI artefact or a repository can forge.
type scope struct {
	fleet     *schema.Fleet
	tagged    map[string]bool // ENIs the cloud reports tagged ecsnet:fleet=<fleet>, or created by this apply
	adopted   map[string]bool // ENIs the desired state names by id:
	primary   map[string]bool // the cloud's primary ENI of each instance of the desired state
	instances map[string]bool // instances of the desired state, by ID
}

func newScope(f *schema.Fleet, obs *Observed) *scope {
	sc := &scope{fleet: f, tagged: map[string]bool{}, adopted: map[string]bool{}, primary: map[string]bool{}, instances: map[string]bool{}}
	for _, e := range obs.ENIs {
		if e.Tags[TagFleet] == f.Name && e.Tags[TagENI] != "" && e.Type != ENIPrimary {
			sc.tagged[e.ID] = true
		}
	}
	for _, e := range f.ENIs {
		if e.ID != "" {
			sc.adopted[e.ID] = true
		}
	}
	for _, in := range f.Instances {
		sc.instances[in.ID] = true
		if oi := obs.Instance(in.ID); oi != nil && oi.PrimaryENI != "" {
			sc.primary[oi.PrimaryENI] = true
		}
	}
	return sc
}

// owns reports whether an ENI is the fleet's to change.
func (sc *scope) owns(eniID string) bool {
	return sc.tagged[eniID] || sc.adopted[eniID] || sc.primary[eniID]
}

// check returns an error wrapping ErrOutOfScope unless step s, run on the
// ENI eniID (s.ENIID, or the ID a create of this apply returned), stays
// within the fleet. It never looks at s.Destroys or s.Reason.
func (sc *scope) check(s *Step, eniID string) error {
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%w: step %q %s", ErrOutOfScope, s.ID, fmt.Sprintf(format, args...))
	}
	foreign := func(id string) error {
		return refuse("would change ENI %s, which is not tagged %s=%s, not adopted by id: in the desired state and not the primary ENI of one of its instances",
			id, TagFleet, sc.fleet.Name)
	}
	switch s.Action {
	case HostRemove, HostApply:
		if !sc.instances[s.InstanceID] {
			return refuse("would run a command on instance %q, which the desired state does not list", s.InstanceID)
		}
		return nil
	case CreateENI:
		want := map[string]string{TagFleet: sc.fleet.Name, TagENI: s.ENI}
		if s.Create == nil || sc.fleet.ENI(s.ENI) == nil || !maps.Equal(s.Create.Tags, want) {
			return refuse("would create an ENI that is not the desired state's ENI %q tagged %s=%s", s.ENI, TagFleet, sc.fleet.Name)
		}
		return nil
	}
	if eniID == "" {
		return refuse("names no ENI, and no create step of the plan makes one for %s", s.Target)
	}
	switch s.Action {
	case AssignIPs, UnassignIPs, AssignIPv6, UnassignIPv6, AssignPrefixes, UnassignPrefixes:
		if !sc.owns(eniID) {
			return foreign(eniID)
		}
	case AttachENI:
		if !sc.tagged[eniID] && !sc.adopted[eniID] {
			return foreign(eniID)
		}
		if !sc.instances[s.InstanceID] {
			return refuse("would attach ENI %s to instance %q, which the desired state does not list", eniID, s.InstanceID)
		}
	case DetachENI, ModifyENI:
		if !sc.tagged[eniID] && !sc.adopted[eniID] {
			return foreign(eniID)
		}
		if s.Destructive() && sc.adopted[eniID] {
			return refuse("would delete ENI %s, which the desired state adopts by id: (ecsnet deletes only ENIs it created)", eniID)
		}
	case DeleteENI:
		if !sc.tagged[eniID] || sc.adopted[eniID] {
			return refuse("would delete ENI %s, which ecsnet did not create for fleet %s (it is not tagged %s=%s, or the desired state adopts it by id:)",
				eniID, sc.fleet.Name, TagFleet, sc.fleet.Name)
		}
	default:
		return refuse("has an unknown action")
	}
	return nil
}

// checkPlan checks every step of p before anything runs. A step without
// an ENI ID must follow a create step of the same target, whose result
// it takes.
func (sc *scope) checkPlan(p *Plan) error {
	creates := map[Target]bool{}
	for _, s := range p.Steps {
		if s.Action == CreateENI {
			creates[s.Target] = true
		}
	}
	for _, s := range p.Steps {
		id := s.ENIID
		if id == "" && creates[s.Target] && s.Action != CreateENI {
			continue // checked when it runs, with the created ENI's ID
		}
		if err := sc.check(s, id); err != nil {
			return err
		}
	}
	return nil
}

// checkLock reports lock entries that name an ENI the cloud reports and
// that is not the fleet's: another fleet's (by its tags), or one that is
// untagged and not adopted by id:. render takes MACs from the lock, so
// such an entry would configure a host for someone else's interface; it
// can only come from a hand edit, a copy of another fleet's lock, or a
// forgery.
func (c *computer) checkLock() {
	sc := newScope(c.f, c.obs)
	for _, e := range c.lock.ENIs {
		if e.ID == "" || sc.owns(e.ID) {
			continue
		}
		o := c.obs.ENI(e.ID)
		if o == nil {
			continue // gone: the next apply forgets it
		}
		whose := fmt.Sprintf("it carries no %s tag and the desired state does not adopt it by id:", TagFleet)
		if other := o.Tags[TagFleet]; other != "" {
			whose = fmt.Sprintf("its tags say it belongs to fleet %q", other)
		}
		pos, path := schema.Pos{File: schema.LockFileName}, ""
		if e.Instance != "" {
			if in := c.f.Instance(e.Instance); in != nil {
				pos, path = in.Pos, fmt.Sprintf("instances.%q", in.Name)
			}
		} else if x := c.f.ENI(e.Name); x != nil {
			pos, path = x.Pos, fmt.Sprintf("enis.%q", x.Name)
		}
		c.errorf(pos, path, fmt.Sprintf("remove the entry %q from the lock file %s (or restore the lock from version control); the next apply records the fleet's own ENI again",
			e.Key(), schema.LockFileName),
			"the lock entry %q names ENI %s, which is not this fleet's: %s", e.Key(), e.ID, whose)
	}
}
