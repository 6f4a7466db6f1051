package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// check is one row of a goal table: what was measured, at what size, the
// figure, the bound or goal it is held to, and the verdict.
type check struct {
	what     string
	size     string
	measured string
	goal     string
	pass     bool
	// broken marks a correctness failure (a crash, an apply that did not
	// converge, a plan that should be empty and is not, a host touched
	// that should not be): benchtable exits 1 for it. A missed budget is
	// only a FAIL row.
	broken bool
	note   string // why, when it failed
	// label, when set, is the verdict of a row that has no goal: a
	// figure that is only measured ("measured"), or a table that could
	// not run here ("skipped"). Such rows count neither as PASS nor FAIL.
	label string
}

func (k check) verdict() string {
	switch {
	case k.broken:
		return "**BROKEN**"
	case k.label != "":
		return k.label
	case k.pass:
		return "PASS"
	}
	return "**FAIL**"
}

// section is one table of the report, with notes printed under it.
type section struct {
	title string
	intro []string
	rows  []check
	notes []string
}

func (s *section) add(k check) { s.rows = append(s.rows, k) }

func (s *section) notef(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

// crash records a measurement that could not be made at all.
func (s *section) crash(what, size string, err error) {
	s.add(check{what: what, size: size, measured: "—", goal: "—", broken: true, note: err.Error()})
}

func (s *section) print(w io.Writer) {
	fmt.Fprintf(w, "## %s\n\n", s.title)
	for _, l := range s.intro {
		fmt.Fprintln(w, l)
	}
	if len(s.intro) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "| what | size | measured | bound / goal | verdict |\n|---|---|---|---|---|\n")
	for _, k := range s.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", cell(k.what), cell(k.size), cell(k.measured), cell(k.goal), k.verdict())
	}
	fmt.Fprintln(w)
	for _, k := range s.rows {
		if k.note != "" && (!k.pass || k.label != "") {
			fmt.Fprintf(w, "- %s %s (%s): %s\n", k.verdict(), k.what, k.size, k.note)
		}
	}
	for _, n := range s.notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	fmt.Fprintln(w)
}

// cell keeps a value inside its markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mibOf(kib int64) string { return fmt.Sprintf("%s MiB", mib(kib)) }

// loadAvg returns the 1, 5 and 15-minute load averages, so a report shows
// whether something else ran meanwhile.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
