package render

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
)

// scriptSum stands in for a payload's sha256 when a part template is
// filled in.
const scriptSum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// scriptTemplates fills in each fmt template under scripts/ the way render
// does (same verbs, values of the same shape), so the checkers see a
// script rather than %[1]d in code positions. A template missing here
// fails TestScriptFilesShellcheck or TestScriptFilesPowerShell.
var scriptTemplates = map[string]func(string) string{
	"header.tmpl.sh": func(s string) string { return fmt.Sprintf(s, "ifupdown", "web") },
	"part.tmpl.sh": func(s string) string {
		return fmt.Sprintf(s, scriptSum[:12], 2, 2, scriptSum, 2, "QUJD\n", 2, 2)
	},
	// The last part's code follows a part's in the same script, which sets $d.
	"part-last.tmpl.sh": func(s string) string {
		return "d=/var/lib/ecsnet/.incoming/" + scriptSum + "\n" + fmt.Sprintf(s, 2, scriptSum, scriptSum[:12])
	},
	"part.tmpl.ps1": func(s string) string {
		return fmt.Sprintf(s, scriptSum[:12], 2, 2, scriptSum, "QUJD\n", 2)
	},
	"part-last.tmpl.ps1": func(s string) string {
		return "$d = 'C:\\ProgramData\\ecsnet\\.incoming'\n" + fmt.Sprintf(s, 2, scriptSum)
	},
}

// scriptFiles returns the files under scripts/ whose names end in ext,
// as checked: templates filled in by scriptTemplates.
func scriptFiles(t *testing.T, ext string) (names []string, data [][]byte) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("scripts", "*"+ext))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scripts/*%s: %v", ext, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		if strings.Contains(name, ".tmpl.") {
			fill, ok := scriptTemplates[name]
			if !ok {
				t.Errorf("%s: a template with no entry in scriptTemplates: add one that fills it in as render does", p)
				continue
			}
			b = []byte(fill(string(b)))
			if i := bytes.Index(b, []byte("%!")); i >= 0 {
				t.Errorf("%s: scriptTemplates fills it in wrongly: %q", p, b[i:min(len(b), i+40)])
			}
		}
		names, data = append(names, p), append(data, b)
	}
	return names, data
}

// shellcheckTool returns shellcheck's path, or "" when it is missing; with
// ECSNET_REQUIRE_REAL_TOOLS=1 a missing shellcheck fails the test.
func shellcheckTool(t *testing.T) string {
	t.Helper()
	p, err := hosttest.LookTool("shellcheck")
	if err != nil && hosttest.Strict() {
		t.Fatalf("needs shellcheck: %v (%s=1: a missing tool is a failure; run internal/hosttest/install.sh)", err, hosttest.StrictEnv)
	}
	return p
}

// TestScriptFilesShellcheck runs bash -n and shellcheck on every
// scripts/*.sh, the files themselves: a finding points at the file and
// line to fix, not at a rendered script. Fragments (no #! line: the
// library, each stack's functions, main) are checked as bash with SC2034
// off, since a variable one fragment sets is read by another; the
// assembled apply script turns SC2034 off for the same reason
// (scriptStart), and TestScriptsParse checks it whole.
func TestScriptFilesShellcheck(t *testing.T) {
	names, data := scriptFiles(t, ".sh")
	shellcheck := shellcheckTool(t)
	dir := t.TempDir()
	for i, name := range names {
		p := filepath.Join(dir, filepath.Base(name))
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
		// -f gcc names file:line:col, with the path under render/.
		out, err := exec.Command(shellcheck, append(args, "-f", "gcc", p)...).CombinedOutput()
		if err != nil {
			t.Errorf("shellcheck %s: %v\n%s", name, err, bytes.ReplaceAll(out, []byte(p), []byte(name)))
		}
	}
	if shellcheck == "" {
		t.Skipf("shellcheck is not installed: scripts/*.sh were only checked with bash -n (run internal/hosttest/install.sh)")
	}
}

// TestScriptFilesPowerShell parses every scripts/*.ps1 with
// tree-sitter-powershell.
func TestScriptFilesPowerShell(t *testing.T) {
	names, data := scriptFiles(t, ".ps1")
	for i, probs := range hosttest.PowerShellParse(t, data...) {
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

// TestScriptFilesStoredLF checks that the files under scripts/ have LF
// line ends (the .ps1 files get CRLF when rendered) and that the .ps1
// files are ASCII, which Windows PowerShell 5.1 needs of a script without
// a BOM.
func TestScriptFilesStoredLF(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("scripts", "*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scripts: %v", err)
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

// goStringsAllowed are the multi-line Go string literals of the package
// that are not scripts.
var goStringsAllowed = map[string]string{
	"iproute2Unit": "a systemd unit (a fmt template), not a script",
}

// TestNoScriptsInGoStrings keeps shell and PowerShell in the files under
// scripts/, where shellcheck and the PowerShell parser see them: a raw
// string literal of three or more lines in the package's Go code fails,
// unless goStringsAllowed names it. (The generated data sections are
// written with short interpreted strings, a line or two each.)
func TestNoScriptsInGoStrings(t *testing.T) {
	paths, err := filepath.Glob("*.go")
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
		allowed := map[*ast.BasicLit]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				for i, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok && i < len(vs.Names) && goStringsAllowed[vs.Names[i].Name] != "" {
						allowed[lit] = true
					}
				}
			}
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING || !strings.HasPrefix(lit.Value, "`") || allowed[lit] {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && strings.Count(s, "\n") >= 3 {
				t.Errorf("%s: a raw string literal of %d lines: move a script to a file under scripts/ and load it with //go:embed", fset.Position(lit.Pos()), strings.Count(s, "\n"))
			}
			return true
		})
	}
}
