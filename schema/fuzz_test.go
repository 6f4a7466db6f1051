package schema

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/testfleet"
)

// fuzzSyntaxes are the file names FuzzLoad writes its input to, by the
// syntax byte modulo their number.
var fuzzSyntaxes = []string{"fleet.cue", "fleet.json", "fleet.yaml"}

// FuzzLoad loads arbitrary bytes as a CUE, JSON or YAML desired state. It
// must never panic, and when it refuses the input every error must carry
// a position (line and column) in the input file, the only file there is.
// A fleet it accepts must load again to the same fleet. The seeds are the
// example fleet, small generated fleets in each syntax (one with IPv6 and
// prefixes), and every case of
// fixtures/invalid, and the inputs that expand out of proportion
// (hostile_test.go); the committed corpus in testdata/fuzz/FuzzLoad adds
// hand-written hostile inputs. CUE that needs the evaluator runs in a
// sandbox with small caps, as the command runs it, so that no input the
// fuzzer finds can hang or exhaust the machine.
func FuzzLoad(f *testing.F) {
	if src, err := os.ReadFile(filepath.Join("..", "fixtures", "example", "fleet.cue")); err == nil {
		f.Add(src, uint8(0))
	}
	for i, syn := range []string{"cue", "json", "yaml"} {
		f.Add(testfleet.Generate(testfleet.Options{Instances: 2, Format: syn, Seed: 1}), uint8(i))
		// Three instances: one dual-stack ENI and one with a prefix.
		f.Add(testfleet.Generate(testfleet.Options{Instances: 3, Format: syn, Seed: 1, DualStack: true}), uint8(i))
	}
	invalid := filepath.Join("..", "fixtures", "invalid")
	ents, err := os.ReadDir(invalid)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range ents {
		for i, name := range fuzzSyntaxes {
			ext := filepath.Ext(name)
			if filepath.Ext(e.Name()) == ext || ext == ".yaml" && filepath.Ext(e.Name()) == ".yml" {
				src, err := os.ReadFile(filepath.Join(invalid, e.Name()))
				if err != nil {
					f.Fatal(err)
				}
				f.Add(src, uint8(i))
			}
		}
	}
	f.Add([]byte(yamlAliasBomb(40000, 2048)), uint8(2))
	f.Add([]byte(cueDisjunctions(20)), uint8(0))
	f.Add([]byte(cueHugeRange()), uint8(0))
	f.Add([]byte(cueDoubling(22)), uint8(0))
	opts := LoadOptions{Sandbox: testSandbox(1<<30, 2*time.Second)}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte, syntax uint8) {
		p := filepath.Join(dir, fuzzSyntaxes[int(syntax)%len(fuzzSyntaxes)])
		if err := os.WriteFile(p, src, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(p)
		fl, err := Load([]string{p}, opts)
		if err == nil {
			again, err := Load([]string{p}, opts)
			if err != nil || again.Name != fl.Name || len(again.Instances) != len(fl.Instances) || len(again.ENIs) != len(fl.ENIs) {
				t.Fatalf("an accepted input loads differently the second time: %v", err)
			}
			return
		}
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Fatalf("Load returned %T %v, not a list of positioned errors", err, err)
		}
		for _, e := range es {
			if e.Pos.File != p || e.Pos.Line < 1 || e.Pos.Col < 1 {
				t.Errorf("an error without a position in %s: %+v (%v)", p, e.Pos, e)
			}
			if e.Msg == "" || strings.ContainsRune(e.Msg, 0) {
				t.Errorf("an error with an empty or binary message: %q", e.Msg)
			}
		}
	})
}

// FuzzReadLock parses arbitrary bytes as a lock file. It must never panic;
// a lock it accepts must write back to bytes that read back to the same
// bytes (the format is stable), and its entries must be sorted and
// unique, as Lock's look-ups assume.
func FuzzReadLock(f *testing.F) {
	if src, err := os.ReadFile(filepath.Join("..", "fixtures", "example", LockFileName)); err == nil {
		f.Add(src)
	}
	f.Add([]byte(`{"format_version":1,"fleet":"x","enis":[]}`))
	f.Add([]byte(`{"format_version":1,"fleet":"x","enis":[{"instance":"a","id":"eni-1","device_index":0,"primary_ip":"10.0.0.1","secondary_ips":[{"ip":"10.0.0.3","added_by_ecsnet":true},{"ip":"10.0.0.2","added_by_ecsnet":false}],"generation":3}]}`))
	f.Add([]byte(`{"format_version":2,"fleet":"x","enis":[{"instance":"a","id":"eni-1","device_index":0,"primary_ip":"10.0.0.1","secondary_ips":["10.0.0.2", "10.0.0.3"],"found_ips":["10.0.0.2"],"generation":3}]}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		l, err := ReadLock(bytes.NewReader(src), "fuzz.lock.json")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.lock.json") {
				t.Errorf("the error does not name the lock file: %v", err)
			}
			return
		}
		for i := 1; i < len(l.ENIs); i++ {
			if l.ENIs[i-1].Key() >= l.ENIs[i].Key() {
				t.Fatalf("entries not sorted and unique: %s then %s", l.ENIs[i-1].Key(), l.ENIs[i].Key())
			}
		}
		for _, e := range l.ENIs {
			if got := l.find(e.Key()); got != e {
				t.Fatalf("look-up of %s finds %v", e.Key(), got)
			}
		}
		out := MarshalLock(l)
		back, err := ReadLock(bytes.NewReader(out), "again")
		if err != nil {
			t.Fatalf("a lock written from an accepted one does not read back: %v\n%s", err, out)
		}
		if again := MarshalLock(back); !bytes.Equal(out, again) {
			t.Fatalf("the lock does not round-trip:\n%s\n---\n%s", out, again)
		}
	})
}
