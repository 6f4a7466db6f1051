package guest

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// TestExitCodesMatchScripts holds Exit to the payload scripts: every code
// payload.sh ends with (p_end N) and payload.ps1 ends with (Stop-Payload
// N) is a known Exit, and each script uses every Exit, so a code added on
// one side only fails here.
func TestExitCodesMatchScripts(t *testing.T) {
	all := []Exit{Applied, Failed, Refused, RolledBack, Stranded}
	for _, sc := range []struct{ path, re string }{
		{"scripts/payload.sh", `(?m)\bp_end ([0-9]+)\b`},
		{"scripts/payload.ps1", `(?m)\bStop-Payload ([0-9]+)\b`},
	} {
		data, err := os.ReadFile(sc.path)
		if err != nil {
			t.Fatal(err)
		}
		var used []Exit
		for _, m := range regexp.MustCompile(sc.re).FindAllSubmatch(data, -1) {
			n, _ := strconv.Atoi(string(m[1]))
			if !Exit(n).Known() {
				t.Errorf("%s ends with exit %d, which is not an Exit: name it in exit.go", sc.path, n)
			}
			used = append(used, Exit(n))
		}
		for _, e := range all {
			if !slices.Contains(used, e) {
				t.Errorf("%s never ends with %d (%v)", sc.path, int(e), e)
			}
		}
	}
}

// TestExitString pins what a report prints after a host's exit code, and
// that a code of no payload is explained as such (ExitMeaning: none).
func TestExitString(t *testing.T) {
	for e, want := range map[Exit]string{
		Applied:    "applied and verified",
		Failed:     "could not run; nothing changed",
		Refused:    "refused; nothing changed",
		RolledBack: "failed and rolled back; the host is as it was",
		Stranded:   "failed, and the rollback left differences: fix by hand",
		137:        "exit code 137, not one of ecsnet's",
	} {
		if got := e.String(); got != want {
			t.Errorf("Exit(%d).String() = %q, want %q", int(e), got, want)
		}
		if got, known := ExitMeaning(int(e)), e.Known(); (got != "") != known || known && got != want {
			t.Errorf("ExitMeaning(%d) = %q (known %v)", int(e), got, known)
		}
	}
}
