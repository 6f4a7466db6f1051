package guest

import (
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/schema"
)

// TestPushable holds push to the lock: with the example's lock every host
// may be pushed; a host whose desired state has an address the lock does
// not record as assigned to it yet is refused (the cloud routes it
// elsewhere), and so is one whose secondary ENI the lock lacks, naming
// the ENI.
func TestPushable(t *testing.T) {
	f, lock := standin.Example(t)
	hosts, refused := Pushable(f, lock)
	if len(refused) > 0 || len(hosts) != len(f.Instances) {
		t.Fatalf("with the example lock: %d hosts, refused %v; want all %d", len(hosts), refused, len(f.Instances))
	}

	lock = lock.Clone()
	eni := f.AttachedTo("lb-1")[0]
	lock.ENIs = slices.DeleteFunc(lock.ENIs, func(e *schema.LockedENI) bool { return e.Name == eni.Name })
	var ahead string
	for _, in := range f.Instances {
		if len(in.Primary.Pinned) > 0 && in.Name != "lb-1" {
			ahead = in.Name
			p := lock.Primary(in.Name)
			p.Secondary = slices.DeleteFunc(slices.Clone(p.Secondary), func(a schema.LockedAddr) bool { return a.Addr == in.Primary.Pinned[0].Addr })
			break
		}
	}
	if ahead == "" {
		t.Fatal("the example has no instance with pinned secondary addresses on its primary ENI")
	}
	hosts, refused = Pushable(f, lock)
	if want := "the desired state has addresses or ENIs the lock does not record as on this instance yet; run ecsnet apply --hosts (the cloud first)"; refused[ahead] != want {
		t.Errorf("%s, an address ahead of the lock: refused %q, want %q", ahead, refused[ahead], want)
	}
	if why := refused["lb-1"]; !strings.HasPrefix(why, "the lock lacks ") || !strings.Contains(why, "of ENI "+eni.Name+"; run ecsnet apply first") {
		t.Errorf("lb-1 without its ENI in the lock: refused %q", why)
	}
	for name := range refused {
		if hosts[name] != nil {
			t.Errorf("%s is both refused and pushable", name)
		}
	}
	if len(hosts)+len(refused) != len(f.Instances) {
		t.Errorf("%d pushable + %d refused, want %d", len(hosts), len(refused), len(f.Instances))
	}
}
