package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/golden"
)

// runCLI runs ecsnet in-process with captured output and a fixed, empty
// environment.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code = run(args, e)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string // substring of stdout
		err  string // substring of stderr
	}{
		{args: nil, code: 1, err: "Usage:"},
		{args: []string{"help"}, code: 0, out: "Commands:"},
		{args: []string{"--help"}, code: 0, out: "Commands:"},
		{args: []string{"help", "validate"}, code: 0, out: "--format"},
		{args: []string{"help", "os"}, code: 0, out: "ubuntu22.04"},
		{args: []string{"help", "nope"}, code: 1, err: "unknown command"},
		{args: []string{"validate", "--help"}, code: 0, out: "Usage: ecsnet validate"},
		{args: []string{"validate"}, code: 1, err: "name the desired-state files"},
		{args: []string{"validate", "--format", "xml", "x.cue"}, code: 1, err: "--format must be one of"},
		{args: []string{"validate", "--bogus"}, code: 1, err: "unknown flag: --bogus"},
		{args: []string{"valid"}, code: 1, err: `Did you mean "validate"?`},
		{args: []string{"version"}, code: 0, out: "ecsnet "},
		{args: []string{"completion"}, code: 1, err: "name a shell"},
		{args: []string{"completion", "tcsh"}, code: 1, err: "unsupported shell"},
		{args: []string{"validate", "../../fixtures/example"}, code: 0, out: "valid: fleet \"shop-prod\""},
		{args: []string{"validate", "does-not-exist.cue"}, code: 1, err: "does-not-exist.cue: cannot read input: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errs)
			}
			if !strings.Contains(out, tt.out) {
				t.Errorf("stdout does not contain %q:\n%s", tt.out, out)
			}
			if !strings.Contains(errs, tt.err) {
				t.Errorf("stderr does not contain %q:\n%s", tt.err, errs)
			}
		})
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, out, _ := runCLI(t, "completion", sh)
		if code != 0 || !strings.Contains(out, "validate") || !strings.Contains(out, "format") {
			t.Errorf("%s completion: code %d, output:\n%s", sh, code, out)
		}
	}
}

// TestInvalidFixtures runs `ecsnet validate` on every broken input under
// fixtures/invalid and compares what it prints with the case's golden file
// (rewrite them with -update and review the diff by eye). Every case must
// exit 1 and name a position in its own file.
func TestInvalidFixtures(t *testing.T) {
	dir := filepath.Join("..", "..", "fixtures", "invalid")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	cases := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if ext != ".cue" && ext != ".json" && ext != ".yaml" && ext != ".yml" {
			continue
		}
		base := strings.TrimSuffix(name, ext)
		if other, dup := cases[base]; dup {
			t.Errorf("%s and %s would share the golden file %s.golden; rename one", other, name, base)
			continue
		}
		cases[base] = name
		n++
		t.Run(name, func(t *testing.T) {
			input := filepath.ToSlash(filepath.Join(dir, name))
			code, out, errs := runCLI(t, "validate", input)
			if code != exitError {
				t.Fatalf("exit code %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errs)
			}
			if out != "" {
				t.Errorf("an invalid input printed to stdout:\n%s", out)
			}
			if !strings.Contains(errs, input+":") {
				t.Errorf("no error names a position in %s:\n%s", input, errs)
			}
			// The golden file holds paths relative to fixtures/invalid, so
			// it reads the same wherever the test runs from.
			got := strings.ReplaceAll(errs, filepath.ToSlash(dir)+"/", "")
			golden.Check(t, filepath.Join(dir, strings.TrimSuffix(name, ext)+".golden"), []byte(got))
		})
	}
	if n < 25 {
		t.Errorf("fixtures/invalid holds %d cases, want at least 25", n)
	}
}

// TestGeneratedInvalid covers cases too large to commit.
func TestGeneratedInvalid(t *testing.T) {
	dir := t.TempDir()
	t.Run("over the size cap", func(t *testing.T) {
		p := filepath.Join(dir, "huge.json")
		big := bytes.Repeat([]byte(" "), 2<<20)
		if err := os.WriteFile(p, append([]byte(`{"fleet":"x"`), append(big, '}')...), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runCLI(t, "validate", "--max-input-size", "1048576", p)
		if code != 1 || !strings.Contains(errs, "larger than the 1 MiB cap") || !strings.Contains(errs, "--max-input-size") {
			t.Errorf("code %d, stderr:\n%s", code, errs)
		}
	})
	t.Run("10000 ENIs on one instance", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`{"fleet":"big","region":"cn-hangzhou",
"vswitches":{"app-h":{"id":"vsw-bp1app0000h","zone":"cn-hangzhou-h","cidr":"10.0.0.0/16"}},
"securityGroups":{"web":{"id":"sg-bp1web000001"}},
"instances":{"web-1":{"id":"i-bp1web000001","type":"ecs.g7.large","os":"linux","primary":{"vswitch":"app-h","ip":"10.0.0.10"}}},
"enis":{`)
		for i := 0; i < 10000; i++ {
			if i > 0 {
				b.WriteString(",\n")
			}
			fmt.Fprintf(&b, `"e-%05d":{"vswitch":"app-h","securityGroups":["web"],"attachTo":"web-1"}`, i)
		}
		b.WriteString("}}\n")
		p := filepath.Join(dir, "many.json")
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runCLI(t, "validate", p)
		if code != 1 || !strings.Contains(errs, `10001 ENIs would be attached to instance "web-1"`) || !strings.Contains(errs, p+":4:") {
			t.Errorf("code %d, stderr (first 2000 bytes):\n%.2000s", code, errs)
		}
	})
}

// TestTerraformLongFlags pins which words are rewritten from Terraform's
// single-dash long form and which are left to pflag.
func TestTerraformLongFlags(t *testing.T) {
	tests := []struct {
		cmd  string
		args string
		want string
	}{
		{"plan", "-detailed-exitcode fleet/", "--detailed-exitcode fleet/"},
		{"plan", "-format=json -save plan.json fleet/", "--format=json --save plan.json fleet/"},
		{"plan", "--save -detailed-exitcode fleet/", "--save -detailed-exitcode fleet/"}, // a value, not a flag
		{"plan", "-save -detailed-exitcode fleet/", "--save -detailed-exitcode fleet/"},  // likewise
		{"plan", "fleet/ -- -detailed-exitcode", "fleet/ -- -detailed-exitcode"},         // after --
		{"plan", "-detailed-exitcod fleet/", "--detailed-exitcod fleet/"},                // unknown: named whole
		{"validate", "-d fleet/", "-d fleet/"},                                           // a one-letter flag
		{"validate", "-dd fleet/", "-dd fleet/"},                                         // a cluster of them
		{"validate", "-describe -format json fleet/", "--describe --format json fleet/"}, // bool, then a value
		{"render", "-o -out fleet/", "-o -out fleet/"},                                   // -o takes the next word
		{"render", "-out=r -check fleet/", "--out=r --check fleet/"},
	}
	for _, tt := range tests {
		c, _ := lookup(tt.cmd)
		got := strings.Join(terraformLongFlags(c.flags(), strings.Fields(tt.args)), " ")
		if got != tt.want {
			t.Errorf("%s %s: got %q, want %q", tt.cmd, tt.args, got, tt.want)
		}
	}
}

// TestTerraformHabits runs the habits of a Terraform user: one-dash long
// flags work, and a misspelt flag gets a suggestion.
func TestTerraformHabits(t *testing.T) {
	c := newE2E(t, nil)
	snapshot := filepath.Join(t.TempDir(), "snapshot.json")
	out, _ := c.must(exitOK, "observe", c.dir)
	if err := os.WriteFile(snapshot, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "plan", "-detailed-exitcode", "-observed", snapshot, c.dir); code != exitChanges {
		t.Errorf("plan -detailed-exitcode: exit %d, want 2 (changes)\n%s", code, errs)
	}
	for _, tt := range []struct{ args, want string }{
		{"plan --formt json", "unknown flag: --formt\nDid you mean --format?\n"},
		{"plan -detailed-exitcod", "unknown flag: --detailed-exitcod\nDid you mean --detailed-exitcode?\n"},
		{"apply --auto-aprove", "Did you mean --auto-approve?\n"},
		{"render --ckeck", "Did you mean --check?\n"},
	} {
		code, _, errs := runCLI(t, append(strings.Fields(tt.args), c.dir)...)
		if code != exitError || !strings.Contains(errs, tt.want) {
			t.Errorf("%s: exit %d, want 1 and %q in:\n%s", tt.args, code, tt.want, errs)
		}
	}
	if _, _, errs := runCLI(t, "plan", "--bogus", c.dir); strings.Contains(errs, "Did you mean") {
		t.Errorf("plan --bogus: a far-fetched suggestion:\n%s", errs)
	}
	if _, _, errs := runCLI(t, "valdiate"); !strings.Contains(errs, `Did you mean "validate"?`) {
		t.Errorf("valdiate: no suggestion:\n%s", errs)
	}
}

// TestHelpEveryCommand wants every command's help to show an example of
// the command and its exit codes, and boolean flags as plain --name.
func TestHelpEveryCommand(t *testing.T) {
	for _, c := range commands() {
		code, out, errs := runCLI(t, "help", c.name)
		if code != exitOK {
			t.Errorf("help %s: exit %d\n%s", c.name, code, errs)
			continue
		}
		ex, _, _ := strings.Cut(out[strings.Index(out, "\nExamples:\n")+1:], "\n\n")
		if !strings.Contains(out, "\nExamples:\n") || !strings.Contains(ex, "ecsnet "+c.name) {
			t.Errorf("help %s: no example of the command:\n%s", c.name, out)
		}
		if !strings.Contains(out, "\nExit codes:\n  0  ") {
			t.Errorf("help %s: no exit codes:\n%s", c.name, out)
		}
		if strings.Contains(out, "[=true|false]") {
			t.Errorf("help %s: a boolean flag shows as --x[=true|false]:\n%s", c.name, out)
		}
	}
	_, out, _ := runCLI(t, "help", "plan")
	if !strings.Contains(out, "      --detailed-exitcode     exit 2 when") || !strings.Contains(out, `--format string         output format: text, json, markdown (a pull-request comment) or github (the plan as text; errors in the desired state as annotations on their lines) (default "text")`) {
		t.Errorf("help plan: flags not as expected:\n%s", out)
	}
}

// TestVersionLine pins what ecsnet version says for each kind of build:
// the module version and the commit go build stamps, and a clear word
// where there is none (go run, -buildvcs=false).
func TestVersionLine(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}},
			"ecsnet v1.4.0 go1.26.8 linux/amd64"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.1-0.20261206195721-310c6de5a2b1+dirty"},
			Settings: settings("vcs", "git", "vcs.revision", "310c6de5a2b1c1e3e0b2f4a1d3c5e7f9a0b1c2d3", "vcs.time", "2026-12-06T19:57:21Z", "vcs.modified", "true")},
			"ecsnet v1.4.1-0.20261206195721-310c6de5a2b1+dirty (commit 310c6de5a2b1 with uncommitted changes, 2026-12-06T19:57:21Z) go1.26.8 linux/amd64"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: settings("vcs.revision", "310c6de5a2b1c1e3e0b2f4a1d3c5e7f9a0b1c2d3", "vcs.modified", "false")},
			"ecsnet (devel) (commit 310c6de5a2b1) go1.26.8 linux/amd64"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"ecsnet (devel) (built without version control information: go run, or -buildvcs=false) go1.26.8 linux/amd64"},
		{nil, "ecsnet (devel: built without module information) linux/amd64"},
	}
	for _, tt := range tests {
		if got := versionLine(tt.bi, "linux/amd64"); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}
