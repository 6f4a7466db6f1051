package testcloud

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/ecs/emulator"
	_ "github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/internal/testfleet"
	"github.com/ecsnet/ecsnet/plan"
)

// TestObservedMatchesEmulator checks that Observed derives, from a world,
// exactly the snapshot ecs.Client.Observe reads from the emulator serving
// it, that a converged world plans empty, and that a bare one plans the
// steps of the apply formula.
func TestObservedMatchesEmulator(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	for _, dual := range []bool{false, true} {
		t.Run(fmt.Sprintf("dual-stack=%v", dual), func(t *testing.T) { observedMatchesEmulator(t, dual) })
	}
}

// observedMatchesEmulator is TestObservedMatchesEmulator for the plain
// fleet or for issue 17's shape (testfleet.Options.DualStack: IPv6
// addresses pinned and counted, a prefix on a tenth of the ENIs, the
// fleet's own type row for IPv6).
func observedMatchesEmulator(t *testing.T, dual bool) {
	const n = 250 // three vSwitches, five security groups
	f, err := FleetOf(testfleet.Options{Instances: n, Seed: 1, DualStack: dual})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []State{Bare, Converged} {
		w, want, lock, err := Snapshot(f, st)
		if err != nil {
			t.Fatal(err)
		}
		w.AccessKeys = []emulator.AccessKey{{AccessKeyId: "LTAI5tTestcloudKey01", AccessKeySecret: "testcloud-secret"}}
		srv, err := emulator.New(w, emulator.Options{})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv)
		defer hs.Close()
		c, err := ecs.New(ecs.Config{Region: f.Region, Endpoint: hs.URL,
			Credentials: ecs.Credentials{AccessKeyID: "LTAI5tTestcloudKey01", AccessKeySecret: "testcloud-secret"},
			ReadTimeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		got, err := c.Observe(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		var a, b bytes.Buffer
		if err := got.WriteJSON(&a); err != nil {
			t.Fatal(err)
		}
		if err := want.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			al, bl := strings.Split(a.String(), "\n"), strings.Split(b.String(), "\n")
			for i := range min(len(al), len(bl)) {
				if al[i] != bl[i] {
					t.Fatalf("state %d: snapshot line %d: Observe says %q, Observed says %q", st, i+1, al[i], bl[i])
				}
			}
			t.Fatalf("state %d: snapshots differ in length: %d and %d lines", st, len(al), len(bl))
		}
		p, err := plan.Compute(f, want, lock, plan.Options{})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[plan.Action]int{}
		for _, s := range p.Steps {
			counts[s.Action]++
		}
		switch st {
		case Converged:
			if !p.Empty() {
				t.Errorf("converged: the plan has %d steps: %v; first: %s %+v", len(p.Steps), counts, p.Steps[0].ID, *p.Steps[0])
			}
		case Bare:
			want := map[plan.Action]int{plan.CreateENI: 2 * n, plan.AttachENI: 2 * n, plan.AssignIPs: n}
			// Issue 17's steps: a primary ENI's IPv6 addresses and every
			// ENI's prefixes (each has secondary addresses, which a create
			// with prefixes cannot take) are assigned after the create;
			// a secondary ENI's two IPv6 addresses ride on its create.
			for _, in := range f.Instances {
				if in.Primary.IPv6.N() > 0 {
					want[plan.AssignIPv6]++
				}
				if in.Primary.Prefixes.N() > 0 {
					want[plan.AssignPrefixes]++
				}
			}
			for _, e := range f.ENIs {
				if e.Prefixes.N() > 0 {
					want[plan.AssignPrefixes]++
				}
			}
			if dual != (want[plan.AssignIPv6] > 0 && want[plan.AssignPrefixes] > 0) {
				t.Fatalf("dual-stack %v, but the fleet asks for %v", dual, want)
			}
			if !maps.Equal(counts, want) {
				t.Errorf("bare: steps %v, want %v", counts, want)
			}
		}
	}
}
