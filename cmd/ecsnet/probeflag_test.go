package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/guest"
)

// TestSkipProbesFlag: push and apply take --skip-probes with the probes'
// names (or all), comma-separated or repeated, and hand them to the
// payload; a wrong name is a usage error (exit 1) naming the good ones,
// before anything is loaded or delivered.
func TestSkipProbesFlag(t *testing.T) {
	for _, cmd := range []string{"push", "apply"} {
		code, _, stderr := runCLI(t, cmd, "--skip-probes", "gateway,ping", "../../fixtures/example")
		if want := "--skip-probes ping: no such probe; use address, gateway, metadata, cloud-assistant or all"; code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("%s --skip-probes gateway,ping: exit %d, stderr %q; want 1 and %q", cmd, code, stderr, want)
		}
		code, stdout, _ := runCLI(t, "help", cmd)
		if code != 0 || !strings.Contains(stdout, "--skip-probes") {
			t.Errorf("help %s does not list --skip-probes:\n%s", cmd, stdout)
		}
	}
	var a pushArgs
	fs := pushFlags(&a)
	if err := fs.Parse([]string{"--skip-probes", "gateway,metadata", "--skip-probes", "gateway"}); err != nil {
		t.Fatal(err)
	}
	o := a.skipProbes.with(guest.PayloadOptions{Prune: true})
	if !o.Prune || !slices.Equal(o.SkipProbes, []string{guest.ProbeGateway, guest.ProbeMetadata}) {
		t.Errorf("payload options %+v, want Prune and SkipProbes [gateway metadata]", o)
	}
}
