package guest

import (
	"fmt"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
)

// scriptSum stands in for a payload's sha256 when a part template is
// filled in.
const scriptSum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// scriptTemplates fills in each fmt template under scripts/ the way
// partScript does (same verbs, values of the same shape), so the checkers
// see a script rather than %[1]d in code positions.
var scriptTemplates = hosttest.ScriptTemplates{
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

// TestScriptFilesShellcheck runs bash -n and shellcheck on every
// scripts/*.sh, the files themselves; TestPayloadScriptsParse checks the
// assembled payloads.
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
// scripts/: no raw string literal of three or more lines in guest's Go
// code.
func TestNoScriptsInGoStrings(t *testing.T) {
	hosttest.CheckNoScriptsInGoStrings(t, ".", nil)
}
