package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/render"
)

// exampleFleet copies the example fleet and its lock into dir/fleet and
// returns that directory.
func exampleFleet(t *testing.T, dir string) string {
	t.Helper()
	fleet := filepath.Join(dir, "fleet")
	if err := os.MkdirAll(fleet, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fleet.cue", "ecsnet.lock.json"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "example", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(fleet, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return fleet
}

// runCLIHome is runCLI with HOME set.
func runCLIHome(t *testing.T, home string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: getenv}
	code = run(args, e)
	return code, out.String(), errb.String()
}

// snapshotTree describes every entry below root (type, mode, bytes or
// link target), so a test can assert that nothing was written or removed.
func snapshotTree(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v", p, st.Mode())
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			fmt.Fprintf(&b, " -> %s", target)
		case st.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&b, " %q", data)
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRenderOutRefused: render refuses an --out that holds its inputs (the
// desired state, the lock), is a repository's root, the home directory or
// /, with exit 1 and a reason, and writes and removes nothing (issue 11
// item 1: `render --out . fleet/` in a repository deleted .git).
func TestRenderOutRefused(t *testing.T) {
	dir := t.TempDir()
	fleet := exampleFleet(t, dir)
	if err := os.MkdirAll(filepath.Join(dir, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "docs", "README"), []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	locks := filepath.Join(dir, "locks")
	if err := os.Mkdir(locks, 0o755); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(locks, "prod.lock.json")
	data, _ := os.ReadFile(filepath.Join(fleet, "ecsnet.lock.json"))
	if err := os.WriteFile(lock, data, 0o644); err != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, linked); err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	for _, p := range []string{".git/HEAD", "src/main.go"} {
		if err := os.MkdirAll(filepath.Join(repo, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, p), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".profile"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name  string
		watch string // the tree that must not change
		args  []string
		why   string
	}{
		{"holds the fleet", dir, []string{"--out", dir, fleet}, "holds the desired state " + fleet},
		{"is the fleet directory", dir, []string{"--out", fleet, fleet}, "holds the desired state"},
		{"another spelling", dir, []string{"--out", linked, fleet}, "holds the desired state"},
		{"holds the fleet file", dir, []string{"--out", dir, filepath.Join(fleet, "fleet.cue")}, "holds the desired state"},
		{"holds the lock", dir, []string{"--lock", lock, "--out", locks, fleet}, "holds the lock " + lock},
		{"repository root", repo, []string{"--out", repo, fleet}, "root of a repository"},
		{"home", home, []string{"--out", home, fleet}, "your home directory"},
		{"check too", dir, []string{"--check", "--out", dir, fleet}, "holds the desired state"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := snapshotTree(t, c.watch)
			code, stdout, stderr := runCLIHome(t, home, append([]string{"render"}, c.args...)...)
			if code != exitError || !strings.Contains(stderr, "refusing to render into") || !strings.Contains(stderr, c.why) {
				t.Fatalf("exit %d; want 1 and a refusal naming %q\nstdout: %s\nstderr: %s", code, c.why, stdout, stderr)
			}
			if after := snapshotTree(t, c.watch); after != before {
				t.Errorf("render changed the tree it refused:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
	t.Run("root", func(t *testing.T) {
		// A fleet that does not exist: should the refusal ever regress,
		// render stops at loading it instead of writing into /.
		code, _, stderr := runCLIHome(t, home, "render", "--out", "/", filepath.Join(dir, "no-such-fleet"))
		if code != exitError || !strings.Contains(stderr, "root of the file system") {
			t.Fatalf("exit %d, %s", code, stderr)
		}
	})
}

// TestRenderPrunesOnlyRecorded: render removes only a host directory its
// record lists for this fleet that the fleet dropped; a dot-directory, a
// stray directory, another fleet's host and a host directory nobody
// recorded stay, and render --check lists the removal first (issue 11
// item 1 (b)).
func TestRenderPrunesOnlyRecorded(t *testing.T) {
	dir := t.TempDir()
	fleet := exampleFleet(t, dir)
	out := filepath.Join(dir, "out")
	if code, stdout, stderr := runCLI(t, "render", "--out", out, fleet); code != exitOK {
		t.Fatalf("first render: exit %d\n%s%s", code, stdout, stderr)
	}
	// What others keep in the directory.
	write := func(p, data string) {
		t.Helper()
		p = filepath.Join(out, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".hidden/objects/x", "keep\n")
	write("stray/notes.txt", "keep\n")
	write("other-1/manifest.json", `{"instance": "other-1"}`+"\n")
	write("copied-1/manifest.json", `{"instance": "copied-1"}`+"\n") // a host directory nobody recorded
	// Another fleet rendered into the same directory.
	recPath := filepath.Join(out, render.RecordName)
	var rec map[string]any
	data, err := os.ReadFile(recPath)
	if err == nil {
		err = json.Unmarshal(data, &rec)
	}
	if err != nil {
		t.Fatal(err)
	}
	rec["fleets"].(map[string]any)["other-fleet"] = []string{"other-1"}
	data, _ = json.Marshal(rec)
	write(render.RecordName, string(data))

	// The fleet drops lb-2.
	cue := filepath.Join(fleet, "fleet.cue")
	src, _ := os.ReadFile(cue)
	dropped := regexp.MustCompile(`(?s)\n\t"lb-2": \{.*?\n\t\}`).ReplaceAll(src, nil)
	if bytes.Equal(dropped, src) {
		t.Fatal("lb-2 not found in the example fleet")
	}
	if err := os.WriteFile(cue, dropped, 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, "render", "--check", "--out", out, fleet)
	first, _, _ := strings.Cut(stdout, "\n")
	if code != exitChanges || !strings.HasPrefix(first, "Only in "+out+": lb-2 ") {
		t.Fatalf("--check: exit %d, first line %q; want 2 and lb-2's removal first\n%s%s", code, first, stdout, stderr)
	}
	for _, kept := range []string{".hidden", "stray", "other-1", "copied-1"} {
		if strings.Contains(stdout, kept) {
			t.Errorf("--check lists %s, which render does not touch:\n%s", kept, stdout)
		}
	}

	if code, stdout, stderr := runCLI(t, "render", "--out", out, fleet); code != exitOK || !strings.Contains(stdout, "(1 host changed)") {
		t.Fatalf("render: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "lb-2")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lb-2, dropped from the fleet, is still there: %v", err)
	}
	for _, kept := range []string{".hidden/objects/x", "stray/notes.txt", "other-1/manifest.json", "copied-1/manifest.json", "web-1/manifest.json"} {
		if _, err := os.Stat(filepath.Join(out, kept)); err != nil {
			t.Errorf("render removed %s: %v", kept, err)
		}
	}
	data, _ = os.ReadFile(recPath)
	var got struct{ Fleets map[string][]string }
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(got.Fleets["shop-prod"], "lb-2") || !slices.Contains(got.Fleets["shop-prod"], "lb-1") ||
		!slices.Equal(got.Fleets["other-fleet"], []string{"other-1"}) {
		t.Errorf("record after the render: %s", data)
	}
	if code, stdout, stderr := runCLI(t, "render", "--check", "--out", out, fleet); code != exitOK {
		t.Fatalf("--check after the render: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestRenderSymlinks: a symbolic link inside --out is refused with an
// error naming it; render never writes through it and --check never
// prints its target (issue 11 item 3).
func TestRenderSymlinks(t *testing.T) {
	dir := t.TempDir()
	fleet := exampleFleet(t, dir)
	const secret = "TOP-SECRET-CONTENT\n"
	for _, c := range []struct {
		name string
		link string // below out
		dir  bool   // the link points at a directory
	}{
		{"file", "web-1/manifest.json", false},
		{"config file", "web-1/etc/sysconfig/network-scripts/ifcfg-eth0", false},
		{"directory", "web-1/etc", true},
		{"host directory", "web-1", true},
		{"extra file", "web-1/planted", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			if code, stdout, stderr := runCLI(t, "render", "--out", out, fleet); code != exitOK {
				t.Fatalf("first render: exit %d\n%s%s", code, stdout, stderr)
			}
			outside := t.TempDir()
			target := filepath.Join(outside, "victim")
			if c.dir {
				target = outside
			}
			for _, p := range []string{filepath.Join(outside, "victim"), filepath.Join(outside, "manifest.json"),
				filepath.Join(outside, "sysconfig", "network-scripts", "ifcfg-eth0")} {
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(secret), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			link := filepath.Join(out, filepath.FromSlash(c.link))
			if err := os.RemoveAll(link); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			before := snapshotTree(t, outside)

			code, stdout, stderr := runCLI(t, "render", "--out", out, fleet)
			if code != exitError || !strings.Contains(stderr, "symbolic link") || !strings.Contains(stderr, link) {
				t.Errorf("render: exit %d; want 1 naming the link %s\n%s%s", code, link, stdout, stderr)
			}
			code, stdout, stderr = runCLI(t, "render", "--check", "--out", out, fleet)
			if code != exitError || !strings.Contains(stderr, "symbolic link") {
				t.Errorf("render --check: exit %d; want 1 naming the link\n%s%s", code, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, "TOP-SECRET") {
				t.Errorf("render --check printed the link's target:\n%s%s", stdout, stderr)
			}
			if after := snapshotTree(t, outside); after != before {
				t.Errorf("render wrote through the link:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}
