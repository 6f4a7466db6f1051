package schema

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteLockFileLinks: a symbolic link planted where the lock or its
// temporary file would go never redirects the write (issue 11 item 3: a
// link named ecsnet.lock.json.tmp made apply overwrite its target). The
// lock is written through a random temporary name and renamed over the
// path, so the target outside keeps its bytes and mode.
func TestWriteLockFileLinks(t *testing.T) {
	for _, planted := range []string{LockFileName + ".tmp", LockFileName} {
		t.Run(planted, func(t *testing.T) {
			dir := t.TempDir()
			outside := filepath.Join(t.TempDir(), "victim")
			if err := os.WriteFile(outside, []byte("do not touch\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(dir, planted)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, LockFileName)
			l := &Lock{Fleet: "prod"}
			if err := WriteLockFile(path, l); err != nil {
				t.Fatal(err)
			}
			if got, err := os.ReadFile(outside); err != nil || string(got) != "do not touch\n" {
				t.Errorf("the link's target was written: %q, %v", got, err)
			}
			if st, err := os.Stat(outside); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("the link's target changed mode: %v, %v", st.Mode(), err)
			}
			st, err := os.Lstat(path)
			if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o644 {
				t.Fatalf("the lock is not a regular 0644 file: %v, %v", st.Mode(), err)
			}
			got, err := ReadLockFile(path)
			if err != nil || got.Fleet != "prod" {
				t.Fatalf("read back: %+v, %v", got, err)
			}
			left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
			if len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}
