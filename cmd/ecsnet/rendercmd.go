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
	"sync/atomic"

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
	fs.StringVarP(&a.out, "out", "o", "", "directory of the rendered hosts, one subdirectory per instance; a host whose manifest.json is unchanged and whose files have their listed sizes and modes is not rewritten")
	fs.BoolVar(&a.check, "check", false, "write nothing: compare every file byte for byte; exit 2 with a unified diff when --out is out of date, 0 when it is current")
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
	// The fleet and the lock (or snapshot) are independent read-only
	// inputs, each about a second to parse at 20,000 instances: read the
	// lock while the fleet loads. The fleet's errors still come first, and
	// alone, as when they were read in turn.
	inputs := make(chan renderInputs, 1)
	go func() { inputs <- readRenderInputs(paths, a.lockPath, a.observed) }()
	f, code := loadFleet(e, formatText, paths, a.maxInput)
	in := <-inputs
	if f == nil {
		return code
	}
	lock, err := in.lock(f)
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

// renderInputs are what render reads beside the fleet: the lock and,
// with --observed, a snapshot.
type renderInputs struct {
	l   *schema.Lock
	obs *plan.Observed
	err error
}

// readRenderInputs reads the lock file and the snapshot, which need no
// fleet.
func readRenderInputs(paths []string, lockPath, observed string) renderInputs {
	if lockPath == "" {
		lockPath = schema.LockPath(paths)
	}
	lock, err := schema.ReadLockFile(lockPath)
	if err != nil {
		return renderInputs{err: err}
	}
	if observed == "" {
		return renderInputs{l: lock}
	}
	fh, err := os.Open(observed)
	if err != nil {
		return renderInputs{err: fmt.Errorf("read snapshot: %w", err)}
	}
	defer fh.Close()
	obs, err := plan.ReadSnapshot(fh)
	if err != nil {
		return renderInputs{err: fmt.Errorf("snapshot %s: %w", observed, err)}
	}
	return renderInputs{l: lock, obs: obs}
}

// lock returns what the cloud picked: the snapshot reconciled into the
// lock as apply would, or the lock file as it is.
func (in renderInputs) lock(f *schema.Fleet) (*schema.Lock, error) {
	if in.err != nil {
		return nil, in.err
	}
	if in.obs != nil {
		plan.Reconcile(in.l, f, in.obs)
	}
	return in.l, nil
}

// renderTo renders every host that can be and writes it under out, in
// parallel, keeping one bundle per worker in memory. An unchanged host's
// directory is left alone: render.Update recognises it from its
// manifest.json and one stat per file (same size and mode), without
// reading the files back; --check compares every byte. When the render is
// complete, directories of instances the fleet no longer has are removed.
// It returns the hosts rendered and how many directories changed.
func renderTo(out string, f *schema.Fleet, lock *schema.Lock) (int, int, render.MissingError, error) {
	hosts, err := render.Hosts(f, lock)
	var missing render.MissingError
	if err != nil && !errors.As(err, &missing) {
		return 0, 0, nil, err
	}
	var changed atomic.Int64
	err = renderHosts(hosts, func(i int, files []render.File) error {
		wrote, err := render.Update(out, hosts[i].Name, files)
		if wrote {
			changed.Add(1)
		}
		return err
	})
	if err != nil {
		return len(hosts), int(changed.Load()), missing, err
	}
	names := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		names[h.Name] = true
	}
	if missing == nil {
		entries, err := os.ReadDir(out)
		if err != nil && !os.IsNotExist(err) {
			return len(hosts), int(changed.Load()), nil, err
		}
		for _, d := range entries {
			if d.IsDir() && !names[d.Name()] {
				if err := os.RemoveAll(filepath.Join(out, d.Name())); err != nil {
					return len(hosts), int(changed.Load()), nil, err
				}
				changed.Add(1)
			}
		}
	}
	return len(hosts), int(changed.Load()), missing, nil
}

// renderBundles renders every host that can be, in parallel: rendering is
// pure, and the fleet and lock are read-only.
func renderBundles(f *schema.Fleet, lock *schema.Lock) (map[string][]render.File, render.MissingError, error) {
	hosts, err := render.Hosts(f, lock)
	var missing render.MissingError
	if err != nil && !errors.As(err, &missing) {
		return nil, nil, err
	}
	got := make([][]render.File, len(hosts))
	err = renderHosts(hosts, func(i int, files []render.File) error {
		got[i] = files
		return nil
	})
	bundles := make(map[string][]render.File, len(hosts))
	for i, h := range hosts {
		bundles[h.Name] = got[i]
	}
	return bundles, missing, err
}

// renderHosts renders the hosts in parallel, one worker per CPU (rendering
// is pure; the fleet and lock are read-only), and hands each bundle to use,
// which must be safe to call concurrently. Of several errors the first in
// host order is returned, so the same input always reports the same one.
func renderHosts(hosts []*render.Host, use func(i int, files []render.File) error) error {
	errs := make([]error, len(hosts))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				files, err := render.ForHost(hosts[i])
				if err == nil {
					err = use(i, files)
				}
				errs[i] = err
			}
		}()
	}
	for i := range hosts {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
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
		wrote, err := render.Update(out, n, bundles[n]) // an unchanged host keeps even its timestamps
		if wrote {
			changed++
		}
		if err != nil {
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
