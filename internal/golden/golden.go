// Package golden compares test output with files committed under testdata
// or fixtures, and rewrites them when tests run with -update.
//
// Every package with tests imports it (a blank import is enough), so that
// `go test ./... -update` never fails with "flag provided but not defined".
// A rewritten golden file is reviewed by eye before it is committed.
package golden

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update is registered once, here, for every test binary that imports the
// package.
var update = flag.Bool("update", false, "rewrite golden files with the output of the tests")

// Updating reports whether the tests run with -update.
func Updating() bool { return *update }

// Check compares got with the golden file at path, byte for byte. With
// -update it writes got to path instead.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run the test with -update to create it): %v", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the output (-want +got); rerun with -update and review the diff:\n%s",
			path, cmp.Diff(string(want), string(got)))
	}
}

// CheckTree compares the files in got (slash-separated relative path ->
// contents) with the tree under dir: missing files, extra files and byte
// differences all fail. With -update it replaces the tree.
func CheckTree(t testing.TB, dir string, got map[string][]byte) {
	t.Helper()
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for name, data := range got {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		want[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatalf("read golden tree (run the test with -update to create it): %v", err)
	}
	names := map[string]bool{}
	for n := range want {
		names[n] = true
	}
	for n := range got {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		w, inWant := want[n]
		g, inGot := got[n]
		switch {
		case !inGot:
			t.Errorf("%s/%s: golden file not produced any more", dir, n)
		case !inWant:
			t.Errorf("%s/%s: produced but not in the golden tree", dir, n)
		case !bytes.Equal(w, g):
			t.Errorf("%s/%s differs (-want +got):\n%s", dir, n, cmp.Diff(string(w), string(g)))
		}
	}
}
