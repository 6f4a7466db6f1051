package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// phase is a stage of ecsnet's pipeline that a command's CPU profile is
// broken down by: the first of funcs (matching the end or start of a
// profile's function name) that the profile has.
type phase struct {
	label string
	funcs []string
}

func phases() []phase {
	return []phase{
		{"load fleet", []string{"/schema.Load"}},
		{"read lock", []string{"/schema.ReadLockFile", "/schema.ReadLock"}},
		{"read snapshot", []string{"/plan.ReadSnapshot"}},
		{"compute", []string{"/plan.Compute"}},
		{"write plan", []string{"/plan.WriteJSON", "/plan.WriteText"}},
		{"render hosts", []string{"/render.ForHost"}},
		{"compare and write hosts", []string{"/render.(*Out).Update", "/render.(*Out).Check", "/render.Update", "/render.Changes"}},
		{"write files", []string{"/internal/safefile.(*Dir).Create", "/render.WriteHost"}},
		{"GC", []string{"runtime.gcBgMarkWorker"}},
	}
}

// profileSummary reads a CPU profile that ecsnet wrote (ECSNET_CPUPROFILE)
// with `go tool pprof` and returns its CPU time per phase, largest first,
// e.g. "CPU 3.40 s: load fleet 1.02 s, read snapshot 0.87 s, ...". The
// phases overlap where the command runs them concurrently, and GC runs
// beside all of them.
func profileSummary(bin, prof string) (string, error) {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=100000", bin, prof).Output()
	if err != nil {
		return "", fmt.Errorf("go tool pprof %s: %w", prof, err)
	}
	var total time.Duration
	cum := map[string]time.Duration{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		// "Duration: 2.04s, Total samples = 3.44s (168.95%)"
		if i := strings.Index(line, "Total samples = "); i >= 0 {
			if f := strings.Fields(line[i+len("Total samples = "):]); len(f) > 0 {
				total, _ = time.ParseDuration(f[0])
			}
			continue
		}
		// "flat flat% sum% cum cum% name..."
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			continue
		}
		d, err := time.ParseDuration(f[3])
		if err != nil {
			continue
		}
		cum[strings.Join(f[5:], " ")] = d
	}
	type part struct {
		label string
		d     time.Duration
	}
	var parts []part
	for _, ph := range phases() {
		for _, fn := range ph.funcs {
			var d time.Duration
			found := false
			for name, c := range cum {
				if strings.HasSuffix(name, fn) || strings.HasPrefix(name, fn) {
					d, found = max(d, c), true
				}
			}
			if found {
				parts = append(parts, part{ph.label, d})
				break
			}
		}
	}
	for i := 1; i < len(parts); i++ { // a stable insertion sort, largest first
		for j := i; j > 0 && parts[j].d > parts[j-1].d; j-- {
			parts[j], parts[j-1] = parts[j-1], parts[j]
		}
	}
	var b strings.Builder
	b.WriteString("CPU " + secsOf(total))
	for i, p := range parts {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(p.label + " " + secsOf(p.d))
	}
	return b.String(), nil
}

func secsOf(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}
