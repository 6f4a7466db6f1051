package hosttest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The PowerShell grammar and its wasm runtime, pinned. install.sh fetches
// the same versions.
const (
	treeSitterPowerShell = "tree-sitter-powershell@0.26.4"
	webTreeSitter        = "web-tree-sitter@0.27.2"
)

//go:embed pscheck.mjs
var psCheck []byte

// SyntaxProblem is an ERROR or MISSING node of the parse tree.
type SyntaxProblem struct {
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Kind string `json:"kind"` // ERROR or MISSING
	Node string `json:"node"` // the text in error, or the missing token
}

func (p SyntaxProblem) String() string {
	return fmt.Sprintf("%d:%d: %s %q", p.Line, p.Col, p.Kind, p.Node)
}

// ToolCache returns where hosttest keeps downloaded tools:
// $ECSNET_TOOL_CACHE, else <user cache dir>/ecsnet.
func ToolCache() string {
	if d := os.Getenv("ECSNET_TOOL_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "ecsnet")
	}
	return filepath.Join(os.TempDir(), "ecsnet-cache")
}

var fetchMu sync.Mutex

// treeSitter returns the unpacked package directories, fetching them with
// `npm pack` (which runs no install script) when the cache lacks them.
func treeSitter(t testing.TB) (runtime, grammar string) {
	t.Helper()
	dir := filepath.Join(ToolCache(), "tree-sitter")
	runtime = filepath.Join(dir, webTreeSitter, "web-tree-sitter.js")
	grammar = filepath.Join(dir, treeSitterPowerShell, "tree-sitter-powershell.wasm")
	if exists(runtime) && exists(grammar) {
		return runtime, grammar
	}
	npm, err := LookTool("npm")
	if err != nil {
		Unavailable(t, "needs %s and %s in %s, or npm to fetch them: %v", treeSitterPowerShell, webTreeSitter, dir, err)
	}
	fetchMu.Lock()
	defer fetchMu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Test binaries of several packages may fetch at once: lock the cache.
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{treeSitterPowerShell, webTreeSitter} {
		final := filepath.Join(dir, spec)
		if exists(filepath.Join(final, "package.json")) {
			continue
		}
		tmp, err := os.MkdirTemp(dir, ".fetch-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		cmd := exec.Command(npm, "pack", "--silent", spec)
		cmd.Dir = tmp
		if out, errOut, err := run(cmd, nil); err != nil {
			Unavailable(t, "cannot fetch %s with npm pack: %v\n%s%s", spec, err, out, errOut)
		}
		tgz, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
		if len(tgz) != 1 {
			t.Fatalf("npm pack %s left %d tarballs", spec, len(tgz))
		}
		if _, errOut, err := run(exec.Command("tar", "-xzf", tgz[0], "-C", tmp), nil); err != nil {
			t.Fatalf("unpack %s: %v: %s", spec, err, errOut)
		}
		os.RemoveAll(final)
		if err := os.Rename(filepath.Join(tmp, "package"), final); err != nil {
			t.Fatal(err)
		}
	}
	return runtime, grammar
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// PowerShellParse parses scripts with tree-sitter-powershell (through
// node, host-config.md §7e) and returns the ERROR and MISSING nodes of
// each, by the same index. The grammar is error-tolerant and is not
// PowerShell's own parser: a clean parse is a smoke check, not a proof.
func PowerShellParse(t testing.TB, scripts ...[]byte) [][]SyntaxProblem {
	t.Helper()
	node := RequireTool(t, "node")
	runtime, grammar := treeSitter(t)
	dir := t.TempDir()
	checker := filepath.Join(dir, "check.mjs")
	if err := os.WriteFile(checker, psCheck, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--liftoff-only", checker, runtime, grammar}
	for i, s := range scripts {
		p := filepath.Join(dir, fmt.Sprintf("script%d.ps1", i))
		if err := os.WriteFile(p, s, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	// --liftoff-only: without it node spends 13-25 s tiering up the wasm
	// before it exits (host-config.md §7e).
	out, errOut, err := run(exec.Command(node, args...), nil)
	if err != nil {
		t.Fatalf("tree-sitter-powershell checker failed: %v\n%s", err, errOut)
	}
	var res []struct {
		HasError bool            `json:"has_error"`
		Problems []SyntaxProblem `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != len(scripts) {
		t.Fatalf("tree-sitter-powershell checker: bad output (%v): %s", err, out)
	}
	probs := make([][]SyntaxProblem, len(res))
	for i, r := range res {
		probs[i] = r.Problems
		if r.HasError && len(r.Problems) == 0 {
			probs[i] = []SyntaxProblem{{Kind: "ERROR", Node: "tree has an error the walk did not find"}}
		}
	}
	return probs
}

// PowerShellSyntax fails the test for every syntax problem of script,
// with its line and column and the line itself.
func PowerShellSyntax(t testing.TB, script []byte) {
	t.Helper()
	lines := strings.Split(string(script), "\n")
	for _, p := range PowerShellParse(t, script)[0] {
		src := ""
		if p.Line >= 1 && p.Line <= len(lines) {
			src = lines[p.Line-1]
		}
		t.Errorf("tree-sitter-powershell: %s\n\t%s", p, src)
	}
}
