package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
