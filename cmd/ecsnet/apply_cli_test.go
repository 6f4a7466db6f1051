package main

import (
	"os"
	"strings"
	"testing"
)

// TestApplyDevNullIsNoTerminal runs apply with stdin from /dev/null, as
// cron and nohup do: a character device, but no terminal. It must refuse
// as for a pipe, not ask and then cancel.
func TestApplyDevNullIsNoTerminal(t *testing.T) {
	c := newE2E(t, nil)
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	e, out, errb := c.env("")
	e.stdin = null
	if code := run([]string{"apply", "--endpoint", c.url, c.dir}, e); code != exitError {
		t.Errorf("exit %d, want 1", code)
	}
	if strings.Contains(out.String(), "Apply these changes?") || !strings.Contains(errb.String(), "no terminal to confirm on") {
		t.Errorf("apply </dev/null did not refuse as without a terminal\nstdout:\n%s\nstderr:\n%s", out, errb)
	}
	c.wantCalls(map[string]int{})
}

// TestApplyPlanNeedsPath: apply --plan without the desired state says
// why it needs it, in the error and in the help.
func TestApplyPlanNeedsPath(t *testing.T) {
	code, _, errs := runCLI(t, "apply", "--plan", "plan.json")
	if code != exitError || !strings.Contains(errs, "--plan plan.json needs the desired-state PATH too: the saved plan is checked against it") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
	_, help, _ := runCLI(t, "help", "apply")
	if !strings.Contains(help, "still name the desired-state PATH: the plan is checked against it") {
		t.Errorf("help apply does not say why --plan needs PATH:\n%s", help)
	}
}
