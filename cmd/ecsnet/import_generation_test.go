package main

import (
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// TestImportGenerationSaturates: importing under a name the lock keeps
// at the largest generation (an ENI of that name was deleted long ago)
// leaves the generation there instead of going past what ReadLock
// accepts, so the lock import writes still loads.
func TestImportGenerationSaturates(t *testing.T) {
	c := appliedE2E(t, importWorld)
	c.writeLock(func(l *schema.Lock) {
		l.Put(&schema.LockedENI{Name: "pod-pool", Generation: schema.MaxGeneration})
	})
	c.must(exitOK, "import", "eni-bp1podpool00000001", "--as", "pod-pool", c.dir)
	e := c.lock().Secondary("pod-pool") // fails the test if the lock does not load
	if e == nil || e.ID != "eni-bp1podpool00000001" || e.Generation != schema.MaxGeneration {
		t.Errorf("lock entry after import: %+v, want eni-bp1podpool00000001 at generation %d", e, schema.MaxGeneration)
	}
	c.must(exitOK, "plan", c.dir)
}
