package plan_test

import (
	"testing"

	_ "github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/internal/testfleet/testcloud"
	"github.com/ecsnet/ecsnet/plan"
)

// BenchmarkCompute20k plans a 20,000-instance generated fleet (60,000
// ENIs, 660,000 addresses) from a snapshot, as `ecsnet plan --observed`
// does after loading: against the converged cloud with its lock (an empty
// plan: the every-pull-request case) and against a bare cloud without a
// lock (100,000 steps: 40,000 creates and attaches, 20,000 assigns). The
// goal is ≤ 1 s (issue 4); internal/benchtable reports it beside the other
// budgets.
func BenchmarkCompute20k(b *testing.B) {
	const n = 20000
	f, err := testcloud.Fleet(n)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		state testcloud.State
		steps int
	}{
		{"converged", testcloud.Converged, 0},
		{"scratch", testcloud.Bare, 5 * n},
	} {
		_, obs, lock, err := testcloud.Snapshot(f, c.state)
		if err != nil {
			b.Fatal(err)
		}
		if c.state == testcloud.Bare {
			lock = nil
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var p *plan.Plan
			for b.Loop() {
				if p, err = plan.Compute(f, obs, lock, plan.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			if len(p.Steps) != c.steps {
				b.Fatalf("%d steps, want %d", len(p.Steps), c.steps)
			}
			b.ReportMetric(float64(len(p.Steps)), "steps")
		})
	}
}
