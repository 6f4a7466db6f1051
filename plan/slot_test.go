package plan

import (
	"bytes"
	"maps"
	"net/netip"
	"os"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// slotsOn returns the slots the lock records on an instance, by ENI name.
func slotsOn(l *schema.Lock, instance string) map[string]int {
	out := map[string]int{}
	for _, e := range l.ENIs {
		if e.Name != "" && e.AttachedTo == instance {
			out[e.Name] = e.DeviceIndex
		}
	}
	return out
}

// withDeviceIndex sets every attached secondary ENI's DeviceIndex to d, as
// an account that sees the preview field Attachment.DeviceIndex would
// observe it (d > 0) or not (d == 0).
func withDeviceIndex(o *Observed, d int) {
	for _, e := range o.ENIs {
		if e.Type == ENISecondary && e.InstanceID != "" {
			e.DeviceIndex = d
		}
	}
}

// TestReconcileSlotsNotFromCloud: the lock Reconcile writes from nothing
// is the same whether or not the observation carries the cloud's device
// index, and numbers each instance's ENIs from 1 by itself.
func TestReconcileSlotsNotFromCloud(t *testing.T) {
	f := loadExample(t)
	var locks [][]byte
	for _, d := range []int{0, 1, 7} {
		o, _ := converged(f)
		withDeviceIndex(o, d)
		l := &schema.Lock{}
		Reconcile(l, f, o)
		locks = append(locks, schema.MarshalLock(l))
		for _, x := range f.ENIs {
			e := l.Secondary(x.Name)
			want := 0
			if x.AttachTo != "" {
				want = 1 // one ENI of the fleet per instance in the example
			}
			if e == nil || e.DeviceIndex != want {
				t.Errorf("cloud index %d: %s: lock %+v, want slot %d", d, x.Name, e, want)
			}
		}
	}
	for i := 1; i < len(locks); i++ {
		if !bytes.Equal(locks[0], locks[i]) {
			t.Errorf("the lock depends on the cloud's device index:\n%s\n---\n%s", locks[0], locks[i])
		}
	}
}

// observedFromLock is the cloud a lock describes: every ENI where the lock
// says, tagged as ecsnet tags what it creates.
func observedFromLock(t *testing.T, f *schema.Fleet, l *schema.Lock) *Observed {
	t.Helper()
	o := bare(f)
	for _, in := range f.Instances {
		e := l.Primary(in.Name)
		oi := o.Instance(in.ID)
		oe := o.ENI(oi.PrimaryENI)
		oi.SecondaryIPs, oe.SecondaryIPs = e.Addrs(), e.Addrs()
		oi.IPv6, oe.IPv6 = lockedV6(e), lockedV6(e)
		oi.Prefixes, oe.Prefixes = lockedPrefixes(e), lockedPrefixes(e)
		oi.MAC, oe.MAC = e.MAC, e.MAC
		oi.PrimaryENI, oe.ID = e.ID, e.ID
	}
	for _, x := range f.ENIs {
		e := l.Secondary(x.Name)
		v := f.VSwitch(x.VSwitch)
		oe := &ObservedENI{ID: e.ID, Type: ENISecondary, Status: ENIAvailable, VSwitch: v.ID, Zone: v.Zone, VPC: "vpc-1",
			MAC: e.MAC, PrimaryIP: e.PrimaryIP, SecondaryIPs: e.Addrs(), IPv6: lockedV6(e), Prefixes: lockedPrefixes(e),
			Tags: map[string]string{TagFleet: f.Name, TagENI: x.Name}}
		if e.AttachedTo != "" {
			oe.Status, oe.InstanceID = ENIInUse, f.Instance(e.AttachedTo).ID
		}
		o.ENIs = append(o.ENIs, oe)
	}
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	return o
}

func lockedV6(e *schema.LockedENI) []netip.Addr {
	var out []netip.Addr
	for _, a := range e.IPv6 {
		out = append(out, a.Addr)
	}
	return out
}

func lockedPrefixes(e *schema.LockedENI) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range e.Prefixes {
		out = append(out, p.Prefix)
	}
	return out
}

// TestReconcileKeepsOldLock: a lock written by a release that recorded the
// cloud's device index (the example's: db-1-repl has 2, as db-1 has a
// foreign ENI at 1) keeps every slot, and every byte, when reconciled
// with the cloud it describes.
func TestReconcileKeepsOldLock(t *testing.T) {
	f := loadExample(t)
	data, err := os.ReadFile("../fixtures/example/ecsnet.lock.json")
	if err != nil {
		t.Fatal(err)
	}
	l, err := schema.ReadLock(bytes.NewReader(data), "example")
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Secondary("db-1-repl").DeviceIndex; got != 2 {
		t.Fatalf("the example lock gives db-1-repl %d; this test wants it at 2", got)
	}
	o := observedFromLock(t, f, l)
	withDeviceIndex(o, 5)
	Reconcile(l, f, o)
	l.VSwitches = nil // recorded since that release, and not the point here
	if got := schema.MarshalLock(l); !bytes.Equal(got, data) {
		t.Errorf("reconciling the example lock changed it:\n%s", got)
	}
}

// TestReconcileSlots: an ENI attached where the lock did not have it gets
// its old slot if free there, else the lowest free one; two ENIs the lock
// gives one slot on one instance are told apart in name order.
func TestReconcileSlots(t *testing.T) {
	f := loadExample(t)
	base, _ := converged(f)
	l0 := &schema.Lock{}
	Reconcile(l0, f, base)

	t.Run("moved by hand keeps its slot where free", func(t *testing.T) {
		l := l0.Clone()
		l.Secondary("vip").DeviceIndex = 3
		o, _ := converged(f)
		o.ENI(l.Secondary("vip").ID).InstanceID = f.Instance("lb-2").ID
		if err := o.Normalize(); err != nil {
			t.Fatal(err)
		}
		Reconcile(l, f, o)
		if e := l.Secondary("vip"); e.AttachedTo != "lb-2" || e.DeviceIndex != 3 {
			t.Errorf("vip: %+v, want on lb-2 at slot 3", e)
		}
	})
	t.Run("moved by hand to a taken slot", func(t *testing.T) {
		l := l0.Clone()
		o, _ := converged(f)
		o.ENI(l.Secondary("vip").ID).InstanceID = f.Instance("web-1").ID // web-1-data has slot 1
		if err := o.Normalize(); err != nil {
			t.Fatal(err)
		}
		Reconcile(l, f, o)
		if got, want := slotsOn(l, "web-1"), map[string]int{"vip": 2, "web-1-data": 1}; !maps.Equal(got, want) {
			t.Errorf("web-1: %v, want %v", got, want)
		}
	})
	t.Run("a damaged lock", func(t *testing.T) {
		l := l0.Clone()
		x := *l.Secondary("vip")
		x.AttachedTo, x.DeviceIndex = "web-1", 1 // as web-1-data's
		l.Put(&x)
		o, _ := converged(f)
		o.ENI(x.ID).InstanceID = f.Instance("web-1").ID
		if err := o.Normalize(); err != nil {
			t.Fatal(err)
		}
		Reconcile(l, f, o)
		if got, want := slotsOn(l, "web-1"), map[string]int{"vip": 1, "web-1-data": 2}; !maps.Equal(got, want) {
			t.Errorf("web-1: %v, want %v (the first by name keeps the slot)", got, want)
		}
	})
	t.Run("detached by hand keeps its slot in the lock", func(t *testing.T) {
		l := l0.Clone()
		l.Secondary("vip").DeviceIndex = 4
		o, _ := converged(f)
		v := o.ENI(l.Secondary("vip").ID)
		v.InstanceID, v.Status = "", ENIAvailable
		if err := o.Normalize(); err != nil {
			t.Fatal(err)
		}
		Reconcile(l, f, o)
		if e := l.Secondary("vip"); e.AttachedTo != "" || e.DeviceIndex != 4 {
			t.Errorf("vip: %+v, want detached with slot 4", e)
		}
	})
}

// TestAttachSlots: apply decides the slots of a plan's attaches in plan
// order, from the lock before the apply: an ENI keeps its slot when it is
// free on the target, a slot freed by a detach of the same plan is not
// given to another ENI, and new ENIs take the lowest free ones.
func TestAttachSlots(t *testing.T) {
	l := &schema.Lock{}
	put := func(name, on string, slot int) {
		l.Put(&schema.LockedENI{Name: name, ID: "eni-" + name, AttachedTo: on, DeviceIndex: slot, PrimaryIP: netip.MustParseAddr("10.0.0.1")})
	}
	put("a", "lb-1", 1)
	put("vip", "lb-1", 2)
	put("b", "lb-2", 1)
	put("c", "lb-2", 3)
	put("spare", "", 5) // detached, remembers 5
	attach := func(eni, on string) *Step {
		return &Step{ID: "attach eni/" + eni, Action: AttachENI, Target: ENITarget(eni), ENI: eni, Instance: on}
	}
	p := &Plan{Steps: []*Step{
		{ID: "detach eni/vip", Action: DetachENI, Target: ENITarget("vip"), ENI: "vip", Instance: "lb-1"},
		attach("vip", "lb-2"),   // 2 is free on lb-2
		attach("new1", "lb-1"),  // 2 is vip's until the next apply: 3
		attach("new2", "lb-2"),  // 1, 2, 3 taken: 4
		attach("spare", "lb-2"), // 5 is free: its own
		attach("new3", "lb-3"),  // 1
	}}
	got := attachSlots(l, p)
	want := map[string]int{"attach eni/vip": 2, "attach eni/new1": 3, "attach eni/new2": 4, "attach eni/spare": 5, "attach eni/new3": 1}
	if !maps.Equal(got, want) {
		t.Errorf("slots %v, want %v", got, want)
	}
}

// TestAdoptRecordSlot: an adopted attached ENI gets the lowest slot free
// on its instance in the lock, whatever the cloud's device index; an
// unattached one gets none.
func TestAdoptRecordSlot(t *testing.T) {
	f := loadExample(t)
	o, _ := converged(f)
	l := &schema.Lock{}
	Reconcile(l, f, o)
	foreign := &ObservedENI{ID: "eni-foreign", Type: ENISecondary, Status: ENIInUse, InstanceID: f.Instance("web-1").ID, DeviceIndex: 1,
		VSwitch: f.VSwitch("data-h").ID, Zone: "cn-hangzhou-h", VPC: "vpc-1", MAC: "00:16:3e:aa:bb:cc",
		PrimaryIP: netip.MustParseAddr("172.16.2.250"), SecurityGroups: []string{f.SecurityGroup("web").ID}}
	o.ENIs = append(o.ENIs, foreign)
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	ad, err := Adopt(f, o, "eni-foreign", "legacy")
	if err != nil {
		t.Fatal(err)
	}
	ad.Record(l)
	if e := l.Secondary("legacy"); e == nil || e.AttachedTo != "web-1" || e.DeviceIndex != 2 {
		t.Errorf("adopted: %+v, want on web-1 at slot 2 (web-1-data has 1)", e)
	}
}
