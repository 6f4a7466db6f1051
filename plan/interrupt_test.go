package plan_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// TestApplyCancelled: once ctx is cancelled, Apply starts no step; the
// calls in flight finish (they run under a context the cancellation does
// not reach) unless they take longer than Grace, in which case they are
// cancelled then; the lock is saved and the error wraps ErrInterrupted.
func TestApplyCancelled(t *testing.T) {
	for _, tc := range []struct {
		name    string
		latency time.Duration
		grace   time.Duration
		failed  bool // the steps in flight outlast the grace
	}{
		{"in flight finish", 300 * time.Millisecond, 10 * time.Second, false},
		{"grace runs out", 3 * time.Second, 200 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, cl, f := exampleCloudWith(t, emulator.Options{AsyncDelay: time.Millisecond})
			obs, err := cl.Observe(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := plan.Compute(f, obs, nil, plan.Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, cl, _ = exampleCloudWith(t, emulator.Options{AsyncDelay: time.Millisecond, Latency: tc.latency})
			ctx, cancel := context.WithCancelCause(context.Background())
			started := make(chan struct{}, len(p.Steps))
			saves := 0
			time.AfterFunc(tc.latency/3, func() { cancel(errors.New("interrupt")) })
			begin := time.Now()
			rep, err := plan.Apply(ctx, cl, f, p, nil, plan.ApplyOptions{Parallelism: 2, Observed: obs, Grace: tc.grace,
				SaveLock: func(*schema.Lock) error { saves++; return nil },
				Progress: func(e plan.Event) {
					if e.Phase == plan.Started {
						started <- struct{}{}
					}
				}})
			took := time.Since(begin)
			if !errors.Is(err, plan.ErrInterrupted) {
				t.Fatalf("err = %v, want ErrInterrupted", err)
			}
			if len(started) != 2 {
				t.Errorf("%d steps started, want the 2 in flight at the cancellation", len(started))
			}
			if tc.failed {
				if len(rep.Failed) != 2 || took > tc.latency/3+tc.grace+500*time.Millisecond {
					t.Errorf("failed %d, took %s: the calls in flight were not cut at the grace of %s", len(rep.Failed), took, tc.grace)
				}
			} else if len(rep.Done) != 2 || len(rep.Failed) != 0 {
				t.Errorf("done %d, failed %v: the calls in flight did not finish", len(rep.Done), rep.Failed)
			}
			if len(rep.Skipped) != len(p.Steps)-2 || saves == 0 {
				t.Errorf("skipped %d of %d, lock saved %d times", len(rep.Skipped), len(p.Steps), saves)
			}
		})
	}
}
