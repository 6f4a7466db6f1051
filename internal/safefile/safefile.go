// Package safefile reads and writes files below a directory the user named
// without ever following a symbolic link below it.
//
// A Dir is opened with os.OpenRoot, so no operation can leave the
// directory, and every path element below it is checked with Lstat before
// use and again after opening (same file), so a symbolic link, even one
// that points back inside, is refused with an error that wraps ErrLink and
// names the path. The directory itself may be a link: the user chose it.
//
// Files are created with O_CREATE|O_EXCL, which never follows a link: in
// a directory ecsnet has just made (Create), or as a temporary file with a
// random name beside the target that is then renamed over it (Replace,
// WriteFile), so a crash leaves the old file or the new one and a planted
// link at a predictable temporary name cannot redirect the write.
package safefile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ErrLink is wrapped by every error about a symbolic link found where a
// file or directory was expected.
var ErrLink = errors.New("is a symbolic link; ecsnet neither reads nor writes through links: remove it")

// Dir is an open directory. Its methods take slash-separated paths
// relative to it; they are safe for concurrent use.
type Dir struct {
	root *os.Root
	name string // for messages: the path the caller opened
}

// Open opens the directory at path.
func Open(path string) (*Dir, error) {
	r, err := os.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	return &Dir{root: r, name: path}, nil
}

// MkdirAllOpen creates the directory at path, with its parents, if need
// be, and opens it.
func MkdirAllOpen(path string, perm fs.FileMode) (*Dir, error) {
	if err := os.MkdirAll(path, perm); err != nil {
		return nil, err
	}
	return Open(path)
}

// Name returns the path of d as its caller named it.
func (d *Dir) Name() string { return d.name }

// Close releases d.
func (d *Dir) Close() error { return d.root.Close() }

// Path returns rel as a path for messages: joined to d's name.
func (d *Dir) Path(rel string) string {
	return filepath.Join(d.name, filepath.FromSlash(rel))
}

func (d *Dir) linkError(op, rel string) error {
	return &fs.PathError{Op: op, Path: d.Path(rel), Err: ErrLink}
}

// checkRel refuses paths that are not plain relative paths below d.
func (d *Dir) checkRel(op, rel string) error {
	if !fs.ValidPath(rel) || rel == "." {
		return &fs.PathError{Op: op, Path: d.Path(rel), Err: fs.ErrInvalid}
	}
	return nil
}

// Sub opens the directory rel below d, one element at a time, refusing a
// link at any of them. With create, missing directories are made (mode
// 0755 before the umask) and made reports whether the last one was.
func (d *Dir) Sub(rel string, create bool) (sub *Dir, made bool, err error) {
	if rel == "." {
		r, err := d.root.OpenRoot(".")
		if err != nil {
			return nil, false, err
		}
		return &Dir{root: r, name: d.name}, false, nil
	}
	if err := d.checkRel("open", rel); err != nil {
		return nil, false, err
	}
	cur := d
	for _, elem := range strings.Split(rel, "/") {
		next, m, err := cur.child(elem, create)
		if cur != d {
			cur.Close()
		}
		if err != nil {
			return nil, false, err
		}
		cur, made = next, m
	}
	return cur, made, nil
}

// child opens the directory elem (one element) of d.
func (d *Dir) child(elem string, create bool) (*Dir, bool, error) {
	name := path.Join(d.name, elem)
	made := false
	st, err := d.root.Lstat(elem)
	if errors.Is(err, fs.ErrNotExist) && create {
		err = d.root.Mkdir(elem, 0o755)
		if err == nil {
			made = true
		} else if errors.Is(err, fs.ErrExist) {
			err = nil // made meanwhile by another writer: check it below
		}
		if err == nil {
			st, err = d.root.Lstat(elem)
		}
	}
	if err != nil {
		return nil, false, err
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return nil, false, d.linkError("open", elem)
	}
	if !st.IsDir() {
		return nil, false, &fs.PathError{Op: "open", Path: d.Path(elem), Err: errors.New("not a directory")}
	}
	r, err := d.root.OpenRoot(elem)
	if err != nil {
		return nil, false, err
	}
	// Swapped for a link between the Lstat and the open: os.Root followed
	// it (inside d, never out), and this is not the directory checked.
	if now, err := r.Stat("."); err != nil || !os.SameFile(st, now) {
		r.Close()
		return nil, false, d.linkError("open", elem)
	}
	return &Dir{root: r, name: filepath.FromSlash(name)}, made, nil
}

// parent opens the directory holding rel and returns it with rel's last
// element. The caller closes it when it is not d.
func (d *Dir) parent(op, rel string, create bool) (*Dir, string, error) {
	if err := d.checkRel(op, rel); err != nil {
		return nil, "", err
	}
	dir, base := path.Split(rel)
	if dir == "" {
		return d, base, nil
	}
	sub, _, err := d.Sub(strings.TrimSuffix(dir, "/"), create)
	return sub, base, err
}

func (d *Dir) release(p *Dir) {
	if p != d {
		p.Close()
	}
}

// Stat describes d itself (the directory opened, not a path to it).
func (d *Dir) Stat() (fs.FileInfo, error) { return d.root.Stat(".") }

// Lstat describes rel without following a link at its last element; a
// link among the directories above it is refused.
func (d *Dir) Lstat(rel string) (fs.FileInfo, error) {
	p, base, err := d.parent("lstat", rel, false)
	if err != nil {
		return nil, err
	}
	defer d.release(p)
	return p.root.Lstat(base)
}

// ReadFile returns the contents of the regular file rel. A link, at rel
// or above it, is an error wrapping ErrLink; its target is never read.
func (d *Dir) ReadFile(rel string) ([]byte, error) {
	data, _, err := d.ReadFileInfo(rel)
	return data, err
}

// ReadFileInfo is ReadFile that also describes the file read.
func (d *Dir) ReadFileInfo(rel string) ([]byte, fs.FileInfo, error) {
	p, base, err := d.parent("read", rel, false)
	if err != nil {
		return nil, nil, err
	}
	defer d.release(p)
	st, err := p.root.Lstat(base)
	if err != nil {
		return nil, nil, err
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return nil, nil, d.linkError("read", rel)
	}
	if !st.Mode().IsRegular() {
		return nil, nil, &fs.PathError{Op: "read", Path: d.Path(rel), Err: errors.New("not a regular file")}
	}
	f, err := p.root.Open(base)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if now, err := f.Stat(); err != nil || !os.SameFile(st, now) {
		return nil, nil, d.linkError("read", rel) // swapped since the Lstat
	}
	data, err := readAll(f, st.Size())
	return data, st, err
}

// ReadEntry reads the file name, one element of d that d.ReadDir has just
// listed as a regular file, with one Lstat fewer than ReadFileInfo (a
// re-render reads every file it wrote back). Had a link replaced the file
// since the listing, os.Root would follow it only to a file inside d's
// root, never out of it; anything but a regular file is refused.
func (d *Dir) ReadEntry(name string) ([]byte, fs.FileInfo, error) {
	if err := d.checkRel("read", name); err != nil || strings.Contains(name, "/") {
		return nil, nil, &fs.PathError{Op: "read", Path: d.Path(name), Err: fs.ErrInvalid}
	}
	f, err := d.root.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, &fs.PathError{Op: "read", Path: d.Path(name), Err: errors.New("not a regular file")}
	}
	data, err := readAll(f, st.Size())
	return data, st, err
}

// readAll reads f to its end, sized for the size it had.
func readAll(f *os.File, size int64) ([]byte, error) {
	buf := make([]byte, 0, size+1) // +1: the read that sees the end
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF || (err == nil && int64(len(buf)) == size && len(buf) < cap(buf)) {
			// All of the size the stat gave, and short of the one
			// byte more asked for: the end (saves the read that
			// would return EOF).
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grown since the stat
		}
	}
}

// ReadDir lists the directory rel ("." for d itself), sorted by name.
// Entries are not followed: a link is listed as a link.
func (d *Dir) ReadDir(rel string) ([]fs.DirEntry, error) {
	sub := d
	if rel != "." {
		var err error
		if sub, _, err = d.Sub(rel, false); err != nil {
			return nil, err
		}
		defer sub.Close()
	}
	f, err := sub.root.Open(".")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1) // sorted by name, as os.ReadDir
}

// Create writes a new file rel, which must not exist (O_EXCL: a link in
// its place is not followed but refused), with exactly mode perm. It is
// meant for directories the caller has just made; Replace is for others.
func (d *Dir) Create(rel string, data []byte, perm fs.FileMode) error {
	p, base, err := d.parent("create", rel, true)
	if err != nil {
		return err
	}
	defer d.release(p)
	f, err := p.root.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	return finish(f, data, perm, false)
}

// Replace writes rel atomically: a new temporary file with a random name
// beside it, written with exactly mode perm, synced when sync is set,
// then renamed over rel. The rename replaces rel itself, whatever it is
// (a link included), never a link's target; it fails on a directory.
// Missing parent directories are made.
func (d *Dir) Replace(rel string, data []byte, perm fs.FileMode, sync bool) error {
	p, base, err := d.parent("write", rel, true)
	if err != nil {
		return err
	}
	defer d.release(p)
	var f *os.File
	var tmp string
	for range 10 {
		tmp = "." + base + "." + randomSuffix() + ".tmp"
		f, err = p.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm&0o600)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	if err := finish(f, data, perm, sync); err != nil {
		p.root.Remove(tmp)
		return err
	}
	if err := p.root.Rename(tmp, base); err != nil {
		p.root.Remove(tmp)
		return err
	}
	if sync {
		// Make the rename itself durable. Not every system can sync a
		// directory (Windows cannot), and the data is already on disk.
		if df, err := p.root.Open("."); err == nil {
			df.Sync()
			df.Close()
		}
	}
	return nil
}

// finish writes data to the new file f, sets its mode (the umask must not
// decide it), optionally syncs, and closes it.
func finish(f *os.File, data []byte, perm fs.FileMode, sync bool) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// Remove removes the file or empty directory rel (a link itself, never
// its target).
func (d *Dir) Remove(rel string) error {
	p, base, err := d.parent("remove", rel, false)
	if err != nil {
		return err
	}
	defer d.release(p)
	return p.root.Remove(base)
}

// RemoveAll removes rel and everything below it, following no link.
func (d *Dir) RemoveAll(rel string) error {
	p, base, err := d.parent("remove", rel, false)
	if err != nil {
		return err
	}
	defer d.release(p)
	return p.root.RemoveAll(base)
}

// WriteFile writes the file at path atomically and durably (Replace with
// sync): a temporary file with a random name in the same directory,
// synced, then renamed over path. It never writes through a link: a link
// at path is replaced by the file.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	d, err := Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Replace(filepath.Base(path), data, perm, true); err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops a PathError's own path (a root-relative name) so the
// caller's message names the file once.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
