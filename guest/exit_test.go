package guest

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestExitCodesMatchScripts holds Exit to the payload scripts: every code
// payload.sh ends with (p_end N) and payload.ps1 ends with (Stop-Payload
// N) is a known Exit, and each script uses every Exit, so a code added on
// one side only fails here.
func TestExitCodesMatchScripts(t *testing.T) {
	all := Exits()
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

// TestExitCodesDocumented holds every text that lists the host exit codes
// by number to Exit: the payloads' headers, the apply script's header
// (which lists its own codes first, then the host's), and the README.
// ExitCodes, which push's help prints, spells out each code once.
func TestExitCodesDocumented(t *testing.T) {
	var want []int
	var lines string
	for _, e := range Exits() {
		want = append(want, int(e))
		lines += fmt.Sprintf("  %d  %s\n", int(e), e)
	}
	if got := ExitCodes("  "); got != lines {
		t.Errorf("ExitCodes:\n%s\nwant\n%s", got, lines)
	}
	for _, d := range []struct{ path, from, to string }{
		{"scripts/payload-header.sh", "Exit codes:", "."},
		{"scripts/payload-header.ps1", "Exit codes:", "."},
		{"../render/scripts/header.tmpl.sh", "the host exit codes", "("},
		{"../README.md", "host exit codes:", "\n- "},
	} {
		data, err := os.ReadFile(d.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := listedCodes(string(data), d.from, d.to)
		if err != nil {
			t.Errorf("%s: %v", d.path, err)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s lists the host exit codes %v, want %v (guest.Exit): update the text", d.path, got, want)
		}
	}
}

// listedCodes returns the numbers that start the items (separated by
// ";", "," or " and ") of the text between from and the first to after
// it, comment markers and line breaks taken out.
func listedCodes(text, from, to string) ([]int, error) {
	_, rest, ok := strings.Cut(text, from)
	if !ok {
		return nil, fmt.Errorf("no %q", from)
	}
	list, _, ok := strings.Cut(rest, to)
	if !ok {
		return nil, fmt.Errorf("no %q after %q", to, from)
	}
	list = regexp.MustCompile(`\n[ \t]*#?`).ReplaceAllString(list, " ")
	var codes []int
	for _, item := range regexp.MustCompile(`;|,| and `).Split(list, -1) {
		if m := regexp.MustCompile(`^\s*([0-9]+)\b`).FindStringSubmatch(item); m != nil {
			n, _ := strconv.Atoi(m[1])
			codes = append(codes, n)
		}
	}
	return codes, nil
}
