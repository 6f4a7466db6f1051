package main

import (
	"testing"
	"time"
)

// TestPhasesOf: the phases come from the lines ecsnet failover --hosts
// prints (as captured from a real run): the edit line, and a done line
// per step with its elapsed time.
func TestPhasesOf(t *testing.T) {
	at := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	lines := []line{
		{at(0.20), `ecsnet failover: /tmp/x/example/fleet.cue:118:13: enis."vip".attachTo: "lb-1" -> "lb-2"`},
		{at(0.21), "  1. host-remove host/lb-1: the host stops using ENI vip (detached next)"},
		{at(18.60), "  done     host-remove host/lb-1                      18.4s  [1/4]: exit 0 (applied and verified)"},
		{at(23.57), "  done     detach eni/vip                              5.0s  [2/4]"},
		{at(28.44), "  done     attach eni/vip                              4.9s  [3/4]"},
		{at(44.21), "  done     host-apply host/lb-2                       15.8s  [4/4]: exit 0 (applied and verified)"},
		{at(44.22), "  host-remove host/lb-1"},
	}
	got := phasesOf(lines)
	want := map[string]failoverPhase{
		"edit":        {end: at(0.20), took: at(0.20)},
		"host-remove": {end: at(18.60), took: 18400 * time.Millisecond},
		"detach":      {end: at(23.57), took: 5 * time.Second},
		"attach":      {end: at(28.44), took: 4900 * time.Millisecond},
		"host-apply":  {end: at(44.21), took: 15800 * time.Millisecond},
	}
	if len(got) != len(want) {
		t.Errorf("phases %v, want %v", got, want)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g.end != w.end || (g.took-w.took).Abs() > time.Millisecond {
			t.Errorf("phase %s: %+v, want %+v", k, g, w)
		}
	}
}
