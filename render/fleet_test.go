package render

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hostDirs returns the directories under dir that are not dot-entries.
func hostDirs(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestWriteFleet: WriteFleet (rendering as it writes) and Fleet then
// WriteBundles write the same hosts; a second write changes nothing; a
// host the fleet no longer has is removed, and a directory it never
// recorded is not; with hosts missing from the lock nothing is pruned.
func TestWriteFleet(t *testing.T) {
	f, full, before := exampleBeforeApply(t)
	a, b := t.TempDir(), t.TempDir()
	w, missing, err := WriteFleet(a, f, full)
	if err != nil || missing != nil {
		t.Fatalf("WriteFleet: %v, %v", missing, err)
	}
	if w.Hosts != len(f.Instances) || w.Changed != w.Hosts {
		t.Errorf("first write: %+v, want %d hosts all changed", w, len(f.Instances))
	}
	bundles, missing, err := Fleet(f, full)
	if err != nil || missing != nil {
		t.Fatalf("Fleet: %v, %v", missing, err)
	}
	if n, err := WriteBundles(b, f.Name, bundles, true); err != nil || n != len(bundles) {
		t.Fatalf("WriteBundles: %d, %v", n, err)
	}
	for _, h := range hostDirs(t, a) {
		o, err := OpenOut(b, f.Name, false)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := o.Changes(h, bundles[h])
		o.Close()
		if err != nil || len(cs) != 0 {
			t.Errorf("%s: WriteBundles' tree differs from the render: %v %v", h, cs, err)
		}
	}
	if got, want := hostDirs(t, a), hostDirs(t, b); !slices.Equal(got, want) {
		t.Errorf("hosts %v and %v", got, want)
	}
	if w, _, err := WriteFleet(a, f, full); err != nil || w.Changed != 0 {
		t.Errorf("second write: %+v, %v; want nothing changed", w, err)
	}

	if err := os.Mkdir(filepath.Join(a, "by-hand"), 0o755); err != nil {
		t.Fatal(err)
	}
	gone := f.Instances[0].Name
	smaller := *f
	smaller.Instances = f.Instances[1:]
	if _, missing, err := WriteFleet(a, &smaller, before); err != nil || missing == nil {
		t.Fatalf("with hosts missing: %v, %v; want a MissingError", missing, err)
	}
	if !slices.Contains(hostDirs(t, a), gone) {
		t.Errorf("%s removed by an incomplete render", gone)
	}
	w, missing, err = WriteFleet(a, &smaller, full)
	if err != nil || missing != nil || w.Changed != 1 {
		t.Fatalf("smaller fleet: %+v, %v, %v; want the one removal", w, missing, err)
	}
	got := hostDirs(t, a)
	if slices.Contains(got, gone) || !slices.Contains(got, "by-hand") {
		t.Errorf("after pruning: %v; want %s gone and by-hand kept", got, gone)
	}
}

// TestCheckOutDir: the output directory may not be the root, the home
// directory, a repository's root or hold an input, under any spelling.
func TestCheckOutDir(t *testing.T) {
	base := t.TempDir()
	home := filepath.Join(base, "home")
	repo := filepath.Join(base, "repo")
	for _, d := range []string{home, filepath.Join(repo, ".git"), filepath.Join(base, "fleet")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(base, link); err != nil {
		t.Fatal(err)
	}
	inputs := []Input{{What: "the desired state", Path: filepath.Join(base, "fleet", "a.cue")}, {What: "the snapshot", Path: ""}}
	for out, why := range map[string]string{
		string(filepath.Separator):   "the root of the file system",
		home:                         "your home directory",
		filepath.Join(link, "home"):  "your home directory",
		repo:                         "the root of a repository",
		filepath.Join(base, "fleet"): "holds the desired state",
		link:                         "holds the desired state",
	} {
		err := CheckOutDir(out, inputs, home)
		if err == nil || !strings.Contains(err.Error(), why) || !strings.HasPrefix(err.Error(), "--out "+out+": ") {
			t.Errorf("%s: %v; want refused: %s", out, err, why)
		}
	}
	if err := CheckOutDir(filepath.Join(base, "rendered"), inputs, home); err != nil {
		t.Errorf("a directory of its own: %v", err)
	}
}
