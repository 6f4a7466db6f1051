// Command benchtable is the harness behind `make bench`: on this machine, in
// one run, it measures every performance goal of the issues and prints
// markdown tables with a verdict per goal:
//
//   - validate: `ecsnet validate` beside `cue vet` with the published
//     schema on generated fleets (issues 2 and 7);
//
//   - observe: 20,000 ENIs on 7,000 instances from the emulator, calls
//     against the formula and wall time (issue 3);
//
//   - plan: plan.Compute for 20,000 instances from a snapshot (issue 4);
//
//   - render: `ecsnet render` of 20,000 instances beside a file-writing
//     floor measured in the same run (issue 5);
//
//   - scale: validate + plan + render of the same fleet, and one instance
//     changed (issue 7);
//
//   - apply: fleets of 100 and 1,000 instances from scratch against the
//     emulator with 20 ms latency and Terway's per-action rates, calls
//     against the formula and wall time against the rate bound (issue 4);
//
//   - failover: `ecsnet failover --hosts` of the example's floating ENI
//     between two ifupdown guests of the emulator's hosts mode, timed until
//     the target answers on the moved address, beside the cloud-only bound
//     of detach + attach + host apply (issue 16; root only, skipped
//     otherwise; measured, no goal).
//
//     go run ./internal/benchtable [-quick] [-tables validate,observe,plan,render,scale,prjob,apply,failover]
//     [-sizes 100,1000,10000,20000] [-formats cue,json] [-apply-sizes 100,1000] [-scale 20000] [-dual-stack=false] [-o FILE]
//
// Every generated fleet has issue 17's shape by default (-dual-stack:
// testfleet.Options.DualStack, a tenth of the ENIs dual-stack and a tenth
// with a /28 prefix), the shape issue 17's "done when" measures; the
// IPv4-only fleet of the earlier issues is -dual-stack=false. One shape
// per run keeps `make bench` as long as it was.
//
// Run it from the module root. It builds ./cmd/ecsnet and the cue CLI from
// the module graph (so cue is the version go.mod pins), generates fleets
// with package testfleet into a temporary directory, and runs every command
// as a child process: wall time is measured around Wait, peak memory is the
// child's maximum resident set size from getrusage. Observe, plan
// computation and apply run in this process against an emulator served on
// loopback by this process. The work directory needs about 3 GiB (four
// rendered trees of the 20,000-instance fleet, kept until the end so that
// deleting them does not slow the writes measured next). Runs are
// sequential, so on a small machine
// nothing else should run meanwhile; the report prints the load average
// before and after.
//
// The full run takes about 30 minutes on 2 cores (make bench adds some 5
// for the Go benchmarks before it): the 1,000-instance apply
// alone needs 4 minutes by construction (2,000 creates at 500 a minute) and
// 10 as ecsnet runs it today, cue vet up to 2 minutes per 20,000-instance
// file. -quick runs the apply at 100 instances only, validate at 1,000 and
// 20,000 instances, cue vet only up to 1,000 and one render pair: about 6
// minutes.
//
// It is never run from `go test`: timings belong in a report, not in a
// test that fails on a busy machine. It exits 1 only when something is
// broken: a command crashed or failed, ecsnet's and cue's verdicts differ
// (or ecsnet rejects a valid fleet), an apply did not converge, a plan that
// must be empty is not, or a re-render touched another host's files. A
// missed budget is a FAIL row, loudly, and the exit status stays 0.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"

	"github.com/ecsnet/ecsnet/internal/testfleet"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "floor" {
		os.Exit(floorMain(os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "measure" {
		os.Exit(measureMain(os.Args[2:]))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type config struct {
	sizes   []int
	formats []string
	timeout time.Duration
	runs    int
	cue     bool
	keep    bool
	seed    int64
	stdout  io.Writer
	stderr  io.Writer
	root    string   // module root
	schema  []string // schema/*.cue, absolute
	glue    string   // for CUE input: a file of the schema's package that embeds #Fleet
	// embedsFleet is whether the schema applies #Fleet at its top level,
	// so that `cue vet SCHEMA fleet.cue` checks a CUE fleet.
	embedsFleet bool
	work        string
	ecsnet      string // built binaries
	cueBin      string
	progress    io.Writer

	tables           map[string]bool
	cueMax           int // cue vet only up to this many instances; 0: always
	scale            int // instances of the plan, render and scale tables
	scaleFormats     []string
	observeInstances int
	observeENIs      int
	applySizes       []int
	applyLatency     time.Duration
	applyAsync       time.Duration
	applyWait        time.Duration
	applyParallelism int
	applyBurst       string
	applySaveLock    bool
	renderRuns       int
	// dualStack generates issue 17's shape (testfleet.Options.DualStack)
	// wherever a testfleet fleet is generated.
	dualStack bool
}

var allTables = []string{"validate", "observe", "plan", "render", "scale", "prjob", "apply", "failover"}

// result is one run of one tool on one file.
type result struct {
	wall     time.Duration
	rssKiB   int64
	verdict  string // valid, invalid, timeout, error (...)
	detail   string // the start of stderr when the verdict is not valid
	measured bool
}

type row struct {
	size     int
	format   string
	bytes    int64
	ecsnet   result
	cue      result
	cueNote  string
	mismatch bool
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizes := fs.String("sizes", "100,1000,10000,20000", "comma-separated fleet sizes (instances)")
	formats := fs.String("formats", "cue,json", "comma-separated input syntaxes: cue, json, yaml")
	c := &config{stdout: stdout, stderr: stderr, progress: stderr}
	fs.DurationVar(&c.timeout, "timeout", 120*time.Second, "give up on one run after this long")
	fs.IntVar(&c.runs, "runs", 1, "runs of ecsnet per file; the table shows the median by wall time (cue vet runs once)")
	fs.BoolVar(&c.cue, "cue", true, "also run cue vet with the schema")
	fs.BoolVar(&c.keep, "keep", false, "keep the work directory (binaries and generated fleets)")
	fs.Int64Var(&c.seed, "seed", 1, "testfleet seed")
	fs.BoolVar(&c.dualStack, "dual-stack", true, "generate issue 17's shape: a tenth of the ENIs dual-stack (two IPv6 addresses, pinned or counted), a tenth with a pinned /28 IPv4 prefix, 100 instances per vSwitch (testfleet.Options.DualStack); false: the IPv4-only fleet")
	fs.StringVar(&c.ecsnet, "ecsnet", "", "measure this ecsnet binary instead of building ./cmd/ecsnet")
	fs.Func("schema", "comma-separated schema files for cue vet (default: schema/*.cue)", func(s string) error {
		for _, f := range strings.Split(s, ",") {
			abs, err := filepath.Abs(f)
			if err != nil {
				return err
			}
			c.schema = append(c.schema, abs)
		}
		return nil
	})
	quick := fs.Bool("quick", false, "a shorter run: apply at 100 instances, validate at 1,000 and 20,000, cue vet only up to 1,000 (explicit flags win)")
	tables := fs.String("tables", strings.Join(allTables, ","), "comma-separated tables to measure: "+strings.Join(allTables, ", "))
	fs.IntVar(&c.cueMax, "cue-max", 0, "run cue vet only on fleets of up to this many instances (0: all)")
	fs.IntVar(&c.scale, "scale", 20000, "instances of the plan, render and scale tables")
	fs.IntVar(&c.renderRuns, "render-runs", 3, "back-to-back pairs of floor and ecsnet render runs (render table) and of floor and validate + plan + render (scale table); verdicts are on the median pair")
	scaleFormats := fs.String("scale-formats", "json,cue", "input syntaxes of the scale table's pipeline")
	observe := fs.String("observe", "7000,20000", "instances,ENIs of the observe table (primary ENIs included)")
	applySizes := fs.String("apply-sizes", "100,1000", "comma-separated fleet sizes (instances) of the apply table")
	fs.DurationVar(&c.applyLatency, "apply-latency", 20*time.Millisecond, "emulator latency per request in the apply table")
	fs.DurationVar(&c.applyAsync, "apply-async-delay", 0, "emulator time for attach to finish in the apply table")
	fs.DurationVar(&c.applyWait, "apply-wait-interval", 10*time.Millisecond, "the client's first polling delay after an attach (grows to 10×)")
	fs.IntVar(&c.applyParallelism, "apply-parallelism", 10, "plan.Apply parallelism (ecsnet apply's default is 10)")
	fs.StringVar(&c.applyBurst, "apply-burst", "matched", "client token-bucket burst: matched (the emulator's) or default (Burst = PerMinute)")
	fs.BoolVar(&c.applySaveLock, "apply-save-lock", true, "write the lock file after every step, as ecsnet apply does")
	outFile := fs.String("o", "", "also write the report to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		if !set["apply-sizes"] {
			*applySizes = "100"
		}
		if !set["sizes"] {
			*sizes = "1000,20000"
		}
		if !set["cue-max"] {
			c.cueMax = 1000
		}
		if !set["render-runs"] {
			c.renderRuns = 1
		}
	}
	c.tables = map[string]bool{}
	for _, t := range strings.Split(*tables, ",") {
		t = strings.TrimSpace(t)
		if !slices.Contains(allTables, t) {
			fmt.Fprintf(stderr, "benchtable: -tables: %q is not one of %s\n", t, strings.Join(allTables, ", "))
			return 2
		}
		c.tables[t] = true
	}
	if c.applyBurst != "matched" && c.applyBurst != "default" {
		fmt.Fprintf(stderr, "benchtable: -apply-burst: %q is not matched or default\n", c.applyBurst)
		return 2
	}
	var err error
	if c.sizes, err = parseSizes(*sizes); err != nil {
		fmt.Fprintf(stderr, "benchtable: -sizes: %v\n", err)
		return 2
	}
	for _, f := range strings.Split(*formats, ",") {
		f = strings.TrimSpace(f)
		if f != "cue" && f != "json" && f != "yaml" {
			fmt.Fprintf(stderr, "benchtable: -formats: %q is not cue, json or yaml\n", f)
			return 2
		}
		c.formats = append(c.formats, f)
	}
	if c.applySizes, err = parseSizes(*applySizes); err != nil {
		fmt.Fprintf(stderr, "benchtable: -apply-sizes: %v\n", err)
		return 2
	}
	if on, err := parseSizes(*observe); err != nil || len(on) != 2 {
		fmt.Fprintf(stderr, "benchtable: -observe: want INSTANCES,ENIS\n")
		return 2
	} else {
		c.observeInstances, c.observeENIs = on[0], on[1]
	}
	if limit := c.maxInstances(); c.scale < 1 || c.scale > limit {
		fmt.Fprintf(stderr, "benchtable: -scale: %d is not from 1 to %d\n", c.scale, limit)
		return 2
	}
	for _, f := range strings.Split(*scaleFormats, ",") {
		f = strings.TrimSpace(f)
		if f != "cue" && f != "json" && f != "yaml" {
			fmt.Fprintf(stderr, "benchtable: -scale-formats: %q is not cue, json or yaml\n", f)
			return 2
		}
		c.scaleFormats = append(c.scaleFormats, f)
	}
	if c.runs < 1 {
		c.runs = 1
	}
	if err := c.setup(); err != nil {
		if c.work != "" && !c.keep {
			os.RemoveAll(c.work)
		}
		fmt.Fprintf(stderr, "benchtable: %v\n", err)
		return 1
	}
	if !c.keep {
		defer os.RemoveAll(c.work)
	} else {
		fmt.Fprintf(stderr, "benchtable: keeping %s\n", c.work)
	}
	var report bytes.Buffer
	out := io.MultiWriter(stdout, &report)
	ok := c.measureAll(out)
	if *outFile != "" {
		if err := os.WriteFile(*outFile, report.Bytes(), 0o644); err != nil {
			fmt.Fprintf(stderr, "benchtable: %v\n", err)
			return 1
		}
	}
	if !ok {
		return 1
	}
	return 0
}

// measureAll measures the chosen tables in turn, printing each as soon as
// it is done, and reports whether nothing broke.
func (c *config) measureAll(w io.Writer) bool {
	c.stdout = w
	fmt.Fprintf(w, "# ecsnet performance (make bench)\n\n%s, %d CPUs (GOMAXPROCS %d), %s, %s. Load average at the start: %s. Started %s.\n\n",
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH, loadAvg(), time.Now().UTC().Format(time.RFC3339))
	start := time.Now()
	ok := true
	var rows []row
	if c.tables["validate"] {
		var err error
		if rows, err = c.measure(); err != nil {
			fmt.Fprintf(w, "## ecsnet validate vs cue vet\n\nBROKEN: %v\n\n", err)
			ok = false
		} else if !c.report(rows) {
			ok = false
		}
	}
	var sections []*section
	emit := func(s *section) {
		s.print(w)
		sections = append(sections, s)
	}
	if c.tables["observe"] {
		emit(c.observeSection())
	}
	if c.tables["plan"] || c.tables["render"] || c.tables["scale"] || c.tables["prjob"] {
		fmt.Fprintf(c.progress, "building the %d-instance fixture ...\n", c.scale)
		fx, err := c.buildFixture(c.scale)
		if err != nil {
			s := &section{title: "Plan, render and scale"}
			s.crash("fixture", thousands(c.scale)+" instances", err)
			emit(s)
		} else {
			if c.tables["plan"] {
				s := c.planSection(fx)
				s.notef("Building the fixture (in this process): load %s, observation %s, lock (plan.Reconcile) %s.",
					secs(fx.setup["load"]), secs(fx.setup["observed"]), secs(fx.setup["reconcile"]))
				emit(s)
			}
			var rr renderResult
			if c.tables["render"] {
				var s *section
				s, rr = c.renderSection(fx)
				emit(s)
			}
			if c.tables["scale"] {
				emit(c.scaleSection(fx, rows, rr))
			}
			if c.tables["prjob"] {
				emit(c.prJobSection(fx)) // prjob.go
			}
			// The rendered trees (about 700 MiB each) go with the work
			// directory at the very end, not between measurements.
		}
	}
	if c.tables["apply"] {
		emit(c.applySection())
	}
	if c.tables["failover"] {
		emit(c.failoverSection())
	}

	// The verdicts, once more, in one list.
	fmt.Fprintf(w, "## Summary\n\n")
	pass, fail, broken, measured := 0, 0, 0, 0
	for _, s := range sections {
		for _, k := range s.rows {
			switch {
			case k.broken:
				broken++
				ok = false
				fmt.Fprintf(w, "- BROKEN: %s: %s (%s)\n", s.title, k.what, k.size)
			case k.label != "":
				// Measured without a goal, or skipped: neither PASS nor FAIL.
				measured++
			case !k.pass:
				fail++
				fmt.Fprintf(w, "- FAIL: %s: %s (%s): %s against %s\n", s.title, k.what, k.size, k.measured, k.goal)
			default:
				pass++
			}
		}
	}
	fmt.Fprintf(w, "\n%d PASS, %d FAIL, %d BROKEN in the goal tables (the validate budgets are listed with their table); %d rows measured or skipped without a goal. "+
		"Took %s; load average at the end: %s.\n", pass, fail, broken, measured, time.Since(start).Round(time.Second), loadAvg())
	return ok
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > testfleet.MaxInstances {
			return nil, fmt.Errorf("%q is not a fleet size from 1 to %d", f, testfleet.MaxInstances)
		}
		out = append(out, n)
	}
	return out, nil
}

// setup finds the module root and the schema, and builds the binaries.
func (c *config) setup() error {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return fmt.Errorf("find the module root (run from inside the module): %v", err)
	}
	c.root = strings.TrimSpace(string(out))
	// The schema is the published contract: every *.cue file in schema/
	// (ecsnet.cue, and instancetypes.cue when the type table is split out).
	if c.schema == nil {
		c.schema, _ = filepath.Glob(filepath.Join(c.root, "schema", "*.cue"))
		slices.Sort(c.schema)
	}
	if c.work, err = os.MkdirTemp("", "ecsnet-bench-"); err != nil {
		return err
	}
	c.cueBin = filepath.Join(c.work, "cue")
	if c.ecsnet == "" {
		c.ecsnet = filepath.Join(c.work, "ecsnet")
		fmt.Fprintf(c.progress, "building ecsnet ...\n")
		if err := c.goBuild(c.ecsnet, "./cmd/ecsnet"); err != nil {
			return err
		}
	} else if c.ecsnet, err = filepath.Abs(c.ecsnet); err != nil {
		return err
	}
	if c.tables["validate"] && c.cue && len(c.schema) > 0 {
		fmt.Fprintf(c.progress, "building cue from the module graph ...\n")
		if err := c.goBuild(c.cueBin, "cuelang.org/go/cmd/cue"); err != nil {
			return err
		}
		if err := c.inspectSchema(); err != nil {
			return err
		}
	}
	return nil
}

// cueArgs returns the cue vet command line for one input, or nil when
// cue cannot check that syntax with this schema. `-d '#Fleet'` applies the
// schema to JSON and YAML data, but cue refuses it for CUE input
// ("-d/--schema flag requires non-CUE input files"): a CUE fleet is vetted
// together with the schema files, which must then apply #Fleet at their top
// level themselves (schema/ecsnet.cue does), or be a package to which a
// one-line glue file of that package adds the embedding.
func (c *config) cueArgs(format, name string) []string {
	args := []string{"vet", "-c"}
	if format != "cue" {
		args = append(args, "-d", "#Fleet")
	}
	args = append(args, c.schema...)
	if format == "cue" {
		if !c.embedsFleet && c.glue == "" {
			return nil
		}
		if c.glue != "" {
			args = append(args, c.glue)
		}
	}
	return append(args, name)
}

// inspectSchema finds out how to apply #Fleet to CUE input: does a schema
// file embed it at its top level, and if not, is the schema a package a
// glue file can join?
func (c *config) inspectSchema() error {
	pkg := ""
	for _, name := range c.schema {
		f, err := parser.ParseFile(name, nil)
		if err != nil {
			return fmt.Errorf("parse the schema: %v", err)
		}
		if pkg == "" {
			pkg = f.PackageName()
		}
		for _, d := range f.Decls {
			if e, ok := d.(*ast.EmbedDecl); ok {
				if id, ok := e.Expr.(*ast.Ident); ok && id.Name == "#Fleet" {
					c.embedsFleet = true
				}
			}
		}
	}
	if c.embedsFleet || pkg == "" {
		// Without a package clause, files do not share a scope, so a glue
		// file could not name #Fleet.
		return nil
	}
	c.glue = filepath.Join(c.work, "fleet_glue.cue")
	return os.WriteFile(c.glue, []byte("package "+pkg+"\n\n#Fleet\n"), 0o644)
}

func (c *config) goBuild(out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = c.root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, stderr.Bytes())
	}
	return nil
}

func (c *config) measure() ([]row, error) {
	var rows []row
	for _, n := range c.sizes {
		for _, format := range c.formats {
			name := filepath.Join(c.work, fmt.Sprintf("fleet-%d.%s", n, format))
			size, err := c.generate(name, n, format)
			if err != nil {
				return nil, err
			}
			r := row{size: n, format: format, bytes: size}
			var runs []result
			for i := range c.runs {
				fmt.Fprintf(c.progress, "%d %s: ecsnet validate (run %d of %d) ...\n", n, format, i+1, c.runs)
				runs = append(runs, c.exec(c.ecsnet, "validate", name))
			}
			slices.SortFunc(runs, func(a, b result) int { return int(a.wall - b.wall) })
			r.ecsnet = runs[len(runs)/2]
			switch {
			case !c.cue:
				r.cueNote = "not run (-cue=false)"
			case c.cueMax > 0 && n > c.cueMax:
				r.cueNote = fmt.Sprintf("not run above %s instances (-cue-max)", thousands(c.cueMax))
			case len(c.schema) == 0:
				r.cueNote = "skipped: no schema/*.cue yet"
			default:
				args := c.cueArgs(format, name)
				if args == nil {
					r.cueNote = "skipped: the schema neither embeds #Fleet nor has a package a glue file could join"
					break
				}
				fmt.Fprintf(c.progress, "%d %s: cue vet ...\n", n, format)
				r.cue = c.exec(c.cueBin, args...)
				r.mismatch = r.cue.verdict != "timeout" && r.cue.verdict != r.ecsnet.verdict
			}
			rows = append(rows, r)
			// The fleet files are large; keep only what -keep asks for.
			if !c.keep {
				os.Remove(name)
			}
		}
	}
	return rows, nil
}

func (c *config) generate(name string, n int, format string) (int64, error) {
	f, err := os.Create(name)
	if err != nil {
		return 0, err
	}
	err = testfleet.Write(f, testfleet.Options{Instances: n, Format: format, Seed: c.seed, DualStack: c.dualStack})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	st, err := os.Stat(name)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// exec runs one tool to completion or the timeout and classifies the
// outcome: exit 0 is "valid", exit 1 "invalid".
func (c *config) exec(bin string, args ...string) result {
	t := c.run(bin, nil, args...)
	r := result{wall: t.wall, rssKiB: t.rssKiB, measured: t.err == nil || strings.Contains(t.err.Error(), "timed out")}
	if r.measured && t.err != nil {
		r.wall = c.timeout
	}
	switch {
	case t.err != nil && strings.Contains(t.err.Error(), "timed out"):
		r.verdict = "timeout"
	case t.err != nil:
		r.verdict = "error (" + t.err.Error() + ")"
	case t.code == 0:
		r.verdict = "valid"
	case t.code == 1:
		r.verdict = "invalid"
	default:
		r.verdict = fmt.Sprintf("error (exit %d)", t.code)
	}
	if r.verdict != "valid" {
		r.detail = t.stderr
	}
	return r
}

// limited keeps the first n bytes written to it and drops the rest, so a
// tool that prints thousands of errors does not fill memory.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

func (c *config) glueText() string {
	b, _ := os.ReadFile(c.glue)
	return strings.ReplaceAll(strings.TrimSpace(string(b)), "\n\n", "; ")
}

func mib(kib int64) string { return fmt.Sprintf("%.0f", float64(kib)/1024) }

func (r result) wallString() string {
	switch {
	case !r.measured:
		return r.verdict
	case r.verdict == "timeout":
		return "timeout"
	}
	return fmt.Sprintf("%.2f", r.wall.Seconds())
}

// report prints the table and the budgets, and reports whether everything
// passed.
func (c *config) report(rows []row) bool {
	w := c.stdout
	ok := true
	fmt.Fprintf(w, "## ecsnet validate vs cue vet\n\n")
	fmt.Fprintf(w, "%s, %d CPUs (GOMAXPROCS %d), %s; fleets from internal/testfleet (seed %d): %d ENIs and %d addresses per instance, ecs.g7.xlarge; %s.\n",
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), c.seed, testfleet.ENIsPerInstance, testfleet.AddressesPerInstance, c.shape())
	if len(c.schema) > 0 && c.cue {
		rel := make([]string, len(c.schema))
		for i, s := range c.schema {
			rel[i], _ = filepath.Rel(c.root, s)
		}
		schema := strings.Join(rel, " ")
		cueCmd := "cue vet -c " + schema + " FILE` (the schema embeds #Fleet at its top level)"
		switch {
		case c.glue != "":
			cueCmd = "cue vet -c " + schema + " GLUE FILE` where GLUE is `" + c.glueText() + "`"
		case !c.embedsFleet:
			cueCmd = "not possible with this schema`"
		}
		fmt.Fprintf(w, "cue vet (built from go.mod; timeout %s per run): `cue vet -c -d '#Fleet' %s FILE` for JSON and YAML; for CUE, which cue refuses with -d, `%s.\n",
			c.timeout, schema, cueCmd)
	}
	if c.runs > 1 {
		fmt.Fprintf(w, "ecsnet: median of %d runs.\n", c.runs)
	}
	fmt.Fprintf(w, "\n| instances | syntax | input MiB | ecsnet wall s | ecsnet peak RSS MiB | cue vet wall s | cue vet peak RSS MiB | verdicts (ecsnet / cue) |\n")
	fmt.Fprintf(w, "|---:|---|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		cueWall, cueRSS, cueVerdict := "—", "—", "—"
		if r.cueNote == "" {
			cueWall, cueVerdict = r.cue.wallString(), r.cue.verdict
			if r.cue.verdict == "timeout" {
				cueWall = fmt.Sprintf("timeout >%g s", c.timeout.Seconds())
			}
			if r.cue.measured {
				cueRSS = mib(r.cue.rssKiB)
			}
			if r.cue.verdict == "timeout" {
				cueRSS = "≥" + cueRSS // peak until it was killed
			}
		}
		verdicts := r.ecsnet.verdict + " / " + cueVerdict
		if r.mismatch {
			verdicts = "**MISMATCH: " + verdicts + "**"
		}
		fmt.Fprintf(w, "| %s | %s | %.1f | %s | %s | %s | %s | %s |\n",
			thousands(r.size), r.format, float64(r.bytes)/(1<<20), r.ecsnet.wallString(), mib(r.ecsnet.rssKiB), cueWall, cueRSS, verdicts)
	}
	fmt.Fprintln(w)
	notes := map[string]bool{}
	for _, r := range rows {
		if r.cueNote != "" && !notes[r.cueNote] {
			notes[r.cueNote] = true
			fmt.Fprintf(w, "cue vet on %s: %s.\n\n", r.format, r.cueNote)
		}
	}
	for _, r := range rows {
		if r.ecsnet.verdict != "valid" {
			ok = false
			fmt.Fprintf(w, "FAIL: ecsnet validate says %s on the generated %d-instance %s fleet (it is valid by construction):\n%s\n\n", r.ecsnet.verdict, r.size, r.format, indent(r.ecsnet.detail))
		}
		if r.mismatch {
			ok = false
			fmt.Fprintf(w, "FAIL: VERDICTS DIFFER on %d %s: ecsnet %s, cue vet %s\n", r.size, r.format, r.ecsnet.verdict, r.cue.verdict)
			if r.cue.detail != "" {
				fmt.Fprintf(w, "cue vet said:\n%s\n", indent(r.cue.detail))
			}
			fmt.Fprintln(w)
		} else if r.cueNote == "" && r.cue.verdict != "valid" && r.cue.verdict != "timeout" {
			fmt.Fprintf(w, "note: cue vet says %s on %d %s:\n%s\n\n", r.cue.verdict, r.size, r.format, indent(r.cue.detail))
		}
	}
	fmt.Fprintf(w, "### Budgets\n\n")
	for _, b := range budgets {
		// A missed budget is reported, not fatal (see the package doc).
		line, _ := b.check(rows)
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)
	return ok
}

// budget is a performance goal for ecsnet validate at one fleet size, in
// every syntax measured.
type budget struct {
	instances int
	wall      time.Duration
	rssMiB    int64 // 0: no memory bound
	source    string
	required  bool // false: a later issue's target, reported but not enforced
}

var budgets = []budget{
	{instances: 1000, wall: 2 * time.Second, source: "issue 2", required: true},
	{instances: 10000, wall: 15 * time.Second, rssMiB: 1024, source: "issue 2", required: true},
	{instances: 20000, wall: 5 * time.Second, rssMiB: 1024, source: "issue 7", required: true},
}

func (b budget) check(rows []row) (string, bool) {
	goal := fmt.Sprintf("%s instances ≤ %g s", thousands(b.instances), b.wall.Seconds())
	if b.rssMiB > 0 {
		goal += fmt.Sprintf(" and ≤ %d MiB", b.rssMiB)
	}
	var got []string
	pass, seen := true, false
	for _, r := range rows {
		if r.size != b.instances {
			continue
		}
		seen = true
		good := r.ecsnet.verdict == "valid" && r.ecsnet.wall <= b.wall && (b.rssMiB == 0 || r.ecsnet.rssKiB <= b.rssMiB*1024)
		pass = pass && good
		got = append(got, fmt.Sprintf("%s %.2f s / %s MiB", r.format, r.ecsnet.wall.Seconds(), mib(r.ecsnet.rssKiB)))
	}
	status := "PASS"
	switch {
	case !seen:
		return fmt.Sprintf("- not measured: %s (%s)", goal, b.source), true
	case !pass && b.required:
		status = "FAIL"
	case !pass:
		status = "not yet"
	}
	return fmt.Sprintf("- %s: %s (%s): %s", status, goal, b.source, strings.Join(got, ", ")), pass
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// shape says which testfleet shape the tables measure.
func (c *config) shape() string {
	if c.dualStack {
		return "issue 17's shape (-dual-stack): a tenth of the ENIs dual-stack, two IPv6 addresses each (half pinned, half ipv6IpCount), a tenth with a pinned /28 IPv4 prefix, 100 instances per vSwitch, and a limits row giving ecs.g7.xlarge 15 IPv6 addresses per ENI (assumed, not verified against DescribeInstanceTypes)"
	}
	return "IPv4 only (-dual-stack=false)"
}

// maxInstances is the largest fleet testfleet generates in the shape.
func (c *config) maxInstances() int {
	if c.dualStack {
		return testfleet.MaxInstances / testfleet.InstancesPerVSwitch * testfleet.InstancesPerVSwitchDualStack
	}
	return testfleet.MaxInstances
}
