package testfleet_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"cuelang.org/go/cue/format"

	_ "github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/internal/testfleet"
	"github.com/ecsnet/ecsnet/schema"
)

// TestGenerateLoads checks that every generated fleet is valid and has the
// documented shape, in every syntax.
func TestGenerateLoads(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{1, 10, 250} {
		for _, format := range []string{"cue", "json", "yaml"} {
			opts := testfleet.Options{Instances: n, Format: format, Seed: 7}
			src := testfleet.Generate(opts)
			if again := testfleet.Generate(opts); !bytes.Equal(src, again) {
				t.Fatalf("%d/%s: two runs gave different bytes", n, format)
			}
			name := filepath.Join(dir, "fleet-"+format+"."+format)
			if err := os.WriteFile(name, src, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := schema.Load([]string{name}, schema.LoadOptions{})
			if err != nil {
				t.Fatalf("%d/%s: generated fleet is invalid:\n%v", n, format, err)
			}
			addrs := 0
			for _, in := range f.Instances {
				addrs += 1 + in.Primary.N()
				if got := len(f.AttachedTo(in.Name)); got != testfleet.ENIsPerInstance-1 {
					t.Errorf("%d/%s: %s has %d secondary ENIs, want %d", n, format, in.Name, got, testfleet.ENIsPerInstance-1)
				}
			}
			for _, e := range f.ENIs {
				addrs += 1 + e.N()
			}
			if len(f.Instances) != n || len(f.ENIs) != 2*n || addrs != testfleet.AddressesPerInstance*n {
				t.Errorf("%d/%s: got %d instances, %d ENIs, %d addresses; want %d, %d, %d",
					n, format, len(f.Instances), len(f.ENIs), addrs, n, 2*n, testfleet.AddressesPerInstance*n)
			}
			oses := map[schema.OS]bool{}
			for _, in := range f.Instances {
				oses[in.OS] = true
			}
			if want := min(n, len(testfleet.OSMix)); len(oses) != want {
				t.Errorf("%d/%s: %d distinct OSes, want %d", n, format, len(oses), want)
			}
		}
	}
}

// TestCUEIsFormatted checks that the CUE output is what cue fmt would
// write, so a generated file can be diffed against a hand-edited one.
func TestCUEIsFormatted(t *testing.T) {
	src := testfleet.Generate(testfleet.Options{Instances: 250, Format: "cue"})
	got, err := format.Source(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, src) {
		t.Errorf("CUE output is not in cue fmt layout; first difference at byte %d", firstDiff(got, src))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestSeed checks that the seed changes IDs and nothing else.
func TestSeed(t *testing.T) {
	a := testfleet.Generate(testfleet.Options{Instances: 10, Format: "json", Seed: 1})
	b := testfleet.Generate(testfleet.Options{Instances: 10, Format: "json", Seed: 2})
	if bytes.Equal(a, b) {
		t.Fatal("seeds 1 and 2 gave the same fleet")
	}
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	if len(la) != len(lb) {
		t.Fatalf("seeds gave %d and %d lines", len(la), len(lb))
	}
	for i := range la {
		if !bytes.Equal(la[i], lb[i]) && !bytes.Contains(la[i], []byte(`"id"`)) {
			t.Errorf("line %d differs beyond IDs:\n%s\n%s", i+1, la[i], lb[i])
		}
	}
}

func TestWriteRejects(t *testing.T) {
	for _, opts := range []testfleet.Options{
		{Instances: 0},
		{Instances: testfleet.MaxInstances + 1},
		{Instances: 1, Format: "toml"},
	} {
		if err := testfleet.Write(&bytes.Buffer{}, opts); err == nil {
			t.Errorf("Write(%+v) succeeded", opts)
		}
	}
}

func BenchmarkGenerate20k(b *testing.B) {
	for _, format := range []string{"cue", "json"} {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				src := testfleet.Generate(testfleet.Options{Instances: 20000, Format: format})
				b.SetBytes(int64(len(src)))
			}
		})
	}
}
