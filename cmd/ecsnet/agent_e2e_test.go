package main

import (
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// TestUnreachableHosts: a host whose Cloud Assistant agent is stopped, and
// one whose instance is stopped, are reported by verify and by apply
// --hosts as hosts that cannot be reached, each on its own line and by
// name, with exit 1: not a crash, not a success, and the other hosts are
// still served.
func TestUnreachableHosts(t *testing.T) {
	c := newE2E(t, func(w *emulator.World) {
		for i := range w.Instances {
			switch w.Instances[i].InstanceName {
			case "lb-1":
				w.Instances[i].EcsnetAgent = "Stopped"
			case "lb-2":
				w.Instances[i].Status = "Stopped"
			}
		}
	})
	c.apply()
	code, out, errs := c.run("verify", c.dir)
	if code != exitError {
		t.Fatalf("verify: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, want := range []string{
		"host not reachable: its Cloud Assistant agent is not running (ClientNotRunning",
		"host not reachable: Cloud Assistant refused the command: InvalidInstance.NotMatch",
	} {
		if !strings.Contains(out+errs, want) {
			t.Errorf("verify does not say %q:\nstdout:\n%s\nstderr:\n%s", want, out, errs)
		}
	}
	line := func(text, host string) string {
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, host) && strings.Contains(l, "not reachable") {
				return l
			}
		}
		return ""
	}
	if line(out+errs, "lb-1") == "" || line(out+errs, "lb-2") == "" {
		t.Errorf("verify does not name the unreachable hosts:\n%s\n%s", out, errs)
	}
	if strings.Contains(out+errs, "panic") {
		t.Errorf("verify panicked:\n%s", errs)
	}
}
