package plan

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// exampleFleet loads the example fleet, or skips when it cannot.
func exampleFleet(tb testing.TB) *schema.Fleet {
	tb.Helper()
	f, err := schema.Load([]string{filepath.Join("..", "fixtures", "example", "fleet.cue")}, schema.LoadOptions{})
	if err != nil {
		tb.Skipf("example fleet: %v", err)
	}
	return f
}

// FuzzReadSnapshot reads arbitrary bytes as an `ecsnet observe` snapshot,
// which `plan --observed` and `render --observed` take from the user. It
// must never panic. A snapshot it accepts writes back to bytes that read
// back to the same bytes, and planning the example fleet against it (with
// and without prune, with an empty lock and with the example's lock) and
// reconciling a lock with it never panic.
func FuzzReadSnapshot(f *testing.F) {
	for _, p := range []string{filepath.Join("testdata", "snapshot.golden")} {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte(`{"format_version":"1","region":"cn-hangzhou","vswitches":[],"instance_types":[],"instances":[],"enis":[]}`))
	fleet := exampleFleet(f)
	var lock *schema.Lock
	if fh, err := os.Open(filepath.Join("..", "fixtures", "example", schema.LockFileName)); err == nil {
		lock, _ = schema.ReadLock(fh, "example lock")
		fh.Close()
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		o, err := ReadSnapshot(bytes.NewReader(src))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := o.WriteJSON(&out); err != nil {
			t.Fatalf("an accepted snapshot does not write: %v", err)
		}
		back, err := ReadSnapshot(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("a written snapshot does not read back: %v\n%s", err, out.Bytes())
		}
		var again bytes.Buffer
		if err := back.WriteJSON(&again); err != nil || !bytes.Equal(out.Bytes(), again.Bytes()) {
			t.Fatalf("the snapshot does not round-trip (%v):\n%s\n---\n%s", err, out.Bytes(), again.Bytes())
		}
		for _, l := range []*schema.Lock{nil, lock} {
			for _, prune := range []bool{false, true} {
				if p, err := Compute(fleet, o, l, Options{Prune: prune}); err == nil {
					if err := WriteText(io.Discard, p, TextOptions{}); err != nil {
						t.Fatalf("a computed plan does not print: %v", err)
					}
				}
			}
			Reconcile(l.Clone(), fleet, o)
		}
	})
}

// FuzzReadJSON reads arbitrary bytes as a saved plan (`plan --save`), which
// `ecsnet show` and `apply --plan` take from a CI artefact. It must never
// panic. A plan it accepts prints as text, markdown and JSON, and its JSON
// is a fixed point: read and written again, it gives the same bytes.
func FuzzReadJSON(f *testing.F) {
	for _, p := range []string{
		filepath.Join("testdata", "format_sample_json.golden"),
		filepath.Join("testdata", "format_empty_json.golden"),
		filepath.Join("testdata", "format_hosts_json.golden"),
		filepath.Join("..", "fixtures", "example", "want", "plan", "scratch.json"),
		filepath.Join("testdata", "saved_v1.json"), // format_version 1
	} {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := ReadJSON(bytes.NewReader(src))
		if err != nil {
			return
		}
		if err := WriteText(io.Discard, p, TextOptions{}); err != nil {
			t.Fatalf("an accepted plan does not print as text: %v", err)
		}
		if err := WriteMarkdown(io.Discard, p, MarkdownOptions{}); err != nil {
			t.Fatalf("an accepted plan does not print as markdown: %v", err)
		}
		var out bytes.Buffer
		if err := WriteJSON(&out, p); err != nil {
			t.Fatalf("an accepted plan does not write: %v", err)
		}
		back, err := ReadJSON(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("a written plan does not read back: %v\n%s", err, out.Bytes())
		}
		var again bytes.Buffer
		if err := WriteJSON(&again, back); err != nil || !bytes.Equal(out.Bytes(), again.Bytes()) {
			t.Fatalf("the plan does not round-trip (%v):\n%s\n---\n%s", err, out.Bytes(), again.Bytes())
		}
	})
}
