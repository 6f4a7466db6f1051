package render

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
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
	files, err := stackFiles(h)
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
// time); TestManifestJSON holds it to the bytes encoding/json writes.
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
// removed. No symbolic link below dir is followed (see Out).
func WriteHost(dir, host string, files []File) error {
	_, err := Update(dir, host, files)
	return err
}

// Update brings dir/<host>/ to the bundle, as WriteHost does, and reports
// whether it changed anything. It judges a file current by the bytes
// Check compares (every file is read back) and its mode, and removes files
// the bundle does not have, so render repairs whatever render --check
// flags, a same-size hand edit included. It keeps no stat cache (each
// call would read and write the whole directory's): Out.Update, on an Out
// opened once for every host as ecsnet render does, reads back only the
// files whose stat changed.
func Update(dir, host string, files []File) (bool, error) {
	o, err := openOut(dir, "", true, false)
	if err != nil {
		return false, err
	}
	defer o.Close()
	return o.Update(host, files)
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
	o, err := OpenOut(dir, "", false)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	return o.Changes(host, files)
}

// Check compares the bundles with what dir holds and returns a unified
// diff of every difference (missing, extra or changed files); empty when
// dir is current. Without a fleet name it lists no host directory to
// remove: Out.Check does.
func Check(dir string, bundles map[string][]File) (string, error) {
	o, err := OpenOut(dir, "", false)
	if err != nil {
		return "", err
	}
	defer o.Close()
	return o.Check(bundles)
}

// stackFiles renders h's bundle by its stack, without the manifest.
func stackFiles(h *Host) ([]File, error) {
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
	return files, err
}
