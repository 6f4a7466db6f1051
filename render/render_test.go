package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/safefile"
	"github.com/ecsnet/ecsnet/schema"
)

// TestManifestJSON holds the hand-written manifest to the bytes
// encoding/json writes for the same document (indented, no HTML
// escaping), hostile strings included.
func TestManifestJSON(t *testing.T) {
	type file struct {
		Path   string `json:"path"`
		Mode   string `json:"mode"`
		SHA256 string `json:"sha256"`
		Size   int    `json:"size"`
	}
	type doc struct {
		FormatVersion string `json:"format_version"`
		Instance      string `json:"instance"`
		InstanceID    string `json:"instance_id"`
		OS            string `json:"os"`
		Stack         string `json:"stack"`
		Files         []file `json:"files"`
	}
	want := func(h *Host, files []File) []byte {
		d := doc{FormatVersion: "1", Instance: h.Name, InstanceID: h.InstanceID, OS: string(h.OS), Stack: string(h.Stack), Files: []file{}}
		for _, f := range files {
			sum := sha256.Sum256(f.Data)
			d.Files = append(d.Files, file{Path: f.Path, Mode: fmt.Sprintf("%04o", f.Mode.Perm()), SHA256: hex.EncodeToString(sum[:]), Size: len(f.Data)})
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	files := []File{
		{Path: "ecsnet-apply.sh", Mode: 0o755, Data: []byte("#!/bin/bash\n")},
		{Path: "etc/a b/\"q\"\\<&>", Mode: 0o600},
		{Path: "etc/x", Mode: 0o4644, Data: bytes.Repeat([]byte("x"), 70000)},
	}
	for _, s := range []string{"web-1", "", `"quoted"\`, "a\nb\tc\rd\be\ff\x00g\x1f", "<script>&amp;", "bad \xff utf-8", "line\u2028sep\u2029", "数据 ‮evil", "\x7f"} {
		h := &Host{Name: s, InstanceID: s, OS: schema.OS(s), Stack: schema.Stack(s)}
		for _, fs := range [][]File{nil, files[:1], files} {
			if got, want := manifest(h, fs), want(h, fs); !bytes.Equal(got, want) {
				t.Errorf("manifest(%q, %d files):\n got %s\nwant %s", s, len(fs), got, want)
			}
		}
	}
}

// TestUpdate: a re-render leaves an unchanged host alone (its files keep
// their timestamps) and rewrites one whose file was deleted, truncated,
// edited in place to the same size or had its mode changed while its
// manifest stayed the same, touching only that file; an extra file is
// removed.
func TestUpdate(t *testing.T) {
	var h *Host
	for _, x := range exampleHosts(t) {
		if x.Stack == schema.StackIfcfg {
			h = x // several configuration files
		}
	}
	files, err := ForHost(h)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, h.Name)
	if changed, err := Update(dir, h.Name, files); err != nil || !changed {
		t.Fatalf("first Update: changed %v, %v; want a write", changed, err)
	}
	for _, f := range files {
		st, err := os.Stat(filepath.Join(root, f.Path))
		if err != nil || st.Mode().Perm() != f.Mode.Perm() {
			t.Fatalf("%s after the first write: %v, %v; want mode %v", f.Path, st.Mode(), err, f.Mode.Perm())
		}
	}
	// Timestamps well in the past, so a rewrite cannot hide in the
	// file system's timestamp granularity.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, f := range files {
		if err := os.Chtimes(filepath.Join(root, f.Path), old, old); err != nil {
			t.Fatal(err)
		}
	}
	keptTimes := func(t *testing.T, except string) {
		t.Helper()
		for _, f := range files {
			st, err := os.Stat(filepath.Join(root, f.Path))
			if err != nil {
				t.Fatal(err)
			}
			if f.Path != except && !st.ModTime().Equal(old) {
				t.Errorf("%s was rewritten (mtime %v)", f.Path, st.ModTime())
			}
		}
	}
	upToDate := func(t *testing.T) {
		t.Helper()
		if diff, err := Check(dir, map[string][]File{h.Name: files}); err != nil || diff != "" {
			t.Fatalf("after Update: %v\n%s", err, diff)
		}
	}
	if changed, err := Update(dir, h.Name, files); err != nil || changed {
		t.Fatalf("Update of an unchanged host: changed %v, %v", changed, err)
	}
	keptTimes(t, "")

	victim := files[1].Path // a configuration file, not the manifest
	for _, c := range []struct {
		name  string
		spoil func(p string) error
	}{
		{"deleted", os.Remove},
		{"truncated", func(p string) error { return os.Truncate(p, 3) }},
		{"emptied", func(p string) error { return os.Truncate(p, 0) }},
		{"grown", func(p string) error {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, err = f.WriteString("# added by hand\n")
			return errors.Join(err, f.Close())
		}},
		{"mode changed", func(p string) error { return os.Chmod(p, 0o600) }},
		{"replaced by a directory", func(p string) error {
			return errors.Join(os.Remove(p), os.Mkdir(p, 0o755))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(root, filepath.FromSlash(victim))
			if err := c.spoil(p); err != nil {
				t.Fatal(err)
			}
			changed, err := Update(dir, h.Name, files)
			if c.name == "replaced by a directory" {
				// Not ours to remove: the write fails and says so.
				if err == nil {
					t.Fatal("Update over a directory succeeded")
				}
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
				changed, err = Update(dir, h.Name, files)
			}
			if err != nil || !changed {
				t.Fatalf("Update: changed %v, %v; want the file rewritten", changed, err)
			}
			upToDate(t)
			keptTimes(t, victim)
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		})
	}

	// The manifest itself edited or gone: the host is written again, and
	// only the manifest changes.
	t.Run("manifest", func(t *testing.T) {
		p := filepath.Join(root, ManifestName)
		if err := os.WriteFile(p, []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if changed, err := Update(dir, h.Name, files); err != nil || !changed {
			t.Fatalf("Update: changed %v, %v; want the manifest rewritten", changed, err)
		}
		upToDate(t)
		keptTimes(t, ManifestName)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	})

	// A file the bundle does not have: Update removes it, as Check flags
	// it (issue 12 item 4: render repairs whatever --check flags).
	t.Run("extra file", func(t *testing.T) {
		extra := filepath.Join(root, "etc", "extra")
		if err := os.WriteFile(extra, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if changed, err := Update(dir, h.Name, files); err != nil || !changed {
			t.Fatalf("Update: changed %v, %v; want the extra file removed", changed, err)
		}
		if _, err := os.Stat(extra); !os.IsNotExist(err) {
			t.Fatalf("Update left %s: %v", extra, err)
		}
		upToDate(t)
		keptTimes(t, "")
	})

	// An edit that keeps the size (PREFIX=24 -> PREFIX=23): Update reads
	// the bytes back, as Check compares them, and repairs it.
	t.Run("same-size edit", func(t *testing.T) {
		p := filepath.Join(root, filepath.FromSlash(victim))
		data := bytes.Clone(files[1].Data)
		data[0] ^= 1
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if diff, err := Check(dir, map[string][]File{h.Name: files}); err != nil || !strings.Contains(diff, victim) {
			t.Fatalf("Check missed a same-size edit of %s: %v\n%s", victim, err, diff)
		}
		if changed, err := Update(dir, h.Name, files); err != nil || !changed {
			t.Fatalf("Update: changed %v, %v; want the same-size edit repaired", changed, err)
		}
		upToDate(t)
		keptTimes(t, victim)
	})
}

// TestUpdateStatCache: Update on an Out opened with create keeps a stat
// cache (StatCacheName), so an unchanged re-render reads no file, while
// every change --check would flag is still seen and repaired: a same-size
// edit whose mtime was set back (ctime and the inode cannot be), any
// edit, a file whose stamp is not older than the cache (racy git), and a
// cache that is corrupt or another directory's, which is ignored. The
// count of files read back is Out's own.
func TestUpdateStatCache(t *testing.T) {
	var h *Host
	for _, x := range exampleHosts(t) {
		if x.Stack == schema.StackIfcfg {
			h = x // several configuration files
		}
	}
	files, err := ForHost(h)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, h.Name)
	cache := filepath.Join(dir, StatCacheName)
	// renderWalks updates the host through a fresh Out, as ecsnet render
	// does, and returns whether it changed, how many files it read back
	// and whether it listed the host's directory; render the first two.
	renderWalks := func(t *testing.T) (bool, int64, int64) {
		t.Helper()
		o, err := OpenOut(dir, "f", true)
		if err != nil {
			t.Fatal(err)
		}
		changed, err := o.Update(h.Name, files)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if err := o.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		return changed, o.reads.Load(), o.walks.Load()
	}
	render := func(t *testing.T) (bool, int64) {
		t.Helper()
		changed, reads, _ := renderWalks(t)
		return changed, reads
	}
	upToDate := func(t *testing.T) {
		t.Helper()
		if diff, err := Check(dir, map[string][]File{h.Name: files}); err != nil || diff != "" {
			t.Fatalf("after Update: %v\n%s", err, diff)
		}
	}
	// settle re-renders until no file is read back and no directory
	// listed: stamps taken within the cache's own timestamp tick are
	// checked once more (racy git), and the cache written after that is
	// later than them.
	settle := func(t *testing.T) {
		t.Helper()
		for range 50 {
			time.Sleep(20 * time.Millisecond)
			changed, reads, walks := renderWalks(t)
			if changed {
				t.Fatal("an unchanged host changed")
			}
			if reads == 0 && walks == 0 {
				return
			}
		}
		t.Fatal("every re-render reads files back")
	}
	victim := files[1].Path // a configuration file, not the manifest
	p := filepath.Join(root, filepath.FromSlash(victim))

	if changed, _ := render(t); !changed {
		t.Fatal("first Update changed nothing")
	}
	if _, err := os.Lstat(cache); err != nil {
		t.Fatalf("no stat cache after a render: %v", err)
	}
	// An output directory is often committed (render --check guards
	// it); the cache is this machine's and ignores itself.
	if data, err := os.ReadFile(filepath.Join(filepath.Dir(cache), ".gitignore")); err != nil || !strings.HasSuffix(string(data), "\n*\n") {
		t.Fatalf("the cache's directory has no .gitignore ignoring it all: %q, %v", data, err)
	}
	settle(t)
	t.Run("unchanged reads nothing", func(t *testing.T) {
		before, _ := os.Stat(p)
		if changed, reads, walks := renderWalks(t); changed || reads != 0 || walks != 0 {
			t.Fatalf("unchanged re-render: changed %v, %d files read back, %d directories listed; want none", changed, reads, walks)
		}
		if after, _ := os.Stat(p); !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
			t.Fatal("an unchanged file was rewritten")
		}
	})

	t.Run("same-size edit, mtime restored", func(t *testing.T) {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		data := bytes.Clone(files[1].Data)
		data[0] ^= 1 // PREFIX=24 -> PREFIX=23 keeps the size too
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, st.ModTime(), st.ModTime()); err != nil {
			t.Fatal(err)
		}
		if now, _ := os.Stat(p); now.Size() != st.Size() || !now.ModTime().Equal(st.ModTime()) {
			t.Fatal("the edit changed the size or the mtime")
		}
		if diff, _ := Check(dir, map[string][]File{h.Name: files}); !strings.Contains(diff, victim) {
			t.Fatalf("Check missed the edit:\n%s", diff)
		}
		if changed, reads := render(t); !changed || reads != 1 {
			t.Fatalf("Update: changed %v, %d files read back; want the edited file alone read and repaired", changed, reads)
		}
		upToDate(t)
		settle(t)
	})

	t.Run("edit", func(t *testing.T) {
		if err := os.WriteFile(p, []byte("PREFIX=23\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if changed, _ := render(t); !changed {
			t.Fatal("an edit was not repaired")
		}
		upToDate(t)
		settle(t)
	})

	// A name added below the host, where a render's walk would find it,
	// changes the stamp of the directory it is added to: the walk is not
	// skipped and the file is removed, as Check flags it. An empty
	// directory is not the bundle's but is no difference either: it
	// stays, and is watched as the others are.
	t.Run("extra files", func(t *testing.T) {
		if err := os.Mkdir(filepath.Join(root, "etc", "empty"), 0o755); err != nil {
			t.Fatal(err)
		}
		settle(t)
		for _, extra := range []string{
			filepath.Join(root, "etc", "extra"),          // beside the bundle's files
			filepath.Join(root, "etc", "new", "extra"),   // in a new directory
			filepath.Join(root, "etc", "empty", "extra"), // in a directory the bundle does not need
		} {
			if err := os.MkdirAll(filepath.Dir(extra), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(extra, []byte("x\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if diff, _ := Check(dir, map[string][]File{h.Name: files}); diff == "" {
				t.Fatalf("Check missed %s", extra)
			}
			if changed, _ := render(t); !changed {
				t.Fatalf("Update left %s", extra)
			}
			if _, err := os.Lstat(extra); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Update left %s: %v", extra, err)
			}
			upToDate(t)
			settle(t)
		}
	})

	// Every stamp at or after the cache's write time is read back: set
	// the cache's mtime before the files' and the host is read again.
	// Nor does a cache written later, by a render of other hosts, make
	// them trusted.
	t.Run("racy", func(t *testing.T) {
		if err := os.Chtimes(cache, time.Time{}, time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		var other *Host
		for _, x := range exampleHosts(t) {
			if x.Name != h.Name {
				other = x
			}
		}
		otherFiles, err := ForHost(other)
		if err != nil {
			t.Fatal(err)
		}
		o, err := OpenOut(dir, "g", true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Update(other.Name, otherFiles); err != nil {
			t.Fatal(err)
		}
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		if changed, reads := render(t); changed || reads != int64(len(files)) {
			t.Fatalf("Update with a cache older than the files: changed %v, %d files read back; want all %d read, none changed", changed, reads, len(files))
		}
		settle(t)
	})

	for _, c := range []struct {
		name  string
		spoil func(t *testing.T, data []byte) []byte
	}{
		{"garbage", func(*testing.T, []byte) []byte { return []byte("not a cache\n") }},
		{"truncated", func(_ *testing.T, data []byte) []byte { return data[:len(data)/2] }},
		{"bit flipped", func(_ *testing.T, data []byte) []byte {
			data = bytes.Clone(data)
			data[len(data)/2] ^= 0x10
			return data
		}},
		{"empty", func(*testing.T, []byte) []byte { return nil }},
		{"another directory's", func(t *testing.T, _ []byte) []byte {
			other := t.TempDir()
			o, err := OpenOut(other, "f", true)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := o.Update(h.Name, files); err != nil {
				t.Fatal(err)
			}
			if err := o.Close(); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(other, StatCacheName))
			if err != nil {
				t.Fatal(err)
			}
			return data
		}},
	} {
		t.Run("cache "+c.name, func(t *testing.T) {
			data, err := os.ReadFile(cache)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cache, c.spoil(t, data), 0o644); err != nil {
				t.Fatal(err)
			}
			// The same-size edit again: with the cache ignored it is
			// read back like every other file, and repaired.
			edited := bytes.Clone(files[1].Data)
			edited[0] ^= 1
			if err := os.WriteFile(p, edited, 0o644); err != nil {
				t.Fatal(err)
			}
			if changed, reads := render(t); !changed || reads != int64(len(files)) {
				t.Fatalf("Update: changed %v, %d files read back; want all %d read and the edit repaired", changed, reads, len(files))
			}
			upToDate(t)
			settle(t) // and the cache is whole again
		})
	}

	// A link in the cache's place is neither read nor written through:
	// the cache is rebuilt in its place and the target keeps its bytes.
	t.Run("cache a link", func(t *testing.T) {
		target := filepath.Join(t.TempDir(), "target")
		if err := os.WriteFile(target, []byte("keep\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(cache); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, cache); err != nil {
			t.Fatal(err)
		}
		if changed, reads := render(t); changed || reads != int64(len(files)) {
			t.Fatalf("Update: changed %v, %d files read back; want all %d read, none changed", changed, reads, len(files))
		}
		if data, err := os.ReadFile(target); err != nil || string(data) != "keep\n" {
			t.Fatalf("the link's target: %q, %v", data, err)
		}
		if st, err := os.Lstat(cache); err != nil || !st.Mode().IsRegular() {
			t.Fatalf("the cache after a render: %v, %v; want a regular file", st, err)
		}
		settle(t)
	})

	// The cache describes files by their lstat and is consulted only for
	// names the walk found as regular files below directories it opened
	// without following a link: a directory moved out and linked back (its
	// files keep their inodes and stamps) is refused, never followed.
	t.Run("link", func(t *testing.T) {
		outside := t.TempDir()
		moved := filepath.Join(outside, "etc")
		if err := os.Rename(filepath.Join(root, "etc"), moved); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(moved, filepath.Join(root, "etc")); err != nil {
			t.Fatal(err)
		}
		o, err := OpenOut(dir, "f", true)
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.Update(h.Name, files)
		o.Close()
		if !errors.Is(err, safefile.ErrLink) {
			t.Fatalf("Update through a linked directory: %v; want the link refused", err)
		}
		if o.reads.Load() != 0 {
			t.Fatalf("%d files read through the link", o.reads.Load())
		}
		// A file moved out and linked back in its place likewise.
		if err := os.Remove(filepath.Join(root, "etc")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(moved, filepath.Join(root, "etc")); err != nil {
			t.Fatal(err)
		}
		away := filepath.Join(outside, "file")
		if err := os.Rename(p, away); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(away, p); err != nil {
			t.Fatal(err)
		}
		o, err = OpenOut(dir, "f", true)
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.Update(h.Name, files)
		o.Close()
		if !errors.Is(err, safefile.ErrLink) {
			t.Fatalf("Update over a linked file: %v; want the link refused", err)
		}
		if data, err := os.ReadFile(away); err != nil || !bytes.Equal(data, files[1].Data) {
			t.Fatalf("the link's target changed: %v", err)
		}
	})
}

// TestUpdateStatCacheConcurrent updates every example host through one
// Out from parallel goroutines, as ecsnet render does, twice: the second
// time (once the cache is older than the files) nothing is read back.
func TestUpdateStatCacheConcurrent(t *testing.T) {
	hosts := exampleHosts(t)
	bundles := make([][]File, len(hosts))
	for i, h := range hosts {
		var err error
		if bundles[i], err = ForHost(h); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	renderAll := func(t *testing.T) (int64, int64) {
		t.Helper()
		o, err := OpenOut(dir, "f", true)
		if err != nil {
			t.Fatal(err)
		}
		var changed atomic.Int64
		errs := make(chan error, len(hosts))
		for i, h := range hosts {
			go func() {
				c, err := o.Update(h.Name, bundles[i])
				if c {
					changed.Add(1)
				}
				errs <- err
			}()
		}
		for range hosts {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
		return changed.Load(), o.reads.Load()
	}
	if changed, _ := renderAll(t); changed != int64(len(hosts)) {
		t.Fatalf("first render changed %d of %d hosts", changed, len(hosts))
	}
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		changed, reads := renderAll(t)
		if changed != 0 {
			t.Fatalf("re-render changed %d hosts", changed)
		}
		if reads == 0 {
			return
		}
	}
	t.Fatal("every re-render reads files back")
}
