package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The kinds of bad argument a new user hands a command: a path that does
// not exist, an empty file (what a failed `ecsnet observe > FILE` leaves),
// a truncated one, a directory where a file belongs, and an unknown flag.
const (
	badMissing   = "missing file"
	badEmpty     = "empty file"
	badMalformed = "malformed file"
	badDirectory = "directory"
)

// TestBadArgumentsExit1 runs every command with a bad argument of each
// kind in every place it takes a file, against the emulator, and wants
// exit 1 (never a panic, never 2, which --detailed-exitcode reads as
// "changes present") and an error naming the file.
func TestBadArgumentsExit1(t *testing.T) {
	c := newE2E(t, nil)
	fleet := c.dir
	snapshot := filepath.Join(t.TempDir(), "snapshot.json")
	out, _ := c.must(exitOK, "observe", fleet)
	if err := os.WriteFile(snapshot, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	bad := map[string]string{
		badMissing:   filepath.Join(dir, "missing.json"),
		badEmpty:     filepath.Join(dir, "empty.json"),
		badMalformed: filepath.Join(dir, "malformed.json"),
		badDirectory: filepath.Join(dir, "adir"),
	}
	if err := os.WriteFile(bad[badEmpty], nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad[badMalformed], []byte("{\"fleet\": \"sh"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(bad[badDirectory], 0o755); err != nil {
		t.Fatal(err)
	}
	ep := []string{"--endpoint", c.url}
	out1 := filepath.Join(t.TempDir(), "rendered")
	all := []string{badMissing, badEmpty, badMalformed, badDirectory}
	files := []string{badEmpty, badMalformed} // where a missing path or a directory is valid

	// Each slot is one place a command takes a file: args builds the
	// command line around the bad path.
	slots := []struct {
		name  string
		kinds []string
		args  func(p string) []string
	}{
		{"validate PATH", all, func(p string) []string { return []string{"validate", p} }},
		{"plan PATH", all, func(p string) []string { return append([]string{"plan"}, append(ep, p)...) }},
		{"plan --lock", all[1:], func(p string) []string { return append([]string{"plan", "--lock", p}, append(ep, fleet)...) }},
		{"plan --observed", all, func(p string) []string { return []string{"plan", "--detailed-exitcode", "--observed", p, fleet} }},
		{"plan --rendered", []string{badMissing, badEmpty, badMalformed}, func(p string) []string {
			return []string{"plan", "--detailed-exitcode", "--observed", snapshot, "--rendered", p, fleet}
		}},
		{"plan --save", []string{badDirectory}, func(p string) []string { return []string{"plan", "--observed", snapshot, "--save", p, fleet} }},
		{"apply PATH", all, func(p string) []string { return append([]string{"apply", "--auto-approve"}, append(ep, p)...) }},
		{"apply --lock", all[1:], func(p string) []string {
			return append([]string{"apply", "--auto-approve", "--lock", p}, append(ep, fleet)...)
		}},
		{"apply --plan", all, func(p string) []string {
			return append([]string{"apply", "--auto-approve", "--plan", p}, append(ep, fleet)...)
		}},
		{"failover PATH", all, func(p string) []string { return append([]string{"failover", "vip", "--to", "lb-2"}, append(ep, p)...) }},
		{"failover --lock", all[1:], func(p string) []string {
			return append([]string{"failover", "vip", "--to", "lb-2", "--lock", p}, append(ep, fleet)...)
		}},
		{"push PATH", all, func(p string) []string { return append([]string{"push"}, append(ep, p)...) }},
		{"push --lock", all[1:], func(p string) []string { return append([]string{"push", "--lock", p}, append(ep, fleet)...) }},
		{"verify PATH", all, func(p string) []string { return append([]string{"verify"}, append(ep, p)...) }},
		{"verify --lock", all[1:], func(p string) []string { return append([]string{"verify", "--lock", p}, append(ep, fleet)...) }},
		{"render PATH", all, func(p string) []string { return []string{"render", "--out", out1, p} }},
		{"render --lock", all[1:], func(p string) []string { return []string{"render", "--out", out1, "--lock", p, fleet} }},
		{"render --observed", all, func(p string) []string { return []string{"render", "--out", out1, "--observed", p, fleet} }},
		{"render --out", files, func(p string) []string { return []string{"render", "--out", p, "--observed", snapshot, fleet} }},
		{"import PATH", all, func(p string) []string {
			return append([]string{"import", "eni-bp1nothere01", "--as", "adopted"}, append(ep, p)...)
		}},
		{"import --lock", all[1:], func(p string) []string {
			return append([]string{"import", "eni-bp1nothere01", "--as", "adopted", "--lock", p}, append(ep, fleet)...)
		}},
		{"observe PATH", all, func(p string) []string { return append([]string{"observe"}, append(ep, p)...) }},
		{"show PLANFILE", all, func(p string) []string { return []string{"show", p} }},
		{"emulator --world", all, func(p string) []string { return []string{"emulator", "--world", p} }},
		{"demo --dir", files, func(p string) []string { return []string{"demo", "--dir", p} }},
	}
	for _, s := range slots {
		for _, k := range s.kinds {
			p := bad[k]
			t.Run(s.name+"/"+k, func(t *testing.T) {
				code, stdout, stderr := runNoPanic(t, c, s.args(p))
				if code != exitError {
					t.Errorf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
				}
				if !strings.Contains(stderr, filepath.Base(p)) {
					t.Errorf("the error does not name %s:\n%s", filepath.Base(p), stderr)
				}
			})
		}
	}

	// Every command, an unknown flag; and the commands without files, a
	// bad argument.
	others := [][]string{
		{"completion", "tcsh"},
		{"version", "extra"},
		{"help", "nope"},
		{"help", "validate", "extra"},
		{"nope"},
	}
	for _, cmd := range commands() {
		others = append(others, []string{cmd.name, "--bogus"})
	}
	for _, args := range others {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runNoPanic(t, c, args)
			if code != exitError {
				t.Errorf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if stderr == "" {
				t.Error("no error on stderr")
			}
		})
	}
}

// runNoPanic runs ecsnet in-process and turns a panic or a hang into a
// test failure.
func runNoPanic(t *testing.T, c *e2e, args []string) (code int, stdout, stderr string) {
	t.Helper()
	e, out, errb := c.env("")
	type result struct {
		code  int
		panic any
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			r.panic = recover()
			done <- r
		}()
		r.code = run(args, e)
	}()
	select {
	case r := <-done:
		if r.panic != nil {
			t.Fatalf("ecsnet %s panicked: %v\nstderr:\n%s", strings.Join(args, " "), r.panic, errb.String())
		}
		return r.code, out.String(), errb.String()
	case <-time.After(time.Minute):
		t.Fatalf("ecsnet %s did not return within a minute", strings.Join(args, " "))
	}
	return 0, "", ""
}

// TestPlanObservedBadSnapshot pins what plan --observed says about each
// bad snapshot: the file, what is wrong with it and what to do.
func TestPlanObservedBadSnapshot(t *testing.T) {
	c := newE2E(t, nil)
	dir := t.TempDir()
	out, _ := c.must(exitOK, "observe", c.dir)
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		path string
		want string
	}{
		{filepath.Join(dir, "missing.json"), "missing.json: no such file; write a snapshot first: ecsnet observe"},
		{write("empty.json", ""), "empty.json: the file is empty, as a failed `ecsnet observe > "},
		{write("short.json", out[:len(out)/2]), "short.json: read snapshot: "},
		{dir, "is a directory; name the snapshot file that ecsnet observe wrote"},
		{write("beijing.json", strings.Replace(out, `"region": "cn-hangzhou"`, `"region": "cn-beijing"`, 1)), "beijing.json is of region cn-beijing, the fleet is in cn-hangzhou"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			code, stdout, stderr := runNoPanic(t, c, []string{"plan", "--detailed-exitcode", "--observed", tt.path, c.dir})
			if code != exitError || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want 1 and an error containing %q\nstdout:\n%s\nstderr:\n%s", code, tt.want, stdout, stderr)
			}
		})
	}
}
