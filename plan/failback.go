package plan

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ecsnet/ecsnet/schema"
)

// TagFailover is the tag ecsnet failover writes on the ENI it moves, in
// ecsnet's namespace beside TagFleet and TagENI. Its value names the
// instance the ENI was moved to and when (FailoverTag). Until the desired
// state attaches the ENI there too, an apply that would move the ENI
// again fails (CheckFailback): the next merge of a desired state written
// before the incident cannot undo an emergency failover. The lock keeps a
// copy (schema.LockedFailover) for reviewers; the guard reads only the
// tag, which the cloud holds, so no file can lift it.
const TagFailover = "ecsnet:failover"

// Failover is a failover record: the tag on one of the fleet's ENIs.
type Failover struct {
	ENI        string    // the ENI's name in the desired state
	ENIID      string    // the cloud's ID
	To         string    // the instance's name when the failover was made
	ToID       string    // the instance's ID: what the guard compares
	At         time.Time // UTC
	Unreadable bool      // the tag's value is not FailoverTag's form (edited by hand)
}

// failoverValue is FailoverTag's form. A tag value may not contain
// "http://" or "https://" and is at most 128 characters: this is about 70.
var failoverValue = regexp.MustCompile(`^to=(i-[A-Za-z0-9]{1,40}) name=([a-z0-9-]{1,63}) at=(\S+)$`)

// FailoverTag returns the value of TagFailover for a failover to the
// instance in, at time at.
func FailoverTag(in *schema.Instance, at time.Time) string {
	return fmt.Sprintf("to=%s name=%s at=%s", in.ID, in.Name, at.UTC().Format(time.RFC3339))
}

// Failovers returns the failover records on the fleet's secondary ENIs
// (those tagged for the fleet, or adopted by id:), in name order. Tags on
// ENIs that are not the fleet's are never read.
func Failovers(f *schema.Fleet, obs *Observed) []Failover {
	var out []Failover
	fe := newFleetENIs(f, obs) // fleeteni.go
	for _, x := range f.ENIs {
		o := fe.of(x)
		if o == nil || o.Tags[TagFailover] == "" {
			continue
		}
		fo := Failover{ENI: x.Name, ENIID: o.ID}
		m := failoverValue.FindStringSubmatch(o.Tags[TagFailover])
		at, err := time.Parse(time.RFC3339, safeIndex(m, 3))
		if m == nil || err != nil {
			fo.Unreadable = true
		} else {
			fo.ToID, fo.To, fo.At = m[1], m[2], at.UTC()
		}
		out = append(out, fo)
	}
	return out
}

func safeIndex(m []string, i int) string {
	if i < len(m) {
		return m[i]
	}
	return ""
}

// FleetENI returns the observed ENI that is the desired state's ENI x:
// the one adopted by id:, or the one tagged for the fleet with its name.
func FleetENI(f *schema.Fleet, obs *Observed, x *schema.ENI) *ObservedENI {
	if x.ID != "" {
		return obs.ENI(x.ID)
	}
	var found *ObservedENI
	for _, o := range obs.ENIs {
		if o.Tags[TagFleet] == f.Name && o.Tags[TagENI] == x.Name && o.Type != ENIPrimary && o.Status != ENIDeleting {
			if found == nil || o.ID < found.ID {
				found = o
			}
		}
	}
	return found
}

// Agrees reports whether the desired state attaches the ENI where the
// failover moved it. An unreadable record never agrees.
func (fo Failover) Agrees(f *schema.Fleet) bool {
	x := f.ENI(fo.ENI)
	if x == nil || !x.Bound() || fo.Unreadable {
		return false
	}
	in := f.Instance(x.AttachTo)
	return in != nil && in.ID == fo.ToID
}

// ErrFailback wraps the error CheckFailback returns.
var ErrFailback = errors.New("the plan would undo a failover")

// CheckFailback returns schema.Errors (which wrap ErrFailback through
// Unwrap) naming each ENI that ecsnet failover moved and that plan p
// would move again (detach, attach or delete) while the desired state
// attaches it elsewhere: a desired state written before the failover
// would undo it. The error points at the ENI's attachTo in the file and
// names the failover, when it was made, and --allow-failback. It reads
// only the tags of the fleet's ENIs in obs and the steps' ENI IDs, never
// a lock or a saved plan's other fields.
func CheckFailback(p *Plan, f *schema.Fleet, obs *Observed) error {
	var errs schema.Errors
	for _, fo := range Failovers(f, obs) {
		if fo.Agrees(f) || !movesENI(p, fo.ENIID) {
			continue
		}
		x := f.ENI(fo.ENI)
		pos, path := x.AttachToPos, fmt.Sprintf("enis.%q.attachTo", x.Name)
		if !x.Bound() {
			pos, path = x.Pos, fmt.Sprintf("enis.%q", x.Name)
		}
		want := "leaves it unbound"
		if x.Bound() {
			want = fmt.Sprintf("attaches it to %s", x.AttachTo)
		}
		what := fmt.Sprintf("ecsnet failover moved ENI %s to %s (%s) at %s; the desired state %s, so this apply would move it back",
			fo.ENIID, fo.To, fo.ToID, fo.At.Format(time.RFC3339), want)
		hint := fmt.Sprintf("commit the failover (attachTo: %q) to the desired state, or rerun with --allow-failback to move the ENI back on purpose", fo.To)
		if o := FleetENI(f, obs, x); o != nil && !o.Attached() && x.Bound() {
			// A move back that was interrupted between its detach and its
			// attach (a killed apply --allow-failback): the address is
			// down now, so the refusal says so first.
			what = fmt.Sprintf("ecsnet failover moved ENI %s to %s (%s) at %s, and it is attached to no instance now: its addresses are served nowhere (an apply that was moving it was interrupted?); the desired state %s, so this apply would attach it there",
				fo.ENIID, fo.To, fo.ToID, fo.At.Format(time.RFC3339), want)
			hint = fmt.Sprintf("finishing the move is urgent: rerun with --allow-failback to attach it to %s, or commit the failover (attachTo: %q) to the desired state and apply to attach it to %s", x.AttachTo, fo.To, fo.To)
		}
		if fo.Unreadable {
			what = fmt.Sprintf("ENI %s carries a failover record (tag %s) that ecsnet cannot read, so this apply may undo a failover", fo.ENIID, TagFailover)
			hint = "rerun with --allow-failback if the ENI should go where the desired state says"
		}
		errs = append(errs, &schema.Error{Pos: pos, Path: path, Msg: what, Hint: hint})
	}
	if len(errs) == 0 {
		return nil
	}
	return failbackErrors{errs.Sort()}
}

// failbackErrors is schema.Errors that also matches ErrFailback, so the
// CLI prints them at their positions and callers can tell them apart.
type failbackErrors struct{ schema.Errors }

func (e failbackErrors) Unwrap() []error { return []error{e.Errors, ErrFailback} }

// movesENI reports whether p detaches, attaches or deletes the ENI id.
func movesENI(p *Plan, id string) bool {
	return slices.ContainsFunc(p.Steps, func(s *Step) bool {
		return s.ENIID == id && (s.Action == DetachENI || s.Action == AttachENI || s.Action == DeleteENI)
	})
}

// SettledFailovers returns the failover records an apply of the desired
// state clears: those the desired state agrees with, and, when
// allowFailback is set, every other one (its move back is then wanted;
// the caller clears those only once that move is done).
func SettledFailovers(f *schema.Fleet, obs *Observed, allowFailback bool) []Failover {
	var out []Failover
	for _, fo := range Failovers(f, obs) {
		if allowFailback || fo.Agrees(f) {
			out = append(out, fo)
		}
	}
	return out
}

// FailoverNames returns the ENIs' names, for messages.
func FailoverNames(fos []Failover) string {
	names := make([]string, len(fos))
	for i, fo := range fos {
		names[i] = fo.ENI
	}
	return strings.Join(names, ", ")
}
