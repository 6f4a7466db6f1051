package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// setup returns an opened directory holding a link "out" to a file
// outside it, a link "inside" to a file inside it, a link "sub" to a
// directory outside, and the outside file's path.
func setup(t *testing.T) (*Dir, string, string) {
	t.Helper()
	root := t.TempDir()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	must(t, os.WriteFile(secret, []byte("SECRET\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(root, "real"), []byte("real\n"), 0o644))
	must(t, os.Symlink(secret, filepath.Join(root, "out")))
	must(t, os.Symlink("real", filepath.Join(root, "inside")))
	must(t, os.Symlink(outside, filepath.Join(root, "sub")))
	d, err := Open(root)
	must(t, err)
	t.Cleanup(func() { d.Close() })
	return d, outside, secret
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func unchanged(t *testing.T, secret string) {
	t.Helper()
	data, err := os.ReadFile(secret)
	st, serr := os.Stat(secret)
	if err != nil || serr != nil || string(data) != "SECRET\n" || st.Mode().Perm() != 0o600 {
		t.Errorf("the link's target changed: %q %v, %v %v", data, st.Mode(), err, serr)
	}
}

// TestReadNeverFollows: a link, to outside or inside, at the file or
// among its directories, is an error wrapping ErrLink and naming the path;
// the target's contents are never returned.
func TestReadNeverFollows(t *testing.T) {
	d, _, _ := setup(t)
	for _, rel := range []string{"out", "inside", "sub/secret"} {
		data, err := d.ReadFile(rel)
		if !errors.Is(err, ErrLink) || data != nil {
			t.Errorf("ReadFile(%s) = %q, %v; want an ErrLink error", rel, data, err)
		}
		if err != nil && !strings.Contains(err.Error(), filepath.Join(d.Name(), strings.Split(rel, "/")[0])) {
			t.Errorf("ReadFile(%s): %v does not name the link", rel, err)
		}
	}
	if data, err := d.ReadFile("real"); err != nil || string(data) != "real\n" {
		t.Errorf("ReadFile(real) = %q, %v", data, err)
	}
	if _, err := d.ReadDir("sub"); !errors.Is(err, ErrLink) {
		t.Errorf("ReadDir(sub): %v; want ErrLink", err)
	}
	if _, _, err := d.Sub("sub", true); !errors.Is(err, ErrLink) {
		t.Errorf("Sub(sub): %v; want ErrLink", err)
	}
}

// TestWriteNeverFollows: Replace swaps a link at the name for a regular
// file (the target keeps its bytes and mode), refuses a link among the
// directories, and Create refuses any existing name.
func TestWriteNeverFollows(t *testing.T) {
	d, outside, secret := setup(t)
	if err := d.Replace("out", []byte("new\n"), 0o755, true); err != nil {
		t.Fatal(err)
	}
	unchanged(t, secret)
	st, err := os.Lstat(d.Path("out"))
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o755 {
		t.Errorf("out after Replace: %v, %v; want a regular 0755 file", st.Mode(), err)
	}
	if err := d.Replace("sub/secret", []byte("new\n"), 0o644, false); !errors.Is(err, ErrLink) {
		t.Errorf("Replace through a linked directory: %v; want ErrLink", err)
	}
	if err := d.Create("sub/new", []byte("new\n"), 0o644); !errors.Is(err, ErrLink) {
		t.Errorf("Create through a linked directory: %v; want ErrLink", err)
	}
	must(t, os.Symlink(secret, d.Path("planted")))
	if err := d.Create("planted", []byte("new\n"), 0o644); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over a link: %v; want ErrExist", err)
	}
	unchanged(t, secret)
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Errorf("files appeared outside: %v", entries)
	}
	if left, _ := filepath.Glob(filepath.Join(d.Name(), ".*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestWriteFile: the file gets exactly the mode asked for, whatever the
// umask, through a random temporary name (a link at the old fixed name
// path+".tmp" is not touched), and the directories it needs are made.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	must(t, os.WriteFile(secret, []byte("SECRET\n"), 0o600))
	p := filepath.Join(dir, "plan.json")
	must(t, os.Symlink(secret, p+".tmp"))
	for _, data := range []string{"one\n", "two\n"} {
		if err := WriteFile(p, []byte(data), 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		st, _ := os.Stat(p)
		if err != nil || string(got) != data || st.Mode().Perm() != 0o640 {
			t.Errorf("after WriteFile: %q %v, %v", got, st.Mode(), err)
		}
	}
	unchanged(t, secret)
	d, err := Open(dir)
	must(t, err)
	defer d.Close()
	must(t, d.Replace("a/b/c", []byte("x"), 0o600, false))
	if got, err := d.ReadFile("a/b/c"); err != nil || string(got) != "x" {
		t.Errorf("a/b/c: %q, %v", got, err)
	}
}
