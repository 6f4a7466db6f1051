package plan

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// notRunOn is HostOptions.NotExecuted for the fake runner: the hosts
// named answer exit 0 without having run anything.
func notRunOn(ids ...string) func(HostResult) string {
	return func(r HostResult) string {
		if slices.Contains(ids, r.InstanceID) {
			return "nothing ran on " + r.InstanceID
		}
		return ""
	}
}

// TestRolloutNotExecuted: a host step that exits 0 without running the
// payload is never done; it does not count toward --max-failures (it
// changed nothing), but a canary that did not run stops the rollout (it
// proved nothing) (issue 15).
func TestRolloutNotExecuted(t *testing.T) {
	rep := deliver(t, pushPlan(6), &fakeRunner{}, HostOptions{Batch: 1, NotExecuted: notRunOn("i-h01", "i-h02", "i-h03")})
	if len(rep.Done) != 3 || len(rep.Failed) != 3 || len(rep.Skipped) != 0 {
		t.Errorf("%d done, %d failed, %d skipped; want 3, 3, 0 (not executed is no failure --max-failures counts)", len(rep.Done), len(rep.Failed), len(rep.Skipped))
	}
	for _, f := range rep.Failed {
		var ne *NotExecutedError
		if !errors.As(f.Err, &ne) || f.Err.Error() != "not executed: nothing ran on "+f.Step.InstanceID {
			t.Errorf("%s: %v", f.Step.ID, f.Err)
		}
	}
	rep = deliver(t, pushPlan(6), &fakeRunner{}, HostOptions{Canary: 1, MaxFailures: 5, NotExecuted: notRunOn("i-h00")})
	if len(rep.Done) != 0 || len(rep.Failed) != 1 || len(rep.Skipped) != 5 {
		t.Errorf("canary not executed: %d done, %d failed, %d skipped; want 0, 1, 5", len(rep.Done), len(rep.Failed), len(rep.Skipped))
	}
}

// TestApplyHostRemoveNotExecutedKeepsTheCloud: a host that did not run
// its remove step still uses the VIP, so the cloud keeps it there.
func TestApplyHostRemoveNotExecutedKeepsTheCloud(t *testing.T) {
	p, g, o, l := hostsPlan(t)
	cloud := &fakeCloud{obs: o}
	ho := &HostOptions{Runner: &fakeRunner{}, MaxFailures: 10, NotExecuted: notRunOn("i-bp1lb0000001"),
		Payload: func(*Step, *schema.Lock) (HostPayload, error) {
			return HostPayload{Scripts: [][]byte{[]byte("x")}}, nil
		}}
	if _, err := Apply(context.Background(), cloud, g, p, l, ApplyOptions{Hosts: ho}); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(cloud.done, "detach eni/vip") || slices.Contains(cloud.done, "unassign instance/lb-1") {
		t.Errorf("the cloud removed what lb-1 still uses: %v", cloud.done)
	}
}

// TestHostsToPush: the hosts whose addresses or ENIs the done cloud
// steps change, in the fleet's order; none for steps not done.
func TestHostsToPush(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)
	g := editAll(t, [][2]string{
		{`primaryIp:      "172.16.0.100"
		secondaryIps: ["172.16.0.101", "172.16.0.102"]
		attachTo: "lb-1"`, `primaryIp:      "172.16.0.100"
		secondaryIps: ["172.16.0.101", "172.16.0.102"]
		attachTo: "lb-2"`},
		{`secondaryIps: ["172.16.0.21", "172.16.0.22"]`, `secondaryIps: ["172.16.0.21", "172.16.0.22", "172.16.0.23"]`},
	})
	p := compute(t, g, o, l, Options{})
	if got, want := HostsToPush(p, nil, g, o), []string{"lb-1", "lb-2", "web-1"}; !slices.Equal(got, want) {
		t.Errorf("every step: %v, want %v", got, want)
	}
	var detach []*Step
	for _, s := range p.Steps {
		if strings.HasPrefix(s.ID, "detach ") {
			detach = append(detach, s)
		}
	}
	if got := HostsToPush(p, detach, g, o); !slices.Equal(got, []string{"lb-1"}) {
		t.Errorf("only the detach done: %v, want [lb-1]", got)
	}
	if got := HostsToPush(p, []*Step{}, g, o); len(got) != 0 {
		t.Errorf("nothing done: %v", got)
	}
}
