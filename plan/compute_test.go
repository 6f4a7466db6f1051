package plan

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	_ "github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/schema"
)

func loadExample(t *testing.T) *schema.Fleet {
	t.Helper()
	f, err := schema.Load([]string{"../fixtures/example/fleet.cue"}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// bare returns the cloud before ecsnet ran: the fleet's instances with
// their primary ENIs, and nothing else.
func bare(f *schema.Fleet) *Observed {
	o := &Observed{Region: f.Region}
	for _, v := range f.VSwitches {
		o.VSwitches = append(o.VSwitches, &ObservedVSwitch{ID: v.ID, VPC: "vpc-1", Zone: v.Zone, CIDR: v.CIDR, IPv6CIDR: v.IPv6CIDR})
	}
	for i, in := range f.Instances {
		o.Instances = append(o.Instances, &ObservedInstance{ID: in.ID, Name: in.Name, Type: in.Type, Status: InstanceRunning,
			Zone: f.Zone(in), VPC: "vpc-1", PrimaryENI: fmt.Sprintf("eni-prim%04d", i), MAC: fmt.Sprintf("00:16:3e:00:00:%02x", i), PrimaryIP: in.Primary.IP})
		o.ENIs = append(o.ENIs, &ObservedENI{ID: fmt.Sprintf("eni-prim%04d", i), Type: ENIPrimary, Status: ENIInUse, InstanceID: in.ID,
			VSwitch: f.VSwitch(in.Primary.VSwitch).ID, Zone: f.Zone(in), VPC: "vpc-1", PrimaryIP: in.Primary.IP})
	}
	if err := o.Normalize(); err != nil {
		panic(err)
	}
	return o
}

// converged returns a cloud that matches f, and the lock an apply would
// have written: counted addresses are filled from the top of each vSwitch,
// counted prefixes from the /28 at its middle up, counted IPv6 addresses
// from ::1000 of its IPv6 block up; network cards are recorded in the lock
// only (the cloud does not report them) and queue numbers observed.
func converged(f *schema.Fleet) (*Observed, *schema.Lock) {
	o := bare(f)
	lock := &schema.Lock{Fleet: f.Name}
	next := map[string]netip.Addr{}
	taken := map[netip.Prefix]bool{} // the counted prefixes picked
	inPrefix := func(a netip.Addr) bool { return taken[netip.PrefixFrom(a, 28).Masked()] }
	pick := func(vswName string) netip.Addr {
		v := f.VSwitch(vswName)
		a, ok := next[vswName]
		if !ok {
			a = v.Gateway().Prev() // counted addresses come from the top
		}
		for {
			a = a.Prev()
			if !usedIn(f, a) && !inPrefix(a) {
				next[vswName] = a
				return a
			}
		}
	}
	nextPrefix := map[string]netip.Prefix{}
	pickPrefix := func(vswName string) netip.Prefix {
		v := f.VSwitch(vswName)
		p, ok := nextPrefix[vswName]
		if !ok {
			p = netip.PrefixFrom(nextAddrBy(v.CIDR.Masked().Addr(), 1<<(31-v.CIDR.Bits())), 28)
		}
		for ; ; p = netip.PrefixFrom(nextAddrBy(p.Addr(), 16), 28) {
			free := !taken[p]
			for a := p.Addr(); free && p.Contains(a); a = a.Next() {
				free = !usedIn(f, a) && !slices.Contains(slices.Collect(maps.Values(next)), a)
			}
			if free {
				taken[p] = true
				nextPrefix[vswName] = netip.PrefixFrom(nextAddrBy(p.Addr(), 16), 28)
				return p
			}
		}
	}
	nextV6 := map[string]netip.Addr{}
	pickV6 := func(vswName string) netip.Addr {
		v := f.VSwitch(vswName)
		a, ok := nextV6[vswName]
		if !ok {
			a = nextAddrBy(v.IPv6CIDR.Masked().Addr(), 0x1000)
		}
		nextV6[vswName] = a.Next()
		return a
	}
	fill6 := func(x schema.IPv6, vsw string) []netip.Addr {
		if !x.Counted {
			return x.PinnedAddrs()
		}
		var out []netip.Addr
		for range x.Count {
			out = append(out, pickV6(vsw))
		}
		return out
	}
	fillP := func(x schema.Prefixes, vsw string) []netip.Prefix {
		if !x.Counted {
			return x.PinnedPrefixes()
		}
		var out []netip.Prefix
		for range x.Count {
			out = append(out, pickPrefix(vsw))
		}
		return out
	}
	locked6 := func(as []netip.Addr) []schema.LockedAddr {
		var out []schema.LockedAddr
		for _, a := range as {
			out = append(out, schema.LockedAddr{Addr: a, Added: true})
		}
		return out
	}
	lockedP := func(ps []netip.Prefix) []schema.LockedPrefix {
		var out []schema.LockedPrefix
		for _, p := range ps {
			out = append(out, schema.LockedPrefix{Prefix: p, Added: true})
		}
		return out
	}
	fill := func(s schema.Secondaries, vsw string) []netip.Addr {
		if !s.Counted {
			return s.PinnedAddrs()
		}
		var out []netip.Addr
		for range s.Count {
			out = append(out, pick(vsw))
		}
		return out
	}
	locked := func(as []netip.Addr) []schema.LockedAddr {
		var out []schema.LockedAddr
		for _, a := range as {
			out = append(out, schema.LockedAddr{Addr: a, Added: true})
		}
		return out
	}
	for _, in := range f.Instances {
		oi := o.Instance(in.ID)
		oi.SecondaryIPs = fill(in.Primary.Secondaries, in.Primary.VSwitch)
		oi.IPv6, oi.Prefixes = fill6(in.Primary.IPv6, in.Primary.VSwitch), fillP(in.Primary.Prefixes, in.Primary.VSwitch)
		pe := o.ENI(oi.PrimaryENI)
		pe.SecondaryIPs, pe.IPv6, pe.Prefixes = oi.SecondaryIPs, oi.IPv6, oi.Prefixes
		lock.Put(&schema.LockedENI{Instance: in.Name, ID: oi.PrimaryENI, PrimaryIP: in.Primary.IP, Secondary: locked(oi.SecondaryIPs),
			IPv6: locked6(oi.IPv6), Prefixes: lockedP(oi.Prefixes)})
	}
	for i, e := range f.ENIs {
		x := &ObservedENI{ID: fmt.Sprintf("eni-sec%04d", i), Name: e.Name, Description: e.Description, Type: ENISecondary, Status: ENIAvailable,
			VSwitch: f.VSwitch(e.VSwitch).ID, Zone: f.VSwitch(e.VSwitch).Zone, VPC: "vpc-1",
			Tags: map[string]string{TagFleet: f.Name, TagENI: e.Name}}
		for _, g := range e.SecurityGroups {
			x.SecurityGroups = append(x.SecurityGroups, f.SecurityGroup(g).ID)
		}
		x.PrimaryIP = e.PrimaryIP
		if !x.PrimaryIP.IsValid() {
			x.PrimaryIP = pick(e.VSwitch)
		}
		x.SecondaryIPs = fill(e.Secondaries, e.VSwitch)
		x.IPv6, x.Prefixes, x.QueueNumber = fill6(e.IPv6, e.VSwitch), fillP(e.Prefixes, e.VSwitch), e.Queues
		card := 0
		if e.Bound() {
			x.Status, x.InstanceID, x.DeviceIndex = ENIInUse, f.Instance(e.AttachTo).ID, 1
			card = e.NetworkCard
		}
		o.ENIs = append(o.ENIs, x)
		lock.Put(&schema.LockedENI{Name: e.Name, ID: x.ID, PrimaryIP: x.PrimaryIP, Secondary: locked(x.SecondaryIPs),
			IPv6: locked6(x.IPv6), Prefixes: lockedP(x.Prefixes), NetworkCard: card})
	}
	if err := o.Normalize(); err != nil {
		panic(err)
	}
	return o, lock
}

// nextAddrBy returns a + n.
func nextAddrBy(a netip.Addr, n int) netip.Addr {
	for range n {
		a = a.Next()
	}
	return a
}

func usedIn(f *schema.Fleet, a netip.Addr) bool {
	for _, in := range f.Instances {
		if in.Primary.IP == a || slices.Contains(in.Primary.PinnedAddrs(), a) {
			return true
		}
	}
	for _, e := range f.ENIs {
		if e.PrimaryIP == a || slices.Contains(e.PinnedAddrs(), a) {
			return true
		}
	}
	return false
}

func count(p *Plan) map[Action]int {
	m := map[Action]int{}
	for _, s := range p.Steps {
		m[s.Action]++
	}
	return m
}

func compute(t *testing.T, f *schema.Fleet, o *Observed, l *schema.Lock, opts Options) *Plan {
	t.Helper()
	p, err := Compute(f, o, l, opts)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	// Every step comes after its dependencies.
	seen := map[string]bool{}
	for _, s := range p.Steps {
		for _, d := range s.DependsOn {
			if !seen[d] {
				t.Errorf("%s comes before its dependency %s", s.ID, d)
			}
		}
		seen[s.ID] = true
	}
	// Same inputs, same plan.
	again, err := Compute(f, o, l, opts)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(p, again, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
		t.Errorf("Compute is not deterministic:\n%s", d)
	}
	return p
}

func TestFromScratch(t *testing.T) {
	f := loadExample(t)
	p := compute(t, f, bare(f), nil, Options{})
	// The call formula: every new ENI costs one create, every bound one an
	// attach, and an assign only for addresses beyond what create takes;
	// primary ENIs with secondaries cost one assign each.
	// IPv6 addresses and prefixes: on the create up to 10 (prefixes only
	// without secondary addresses), an assign for the rest; a primary ENI
	// one assign of each it has.
	bound, extra, primaries := 0, 0, 0
	want := map[Action]int{}
	for _, e := range f.ENIs {
		if e.Bound() {
			bound++
		}
		if e.N() > 10 {
			extra++
		}
		if e.IPv6.N() > 10 {
			want[AssignIPv6]++
		}
		if e.Prefixes.N() > 10 || e.Prefixes.N() > 0 && e.N() > 0 {
			want[AssignPrefixes]++
		}
	}
	for _, in := range f.Instances {
		if in.Primary.N() > 0 {
			primaries++
		}
		if in.Primary.IPv6.N() > 0 {
			want[AssignIPv6]++
		}
		if in.Primary.Prefixes.N() > 0 {
			want[AssignPrefixes]++
		}
	}
	want[CreateENI], want[AttachENI], want[AssignIPs] = len(f.ENIs), bound, extra+primaries
	if d := cmp.Diff(want, count(p)); d != "" {
		t.Errorf("calls differ from the formula (-want +got):\n%s", d)
	}
	pool := p.Step("assign eni/api-1-pool")
	if pool == nil || pool.Count != 2 || !slices.Contains(pool.DependsOn, "attach eni/api-1-pool") {
		t.Errorf("api-1-pool: 12 counted addresses: 10 at create, 2 after attach; got %+v", pool)
	}
	c := p.Step("create eni/vip").Create
	if c.PrimaryIP.String() != "172.16.0.100" || len(c.IPs) != 2 || c.Tags[TagFleet] != "shop-prod" || c.Tags[TagENI] != "vip" {
		t.Errorf("create vip: %+v", c)
	}
	for _, s := range p.Steps {
		if (s.Action == CreateENI || s.Action.Assigns()) != (s.Token != "") {
			t.Errorf("%s: token %q (only create and the assigns take one)", s.ID, s.Token)
		}
		if len(s.Token) > 64 {
			t.Errorf("%s: token longer than 64 characters", s.ID)
		}
	}
}

func TestConvergedIsEmpty(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)
	p := compute(t, f, o, l, Options{})
	if !p.Empty() {
		for _, s := range p.Steps {
			t.Errorf("unexpected step %s: %s", s.ID, s.Reason)
		}
	}
	if len(p.Unrecorded) != 0 {
		t.Errorf("unrecorded: %+v", p.Unrecorded)
	}
}

func TestFailoverIsDetachAttach(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)
	g := edit(t, "vip", `attachTo: "lb-1"`, `attachTo: "lb-2"`)
	p := compute(t, g, o, l, Options{})
	want := map[Action]int{DetachENI: 1, AttachENI: 1}
	if d := cmp.Diff(want, count(p)); d != "" {
		t.Fatalf("a move is one detach and one attach (-want +got):\n%s", d)
	}
	att := p.Step("attach eni/vip")
	if att.InstanceID != "i-bp1lb0000002" || !slices.Contains(att.DependsOn, "detach eni/vip") || att.Destroys {
		t.Errorf("attach: %+v", att)
	}
	_ = f
}

// edit returns the example fleet with one textual change, so each test
// states its scenario as a diff of the file.
func edit(t *testing.T, _ string, from, to string) *schema.Fleet {
	t.Helper()
	return editAll(t, [][2]string{{from, to}})
}

func editAll(t *testing.T, changes [][2]string) *schema.Fleet {
	t.Helper()
	src, err := readExample()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if !strings.Contains(src, c[0]) {
			t.Fatalf("example has no %q", c[0])
		}
		src = strings.Replace(src, c[0], c[1], 1)
	}
	dir := t.TempDir()
	p := dir + "/fleet.cue"
	if err := writeFile(p, src); err != nil {
		t.Fatal(err)
	}
	f, err := schema.Load([]string{p}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestAddressChanges(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)

	t.Run("re-pin", func(t *testing.T) {
		g := edit(t, "", `secondaryIps: ["172.16.0.21", "172.16.0.22"]`, `secondaryIps: ["172.16.0.21", "172.16.0.23", "172.16.0.24"]`)
		p := compute(t, g, o, l, Options{})
		un, as := p.Step("unassign instance/web-1"), p.Step("assign instance/web-1")
		if un == nil || as == nil || addrsString(un.IPs) != "172.16.0.22" || addrsString(as.IPs) != "172.16.0.23,172.16.0.24" {
			t.Fatalf("steps: %+v %+v", un, as)
		}
		if !slices.Contains(as.DependsOn, un.ID) {
			t.Errorf("assign does not wait for unassign (quota at every step)")
		}
		if len(p.Steps) != 2 {
			t.Errorf("%d steps, want 2", len(p.Steps))
		}
	})
	t.Run("count grows", func(t *testing.T) {
		g := edit(t, "", `secondaryIpCount: 2
		attachTo:         "edge-1"`, `secondaryIpCount: 5
		attachTo:         "edge-1"`)
		p := compute(t, g, o, l, Options{})
		if s := p.Step("assign eni/edge-1-data"); s == nil || s.Count != 3 || len(p.Steps) != 1 {
			t.Fatalf("plan: %+v", p.Steps)
		}
	})
	t.Run("count shrinks", func(t *testing.T) {
		g := edit(t, "", `secondaryIpCount: 12`, `secondaryIpCount: 9`)
		p := compute(t, g, o, l, Options{})
		s := p.Step("unassign eni/api-1-pool")
		if s == nil || len(s.IPs) != 3 || len(p.Steps) != 1 {
			t.Fatalf("plan: %+v", p.Steps)
		}
		have := o.ENI(s.ENIID).SecondaryIPs
		if want := addrsString(have[len(have)-3:]); addrsString(s.IPs) != want || !strings.Contains(s.Reason, want) {
			t.Errorf("released %s (%s), want the highest: %s", addrsString(s.IPs), s.Reason, want)
		}
	})
	t.Run("address moves between ENIs", func(t *testing.T) {
		g := editAll(t, [][2]string{
			{`secondaryIps: ["172.16.0.31"]`, `secondaryIps: []`},
			{`secondaryIps: ["172.16.0.51"]`, `secondaryIps: ["172.16.0.51", "172.16.0.31"]`},
		})
		p := compute(t, g, o, l, Options{})
		as := p.Step("assign instance/edge-1")
		if as == nil || !slices.Contains(as.DependsOn, "unassign instance/lb-1") {
			t.Fatalf("the address must leave lb-1 before it joins edge-1: %+v", p.Steps)
		}
	})
}

func TestUnrecordedAndUnmanaged(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)
	// Someone added an address by hand, and created an ENI of their own.
	lb := o.Instance("i-bp1lb0000001")
	lb.SecondaryIPs = append(lb.SecondaryIPs, netip.MustParseAddr("172.16.0.77"))
	o.ENI(lb.PrimaryENI).SecondaryIPs = lb.SecondaryIPs
	o.ENIs = append(o.ENIs, &ObservedENI{ID: "eni-byhand0001", Name: "manual", Type: ENISecondary, Status: ENIAvailable,
		VSwitch: "vsw-bp1app0000h", VPC: "vpc-1", PrimaryIP: netip.MustParseAddr("172.16.0.200")})
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	p := compute(t, f, o, l, Options{})
	if !p.Empty() {
		t.Errorf("hand-made changes are left alone without --prune: %+v", p.Steps)
	}
	if len(p.Unrecorded) != 1 || p.Unrecorded[0].Target != InstanceTarget("lb-1") || addrsString(p.Unrecorded[0].IPs) != "172.16.0.77" {
		t.Errorf("unrecorded: %+v", p.Unrecorded)
	}
	if len(p.Unmanaged) != 1 || p.Unmanaged[0].ID != "eni-byhand0001" {
		t.Errorf("unmanaged: %+v", p.Unmanaged)
	}
	p = compute(t, f, o, l, Options{Prune: true})
	if s := p.Step("unassign instance/lb-1"); s == nil || addrsString(s.IPs) != "172.16.0.77" || len(p.Steps) != 1 {
		t.Errorf("prune: %+v", p.Steps)
	}
}

func TestReplaceAndDelete(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)
	p := compute(t, editSpare(t), o, l, Options{})
	var destroys []string
	for _, s := range p.Steps {
		if s.Destroys {
			destroys = append(destroys, s.ID)
		}
	}
	if len(destroys) != 1 || !strings.HasPrefix(destroys[0], "delete eni/spare-1@") || p.Step("create eni/spare-1") == nil {
		t.Errorf("a vSwitch change replaces the ENI: %v", p.Steps)
	}
	// Removing an ENI from the file detaches and deletes it.
	h := edit(t, "", `"cache-1-data": {`, `"cache-1-data-gone": {`)
	p = compute(t, h, o, l, Options{})
	if p.Step("detach eni/cache-1-data@"+o.ENIsTagged(TagENI, "cache-1-data")[0].ID) == nil {
		t.Errorf("the removed ENI is not detached: %v", ids(p))
	}
}

// editSpare moves spare-1's pinned addresses into app-h, as a vSwitch
// change needs.
func editSpare(t *testing.T) *schema.Fleet {
	return editAll(t, [][2]string{
		{`vswitch:        "data-h"
		securityGroups: ["web"]
		description:    "cold spare"
		secondaryIps: ["172.16.2.61", "172.16.2.62"]`, `vswitch:        "app-h"
		securityGroups: ["web"]
		description:    "cold spare"
		secondaryIps: ["172.16.0.61", "172.16.0.62"]`},
	})
}

func ids(p *Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.ID)
	}
	return out
}

func TestPlanErrors(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)
	o.Instance("i-bp1web000001").PrimaryIP = netip.MustParseAddr("172.16.0.99")
	_, err := Compute(f, o, l, Options{})
	es, ok := err.(schema.Errors)
	if !ok || len(es) != 1 || !strings.Contains(es[0].Msg, "primary.ip 172.16.0.10 differs from the cloud's 172.16.0.99") ||
		!strings.HasSuffix(es[0].Pos.File, "fleet.cue") || es[0].Pos.Line == 0 {
		t.Fatalf("err = %v", err)
	}

	o, l = converged(f)
	o.Instance("i-bp1lb0000001").Status = InstanceStarting
	g := edit(t, "", `secondaryIps: ["172.16.0.31"]`, `secondaryIps: ["172.16.0.31", "172.16.0.32"]`)
	if _, err := Compute(g, o, l, Options{}); err == nil || !strings.Contains(err.Error(), "is Starting") {
		t.Errorf("assigning to a Starting instance's primary ENI: err = %v", err)
	}
}

func TestTokensChangeWithGeneration(t *testing.T) {
	f := loadExample(t)
	o := bare(f)
	p1 := compute(t, f, o, nil, Options{})
	lock := &schema.Lock{}
	lock.Put(&schema.LockedENI{Name: "vip", Generation: 3})
	p2 := compute(t, f, o, lock, Options{})
	if p1.Step("create eni/vip").Token == p2.Step("create eni/vip").Token {
		t.Errorf("a new generation must give a new token")
	}
	if p1.Step("create eni/web-1-data").Token != p2.Step("create eni/web-1-data").Token {
		t.Errorf("other ENIs' tokens must not change")
	}
}

// An adopted ENI (ecsnet import) dropped from the file is left alone, never
// deleted: ecsnet deletes only what it created.
func TestAdoptedNeverDeleted(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)
	l.Secondary("spare-1").Adopted = true
	g := editAll(t, [][2]string{{`"spare-1": {`, `"spare-2": {`}, {`["172.16.2.61", "172.16.2.62"]`, `["172.16.2.71", "172.16.2.72"]`}})
	p := compute(t, g, o, l, Options{})
	if p.Step("create eni/spare-2") == nil {
		t.Errorf("spare-2 is not created: %v", ids(p))
	}
	for _, s := range p.Steps {
		if s.Destroys {
			t.Errorf("adopted ENI would be destroyed: %s", s.ID)
		}
	}
	found := false
	for _, u := range p.Unmanaged {
		if u.ID == l.Secondary("spare-1").ID {
			found = true
		}
	}
	if !found || len(p.Notes) == 0 {
		t.Errorf("the adopted ENI is not listed as left alone: %+v %v", p.Unmanaged, p.Notes)
	}
}
