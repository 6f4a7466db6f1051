package plan

import (
	"fmt"
	"strings"
)

// Target is what a step changes. Its text form, String, is what plans,
// step IDs and saved plans spell: "eni/<name>" for a secondary ENI of the
// desired state, "eni/<name>@<id>" for an ENI being removed or replaced,
// "instance/<name>" for an instance's primary ENI, "host/<name>" for a
// host step. Targets are built with the constructors below and read back
// with ParseTarget, so the forms live here and nowhere else.
type Target struct {
	Kind TargetKind
	Name string // the ENI's or the instance's name in the desired state
	ID   string // the ENI's ID: set only for an ENI being removed or replaced
}

// TargetKind says what kind of resource a target names.
type TargetKind uint8

// The target kinds. The zero value is no target.
const (
	TargetENI TargetKind = iota + 1
	TargetInstance
	TargetHost
)

// ENITarget names a secondary ENI of the desired state.
func ENITarget(name string) Target { return Target{Kind: TargetENI, Name: name} }

// RemovedENITarget names the ENI with the given ID, known as name, that a
// plan removes or replaces: the ID tells it from a new ENI of that name.
func RemovedENITarget(name, id string) Target { return Target{Kind: TargetENI, Name: name, ID: id} }

// InstanceTarget names an instance's primary ENI.
func InstanceTarget(name string) Target { return Target{Kind: TargetInstance, Name: name} }

// HostTarget names an instance's host configuration.
func HostTarget(name string) Target { return Target{Kind: TargetHost, Name: name} }

// Removal reports whether the target is an ENI being removed or replaced.
func (t Target) Removal() bool { return t.Kind == TargetENI && t.ID != "" }

// String returns the target's text form; "" for the zero Target.
func (t Target) String() string {
	switch t.Kind {
	case TargetENI:
		if t.ID != "" {
			return "eni/" + t.Name + "@" + t.ID
		}
		return "eni/" + t.Name
	case TargetInstance:
		return "instance/" + t.Name
	case TargetHost:
		return "host/" + t.Name
	}
	return ""
}

// ParseTarget reads the text form of a target, as a saved plan spells it.
func ParseTarget(s string) (Target, error) {
	kind, rest, ok := strings.Cut(s, "/")
	if !ok {
		return Target{}, fmt.Errorf("target %q: want eni/<name>, eni/<name>@<id>, instance/<name> or host/<name>", s)
	}
	var t Target
	switch kind {
	case "eni":
		t.Kind = TargetENI
		var removal bool
		if rest, t.ID, removal = strings.Cut(rest, "@"); removal && t.ID == "" {
			return Target{}, fmt.Errorf("target %q: no ENI ID after @", s)
		}
	case "instance":
		t.Kind = TargetInstance
	case "host":
		t.Kind = TargetHost
	default:
		return Target{}, fmt.Errorf("target %q: unknown kind %q (want eni, instance or host)", s, kind)
	}
	if rest == "" {
		return Target{}, fmt.Errorf("target %q: no name", s)
	}
	t.Name = rest
	return t, nil
}
