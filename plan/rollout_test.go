package plan

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// The instance IDs of the example's hosts in hostsPlan.
const (
	idLB1  = "i-bp1lb0000001"
	idLB2  = "i-bp1lb0000002"
	idWeb1 = "i-bp1web000001"
)

func applyHosts(t *testing.T, r *fakeRunner, ho HostOptions) (*Report, *fakeCloud) {
	t.Helper()
	p, g, o, l := hostsPlan(t)
	cloud := &fakeCloud{obs: o}
	ho.Runner = r
	ho.Payload = func(*Step, *schema.Lock) (HostPayload, error) {
		return HostPayload{Scripts: [][]byte{[]byte("x")}}, nil
	}
	rep, err := Apply(context.Background(), cloud, g, p, l, ApplyOptions{Hosts: &ho})
	if err != nil {
		t.Fatal(err)
	}
	return rep, cloud
}

func stepIDs(ss []*Step) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	slices.Sort(out)
	return out
}

// TestRolloutCanaryGatesTheCloud: the canary is a host with its cloud
// steps (web-1's assign and host-apply come first in plan order); when
// its host step fails, the other hosts are never admitted: their cloud
// steps do not run either, so the broken change reaches no other host
// (issue 16).
func TestRolloutCanaryGatesTheCloud(t *testing.T) {
	r := &fakeRunner{codes: map[string]int{idWeb1: 5}}
	rep, cloud := applyHosts(t, r, HostOptions{Canary: 1, MaxFailures: 5})
	if !slices.Equal(cloud.done, []string{"assign instance/web-1"}) {
		t.Errorf("the cloud ran %v, want only the canary's assign", cloud.done)
	}
	want := []string{"attach eni/vip", "detach eni/vip", "host-apply host/lb-2", "host-remove host/lb-1", "unassign instance/lb-1"}
	if got := stepIDs(rep.Skipped); !slices.Equal(got, want) {
		t.Errorf("skipped %v, want %v", got, want)
	}
	if slices.ContainsFunc(r.ran, func(id string) bool { return id != idWeb1 }) {
		t.Errorf("hosts beyond the canary got a script: %v", r.ran)
	}
}

// TestRolloutFinishesAdmittedHosts: with --max-failures 0, web-1's
// failure stops the rollout, but the failover of lb-1 to lb-2, admitted
// beside it, is finished: lb-2, which got the VIP, is configured
// (issue 16: the first failure stranded hosts whose cloud steps ran).
func TestRolloutFinishesAdmittedHosts(t *testing.T) {
	r := &fakeRunner{codes: map[string]int{idWeb1: 5}}
	rep, cloud := applyHosts(t, r, HostOptions{})
	if !slices.Contains(cloud.done, "attach eni/vip") {
		t.Fatalf("the failover did not run: %v", cloud.done)
	}
	if len(rep.Skipped) != 0 {
		t.Errorf("skipped %v: an admitted host was stranded", stepIDs(rep.Skipped))
	}
	if got := stepIDs(rep.Done); !slices.Contains(got, "host-apply host/lb-2") || !slices.Contains(got, "host-remove host/lb-1") {
		t.Errorf("done %v: lb-1 and lb-2 are not both configured", got)
	}
	if len(rep.Failed) != 1 || rep.Failed[0].Step.ID != "host-apply host/web-1" {
		t.Errorf("failed %v", rep.Failed)
	}
}

// TestRolloutBatchGatesTheCloud: one unit at a time: web-1's unit runs
// to its end (cloud and host) before the failover's first step starts,
// and its failure with --max-failures 0 keeps the failover from the
// cloud.
func TestRolloutBatchGatesTheCloud(t *testing.T) {
	rep, cloud := applyHosts(t, &fakeRunner{codes: map[string]int{idWeb1: 1}}, HostOptions{Batch: 1})
	if !slices.Equal(cloud.done, []string{"assign instance/web-1"}) {
		t.Errorf("the cloud ran %v, want only web-1's assign", cloud.done)
	}
	if len(rep.Skipped) != 5 {
		t.Errorf("skipped %v", stepIDs(rep.Skipped))
	}
}

// TestRolloutUnreachableSource: lb-1 is stopped. Its host-remove is not
// sent; it ends not reachable (never done, no failure --max-failures
// counts), and the cloud moves the VIP anyway: lb-2 and web-1 are
// configured (issue 16).
func TestRolloutUnreachableSource(t *testing.T) {
	r := &fakeRunner{}
	rep, cloud := applyHosts(t, r, HostOptions{Unreachable: map[string]string{idLB1: "lb-1 (" + idLB1 + ") is Stopped"}})
	for _, s := range []string{"detach eni/vip", "unassign instance/lb-1", "attach eni/vip", "assign instance/web-1"} {
		if !slices.Contains(cloud.done, s) {
			t.Errorf("%s did not run: %v", s, cloud.done)
		}
	}
	if slices.Contains(r.ran, idLB1) {
		t.Errorf("a script was sent to the stopped lb-1: %v", r.ran)
	}
	if got := stepIDs(rep.Done); !slices.Contains(got, "host-apply host/lb-2") || !slices.Contains(got, "host-apply host/web-1") {
		t.Errorf("done %v", got)
	}
	var ue *UnreachableError
	if len(rep.Failed) != 1 || !errors.As(rep.Failed[0].Err, &ue) || rep.Failed[0].Step.ID != "host-remove host/lb-1" {
		t.Fatalf("failed %v", rep.Failed)
	}
	if msg := ue.Error(); !strings.HasPrefix(msg, "not reachable: lb-1 (i-bp1lb0000001) is Stopped; skipped") || !strings.Contains(msg, "pushed to once it is back") {
		t.Errorf("error %q", msg)
	}
	i := slices.IndexFunc(rep.Hosts, func(h HostReport) bool { return h.Step.ID == "host-remove host/lb-1" })
	if i < 0 || !strings.HasPrefix(rep.Hosts[i].Result.Error, notReachablePrefix) || rep.Hosts[i].Result.ExitCode != -1 {
		t.Errorf("host reports %+v", rep.Hosts)
	}
}

// TestReachNotes: the plan says which host steps cannot run, what apply
// does instead, and what the source still holds when it comes back.
func TestReachNotes(t *testing.T) {
	p, _, o, _ := hostsPlan(t)
	o.Instance(idLB1).Status = InstanceStopped
	un := Unreachable(p, o, map[string]bool{idLB2: false})
	if un[idLB1] != "lb-1 (i-bp1lb0000001) is Stopped" || !strings.Contains(un[idLB2], "agent of lb-2") || un[idWeb1] != "" {
		t.Fatalf("unreachable %v", un)
	}
	notes := ReachNotes(p, un)
	if len(notes) != 2 {
		t.Fatalf("notes %q", notes)
	}
	want := "host-remove host/lb-1 cannot run: lb-1 (i-bp1lb0000001) is Stopped. apply --hosts skips it (outcome: not reachable, not done) and goes on: " +
		"the cloud unassigns 172.16.0.31 and detaches ENI vip anyway"
	if !strings.HasPrefix(notes[0], want) || !strings.Contains(notes[0], "When lb-1 is back it still holds the configuration for 172.16.0.31, 172.16.0.100, 172.16.0.101, 172.16.0.102: run ecsnet push --instance lb-1") {
		t.Errorf("note %q", notes[0])
	}
	if !strings.HasPrefix(notes[1], "host-apply host/lb-2 cannot run: the Cloud Assistant agent of lb-2") {
		t.Errorf("note %q", notes[1])
	}
}

// unreachableRunner answers for the hosts named as Cloud Assistant does
// for a host it cannot reach (ecs.Client.RunScript): no exit code, and
// the error says so.
type unreachableRunner struct {
	fakeRunner
	down string
}

func (r *unreachableRunner) RunScript(ctx context.Context, s HostScript) ([]HostResult, error) {
	if slices.Contains(s.InstanceIDs, r.down) {
		return []HostResult{{InstanceID: r.down, Status: "Failed", ExitCode: -1,
			Error: notReachablePrefix + "the instance is not running (InstanceNotRunning: stopped)"}}, nil
	}
	return r.fakeRunner.RunScript(ctx, s)
}

// TestRolloutUnreachableWhenRun: a source that the cloud answers as not
// reachable when its host-remove runs (stopped after the plan was made)
// does not hold back the failover either.
func TestRolloutUnreachableWhenRun(t *testing.T) {
	p, g, o, l := hostsPlan(t)
	cloud := &fakeCloud{obs: o}
	r := &unreachableRunner{down: idLB1}
	ho := &HostOptions{Runner: r, Payload: func(*Step, *schema.Lock) (HostPayload, error) {
		return HostPayload{Scripts: [][]byte{[]byte("x")}}, nil
	}}
	rep, err := Apply(context.Background(), cloud, g, p, l, ApplyOptions{Hosts: ho})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cloud.done, "attach eni/vip") || !slices.Contains(stepIDs(rep.Done), "host-apply host/lb-2") {
		t.Errorf("the failover did not finish: cloud %v, done %v", cloud.done, stepIDs(rep.Done))
	}
	var ue *UnreachableError
	if len(rep.Failed) != 1 || !errors.As(rep.Failed[0].Err, &ue) || !strings.Contains(ue.Reason, "InstanceNotRunning") {
		t.Errorf("failed %v", rep.Failed)
	}
}
