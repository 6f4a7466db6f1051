package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/render"
)

// readTree returns every regular file under dir by slash path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestE2EReviewBeforeApply: a pull request adds an ENI with counted
// addresses to lb-2 and grows app-1-data's count. Before apply, plan
// --rendered lists both hosts by name with their files and what the cloud
// picks (issue 12 item 6), and render --check shows their diff with
// placeholders under a header that says so, exit 2 (item 28); a plain
// render refuses to write them (exit 1), says to apply first and leaves
// their files as they were; plan and check change nothing in the cloud.
// After apply, render writes the real values and --check is clean.
func TestE2EReviewBeforeApply(t *testing.T) {
	c := appliedE2E(t, nil)
	out := filepath.Join(t.TempDir(), "rendered")
	if code, so, se := runCLI(t, "render", "--out", out, c.dir); code != exitOK {
		t.Fatalf("render: exit %d\n%s\n%s", code, so, se)
	}
	before := readTree(t, out)

	c.edit(`	"db-1-repl": {`, `	"lb-2-data": {
		vswitch:          "data-h"
		securityGroups:   ["web"]
		secondaryIpCount: 3
		attachTo:         "lb-2"
	}
	"db-1-repl": {`)
	c.edit("secondaryIpCount: 4", "secondaryIpCount: 5")

	stdout, _ := c.must(exitChanges, "plan", "--detailed-exitcode", "--rendered", out, c.dir)
	section := stdout[strings.Index(stdout, "Host files ("):]
	for _, want := range []string{
		"  app-1 (the cloud picks at apply: eni/app-1-data: address 5 of 5):\n    ~ ecsnet-apply.sh\n",
		"  lb-2 (the cloud picks at apply: eni/lb-2-data: ID, MAC, device index, primary address, addresses 1-3 of 3):\n",
		"    ~ etc/network/interfaces.d/60-ecsnet\n",
		"  " + render.ReviewNote + "\n",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("plan --rendered lacks %q:\n%s", want, section)
		}
	}
	if strings.Contains(section, "not rendered") || strings.Contains(section, "no host file changes") {
		t.Errorf("plan --rendered leaves hosts out:\n%s", section)
	}

	code, diff, stderr := runCLI(t, "render", "--check", "--out", out, c.dir)
	if code != exitChanges {
		t.Fatalf("render --check: exit %d, want 2\n%s\n%s", code, diff, stderr)
	}
	if !strings.HasPrefix(diff, render.ReviewNote+"\n  app-1: eni/app-1-data: address 5 of 5\n  lb-2: eni/lb-2-data: ") {
		t.Errorf("render --check's diff does not open with the placeholder note:\n%s", diff)
	}
	for _, want := range []string{
		"--- a/lb-2/etc/network/interfaces.d/60-ecsnet\n+++ b/lb-2/etc/network/interfaces.d/60-ecsnet\n",
		"+auto mac/<MAC of eni/lb-2-data: picked at apply>/=ecsnet-lb-2-data\n",
		"<address 3 of 3 on eni/lb-2-data: picked by the cloud>",
		"<address 5 of 5 on eni/app-1-data: picked by the cloud>",
	} {
		if !strings.Contains(diff, want) {
			t.Errorf("render --check's diff lacks %q", want)
		}
	}
	if !strings.Contains(stderr, "hosts app-1, lb-2 need what the cloud picks (shown as <...>): run ecsnet apply "+c.dir+", then ecsnet render --out "+out+" "+c.dir) {
		t.Errorf("render --check's message: %s", stderr)
	}
	c.wantCalls(map[string]int{})

	code, stdout, stderr = runCLI(t, "render", "--out", out, c.dir)
	if code != exitError || !strings.Contains(stderr, "run ecsnet apply") || !strings.Contains(stderr, "ENI lb-2-data of lb-2") {
		t.Errorf("render with picks missing: exit %d, want 1 and to be told to apply\n%s\n%s", code, stdout, stderr)
	}
	after := readTree(t, out)
	for p, data := range after {
		if strings.Contains(data, "picked") || strings.Contains(p, "<") {
			t.Errorf("render wrote a placeholder into %s", p)
		}
		if (strings.HasPrefix(p, "lb-2/") || strings.HasPrefix(p, "app-1/")) && before[p] != data {
			t.Errorf("render changed %s, a file of a host it cannot render yet", p)
		}
	}

	c.apply()
	code, stdout, stderr = runCLI(t, "render", "--out", out, c.dir)
	if code != exitOK {
		t.Fatalf("render after apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	mac := c.lock().Secondary("lb-2-data").MAC
	if got := readTree(t, out)["lb-2/etc/network/interfaces.d/60-ecsnet"]; mac == "" || !strings.Contains(got, "auto mac/"+mac+"/=ecsnet-lb-2-data\n") {
		t.Errorf("after apply lb-2 has not the MAC the cloud picked (%s):\n%s", mac, got)
	}
	for p, data := range readTree(t, out) {
		if bytes.Contains([]byte(data), []byte("picked")) {
			t.Errorf("%s has a placeholder after apply", p)
		}
	}
	if code, so, se := runCLI(t, "render", "--check", "--out", out, c.dir); code != exitOK {
		t.Errorf("render --check after render: exit %d\n%s\n%s", code, so, se)
	}
	stdout, _ = c.must(exitOK, "plan", "--detailed-exitcode", "--rendered", out, c.dir)
	if !strings.Contains(stdout, "  no host file changes\n") || strings.Contains(stdout, "<...>") {
		t.Errorf("plan --rendered after apply and render:\n%s", stdout)
	}
}
