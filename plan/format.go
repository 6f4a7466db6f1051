package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"reflect"
	"slices"
)

// FormatVersion is the format_version of the plan document that WriteJSON
// writes. A change that old readers would misread bumps it; ReadJSON
// refuses any version but this one and formatVersion1.
const FormatVersion = "2"

// formatVersion1 is the plan document before issue 18: it listed the IDs
// the fingerprint covers ("touched": [...]) where version 2 has their
// count and a digest of them. Its fingerprint is computed exactly as
// version 2's, and apply never reads the list (it recomputes the set), so
// a version 1 plan saved before an upgrade still applies, and is still
// refused when it is stale.
const formatVersion1 = "1"

// The plan document is the hub of the plan's renderings (style.md §b.9,
// after Terraform's jsonplan): WriteText and WriteMarkdown first convert
// the Plan into these structs and then render only from them, so the three
// views cannot disagree, and `ecsnet show` renders a saved plan exactly as
// plan did. The model (plan.go) carries no JSON tags; these structs pin the
// snake_case names. Every field is always written, lists as [] when empty
// and absent objects as null, so the document's shape never depends on
// its content. Nothing in it depends on the clock.
type planDoc struct {
	FormatVersion   string          `json:"format_version"`
	Fleet           string          `json:"fleet"`
	Region          string          `json:"region"`
	Fingerprint     string          `json:"fingerprint"`
	TouchedCount    int             `json:"touched_count"`
	TouchedDigest   string          `json:"touched_digest"`
	Summary         summaryDoc      `json:"summary"`
	Steps           []stepDoc       `json:"steps"`
	ResourceChanges []changeDoc     `json:"resource_changes"`
	Unmanaged       []unmanagedDoc  `json:"unmanaged"`
	Unrecorded      []unrecordedDoc `json:"unrecorded"`
	Notes           []string        `json:"notes"`
}

// summaryDoc counts resource changes the way Terraform does: a replacement
// is one create and one destroy, a move or an in-place update one change.
type summaryDoc struct {
	Create  int `json:"create"`
	Change  int `json:"change"`
	Destroy int `json:"destroy"`
	Steps   int `json:"steps"`
}

type stepDoc struct {
	ID          string       `json:"id"`
	Action      string       `json:"action"`
	Target      string       `json:"target"`
	ENI         string       `json:"eni"`
	ENIID       string       `json:"eni_id"`
	Instance    string       `json:"instance"`
	InstanceID  string       `json:"instance_id"`
	IPs         []netip.Addr `json:"ips"`
	Count       int          `json:"count"`
	Create      *createDoc   `json:"create"`
	Modify      *modifyDoc   `json:"modify"`
	ClientToken string       `json:"client_token"`
	DependsOn   []string     `json:"depends_on"`
	Destroys    bool         `json:"destroys"`
	Reason      string       `json:"reason"`
	// Drift marks a step that undoes a change made outside ecsnet.
	Drift bool `json:"drift"`
	// The fields of issue 17 are written only when set, so that a plan
	// without IPv6 addresses, prefixes or network cards is the document it
	// was (and an older ecsnet refuses, as an unknown field, a plan that
	// has them rather than misread it). Calls is derived (Step.Calls) for
	// the prefix steps, and checked when read.
	Prefixes    []netip.Prefix `json:"prefixes,omitempty"`
	NetworkCard int            `json:"network_card,omitempty"`
	Calls       int            `json:"calls,omitempty"`
}

type createDoc struct {
	VSwitchID        string            `json:"vswitch_id"`
	SecurityGroupIDs []string          `json:"security_group_ids"`
	PrimaryIP        netip.Addr        `json:"primary_ip"` // "": the cloud picks
	IPs              []netip.Addr      `json:"ips"`
	Count            int               `json:"count"`
	Name             string            `json:"name"`
	Description      string            `json:"description"`
	Tags             map[string]string `json:"tags"`
	IPv6             []netip.Addr      `json:"ipv6,omitempty"`
	IPv6Count        int               `json:"ipv6_count,omitempty"`
	Prefixes         []netip.Prefix    `json:"prefixes,omitempty"`
	PrefixCount      int               `json:"prefix_count,omitempty"`
	QueueNumber      int               `json:"queue_number,omitempty"`
}

// modifyDoc keeps the model's "nil means unchanged": null in JSON. The
// old_ fields are the observed values beside the new ones.
type modifyDoc struct {
	SecurityGroupIDs    []string `json:"security_group_ids"`
	Name                *string  `json:"name"`
	Description         *string  `json:"description"`
	OldSecurityGroupIDs []string `json:"old_security_group_ids"`
	OldName             *string  `json:"old_name"`
	OldDescription      *string  `json:"old_description"`
	QueueNumber         *int     `json:"queue_number,omitempty"`
	OldQueueNumber      *int     `json:"old_queue_number,omitempty"`
}

// changeDoc is one resource's change, gathered from the steps that share a
// target (a replacement also takes in the removal of the ENI it replaces).
// It is derived from the steps only, and ReadJSON checks that it still
// matches them.
type changeDoc struct {
	// Address is the steps' target; for a replacement, the new ENI's.
	Address string `json:"address"`
	// Kind is "eni" for an ENI of the enis section, "primary_eni" for an
	// instance's primary ENI.
	Kind string `json:"kind"`
	// Name is the ENI's name, or the instance's for a primary ENI.
	Name string `json:"name"`
	// Actions is one of ["create"], ["update"], ["move"] (detach from one
	// instance and attach to another, possibly with in-place changes),
	// ["delete"], or ["delete","create"] (replace).
	Actions []string `json:"actions"`
	// ENIID is the existing ENI changed, moved, deleted or replaced; empty
	// for an ENI this plan creates.
	ENIID string `json:"eni_id"`
	// Instance is the instance the ENI is attached to after the plan, as
	// far as the steps name it; PreviousInstance the one a detach leaves.
	Instance           string     `json:"instance"`
	InstanceID         string     `json:"instance_id"`
	PreviousInstance   string     `json:"previous_instance"`
	PreviousInstanceID string     `json:"previous_instance_id"`
	Create             *createDoc `json:"create"`
	Modify             *modifyDoc `json:"modify"`
	// IPsAdded are pinned addresses assigned (at creation or after);
	// CountAdded more addresses the cloud picks.
	IPsAdded   []netip.Addr `json:"ips_added"`
	CountAdded int          `json:"count_added"`
	IPsRemoved []netip.Addr `json:"ips_removed"`
	// IPv6 addresses are in IPsAdded and IPsRemoved beside the IPv4 ones;
	// IPv6CountAdded more the cloud picks. The prefixes likewise.
	IPv6CountAdded   int            `json:"ipv6_count_added,omitempty"`
	PrefixesAdded    []netip.Prefix `json:"prefixes_added,omitempty"`
	PrefixCountAdded int            `json:"prefix_count_added,omitempty"`
	PrefixesRemoved  []netip.Prefix `json:"prefixes_removed,omitempty"`
	// NetworkCard is the card an attach puts the ENI on, when not 0.
	NetworkCard int `json:"network_card,omitempty"`
	// Steps are the IDs of the steps that make the change, in plan order.
	Steps []string `json:"steps"`
}

type unmanagedDoc struct {
	ENIID      string       `json:"eni_id"`
	Name       string       `json:"name"`
	InstanceID string       `json:"instance_id"`
	IPs        []netip.Addr `json:"ips"`
}

type unrecordedDoc struct {
	Target   string         `json:"target"`
	ENIID    string         `json:"eni_id"`
	IPs      []netip.Addr   `json:"ips"`
	Pruned   bool           `json:"pruned"`
	Prefixes []netip.Prefix `json:"prefixes,omitempty"`
}

// The action names of resource changes.
const (
	changeCreate = "create"
	changeUpdate = "update"
	changeMove   = "move"
	changeDelete = "delete"
)

// newPlanDoc converts p into the document every rendering starts from.
func newPlanDoc(p *Plan) *planDoc {
	d := &planDoc{
		FormatVersion: FormatVersion,
		Fleet:         p.Fleet,
		Region:        p.Region,
		Fingerprint:   p.Fingerprint,
		TouchedCount:  p.Touched,
		TouchedDigest: p.TouchedDigest,
		Steps:         make([]stepDoc, 0, len(p.Steps)),
		Unmanaged:     make([]unmanagedDoc, 0, len(p.Unmanaged)),
		Unrecorded:    make([]unrecordedDoc, 0, len(p.Unrecorded)),
		Notes:         nonNil(slices.Clone(p.Notes)),
	}
	for _, s := range p.Steps {
		d.Steps = append(d.Steps, newStepDoc(s))
	}
	for _, u := range p.Unmanaged {
		d.Unmanaged = append(d.Unmanaged, unmanagedDoc{ENIID: u.ID, Name: u.Name, InstanceID: u.InstanceID, IPs: nonNil(slices.Clone(u.IPs))})
	}
	for _, u := range p.Unrecorded {
		d.Unrecorded = append(d.Unrecorded, unrecordedDoc{Target: u.Target.String(), ENIID: u.ENIID, IPs: nonNil(slices.Clone(u.IPs)), Pruned: u.Pruned,
			Prefixes: nilIfEmpty(u.Prefixes)})
	}
	// Host steps change no cloud resource: they are steps, and the text
	// and markdown views list them in a section of their own.
	d.ResourceChanges = changesOf(slices.DeleteFunc(slices.Clone(d.Steps), func(s stepDoc) bool { return isHostAction(s.Action) }))
	d.Summary = summaryOf(d.ResourceChanges, len(d.Steps))
	return d
}

func isHostAction(name string) bool {
	return name == HostRemove.String() || name == HostApply.String()
}

func newStepDoc(s *Step) stepDoc {
	j := stepDoc{
		ID: s.ID, Action: s.Action.String(), Target: s.Target.String(), ENI: s.ENI, ENIID: s.ENIID,
		Instance: s.Instance, InstanceID: s.InstanceID, IPs: nonNil(slices.Clone(s.IPs)), Count: s.Count,
		ClientToken: s.Token, DependsOn: nonNil(slices.Clone(s.DependsOn)), Destroys: s.Destroys, Reason: s.Reason, Drift: s.Drift,
		Prefixes: nilIfEmpty(s.Prefixes), NetworkCard: s.NetworkCard,
	}
	if s.Action == AssignPrefixes || s.Action == UnassignPrefixes {
		j.Calls = s.Calls()
	}
	if c := s.Create; c != nil {
		tags := maps.Clone(c.Tags)
		if tags == nil {
			tags = map[string]string{}
		}
		j.Create = &createDoc{VSwitchID: c.VSwitchID, SecurityGroupIDs: nonNil(slices.Clone(c.SecurityGroupIDs)), PrimaryIP: c.PrimaryIP,
			IPs: nonNil(slices.Clone(c.IPs)), Count: c.Count, Name: c.Name, Description: c.Description, Tags: tags,
			IPv6: nilIfEmpty(c.IPv6), IPv6Count: c.IPv6Count, Prefixes: nilIfEmpty(c.Prefixes), PrefixCount: c.PrefixCount, QueueNumber: c.QueueNumber}
	}
	if m := s.Modify; m != nil {
		j.Modify = &modifyDoc{SecurityGroupIDs: slices.Clone(m.SecurityGroupIDs), Name: clonePtr(m.Name), Description: clonePtr(m.Description),
			OldSecurityGroupIDs: slices.Clone(m.OldSecurityGroupIDs), OldName: clonePtr(m.OldName), OldDescription: clonePtr(m.OldDescription),
			QueueNumber: clonePtr(m.QueueNumber), OldQueueNumber: clonePtr(m.OldQueueNumber)}
	}
	return j
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// changesOf gathers the steps into one change per resource, sorted by
// address. It accepts any steps (ReadJSON calls it on decoded input) and
// never panics.
func changesOf(steps []stepDoc) []changeDoc {
	byTarget := map[string][]int{}
	for i, s := range steps {
		byTarget[s.Target] = append(byTarget[s.Target], i)
	}
	targets := slices.Sorted(maps.Keys(byTarget))
	// A replacement is the removal of "eni/<name>@<id>" plus the creation of
	// "eni/<name>" in the same plan: a name dropped from the file is never
	// created again, so the pair means exactly that.
	replacedBy := map[string]string{} // creating target -> removal target
	for _, t := range targets {
		if into, ok := replacementOf(steps, byTarget, t); ok {
			if _, taken := replacedBy[into]; !taken {
				replacedBy[into] = t
			}
		}
	}
	removals := map[string]bool{}
	for _, t := range replacedBy {
		removals[t] = true
	}
	out := make([]changeDoc, 0, len(targets))
	for _, t := range targets {
		if removals[t] {
			continue // part of its replacement
		}
		idx := byTarget[t]
		old, replaces := replacedBy[t]
		if replaces {
			idx = append(slices.Clone(idx), byTarget[old]...)
			slices.Sort(idx)
		}
		out = append(out, changeFor(steps, t, idx, replaces))
	}
	return out
}

// replacementOf reports whether target removes an ENI that another target
// of the plan creates again under the same name, and returns that target.
func replacementOf(steps []stepDoc, byTarget map[string][]int, target string) (string, bool) {
	first := steps[byTarget[target][0]]
	if first.ENI == "" || first.ENIID == "" || target != RemovedENITarget(first.ENI, first.ENIID).String() {
		return "", false
	}
	into := ENITarget(first.ENI).String()
	for _, i := range byTarget[into] {
		if steps[i].Action == CreateENI.String() {
			return into, true
		}
	}
	return "", false
}

// changeFor builds the change of address from the steps at idx (in plan
// order); replaces says that some of them remove the ENI it replaces.
func changeFor(steps []stepDoc, address string, idx []int, replaces bool) changeDoc {
	c := changeDoc{Address: address, Kind: "primary_eni", Steps: make([]string, 0, len(idx))}
	var added, removed []netip.Addr
	var pAdded, pRemoved []netip.Prefix
	var create, del, attach, detach bool
	var stays, staysID string // the instance named by a step that neither attaches nor detaches
	for _, i := range idx {
		s := steps[i]
		c.Steps = append(c.Steps, s.ID)
		if s.ENI != "" {
			c.Kind, c.Name = "eni", s.ENI
		} else if c.Name == "" {
			c.Name = s.Instance
		}
		if c.ENIID == "" {
			c.ENIID = s.ENIID
		}
		switch s.Action {
		case CreateENI.String():
			create = true
			if s.Create != nil {
				cd := *s.Create
				c.Create = &cd
				added = append(added, s.Create.IPs...)
				c.CountAdded += s.Create.Count
				added = append(added, s.Create.IPv6...)
				c.IPv6CountAdded += s.Create.IPv6Count
				pAdded = append(pAdded, s.Create.Prefixes...)
				c.PrefixCountAdded += s.Create.PrefixCount
			}
		case DeleteENI.String():
			del = true
			removed = append(removed, s.IPs...) // the addresses it frees, when the step names them
		case AttachENI.String():
			attach = true
			c.Instance, c.InstanceID = s.Instance, s.InstanceID
			c.NetworkCard = s.NetworkCard
		case DetachENI.String():
			detach = true
			c.PreviousInstance, c.PreviousInstanceID = s.Instance, s.InstanceID
		case ModifyENI.String():
			if s.Modify != nil {
				md := *s.Modify
				c.Modify = &md
			}
		case AssignIPs.String():
			added = append(added, s.IPs...)
			c.CountAdded += s.Count
		case UnassignIPs.String():
			removed = append(removed, s.IPs...)
		case AssignIPv6.String():
			added = append(added, s.IPs...)
			c.IPv6CountAdded += s.Count
		case UnassignIPv6.String():
			removed = append(removed, s.IPs...)
		case AssignPrefixes.String():
			pAdded = append(pAdded, s.Prefixes...)
			c.PrefixCountAdded += s.Count
		case UnassignPrefixes.String():
			pRemoved = append(pRemoved, s.Prefixes...)
		}
		if s.Action != AttachENI.String() && s.Action != DetachENI.String() && stays == "" && staysID == "" {
			stays, staysID = s.Instance, s.InstanceID
		}
	}
	if !attach && !detach && !create && !del {
		c.Instance, c.InstanceID = stays, staysID
		c.PreviousInstance, c.PreviousInstanceID = stays, staysID
	}
	switch {
	case create && replaces:
		c.Actions = []string{changeDelete, changeCreate}
	case create:
		c.Actions = []string{changeCreate}
	case del:
		c.Actions = []string{changeDelete}
	case attach && detach:
		c.Actions = []string{changeMove}
	default:
		c.Actions = []string{changeUpdate}
	}
	c.IPsAdded = sortedAddrs(added)
	c.IPsRemoved = sortedAddrs(removed)
	c.PrefixesAdded = sortedPrefixes(pAdded)
	c.PrefixesRemoved = sortedPrefixes(pRemoved)
	return c
}

// sortedPrefixes sorts and dedupes prefixes; nil when there are none
// (the fields that hold them are omitted when empty).
func sortedPrefixes(ps []netip.Prefix) []netip.Prefix {
	if len(ps) == 0 {
		return nil
	}
	out := slices.Clone(ps)
	slices.SortFunc(out, comparePrefix)
	return slices.Compact(out)
}

func sortedAddrs(as []netip.Addr) []netip.Addr {
	out := slices.Clone(as)
	slices.SortFunc(out, netip.Addr.Compare)
	return nonNil(slices.Compact(out))
}

func summaryOf(changes []changeDoc, steps int) summaryDoc {
	s := summaryDoc{Steps: steps}
	for _, c := range changes {
		for _, a := range c.Actions {
			switch a {
			case changeCreate:
				s.Create++
			case changeDelete:
				s.Destroy++
			default:
				s.Change++
			}
		}
	}
	return s
}

// WriteJSON writes p as the versioned plan document (format_version "1"):
// indented, snake_case, every list in the order the model has it, and no
// timestamps, so the same plan always gives the same bytes. Beside the
// steps, which are all apply reads, it carries a summary and one
// Terraform-style resource change per target (actions as lists of strings
// such as ["delete","create"], so consumers can scan for "delete"), the
// unmanaged ENIs, the unrecorded addresses and the notes. `plan --save`
// stores it; ReadJSON reads it back.
func WriteJSON(w io.Writer, p *Plan) error {
	data, err := json.MarshalIndent(newPlanDoc(p), "", "  ")
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	data = append(data, '\n')
	_, err = w.Write(data)
	return err
}

// ReadJSON decodes a plan document written by WriteJSON, for `ecsnet show`
// and `apply --plan`. It is strict: a missing or different format_version,
// an unknown field, trailing data, an unknown action, a repeated step ID, a
// dependency on a step that does not come earlier, or a summary or
// resource change that no longer matches the steps is an error that says
// what is wrong. Writing the result again gives the same bytes (a
// version 1 document comes out as version 2).
func ReadJSON(r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	// The version is checked first and on its own, so a plan from another
	// ecsnet release fails with a version error rather than with whichever
	// field changed.
	var head map[string]json.RawMessage
	hd := json.NewDecoder(bytes.NewReader(data))
	if err := hd.Decode(&head); err != nil {
		return nil, fmt.Errorf("read plan: not a JSON object: %w", err)
	}
	if _, err := hd.Token(); err != io.EOF {
		return nil, errors.New("read plan: trailing data after the plan object")
	}
	raw, ok := head["format_version"]
	if !ok {
		return nil, errors.New(`read plan: no "format_version": not an ecsnet plan`)
	}
	var version string
	if err := json.Unmarshal(raw, &version); err != nil || (version != FormatVersion && version != formatVersion1) {
		return nil, fmt.Errorf("read plan: format_version %s is not supported (this ecsnet reads %q and %q); plan again with this release",
			bytes.TrimSpace(raw), FormatVersion, formatVersion1)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d planDoc
	if version == formatVersion1 {
		var v1 planDocV1
		if err := dec.Decode(&v1); err != nil {
			return nil, fmt.Errorf("read plan: %w", err)
		}
		d = v1.planDoc()
	} else if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	p, err := d.plan()
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	// The derived parts are what a reviewer reads; refuse a document whose
	// summary or resource changes say something other than its steps.
	want := newPlanDoc(p)
	if !reflect.DeepEqual(want.ResourceChanges, d.ResourceChanges) {
		return nil, errors.New("read plan: resource_changes do not match the steps (was the file edited?); plan again")
	}
	if want.Summary != d.Summary {
		return nil, fmt.Errorf("read plan: summary %+v does not match the steps, which give %+v (was the file edited?); plan again", d.Summary, want.Summary)
	}
	return p, nil
}

// plan rebuilds the model from the document, checking what apply relies
// on. Empty lists become nil, as Compute leaves them.
func (d *planDoc) plan() (*Plan, error) {
	if d.Fingerprint == "" {
		return nil, errors.New(`no "fingerprint": apply could not tell whether the plan is stale`)
	}
	p := &Plan{Fleet: d.Fleet, Region: d.Region, Fingerprint: d.Fingerprint, Touched: d.TouchedCount, TouchedDigest: d.TouchedDigest, Notes: nilIfEmpty(d.Notes)}
	actions := map[string]Action{}
	for _, a := range Actions() {
		actions[a.String()] = a
	}
	seen := map[string]bool{}
	for i, j := range d.Steps {
		s, err := j.step(i, actions, seen)
		if err != nil {
			return nil, err
		}
		seen[j.ID] = true
		p.Steps = append(p.Steps, s)
	}
	for _, u := range d.Unmanaged {
		p.Unmanaged = append(p.Unmanaged, Unmanaged{ID: u.ENIID, Name: u.Name, InstanceID: u.InstanceID, IPs: nilIfEmpty(u.IPs)})
	}
	for i, u := range d.Unrecorded {
		target, err := ParseTarget(u.Target)
		if err != nil {
			return nil, fmt.Errorf("unrecorded[%d]: %w", i, err)
		}
		p.Unrecorded = append(p.Unrecorded, Unrecorded{Target: target, ENIID: u.ENIID, IPs: nilIfEmpty(u.IPs), Pruned: u.Pruned, Prefixes: nilIfEmpty(u.Prefixes)})
	}
	return p, nil
}

// step checks the i-th step of a saved plan, whose earlier steps' IDs are
// seen, and returns it as a Step.
func (j *stepDoc) step(i int, actions map[string]Action, seen map[string]bool) (*Step, error) {
	where := fmt.Sprintf("steps[%d]", i)
	if j.ID == "" {
		return nil, fmt.Errorf("%s: no id", where)
	}
	where = fmt.Sprintf("step %q", j.ID)
	if seen[j.ID] {
		return nil, fmt.Errorf("%s appears twice", where)
	}
	a, ok := actions[j.Action]
	if !ok {
		return nil, fmt.Errorf("%s: unknown action %q", where, j.Action)
	}
	if j.Target == "" {
		return nil, fmt.Errorf("%s: no target", where)
	}
	target, err := ParseTarget(j.Target)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if (a == CreateENI) != (j.Create != nil) {
		return nil, fmt.Errorf("%s: a create step, and only a create step, carries \"create\"", where)
	}
	if a.Host() && (target.Kind != TargetHost || j.InstanceID == "") {
		return nil, fmt.Errorf("%s: a host step targets host/<instance> and names the instance's ID", where)
	}
	if (a == ModifyENI) != (j.Modify != nil) {
		return nil, fmt.Errorf("%s: a modify step, and only a modify step, carries \"modify\"", where)
	}
	for _, dep := range j.DependsOn {
		if !seen[dep] {
			return nil, fmt.Errorf("%s depends on %q, which does not come before it", where, dep)
		}
	}
	s := &Step{ID: j.ID, Action: a, Target: target, ENI: j.ENI, ENIID: j.ENIID, Instance: j.Instance, InstanceID: j.InstanceID,
		IPs: nilIfEmpty(j.IPs), Count: j.Count, Token: j.ClientToken, DependsOn: nilIfEmpty(j.DependsOn), Reason: j.Reason, Drift: j.Drift,
		Prefixes: nilIfEmpty(j.Prefixes), NetworkCard: j.NetworkCard}
	if s.Action == AssignPrefixes || s.Action == UnassignPrefixes {
		if j.Calls != s.Calls() {
			return nil, fmt.Errorf("%s: calls %d does not match its prefixes, which take %d (was the file edited?)", where, j.Calls, s.Calls())
		}
	} else if j.Calls != 0 {
		return nil, fmt.Errorf("%s: only a prefix step carries \"calls\"", where)
	}
	if len(s.Prefixes) > 0 && a != AssignPrefixes && a != UnassignPrefixes {
		return nil, fmt.Errorf("%s: only a prefix step carries \"prefixes\"", where)
	}
	if s.NetworkCard != 0 && a != AttachENI {
		return nil, fmt.Errorf("%s: only an attach step carries \"network_card\"", where)
	}
	// "destroys" is derived, never read: a file that says false on a
	// delete must not hide it from --allow-destroy or the views.
	s.Destroys = s.Destructive()
	if c := j.Create; c != nil {
		var tags map[string]string
		if len(c.Tags) > 0 {
			tags = maps.Clone(c.Tags)
		}
		s.Create = &CreateSpec{VSwitchID: c.VSwitchID, SecurityGroupIDs: nilIfEmpty(c.SecurityGroupIDs), PrimaryIP: c.PrimaryIP,
			IPs: nilIfEmpty(c.IPs), Count: c.Count, Name: c.Name, Description: c.Description, Tags: tags,
			IPv6: nilIfEmpty(c.IPv6), IPv6Count: c.IPv6Count, Prefixes: nilIfEmpty(c.Prefixes), PrefixCount: c.PrefixCount, QueueNumber: c.QueueNumber}
	}
	if m := j.Modify; m != nil {
		s.Modify = &ModifySpec{SecurityGroupIDs: slices.Clone(m.SecurityGroupIDs), Name: clonePtr(m.Name), Description: clonePtr(m.Description),
			OldSecurityGroupIDs: slices.Clone(m.OldSecurityGroupIDs), OldName: clonePtr(m.OldName), OldDescription: clonePtr(m.OldDescription),
			QueueNumber: clonePtr(m.QueueNumber), OldQueueNumber: clonePtr(m.OldQueueNumber)}
	}
	return s, nil
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
