package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

type renderArgs struct {
	lockPath string
	observed string
	out      string
	check    bool
	maxInput int64
}

func renderFlags(a *renderArgs) *pflag.FlagSet {
	fs := newFlagSet("render")
	fs.StringVar(&a.lockPath, "lock", "", "lock file with what the cloud picked (default: ecsnet.lock.json beside the desired state)")
	fs.StringVar(&a.observed, "observed", "", "take what the cloud picked from this snapshot (ecsnet observe) instead of the lock")
	fs.StringVarP(&a.out, "out", "o", "", "directory of the rendered hosts, one subdirectory per instance")
	fs.BoolVar(&a.check, "check", false, "write nothing: exit 2 with a unified diff when --out is out of date, 0 when it is current")
	fs.Int64Var(&a.maxInput, "max-input-size", schema.DefaultMaxInputBytes, "refuse desired-state inputs larger than this many bytes in total")
	return fs
}

// runRender writes each instance's network configuration for its OS.
func runRender(_ context.Context, args []string, e env) int {
	var a renderArgs
	fs := renderFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if a.out == "" {
		return flagError(fs, errors.New("--out DIR is required"), e)
	}
	if a.lockPath != "" && a.observed != "" {
		return flagError(fs, errors.New("use --lock or --observed, not both"), e)
	}
	paths := fs.Args()
	f, code := loadFleet(e, formatText, paths, a.maxInput)
	if f == nil {
		return code
	}
	lock, err := renderLock(f, paths, a.lockPath, a.observed)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet render: %v\n", err)
		return exitError
	}
	if !a.check {
		// Render and write host by host: a large fleet's bundles need not
		// all be in memory at once.
		n, written, missing, err := renderTo(a.out, f, lock)
		if err != nil {
			fmt.Fprintf(e.stderr, "ecsnet render: %v\n", err)
			return exitError
		}
		fmt.Fprintf(e.stdout, "rendered %d hosts into %s (%d hosts changed)\n", n, a.out, written)
		if missing != nil {
			fmt.Fprintf(e.stderr, "ecsnet render: %v\n", missing)
			return exitError
		}
		return exitOK
	}
	bundles, missing, err := renderBundles(f, lock)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet render: %v\n", err)
		return exitError
	}
	diff, err := render.Check(a.out, bundles)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet render: %v\n", err)
		return exitError
	}
	if missing != nil {
		fmt.Fprintf(e.stderr, "ecsnet render: %v\n", missing)
		return exitError
	}
	if diff != "" {
		fmt.Fprint(e.stdout, diff)
		fmt.Fprintf(e.stderr, "ecsnet render: %s is out of date; run ecsnet render --out %s\n", a.out, a.out)
		return exitChanges
	}
	fmt.Fprintf(e.stderr, "%s is up to date (%d hosts)\n", a.out, len(bundles))
	return exitOK
}

// renderLock returns what the cloud picked: from a snapshot (reconciled
// into a lock as apply would) or from the lock file.
func renderLock(f *schema.Fleet, paths []string, lockPath, observed string) (*schema.Lock, error) {
	if lockPath == "" {
		lockPath = schema.LockPath(paths)
	}
	lock, err := schema.ReadLockFile(lockPath)
	if err != nil {
		return nil, err
	}
	if observed == "" {
		return lock, nil
	}
	fh, err := os.Open(observed)
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	defer fh.Close()
	obs, err := plan.ReadSnapshot(fh)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", observed, err)
	}
	plan.Reconcile(lock, f, obs)
	return lock, nil
}

// renderTo renders every host that can be and writes it under out, in
// parallel, keeping one bundle per worker in memory. An unchanged host's
// directory is left alone; when the render is complete, directories of
// instances the fleet no longer has are removed. It returns the hosts
// rendered and how many directories changed.
func renderTo(out string, f *schema.Fleet, lock *schema.Lock) (int, int, render.MissingError, error) {
	hosts, err := render.Hosts(f, lock)
	var missing render.MissingError
	if err != nil && !errors.As(err, &missing) {
		return 0, 0, nil, err
	}
	var mu sync.Mutex
	var firstErr error
	changed := 0
	work := make(chan *render.Host)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range work {
				files, err := render.ForHost(h)
				var cs []render.Change
				if err == nil {
					cs, err = render.Changes(out, h.Name, files)
				}
				if err == nil && len(cs) > 0 {
					err = render.WriteHost(out, h.Name, files)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if len(cs) > 0 {
					changed++
				}
				mu.Unlock()
			}
		}()
	}
	names := map[string]bool{}
	for _, h := range hosts {
		names[h.Name] = true
		work <- h
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return len(hosts), changed, missing, firstErr
	}
	if missing == nil {
		entries, err := os.ReadDir(out)
		if err != nil && !os.IsNotExist(err) {
			return len(hosts), changed, nil, err
		}
		for _, d := range entries {
			if d.IsDir() && !names[d.Name()] {
				if err := os.RemoveAll(filepath.Join(out, d.Name())); err != nil {
					return len(hosts), changed, nil, err
				}
				changed++
			}
		}
	}
	return len(hosts), changed, missing, nil
}

// renderBundles renders every host that can be, in parallel: rendering is
// pure, and the fleet and lock are read-only.
func renderBundles(f *schema.Fleet, lock *schema.Lock) (map[string][]render.File, render.MissingError, error) {
	hosts, err := render.Hosts(f, lock)
	var missing render.MissingError
	if err != nil && !errors.As(err, &missing) {
		return nil, nil, err
	}
	bundles := make(map[string][]render.File, len(hosts))
	var mu sync.Mutex
	var firstErr error
	work := make(chan *render.Host)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range work {
				files, err := render.ForHost(h)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				bundles[h.Name] = files
				mu.Unlock()
			}
		}()
	}
	for _, h := range hosts {
		work <- h
	}
	close(work)
	wg.Wait()
	return bundles, missing, firstErr
}

// writeBundles writes every host's directory and, when the render is
// complete, removes the directories of instances the fleet no longer has.
// It returns how many hosts' directories changed.
func writeBundles(out string, bundles map[string][]render.File, prune bool) (int, error) {
	names := make([]string, 0, len(bundles))
	for n := range bundles {
		names = append(names, n)
	}
	slices.Sort(names)
	changed := 0
	for _, n := range names {
		cs, err := render.Changes(out, n, bundles[n])
		if err != nil {
			return changed, err
		}
		if len(cs) == 0 {
			continue // untouched: not even its timestamps change
		}
		changed++
		if err := render.WriteHost(out, n, bundles[n]); err != nil {
			return changed, err
		}
	}
	if prune {
		entries, err := os.ReadDir(out)
		if err != nil {
			return changed, err
		}
		for _, d := range entries {
			if d.IsDir() && bundles[d.Name()] == nil {
				if err := os.RemoveAll(filepath.Join(out, d.Name())); err != nil {
					return changed, err
				}
				changed++
			}
		}
	}
	return changed, nil
}

// renderedChanges lists, per host, the files of DIR a fresh render would
// change: the section plan --rendered adds.
func renderedChanges(w io.Writer, dir string, f *schema.Fleet, lock *schema.Lock) error {
	bundles, missing, err := renderBundles(f, lock)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nHost files (%s):\n", dir)
	any := false
	names := make([]string, 0, len(bundles))
	for n := range bundles {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		cs, err := render.Changes(dir, n, bundles[n])
		if err != nil {
			return err
		}
		if len(cs) > 0 {
			any = true
			fmt.Fprintf(w, "  %s:\n", n)
			for _, c := range cs {
				fmt.Fprintf(w, "    %c %s\n", c.Kind, c.Path)
			}
		}
	}
	if !any {
		fmt.Fprintln(w, "  no host file changes")
	}
	if missing != nil {
		fmt.Fprintf(w, "  (not rendered until apply records what the cloud picks: %d ENIs)\n", len(missing))
	}
	return nil
}
