package schema

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/format"

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
		stopped := ""
		if it.AttachNeedsStopped {
			stopped = ", attachNeedsStopped: true"
		}
		fmt.Fprintf(&b, "\t%q: {maxEnis: %d, maxIpsPerEni: %d%s}\n", it.Name, it.MaxENIs, it.MaxIPsPerENI, stopped)
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
