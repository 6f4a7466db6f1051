package plan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/schema"
)

// hostsPlan is a failover of the example's VIP from lb-1 to lb-2, with
// lb-1 also losing its secondary address and web-1 gaining one: host
// steps on lb-1 before, on lb-2 and web-1 after.
func hostsPlan(t *testing.T) (*Plan, *schema.Fleet, *Observed, *schema.Lock) {
	t.Helper()
	f := loadExample(t)
	o, l := converged(f)
	g := editAll(t, [][2]string{
		{`primaryIp:      "172.16.0.100"
		secondaryIps: ["172.16.0.101", "172.16.0.102"]
		attachTo: "lb-1"`, `primaryIp:      "172.16.0.100"
		secondaryIps: ["172.16.0.101", "172.16.0.102"]
		attachTo: "lb-2"`},
		{`ip: "172.16.0.12", securityGroups: ["web"], secondaryIps: ["172.16.0.31"]`, `ip: "172.16.0.12", securityGroups: ["web"]`},
		{`secondaryIps: ["172.16.0.21", "172.16.0.22"]`, `secondaryIps: ["172.16.0.21", "172.16.0.22", "172.16.0.23"]`},
	})
	p := compute(t, g, o, l, Options{})
	return WithHosts(p, g, o), g, o, l
}

func TestWithHosts(t *testing.T) {
	p, _, _, _ := hostsPlan(t)
	var ids []string
	for _, s := range p.Steps {
		ids = append(ids, s.ID)
	}
	want := []string{
		"assign instance/web-1", "host-remove host/lb-1",
		"unassign instance/lb-1", "detach eni/vip", "host-apply host/web-1",
		"attach eni/vip",
		"host-apply host/lb-2",
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("steps\n%s\nwant\n%s", strings.Join(ids, "\n"), strings.Join(want, "\n"))
	}
	for _, c := range []struct{ step, dep string }{
		{"unassign instance/lb-1", "host-remove host/lb-1"},
		{"detach eni/vip", "host-remove host/lb-1"},
		{"host-apply host/lb-2", "attach eni/vip"},
		{"host-apply host/web-1", "assign instance/web-1"},
	} {
		if !slices.Contains(p.Step(c.step).DependsOn, c.dep) {
			t.Errorf("%s does not wait for %s: %v", c.step, c.dep, p.Step(c.step).DependsOn)
		}
	}
	rm := p.Step("host-remove host/lb-1")
	if got := addrsString(rm.IPs); got != "172.16.0.31,172.16.0.100,172.16.0.101,172.16.0.102" {
		t.Errorf("host-remove IPs %s", got)
	}
	if rm.InstanceID != "i-bp1lb0000001" || rm.Target != HostTarget("lb-1") {
		t.Errorf("host-remove step %+v", rm)
	}
	if p.Step("host-apply host/lb-1") != nil {
		t.Error("lb-1 only loses: it needs no host-apply")
	}
	t.Logf("%s\n%s", rm.Reason, p.Step("host-apply host/web-1").Reason)
	// Pure: the plan WithHosts started from is unchanged, and a plan that
	// touches no instance gets no host step.
	f := loadExample(t)
	o, l := converged(f)
	empty := compute(t, f, o, l, Options{})
	if h := WithHosts(empty, f, o); len(h.Steps) != 0 {
		t.Errorf("an empty plan got %d host steps", len(h.Steps))
	}
}

func TestWithHostsFormats(t *testing.T) {
	p, _, _, _ := hostsPlan(t)
	js := renderJSON(t, p)
	golden.Check(t, "testdata/format_hosts_json.golden", js)
	golden.Check(t, "testdata/format_hosts_text.golden", renderText(t, p, TextOptions{}))
	golden.Check(t, "testdata/format_hosts_markdown.golden", renderMarkdown(t, p, MarkdownOptions{}))
	back, err := ReadJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Errorf("the plan read back differs")
	}
	if again := renderJSON(t, back); !bytes.Equal(again, js) {
		t.Error("writing the plan read back gives other bytes")
	}
	bad := strings.Replace(string(js), `"target": "host/lb-1"`, `"target": "eni/vip"`, 1)
	if _, err := ReadJSON(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "host step") {
		t.Errorf("a host step with a cloud target was read: %v", err)
	}
}

func TestHostLock(t *testing.T) {
	p, _, _, l := hostsPlan(t)
	l = l.Clone()
	l.Secondary("vip").AttachedTo, l.Secondary("vip").DeviceIndex = "lb-1", 1
	got := hostLock(l, p, p.Step("host-remove host/lb-1"))
	if e := got.Secondary("vip"); e.AttachedTo != "" || e.DeviceIndex != 0 {
		t.Errorf("vip is still attached in the remove step's lock: %+v", e)
	}
	if n := len(got.Primary("lb-1").Secondary); n != 0 {
		t.Errorf("lb-1 keeps %d secondary addresses", n)
	}
	if l.Secondary("vip").AttachedTo != "lb-1" || len(l.Primary("lb-1").Secondary) != 1 {
		t.Error("hostLock changed the executor's lock")
	}
	if same := hostLock(l, p, p.Step("host-apply host/lb-2")); !reflect.DeepEqual(same, l) {
		t.Error("an apply step's lock is not the lock as it stands")
	}
}

// fakeRunner runs nothing: it answers each instance with the exit code
// codes gives it (default 0), and counts the scripts in flight.
type fakeRunner struct {
	codes    map[string]int
	delay    time.Duration
	mu       sync.Mutex
	ran      []string
	inFlight atomic.Int32
	maxSeen  atomic.Int32
}

func (r *fakeRunner) RunScript(ctx context.Context, s HostScript) ([]HostResult, error) {
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	for {
		m := r.maxSeen.Load()
		if n <= m || r.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(r.delay)
	var out []HostResult
	for _, id := range s.InstanceIDs {
		r.mu.Lock()
		r.ran = append(r.ran, id)
		code := r.codes[id]
		r.mu.Unlock()
		res := HostResult{InstanceID: id, Status: "Success", ExitCode: code, Output: fmt.Sprintf("ecsnet: %s: result: exit %d\n", id, code)}
		if code != 0 {
			res.Status, res.Error = "Failed", "ExitCodeNonzero"
		}
		out = append(out, res)
	}
	return out, nil
}

func pushPlan(n int) *Plan {
	p := &Plan{Fleet: "f"}
	for i := range n {
		name := fmt.Sprintf("h%02d", i)
		p.Steps = append(p.Steps, &Step{ID: "host-apply host/" + name, Action: HostApply, Target: HostTarget(name), Instance: name, InstanceID: "i-" + name})
	}
	return p
}

func deliver(t *testing.T, p *Plan, r *fakeRunner, ho HostOptions) *Report {
	t.Helper()
	ho.Runner = r
	ho.ExitMeaning = func(code int) string { return fmt.Sprintf("meaning of %d", code) }
	ho.Payload = func(s *Step, _ *schema.Lock) (HostPayload, error) {
		return HostPayload{Scripts: [][]byte{[]byte("echo " + s.Instance)}}, nil
	}
	rep, err := Deliver(context.Background(), p, &schema.Lock{}, ApplyOptions{Hosts: &ho})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestRolloutCanaryFailureStops(t *testing.T) {
	r := &fakeRunner{codes: map[string]int{"i-h01": 5}}
	rep := deliver(t, pushPlan(10), r, HostOptions{Canary: 2, MaxFailures: 5})
	if len(rep.Failed) != 1 || rep.Failed[0].Step.Instance != "h01" {
		t.Errorf("failed: %v", rep.Failed)
	}
	if len(rep.Done) != 1 || len(rep.Skipped) != 8 {
		t.Errorf("%d done, %d skipped; want 1 and 8 (the canary failed)", len(rep.Done), len(rep.Skipped))
	}
	if slices.ContainsFunc(r.ran, func(id string) bool { return id != "i-h00" && id != "i-h01" }) {
		t.Errorf("hosts beyond the canary ran: %v", r.ran)
	}
	var he *HostError
	if !errors.As(rep.Failed[0].Err, &he) || !strings.Contains(he.Error(), "exit 5 (meaning of 5)") {
		t.Errorf("error %v", rep.Failed[0].Err)
	}
	if len(rep.Hosts) != 2 || rep.Hosts[1].Result.ExitCode != 5 {
		t.Errorf("host reports %+v", rep.Hosts)
	}
}

func TestRolloutCanaryFirstAndAlone(t *testing.T) {
	r := &fakeRunner{delay: 5 * time.Millisecond}
	rep := deliver(t, pushPlan(12), r, HostOptions{Canary: 3, Batch: 4})
	if len(rep.Done) != 12 {
		t.Fatalf("%d done", len(rep.Done))
	}
	first := slices.Clone(r.ran[:3])
	slices.Sort(first)
	if !slices.Equal(first, []string{"i-h00", "i-h01", "i-h02"}) {
		t.Errorf("the canary did not run first: %v", r.ran)
	}
	if m := r.maxSeen.Load(); m > 4 {
		t.Errorf("%d hosts at once, over the batch of 4", m)
	}
}

func TestRolloutMaxFailures(t *testing.T) {
	r := &fakeRunner{codes: map[string]int{"i-h01": 5, "i-h03": 1, "i-h05": 6}}
	rep := deliver(t, pushPlan(10), r, HostOptions{Batch: 1, MaxFailures: 1})
	// Batch 1 runs the hosts in order: h01 fails (1 allowed), h03 fails
	// (2 > 1): the rollout stops there.
	if len(rep.Failed) != 2 || len(rep.Done) != 2 || len(rep.Skipped) != 6 {
		t.Errorf("%d failed, %d done, %d skipped; want 2, 2, 6", len(rep.Failed), len(rep.Done), len(rep.Skipped))
	}
	rep = deliver(t, pushPlan(10), &fakeRunner{codes: map[string]int{"i-h01": 5}}, HostOptions{Batch: 1})
	if len(rep.Failed) != 1 || len(rep.Skipped) != 8 {
		t.Errorf("default: the first failure stops the rollout; %d failed, %d skipped", len(rep.Failed), len(rep.Skipped))
	}
}

// fakeCloud does every step and observes what it was built with.
type fakeCloud struct {
	obs  *Observed
	mu   sync.Mutex
	done []string
}

func (c *fakeCloud) Observe(context.Context, *schema.Fleet) (*Observed, error) { return c.obs, nil }
func (c *fakeCloud) Do(_ context.Context, s *Step) (Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = append(c.done, s.ID)
	return Result{}, nil
}

// TestApplyHostRemoveFailureKeepsTheCloud: when the host cannot stop
// using the VIP, the cloud does not take it away.
func TestApplyHostRemoveFailureKeepsTheCloud(t *testing.T) {
	p, g, o, l := hostsPlan(t)
	cloud := &fakeCloud{obs: o}
	r := &fakeRunner{codes: map[string]int{"i-bp1lb0000001": 5}}
	var lockSeen []*schema.Lock
	var mu sync.Mutex
	ho := &HostOptions{Runner: r, MaxFailures: 10, Payload: func(s *Step, lock *schema.Lock) (HostPayload, error) {
		mu.Lock()
		lockSeen = append(lockSeen, lock)
		mu.Unlock()
		return HostPayload{Scripts: [][]byte{[]byte("x"), []byte("y")}}, nil
	}}
	rep, err := Apply(context.Background(), cloud, g, p, l, ApplyOptions{Hosts: ho})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(cloud.done, "detach eni/vip") || slices.Contains(cloud.done, "unassign instance/lb-1") {
		t.Errorf("the cloud removed what lb-1 still uses: %v", cloud.done)
	}
	if !slices.Contains(cloud.done, "assign instance/web-1") {
		t.Errorf("an independent cloud step did not run: %v", cloud.done)
	}
	var skipped []string
	for _, s := range rep.Skipped {
		skipped = append(skipped, s.ID)
	}
	slices.Sort(skipped)
	if want := []string{"attach eni/vip", "detach eni/vip", "host-apply host/lb-2", "unassign instance/lb-1"}; !slices.Equal(skipped, want) {
		t.Errorf("skipped %v, want %v", skipped, want)
	}
	if len(rep.Hosts) != 2 {
		t.Errorf("host reports: %+v", rep.Hosts)
	}
	// lb-1 failed on its first script: the second was never sent.
	if n := strings.Count(strings.Join(r.ran, ","), "i-bp1lb0000001"); n != 1 {
		t.Errorf("lb-1 got %d scripts after its first failed", n)
	}
	if _, err := Apply(context.Background(), cloud, g, p, l, ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "--hosts") {
		t.Errorf("a plan with host steps applied without a runner: %v", err)
	}
}
