package guest

import (
	"testing"

	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

const (
	exampleFleet = "../fixtures/example/fleet.cue"
	exampleLock  = "../fixtures/example/ecsnet.lock.json"
)

// exampleHosts loads the example fleet with its committed lock.
func exampleHosts(t testing.TB) []*render.Host {
	t.Helper()
	f, err := schema.Load([]string{exampleFleet}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lock, err := schema.ReadLockFile(exampleLock)
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := render.Hosts(f, lock)
	if err != nil {
		t.Fatalf("the example lock lacks data: %v", err)
	}
	return hosts
}
