package guest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// TestVerdictString pins the verdicts' names: verify's JSON output
// carries them as each host's status.
func TestVerdictString(t *testing.T) {
	for v, want := range map[Verdict]string{InSync: "in_sync", Drifted: "drift", CheckFailed: "error", NotChecked: "not_checked", 9: "Verdict(9)"} {
		if got := v.String(); got != want {
			t.Errorf("Verdict(%d).String() = %q, want %q", int(v), got, want)
		}
	}
}

// TestJudge decides a host's verdict from what its verify script gave,
// for every way a check can end.
func TestJudge(t *testing.T) {
	h := exampleHost(t, "lb-1")
	drifted := strings.Replace(string(ipJSON(h)), `"local":"`+h.Secondary[0].Address.String()+`"`, `"local":"172.16.9.9"`, 1)
	ok := func(out string) *plan.HostResult {
		return &plan.HostResult{Status: "Success", Output: out, Took: 1500 * time.Millisecond}
	}
	for _, c := range []struct {
		name    string
		h       *render.Host
		problem string
		r       *plan.HostResult
		want    Verdict
		reason  string
		drift   bool
	}{
		{"as rendered", h, "", ok(string(liveOutput(ipJSON(h), true))), InSync, "", false},
		{"drifted", h, "", ok(string(liveOutput([]byte(drifted), true))), Drifted, "", true},
		{"no render", nil, "the lock lacks its MAC; run ecsnet apply first", nil, CheckFailed, "the lock lacks its MAC; run ecsnet apply first", false},
		{"no result", h, "", nil, CheckFailed, "no result", false},
		{"script failed", h, "", &plan.HostResult{Status: "Failed", ExitCode: 3, Output: "ecsnet: ip(8) is not installed\n"}, CheckFailed,
			"exit 3 (refused; nothing changed): ecsnet: ip(8) is not installed", false},
		{"agent error", h, "", &plan.HostResult{Status: "Error", Error: "InstanceNotRunning: stopped"}, CheckFailed, "Error: InstanceNotRunning: stopped", false},
		{"recorded by the emulator", h, "", ok("ecsnet emulator: wicked: recorded, not executed (needs wickedd)\n"), NotChecked,
			"the emulator records this family's scripts without running them", false},
		{"nothing reported", h, "", ok(""), CheckFailed,
			"the host's verify script did not report its live state (exit 0, no output): was it run? (ecsnet emulator without --hosts runs no scripts)", false},
		{"ended early", h, "", ok("a\nb\nc\nd\n"), CheckFailed, "the host's verify script ended without reporting its live state; its output ends: b | c | d", false},
		{"unreadable", h, "", ok(LiveMarker + "!!!\n"), CheckFailed, "live state: illegal base64 data at input byte 0", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := judge(c.h, c.problem, c.r)
			if got.Verdict != c.want || got.Reason != c.reason || (len(got.Drift) > 0) != c.drift {
				t.Errorf("judge = %v, reason %q, drift %q; want %v, reason %q, drift %v", got.Verdict, got.Reason, got.Drift, c.want, c.reason, c.drift)
			}
			if (got.Live != nil) != (got.Verdict == InSync || got.Verdict == Drifted) {
				t.Errorf("%v with live state %v", got.Verdict, got.Live)
			}
			if c.r != nil && (got.Took != c.r.Took || got.ExitCode != c.r.ExitCode) {
				t.Errorf("took %v exit %d, want the script's %v and %d", got.Took, got.ExitCode, c.r.Took, c.r.ExitCode)
			}
		})
	}
}

// nsRunner runs each script with bash in the namespace that stands in
// for the instance, as Cloud Assistant runs it on the host.
type nsRunner struct {
	t      *testing.T
	hosts  map[string]*hosttest.Netns // by instance ID
	called []string
}

func (r *nsRunner) RunScript(ctx context.Context, s plan.HostScript) ([]plan.HostResult, error) {
	r.called = append(r.called, s.Name)
	path := filepath.Join(r.t.TempDir(), "script.sh")
	if err := os.WriteFile(path, s.Content, 0o700); err != nil {
		return nil, err
	}
	var out []plan.HostResult
	for _, id := range s.InstanceIDs {
		ns := r.hosts[id]
		if ns == nil {
			out = append(out, plan.HostResult{InstanceID: id, Status: "Error", Error: "InstanceNotRunning: the test has no namespace for it"})
			continue
		}
		o, e, err := ns.Exec(nil, "/bin/bash", path)
		res := plan.HostResult{InstanceID: id, Status: "Success", Output: o + e}
		var ee interface{ ExitCode() int }
		if errors.As(err, &ee) {
			res.Status, res.ExitCode = "Failed", ee.ExitCode()
		} else if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

// TestVerifyInNamespaces verifies the example fleet where edge-1 is a
// namespace as DHCP left it (nothing of ecsnet's applied), lb-1's lock
// entry for its secondary ENI is gone, and no other instance answers:
// one call per OS family, and each host's verdict in the fleet's order.
func TestVerifyInNamespaces(t *testing.T) {
	f, lock := standin.Example(t)
	var edge *render.Host
	for _, h := range standin.ExampleHosts(t) {
		if h.Name == "edge-1" {
			edge = h
		}
	}
	ns := standin.Netns(t, edge)
	lock = lock.Clone()
	lb := f.AttachedTo("lb-1")[0].Name
	lock.ENIs = slices.DeleteFunc(lock.ENIs, func(e *schema.LockedENI) bool { return e.Name == lb })
	run := &nsRunner{t: t, hosts: map[string]*hosttest.Netns{edge.InstanceID: ns}}
	var waited []string
	rep, err := Verify(context.Background(), run, f, lock, VerifyOptions{Wait: func(what string) func() {
		waited = append(waited, what)
		return func() {}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.called) != 2 || len(waited) != 2 || !strings.Contains(waited[1], "Windows") {
		t.Errorf("runs %q, waits %q: want one per OS family", run.called, waited)
	}
	if len(rep.Hosts) != len(f.Instances) || rep.Fleet != f.Name {
		t.Fatalf("%d hosts of fleet %s, want %d of %s", len(rep.Hosts), rep.Fleet, len(f.Instances), f.Name)
	}
	for i, c := range rep.Hosts {
		if c.Instance != f.Instances[i].Name {
			t.Errorf("host %d is %s, want %s (the fleet's order)", i, c.Instance, f.Instances[i].Name)
		}
		switch c.Instance {
		case "edge-1":
			if c.Verdict != Drifted || !strings.Contains(strings.Join(c.Drift, "\n"), " is missing") {
				t.Errorf("edge-1 as DHCP left it: %v %q %q", c.Verdict, c.Reason, c.Drift)
			}
		case "lb-1":
			if c.Verdict != CheckFailed || !strings.HasPrefix(c.Reason, "the lock lacks ") {
				t.Errorf("lb-1 without its ENI in the lock: %v %q", c.Verdict, c.Reason)
			}
		default:
			if c.Verdict != CheckFailed || !strings.Contains(c.Reason, "InstanceNotRunning") {
				t.Errorf("%s with no namespace: %v %q", c.Instance, c.Verdict, c.Reason)
			}
		}
	}
	if n := rep.Count(Drifted) + rep.Count(CheckFailed); n != len(rep.Hosts) || rep.Count(InSync) != 0 {
		t.Errorf("counts: %d drifted, %d failed, %d in sync, of %d", rep.Count(Drifted), rep.Count(CheckFailed), rep.Count(InSync), len(rep.Hosts))
	}
}
