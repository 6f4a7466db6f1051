package hosttest

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The checks below hold a package's script files (scripts/*.sh and
// scripts/*.ps1, loaded with //go:embed) to the project's rules. Every
// package that embeds scripts runs them on its own scripts/ directory, so
// the rules are written once.

// ScriptTemplates fill in a package's fmt templates (scripts/*.tmpl.*) by
// file name, the way the package does (same verbs, values of the same
// shape), so the checkers see a script rather than %[1]d in code
// positions.
type ScriptTemplates map[string]func(string) string

// ScriptFiles returns the files under dir whose names end in ext, as
// checked: templates filled in by tmpl. A template with no entry fails.
func ScriptFiles(t testing.TB, dir, ext string, tmpl ScriptTemplates) (names []string, data [][]byte) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no %s/*%s: %v", dir, ext, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		if strings.Contains(name, ".tmpl.") {
			fill, ok := tmpl[name]
			if !ok {
				t.Errorf("%s: a template with no entry in the test's ScriptTemplates: add one that fills it in as the package does", p)
				continue
			}
			b = []byte(fill(string(b)))
			if i := bytes.Index(b, []byte("%!")); i >= 0 {
				t.Errorf("%s: the test's ScriptTemplates fills it in wrongly: %q", p, b[i:min(len(b), i+40)])
			}
		}
		names, data = append(names, p), append(data, b)
	}
	return names, data
}

// Shellcheck returns shellcheck's path, or "" when it is missing; with
// ECSNET_REQUIRE_REAL_TOOLS=1 a missing shellcheck fails the test.
func Shellcheck(t testing.TB) string {
	t.Helper()
	p, err := LookTool("shellcheck")
	if err != nil && Strict() {
		t.Fatalf("needs shellcheck: %v (%s=1: a missing tool is a failure; run internal/hosttest/install.sh)", err, StrictEnv)
	}
	return p
}

// CheckShellFiles runs bash -n and shellcheck on every dir/*.sh, the
// files themselves: a finding points at the file and line to fix, not at
// a generated script. Fragments (no #! line) are checked as bash with
// SC2034 off, since a variable one fragment sets is read by another. It
// skips the test when shellcheck is missing (and not required).
func CheckShellFiles(t *testing.T, dir string, tmpl ScriptTemplates) {
	t.Helper()
	names, data := ScriptFiles(t, dir, ".sh", tmpl)
	shellcheck := Shellcheck(t)
	tmp := t.TempDir()
	for i, name := range names {
		p := filepath.Join(tmp, filepath.Base(name))
		if err := os.WriteFile(p, data[i], 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("bash", "-n", p).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", name, err, out)
		}
		if shellcheck == "" {
			continue
		}
		args := []string{"-s", "bash", "-S", "info"}
		if !bytes.HasPrefix(data[i], []byte("#!")) {
			args = append(args, "-e", "SC2034")
		}
		// -f gcc names file:line:col, with the path under the package.
		out, err := exec.Command(shellcheck, append(args, "-f", "gcc", p)...).CombinedOutput()
		if err != nil {
			t.Errorf("shellcheck %s: %v\n%s", name, err, bytes.ReplaceAll(out, []byte(p), []byte(name)))
		}
	}
	if shellcheck == "" {
		t.Skipf("shellcheck is not installed: %s/*.sh were only checked with bash -n (run internal/hosttest/install.sh)", dir)
	}
}

// CheckPowerShellFiles parses every dir/*.ps1 with tree-sitter-powershell.
func CheckPowerShellFiles(t *testing.T, dir string, tmpl ScriptTemplates) {
	t.Helper()
	names, data := ScriptFiles(t, dir, ".ps1", tmpl)
	for i, probs := range PowerShellParse(t, data...) {
		lines := strings.Split(string(data[i]), "\n")
		for _, p := range probs {
			src := ""
			if p.Line >= 1 && p.Line <= len(lines) {
				src = lines[p.Line-1]
			}
			t.Errorf("%s:%s\n\t%s", names[i], p, src)
		}
	}
}

// CheckScriptsStoredLF checks that the files under dir have LF line ends
// (the .ps1 files get CRLF when generated) and that the .ps1 files are
// ASCII, which Windows PowerShell 5.1 needs of a script without a BOM.
func CheckScriptsStoredLF(t *testing.T, dir string) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scripts under %s: %v", dir, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.IndexByte(b, '\r'); i >= 0 {
			t.Errorf("%s: a CR at offset %d: store scripts with LF line ends", p, i)
		}
		if strings.HasSuffix(p, ".ps1") {
			for i, c := range b {
				if c >= 0x7f {
					t.Errorf("%s: byte %#x at offset %d is not ASCII", p, c, i)
					break
				}
			}
		}
	}
}

// CheckNoScriptsInGoStrings keeps shell and PowerShell in script files,
// where shellcheck and the PowerShell parser see them: a raw string
// literal of three or more lines in the Go code (not tests) of the
// package in dir fails, unless allowed names the variable it is assigned
// to (the value says why it is not a script).
func CheckNoScriptsInGoStrings(t *testing.T, dir string, allowed map[string]string) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ok := map[*ast.BasicLit]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, isSpec := n.(*ast.ValueSpec); isSpec {
				for i, v := range vs.Values {
					if lit, isLit := v.(*ast.BasicLit); isLit && i < len(vs.Names) && allowed[vs.Names[i].Name] != "" {
						ok[lit] = true
					}
				}
			}
			lit, isLit := n.(*ast.BasicLit)
			if !isLit || lit.Kind != token.STRING || !strings.HasPrefix(lit.Value, "`") || ok[lit] {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && strings.Count(s, "\n") >= 3 {
				t.Errorf("%s: a raw string literal of %d lines: move a script to a file under scripts/ and load it with //go:embed", fset.Position(lit.Pos()), strings.Count(s, "\n"))
			}
			return true
		})
	}
}
