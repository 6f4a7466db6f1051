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
	"strings"
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
	eval     evalLimits
}

func renderFlags(a *renderArgs) *pflag.FlagSet {
	fs := newFlagSet("render")
	fs.StringVar(&a.lockPath, "lock", "", "lock file with what the cloud picked (default: ecsnet.lock.json beside the desired state)")
	fs.StringVar(&a.observed, "observed", "", "take what the cloud picked from this snapshot (ecsnet observe) instead of the lock")
	fs.StringVarP(&a.out, "out", "o", "", "directory of the rendered hosts, one subdirectory per instance; a file whose stat is unchanged since render last wrote or read it (the cache DIR/.ecsnet-cache) is taken as current, every other file is read back, and only files whose bytes or mode differ are rewritten; only host directories this fleet's earlier renders recorded in DIR/"+render.RecordName+" are ever removed; refused when it holds the inputs or the lock, or is /, $HOME or a repository root")
	fs.BoolVar(&a.check, "check", false, "write nothing: compare every file byte for byte; exit 2 with a unified diff, after the host directories a render would remove, when --out is out of date, 0 when it is current; hosts that need what the cloud picks at apply are shown with <...> placeholders")
	fs.Int64Var(&a.maxInput, "max-input-size", schema.DefaultMaxInputBytes, "refuse desired-state inputs larger than this many bytes in total")
	addEvalFlags(fs, &a.eval)
	return fs
}

// runRender writes each instance's network configuration for its OS.
func runRender(ctx context.Context, args []string, e env) int {
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
	lockPath := a.lockPath
	if lockPath == "" {
		lockPath = schema.LockPath(paths)
	}
	var inputs []renderInput
	for _, p := range paths {
		inputs = append(inputs, renderInput{"the desired state", p})
	}
	inputs = append(inputs, renderInput{"the lock", lockPath}, renderInput{"the snapshot", a.observed})
	if err := checkOut(a.out, inputs, homeDir(e)); err != nil {
		fmt.Fprintf(e.stderr, "ecsnet render: %v\n", err)
		return exitError
	}
	// The fleet and the lock (or snapshot) are independent read-only
	// inputs, each about a second to parse at 20,000 instances: read the
	// lock while the fleet loads. The fleet's errors still come first, and
	// alone, as when they were read in turn.
	read := make(chan renderInputs, 1)
	go func() { read <- readRenderInputs(paths, a.lockPath, a.observed) }()
	f, code := loadFleetContext(ctx, e, formatText, paths, loadOptions(e, a.maxInput, a.eval))
	in := <-read
	if f == nil {
		return code
	}
	lock, err := in.lock(f)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet render: %v\n", err)
		return exitError
	}
	if es := lock.CheckVSwitches(f); len(es) > 0 {
		// Every host's prefix and gateway come from the file's blocks:
		// refuse ones the cloud (as the lock or snapshot has it) does not
		// have, before anything is written.
		printErrorsText(e.stderr, es)
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
	// --check is for review: hosts that need what the cloud picks at
	// apply are compared with placeholders where those values go.
	bundles, pending, missing, err := reviewBundles(f, lock)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet render: %v\n", err)
		return exitError
	}
	if missing != nil {
		fmt.Fprintf(e.stderr, "ecsnet render: %v\n", missing)
		return exitError
	}
	o, err := render.OpenOut(a.out, f.Name, false)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet render: %v\n", err)
		return exitError
	}
	defer o.Close()
	// What a render would remove comes first, then the file diffs.
	diff, err := o.Check(bundles)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet render: %v\n", err)
		return exitError
	}
	if diff != "" {
		if len(pending) > 0 {
			// The header says which values are not real yet, before any
			// diff shows one.
			fmt.Fprintln(e.stdout, render.ReviewNote)
			for _, p := range pending {
				fmt.Fprintf(e.stdout, "  %s: %s\n", p.Name, p.Needs)
			}
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprint(e.stdout, diff)
		if len(pending) > 0 {
			fmt.Fprintf(e.stderr, "ecsnet render: %s is out of date, and %s what the cloud picks (shown as <...>): run ecsnet apply, then ecsnet render --out %s\n",
				a.out, pendingNames(pending), a.out)
		} else {
			fmt.Fprintf(e.stderr, "ecsnet render: %s is out of date; run ecsnet render --out %s\n", a.out, a.out)
		}
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
// parallel, keeping one bundle per worker in memory. render.Out.Update
// takes a file whose stat matches its stat-cache entry as current, reads
// every other file back and rewrites only those whose bytes or mode
// differ, so an unchanged host keeps its timestamps and whatever --check
// flags is repaired. When the render is complete, the host directories
// this fleet's earlier renders recorded and the fleet no longer has are
// removed, and nothing else (see prepareOut). It returns the hosts
// rendered and how many directories changed.
func renderTo(out string, f *schema.Fleet, lock *schema.Lock) (int, int, render.MissingError, error) {
	hosts, err := render.Hosts(f, lock)
	var missing render.MissingError
	if err != nil && !errors.As(err, &missing) {
		return 0, 0, nil, err
	}
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	o, stale, err := prepareOut(out, f.Name, names)
	if err != nil {
		return 0, 0, nil, err
	}
	defer o.Close()
	var changed atomic.Int64
	err = renderHosts(hosts, func(i int, files []render.File) error {
		wrote, err := o.Update(hosts[i].Name, files)
		if wrote {
			changed.Add(1)
		}
		return err
	})
	if err != nil {
		return len(hosts), int(changed.Load()), missing, err
	}
	if missing == nil {
		n, err := finishOut(o, names, stale)
		changed.Add(int64(n))
		if err != nil {
			return len(hosts), int(changed.Load()), nil, err
		}
	}
	return len(hosts), int(changed.Load()), missing, nil
}

// prepareOut opens (making it if need be) the output directory for the
// fleet whose hosts are about to be written, and records them there
// beside those recorded before, before anything is written: a render
// stopped half way leaves every host it wrote recorded. It returns the
// recorded host directories the fleet no longer has (render.Out.Stale),
// which finishOut removes once the render is complete.
func prepareOut(out, fleet string, hosts []string) (*render.Out, []string, error) {
	o, err := render.OpenOut(out, fleet, true)
	if err != nil {
		return nil, nil, err
	}
	stale, err := o.Stale(hosts)
	if err == nil {
		err = o.Record(append(slices.Clone(hosts), stale...))
	}
	if err != nil {
		o.Close()
		return nil, nil, err
	}
	return o, stale, nil
}

// finishOut removes the stale host directories and records the fleet's
// hosts alone; it returns how many directories it removed.
func finishOut(o *render.Out, hosts, stale []string) (int, error) {
	n, err := o.Prune(stale)
	if err != nil {
		return n, err
	}
	return n, o.Record(hosts)
}

// checkOut refuses an output directory that render must not own: one
// that holds an input (a desired-state path, the lock, the snapshot), the
// file system's root, the home directory or a repository's root.
// Render never removes what it did not record, but it writes host
// directories and its record there, and a directory like these is a
// mistake for a directory of its own. Symbolic links in out and the
// inputs are resolved first, so another spelling of the same directory is
// refused too.
func checkOut(out string, inputs []renderInput, home string) error {
	dir, err := resolvePath(out)
	if err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	refuse := func(why string) error {
		return fmt.Errorf("--out %s: refusing to render into %s: render writes and prunes host directories there; pass a directory of its own, for example --out rendered", out, why)
	}
	if filepath.Dir(dir) == dir {
		return refuse("the root of the file system")
	}
	if home != "" {
		if h, err := resolvePath(home); err == nil && h == dir {
			return refuse("your home directory")
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
		return refuse("the root of a repository (it has .git)")
	}
	for _, in := range inputs {
		if in.path == "" || in.path == "-" {
			continue
		}
		p, err := resolvePath(in.path)
		if err != nil {
			continue // an input that cannot be resolved is reported when it is read
		}
		if p == dir || strings.HasPrefix(p, dir+string(filepath.Separator)) {
			return refuse("a directory that holds " + in.what + " " + in.path)
		}
	}
	return nil
}

// renderInput is a file render reads, which its --out must not hold.
type renderInput struct {
	what string // for messages: "the lock"
	path string
}

// resolvePath returns p absolute, cleaned and with symbolic links resolved
// as far as it exists.
func resolvePath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	var rest []string
	for cur := abs; ; cur = filepath.Dir(cur) {
		if real, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(append([]string{real}, rest...)...), nil
		}
		if filepath.Dir(cur) == cur {
			return abs, nil
		}
		rest = append([]string{filepath.Base(cur)}, rest...)
	}
}

// homeDir returns the user's home directory as the environment names it.
func homeDir(e env) string {
	if h := e.getenv("HOME"); h != "" {
		return h
	}
	return e.getenv("USERPROFILE")
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

// reviewBundles renders every host for review (render --check, plan
// --rendered): those the lock has everything for as render writes them,
// and those that need what the cloud picks at apply with placeholders
// for it (render.Pending, which a plain render never writes). The
// MissingError lists what even a review cannot render.
func reviewBundles(f *schema.Fleet, lock *schema.Lock) (map[string][]render.File, []*render.Pending, render.MissingError, error) {
	hosts, pending, err := render.ReviewHosts(f, lock)
	var missing render.MissingError
	if err != nil && !errors.As(err, &missing) {
		return nil, nil, nil, err
	}
	bundles := make(map[string][]render.File, len(hosts)+len(pending))
	got := make([][]render.File, len(hosts))
	if err := renderHosts(hosts, func(i int, files []render.File) error {
		got[i] = files
		return nil
	}); err != nil {
		return nil, nil, nil, err
	}
	for i, h := range hosts {
		bundles[h.Name] = got[i]
	}
	review := make([][]render.File, len(pending))
	if err := inParallel(len(pending), func(i int) error {
		files, err := pending[i].Render()
		review[i] = files
		return err
	}); err != nil {
		return nil, nil, nil, err
	}
	for i, p := range pending {
		bundles[p.Name] = review[i]
	}
	return bundles, pending, missing, nil
}

// pendingNames says which hosts need what the cloud picks: "host a
// needs", "hosts a, b need".
func pendingNames(pending []*render.Pending) string {
	names := make([]string, len(pending))
	for i, p := range pending {
		names[i] = p.Name
	}
	if len(names) == 1 {
		return "host " + names[0] + " needs"
	}
	return "hosts " + strings.Join(names, ", ") + " need"
}

// inParallel runs do(0) ... do(n-1), one worker per CPU, and returns the
// error of the lowest i that failed, so the same input always reports
// the same one.
func inParallel(n int, do func(i int) error) error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = do(i)
			}
		}()
	}
	for i := range n {
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

// writeBundles writes every host's directory under out for the named
// fleet, with render's rules (checkOut, prepareOut): out must not hold the
// inputs, and when prune is set (the render is complete) only the host
// directories this fleet recorded there and no longer has are removed.
// It returns how many hosts' directories changed.
func writeBundles(out, fleet string, inputs []renderInput, bundles map[string][]render.File, prune bool) (int, error) {
	if err := checkOut(out, inputs, os.Getenv("HOME")); err != nil {
		return 0, err
	}
	names := make([]string, 0, len(bundles))
	for n := range bundles {
		names = append(names, n)
	}
	slices.Sort(names)
	o, stale, err := prepareOut(out, fleet, names)
	if err != nil {
		return 0, err
	}
	defer o.Close()
	changed := 0
	for _, n := range names {
		wrote, err := o.Update(n, bundles[n]) // an unchanged host keeps even its timestamps
		if wrote {
			changed++
		}
		if err != nil {
			return changed, err
		}
	}
	if prune {
		n, err := finishOut(o, names, stale)
		changed += n
		if err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// renderedChanges lists, per host, the files of DIR a fresh render would
// change: the section plan --rendered adds. A host that needs what the
// cloud picks at apply is listed too, named with what it needs, its files
// as a review render has them (placeholders in <...>).
func renderedChanges(w io.Writer, dir string, f *schema.Fleet, lock *schema.Lock) error {
	bundles, pending, missing, err := reviewBundles(f, lock)
	if err != nil {
		return err
	}
	needs := make(map[string]string, len(pending))
	for _, p := range pending {
		needs[p.Name] = p.Needs
	}
	fmt.Fprintf(w, "\nHost files (%s):\n", dir)
	any := false
	names := make([]string, 0, len(bundles))
	for n := range bundles {
		names = append(names, n)
	}
	slices.Sort(names)
	o, err := render.OpenOut(dir, f.Name, false)
	if err != nil {
		return err
	}
	defer o.Close()
	for _, n := range names {
		cs, err := o.Changes(n, bundles[n])
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			continue
		}
		any = true
		if need, ok := needs[n]; ok {
			fmt.Fprintf(w, "  %s (the cloud picks at apply: %s):\n", n, need)
		} else {
			fmt.Fprintf(w, "  %s:\n", n)
		}
		for _, c := range cs {
			fmt.Fprintf(w, "    %c %s\n", c.Kind, c.Path)
		}
	}
	if !any && len(missing) == 0 {
		fmt.Fprintln(w, "  no host file changes")
	}
	if len(pending) > 0 {
		fmt.Fprintf(w, "  %s\n", render.ReviewNote)
	}
	for _, m := range missing {
		who := "the primary ENI"
		if m.ENI != "" {
			who = "ENI " + m.ENI
		}
		fmt.Fprintf(w, "  %s: not rendered: %s: %s\n", m.Instance, who, m.What)
	}
	return nil
}
