package render

import (
	"fmt"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
)

// scriptTemplates fills in each fmt template under scripts/ the way render
// does (same verbs, values of the same shape), so the checkers see a
// script rather than %[1]d in code positions. A template missing here
// fails TestScriptFilesShellcheck or TestScriptFilesPowerShell.
var scriptTemplates = hosttest.ScriptTemplates{
	"header.tmpl.sh": func(s string) string { return fmt.Sprintf(s, "ifupdown", "web") },
}

// TestScriptFilesShellcheck runs bash -n and shellcheck on every
// scripts/*.sh, the files themselves (hosttest.CheckShellFiles). The
// assembled apply script turns SC2034 off as the fragments' check does
// (scriptStart), and TestScriptsParse checks it whole.
func TestScriptFilesShellcheck(t *testing.T) {
	hosttest.CheckShellFiles(t, "scripts", scriptTemplates)
}

// TestScriptFilesPowerShell parses every scripts/*.ps1 with
// tree-sitter-powershell.
func TestScriptFilesPowerShell(t *testing.T) {
	hosttest.CheckPowerShellFiles(t, "scripts", scriptTemplates)
}

// TestScriptFilesStoredLF checks that the files under scripts/ have LF
// line ends and that the .ps1 files are ASCII.
func TestScriptFilesStoredLF(t *testing.T) {
	hosttest.CheckScriptsStoredLF(t, "scripts")
}

// TestNoScriptsInGoStrings keeps shell and PowerShell in the files under
// scripts/: a raw string literal of three or more lines in the package's
// Go code fails, unless named here. (The generated data sections are
// written with short interpreted strings, a line or two each.)
func TestNoScriptsInGoStrings(t *testing.T) {
	hosttest.CheckNoScriptsInGoStrings(t, ".", map[string]string{
		"iproute2Unit":    "a systemd unit (a fmt template), not a script",
		"primaryBootUnit": "a systemd unit (a fmt template), not a script; TestRealBootUnitsVerify checks it with systemd-analyze verify",
		"reconcileUnit":   "a systemd unit (a fmt template), not a script",
	})
}
