package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/load"
	cuejson "cuelang.org/go/encoding/json"
	cueyaml "cuelang.org/go/encoding/yaml"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/ecsnet/ecsnet/internal/golden"
)

// The published schema (ecsnet.cue) ends with a section generated from the
// Go tables: the OS and stack enums and the built-in instance type table.
// Everything above the marker is written by hand.
const cueGenMarker = "// ---- Generated from the Go tables by TestInstanceTypesCUE; do not edit below this line. ----"

// TestInstanceTypesCUE keeps the generated end of ecsnet.cue equal to the Go
// tables; `go test ./schema -run TestInstanceTypesCUE -update` rewrites it
// (and runs cue's formatter over the whole file).
func TestInstanceTypesCUE(t *testing.T) {
	src, err := os.ReadFile(CUESchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	hand, _, ok := bytes.Cut(src, []byte(cueGenMarker))
	if !ok {
		t.Fatalf("%s: the marker line %q is missing", CUESchemaFile, cueGenMarker)
	}
	var b bytes.Buffer
	b.Write(hand)
	b.WriteString(cueGenMarker)
	b.WriteString("\n")
	b.WriteString(generatedCUE())
	got, err := format.Source(b.Bytes())
	if err != nil {
		t.Fatalf("generated schema does not format: %v\n%s", err, b.Bytes())
	}
	golden.Check(t, CUESchemaFile, got)
}

// generatedCUE renders the Go tables as CUE.
func generatedCUE() string {
	var b strings.Builder
	b.WriteString("// Regenerate with: go test ./schema -run TestInstanceTypesCUE -update\n\n")

	var names []string
	byStack := map[Stack][]string{}
	for _, r := range osTable {
		names = append(names, string(r.os))
		byStack[r.stack] = append(byStack[r.stack], string(r.os))
	}
	b.WriteString("// #OS is a supported guest operating system. Each uses a network stack\n")
	b.WriteString("// (#Stack) unless the instance sets network:\n")
	for _, s := range Stacks() {
		if len(byStack[s]) > 0 {
			fmt.Fprintf(&b, "//   - %s: %s\n", s, strings.Join(byStack[s], ", "))
		}
	}
	b.WriteString("#OS:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\t%q |\n", n)
	}
	fmt.Fprintf(&b, "\terror(%q)\n\n", "os must be one of: "+strings.Join(names, ", ")+" (`ecsnet help os` describes them)")

	b.WriteString("// #windowsOS lists the Windows Server releases: they, and only they, use\n")
	b.WriteString("// the \"windows\" stack.\n")
	b.WriteString("#windowsOS: {\n")
	for _, r := range osTable {
		if r.os.Windows() {
			fmt.Fprintf(&b, "\t%q: true\n", r.os)
		}
	}
	b.WriteString("}\n\n")

	names = names[:0]
	b.WriteString("// #Stack is a host network configuration stack ecsnet renders.\n")
	b.WriteString("#Stack:\n")
	for _, s := range Stacks() {
		fmt.Fprintf(&b, "\t%q |\n", s)
		names = append(names, string(s))
	}
	fmt.Fprintf(&b, "\terror(%q)\n\n", "network must be one of: "+strings.Join(names, ", "))

	b.WriteString("// #builtinInstanceTypes is ecsnet's built-in instance type table (rows are\n")
	b.WriteString("// #InstanceTypeRow), from the public \"Overview of instance families\" pages.\n")
	b.WriteString("// A row of limits.instanceTypes adds a type or replaces a row.\n")
	b.WriteString("#builtinInstanceTypes: {\n")
	for _, it := range BuiltinInstanceTypes() {
		var extra strings.Builder
		if it.AttachNeedsStopped {
			extra.WriteString(", attachNeedsStopped: true")
		}
		if it.MaxIPv6PerENI > 0 {
			fmt.Fprintf(&extra, ", maxIpv6PerEni: %d", it.MaxIPv6PerENI)
		}
		if it.NetworkCards > 1 {
			fmt.Fprintf(&extra, ", networkCards: %d", it.NetworkCards)
		}
		if it.MaxQueuesPerENI > 0 {
			fmt.Fprintf(&extra, ", maxQueuesPerEni: %d", it.MaxQueuesPerENI)
		}
		fmt.Fprintf(&b, "\t%q: {maxEnis: %d, maxIpsPerEni: %d%s}\n", it.Name, it.MaxENIs, it.MaxIPsPerENI, extra.String())
	}
	b.WriteString("}\n")
	return b.String()
}

// compiledSchema compiles the published schema once per test binary.
var cueSchemaCache struct {
	ctx   *cue.Context
	root  cue.Value
	fleet cue.Value
	err   error
}

func compiledSchema(t testing.TB) (*cue.Context, cue.Value) {
	t.Helper()
	c := &cueSchemaCache
	if c.ctx == nil && c.err == nil {
		c.ctx = cuecontext.New()
		c.root = c.ctx.CompileBytes(CUESchema(), cue.Filename(CUESchemaFile))
		if c.err = c.root.Err(); c.err == nil {
			c.fleet = c.root.LookupPath(cue.ParsePath("#Fleet"))
			c.err = c.fleet.Err()
		}
	}
	if c.err != nil {
		t.Fatalf("compile %s: %v", CUESchemaFile, c.err)
	}
	return c.ctx, c.fleet
}

// TestCUESchemaMatchesGoConstants compares the patterns and bounds the
// schema spells out by hand with the Go decoder's.
func TestCUESchemaMatchesGoConstants(t *testing.T) {
	_, _ = compiledSchema(t)
	root := cueSchemaCache.root
	str := func(p string) string {
		s, err := root.LookupPath(cue.ParsePath(p)).String()
		if err != nil {
			t.Errorf("%s: %v", p, err)
		}
		return s
	}
	num := func(p string) int64 {
		n, err := root.LookupPath(cue.ParsePath(p)).Int64()
		if err != nil {
			t.Errorf("%s: %v", p, err)
		}
		return n
	}
	for p, want := range map[string]string{
		"#reName":            reName.String(),
		"#reFleet":           reFleet.String(),
		"#reFleetDots":       reFleetDots.String(),
		"#reRegion":          reRegion.String(),
		"#reInstanceID":      reInstanceID.String(),
		"#reENIID":           reENIID.String(),
		"#reVSwitchID":       reVSwitchID.String(),
		"#reSecurityGroupID": reGroupID.String(),
		"#reInstanceType":    reInstanceType.String(),
	} {
		if got := str(p); got != want {
			t.Errorf("%s = %q in %s, Go has %q", p, got, CUESchemaFile, want)
		}
	}
	for p, want := range map[string]int64{
		"#maxSecondaryIps":                  maxSecondaryIPs,
		"#maxIpv6PerEni":                    maxIPv6PerENI,
		"#maxNetworkCards":                  maxNetworkCards,
		"#maxQueuesPerEni":                  maxQueuesPerENI,
		"#unboundEniMaxIpv6":                unboundENIMaxIPv6,
		"#maxGroupsPerEni":                  maxGroupsPerENI,
		"#defaultUnboundEniMaxSecondaryIps": DefaultUnboundENIMaxSecondaryIPs,
		"#defaultSecurityGroupMaxIps":       DefaultSecurityGroupMaxIPs,
	} {
		if got := num(p); got != want {
			t.Errorf("%s = %d in %s, Go has %d", p, got, CUESchemaFile, want)
		}
	}
}

// TestCUESchemaEmbedded checks that the embedded schema is the file on disk.
func TestCUESchemaEmbedded(t *testing.T) {
	disk, err := os.ReadFile(filepath.Join(".", CUESchemaFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(disk, CUESchema()) {
		t.Fatal("CUESchema() differs from ecsnet.cue: rebuild")
	}
}

// ---- The differential test: Go's verdict equals cue vet's. ----

// caseFile is one input file of a differential case.
type caseFile struct {
	name string // base name; the extension picks the syntax
	src  []byte
}

// cueCase is one input to both validators.
type cueCase struct {
	name  string
	files []caseFile
	what  string // the mutations applied, for the failure message
	want  string // "accept" or "refuse" when the case is meant to (per-instance/ENI rules; empty: either)
}

// verdicts of one case.
type verdicts struct {
	parse     Errors // Go: the input did not parse (syntax, duplicate keys)
	local     Errors // Go: per-instance and per-ENI rules, which the schema also states
	fleetWide Errors // Go: fleet-wide rules, Go only
	cue       error  // CUE: #Fleet unified with the data, validated concretely
}

// parseLevel reports whether a Go error is about the input's syntax rather
// than its content. CUE reports those differently (or, for duplicate JSON
// and YAML keys with equal values, not at all), so they are excluded from the
// comparison.
func parseLevel(e *Error) bool {
	for _, p := range []string{"invalid JSON", "invalid YAML", "invalid CUE", "duplicate key", "invalid string"} {
		if strings.HasPrefix(e.Msg, p) {
			return true
		}
	}
	return false
}

// goVerdict runs the Go loader on the case's files, written to dir.
func goVerdict(t *testing.T, dir string, c cueCase) verdicts {
	t.Helper()
	var paths []string
	for _, f := range c.files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.src, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var v verdicts
	_, err := Load(paths, LoadOptions{})
	if err == nil {
		return v
	}
	es, ok := err.(Errors)
	if !ok {
		t.Fatalf("Load returned %T, not Errors: %v", err, err)
	}
	for _, e := range es {
		switch {
		case parseLevel(e):
			v.parse = append(v.parse, e)
		case e.FleetWide:
			v.fleetWide = append(v.fleetWide, e)
		default:
			v.local = append(v.local, e)
		}
	}
	return v
}

// cueVerdict validates the case's files against #Fleet as `cue vet -c -d
// '#Fleet' ecsnet.cue FILE...` does: each data file becomes a value, the
// values are unified, #Fleet is unified with them, and the result must be
// concrete and free of errors.
func cueVerdict(ctx *cue.Context, fleet cue.Value, c cueCase) error {
	var data cue.Value
	for i, f := range c.files {
		// Like the cue command (internal/encoding in v0.17.1), read the file
		// as UTF-8 with an optional byte-order mark (or UTF-16 with one).
		src, _, err := transform.Bytes(unicode.BOMOverride(unicode.UTF8.NewDecoder()), f.src)
		if err != nil {
			return err
		}
		f.src = src
		var v cue.Value
		switch strings.ToLower(filepath.Ext(f.name)) {
		case ".json":
			expr, err := cuejson.Extract(f.name, f.src)
			if err != nil {
				return err
			}
			v = ctx.BuildExpr(expr)
		case ".yaml", ".yml":
			file, err := cueyaml.Extract(f.name, f.src)
			if err != nil {
				return err
			}
			v = ctx.BuildFile(file)
		default:
			v = ctx.CompileBytes(f.src, cue.Filename(f.name))
		}
		if err := v.Err(); err != nil {
			return err
		}
		if i == 0 {
			data = v
		} else {
			data = data.Unify(v)
		}
	}
	return fleet.Unify(data).Validate(cue.Concrete(true))
}

// knownGoGaps are dedicated cases where the Go loader's verdict differs
// from the schema's, and the schema states the intended rule. While a gap is
// open its case is logged, not failed; once Go agrees, the test fails until
// the entry is removed.
var knownGoGaps = map[string]string{}

func TestCUEDifferential(t *testing.T) {
	ctx, fleet := compiledSchema(t)
	cases := fixtureCases(t)
	nFixtures := len(cases)
	cases = append(cases, dedicatedCases(t)...)
	nDedicated := len(cases) - nFixtures
	cases = append(cases, mutatedCases(t, 300)...)
	dir := t.TempDir()
	agree, gaps := 0, 0
	tally := map[string]int{}
	byMutation := map[string][2]int{} // single-mutation variants: accepted, refused
	for _, c := range cases {
		cdir, err := os.MkdirTemp(dir, "case")
		if err != nil {
			t.Fatal(err)
		}
		v := goVerdict(t, cdir, c)
		v.cue = cueVerdict(ctx, fleet, c)
		goFails, cueFails := len(v.local) > 0, v.cue != nil
		if _, gap := knownGoGaps[c.name]; c.want != "" && !gap && c.want != verdict(cueFails)[:6] {
			t.Errorf("%s: meant to %s, but CUE %s\n%s", c.name, c.want, verdict(cueFails), describeCase(c, v))
		}
		switch {
		case len(v.parse) > 0:
			tally["parse error (excluded)"]++
			switch {
			case !cueFails && cueLenient(v.parse):
				t.Logf("%s: Go refuses the input's syntax, cue vet accepts it (a leniency of cue's decoders): %s", c.name, v.parse[0].Msg)
			case !cueFails:
				t.Errorf("%s: Go refuses the input's syntax but CUE accepts it\n%s", c.name, describeCase(c, v))
			}
			continue
		case goFails == cueFails:
			agree++
			// CUEDEBUG=<mutation name> prints the agreeing cases of that
			// mutation with both error lists.
			if os.Getenv("CUEDEBUG") != "" && strings.HasPrefix(c.what, os.Getenv("CUEDEBUG")) {
				t.Logf("%s\n%s", c.name, describeCase(cueCase{what: c.what}, v))
			}
			if c.what != "" && !strings.Contains(c.what, "; ") {
				name, _, _ := strings.Cut(c.what, ": ")
				n := byMutation[name]
				n[btoi(goFails)]++
				byMutation[name] = n
			}
			switch {
			case goFails:
				tally["both refuse"]++
			case len(v.fleetWide) > 0:
				tally["both accept (Go: fleet-wide errors only)"]++
			default:
				tally["both accept"]++
			}
		default:
			if why, ok := knownGoGaps[c.name]; ok {
				gaps++
				t.Logf("%s: known Go gap: Go %s, CUE %s: %s", c.name, verdict(goFails), verdict(cueFails), why)
				continue
			}
			t.Errorf("%s: verdicts differ: Go %s, CUE %s\n%s", c.name, verdict(goFails), verdict(cueFails), describeCase(c, v))
			continue
		}
		if why, ok := knownGoGaps[c.name]; ok {
			t.Errorf("%s: listed in knownGoGaps (%s) but Go and CUE now agree: remove the entry", c.name, why)
		}
	}
	t.Logf("%d cases (%d fixtures, %d dedicated, %d mutated): %d agree, %d known Go gaps; %v",
		len(cases), nFixtures, nDedicated, len(cases)-nFixtures-nDedicated, agree, gaps, tally)
	for _, m := range mutations {
		n := byMutation[m.name]
		t.Logf("  alone: %-36s accepted %2d, refused %2d", m.name, n[0], n[1])
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func verdict(fails bool) string {
	if fails {
		return "refuses"
	}
	return "accepts"
}

// cueLenient reports whether every parse-level error is one that the cue
// command lets through: a key written twice with equal values (merged), a
// UTF-8 byte-order mark (skipped) and invalid UTF-8 (each bad byte read as
// U+FFFD).
func cueLenient(es Errors) bool {
	for _, e := range es {
		if !strings.HasPrefix(e.Msg, "duplicate key") && !strings.Contains(e.Msg, "byte-order mark") && !strings.Contains(e.Msg, "invalid UTF-8") &&
			!strings.Contains(e.Msg, "has a leading zero") {
			return false
		}
	}
	return true
}

// describeCase prints a case's input and both error lists.
func describeCase(c cueCase, v verdicts) string {
	var b strings.Builder
	if c.what != "" {
		fmt.Fprintf(&b, "mutations: %s\n", c.what)
	}
	for _, f := range c.files {
		fmt.Fprintf(&b, "--- %s\n%s\n", f.name, f.src)
	}
	if len(v.parse) > 0 {
		b.WriteString("--- Go errors (the input's syntax, not compared):\n")
		for _, e := range v.parse {
			fmt.Fprintf(&b, "    %s\n", e)
		}
	}
	b.WriteString("--- Go errors (per-instance/ENI rules):\n")
	for _, e := range v.local {
		fmt.Fprintf(&b, "    %s\n", e)
	}
	if len(v.fleetWide) > 0 {
		b.WriteString("--- Go errors (fleet-wide, not compared):\n")
		for _, e := range v.fleetWide {
			fmt.Fprintf(&b, "    %s\n", e)
		}
	}
	b.WriteString("--- CUE errors:\n")
	if v.cue != nil {
		for _, line := range strings.Split(strings.TrimRight(cueerrors.Details(v.cue, nil), "\n"), "\n") {
			fmt.Fprintf(&b, "    %s\n", line)
		}
	}
	return b.String()
}

// fixtureCases returns the example fleets and every broken input under
// fixtures/invalid (a file, or a directory of files that load together).
func fixtureCases(t *testing.T) []cueCase {
	t.Helper()
	var out []cueCase
	for _, dir := range []string{"../fixtures/example", "../fixtures/invalid"} {
		entries, err := os.ReadDir(dir)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			if e.IsDir() {
				c := cueCase{name: p}
				sub, err := os.ReadDir(p)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range sub {
					if isFleetFile(s.Name()) {
						c.files = append(c.files, caseFile{name: s.Name(), src: readFile(t, filepath.Join(p, s.Name()))})
					}
				}
				if len(c.files) > 0 {
					out = append(out, c)
				}
				continue
			}
			if isFleetFile(e.Name()) {
				out = append(out, cueCase{name: p, files: []caseFile{{name: e.Name(), src: readFile(t, p)}}})
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no fixtures found")
	}
	return out
}

func isFleetFile(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".cue", ".json", ".yaml", ".yml":
		return true
	}
	return false
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---- Generated cases: the example fleet with seeded random mutations. ----

// exampleTree returns the example fleet as JSON-like data (numbers kept as
// json.Number).
func exampleTree(t *testing.T) map[string]any {
	t.Helper()
	ctx := cuecontext.New()
	v := ctx.CompileBytes(readFile(t, "../fixtures/example/fleet.cue"), cue.Filename("fleet.cue"))
	b, err := v.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return decodeTree(t, b)
}

// keepTypeRows puts back the example's own limits.instanceTypes rows
// (edge-1's two-card type) that an edit replacing d's limits dropped while
// an instance still uses the type: the case is about the edit, not about
// an unknown type.
func keepTypeRows(base, d map[string]any) {
	baseLim, _ := base["limits"].(map[string]any)
	rows, _ := baseLim["instanceTypes"].(map[string]any)
	ins, _ := d["instances"].(map[string]any)
	for name, row := range rows {
		used := false
		for _, in := range ins {
			if m, ok := in.(map[string]any); ok && m["type"] == name {
				used = true
			}
		}
		if !used {
			continue
		}
		lim, ok := d["limits"].(map[string]any)
		if !ok {
			lim = map[string]any{}
			d["limits"] = lim
		}
		types, ok := lim["instanceTypes"].(map[string]any)
		if !ok {
			types = map[string]any{}
			lim["instanceTypes"] = types
		}
		if _, ok := types[name]; !ok {
			types[name] = row
		}
	}
}

func decodeTree(t *testing.T, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func cloneTree(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return decodeTree(t, b)
}

// encodeTree writes the data in one of the three input syntaxes.
func encodeTree(t *testing.T, m map[string]any, syntax string) []byte {
	t.Helper()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if syntax == "json" {
		return b
	}
	expr, err := cuejson.Extract("fleet.json", b)
	if err != nil {
		t.Fatal(err)
	}
	if syntax == "cue" {
		out, err := format.Node(expr)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out, err := cueyaml.Encode(cuecontext.New().BuildExpr(expr))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mutatedCases derives n variants of the example, each with one to three
// seeded random mutations, written as JSON, YAML or CUE.
func mutatedCases(t *testing.T, n int) []cueCase {
	t.Helper()
	base := exampleTree(t)
	r := rand.New(rand.NewPCG(20260716, 7))
	var out []cueCase
	for i := range n {
		d := cloneTree(t, base)
		var what []string
		k := 1 // one mutation in two variants of three, so that each rule is seen alone
		if r.IntN(3) == 0 {
			k = 2 + r.IntN(2)
		}
		for range k {
			m := mutations[r.IntN(len(mutations))]
			what = append(what, m.name+": "+m.fn(r, d))
		}
		keepTypeRows(base, d)
		syntax := []string{"json", "yaml", "cue"}[i%3]
		out = append(out, cueCase{
			name:  fmt.Sprintf("mutated-%03d", i),
			files: []caseFile{{name: "fleet." + syntax, src: encodeTree(t, d, syntax)}},
			what:  strings.Join(what, "; "),
		})
	}
	return out
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func keysOf(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// sub returns the struct at the path, or nil.
func sub(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, _ := m[k].(map[string]any)
		if next == nil {
			return nil
		}
		m = next
	}
	return m
}

// pickIn returns a random member of the struct at the path and its name.
func pickIn(r *rand.Rand, d map[string]any, keys ...string) (string, map[string]any) {
	m := sub(d, keys...)
	if len(m) == 0 {
		return "", nil
	}
	k := pick(r, keysOf(m))
	v, _ := m[k].(map[string]any)
	return k, v
}

// eniLike returns the primary ENIs and the secondary ENIs, with a label each.
func eniLike(d map[string]any) (labels []string, enis []map[string]any) {
	for _, name := range keysOf(sub(d, "instances")) {
		if p := sub(d, "instances", name, "primary"); p != nil {
			labels, enis = append(labels, "instances."+name+".primary"), append(enis, p)
		}
	}
	for _, name := range keysOf(sub(d, "enis")) {
		if e := sub(d, "enis", name); e != nil {
			labels, enis = append(labels, "enis."+name), append(enis, e)
		}
	}
	return labels, enis
}

// ipSite is one place an address is written.
type ipSite struct {
	label string
	owner map[string]any
	key   string // ip, primaryIp or secondaryIps
	idx   int    // index into secondaryIps
}

func (s ipSite) set(v any) {
	if s.key == "secondaryIps" {
		if l, ok := s.owner[s.key].([]any); ok && s.idx < len(l) {
			l[s.idx] = v
		}
		return
	}
	s.owner[s.key] = v
}

func ipSites(d map[string]any) []ipSite {
	var out []ipSite
	labels, enis := eniLike(d)
	for i, e := range enis {
		for _, k := range []string{"ip", "primaryIp"} {
			if _, ok := e[k]; ok {
				out = append(out, ipSite{label: labels[i] + "." + k, owner: e, key: k})
			}
		}
		if l, ok := e["secondaryIps"].([]any); ok {
			for j := range l {
				out = append(out, ipSite{label: fmt.Sprintf("%s.secondaryIps[%d]", labels[i], j), owner: e, key: "secondaryIps", idx: j})
			}
		}
	}
	return out
}

// block returns the block of the vSwitch an ENI names, if it parses.
func block(d map[string]any, eni map[string]any) (netip.Prefix, bool) {
	name, _ := eni["vswitch"].(string)
	cidr, _ := sub(d, "vswitches", name)["cidr"].(string)
	p, err := netip.ParsePrefix(cidr)
	return p, err == nil && p.Addr().Is4()
}

// nth returns the address n steps into a block (negative: from its end).
func nth(p netip.Prefix, n int) string {
	b := p.Masked().Addr().As4()
	u := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if n < 0 {
		u |= 1<<(32-p.Bits()) - 1
		n++
	}
	u += uint32(n)
	return netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}).String()
}

// freshAddrs returns k addresses of the block that the example does not use.
func freshAddrs(p netip.Prefix, k int) []any {
	var out []any
	for i := range k {
		out = append(out, nth(p, 150+i))
	}
	return out
}

// typeOf returns the quotas that apply to an instance's type.
func typeOf(d map[string]any, in map[string]any) (InstanceType, bool) {
	name, _ := in["type"].(string)
	if row := sub(d, "limits", "instanceTypes", name); row != nil {
		num := func(k string) int {
			n, _ := row[k].(json.Number)
			v, _ := n.Int64()
			return int(v)
		}
		return InstanceType{Name: name, MaxENIs: num("maxEnis"), MaxIPsPerENI: num("maxIpsPerEni"),
			MaxIPv6PerENI: num("maxIpv6PerEni"), NetworkCards: num("networkCards"), MaxQueuesPerENI: num("maxQueuesPerEni")}, true
	}
	return BuiltinInstanceType(name)
}

type mutation struct {
	name string
	fn   func(r *rand.Rand, d map[string]any) string
}

var (
	badIPs = []any{"172.016.0.10", " 172.16.0.30", "172.16.0.30 ", "172.16.0.256", "::ffff:172.16.0.30", "fe80::1",
		"172.16.0", "172.16.0.30.1", "", "172.16.0.30/32", "0x10.0.0.1", "172.16.0.030", "１72.16.0.30", "172.16.0.3O",
		json.Number("5"), true, nil, []any{"172.16.0.30"}, map[string]any{}}
	badNames = []string{"Web-1", "wеb-1" /* Cyrillic е */, "web_1", "web-", "w", "1web", "-web", "web 1", "web\u200b1",
		"wοrker" /* Greek ο */, strings.Repeat("a", 64), "web.1", "WEB"}
	goodNames = []string{"ab", "a1", "x-y-z", strings.Repeat("a", 63), "n0"}
	badIDs    = map[string][]any{
		"i":   {"i-ABC12345", "i-abc", "i-" + strings.Repeat("a", 41), "bp1web000001", "i_bp1web000001", "i-bp1wеb00001", json.Number("12345"), ""},
		"eni": {"eni-ABCD", "eni-abc", "eni-" + strings.Repeat("b", 41), "eni_bp1abcd", "i-bp1abcd0001", ""},
		"vsw": {"vsw-ABCD1234", "vsw-abc", "vsw-bp1app0000h ", "vs-bp1app0000h", ""},
		"sg":  {"sg-ABCD1234", "sg-abc", "sg-" + strings.Repeat("c", 41), "sg-bp1web00000-1", ""},
	}
	goodIDs = map[string][]any{
		"i":   {"i-abcd", "i-" + strings.Repeat("9", 40)},
		"eni": {"eni-abcd", "eni-" + strings.Repeat("z", 40)},
		"vsw": {"vsw-0000", "vsw-" + strings.Repeat("q", 40)},
		"sg":  {"sg-aaaa", "sg-" + strings.Repeat("1", 40)},
	}
	badOSes   = []any{"centos8", "CentOS7", "ubuntu22", "ubuntu 22.04", "windows", "debian", "", "rhel7 ", json.Number("7"), nil}
	badCounts = []any{json.Number("-1"), json.Number("50"), json.Number("2.5"), json.Number("2.0"), json.Number("1e1"),
		json.Number("1e400"), json.Number("99999999999999999999"), "3", true, nil, []any{}}
	wrongTypes = []any{json.Number("5"), json.Number("-2.5"), true, false, nil, []any{}, []any{"x"}, map[string]any{}, map[string]any{"a": "b"}}
)

// mutations are the ways a variant breaks (or keeps) the example. Each
// returns what it did.
var mutations = []mutation{
	{"drop required field", func(r *rand.Rand, d map[string]any) string {
		sites := [][]string{{"fleet"}, {"region"}, {"vswitches"}, {"instances"}}
		for _, n := range keysOf(sub(d, "instances")) {
			for _, f := range []string{"id", "type", "os", "primary", "primary.vswitch", "primary.ip"} {
				sites = append(sites, append([]string{"instances", n}, strings.Split(f, ".")...))
			}
		}
		for _, n := range keysOf(sub(d, "enis")) {
			sites = append(sites, []string{"enis", n, "vswitch"}, []string{"enis", n, "securityGroups"})
		}
		for _, n := range keysOf(sub(d, "vswitches")) {
			for _, f := range []string{"id", "zone", "cidr"} {
				sites = append(sites, []string{"vswitches", n, f})
			}
		}
		for _, n := range keysOf(sub(d, "securityGroups")) {
			sites = append(sites, []string{"securityGroups", n, "id"})
		}
		s := pick(r, sites)
		if m := sub(d, s[:len(s)-1]...); m != nil {
			delete(m, s[len(s)-1])
		}
		return strings.Join(s, ".")
	}},
	{"drop optional field", func(r *rand.Rand, d map[string]any) string {
		sites := [][]string{{"securityGroups"}, {"enis"}, {"limits"}}
		for _, n := range keysOf(sub(d, "instances")) {
			for _, f := range []string{"network", "primary.securityGroups", "primary.secondaryIps", "primary.secondaryIpCount"} {
				sites = append(sites, append([]string{"instances", n}, strings.Split(f, ".")...))
			}
		}
		for _, n := range keysOf(sub(d, "enis")) {
			for _, f := range []string{"description", "primaryIp", "secondaryIps", "secondaryIpCount", "attachTo", "id"} {
				sites = append(sites, []string{"enis", n, f})
			}
		}
		s := pick(r, sites)
		if m := sub(d, s[:len(s)-1]...); m != nil {
			delete(m, s[len(s)-1])
		}
		return strings.Join(s, ".")
	}},
	{"unknown field", func(r *rand.Rand, d map[string]any) string {
		field := pick(r, []string{"bogus", "Instances", "secondaryIP", "tags", "zone", "name", "instance", "securitygroups"})
		var where []string
		switch r.IntN(6) {
		case 0:
		case 1:
			n, _ := pickIn(r, d, "instances")
			where = []string{"instances", n}
		case 2:
			n, _ := pickIn(r, d, "instances")
			where = []string{"instances", n, "primary"}
		case 3:
			n, _ := pickIn(r, d, "enis")
			where = []string{"enis", n}
		case 4:
			n, _ := pickIn(r, d, "vswitches")
			where = []string{"vswitches", n}
		case 5:
			n, _ := pickIn(r, d, "securityGroups")
			where = []string{"securityGroups", n}
		}
		if m := sub(d, where...); m != nil {
			if _, exists := m[field]; !exists {
				m[field] = "x"
			}
		}
		return strings.Join(append(where, field), ".")
	}},
	{"wrong type", func(r *rand.Rand, d map[string]any) string {
		v := pick(r, wrongTypes)
		sites := [][]string{{"fleet"}, {"region"}, {"vswitches"}, {"securityGroups"}, {"instances"}, {"enis"}, {"limits"}}
		for _, n := range keysOf(sub(d, "instances")) {
			for _, f := range []string{"", "id", "type", "os", "network", "primary", "primary.vswitch", "primary.securityGroups", "primary.secondaryIps"} {
				s := []string{"instances", n}
				if f != "" {
					s = append(s, strings.Split(f, ".")...)
				}
				sites = append(sites, s)
			}
		}
		for _, n := range keysOf(sub(d, "enis")) {
			for _, f := range []string{"", "vswitch", "securityGroups", "description", "attachTo", "secondaryIps", "id"} {
				s := []string{"enis", n}
				if f != "" {
					s = append(s, f)
				}
				sites = append(sites, s)
			}
		}
		for _, n := range keysOf(sub(d, "vswitches")) {
			sites = append(sites, []string{"vswitches", n}, []string{"vswitches", n, "zone"}, []string{"vswitches", n, "cidr"})
		}
		s := pick(r, sites)
		if m := sub(d, s[:len(s)-1]...); m != nil {
			m[s[len(s)-1]] = v
		}
		return fmt.Sprintf("%s = %#v", strings.Join(s, "."), v)
	}},
	{"bad address", func(r *rand.Rand, d map[string]any) string {
		s := pick(r, ipSites(d))
		v := pick(r, badIPs)
		s.set(v)
		return fmt.Sprintf("%s = %#v", s.label, v)
	}},
	{"address outside the block", func(r *rand.Rand, d map[string]any) string {
		s := pick(r, ipSites(d))
		v := pick(r, []string{"172.16.9.10", "10.0.0.10", "172.17.0.10", "0.0.0.0", "255.255.255.255", "172.16.1.77", "172.16.2.77", "172.16.0.77"})
		s.set(v)
		return fmt.Sprintf("%s = %s", s.label, v)
	}},
	{"reserved or edge address", func(r *rand.Rand, d map[string]any) string {
		s := pick(r, ipSites(d))
		p, ok := block(d, s.owner)
		if !ok {
			return "no block"
		}
		n := pick(r, []int{0, -1, -2, -3, 1, -4}) // the last two are usable
		s.set(nth(p, n))
		return fmt.Sprintf("%s = %s (step %d)", s.label, nth(p, n), n)
	}},
	{"count and list", func(r *rand.Rand, d map[string]any) string {
		labels, enis := eniLike(d)
		i := r.IntN(len(enis))
		e := enis[i]
		if _, ok := e["secondaryIps"]; ok {
			e["secondaryIpCount"] = json.Number("1")
		} else {
			e["secondaryIps"] = []any{}
		}
		return labels[i]
	}},
	{"os", func(r *rand.Rand, d map[string]any) string {
		n, in := pickIn(r, d, "instances")
		var v any
		if r.IntN(2) == 0 {
			v = pick(r, badOSes)
		} else {
			v = string(pick(r, OSes()))
		}
		in["os"] = v
		return fmt.Sprintf("instances.%s.os = %#v", n, v)
	}},
	{"network", func(r *rand.Rand, d map[string]any) string {
		n, in := pickIn(r, d, "instances")
		var v any = string(pick(r, Stacks()))
		if r.IntN(4) == 0 {
			v = pick(r, []any{"NetworkManager", "systemd-networkd", "netplan ", "ifcfg-rh", ""})
		}
		in["network"] = v
		return fmt.Sprintf("instances.%s.network = %#v (os %v)", n, v, in["os"])
	}},
	{"per-ENI quota", func(r *rand.Rand, d map[string]any) string {
		labels, enis := eniLike(d)
		i := r.IntN(len(enis))
		e := enis[i]
		var in map[string]any
		if strings.HasPrefix(labels[i], "instances.") {
			in = sub(d, "instances", strings.Split(labels[i], ".")[1])
		} else if to, ok := e["attachTo"].(string); ok {
			in = sub(d, "instances", to)
		}
		max := DefaultUnboundENIMaxSecondaryIPs + 1 // unbound: the default limit plus one
		if in != nil {
			if t, ok := typeOf(d, in); ok {
				max = t.MaxIPsPerENI
			}
		}
		k := max - 1 + r.IntN(2) // at the quota, or one over
		delete(e, "secondaryIps")
		delete(e, "secondaryIpCount")
		if p, ok := block(d, e); ok && r.IntN(2) == 0 {
			e["secondaryIps"] = freshAddrs(p, k)
		} else {
			e["secondaryIpCount"] = json.Number(fmt.Sprint(k))
		}
		return fmt.Sprintf("%s carries %d secondary addresses (quota %d private)", labels[i], k, max)
	}},
	{"unbound ENI", func(r *rand.Rand, d map[string]any) string {
		n, e := pickIn(r, d, "enis")
		delete(e, "attachTo")
		delete(e, "secondaryIps")
		k := DefaultUnboundENIMaxSecondaryIPs - 2 + r.IntN(3) // up to the default
		if r.IntN(2) == 0 {
			k = 9 + r.IntN(4) // around the 2021 cap
		}
		e["secondaryIpCount"] = json.Number(fmt.Sprint(k))
		what := fmt.Sprintf("enis.%s unbound with %d", n, k)
		if r.IntN(3) == 0 {
			lim := max(0, k-2+r.IntN(4))
			d["limits"] = map[string]any{"unboundEniMaxSecondaryIps": json.Number(fmt.Sprint(lim))}
			what += fmt.Sprintf(", limit %d", lim)
		}
		return what
	}},
	{"attachTo", func(r *rand.Rand, d map[string]any) string {
		n, e := pickIn(r, d, "enis")
		var v any = pick(r, keysOf(sub(d, "instances")))
		if r.IntN(4) == 0 {
			v = pick(r, []any{"nope", "Web-1", "web-1 "})
		}
		e["attachTo"] = v
		return fmt.Sprintf("enis.%s.attachTo = %#v", n, v)
	}},
	{"move the primary to another vSwitch", func(r *rand.Rand, d map[string]any) string {
		n, in := pickIn(r, d, "instances")
		v := pick(r, keysOf(sub(d, "vswitches")))
		if r.IntN(5) == 0 {
			v = "nope"
		}
		p, _ := in["primary"].(map[string]any)
		if p == nil {
			return "no primary"
		}
		p["vswitch"] = v
		if b, ok := block(d, p); ok && r.IntN(2) == 0 {
			p["ip"] = nth(b, 200+r.IntN(20))
			delete(p, "secondaryIps")
		}
		return fmt.Sprintf("instances.%s.primary.vswitch = %s", n, v)
	}},
	{"ENI vSwitch", func(r *rand.Rand, d map[string]any) string {
		n, e := pickIn(r, d, "enis")
		v := pick(r, append(keysOf(sub(d, "vswitches")), "nope", "APP-H"))
		e["vswitch"] = v
		if b, ok := block(d, e); ok && r.IntN(2) == 0 {
			delete(e, "primaryIp")
			if _, ok := e["secondaryIps"]; ok {
				e["secondaryIps"] = []any{nth(b, 220+r.IntN(20))}
			}
		}
		return fmt.Sprintf("enis.%s.vswitch = %s", n, v)
	}},
	{"rename", func(r *rand.Rand, d map[string]any) string {
		coll := pick(r, []string{"instances", "enis", "vswitches", "securityGroups"})
		old := pick(r, keysOf(sub(d, coll)))
		name := pick(r, badNames)
		if r.IntN(3) == 0 {
			name = pick(r, goodNames)
		}
		m := sub(d, coll)
		if _, taken := m[name]; taken {
			return "name taken"
		}
		m[name] = m[old]
		delete(m, old)
		_, enis := eniLike(d)
		for _, e := range enis {
			switch coll {
			case "instances":
				if e["attachTo"] == old {
					e["attachTo"] = name
				}
			case "vswitches":
				if e["vswitch"] == old {
					e["vswitch"] = name
				}
			case "securityGroups":
				if l, ok := e["securityGroups"].([]any); ok {
					for i := range l {
						if l[i] == old {
							l[i] = name
						}
					}
				}
			}
		}
		return fmt.Sprintf("%s.%s renamed %q", coll, old, name)
	}},
	{"ID", func(r *rand.Rand, d map[string]any) string {
		kinds := map[string]string{"instances": "i", "enis": "eni", "vswitches": "vsw", "securityGroups": "sg"}
		coll := pick(r, []string{"instances", "enis", "vswitches", "securityGroups"})
		n, m := pickIn(r, d, coll)
		if m == nil {
			return "no " + coll // an earlier mutation emptied it
		}
		var v any
		if r.IntN(3) == 0 {
			v = pick(r, goodIDs[kinds[coll]])
		} else {
			v = pick(r, badIDs[kinds[coll]])
		}
		m["id"] = v
		return fmt.Sprintf("%s.%s.id = %#v", coll, n, v)
	}},
	{"region and zone", func(r *rand.Rand, d map[string]any) string {
		switch r.IntN(4) {
		case 0:
			v := pick(r, []any{"cn-hangzhou ", "CN-HANGZHOU", "cn", "cn_hangzhou", "cn-hangzhou-a-b-c-d", "cn-beijing"})
			d["region"] = v
			return fmt.Sprintf("region = %#v", v)
		case 1: // a consistent move to a region whose ID ends in a digit
			d["region"] = "ap-southeast-1"
			for i, n := range keysOf(sub(d, "vswitches")) {
				sub(d, "vswitches", n)["zone"] = "ap-southeast-1" + string(rune('a'+i%2))
			}
			return "region ap-southeast-1, zones ap-southeast-1a/b"
		}
		n, v := pickIn(r, d, "vswitches")
		z := pick(r, []any{"cn-hangzhou-1", "cn-hangzhouh", "cn-beijing-a", "cn-hangzhou-hh", "cn-hangzhou-H", "cn-hangzhou-", "cn-hangzhou--h", "cn-hangzhou-z", "cn-hangzhou-k"})
		v["zone"] = z
		return fmt.Sprintf("vswitches.%s.zone = %#v", n, z)
	}},
	{"cidr", func(r *rand.Rand, d map[string]any) string {
		n, v := pickIn(r, d, "vswitches")
		old, _ := v["cidr"].(string)
		p, err := netip.ParsePrefix(old)
		if err != nil {
			return "no block"
		}
		a := p.Addr().String()
		c := pick(r, []string{a + "/15", a + "/30", a + "/31", a + "/32", a + "/16", a + "/23", p.Addr().Next().String() + "/24",
			a + "/024", a + " /24", a + "/24 ", "172.016.0.0/24", "::/64", "::ffff:" + a + "/120", a, a + "/", "/24", a + "/+24",
			"172.16.0.0/20", "172.16.0.0/29", "172.16.0.8/29", "172.16.0.4/29", a + "/2x"})
		v["cidr"] = c
		return fmt.Sprintf("vswitches.%s.cidr = %q", n, c)
	}},
	{"description", func(r *rand.Rand, d map[string]any) string {
		n, e := pickIn(r, d, "enis")
		v := pick(r, []any{"x", "", "xy", strings.Repeat("d", 256), strings.Repeat("d", 257), strings.Repeat("é", 256), strings.Repeat("é", 257),
			"http://vip", "https://vip", "see https://example.com", "HTTP://vip", "tab\there", "new\nline", "nel\u0085x", "del\u007fx",
			"日本語の説明", "'; rm -rf / #", "$(reboot)", "zero\u200bwidth"})
		e["description"] = v
		return fmt.Sprintf("enis.%s.description = %q", n, v)
	}},
	{"ENI security groups", func(r *rand.Rand, d map[string]any) string {
		n, e := pickIn(r, d, "enis")
		groups := sub(d, "securityGroups")
		var v []any
		switch r.IntN(7) {
		case 0:
			v = []any{}
		case 1, 2: // six (or five) defined groups
			k := 5 + r.IntN(2)
			for i := range k {
				g := fmt.Sprintf("g%d", i)
				groups[g] = map[string]any{"id": fmt.Sprintf("sg-extra%04d", i)}
				v = append(v, g)
			}
		case 3:
			v = []any{"web", "web"}
		case 4:
			v = []any{"web", "nope"}
		case 5:
			v = []any{"web", json.Number("1")}
		case 6:
			v = []any{"db", "web"}
		}
		e["securityGroups"] = v
		return fmt.Sprintf("enis.%s.securityGroups = %v", n, v)
	}},
	{"primary security groups", func(r *rand.Rand, d map[string]any) string {
		n, in := pickIn(r, d, "instances")
		p, _ := in["primary"].(map[string]any)
		if p == nil {
			return "no primary"
		}
		v := pick(r, [][]any{{}, {"web", "web"}, {"nope"}, {"db", "web"}, {"web", "db", "web"}})
		p["securityGroups"] = v
		return fmt.Sprintf("instances.%s.primary.securityGroups = %v", n, v)
	}},
	{"instance type", func(r *rand.Rand, d map[string]any) string {
		n, in := pickIn(r, d, "instances")
		var v any
		switch r.IntN(4) {
		case 0:
			v = pick(r, []any{"ecs.zz9.large", "g7.large", "ecs.G7.large", "ecs.g7", "ecs.g7.large.x", "ecs.g7.large ", ""})
		default:
			v = pick(r, BuiltinInstanceTypes()).Name
		}
		in["type"] = v
		return fmt.Sprintf("instances.%s.type = %#v", n, v)
	}},
	{"limits.instanceTypes", func(r *rand.Rand, d map[string]any) string {
		n, in := pickIn(r, d, "instances")
		name := pick(r, []string{"ecs.zz9.large", "ecs.g7.large", "ecs.g7.xlarge", "ecs.c7.xlarge"})
		row := map[string]any{"maxEnis": json.Number(fmt.Sprint(1 + r.IntN(8))), "maxIpsPerEni": json.Number(fmt.Sprint(2 + r.IntN(20)))}
		switch r.IntN(8) {
		case 0:
			row["maxEnis"] = pick(r, []any{json.Number("0"), json.Number("65"), json.Number("2.0"), "3"})
		case 1:
			row["maxIpsPerEni"] = pick(r, []any{json.Number("0"), json.Number("51"), json.Number("50"), json.Number("1")})
		case 2:
			delete(row, pick(r, []string{"maxEnis", "maxIpsPerEni"}))
		case 3:
			row["attachNeedsStopped"] = pick(r, []any{true, false, "yes"})
		case 4:
			row["bogus"] = json.Number("1")
		case 5:
			name = pick(r, []string{"ecs.G7.large", "g7.large", "ecs..large"})
		}
		lim, _ := d["limits"].(map[string]any)
		if lim == nil {
			lim = map[string]any{}
			d["limits"] = lim
		}
		lim["instanceTypes"] = map[string]any{name: row}
		if r.IntN(2) == 0 {
			in["type"] = name
		}
		return fmt.Sprintf("limits.instanceTypes[%q] = %v (instances.%s.type %v)", name, row, n, in["type"])
	}},
	{"count", func(r *rand.Rand, d map[string]any) string {
		labels, enis := eniLike(d)
		i := r.IntN(len(enis))
		delete(enis[i], "secondaryIps")
		v := pick(r, append(badCounts, json.Number("0"), json.Number("1"), json.Number("-0")))
		enis[i]["secondaryIpCount"] = v
		return fmt.Sprintf("%s.secondaryIpCount = %#v", labels[i], v)
	}},
	{"fleet name", func(r *rand.Rand, d map[string]any) string {
		v := pick(r, []any{"Shop-prod", "shop prod", "-shop", ".shop", "shop/prod", "", strings.Repeat("s", 64), strings.Repeat("s", 63), "s", "1.2_3-x", "shöp"})
		d["fleet"] = v
		return fmt.Sprintf("fleet = %q", v)
	}},
	{"limits", func(r *rand.Rand, d map[string]any) string {
		lim := map[string]any{}
		switch r.IntN(3) {
		case 0:
			lim["unboundEniMaxSecondaryIps"] = pick(r, []any{json.Number("-1"), json.Number("50"), json.Number("49"), json.Number("0"), json.Number("2"), "10"})
		case 1:
			lim["securityGroupMaxIps"] = pick(r, []any{json.Number("0"), json.Number("1"), json.Number("65536"), json.Number("65537"), json.Number("30")})
		case 2:
			lim[pick(r, []string{"bogus", "securityGroupMaxIPs", "instancetypes"})] = json.Number("1")
		}
		d["limits"] = lim
		return fmt.Sprintf("limits = %v", lim)
	}},
	// Fleet-wide rules: Go refuses, the schema does not state them.
	{"duplicate address", func(r *rand.Rand, d map[string]any) string {
		sites := ipSites(d)
		a, b := pick(r, sites), pick(r, sites)
		va := a.owner[a.key]
		if a.key == "secondaryIps" {
			va = a.owner[a.key].([]any)[a.idx]
		}
		b.set(va)
		return fmt.Sprintf("%s = %s = %v", b.label, a.label, va)
	}},
	{"duplicate ID", func(r *rand.Rand, d map[string]any) string {
		coll := pick(r, []string{"instances", "vswitches", "securityGroups"})
		ks := keysOf(sub(d, coll))
		a, b := pick(r, ks), pick(r, ks)
		sub(d, coll, b)["id"] = sub(d, coll, a)["id"]
		return fmt.Sprintf("%s.%s.id = %s.%s.id", coll, b, coll, a)
	}},
	{"too many ENIs on an instance", func(r *rand.Rand, d map[string]any) string {
		for _, n := range []string{"web-1-data", "vip", "edge-1-data"} {
			if e := sub(d, "enis", n); e != nil {
				e["attachTo"] = "lb-2"
			}
		}
		return "three secondary ENIs on lb-2 (ecs.g7.large: 3 ENIs)"
	}},
	{"security group total", func(r *rand.Rand, d map[string]any) string {
		v := json.Number(fmt.Sprint(5 + r.IntN(40)))
		lim, _ := d["limits"].(map[string]any)
		if lim == nil {
			lim = map[string]any{}
			d["limits"] = lim
		}
		lim["securityGroupMaxIps"] = v
		return fmt.Sprintf("limits.securityGroupMaxIps = %s", v)
	}},
	{"vSwitch capacity", func(r *rand.Rand, d map[string]any) string {
		sub(d, "vswitches")["tiny-h"] = map[string]any{"id": "vsw-bp1tiny000h", "zone": "cn-hangzhou-h", "cidr": "172.16.9.0/29"}
		enis := sub(d, "enis")
		k := 3 + r.IntN(3)
		enis["tiny-1"] = map[string]any{"vswitch": "tiny-h", "securityGroups": []any{"web"}, "secondaryIpCount": json.Number(fmt.Sprint(k))}
		return fmt.Sprintf("an unbound ENI with 1+%d addresses in a /29 (4 usable)", k)
	}},
	// Issue 17's fields.
	{"ipv6Cidr", func(r *rand.Rand, d map[string]any) string {
		name, v := pickIn(r, d, "vswitches")
		if v == nil {
			return "no vSwitch"
		}
		val := pick(r, []any{"2408:4005:3aa:1b00::/64", "2408:4005:3AA:1B00::/64", "::/64", "2408:4005:3aa:1b00::/56",
			"2408:4005:3aa:1b00::/80", "2408:4005:3aa:1b00::1/64", "2408:4005:3aa:1b00::/064", "172.16.0.0/24", "::ffff:172.16.0.0/120",
			" 2408:4005:3aa:1b00::/64", "2408:4005:3aa:1b00::", "", json.Number("64"), nil})
		v["ipv6Cidr"] = val
		return fmt.Sprintf("vswitches.%s.ipv6Cidr = %#v", name, val)
	}},
	{"ipv6 addresses", func(r *rand.Rand, d map[string]any) string {
		labels, enis := eniLike(d)
		i := r.IntN(len(enis))
		e := enis[i]
		what := labels[i]
		blk := netip.MustParsePrefix("2408:4005:3aa:1bff::/64") // for addresses when the vSwitch has no block
		if v := sub(d, "vswitches", fmt.Sprint(e["vswitch"])); v != nil {
			if r.IntN(4) != 0 {
				v["ipv6Cidr"] = "2408:4005:3aa:1b00::/64"
				what += " (its vSwitch gets 2408:4005:3aa:1b00::/64)"
			}
			if c, ok := v["ipv6Cidr"].(string); ok {
				if p, err := netip.ParsePrefix(c); err == nil && p.Addr().Is6() {
					blk = p.Masked()
				}
			}
		}
		at := func(i uint64) string {
			b := blk.Addr().As16()
			for k := 15; k >= 8; k-- {
				b[k] = byte(i)
				i >>= 8
			}
			return netip.AddrFrom16(b).String()
		}
		pool := []any{at(0x21), at(0x22), at(0x23), at(0xfffffffffffffff6), strings.ToUpper(at(0x24)),
			at(0), at(0xfffffffffffffff7), at(0xffffffffffffffff), "2408:4005:3aa:1c00::21",
			"172.16.0.9", "fe80::1%eth0", "::ffff:172.16.0.9", at(0x25) + " ", "2408:4005:3aa:1b00::/64", "not-an-address", json.Number("6"), nil}
		switch r.IntN(4) {
		case 0:
			c := pick(r, []any{json.Number("0"), json.Number("1"), json.Number("2"), json.Number("6"), json.Number("7"),
				json.Number("15"), json.Number("16"), json.Number("50"), json.Number("51"), json.Number("-1"), "1", json.Number("2.5")})
			e["ipv6IpCount"] = c
			return fmt.Sprintf("%s.ipv6IpCount = %v", what, c)
		case 1, 2:
			var l []any
			for range 1 + r.IntN(3) {
				l = append(l, pick(r, pool))
			}
			e["ipv6Ips"] = l
			if r.IntN(5) == 0 {
				e["ipv6IpCount"] = json.Number("1")
				return fmt.Sprintf("%s.ipv6Ips = %v and ipv6IpCount = 1", what, l)
			}
			return fmt.Sprintf("%s.ipv6Ips = %v", what, l)
		default:
			var l []any
			for k := range 51 {
				l = append(l, at(uint64(0x100+k)))
			}
			e["ipv6Ips"] = l
			return what + ".ipv6Ips lists 51 addresses"
		}
	}},
	{"ipv4 prefixes", func(r *rand.Rand, d map[string]any) string {
		labels, enis := eniLike(d)
		i := r.IntN(len(enis))
		e := enis[i]
		blk, ok := block(d, e)
		if !ok {
			blk = netip.MustParsePrefix("172.16.0.0/24")
		}
		pf := func(n, bits int) string { return fmt.Sprintf("%s/%d", nth(blk, n), bits) }
		pool := []any{pf(160, 28), pf(176, 28), pf(192, 28), pf(168, 28), pf(160, 27), pf(160, 29), pf(0, 28), pf(-16, 28),
			"10.9.9.0/28", "172.016.0.160/28", " " + pf(160, 28), "2408:4005:3aa:1b00::/80", pf(160, 28) + "/28", json.Number("28"), nil}
		what := labels[i]
		switch r.IntN(4) {
		case 0:
			c := pick(r, []any{json.Number("0"), json.Number("1"), json.Number("3"), json.Number("5"), json.Number("6"),
				json.Number("14"), json.Number("49"), json.Number("50"), json.Number("-1"), "2"})
			e["ipv4PrefixCount"] = c
			what += fmt.Sprintf(".ipv4PrefixCount = %v", c)
		case 1, 2:
			var l []any
			for range 1 + r.IntN(3) {
				l = append(l, pick(r, pool))
			}
			e["ipv4Prefixes"] = l
			what += fmt.Sprintf(".ipv4Prefixes = %v", l)
			if r.IntN(5) == 0 {
				e["ipv4PrefixCount"] = json.Number("1")
				what += " and ipv4PrefixCount = 1"
			}
		default:
			var l []any
			for k := range 50 {
				l = append(l, fmt.Sprintf("10.%d.%d.0/28", k/16, (k%16)*16))
			}
			e["ipv4Prefixes"] = l
			what += ".ipv4Prefixes lists 50 prefixes"
		}
		if r.IntN(3) == 0 {
			v := pick(r, []any{true, false, "yes", json.Number("1")})
			e["ipv4PrefixesOnHost"] = v
			what += fmt.Sprintf(", ipv4PrefixesOnHost = %#v", v)
		}
		return what
	}},
	{"network card and queues", func(r *rand.Rand, d map[string]any) string {
		name, e := pickIn(r, d, "enis")
		if e == nil {
			return "no ENI"
		}
		var what []string
		if r.IntN(3) != 0 {
			c := pick(r, []any{json.Number("0"), json.Number("1"), json.Number("2"), json.Number("7"), json.Number("8"), json.Number("-1"), "0", json.Number("1.5")})
			e["networkCard"] = c
			what = append(what, fmt.Sprintf("enis.%s.networkCard = %v", name, c))
		}
		if r.IntN(2) == 0 {
			q := pick(r, []any{json.Number("1"), json.Number("4"), json.Number("8"), json.Number("16"), json.Number("64"), json.Number("65"), json.Number("0"), "4"})
			e["queues"] = q
			what = append(what, fmt.Sprintf("enis.%s.queues = %v", name, q))
		}
		if in := sub(d, "instances", fmt.Sprint(e["attachTo"])); in != nil && r.IntN(2) == 0 {
			if t, ok := typeOf(d, in); ok {
				row := map[string]any{"maxEnis": json.Number(fmt.Sprint(t.MaxENIs)), "maxIpsPerEni": json.Number(fmt.Sprint(t.MaxIPsPerENI))}
				if t.MaxIPv6PerENI > 0 {
					row["maxIpv6PerEni"] = json.Number(fmt.Sprint(t.MaxIPv6PerENI))
				}
				row["networkCards"] = pick(r, []any{json.Number("1"), json.Number("2"), json.Number("4"), json.Number("8"), json.Number("9"), json.Number("0")})
				if r.IntN(2) == 0 {
					row["maxQueuesPerEni"] = pick(r, []any{json.Number("4"), json.Number("16"), json.Number("64"), json.Number("65"), json.Number("0")})
				}
				setTypeRow(d, t.Name, row)
				what = append(what, fmt.Sprintf("limits.instanceTypes.%q = %v", t.Name, row))
			}
		}
		if len(what) == 0 {
			return "nothing"
		}
		return strings.Join(what, ", ")
	}},
	{"ipv6 type quota", func(r *rand.Rand, d map[string]any) string {
		name, in := pickIn(r, d, "instances")
		if in == nil {
			return "no instance"
		}
		t, ok := typeOf(d, in)
		if !ok {
			return "unknown type"
		}
		max6 := pick(r, []any{json.Number("0"), json.Number("1"), json.Number("6"), json.Number("50"), json.Number("51"), json.Number("-1")})
		row := map[string]any{"maxEnis": json.Number(fmt.Sprint(t.MaxENIs)), "maxIpsPerEni": json.Number(fmt.Sprint(t.MaxIPsPerENI)), "maxIpv6PerEni": max6}
		setTypeRow(d, t.Name, row)
		n := pick(r, []any{json.Number("1"), json.Number("3"), json.Number("6"), json.Number("7")})
		p := sub(d, "instances", name, "primary")
		p["ipv6IpCount"] = n
		if v := sub(d, "vswitches", fmt.Sprint(p["vswitch"])); v != nil {
			v["ipv6Cidr"] = "2408:4005:3aa:1b00::/64"
		}
		return fmt.Sprintf("limits.instanceTypes.%q.maxIpv6PerEni = %v, instances.%s.primary.ipv6IpCount = %v", t.Name, max6, name, n)
	}},
}

// setTypeRow adds or replaces a row of limits.instanceTypes.
func setTypeRow(d map[string]any, name string, row map[string]any) {
	lim, _ := d["limits"].(map[string]any)
	if lim == nil {
		lim = map[string]any{}
		d["limits"] = lim
	}
	types, _ := lim["instanceTypes"].(map[string]any)
	if types == nil {
		types = map[string]any{}
		lim["instanceTypes"] = types
	}
	types[name] = row
}

// dedicatedCases are hand-made variants: the known Go gaps, and inputs
// that only CUE syntax or several files can express.
func dedicatedCases(t *testing.T) []cueCase {
	t.Helper()
	base := exampleTree(t)
	example := string(readFile(t, "../fixtures/example/fleet.cue"))
	var out []cueCase
	tree := func(name string, edit func(d map[string]any)) {
		d := cloneTree(t, base)
		edit(d)
		keepTypeRows(base, d)
		out = append(out, cueCase{name: name, files: []caseFile{{name: "fleet.json", src: encodeTree(t, d, "json")}}})
	}
	text := func(name string, files ...caseFile) {
		out = append(out, cueCase{name: name, files: files})
	}
	replace := func(old, new string) string {
		if !strings.Contains(example, old) {
			t.Fatalf("the example no longer contains %q", old)
		}
		return strings.Replace(example, old, new, 1)
	}

	tree("zone-empty", func(d map[string]any) { sub(d, "vswitches", "app-h")["zone"] = "" })
	tree("primary-vswitch-empty", func(d map[string]any) { sub(d, "instances", "web-1", "primary")["vswitch"] = "" })
	tree("eni-vswitch-empty", func(d map[string]any) { sub(d, "enis", "spare-1")["vswitch"] = "" })
	tree("attach-to-empty", func(d map[string]any) { sub(d, "enis", "spare-1")["attachTo"] = "" })
	tree("no-enis-no-groups-no-limits", func(d map[string]any) {
		delete(d, "enis")
		delete(d, "securityGroups")
		delete(d, "limits")
		sub(d, "instances", "edge-1")["type"] = "ecs.g6.large" // a built-in type: no row needed
		for _, n := range keysOf(sub(d, "instances")) {
			delete(sub(d, "instances", n, "primary"), "securityGroups")
		}
	})
	tree("empty-collections", func(d map[string]any) {
		d["vswitches"], d["instances"], d["enis"], d["securityGroups"] = map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}
	})
	tree("unbound-at-limit-raised", func(d map[string]any) {
		d["limits"] = map[string]any{"unboundEniMaxSecondaryIps": json.Number("20")}
		e := sub(d, "enis", "spare-1")
		delete(e, "secondaryIps")
		e["secondaryIpCount"] = json.Number("20")
	})
	tree("limits-row-replaces-builtin", func(d map[string]any) {
		d["limits"] = map[string]any{"instanceTypes": map[string]any{"ecs.g7.xlarge": map[string]any{"maxEnis": json.Number("4"), "maxIpsPerEni": json.Number("10")}}}
	}) // api-1-pool wants 13 > 10
	tree("limits-row-adds-type", func(d map[string]any) {
		d["limits"] = map[string]any{"instanceTypes": map[string]any{"ecs.zz9.large": map[string]any{"maxEnis": json.Number("3"), "maxIpsPerEni": json.Number("6"), "attachNeedsStopped": true}}}
		sub(d, "instances", "web-1")["type"] = "ecs.zz9.large"
	})
	tree("broken-limits-row-for-used-type", func(d map[string]any) {
		d["limits"] = map[string]any{"instanceTypes": map[string]any{"ecs.zz9.large": map[string]any{"maxEnis": json.Number("0"), "maxIpsPerEni": json.Number("6")}}}
		sub(d, "instances", "web-1")["type"] = "ecs.zz9.large"
	})
	tree("region-ending-in-digit", func(d map[string]any) {
		d["region"] = "ap-southeast-1"
		for i, n := range keysOf(sub(d, "vswitches")) {
			sub(d, "vswitches", n)["zone"] = "ap-southeast-1" + string(rune('a'+i%2))
		}
	})
	tree("region-ending-in-digit-dash-zone", func(d map[string]any) {
		d["region"] = "ap-southeast-1"
		for _, n := range keysOf(sub(d, "vswitches")) {
			sub(d, "vswitches", n)["zone"] = "ap-southeast-1-a"
		}
	})
	tree("windows-with-windows-network", func(d map[string]any) { sub(d, "instances", "win-1")["network"] = "windows" })
	tree("windows-with-linux-network", func(d map[string]any) { sub(d, "instances", "win-1")["network"] = "netplan" })
	tree("every-os", func(d map[string]any) {
		ins := sub(d, "instances")
		tmpl := sub(d, "instances", "lb-2")
		for i, o := range OSes() {
			in := map[string]any{"id": fmt.Sprintf("i-os%04d", i), "type": tmpl["type"], "os": string(o),
				"primary": map[string]any{"vswitch": "app-h", "ip": fmt.Sprintf("172.16.0.%d", 150+i)}}
			ins[fmt.Sprintf("os-%d", i)] = in
		}
	})
	tree("every-builtin-type-at-quota", func(d map[string]any) {
		ins := sub(d, "instances")
		for i, it := range BuiltinInstanceTypes() {
			ins[fmt.Sprintf("t-%d", i)] = map[string]any{"id": fmt.Sprintf("i-ty%04d", i), "type": it.Name, "os": "linux",
				"primary": map[string]any{"vswitch": "app-i", "ip": nth(netip.MustParsePrefix("172.16.1.0/24"), 100+i), "secondaryIpCount": json.Number(fmt.Sprint(it.MaxIPsPerENI - 1))}}
		}
	})
	tree("one-builtin-type-over-quota", func(d map[string]any) {
		it := BuiltinInstanceTypes()[0]
		sub(d, "instances")["t-0"] = map[string]any{"id": "i-ty0000", "type": it.Name, "os": "linux",
			"primary": map[string]any{"vswitch": "app-i", "ip": "172.16.1.100", "secondaryIpCount": json.Number(fmt.Sprint(it.MaxIPsPerENI))}}
	})
	tree("secondary-ips-50", func(d map[string]any) {
		sub(d, "enis", "api-1-pool")["secondaryIpCount"] = json.Number("5")
		e := sub(d, "enis", "spare-1")
		e["secondaryIps"] = freshAddrs(netip.MustParsePrefix("172.16.2.0/24"), 50)
		d["limits"] = map[string]any{"unboundEniMaxSecondaryIps": json.Number("49")}
	})

	tree("count-49-on-a-50-address-type", func(d map[string]any) {
		sub(d, "instances", "api-1")["type"] = "ecs.g8i.48xlarge"
		sub(d, "enis", "api-1-pool")["secondaryIpCount"] = json.Number("49")
	})
	tree("limits-row-bound-eni-over-quota", func(d map[string]any) {
		d["limits"] = map[string]any{"instanceTypes": map[string]any{"ecs.zz9.large": map[string]any{"maxEnis": json.Number("3"), "maxIpsPerEni": json.Number("3")}}}
		sub(d, "instances", "web-1")["type"] = "ecs.zz9.large"
		sub(d, "instances", "web-1", "primary")["secondaryIps"] = []any{"172.16.0.21"}
	}) // web-1-data: 1 + 2 secondary = 3, allowed; make it 4:
	tree("limits-row-bound-eni-over-quota-by-one", func(d map[string]any) {
		d["limits"] = map[string]any{"instanceTypes": map[string]any{"ecs.zz9.large": map[string]any{"maxEnis": json.Number("3"), "maxIpsPerEni": json.Number("3")}}}
		sub(d, "instances", "web-1")["type"] = "ecs.zz9.large"
		sub(d, "instances", "web-1", "primary")["secondaryIps"] = []any{"172.16.0.21"}
		sub(d, "enis", "web-1-data")["secondaryIps"] = []any{"172.16.2.21", "172.16.2.22", "172.16.2.23"}
	})

	// CUE syntax that JSON cannot express.
	text("cue-pattern-constraint", caseFile{"fleet.cue", []byte(example + `
instances: [string]: primary: securityGroups: [..."web" | "db"]
enis: [string]: securityGroups: [_, ...]
`)})
	text("cue-number-syntax", caseFile{"fleet.cue", []byte(replace(`secondaryIpCount: 12`, `secondaryIpCount: 1_2`))})
	text("cue-float-count", caseFile{"fleet.cue", []byte(replace(`secondaryIpCount: 12`, `secondaryIpCount: 12.0`))})
	text("cue-bytes-literal", caseFile{"fleet.cue", []byte(replace(`fleet:  "shop-prod"`, `fleet:  'shop-prod'`))})
	text("cue-let-and-comprehension", caseFile{"fleet.cue", []byte(replace(`securityGroups: {`,
		"let zoneH = \"cn-hangzhou-h\"\n_extra: [\"a\", \"b\"]\n#Spare: {vswitch: \"data-h\", securityGroups: [\"web\"], ...}\n"+
			"enis: {for i, x in _extra {\"spare-\\(x)\": #Spare & {secondaryIpCount: i}}}\n"+
			"vswitches: \"x-h\": {id: \"vsw-bp1x00000h\", zone: zoneH, cidr: \"172.16.8.0/24\"}\nsecurityGroups: {"))})
	text("cue-comprehension-breaks-a-rule", caseFile{"fleet.cue", []byte(example + "\nlimits: unboundEniMaxSecondaryIps: 10\nenis: {for x in [\"a\", \"b\"] {\"bad-\\(x)\": {vswitch: \"data-h\", securityGroups: [\"web\"], secondaryIpCount: 11}}}\n")})
	text("cue-import-strings", caseFile{"fleet.cue", []byte("import \"strings\"\n" + replace(`fleet:  "shop-prod"`, `fleet:  strings.ToLower("SHOP-PROD")`))})
	text("cue-incomplete", caseFile{"fleet.cue", []byte(replace(`fleet:  "shop-prod"`, `fleet:  string`))})
	text("cue-default-value", caseFile{"fleet.cue", []byte(replace(`fleet:  "shop-prod"`, `fleet:  *"shop-prod" | "shop-dev"`))})
	text("cue-definition-field", caseFile{"fleet.cue", []byte(example + "\n#Unused: {x: int}\n_hidden: 3\n")})
	text("cue-unknown-top-level-field", caseFile{"fleet.cue", []byte(example + "\ninstance: {}\n")})
	text("cue-conflict-in-file", caseFile{"fleet.cue", []byte(example + "\nfleet: \"other\"\n")})
	text("cue-repeat-in-file", caseFile{"fleet.cue", []byte(example + "\nfleet: \"shop-prod\"\n")})

	// Several files, combined as CUE unifies them.
	i := strings.Index(example, "enis: {")
	text("files-split", caseFile{"a.cue", []byte(example[:i])}, caseFile{"b.cue", []byte(example[i:])})
	j := strings.Index(example, "\nlimits: ") // edge-1's type row
	text("files-split-json-and-cue", caseFile{"a.cue", []byte(example[:i] + example[j:])},
		caseFile{"b.json", []byte(`{"enis": {"extra": {"vswitch": "data-h", "securityGroups": ["db"], "secondaryIpCount": 3}}}`)})
	text("files-split-bad-eni", caseFile{"a.cue", []byte(example)},
		caseFile{"b.yaml", []byte("limits:\n  unboundEniMaxSecondaryIps: 10\nenis:\n  extra:\n    vswitch: data-h\n    securityGroups: [db]\n    secondaryIpCount: 11\n")})
	text("files-conflict", caseFile{"a.cue", []byte(example)}, caseFile{"b.json", []byte(`{"region": "cn-beijing"}`)})

	// Parse-level: excluded from the comparison, but CUE must refuse too
	// (except duplicate keys with equal values, which CUE merges).
	text("json-duplicate-equal-keys", caseFile{"fleet.json", []byte(`{"fleet": "a", "fleet": "a", "region": "cn-hangzhou", "vswitches": {}, "instances": {}}`)})
	text("yaml-duplicate-equal-keys", caseFile{"fleet.yaml", []byte("fleet: a\nfleet: a\nregion: cn-hangzhou\nvswitches: {}\ninstances: {}\n")})
	text("json-description-invalid-utf8", caseFile{"fleet.json", []byte(`{"fleet": "a", "region": "cn-hangzhou", "vswitches": {"app-h": {"id": "vsw-bp1app0000h", "zone": "cn-hangzhou-h", "cidr": "172.16.0.0/24"}}, "securityGroups": {"web": {"id": "sg-bp1web000001"}}, "instances": {}, "enis": {"e-1": {"vswitch": "app-h", "securityGroups": ["web"], "description": "bad ` + "\xff" + ` byte"}}}`)})
	text("json-truncated", caseFile{"fleet.json", []byte(`{"fleet": "a", "region": `)})

	// Issue 17: dual stack, prefixes, cards and queues.
	dual := func(d map[string]any) map[string]any {
		sub(d, "vswitches", "app-h")["ipv6Cidr"] = "2408:4005:3aa:1b00::/64"
		return sub(d, "instances", "lb-2", "primary") // ecs.g7.large: 6 IPv6 addresses per ENI
	}
	tree("v6-dual-stack", func(d map[string]any) {
		dual(d)["ipv6Ips"] = []any{"2408:4005:3aa:1b00::21", "2408:4005:3aa:1b00:ffff:ffff:ffff:fff6"}
	})
	tree("v6-count-at-quota", func(d map[string]any) { dual(d)["ipv6IpCount"] = json.Number("6") })
	tree("v6-count-over-quota", func(d map[string]any) { dual(d)["ipv6IpCount"] = json.Number("7") })
	tree("v6-reserved-last-nine", func(d map[string]any) { dual(d)["ipv6Ips"] = []any{"2408:4005:3aa:1b00:ffff:ffff:ffff:fff7"} })
	tree("v6-reserved-first", func(d map[string]any) { dual(d)["ipv6Ips"] = []any{"2408:4005:3aa:1b00::"} })
	tree("v6-outside", func(d map[string]any) { dual(d)["ipv6Ips"] = []any{"2408:4005:3aa:1b01::21"} })
	tree("v6-without-block", func(d map[string]any) { sub(d, "instances", "lb-2", "primary")["ipv6IpCount"] = json.Number("1") })
	tree("v6-type-without", func(d map[string]any) {
		sub(d, "vswitches", "app-h")["ipv6Cidr"] = "2408:4005:3aa:1b00::/64"
		sub(d, "instances", "edge-1", "primary")["ipv6IpCount"] = json.Number("1") // ecs.example2nic.large: no maxIpv6PerEni in its row
	})
	unbound6 := func(d map[string]any, n string) {
		e := sub(d, "enis", "spare-1")
		sub(d, "vswitches", fmt.Sprint(e["vswitch"]))["ipv6Cidr"] = "2408:4005:3aa:1b00::/64"
		e["ipv6IpCount"] = json.Number(n)
	}
	tree("v6-unbound-at-10", func(d map[string]any) { unbound6(d, "10") })
	tree("v6-unbound-over-10", func(d map[string]any) { unbound6(d, "11") })
	tree("v6-cidr-not-64", func(d map[string]any) { sub(d, "vswitches", "app-h")["ipv6Cidr"] = "2408:4005:3aa:1b00::/56" })
	tree("v6-cidr-host-bits", func(d map[string]any) { sub(d, "vswitches", "app-h")["ipv6Cidr"] = "2408:4005:3aa:1b00::1/64" })
	tree("prefix-pinned", func(d map[string]any) {
		sub(d, "instances", "lb-2", "primary")["ipv4Prefixes"] = []any{"172.16.0.160/28"}
	})
	tree("prefix-not-aligned", func(d map[string]any) {
		sub(d, "instances", "lb-2", "primary")["ipv4Prefixes"] = []any{"172.16.0.168/28"}
	})
	tree("prefix-first-28", func(d map[string]any) {
		sub(d, "instances", "lb-2", "primary")["ipv4Prefixes"] = []any{"172.16.0.0/28"}
	})
	tree("prefix-last-28", func(d map[string]any) {
		sub(d, "instances", "lb-2", "primary")["ipv4Prefixes"] = []any{"172.16.0.240/28"}
	})
	tree("prefix-slots-at-quota", func(d map[string]any) { sub(d, "instances", "lb-2", "primary")["ipv4PrefixCount"] = json.Number("5") })
	tree("prefix-slots-over-quota", func(d map[string]any) {
		p := sub(d, "instances", "lb-2", "primary")
		p["ipv4PrefixCount"], p["secondaryIpCount"] = json.Number("4"), json.Number("2")
	})
	tree("card-on-single-card-type", func(d map[string]any) { sub(d, "enis", "vip")["networkCard"] = json.Number("1") })
	tree("card-on-two-card-row", func(d map[string]any) {
		setTypeRow(d, "ecs.g7.large", map[string]any{"maxEnis": json.Number("3"), "maxIpsPerEni": json.Number("6"), "maxIpv6PerEni": json.Number("6"), "networkCards": json.Number("2"), "maxQueuesPerEni": json.Number("4")})
		sub(d, "enis", "vip")["networkCard"] = json.Number("1")
		sub(d, "enis", "vip")["queues"] = json.Number("4")
	})
	tree("queues-over-row", func(d map[string]any) {
		setTypeRow(d, "ecs.g7.large", map[string]any{"maxEnis": json.Number("3"), "maxIpsPerEni": json.Number("6"), "maxIpv6PerEni": json.Number("6"), "maxQueuesPerEni": json.Number("4")})
		sub(d, "enis", "vip")["queues"] = json.Number("5")
	})

	refuse := []string{"v6-unbound-over-10", "v6-count-over-quota", "v6-reserved-last-nine", "v6-reserved-first", "v6-outside", "v6-without-block", "v6-type-without",
		"v6-cidr-not-64", "v6-cidr-host-bits", "prefix-not-aligned", "prefix-first-28", "prefix-last-28", "prefix-slots-over-quota",
		"card-on-single-card-type", "queues-over-row",
		"cue-bytes-literal", "zone-empty", "primary-vswitch-empty", "eni-vswitch-empty", "attach-to-empty", "limits-row-replaces-builtin",
		"broken-limits-row-for-used-type", "region-ending-in-digit-dash-zone", "windows-with-linux-network", "one-builtin-type-over-quota",
		"secondary-ips-50", "limits-row-bound-eni-over-quota-by-one", "cue-float-count", "cue-comprehension-breaks-a-rule", "cue-incomplete",
		"cue-unknown-top-level-field", "cue-conflict-in-file", "files-split-bad-eni", "files-conflict"}
	for i := range out {
		out[i].want = "accept"
		if slices.Contains(refuse, out[i].name) {
			out[i].want = "refuse"
		}
		if strings.HasPrefix(out[i].name, "json-") || strings.HasPrefix(out[i].name, "yaml-") {
			out[i].want = "" // parse-level
		}
	}
	return out
}

// TestCUEVetUsage runs the commands the header of ecsnet.cue documents, the
// way the cue command runs them (cmd/cue/cmd/vet.go in v0.17.1): with -d and
// a data file, #Fleet is looked up in the schema's instance and unified with
// the data; with CUE files only, the files form one instance that is
// validated as a whole, definitions and hidden fields included.
func TestCUEVetUsage(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(CUESchemaFile, CUESchema()) // ecsnet schema > ecsnet.cue
	example := readFile(t, "../fixtures/example/fleet.cue")
	broken := bytes.Replace(example, []byte(`ip: "172.16.0.10"`), []byte(`ip: "172.16.0.255"`), 1)
	unknownTop := append(bytes.Clone(example), "\ninstance: {}\n"...)
	if bytes.Equal(broken, example) {
		t.Fatal("the example no longer has the address this test breaks")
	}
	ctx := cuecontext.New()
	load1 := func(files ...string) cue.Value {
		t.Helper()
		insts := load.Instances(files, &load.Config{Dir: dir})
		if len(insts) != 1 {
			t.Fatalf("cue would load %d instances from %v", len(insts), files)
		}
		if err := insts[0].Err; err != nil {
			t.Fatalf("load %v: %v", files, err)
		}
		return ctx.BuildInstance(insts[0]) // an error shows in Validate
	}
	exportJSON := func(src []byte) []byte { // cue export fleet.cue
		t.Helper()
		b, err := ctx.CompileBytes(src, cue.Filename("fleet.cue")).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// cue vet -c -d '#Fleet' ecsnet.cue fleet.json (and fleet.yaml, and
	// `json: -` after cue export).
	fleetDef := load1(CUESchemaFile).LookupPath(cue.ParsePath("#Fleet"))
	vetData := func(name string, src []byte) error {
		t.Helper()
		var data cue.Value
		if strings.HasSuffix(name, ".yaml") {
			f, err := cueyaml.Extract(name, src)
			if err != nil {
				t.Fatal(err)
			}
			data = ctx.BuildFile(f)
		} else {
			expr, err := cuejson.Extract(name, src)
			if err != nil {
				t.Fatal(err)
			}
			data = ctx.BuildExpr(expr)
		}
		return fleetDef.Unify(data).Validate(cue.Concrete(true))
	}
	toYAML := func(j []byte) []byte {
		expr, err := cuejson.Extract("fleet.json", j)
		if err != nil {
			t.Fatal(err)
		}
		y, err := cueyaml.Encode(ctx.BuildExpr(expr))
		if err != nil {
			t.Fatal(err)
		}
		return y
	}
	for _, c := range []struct {
		name string
		src  []byte
		ok   bool
	}{
		{"fleet.json", exportJSON(example), true},
		{"fleet.yaml", toYAML(exportJSON(example)), true},
		{"fleet.json", exportJSON(broken), false},
		{"fleet.yaml", toYAML(exportJSON(broken)), false},
		{"-", exportJSON(unknownTop), false},
	} {
		if err := vetData(c.name, c.src); (err == nil) != c.ok {
			t.Errorf("cue vet -c -d '#Fleet' ecsnet.cue %s: want ok=%v, got %v", c.name, c.ok, err)
		}
	}

	// cue vet -c ecsnet.cue fleet.cue
	vetCUE := func(src []byte) error {
		t.Helper()
		write("fleet.cue", src)
		return load1(CUESchemaFile, "fleet.cue").Validate(cue.Concrete(true), cue.Definitions(true), cue.Hidden(true), cue.Attributes(true))
	}
	if err := vetCUE(example); err != nil {
		t.Errorf("cue vet -c ecsnet.cue fleet.cue on the example: %v", cueerrors.Details(err, nil))
	}
	if err := vetCUE(broken); err == nil {
		t.Error("cue vet -c ecsnet.cue fleet.cue accepts a reserved primary address")
	}
	// The header's caveat: across the files of a package cue does not close
	// the top level, so an unknown top-level field slips through this form.
	if err := vetCUE(unknownTop); err != nil {
		t.Errorf("cue vet -c ecsnet.cue fleet.cue now refuses an unknown top-level field; drop the caveat from the header of %s: %v", CUESchemaFile, err)
	}
}

// TestCUEExamplePasses checks the bundled example against #Fleet.
func TestCUEExamplePasses(t *testing.T) {
	ctx, fleet := compiledSchema(t)
	data := ctx.CompileBytes(readFile(t, "../fixtures/example/fleet.cue"), cue.Filename("fleet.cue"))
	if err := fleet.Unify(data).Validate(cue.Concrete(true)); err != nil {
		t.Fatalf("the example fails #Fleet:\n%s", cueerrors.Details(err, nil))
	}
}
