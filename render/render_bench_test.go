package render_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	_ "github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/internal/testfleet/testcloud"
	"github.com/ecsnet/ecsnet/render"
)

// BenchmarkRender20k renders the 20,000 hosts of a generated fleet (the
// OS mix of package testfleet: every family) from the lock an apply would
// leave, in three parts: resolving the hosts from fleet and lock (Hosts),
// rendering every bundle in memory on GOMAXPROCS workers as ecsnet render
// does (ForHost), and writing the first 2,000 bundles into an empty
// directory (WriteHost2000), and re-rendering those 2,000 unchanged, as
// ecsnet render does (UpdateUnchanged2000: one Out, its stat cache) and
// reading every file back (ReadBackUnchanged2000: the package's Update). `make bench` also measures the whole command beside a
// file-writing floor (internal/benchtable); the goal is ≤ 1.5× the floor
// and ≤ 1 GiB (issue 5).
func BenchmarkRender20k(b *testing.B) {
	const n = 20000
	f, err := testcloud.Fleet(n)
	if err != nil {
		b.Fatal(err)
	}
	_, _, lock, err := testcloud.Snapshot(f, testcloud.Converged)
	if err != nil {
		b.Fatal(err)
	}
	hosts, err := render.Hosts(f, lock)
	if err != nil {
		b.Fatal(err)
	}
	if len(hosts) != n {
		b.Fatalf("%d hosts", len(hosts))
	}

	b.Run("Hosts", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := render.Hosts(f, lock); err != nil {
				b.Fatal(err)
			}
		}
	})

	// Rendered once here too, so that WriteHost2000 has its input when
	// run alone (-bench Render20k/WriteHost).
	bundles := make([][]render.File, n)
	if err := renderAll(hosts, bundles); err != nil {
		b.Fatal(err)
	}
	b.Run("ForHost", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := renderAll(hosts, bundles); err != nil {
				b.Fatal(err)
			}
		}
		files, bytes := 0, 0
		for _, fs := range bundles {
			files += len(fs)
			for _, f := range fs {
				bytes += len(f.Data)
			}
		}
		b.ReportMetric(float64(files), "files")
		b.ReportMetric(float64(bytes)/(1<<20), "MiB")
	})

	// Writing is measured on the first 2,000 hosts (68 MiB): writing all
	// 20,000 (682 MiB) takes tens of seconds on a shared disk, and
	// internal/benchtable measures the whole command beside its floor.
	b.Run("WriteHost2000", func(b *testing.B) {
		base := b.TempDir()
		i := 0
		for b.Loop() {
			dir := filepath.Join(base, fmt.Sprint(i))
			i++
			for k, h := range hosts[:2000] {
				if err := render.WriteHost(dir, h.Name, bundles[k]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			os.RemoveAll(dir)
			b.StartTimer()
		}
	})

	// Re-rendering 2,000 unchanged hosts: what every render after the
	// first mostly does. As ecsnet render does it: one Out for every host,
	// whose stat cache (written by Close) lets Update take a file whose
	// lstat is the one recorded as current without reading it.
	b.Run("UpdateUnchanged2000", func(b *testing.B) {
		dir := b.TempDir()
		if err := updateOut(dir, hosts[:2000], bundles, true); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := updateOut(dir, hosts[:2000], bundles, false); err != nil {
				b.Fatal(err)
			}
		}
	})

	// The same through the package's Update, which keeps no cache and
	// reads every file back and compares its bytes (what render --check
	// compares): the cost the cache saves.
	b.Run("ReadBackUnchanged2000", func(b *testing.B) {
		dir := b.TempDir()
		for k, h := range hosts[:2000] {
			if err := render.WriteHost(dir, h.Name, bundles[k]); err != nil {
				b.Fatal(err)
			}
		}
		for b.Loop() {
			for k, h := range hosts[:2000] {
				if changed, err := render.Update(dir, h.Name, bundles[k]); err != nil || changed {
					b.Fatalf("Update of unchanged %s: changed %v, %v", h.Name, changed, err)
				}
			}
		}
	})
}

// updateOut updates the hosts in dir through one Out, as ecsnet render
// does (sequentially here), and fails unless each changes exactly when
// first is set.
func updateOut(dir string, hosts []*render.Host, bundles [][]render.File, first bool) error {
	o, err := render.OpenOut(dir, "bench", true)
	if err != nil {
		return err
	}
	for k, h := range hosts {
		changed, err := o.Update(h.Name, bundles[k])
		if err == nil && changed != first {
			err = fmt.Errorf("Update of %s: changed %v", h.Name, changed)
		}
		if err != nil {
			o.Close()
			return err
		}
	}
	return o.Close()
}

// renderAll renders every host into out on GOMAXPROCS workers.
func renderAll(hosts []*render.Host, out [][]render.File) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for k := range next {
				fs, err := render.ForHost(hosts[k])
				if err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
				}
				out[k] = fs
			}
		})
	}
	for k := range hosts {
		next <- k
	}
	close(next)
	wg.Wait()
	return first
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
