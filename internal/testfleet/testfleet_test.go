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

// TestDualStack checks issue 17's shape: valid in every syntax, a tenth of
// the ENIs dual-stack (pinned and counted), a tenth with a prefix, every
// vSwitch with an IPv6 block, the CUE in cue fmt layout, and the default
// fleet without any of it.
func TestDualStack(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{1, 10, 250} {
		for _, format := range []string{"cue", "json", "yaml"} {
			opts := testfleet.Options{Instances: n, Format: format, Seed: 7, DualStack: true}
			src := testfleet.Generate(opts)
			name := filepath.Join(dir, "fleet-"+format+"."+format)
			if err := os.WriteFile(name, src, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := schema.Load([]string{name}, schema.LoadOptions{})
			if err != nil {
				t.Fatalf("%d/%s: generated fleet is invalid:\n%v", n, format, err)
			}
			var enis, pinned6, counted6, prefixed, addrs int
			count := func(v6 schema.IPv6, px schema.Prefixes, s schema.Secondaries) {
				enis++
				addrs += 1 + s.N()
				switch {
				case v6.Counted:
					counted6++
				case len(v6.Pinned) > 0:
					pinned6++
				}
				if px.N() > 0 {
					prefixed++
				}
			}
			for _, in := range f.Instances {
				count(in.Primary.IPv6, in.Primary.Prefixes, in.Primary.Secondaries)
			}
			for _, e := range f.ENIs {
				count(e.IPv6, e.Prefixes, e.Secondaries)
			}
			for _, v := range f.VSwitches {
				if !v.IPv6CIDR.IsValid() {
					t.Errorf("%d/%s: vSwitch %s has no IPv6 block", n, format, v.Name)
				}
			}
			if addrs != testfleet.AddressesPerInstance*n {
				t.Errorf("%d/%s: %d IPv4 addresses, want %d", n, format, addrs, testfleet.AddressesPerInstance*n)
			}
			// ENI k is dual-stack when k%10 == 3 and prefixed when k%10 == 7.
			want := func(r int) int { return (enis - r + 9) / 10 }
			if pinned6+counted6 != want(3) || prefixed != want(7) {
				t.Errorf("%d/%s: %d of %d ENIs dual-stack (%d pinned), %d with prefixes; want %d and %d",
					n, format, pinned6+counted6, enis, pinned6, prefixed, want(3), want(7))
			}
			if n == 250 && (pinned6 == 0 || counted6 == 0) {
				t.Errorf("%d/%s: dual-stack ENIs are %d pinned, %d counted; want both kinds", n, format, pinned6, counted6)
			}
		}
	}
	src := testfleet.Generate(testfleet.Options{Instances: 250, Format: "cue", DualStack: true})
	if got, err := format.Source(src); err != nil || !bytes.Equal(got, src) {
		t.Errorf("DualStack CUE output is not in cue fmt layout (%v); first difference at byte %d", err, firstDiff(got, src))
	}
	plain := testfleet.Generate(testfleet.Options{Instances: 250, Format: "cue"})
	for _, s := range []string{"ipv6", "ipv4Prefixes", "limits"} {
		if bytes.Contains(plain, []byte(s)) {
			t.Errorf("the default fleet mentions %s", s)
		}
	}
	if err := testfleet.Write(&bytes.Buffer{}, testfleet.Options{Instances: 4096*testfleet.InstancesPerVSwitchDualStack + 1, DualStack: true}); err == nil {
		t.Error("DualStack accepted more instances than its /20s hold")
	}
}
