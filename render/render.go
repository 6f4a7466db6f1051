package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ecsnet/ecsnet/schema"
)

// File is one file of a host's bundle. Path is slash-separated and relative
// to the bundle: guest files sit at their real guest path (etc/...), the
// apply script and the manifest at the top.
type File struct {
	Path string
	Mode fs.FileMode
	Data []byte
}

// ManifestName is the bundle's index of files.
const ManifestName = "manifest.json"

// ForHost renders one host's bundle: its configuration files, an apply
// script and the manifest. It never writes to disk, runs a tool or reads
// the environment.
func ForHost(h *Host) ([]File, error) {
	var files []File
	var err error
	switch h.Stack {
	case schema.StackIfcfg:
		files, err = ifcfg(h)
	case schema.StackNetworkManager:
		files, err = nmKeyfile(h)
	case schema.StackIfupdown:
		files, err = ifupdown(h)
	case schema.StackNetplan:
		files, err = netplan(h)
	case schema.StackWicked:
		files, err = wicked(h)
	case schema.StackNetworkd:
		files, err = networkd(h)
	case schema.StackIproute2:
		files, err = iproute2(h)
	case schema.StackWindows:
		files, err = powershell(h)
	default:
		return nil, fmt.Errorf("render %s: no renderer for network stack %q", h.Name, h.Stack)
	}
	if err != nil {
		return nil, fmt.Errorf("render %s (%s): %w", h.Name, h.Stack, err)
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	for i := 1; i < len(files); i++ {
		if files[i].Path == files[i-1].Path {
			return nil, fmt.Errorf("render %s: %s rendered twice", h.Name, files[i].Path)
		}
	}
	return append(files, File{Path: ManifestName, Mode: 0o644, Data: manifest(h, files)}), nil
}

// manifest is the bundle's index: for each file its path, mode, sha256
// and size, as indented JSON with keys in a fixed order. It is written by
// hand rather than with encoding/json (a large share of a fleet's render
// time); TestManifestJSON holds it to the bytes encoding/json writes. The
// size lets a re-render find an unchanged host from the manifest and one
// stat per file (Update).
func manifest(h *Host, files []File) []byte {
	n := 160 + len(h.Name) + len(h.InstanceID) + len(h.OS) + len(h.Stack)
	for _, f := range files {
		n += 160 + len(f.Path)
	}
	b := newText(n)
	b.str("{\n  \"format_version\": \"1\",\n  \"instance\": ")
	b.jsonString(h.Name)
	b.str(",\n  \"instance_id\": ")
	b.jsonString(h.InstanceID)
	b.str(",\n  \"os\": ")
	b.jsonString(string(h.OS))
	b.str(",\n  \"stack\": ")
	b.jsonString(string(h.Stack))
	b.str(",\n  \"files\": [")
	for i, f := range files {
		if i > 0 {
			b.byte(',')
		}
		sum := sha256.Sum256(f.Data)
		b.str("\n    {\n      \"path\": ")
		b.jsonString(f.Path)
		b.str(",\n      \"mode\": \"")
		b.mode(uint32(f.Mode.Perm()))
		b.str("\",\n      \"sha256\": \"")
		b.b = hex.AppendEncode(b.b, sum[:])
		b.str("\",\n      \"size\": ")
		b.int(len(f.Data))
		b.str("\n    }")
	}
	if len(files) > 0 {
		b.str("\n  ")
	}
	b.str("]\n}\n")
	return b.bytes()
}

// WriteHost writes one host's bundle under dir/<host>/, replacing what was
// there. Files whose bytes and mode are unchanged are not rewritten, so an
// unchanged host keeps its timestamps; files the bundle no longer has are
// removed.
func WriteHost(dir, host string, files []File) error {
	_, err := writeHost(dir, host, files)
	return err
}

// Update brings dir/<host>/ to the bundle, as WriteHost does, and reports
// whether it changed anything. A host whose manifest.json holds the
// bundle's manifest byte for byte, and whose every listed file is a regular
// file of the listed size and mode, is taken as current without reading
// its files: re-rendering a large fleet after one instance changed then
// costs one read and one stat per file of each unchanged host instead of
// reading every file back. The price: a file edited in place to the same
// size, or an extra file dropped into the directory, is not noticed by
// Update; Check (render --check, the pull-request guard) compares every
// byte and the set of files. Any other host is written with WriteHost,
// which rewrites only the files that differ, so files that did not change
// keep their timestamps.
func Update(dir, host string, files []File) (bool, error) {
	if current(filepath.Join(dir, host), files) {
		return false, nil
	}
	return writeHost(dir, host, files)
}

// current reports whether root holds the bundle's manifest and files of
// the listed sizes and modes (see Update).
func current(root string, files []File) bool {
	var man *File
	for i := range files {
		if files[i].Path == ManifestName {
			man = &files[i]
		}
	}
	if man == nil || !sameFile(filepath.Join(root, ManifestName), *man, true) {
		return false
	}
	for _, f := range files {
		if f.Path == ManifestName {
			continue
		}
		if !fs.ValidPath(f.Path) || !sameFile(filepath.Join(root, filepath.FromSlash(f.Path)), f, false) {
			return false
		}
	}
	return true
}

// sameFile reports whether p is a regular file with f's size and mode
// and, when read is set, f's bytes.
func sameFile(p string, f File, read bool) bool {
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() || st.Size() != int64(len(f.Data)) || st.Mode().Perm() != f.Mode.Perm() {
		return false
	}
	if !read {
		return true
	}
	old, err := os.ReadFile(p)
	return err == nil && bytes.Equal(old, f.Data)
}

func writeHost(dir, host string, files []File) (bool, error) {
	for _, f := range files {
		if !fs.ValidPath(f.Path) {
			return false, fmt.Errorf("write %s: bad path %q", host, f.Path)
		}
	}
	root := filepath.Join(dir, host)
	fresh, err := makeRoot(root)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", host, err)
	}
	if fresh {
		// Nothing to compare and nothing stale: write the files, making
		// each directory once (a first render writes every host so).
		made := map[string]bool{root: true}
		for _, f := range files {
			p := filepath.Join(root, filepath.FromSlash(f.Path))
			if d := filepath.Dir(p); !made[d] {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return true, fmt.Errorf("write %s: %w", host, err)
				}
				made[d] = true
			}
			if err := writeFileMode(p, f); err != nil {
				return true, fmt.Errorf("write %s: %w", host, err)
			}
		}
		return true, nil
	}
	want := make(map[string]bool, len(files))
	changed := false
	for _, f := range files {
		want[f.Path] = true
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		if sameFile(p, f, true) {
			continue
		}
		changed = true
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return changed, fmt.Errorf("write %s: %w", host, err)
		}
		if err := writeFileMode(p, f); err != nil {
			return changed, fmt.Errorf("write %s: %w", host, err)
		}
	}
	stale, err := treeFiles(root)
	if err != nil {
		return changed, fmt.Errorf("write %s: %w", host, err)
	}
	for _, p := range stale {
		if !want[p] {
			changed = true
			if err := os.Remove(filepath.Join(root, filepath.FromSlash(p))); err != nil {
				return changed, fmt.Errorf("write %s: %w", host, err)
			}
		}
	}
	return changed, nil
}

// makeRoot creates a host's directory (and dir, if need be) and reports
// whether it is new; an existing one is left as it is.
func makeRoot(root string) (bool, error) {
	err := os.Mkdir(root, 0o755)
	if errors.Is(err, fs.ErrNotExist) {
		err = os.MkdirAll(root, 0o755)
	}
	if errors.Is(err, fs.ErrExist) {
		if st, serr := os.Stat(root); serr == nil && st.IsDir() {
			return false, nil
		}
	}
	return err == nil, err
}

// writeFileMode writes f at p with exactly f's mode: set on the open file, as
// neither the umask nor an existing file's mode may decide it.
func writeFileMode(p string, f File) error {
	fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, f.Mode.Perm())
	if err != nil {
		return err
	}
	_, err = fh.Write(f.Data)
	if err == nil {
		err = fh.Chmod(f.Mode.Perm())
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}

// Change is one file of a host that a render would add, change or remove.
type Change struct {
	Path string // relative to the host's directory
	Kind byte   // '+' added, '~' changed, '-' removed
	Old  []byte
	New  []byte
}

// Changes compares one host's bundle with what dir/<host>/ holds.
func Changes(dir, host string, files []File) ([]Change, error) {
	root := filepath.Join(dir, host)
	have, err := treeFiles(root)
	if err != nil {
		return nil, err
	}
	want := map[string]File{}
	names := slices.Clone(have)
	for _, f := range files {
		want[f.Path] = f
		if !slices.Contains(names, f.Path) {
			names = append(names, f.Path)
		}
	}
	slices.Sort(names)
	var out []Change
	for _, p := range names {
		f, wanted := want[p]
		old, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		exists := err == nil
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		switch {
		case !wanted:
			out = append(out, Change{Path: p, Kind: '-', Old: old})
		case !exists:
			out = append(out, Change{Path: p, Kind: '+', New: f.Data})
		case !bytes.Equal(old, f.Data):
			out = append(out, Change{Path: p, Kind: '~', Old: old, New: f.Data})
		}
	}
	return out, nil
}

// treeFiles lists the files under root, slash-separated and relative.
func treeFiles(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) && p == root {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	slices.Sort(out)
	return out, err
}

// Check compares the bundles with what dir holds and returns a unified
// diff of every difference (missing, extra or changed files, and host
// directories the fleet no longer has); empty when dir is current.
func Check(dir string, bundles map[string][]File) (string, error) {
	var b strings.Builder
	hosts := make([]string, 0, len(bundles))
	for h := range bundles {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for _, host := range hosts {
		changes, err := Changes(dir, host, bundles[host])
		if err != nil {
			return "", err
		}
		for _, c := range changes {
			name := path.Join(host, c.Path)
			switch c.Kind {
			case '-':
				b.WriteString(unifiedDiff("a/"+name, "/dev/null", c.Old, nil))
			case '+':
				b.WriteString(unifiedDiff("/dev/null", "b/"+name, nil, c.New))
			default:
				b.WriteString(unifiedDiff("a/"+name, "b/"+name, c.Old, c.New))
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return "", err
	}
	for _, e := range entries {
		if e.IsDir() && bundles[e.Name()] == nil {
			fmt.Fprintf(&b, "Only in %s: %s (no such instance in the desired state)\n", dir, e.Name())
		}
	}
	return b.String(), nil
}
