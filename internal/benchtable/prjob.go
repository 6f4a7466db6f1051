package main

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// prJobSection is issue 18's table: the pull-request job in one process,
// `ecsnet plan --observed SNAPSHOT --lock LOCK --detailed-exitcode
// --rendered DIR --check FLEET`, with one instance of the fixture changed,
// cold (--cache off) beside warm (--cache primed by a run on a fleet with
// another instance changed), median of -render-runs runs each, for every
// scale format.
func (c *config) prJobSection(fx *fixture) *section {
	sec := &section{title: "The pull-request job with the host cache (issue 18)"}
	size := thousands(fx.n) + " instances"
	sec.intro = []string{"`ecsnet plan --observed SNAPSHOT --lock LOCK --detailed-exitcode --rendered DIR --check FLEET` with one instance's address changed, " +
		"DIR rendered from the unchanged fleet: cold (`--cache off`) beside warm (`--cache CDIR`, primed by one run on the fleet with another instance changed, " +
		"so the warm run's change is one the cache has not seen). The cache holds per-host render results only; the snapshot and the lock are read as they are every run. " +
		"Medians of -render-runs runs; exit 2 (changes) expected.", ""}
	out := filepath.Join(fx.dir, "prjob-hosts")
	os.RemoveAll(out)
	fmt.Fprintf(c.progress, "prjob %d: rendering %s ...\n", fx.n, out)
	if r := c.run(c.ecsnet, nil, "render", "--lock", fx.lockPath, "--out", out, fx.files["json"]); r.failed(0) != nil {
		sec.crash("render", size, r.failed(0))
		return sec
	}
	key := []string{"ECSNET_CACHE_KEY=benchtable prjob key, not a secret"}
	for _, format := range c.scaleFormats {
		what := "PR job, one instance changed (" + format + ")"
		primed, err := changeOne(fx, format, fx.n/3, "prjob-primed")
		if err != nil {
			sec.crash(what, size, err)
			continue
		}
		changed, err := changeOne(fx, format, fx.n/2, "prjob-changed")
		if err != nil {
			sec.crash(what, size, err)
			continue
		}
		cache := filepath.Join(fx.dir, "prjob-cache-"+format)
		os.RemoveAll(cache)
		args := func(cacheArg, fleet string) []string {
			return []string{"plan", "--observed", fx.snapPath, "--lock", fx.lockPath, "--detailed-exitcode", "--rendered", out, "--check", "--cache", cacheArg, fleet}
		}
		fmt.Fprintf(c.progress, "prjob %d %s: priming the cache ...\n", fx.n, format)
		if r := c.run(c.ecsnet, key, args(cache, primed)...); r.failed(2) != nil {
			sec.crash(what, size, fmt.Errorf("priming: %v", r.failed(2)))
			continue
		}
		var cold, warm []toolRun
		var coldOut, warmOut []byte
		failed := false
		for i := range max(c.renderRuns, 1) {
			fmt.Fprintf(c.progress, "prjob %d %s: cold and warm (run %d of %d) ...\n", fx.n, format, i+1, c.renderRuns)
			// The cache is restored to the primed state before every warm
			// run, as CI restores it: a warm run saves its own entries.
			backup := cache + ".primed"
			if i == 0 {
				os.RemoveAll(backup)
				if err := copyFile(filepath.Join(cache, "hosts.bin"), backup); err != nil {
					sec.crash(what, size, err)
					failed = true
					break
				}
			} else if err := copyFile(backup, filepath.Join(cache, "hosts.bin")); err != nil {
				sec.crash(what, size, err)
				failed = true
				break
			}
			syncDisks()
			cr := c.run(c.ecsnet, key, args("off", changed)...)
			syncDisks()
			var env []string
			if i == 0 {
				env = append(env, "ECSNET_CPUPROFILE="+filepath.Join(fx.dir, "prjob-warm-"+format+".prof"))
			}
			wr := c.run(c.ecsnet, append(env, key...), args(cache, changed)...)
			for _, r := range []toolRun{cr, wr} {
				if err := r.failed(2); err != nil {
					sec.crash(what, size, err)
					failed = true
				}
			}
			if failed {
				break
			}
			if i == 0 {
				coldOut, warmOut = cr.stdout, wr.stdout
			}
			cold, warm = append(cold, cr), append(warm, wr)
		}
		if failed {
			continue
		}
		med := func(rs []toolRun) toolRun {
			s := slices.Clone(rs)
			slices.SortFunc(s, func(a, b toolRun) int { return cmp.Compare(a.wall, b.wall) })
			return s[len(s)/2]
		}
		peak := func(rs []toolRun) int64 {
			var p int64
			for _, r := range rs {
				p = max(p, r.rssKiB)
			}
			return p
		}
		walls := func(rs []toolRun) string {
			ds := make([]time.Duration, len(rs))
			for i, r := range rs {
				ds[i] = r.wall
			}
			return durations(ds)
		}
		mc, mw := med(cold), med(warm)
		k := check{what: what, size: size,
			measured: fmt.Sprintf("warm %s (%s; peak %s) beside cold %s (%s; peak %s)", secs(mw.wall), walls(warm), mibOf(peak(warm)), secs(mc.wall), walls(cold), mibOf(peak(cold))),
			goal:     "warm ≤ 2 s; cold no slower than before", pass: mw.wall <= 2*time.Second}
		if !bytes.Equal(coldOut, warmOut) {
			k.pass, k.broken, k.note = false, true, "the warm run's output differs from the cold run's"
		} else if !k.pass {
			k.note = "the cache skips rendering the unchanged hosts only: the fleet is still loaded and checked, the snapshot and lock read and the plan computed whole, and every rendered file read and hashed"
		}
		sec.add(k)
		if sum, err := profileSummary(c.ecsnet, filepath.Join(fx.dir, "prjob-warm-"+format+".prof")); err == nil {
			sec.notef("%s: where the warm run's time goes (CPU profile): %s.", format, sum)
		}
	}
	return sec
}

// changeOne writes a copy of the fixture's fleet in format with instance
// i's last pinned secondary address moved to a free one, under name/.
func changeOne(fx *fixture, format string, i int, name string) (string, error) {
	in := fx.f.Instances[i]
	pinned := in.Primary.PinnedAddrs()
	if len(pinned) == 0 {
		return "", fmt.Errorf("instance %s has no pinned secondary address to change", in.Name)
	}
	old := pinned[len(pinned)-1]
	fresh, err := freeAddr(fx, in)
	if err != nil {
		return "", err
	}
	src, err := os.ReadFile(fx.files[format])
	if err != nil {
		return "", err
	}
	oldQ, newQ := []byte(`"`+old.String()+`"`), []byte(`"`+fresh.String()+`"`)
	if n := bytes.Count(src, oldQ); n != 1 {
		return "", fmt.Errorf("%s occurs %d times in the fleet file, not once", oldQ, n)
	}
	p := filepath.Join(fx.dir, name, "fleet."+format)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	return p, os.WriteFile(p, bytes.Replace(src, oldQ, newQ, 1), 0o644)
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o600)
}
