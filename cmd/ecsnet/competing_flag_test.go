package main

import (
	"strings"
	"testing"
)

// TestAllowCompetingFlag: push and apply take --allow-competing, list it
// in their help, and pass it to the payloads (TestHostsE2ECompeting runs
// push with it against real guests).
func TestAllowCompetingFlag(t *testing.T) {
	for _, cmd := range []string{"push", "apply"} {
		code, stdout, _ := runCLI(t, "help", cmd)
		if code != 0 || !strings.Contains(stdout, "--allow-competing") {
			t.Errorf("help %s does not list --allow-competing:\n%s", cmd, stdout)
		}
	}
	var p pushArgs
	if err := pushFlags(&p).Parse([]string{"--allow-competing"}); err != nil || !p.allowCompeting {
		t.Errorf("push --allow-competing: %v, allowCompeting %t", err, p.allowCompeting)
	}
	var a applyArgs
	if err := applyFlags(&a).Parse([]string{"--hosts", "--allow-competing"}); err != nil || !a.allowCompeting {
		t.Errorf("apply --allow-competing: %v, allowCompeting %t", err, a.allowCompeting)
	}
}
