package render

import (
	"reflect"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// TestLockedHostMatchesHosts: with a lock that matches the desired state
// (the example's), LockedHost resolves every instance as Hosts does.
func TestLockedHostMatchesHosts(t *testing.T) {
	f, err := schema.Load([]string{exampleFleet}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lock, err := schema.ReadLockFile(exampleLock)
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := Hosts(f, lock)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		got, err := LockedHost(f, lock, h.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, h) {
			t.Errorf("%s: LockedHost\n%+v\nHosts\n%+v", h.Name, got, h)
		}
	}
	// Minus an address and an ENI: they leave the host.
	l := lock.Clone()
	vip := l.Secondary("vip")
	vip.AttachedTo = ""
	p := l.Primary("lb-1")
	p.Secondary = p.Secondary[:0]
	h, err := LockedHost(f, l, "lb-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Secondary) != 0 || len(h.Primary.Secondary) != 0 {
		t.Errorf("lb-1 keeps %v and %d ENIs", h.Primary.Secondary, len(h.Secondary))
	}
}
