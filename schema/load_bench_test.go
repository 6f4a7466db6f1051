package schema_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	_ "github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/internal/testfleet"
	"github.com/ecsnet/ecsnet/schema"
)

// The Load benchmarks measure the whole of what `ecsnet validate` does in
// process (read, parse, decode, check) on generated fleets; `make bench`
// also measures the command beside cue vet (internal/benchtable).

func BenchmarkLoadJSON(b *testing.B) { benchmarkLoad(b, "json") }
func BenchmarkLoadCUE(b *testing.B)  { benchmarkLoad(b, "cue") }

func benchmarkLoad(b *testing.B, format string) {
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			src := testfleet.Generate(testfleet.Options{Instances: n, Format: format, Seed: 1})
			name := filepath.Join(b.TempDir(), "fleet."+format)
			if err := os.WriteFile(name, src, 0o644); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				f, err := schema.Load([]string{name}, schema.LoadOptions{})
				if err != nil {
					b.Fatalf("generated fleet is invalid:\n%v", err)
				}
				if len(f.Instances) != n {
					b.Fatalf("%d instances, want %d", len(f.Instances), n)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "instances/s")
		})
	}
}
