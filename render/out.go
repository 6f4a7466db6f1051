package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/ecsnet/ecsnet/internal/safefile"
)

// RecordName is the file in an output directory that records, per fleet,
// the hosts render wrote there. A host directory is removed only when the
// record lists it for the fleet being rendered, the fleet no longer has
// it, and it still looks like a rendered host (a manifest.json naming it):
// everything else in the directory (dot-directories, other fleets' hosts,
// anything put there by hand) is never touched.
const RecordName = ".ecsnet-render.json"

// Out is an output directory of rendered hosts, one subdirectory per
// instance. Nothing below it is reached through a symbolic link: a link
// in a host's directory is an error naming it, and its target is never
// read or written (package safefile). Its methods are safe for concurrent
// use.
type Out struct {
	dir   *safefile.Dir // nil: the directory does not exist (read-only use)
	fleet string        // "": no record is read or written
	stat  *statCache    // nil: every file is read back (read-only use, package-level Update)
	reads atomic.Int64  // files whose bytes Update read back (tests count them)
	walks atomic.Int64  // host directories Update listed (likewise)
}

// OpenOut opens the output directory at dir for the named fleet; with
// create it is made if missing, otherwise a missing directory reads as
// empty. Opened with create, Update keeps the stat cache (StatCacheName)
// and Close writes it.
func OpenOut(dir, fleet string, create bool) (*Out, error) {
	return openOut(dir, fleet, create, create)
}

func openOut(dir, fleet string, create, cache bool) (*Out, error) {
	var d *safefile.Dir
	var err error
	if create {
		d, err = safefile.MkdirAllOpen(dir, 0o755)
	} else {
		d, err = safefile.Open(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return &Out{fleet: fleet}, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	o := &Out{dir: d, fleet: fleet}
	if cache {
		o.stat = newStatCache(d)
	}
	return o, nil
}

// Close writes the stat cache if Update changed it, and releases the
// directory. An error writing the cache costs the next render only
// time (it reads every file back), but is returned.
func (o *Out) Close() error {
	if o.dir == nil {
		return nil
	}
	var err error
	if o.stat != nil {
		if err = o.stat.write(); err != nil {
			err = fmt.Errorf("save %s: %w", o.dir.Path(StatCacheName), err)
		}
	}
	return errors.Join(err, o.dir.Close())
}

// validHost reports whether host can name a host directory: one path
// element that is not a dot-name (those are never ecsnet's).
func validHost(host string) bool {
	return fs.ValidPath(host) && !strings.Contains(host, "/") && !strings.HasPrefix(host, ".")
}

// Update brings <dir>/<host>/ to the bundle and reports whether it changed
// anything. A file is current when its bytes, read back and compared (as
// Check does), and its mode are the bundle's; or, with the stat cache
// (OpenOut with create), without reading it, when the bundle's manifest
// is the one the cache recorded for the host and the file's lstat is
// exactly the one recorded when render last wrote it or found it current,
// and older than the cache itself (see statCache). Only files that differ
// are rewritten (each through a new temporary file renamed over it), so
// an unchanged file keeps its timestamps. Files the bundle does not have
// are removed. A new host directory is written with exclusive creates.
// The bundle is as ForHost returns it: its manifest.json identifies it.
func (o *Out) Update(host string, files []File) (bool, error) {
	if !validHost(host) {
		return false, fmt.Errorf("write %s: not a valid host directory name", host)
	}
	for _, f := range files {
		if !fs.ValidPath(f.Path) || f.Path == "." {
			return false, fmt.Errorf("write %s: bad path %q", host, f.Path)
		}
	}
	root, fresh, err := o.dir.Sub(host, true)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", host, err)
	}
	t := newTree(root)
	defer t.close()
	// rec collects the stamps of this render's files; keep turns false
	// when one cannot be taken, and the host then gets no entry.
	var rec *hostStat
	keep := false
	if o.stat != nil && o.stat.ready() {
		var bound bool
		rec = &hostStat{files: make([]fileStat, 0, len(files))}
		rec.bundle, bound = bundleSum(files)
		keep = bound
	}
	stamped := func(f File, st stamp, ok bool) {
		if keep && ok {
			rec.files = append(rec.files, fileStat{path: f.Path, st: st})
		} else {
			keep = false
		}
	}
	if fresh {
		// Nothing to compare and nothing stale: create every file, each
		// directory once (a first render writes every host so).
		for _, f := range files {
			d, base, err := t.parent(f.Path, true)
			if err == nil {
				err = d.Create(base, f.Data, f.Mode.Perm())
			}
			if err != nil {
				o.forget(host)
				return true, fmt.Errorf("write %s: %w", host, err)
			}
			if keep {
				st, ok := stampFile(d, base)
				stamped(f, st, ok)
			}
		}
		if keep {
			keep = t.stampDirs(rec)
		}
		o.remember(host, rec, keep)
		return true, nil
	}
	var old *hostStat
	if keep {
		if old = o.stat.get(host); old != nil && (old.bundle != rec.bundle || len(old.files) != len(files)) {
			old = nil // another bundle: every file is read back
		}
	}
	// A directory whose stamp is the recorded one has had no name added,
	// removed or renamed in it since: with every directory of the host
	// so, it holds the bundle's files alone and the walk is skipped.
	var have map[string]bool
	walked := old == nil || !t.unchanged(old.dirs, o.stat)
	if walked {
		o.walks.Add(1)
		if have, err = t.files(); err != nil {
			o.forget(host)
			return false, fmt.Errorf("write %s: %w", host, err)
		}
	} else {
		have = make(map[string]bool, len(files))
		for _, f := range files {
			have[f.Path] = true
		}
	}
	want := make(map[string]bool, len(files))
	changed, fromCache := false, 0
	for i, f := range files {
		want[f.Path] = true
		d, base, err := t.parent(f.Path, true)
		if err != nil {
			o.forget(host)
			return changed, fmt.Errorf("write %s: %w", host, err)
		}
		if have[f.Path] {
			if old != nil && old.files[i].path == f.Path {
				// The stamp says whether the file is the one verified;
				// its mode is in the stamp and, with the bundle's
				// manifest unchanged, the mode wanted is too.
				if st, ok := stampFile(d, base); ok && st == old.files[i].st && o.stat.settled(st) {
					stamped(f, st, true)
					fromCache++
					continue
				}
			}
			o.reads.Add(1)
			data, fi, err := d.ReadEntry(base)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				o.forget(host)
				return changed, fmt.Errorf("write %s: %w", host, err)
			}
			if err == nil && fi.Mode().Perm() == f.Mode.Perm() && bytes.Equal(data, f.Data) {
				if keep {
					st, ok := stampOf(fi) // the open file's, taken before the read
					stamped(f, st, ok)
				}
				continue
			}
		}
		changed = true
		if err := d.Replace(base, f.Data, f.Mode.Perm(), false); err != nil {
			o.forget(host)
			return changed, fmt.Errorf("write %s: %w", host, err)
		}
		if keep {
			st, ok := stampFile(d, base)
			stamped(f, st, ok)
		}
	}
	for p := range have {
		if !want[p] {
			changed = true
			if err := root.Remove(p); err != nil {
				o.forget(host)
				return changed, fmt.Errorf("write %s: %w", host, err)
			}
		}
	}
	if !keep || walked || fromCache < len(files) || changed {
		// (Every directory and file from the cache and nothing removed:
		// the entry is already the one on disk.) Every directory of the
		// host is stamped now, after the writes: t holds each one, opened
		// by the walk, by the check of the recorded ones, or made.
		if keep {
			keep = t.stampDirs(rec)
		}
		o.remember(host, rec, keep)
	}
	return changed, nil
}

// remember records the host's stamps in the stat cache, or drops its
// entry when they could not all be taken.
func (o *Out) remember(host string, rec *hostStat, keep bool) {
	if o.stat == nil {
		return
	}
	if !keep {
		rec = nil
	}
	o.stat.put(host, rec)
}

// forget drops the host's entry: an Update that failed half way leaves
// files the cache has not seen.
func (o *Out) forget(host string) { o.remember(host, nil, false) }

// Changes compares one host's bundle with what <dir>/<host>/ holds. A link
// there is an error: its target is never read.
func (o *Out) Changes(host string, files []File) ([]Change, error) {
	if !validHost(host) {
		return nil, fmt.Errorf("%s: not a valid host directory name", host)
	}
	var t *tree
	have := map[string]bool{}
	if o.dir != nil {
		root, _, err := o.dir.Sub(host, false)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if err == nil {
			t = newTree(root)
			defer t.close()
			if have, err = t.files(); err != nil {
				return nil, err
			}
		}
	}
	want := make(map[string]File, len(files))
	names := make([]string, 0, len(have)+len(files))
	for p := range have {
		names = append(names, p)
	}
	for _, f := range files {
		want[f.Path] = f
		if !have[f.Path] {
			names = append(names, f.Path)
		}
	}
	slices.Sort(names)
	var out []Change
	for _, p := range names {
		f, wanted := want[p]
		var old []byte
		if have[p] {
			d, base, err := t.parent(p, false)
			if err == nil {
				old, err = d.ReadFile(base)
			}
			if err != nil {
				return nil, err
			}
		}
		switch {
		case !wanted:
			out = append(out, Change{Path: p, Kind: '-', Old: old})
		case !have[p]:
			out = append(out, Change{Path: p, Kind: '+', New: f.Data})
		case !bytes.Equal(old, f.Data):
			out = append(out, Change{Path: p, Kind: '~', Old: old, New: f.Data})
		}
	}
	return out, nil
}

// Check compares the bundles with what the directory holds and returns
// what a render would do: first the host directories it would remove
// (Stale), then a unified diff of every missing, extra or changed file.
// Empty when the directory is current.
//
// The diff is in the order a reviewer reads it: every host's
// configuration files (the guest paths, etc/...), then the apply
// scripts, whose data section repeats the configuration and whose size
// would bury it, then the manifests, which change only with the others.
// Within each, hosts and paths are sorted.
func (o *Out) Check(bundles map[string][]File) (string, error) {
	var b strings.Builder
	hosts := make([]string, 0, len(bundles))
	for h := range bundles {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	stale, err := o.Stale(hosts)
	if err != nil {
		return "", err
	}
	for _, h := range stale {
		fmt.Fprintf(&b, "Only in %s: %s (instance no longer in fleet %s; render removes it)\n", o.dir.Name(), h, o.fleet)
	}
	var parts [3]strings.Builder // by diffPart
	for _, host := range hosts {
		changes, err := o.Changes(host, bundles[host])
		if err != nil {
			return "", err
		}
		for _, c := range changes {
			name := path.Join(host, c.Path)
			w := &parts[diffPart(c.Path)]
			switch c.Kind {
			case '-':
				w.WriteString(unifiedDiff("a/"+name, "/dev/null", c.Old, nil))
			case '+':
				w.WriteString(unifiedDiff("/dev/null", "b/"+name, nil, c.New))
			default:
				w.WriteString(unifiedDiff("a/"+name, "b/"+name, c.Old, c.New))
			}
		}
	}
	for i := range parts {
		b.WriteString(parts[i].String())
	}
	return b.String(), nil
}

// diffPart places a bundle file in Check's diff: 0 for a configuration
// file (at its guest path, below the bundle's top), 1 for a file at the
// top (the apply script), 2 for the manifest.
func diffPart(p string) int {
	switch {
	case p == ManifestName:
		return 2
	case !strings.Contains(p, "/"):
		return 1
	}
	return 0
}

// record is the content of RecordName.
type record struct {
	FormatVersion string              `json:"format_version"`
	Fleets        map[string][]string `json:"fleets"`
}

func (o *Out) readRecord() (*record, error) {
	r := &record{Fleets: map[string][]string{}}
	if o.dir == nil {
		return r, nil
	}
	data, err := o.dir.ReadFile(RecordName)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, r); err != nil || r.FormatVersion != "1" {
		if err == nil {
			err = fmt.Errorf("format_version %q, want \"1\"", r.FormatVersion)
		}
		return nil, fmt.Errorf("%s: %w; it lists the hosts render wrote there: remove it (render then removes no host directory) or restore it", o.dir.Path(RecordName), err)
	}
	if r.Fleets == nil {
		r.Fleets = map[string][]string{}
	}
	return r, nil
}

// Stale returns, sorted, the host directories a render of the fleet with
// the given hosts removes: those the record lists for this fleet that the
// fleet no longer has and that still hold a manifest.json naming them.
func (o *Out) Stale(hosts []string) ([]string, error) {
	if o.fleet == "" || o.dir == nil {
		return nil, nil
	}
	r, err := o.readRecord()
	if err != nil {
		return nil, err
	}
	var stale []string
	for _, h := range r.Fleets[o.fleet] {
		if !slices.Contains(hosts, h) && o.isHost(h) && !slices.Contains(stale, h) {
			stale = append(stale, h)
		}
	}
	slices.Sort(stale)
	return stale, nil
}

// isHost reports whether host is a directory (not a link) holding a
// regular manifest.json whose instance is host: what render wrote.
func (o *Out) isHost(host string) bool {
	if !validHost(host) {
		return false
	}
	data, err := o.dir.ReadFile(host + "/" + ManifestName)
	if err != nil {
		return false
	}
	var m struct {
		Instance string `json:"instance"`
	}
	return json.Unmarshal(data, &m) == nil && m.Instance == host
}

// Record sets the fleet's hosts in the record, keeping other fleets'.
// Render records the union of old and new hosts before it writes any, and
// the new set once it has pruned, so a host it wrote is always listed.
func (o *Out) Record(hosts []string) error {
	if o.fleet == "" {
		return nil
	}
	r, err := o.readRecord()
	if err != nil {
		return err
	}
	hs := slices.Clone(hosts)
	slices.Sort(hs)
	hs = slices.Compact(hs)
	if slices.Equal(r.Fleets[o.fleet], hs) {
		return nil
	}
	r.FormatVersion = "1"
	r.Fleets[o.fleet] = hs
	if len(hs) == 0 {
		delete(r.Fleets, o.fleet)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := o.dir.Replace(RecordName, append(data, '\n'), 0o644, true); err != nil {
		return fmt.Errorf("record the rendered hosts: %w", err)
	}
	return nil
}

// Prune removes the host directories stale lists (as Stale returned them),
// each checked again just before, and returns how many it removed.
func (o *Out) Prune(stale []string) (int, error) {
	n := 0
	for _, h := range stale {
		if !o.isHost(h) {
			continue
		}
		if err := o.dir.RemoveAll(h); err != nil {
			return n, fmt.Errorf("remove %s: %w", o.dir.Path(h), err)
		}
		if o.stat != nil {
			o.stat.put(h, nil)
		}
		n++
	}
	return n, nil
}

// tree is a host directory opened for one Update or Changes, with its
// subdirectories opened once each.
type tree struct {
	root *safefile.Dir
	dirs map[string]*safefile.Dir // by slash path relative to root; "." is root
}

func newTree(root *safefile.Dir) *tree {
	return &tree{root: root, dirs: map[string]*safefile.Dir{".": root}}
}

func (t *tree) close() {
	for _, d := range t.dirs {
		d.Close()
	}
}

// dir opens (with create, makes) the directory rel of the tree.
func (t *tree) dir(rel string, create bool) (*safefile.Dir, error) {
	if d := t.dirs[rel]; d != nil {
		return d, nil
	}
	parent, base := path.Split(rel)
	up, err := t.dir(path.Clean(parent), create) // "" cleans to "."
	if err != nil {
		return nil, err
	}
	d, _, err := up.Sub(base, create)
	if err != nil {
		return nil, err
	}
	t.dirs[rel] = d
	return d, nil
}

// parent returns the opened directory of file rel and its base name.
func (t *tree) parent(rel string, create bool) (*safefile.Dir, string, error) {
	d, err := t.dir(path.Dir(rel), create)
	return d, path.Base(rel), err
}

// unchanged reports whether every directory recorded (the host's
// directory "." among them) opens without a link and has its recorded
// stamp, settled.
func (t *tree) unchanged(dirs []fileStat, c *statCache) bool {
	if len(dirs) == 0 {
		return false
	}
	for _, e := range dirs {
		d, err := t.dir(e.path, false)
		if err != nil {
			return false
		}
		fi, err := d.Stat()
		if err != nil {
			return false
		}
		st, ok := stampOf(fi)
		if !ok || st != e.st || !c.settled(st) {
			return false
		}
	}
	return true
}

// stampDirs records in rec the stamp of every directory the tree has
// opened; false if one cannot be taken.
func (t *tree) stampDirs(rec *hostStat) bool {
	rec.dirs = make([]fileStat, 0, len(t.dirs))
	for rel, d := range t.dirs {
		fi, err := d.Stat()
		if err != nil {
			return false
		}
		st, ok := stampOf(fi)
		if !ok {
			return false
		}
		rec.dirs = append(rec.dirs, fileStat{path: rel, st: st})
	}
	slices.SortFunc(rec.dirs, func(a, b fileStat) int { return strings.Compare(a.path, b.path) })
	return true
}

// files lists every non-directory below the tree by slash path; a link
// anywhere is an error naming it (safefile.ErrLink).
func (t *tree) files() (map[string]bool, error) {
	out := map[string]bool{}
	var walk func(rel string) error
	walk = func(rel string) error {
		d, err := t.dir(rel, false)
		if err != nil {
			return err
		}
		entries, err := d.ReadDir(".")
		if err != nil {
			return err
		}
		for _, e := range entries {
			p := path.Join(rel, e.Name())
			switch {
			case e.Type()&fs.ModeSymlink != 0:
				return &fs.PathError{Op: "read", Path: d.Path(e.Name()), Err: safefile.ErrLink}
			case e.IsDir():
				if err := walk(p); err != nil {
					return err
				}
			default:
				out[p] = true
			}
		}
		return nil
	}
	return out, walk(".")
}
