package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanRenderCheckSameAsSeparate: the pull-request job in one process,
// plan --rendered DIR --check, gives what validate, plan and render
// --check give one after the other (issue 18): the plan's output, then
// render --check's (the diff on stdout, its verdict on stderr), and exit
// 2 when the plan has changes (--detailed-exitcode) or DIR is out of date,
// 0 when neither, 1 for an error, with the same error lines as validate.
// Checked on a change that makes DIR stale, a clean tree after apply and
// render, a rendered file edited by hand (no plan change), and a desired
// state with an error; nothing mutates the cloud.
func TestPlanRenderCheckSameAsSeparate(t *testing.T) {
	c := appliedE2E(t, nil)
	out := filepath.Join(t.TempDir(), "rendered")
	if code, so, se := runCLI(t, "render", "--out", out, c.dir); code != exitOK {
		t.Fatalf("render: exit %d\n%s\n%s", code, so, se)
	}

	// same runs the separate commands and the one, with and without
	// --detailed-exitcode, and compares them; it returns the one's exit
	// code with --detailed-exitcode.
	same := func(t *testing.T, what string) int {
		t.Helper()
		var combined int
		for _, detailed := range [][]string{{"--detailed-exitcode"}, nil} {
			pc, pout, perr := c.run("plan", append(append([]string{}, detailed...), c.dir)...)
			rc, rout, rerr := runCLI(t, "render", "--check", "--out", out, c.dir)
			oc, oout, oerr := c.run("plan", append(append([]string{}, detailed...), "--rendered", out, "--check", c.dir)...)
			want := exitOK
			switch {
			case pc == exitError || rc == exitError:
				want = exitError
			case pc == exitChanges || rc == exitChanges:
				want = exitChanges
			}
			if oc != want {
				t.Errorf("%s %v: plan --rendered --check exit %d; plan exit %d and render --check exit %d make %d\n%s\n%s", what, detailed, oc, pc, rc, want, oout, oerr)
			}
			if want != exitError && oout != pout+rout {
				t.Errorf("%s %v: plan --rendered --check's stdout is not plan's, then render --check's:\n%s\n---\n%s%s", what, detailed, oout, pout, rout)
			}
			// render --check's verdict, in plan's name, and its apply
			// with plan's cloud flags (TestRenderCheckHintPasteable).
			rerr = strings.ReplaceAll(rerr, "ecsnet render: ", "ecsnet plan: ")
			rerr = strings.ReplaceAll(rerr, "run ecsnet apply ", "run ecsnet apply --endpoint "+c.url+" ")
			if want != exitError && oerr != perr+rerr {
				t.Errorf("%s %v: plan --rendered --check's stderr %q, want plan's then render --check's %q", what, detailed, oerr, perr+rerr)
			}
			if want == exitError && !strings.Contains(oerr, strings.TrimSpace(perr)) {
				t.Errorf("%s %v: plan --rendered --check's errors %q lack plan's %q", what, detailed, oerr, perr)
			}
			if detailed != nil {
				combined = oc
			}
		}
		return combined
	}

	c.edit(`	"db-1-repl": {`, `	"lb-2-data": {
		vswitch:          "data-h"
		securityGroups:   ["web"]
		secondaryIpCount: 3
		attachTo:         "lb-2"
	}
	"db-1-repl": {`)
	if code := same(t, "a new ENI"); code != exitChanges {
		t.Errorf("a new ENI: exit %d, want 2", code)
	}
	code, md, _ := c.run("plan", "--format", "markdown", "--rendered", out, "--check", c.dir)
	if code != exitChanges || !strings.Contains(md, "#### Rendered host files ("+out+"): out of date\n\n```diff\n") ||
		!strings.Contains(md, "+auto mac/<MAC of eni/lb-2-data: picked at apply>/=ecsnet-lb-2-data\n") || !strings.HasSuffix(md, "\n```\n") {
		t.Errorf("plan --format markdown --rendered --check: exit %d\n%s", code, md)
	}
	c.wantCalls(map[string]int{})

	c.apply()
	if code, so, se := runCLI(t, "render", "--out", out, c.dir); code != exitOK {
		t.Fatalf("render: exit %d\n%s\n%s", code, so, se)
	}
	c.calls()
	if code := same(t, "after apply and render"); code != exitOK {
		t.Errorf("after apply and render: exit %d, want 0", code)
	}

	hand := filepath.Join(out, "lb-2", "etc", "network", "interfaces.d", "60-ecsnet")
	if err := os.WriteFile(hand, []byte("# edited by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := same(t, "a rendered file edited by hand"); code != exitChanges {
		t.Errorf("a rendered file edited by hand: exit %d, want 2", code)
	}

	c.edit(`attachTo:         "lb-2"
	}
	"db-1-repl": {`, `attachTo:         "lb-9"
	}
	"db-1-repl": {`)
	if code := same(t, "an error in the desired state"); code != exitError {
		t.Errorf("an error in the desired state: exit %d, want 1", code)
	}
	_, verr := runCLIErr(t, "validate", c.dir)
	_, oerr := c.must(exitError, "plan", "--rendered", out, "--check", c.dir)
	if strings.TrimSpace(verr) == "" || !strings.Contains(oerr, strings.TrimSpace(verr)) {
		t.Errorf("plan --rendered --check's errors %q lack validate's %q", oerr, verr)
	}
	c.wantCalls(map[string]int{})
}

// runCLIErr runs an offline command and returns its exit code and stderr.
func runCLIErr(t *testing.T, args ...string) (int, string) {
	t.Helper()
	code, _, stderr := runCLI(t, args...)
	return code, stderr
}

// TestPlanCheckBadFlags: --check without --rendered, or with a JSON plan,
// and a render directory render --check would refuse are exit 1 before
// anything is read from the cloud.
func TestPlanCheckBadFlags(t *testing.T) {
	c := appliedE2E(t, nil)
	out := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--check", c.dir}, "--check checks the render directory of --rendered DIR: add --rendered DIR"},
		{[]string{"--check", "--rendered", out, "--format", "json", c.dir}, "a JSON document has no room for"},
		{[]string{"--check", "--rendered", c.dir, c.dir}, "holds the desired state"},
	} {
		_, errs := c.must(exitError, "plan", tc.args...)
		if !strings.Contains(errs, tc.want) {
			t.Errorf("plan %v: stderr %q, want %q", tc.args, errs, tc.want)
		}
	}
	c.wantCalls(map[string]int{})
}
