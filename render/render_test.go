package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"

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
