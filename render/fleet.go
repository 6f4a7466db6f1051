package render

import (
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

	"github.com/ecsnet/ecsnet/schema"
)

// This file renders a whole fleet and writes it into an output directory:
// what the render command, plan --rendered and the demo share.

// Fleet renders every host of the fleet that the lock has everything for,
// in parallel (rendering is pure; the fleet and lock are read-only). The
// MissingError lists the hosts left out for what the lock lacks.
func Fleet(f *schema.Fleet, lock *schema.Lock) (map[string][]File, MissingError, error) {
	hosts, err := Hosts(f, lock)
	var missing MissingError
	if err != nil && !errors.As(err, &missing) {
		return nil, nil, err
	}
	got := make([][]File, len(hosts))
	err = forHosts(f, hosts, func(i int, files []File) error {
		got[i] = files
		return nil
	})
	bundles := make(map[string][]File, len(hosts))
	for i, h := range hosts {
		bundles[h.Name] = got[i]
	}
	return bundles, missing, err
}

// FleetReview is a fleet rendered for review (render --check, plan
// --rendered).
type FleetReview struct {
	// Bundles holds every host's files by name: the hosts the lock has
	// everything for as a render writes them, and the Pending ones with
	// placeholders for what the cloud picks at apply.
	Bundles map[string][]File
	// Pending are the hosts that need what the cloud picks, by name.
	Pending []*Pending
	// Missing lists what even a review cannot render.
	Missing MissingError
}

// ReviewFleet renders every host for review: those the lock has
// everything for as Fleet does, and those that need what the cloud picks
// at apply with placeholders for it (Pending, which a plain render never
// writes).
func ReviewFleet(f *schema.Fleet, lock *schema.Lock) (*FleetReview, error) {
	hosts, pending, err := ReviewHosts(f, lock)
	var missing MissingError
	if err != nil && !errors.As(err, &missing) {
		return nil, err
	}
	bundles := make(map[string][]File, len(hosts)+len(pending))
	got := make([][]File, len(hosts))
	if err := forHosts(f, hosts, func(i int, files []File) error {
		got[i] = files
		return nil
	}); err != nil {
		return nil, err
	}
	for i, h := range hosts {
		bundles[h.Name] = got[i]
	}
	review := make([][]File, len(pending))
	if err := inParallel(len(pending), func(i int) error {
		files, err := pending[i].Render()
		review[i] = files
		if err != nil {
			return hostError(f, pending[i].Name, err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for i, p := range pending {
		bundles[p.Name] = review[i]
	}
	return &FleetReview{Bundles: bundles, Pending: pending, Missing: missing}, nil
}

// PendingNames says which hosts need what the cloud picks: "host a
// needs", "hosts a, b need".
func (r *FleetReview) PendingNames() string {
	names := make([]string, len(r.Pending))
	for i, p := range r.Pending {
		names[i] = p.Name
	}
	if len(names) == 1 {
		return "host " + names[0] + " needs"
	}
	return "hosts " + strings.Join(names, ", ") + " need"
}

// Check compares the review with the output directory dir of the named
// fleet without writing anything, as Out.Check does: "" when dir is
// current.
func (r *FleetReview) Check(dir, fleet string) (string, error) {
	o, err := OpenOut(dir, fleet, false)
	if err != nil {
		return "", err
	}
	defer o.Close()
	return o.Check(r.Bundles)
}

// Written is what WriteFleet did.
type Written struct {
	Hosts   int // hosts rendered
	Changed int // host directories written or removed
}

// WriteFleet renders every host that can be and writes it under dir, in
// parallel, keeping one bundle per worker in memory. Out.Update takes a
// file whose stat matches its stat-cache entry as current, reads every
// other file back and rewrites only those whose bytes or mode differ, so
// an unchanged host keeps its timestamps and whatever a check flags is
// repaired. When the render is complete (no MissingError), the host
// directories this fleet's earlier renders recorded and the fleet no
// longer has are removed, and nothing else. The MissingError lists the
// hosts left out; the hosts written are kept all the same.
func WriteFleet(dir string, f *schema.Fleet, lock *schema.Lock) (Written, MissingError, error) {
	hosts, err := Hosts(f, lock)
	var missing MissingError
	if err != nil && !errors.As(err, &missing) {
		return Written{}, nil, err
	}
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	changed, err := writeOut(dir, f.Name, names, missing == nil, func(o *Out) (int, error) {
		var changed atomic.Int64
		err := forHosts(f, hosts, func(i int, files []File) error {
			wrote, err := o.Update(hosts[i].Name, files)
			if wrote {
				changed.Add(1)
			}
			return err
		})
		return int(changed.Load()), err
	})
	return Written{Hosts: len(hosts), Changed: changed}, missing, err
}

// WriteBundles writes every host's directory under dir for the named
// fleet, with WriteFleet's rules: when prune is set (the bundles are the
// whole fleet) only the host directories this fleet recorded there and no
// longer has are removed. It returns how many hosts' directories changed.
// The caller checks dir first (CheckOutDir).
func WriteBundles(dir, fleet string, bundles map[string][]File, prune bool) (int, error) {
	names := make([]string, 0, len(bundles))
	for n := range bundles {
		names = append(names, n)
	}
	slices.Sort(names)
	return writeOut(dir, fleet, names, prune, func(o *Out) (int, error) {
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
		return changed, nil
	})
}

// writeOut is WriteFleet's and WriteBundles' one routine for writing and
// pruning. It opens (making it if need be) the output directory and
// records the hosts about to be written there beside those recorded
// before, before anything is written: a render stopped half way leaves
// every host it wrote recorded. Then update writes the hosts and returns
// how many changed. Only when it succeeds and prune is set are the
// recorded host directories the fleet no longer has (Out.Stale) removed
// and the fleet's hosts recorded alone. It returns how many directories
// changed, written or removed.
func writeOut(dir, fleet string, hosts []string, prune bool, update func(*Out) (int, error)) (int, error) {
	o, err := OpenOut(dir, fleet, true)
	if err != nil {
		return 0, err
	}
	defer o.Close()
	stale, err := o.Stale(hosts)
	if err == nil {
		err = o.Record(append(slices.Clone(hosts), stale...))
	}
	if err != nil {
		return 0, err
	}
	changed, err := update(o)
	if err != nil || !prune {
		return changed, err
	}
	n, err := o.Prune(stale)
	changed += n
	if err != nil {
		return changed, err
	}
	return changed, o.Record(hosts)
}

// Input is a file a render reads, which its output directory must not
// hold.
type Input struct {
	What string // for messages: "the lock"
	Path string // "" or "-": none
}

// CheckOutDir refuses an output directory that render must not own: one
// that holds an input (a desired-state path, the lock, the snapshot), the
// file system's root, the home directory or a repository's root.
// Render never removes what it did not record, but it writes host
// directories and its record there, and a directory like these is a
// mistake for a directory of its own. Symbolic links in out and the
// inputs are resolved first, so another spelling of the same directory is
// refused too. The errors name out as the --out flag.
func CheckOutDir(out string, inputs []Input, home string) error {
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
		if in.Path == "" || in.Path == "-" {
			continue
		}
		p, err := resolvePath(in.Path)
		if err != nil {
			continue // an input that cannot be resolved is reported when it is read
		}
		if p == dir || strings.HasPrefix(p, dir+string(filepath.Separator)) {
			return refuse("a directory that holds " + in.What + " " + in.Path)
		}
	}
	return nil
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

// WriteChanges lists, per host, the files of dir a fresh render would
// change: the section plan --rendered adds. A host that needs what the
// cloud picks at apply is listed too, named with what it needs, its files
// as a review render has them (placeholders in <...>).
func WriteChanges(w io.Writer, dir string, f *schema.Fleet, lock *schema.Lock) error {
	r, err := ReviewFleet(f, lock)
	if err != nil {
		return err
	}
	needs := make(map[string]string, len(r.Pending))
	for _, p := range r.Pending {
		needs[p.Name] = p.Needs
	}
	fmt.Fprintf(w, "\nHost files (%s):\n", dir)
	any := false
	names := make([]string, 0, len(r.Bundles))
	for n := range r.Bundles {
		names = append(names, n)
	}
	slices.Sort(names)
	o, err := OpenOut(dir, f.Name, false)
	if err != nil {
		return err
	}
	defer o.Close()
	for _, n := range names {
		cs, err := o.Changes(n, r.Bundles[n])
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
	if !any && len(r.Missing) == 0 {
		fmt.Fprintln(w, "  no host file changes")
	}
	if len(r.Pending) > 0 {
		fmt.Fprintf(w, "  %s\n", ReviewNote)
	}
	for _, m := range r.Missing {
		who := "the primary ENI"
		if m.ENI != "" {
			who = "ENI " + m.ENI
		}
		fmt.Fprintf(w, "  %s: not rendered: %s: %s\n", m.Instance, who, m.What)
	}
	return nil
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

// forHosts renders the hosts in parallel, one worker per CPU, and hands
// each bundle to use, which must be safe to call concurrently. Of several
// errors the first in host order is returned, so the same input always
// reports the same one; a host's render error carries its instance's
// place in the desired state (hostError).
func forHosts(f *schema.Fleet, hosts []*Host, use func(i int, files []File) error) error {
	return inParallel(len(hosts), func(i int) error {
		files, err := ForHost(hosts[i])
		if err != nil {
			return hostError(f, hosts[i].Name, err)
		}
		return use(i, files)
	})
}

// hostError gives the error of rendering the named host the position of
// its instance in the desired state, as schema.Errors: the command line
// prints it as file:line:col, as it prints the schema's own errors, so an
// editor or a pull request shows which instance would not render (what
// went wrong mostly comes from the lock, which has no positions).
func hostError(f *schema.Fleet, name string, err error) error {
	in := f.Instance(name)
	if in == nil {
		return err
	}
	return schema.Errors{{Pos: in.Pos, Path: fmt.Sprintf("instances.%q", name), Msg: err.Error()}}
}
