package plan

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// foreignENI is an ENI ecsnet does not own, made by hand in the fleet's
// VPC: attached to instanceID when it is not "", in the given groups, with
// n secondary addresses from a block of its own, 10.X.0.0/16 for an ID
// ending in byte X.
func foreignENI(id, instanceID string, groups []string, n int) *ObservedENI {
	e := &ObservedENI{ID: id, Type: ENISecondary, Status: ENIAvailable, InstanceID: instanceID, VSwitch: "vsw-foreign", VPC: "vpc-1",
		SecurityGroups: groups, Tags: map[string]string{"owner": "someone-else"}}
	if instanceID != "" {
		e.Status = ENIInUse
	}
	base := netip.AddrFrom4([4]byte{10, id[len(id)-1], 0, 0})
	e.PrimaryIP = base.Next()
	a := e.PrimaryIP
	for range n {
		a = a.Next()
		e.SecondaryIPs = append(e.SecondaryIPs, a)
	}
	return e
}

// withGroups gives the observed primary ENIs the groups the file names,
// as the cloud reports them.
func withGroups(f *schema.Fleet, o *Observed) {
	for _, in := range f.Instances {
		oi := o.Instance(in.ID)
		oi.SecurityGroups = nil
		for _, g := range in.Primary.SecurityGroups {
			oi.SecurityGroups = append(oi.SecurityGroups, f.SecurityGroup(g).ID)
		}
		if e := o.ENI(oi.PrimaryENI); e != nil {
			e.SecurityGroups = oi.SecurityGroups
		}
	}
}

func plus(t *testing.T, o *Observed, enis ...*ObservedENI) *Observed {
	t.Helper()
	o.ENIs = append(o.ENIs, enis...)
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	return o
}

// quotaError returns the one error of Compute, failing unless there is
// exactly one.
func quotaError(t *testing.T, f *schema.Fleet, o *Observed, l *schema.Lock) *schema.Error {
	t.Helper()
	p, err := Compute(f, o, l, Options{})
	var es schema.Errors
	if !errors.As(err, &es) || len(es) != 1 {
		steps := 0
		if p != nil {
			steps = len(p.Steps)
		}
		t.Fatalf("Compute: %v (a plan of %d steps), want one schema.Error", err, steps)
	}
	return es[0]
}

// TestForeignENIsFillInstance (issue 14): ENIs ecsnet does not own count
// toward the instance's ENI quota. web-1 (ecs.g7.large, 3 ENIs) gets
// web-1-data; with one foreign ENI on it that fits, with two the plan
// fails at the instance, naming them and the attachTo that needs the room.
func TestForeignENIsFillInstance(t *testing.T) {
	f := loadExample(t)
	web1 := f.Instance("web-1")

	compute(t, f, plus(t, bare(f), foreignENI("eni-foreign1", web1.ID, nil, 0)), nil, Options{})

	o := plus(t, bare(f), foreignENI("eni-foreign1", web1.ID, nil, 0), foreignENI("eni-foreign2", web1.ID, nil, 0))
	e := quotaError(t, f, o, nil)
	want := `instance web-1 (i-bp1web000001) would have 4 ENIs after this plan, the primary included; its type ecs.g7.large allows 3: 2 of them are ENIs ecsnet does not own: eni-foreign1, eni-foreign2`
	if e.Pos != web1.Pos || e.Path != `instances."web-1"` || e.Msg != want {
		t.Errorf("got %s: %s: %s\nwant %s: instances.\"web-1\": %s", e.Pos, e.Path, e.Msg, web1.Pos, want)
	}
	if !strings.HasPrefix(e.Hint, "detach the ENIs ecsnet does not own") {
		t.Errorf("hint %q", e.Hint)
	}
	if len(e.Related) != 1 || e.Related[0] != f.ENI("web-1-data").AttachToPos {
		t.Errorf("related %v, want web-1-data's attachTo %s", e.Related, f.ENI("web-1-data").AttachToPos)
	}

	// The live quota rules: a type the cloud says takes 5 ENIs has room,
	// one it says takes 2 has none for web-1-data beside one foreign ENI.
	o.InstanceTypes = []TypeQuota{{Name: "ecs.g7.large", MaxENIs: 5, MaxIPsPerENI: 6}}
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	compute(t, f, o, nil, Options{})
	o = plus(t, bare(f), foreignENI("eni-foreign1", web1.ID, nil, 0))
	o.InstanceTypes = []TypeQuota{{Name: "ecs.g7.large", MaxENIs: 2, MaxIPsPerENI: 6}}
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	if e := quotaError(t, f, o, nil); !strings.HasSuffix(e.Msg, "allows 2: 1 of them is an ENI ecsnet does not own: eni-foreign1") {
		t.Errorf("got %s", e.Msg)
	}
}

// TestForeignENIsFailover: an ENI moving to an instance that foreign ENIs
// fill is refused; one leaving an instance frees its slot.
func TestForeignENIsFailover(t *testing.T) {
	f := loadExample(t)
	o, lock := converged(f)
	lb1, lb2 := f.Instance("lb-1"), f.Instance("lb-2")
	plus(t, o, foreignENI("eni-foreign1", lb2.ID, nil, 0), foreignENI("eni-foreign2", lb2.ID, nil, 0),
		foreignENI("eni-foreign3", lb1.ID, nil, 0))
	// vip leaves lb-1 (its slot frees) for lb-2 (full).
	moved := strings.Replace(mustRead(t), `attachTo: "lb-1"`, `attachTo: "lb-2"`, 1)
	f2 := loadString(t, moved)
	e := quotaError(t, f2, o, lock)
	if e.Path != `instances."lb-2"` || !strings.Contains(e.Msg, "would have 4 ENIs") || !strings.Contains(e.Msg, "eni-foreign1, eni-foreign2") {
		t.Errorf("got %v", e)
	}

	// With one foreign ENI on lb-2 the move fits, and lb-1's foreign ENI
	// is not counted against lb-2.
	o2, lock2 := converged(f)
	plus(t, o2, foreignENI("eni-foreign1", lb2.ID, nil, 0), foreignENI("eni-foreign3", lb1.ID, nil, 0))
	p := compute(t, f2, o2, lock2, Options{})
	if p.Step("attach eni/vip") == nil {
		t.Errorf("no attach of vip:\n%v", p.Steps)
	}
}

// TestForeignAddressesFillGroup (issue 14): the addresses of ENIs ecsnet
// does not own count toward a security group's 2,000. The example's "db"
// group holds 14 of the fleet's addresses; a foreign ENI with 1,986 fits,
// one with 1,987 does not, and the plan fails at the group, naming it.
func TestForeignAddressesFillGroup(t *testing.T) {
	f := loadExample(t)
	db := f.SecurityGroup("db")
	o := bare(f)
	withGroups(f, o)
	fleetDB := 0
	for _, in := range f.Instances {
		if len(in.Primary.SecurityGroups) > 0 && in.Primary.SecurityGroups[0] == "db" {
			fleetDB += 1 + in.Primary.N()
		}
	}
	for _, e := range f.ENIs {
		if e.SecurityGroups[0] == "db" {
			fleetDB += 1 + e.N()
		}
	}
	room := schema.DefaultSecurityGroupMaxIPs - fleetDB // 1 + secondaries of the foreign ENI

	compute(t, f, plus(t, o, foreignENI("eni-foreign1", "", []string{db.ID}, room-1)), nil, Options{})

	o = bare(f)
	withGroups(f, o)
	plus(t, o, foreignENI("eni-foreign1", "", []string{db.ID}, room), foreignENI("eni-foreign2", "", []string{db.ID}, 0),
		foreignENI("eni-foreign3", "", []string{f.SecurityGroup("web").ID}, 5))
	e := quotaError(t, f, o, nil)
	want := fmt.Sprintf(`security group "db" (%s) would hold 2002 private addresses after this plan, over its limit of 2000: %d of them are on 2 ENIs ecsnet does not own: eni-foreign1 (%d), eni-foreign2 (1)`, db.ID, room+2, room+1)
	if e.Pos != db.Pos || e.Path != `securityGroups."db"` || e.Msg != want {
		t.Errorf("got %s: %s: %s\nwant %s: securityGroups.\"db\": %s", e.Pos, e.Path, e.Msg, db.Pos, want)
	}
	if len(e.Related) == 0 {
		t.Error("no related positions: the ENIs and instances that add addresses to the group")
	}

	// A limit the file raises (an advanced group) rules.
	f.Limits.SecurityGroupMaxIPs = 65536
	compute(t, f, o, nil, Options{})
}

// TestGroupFullAlreadyNoChange: a group the cloud already fills past the
// limit is no error for a plan that adds nothing to it, nor for one that
// shrinks it.
func TestGroupFullAlreadyNoChange(t *testing.T) {
	f := loadExample(t)
	o, lock := converged(f)
	withGroups(f, o)
	db := f.SecurityGroup("db")
	plus(t, o, foreignENI("eni-foreign1", "", []string{db.ID}, 2000))
	if p := compute(t, f, o, lock, Options{}); len(p.Steps) != 0 {
		t.Errorf("converged fleet: %d steps", len(p.Steps))
	}
	shrunk := strings.Replace(mustRead(t), `secondaryIps: ["172.16.3.31", "172.16.3.32"]`, `secondaryIps: ["172.16.3.31"]`, 1)
	compute(t, loadString(t, shrunk), o, lock, Options{})
}

func mustRead(t *testing.T) string {
	t.Helper()
	s, err := readExample()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func loadString(t *testing.T, src string) *schema.Fleet {
	t.Helper()
	p := t.TempDir() + "/fleet.cue"
	if err := writeFile(p, src); err != nil {
		t.Fatal(err)
	}
	f, err := schema.Load([]string{p}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestGroupNearFullReleasesFirst (issue 14): replacing cache-1-data (3
// addresses, group "db") in a group the cloud fills to its 2,000 fits at
// the end, but not if the new ENI were created before the old one is
// deleted: the create waits for the delete. With room to spare, the plan
// keeps its usual order.
func TestGroupNearFullReleasesFirst(t *testing.T) {
	moved := strings.Replace(mustRead(t), `secondaryIps: ["172.16.3.31", "172.16.3.32"]`, `secondaryIps: ["172.16.1.41", "172.16.1.42"]`, 1)
	moved = strings.Replace(moved, `"cache-1-data": {
		vswitch:        "data-i"`, `"cache-1-data": {
		vswitch:        "app-i"`, 1)
	moved = strings.Replace(moved, "ipv6IpCount: 2", "", 1) // app-i has no IPv6 block
	f := loadExample(t)
	f2 := loadString(t, moved)
	db := f.SecurityGroup("db")

	plan := func(room int) *Plan {
		o, lock := converged(f)
		withGroups(f, o)
		inGroup := 0
		for _, e := range o.ENIs {
			if slices.Contains(e.SecurityGroups, db.ID) {
				inGroup += 1 + len(e.SecondaryIPs)
			}
		}
		plus(t, o, foreignENI("eni-foreign1", "", []string{db.ID}, schema.DefaultSecurityGroupMaxIPs-inGroup-1-room))
		return compute(t, f2, o, lock, Options{})
	}
	old := ""
	for _, s := range plan(0).Steps {
		if s.Action == DeleteENI && s.ENI == "cache-1-data" {
			old = s.ID
		}
	}
	if c := plan(0).Step("create eni/cache-1-data"); c == nil || !slices.Contains(c.DependsOn, old) {
		t.Errorf("full group: the create does not wait for %q: %+v", old, c)
	}
	if c := plan(3).Step("create eni/cache-1-data"); c == nil || slices.Contains(c.DependsOn, old) {
		t.Errorf("room for both: the create waits for the delete: %+v", c)
	}
}
