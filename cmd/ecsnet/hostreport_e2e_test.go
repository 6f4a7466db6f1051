package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestHostsReportsSayWhat: in hosts mode, on real ifupdown and iproute2
// guests, apply --hosts and push show under each applied host the probes
// it did not run and why (the result line only names them: here
// --skip-probes turns one off); apply counts
// the hosts the emulator only records as not executed, not failed; and
// verify --instance checks the instances named, its JSON without the
// live-state line in output_tail.
func TestHostsReportsSayWhat(t *testing.T) {
	t.Parallel() // hosts mode: each test has its own emulator and namespaces
	c := newHostsE2E(t)
	_, errs := c.must(exitError, "apply", "--auto-approve", "--hosts", "--skip-probes", "cloud-assistant", c.dir)
	t.Logf("apply --hosts:\n%s", errs)
	skipped := regexp.MustCompile(`(?m)^  edge-1 +i-\S+ +applied .*\n(?:      \| .*\n)*      probe: cloud-assistant: skipped: turned off \(--skip-probes\)$`)
	if !skipped.MatchString(errs) {
		t.Errorf("apply --hosts does not show edge-1's skipped probe under it:\n%s", errs)
	}
	if !regexp.MustCompile(`(?m)^Apply: \d+ done, 0 failed, 7 not executed, 0 skipped in `).MatchString(errs) || strings.Contains(errs, "  failed: host-apply") {
		t.Errorf("apply --hosts counts hosts that are not executed as failed:\n%s", errs)
	}

	out, errs := c.must(exitOK, "push", "--skip-probes", "cloud-assistant", "--instance", "edge-1", c.dir)
	if !skipped.MatchString(out) {
		t.Errorf("push does not show edge-1's skipped probe under it:\n%s\n%s", out, errs)
	}
	js, _ := c.must(exitOK, "push", "--format", "json", "--skip-probes", "cloud-assistant", "--instance", "edge-1", c.dir)
	if !strings.Contains(js, `"probes_not_ok": [`) || !strings.Contains(js, `"name": "cloud-assistant",`) {
		t.Errorf("push --format json lacks probes_not_ok:\n%s", js)
	}

	vjs, _ := c.must(exitOK, "verify", "--format", "json", "--instance", "edge-1,lb-1", c.dir)
	var doc verifyDoc
	if err := json.Unmarshal([]byte(vjs), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Hosts) != 2 || doc.Summary.InSync != 2 || doc.Hosts[0].Live == nil || strings.Contains(vjs, "ECSNET-LIVE-1") {
		t.Errorf("verify --format json --instance edge-1,lb-1:\n%s", vjs)
	}
}
