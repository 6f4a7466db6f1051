package safefile

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzNoEscape builds a tree of directories, files and symbolic links
// from the input (lines "D path", "F path", "L path target"; a target
// "@out" is a secret file outside the tree, "@outdir" the directory
// holding it), then reads, replaces, creates and removes every path named
// through a Dir. Whatever the tree, the secret is never returned and
// nothing outside the tree changes.
func FuzzNoEscape(f *testing.F) {
	f.Add("L a @out\nL d @outdir\nD x\nL x/y ../a\nF x/z")
	f.Add("D a\nL a/b ../../outside\nL c a/b\nF e")
	f.Add("L a @outdir\nL b a\nL c b/secret")
	f.Add("D h\nD h/etc\nL h/etc/f @out\nL h/m /etc/passwd")
	f.Fuzz(func(t *testing.T, spec string) {
		outside := t.TempDir()
		secret := filepath.Join(outside, "secret")
		must(t, os.WriteFile(secret, []byte("SECRET\n"), 0o600))
		root := t.TempDir()
		var paths []string
		for _, line := range strings.Split(spec, "\n") {
			fields := strings.Fields(line)
			if len(fields) < 2 || !fs.ValidPath(fields[1]) || fields[1] == "." {
				continue
			}
			p := filepath.Join(root, filepath.FromSlash(fields[1]))
			paths = append(paths, fields[1])
			switch {
			case fields[0] == "D":
				os.MkdirAll(p, 0o755)
			case fields[0] == "F":
				os.WriteFile(p, []byte("file\n"), 0o644)
			case fields[0] == "L" && len(fields) == 3:
				target := fields[2]
				switch target {
				case "@out":
					target = secret
				case "@outdir":
					target = outside
				}
				os.Symlink(target, p)
			}
		}
		d, err := Open(root)
		must(t, err)
		defer d.Close()
		for _, p := range paths {
			if data, err := d.ReadFile(p); err == nil && strings.Contains(string(data), "SECRET") {
				t.Fatalf("ReadFile(%s) read the secret outside", p)
			}
			if sub, _, err := d.Sub(p, false); err == nil {
				if data, err := sub.ReadFile("secret"); err == nil && strings.Contains(string(data), "SECRET") {
					t.Fatalf("Sub(%s).ReadFile(secret) read the secret outside", p)
				}
				sub.Close()
			}
			d.Replace(p, []byte("replaced\n"), 0o644, false)
			d.Replace(p+"/new", []byte("new\n"), 0o644, false)
			d.Create(p+"/created", []byte("new\n"), 0o644)
		}
		for _, p := range paths {
			d.RemoveAll(p)
		}
		entries, err := os.ReadDir(outside)
		if err != nil || len(entries) != 1 {
			t.Fatalf("the outside directory changed: %v, %v", entries, err)
		}
		if data, err := os.ReadFile(secret); err != nil || string(data) != "SECRET\n" {
			t.Fatalf("the secret outside changed: %q, %v", data, err)
		}
	})
}
