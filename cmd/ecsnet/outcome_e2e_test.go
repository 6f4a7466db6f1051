package main

// Tests of issue 15's "one truth for host status": every host step has
// one outcome with its reason on its own line, and a host whose script
// did not run is never printed or counted as done.

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// plainNotExecuted is the plain emulator's answer to every command.
const plainNotExecuted = "ecsnet emulator: not executed: start the emulator with --hosts to run scripts"

// noSuccess fails the test when out claims that a host was configured.
func noSuccess(t *testing.T, what, out string) {
	t.Helper()
	for _, bad := range []string{"applied and verified", " applied ", "  done     host-", "The cloud matches the desired state."} {
		if strings.Contains(out, bad) {
			t.Errorf("%s says %q for hosts whose script did not run:\n%s", what, bad, out)
		}
	}
}

// TestPushPlainEmulatorNotExecuted: the plain emulator runs no script;
// push says so for every host, with the emulator's reason on the host's
// line, counts none as done and exits 1, in text, JSON and markdown.
func TestPushPlainEmulatorNotExecuted(t *testing.T) {
	c := appliedE2E(t, nil)
	code, out, errs := c.run("push", c.dir)
	if code != exitError {
		t.Fatalf("push: exit %d, want 1\n%s\n%s", code, out, errs)
	}
	noSuccess(t, "push", out+errs)
	line := regexp.MustCompile(`(?m)^  \S+ +i-\S+ +not executed +\d+\.\ds  ` + regexp.QuoteMeta(plainNotExecuted) + `$`)
	if n := len(line.FindAllString(out, -1)); n != 10 {
		t.Errorf("%d hosts say not executed with the emulator's reason, want 10:\n%s", n, out)
	}
	if !strings.Contains(out, "\nPush: 0 hosts done of 10: 10 not executed in ") {
		t.Errorf("push's summary:\n%s", out)
	}

	code, out, errs = c.run("push", "--format", "json", c.dir)
	var doc pushDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitError {
		t.Fatalf("push --format json: exit %d, %v\n%s\n%s", code, err, out, errs)
	}
	if doc.Done != 0 || doc.Summary["not_executed"] != 10 || len(doc.Hosts) != 10 {
		t.Errorf("push --format json: done %d, summary %v, %d hosts", doc.Done, doc.Summary, len(doc.Hosts))
	}
	if !strings.Contains(out, `"outcome": "not executed",`) || !strings.Contains(out, `"reason": "`+plainNotExecuted+`"`) {
		t.Errorf("push --format json lacks the outcome and its reason:\n%s", out)
	}

	code, out, _ = c.run("push", "--format", "markdown", "--instance", "lb-1", c.dir)
	if code != exitError || !strings.Contains(out, "| lb-1 | i-bp1lb0000001 | not executed | "+plainNotExecuted+" |\n") ||
		!strings.Contains(out, "0 hosts of 1 configured: 1 not executed.") {
		t.Errorf("push --format markdown: exit %d\n%s", code, out)
	}
}

// TestApplyHostsPlainEmulatorNotExecuted: apply --hosts against the
// plain emulator makes the cloud's changes, but no host step counts as
// done: each is "not run" with the reason, the report says not executed,
// and apply exits 1 without saying the desired state is reached.
func TestApplyHostsPlainEmulatorNotExecuted(t *testing.T) {
	c := newE2E(t, nil)
	code, out, errs := c.run("apply", "--auto-approve", "--hosts", c.dir)
	if code != exitError {
		t.Fatalf("apply --hosts: exit %d, want 1\n%s\n%s", code, out, errs)
	}
	noSuccess(t, "apply --hosts", errs)
	progress := regexp.MustCompile(`(?m)^  not run  host-apply host/\S+ .*: not executed: ` + regexp.QuoteMeta(plainNotExecuted) + `$`)
	if n := len(progress.FindAllString(errs, -1)); n != 9 {
		t.Errorf("%d host steps are not run with the reason, want 9:\n%s", n, errs)
	}
	line := regexp.MustCompile(`(?m)^  \S+ +i-\S+ +not executed +\d+\.\ds  ` + regexp.QuoteMeta(plainNotExecuted) + `$`)
	if n := len(line.FindAllString(errs, -1)); n != 9 {
		t.Errorf("%d hosts are reported not executed, want 9:\n%s", n, errs)
	}
	// Neither done nor failed: not executed, with the reason.
	if !strings.Contains(errs, "Apply: 29 done, 0 failed, 9 not executed, 0 skipped") || strings.Contains(errs, "  failed: host-apply") ||
		strings.Count(errs, "\n  not executed: host-apply host/") != 9 {
		t.Errorf("the host steps are not counted as not executed:\n%s", errs)
	}
	hosts := "api-1,app-1,cache-1,db-1,db-2,edge-1,lb-1,web-1,win-1"
	want := "\nHosts to configure: " + strings.ReplaceAll(hosts, ",", ", ") + " were not configured in this run (the reason is on each host's line above). " +
		"Once the cause is dealt with, run:\n  ecsnet push --instance " + hosts + " --endpoint " + c.url + " " + c.dir + "\n"
	if !strings.HasSuffix(errs, want) {
		t.Errorf("apply --hosts does not end with the hosts left to configure:\n%s", errs)
	}
	// The cloud side is done all the same.
	c.must(exitOK, "plan", "--detailed-exitcode", c.dir)
}

// TestVerifyInstance: verify --instance checks the instances named
// only, with push's syntax (commas or repeats), and refuses a name the
// desired state lacks.
func TestVerifyInstance(t *testing.T) {
	c := appliedE2E(t, nil)
	code, out, errs := c.run("verify", "--instance", "lb-1,web-1", c.dir)
	if code != exitError || !strings.Contains(out, "ecsnet verify: fleet shop-prod, 2 hosts\n") ||
		!strings.Contains(out, "\n  lb-1 ") || !strings.Contains(out, "\n  web-1 ") || strings.Contains(out, "\n  db-1 ") ||
		!strings.Contains(out, "Verify: 0 in sync, 0 with drift, 2 errors, 0 not checked.") {
		t.Errorf("verify --instance lb-1,web-1: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = c.run("verify", "--instance", "nope", c.dir)
	if code != exitError || out != "" || !strings.Contains(errs, "ecsnet verify: --instance nope: no such instance in the desired state") {
		t.Errorf("verify --instance nope: exit %d\n%s\n%s", code, out, errs)
	}
}

// TestPushNotReachableSaysWhy: a stopped instance's host is "not
// reachable" with the cloud's reason on its own line, never an exit code
// and its meaning.
func TestPushNotReachableSaysWhy(t *testing.T) {
	c := appliedE2E(t, nil)
	if err := c.srv.SetInstanceStatus("i-bp1lb0000001", "Stopped"); err != nil {
		t.Fatal(err)
	}
	code, out, errs := c.run("push", "--instance", "lb-1", c.dir)
	if code != exitError {
		t.Fatalf("push: exit %d\n%s\n%s", code, out, errs)
	}
	line := regexp.MustCompile(`(?m)^  lb-1 +i-bp1lb0000001 +not reachable +\d+\.\ds  \S.*is Stopped, and commands run only on Running instances\.$`)
	if !line.MatchString(out) || strings.Contains(out, "(applied and verified)") || strings.Contains(out, "exit 0") {
		t.Errorf("push to a stopped instance:\n%s\n%s", out, errs)
	}
}

// TestApplyWithoutHostsNamesHostsToPush: a failover and an address
// change applied without --hosts end with the hosts that need push and
// the exact command, instead of only "The cloud matches the desired
// state"; the plan says the same in text, JSON and markdown; with
// --hosts neither says it.
func TestApplyWithoutHostsNamesHostsToPush(t *testing.T) {
	c := appliedE2E(t, nil)
	c.edit(`secondaryIps: ["172.16.0.31"]`, `secondaryIps: ["172.16.0.32"]`)
	c.edit(`attachTo: "lb-1"`, `attachTo: "lb-2"`)
	cmd := "ecsnet push --instance lb-1,lb-2 --endpoint " + c.url + " " + c.dir
	note := "Hosts to configure: this plan gives or takes away addresses or ENIs that lb-1, lb-2 use. Apply it with --hosts to configure them in the same run, " +
		"or after the apply run ecsnet push --instance lb-1,lb-2 with the same desired state."

	text, _ := c.must(exitOK, "plan", c.dir)
	js, _ := c.must(exitOK, "plan", "--format", "json", c.dir)
	md, _ := c.must(exitOK, "plan", "--format", "markdown", c.dir)
	var doc struct{ Notes []string }
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, note) || !slices.Contains(doc.Notes, note) || !strings.Contains(md, "Hosts to configure: this plan gives or takes away addresses or ENIs that lb-1, lb-2 use.") {
		t.Errorf("the plan does not name the hosts to push:\n%s\n%s\n%s", text, js, md)
	}
	if out, _ := c.must(exitOK, "plan", "--hosts", c.dir); strings.Contains(out, "Hosts to configure") {
		t.Errorf("plan --hosts names hosts to push:\n%s", out)
	}

	_, errs := c.must(exitOK, "apply", "--auto-approve", c.dir)
	t.Logf("plan:\n%s\napply:\n%s", text, errs)
	want := "\nHosts to configure: the cloud gave or took away addresses or ENIs that lb-1, lb-2 use, and this apply did not configure the hosts (no --hosts). " +
		"Until they are, a host may answer for an address the cloud now routes elsewhere, or lack one it routes to the host. Run:\n  " + cmd + "\n"
	if !strings.HasSuffix(errs, want) {
		t.Errorf("apply without --hosts does not end with the hosts to push:\n%s", errs)
	}
	// Nothing left to do: nothing to say.
	if _, errs := c.must(exitOK, "apply", "--auto-approve", c.dir); strings.Contains(errs, "Hosts to configure") {
		t.Errorf("an apply with no change names hosts:\n%s", errs)
	}
}
