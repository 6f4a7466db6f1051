package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestPlanErrorsInFormat (issue 12 item 29): an error plan.Compute finds
// in the desired state (here a vSwitch block the cloud does not have)
// prints in the format asked for, as a load error does: the JSON
// document of validate with the error's file, line and column, or a
// GitHub annotation on the file's line, so that a pull request shows it
// there. Text stays as it was.
func TestPlanErrorsInFormat(t *testing.T) {
	c := newE2E(t, nil)
	pos := c.slash25()
	file, line, col := splitPos(t, pos)

	code, out, errs := c.run("plan", "--format", "json", c.dir)
	var doc struct {
		Valid  bool `json:"valid"`
		Errors []struct {
			File    string `json:"file"`
			Line    int    `json:"line"`
			Column  int    `json:"column"`
			Message string `json:"message"`
			Hint    string `json:"hint"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != exitError || err != nil {
		t.Fatalf("plan --format json: exit %d, %v; stdout:\n%s\nstderr:\n%s", code, err, out, errs)
	}
	if doc.Valid || len(doc.Errors) != 1 || doc.Errors[0].File != file || doc.Errors[0].Line != line || doc.Errors[0].Column != col ||
		!strings.Contains(doc.Errors[0].Message, "differs from the cloud's 172.16.3.0/24") || doc.Errors[0].Hint == "" {
		t.Errorf("plan --format json: %+v, want one error at %s", doc, pos)
	}
	if errs != "" {
		t.Errorf("plan --format json also wrote to stderr:\n%s", errs)
	}

	code, out, _ = c.run("plan", "--format", "github", c.dir)
	want := "::error file=" + ghProp(file) + ",line=" + strconv.Itoa(line) + ",col=" + strconv.Itoa(col) + ",title=ecsnet plan::"
	if code != exitError || !strings.HasPrefix(out, want) || !strings.Contains(out, "differs from the cloud's 172.16.3.0/24") {
		t.Errorf("plan --format github: exit %d, want 1 and an annotation starting %q:\n%s", code, want, out)
	}

	code, _, errs = c.run("plan", c.dir)
	wantBlockError(t, "plan", code, errs, pos)
	if !strings.HasSuffix(errs, "\n1 error\n") {
		t.Errorf("plan: text errors do not end with the count:\n%s", errs)
	}
	c.wantCalls(nil)
}

// TestPlanGitHubFormat: with no error, plan --format github prints the
// plan as text, and a load error is an annotation.
func TestPlanGitHubFormat(t *testing.T) {
	c := newE2E(t, nil)
	text, _ := c.must(exitOK, "plan", c.dir)
	gh, _ := c.must(exitOK, "plan", "--format", "github", c.dir)
	if gh != text {
		t.Errorf("plan --format github differs from the text plan:\n%s\nwant:\n%s", gh, text)
	}
	c.edit(`cidr: "172.16.3.0/24"`, `cidr: "172.16.3.0/33"`)
	code, out, _ := c.run("plan", "--format", "github", c.dir)
	if code != exitError || !strings.HasPrefix(out, "::error file="+ghProp(c.fleetPath())+",line=") {
		t.Errorf("plan --format github of an invalid file: exit %d\n%s", code, out)
	}
}

// TestRenderErrorHasPosition (issue 12 item 29): a host that cannot be
// rendered (here: the lock, edited by hand, gives a secondary ENI device
// index 150) is named by its instance's file:line:col in the desired
// state, for render and plan --rendered alike.
func TestRenderErrorHasPosition(t *testing.T) {
	c := appliedE2E(t, nil)
	lock, err := os.ReadFile(c.lockPath())
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`"device_index": [1-9]\b`)
	if !re.Match(lock) {
		t.Fatalf("no secondary ENI's device index in the lock:\n%s", lock)
	}
	done := false
	lock = re.ReplaceAllFunc(lock, func(b []byte) []byte {
		if done {
			return b
		}
		done = true
		return []byte(`"device_index": 150`)
	})
	if err := os.WriteFile(c.lockPath(), lock, 0o644); err != nil {
		t.Fatal(err)
	}
	f := c.fleet()
	at := regexp.MustCompile(`(?m)^(\S+:\d+:\d+): instances\."([a-z0-9-]+)": render [a-z0-9-]+ \([a-z0-9]+\): .*device index 150 is not between 1 and 99$`)
	check := func(what, stderr string) {
		t.Helper()
		m := at.FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("%s: no error at an instance's position:\n%s", what, stderr)
		}
		if in := f.Instance(m[2]); in == nil || in.Pos.String() != m[1] {
			t.Errorf("%s: the error is at %s, not at instance %s's name", what, m[1], m[2])
		}
	}
	out := filepath.Join(t.TempDir(), "rendered")
	code, _, errs := runCLI(t, "render", "--out", out, c.dir)
	if code != exitError {
		t.Fatalf("render: exit %d, want 1\n%s", code, errs)
	}
	check("render", errs)

	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, errs = c.run("plan", "--rendered", out, c.dir)
	if code != exitError {
		t.Fatalf("plan --rendered: exit %d, want 1\n%s", code, errs)
	}
	check("plan --rendered", errs)
}

// TestPlanRenderedLoadsOnce (issue 12 item 29): plan --rendered lists the
// host files from the fleet the plan was made from, read once. A desired
// state read from stdin can be read only once, so the host section shows
// only when the fleet is not loaded a second time.
func TestPlanRenderedLoadsOnce(t *testing.T) {
	c := appliedE2E(t, nil)
	out := filepath.Join(t.TempDir(), "rendered")
	if code, _, errs := runCLI(t, "render", "--out", out, c.dir); code != exitOK {
		t.Fatalf("render: exit %d\n%s", code, errs)
	}
	src, err := os.ReadFile(c.fleetPath())
	if err != nil {
		t.Fatal(err)
	}
	e, stdout, stderr := c.env(string(src))
	code := run([]string{"plan", "--endpoint", c.url, "--lock", c.lockPath(), "--rendered", out, "-"}, e)
	if code != exitOK || !strings.Contains(stdout.String(), "\nHost files ("+out+"):\n  no host file changes\n") {
		t.Errorf("plan --rendered of a fleet on stdin: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestPlurals (issue 12 item 23): counts of one print in the singular.
func TestPlurals(t *testing.T) {
	c := appliedE2E(t, nil)
	dir := filepath.Join(t.TempDir(), "one")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The example fleet with one instance and one ENI kept: lb-1 and
	// its vip.
	src, err := os.ReadFile(c.fleetPath())
	if err != nil {
		t.Fatal(err)
	}
	one := keepOnly(t, string(src), "lb-1", "vip")
	if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), []byte(one), 0o644); err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile(c.lockPath())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ecsnet.lock.json"), lock, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "validate", dir)
	if code != exitOK || !strings.Contains(stdout, ": 1 instance, 1 secondary ENI (1 bound, 0 unbound),") {
		t.Errorf("validate: exit %d\n%s%s", code, stdout, stderr)
	}
	out := filepath.Join(t.TempDir(), "rendered")
	code, stdout, stderr = runCLI(t, "render", "--out", out, dir)
	if want := "rendered 1 host into " + out + " (1 host changed)\n"; code != exitOK || stdout != want {
		t.Errorf("render: exit %d, stdout %q, want %q\n%s", code, stdout, want, stderr)
	}
	code, stdout, stderr = runCLI(t, "render", "--out", out, dir)
	if want := "rendered 1 host into " + out + " (0 hosts changed)\n"; code != exitOK || stdout != want {
		t.Errorf("render again: exit %d, stdout %q, want %q\n%s", code, stdout, want, stderr)
	}
	code, _, stderr = runCLI(t, "render", "--check", "--out", out, dir)
	if want := out + " is up to date (1 host)\n"; code != exitOK || stderr != want {
		t.Errorf("render --check: exit %d, stderr %q, want %q", code, stderr, want)
	}
}

// keepOnly cuts the e2e fleet down to one instance and one ENI: every
// other instances and enis entry is dropped.
func keepOnly(t *testing.T, src, instance, eni string) string {
	t.Helper()
	var b bytes.Buffer
	section := ""
	keep := true
	for _, l := range strings.SplitAfter(src, "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "instances:") || strings.HasPrefix(l, "enis:"):
			section = strings.TrimSuffix(strings.Fields(l)[0], ":")
			keep = true
		case section != "" && strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, "\t\t") && strings.HasSuffix(trimmed, "{"):
			name := strings.Trim(strings.Fields(trimmed)[0], `":`)
			keep = section == "instances" && name == instance || section == "enis" && name == eni
		case section != "" && !strings.HasPrefix(l, "\t") && trimmed != "" && trimmed != "}":
			section, keep = "", true
		}
		if keep || trimmed == "}" && !strings.HasPrefix(l, "\t") {
			b.WriteString(l)
		}
	}
	return b.String()
}

func splitPos(t *testing.T, pos string) (string, int, int) {
	t.Helper()
	m := regexp.MustCompile(`^(.*):(\d+):(\d+)$`).FindStringSubmatch(pos)
	if m == nil {
		t.Fatalf("%q is not file:line:col", pos)
	}
	line, _ := strconv.Atoi(m[2])
	col, _ := strconv.Atoi(m[3])
	return m[1], line, col
}

// TestVerifyTextPlurals (issue 12 item 23): verify's header and summary
// say "1 host" and "1 error".
func TestVerifyTextPlurals(t *testing.T) {
	var b bytes.Buffer
	writeVerifyText(&b, &verifyDoc{Fleet: "f", Summary: verifySummary{Hosts: 1, Errors: 1}})
	for _, want := range []string{"ecsnet verify: fleet f, 1 host\n", "Verify: 0 in sync, 0 with drift, 1 error, 0 not checked."} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("verify text lacks %q:\n%s", want, b.String())
		}
	}
}

// TestPushPlurals (issue 12 item 23): a push to one host says "1 host"
// in its header and its summary.
func TestPushPlurals(t *testing.T) {
	c, _ := newRunnerE2E(t, nil) // hosts answer with the payload's result line
	c.apply()
	code, out, errs := c.run("push", "--instance", "web-1", c.dir)
	if code != exitOK || !strings.Contains(out, "ecsnet push: 1 host of fleet shop-prod, 10 at once\n") || !strings.Contains(out, "\nPush: 1 host done of 1: 1 applied in ") {
		t.Errorf("push to one host: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}
