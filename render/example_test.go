package render

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/schema"
)

const (
	exampleFleet = "../fixtures/example/fleet.cue"
	exampleLock  = "../fixtures/example/ecsnet.lock.json"
	exampleWant  = "../fixtures/example/want/hosts"
)

// exampleHosts loads the example fleet with its committed lock.
func exampleHosts(t testing.TB) []*Host {
	t.Helper()
	f, err := schema.Load([]string{exampleFleet}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lock, err := schema.ReadLockFile(exampleLock)
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := Hosts(f, lock)
	if err != nil {
		t.Fatalf("the example lock lacks data: %v", err)
	}
	return hosts
}

// TestExampleLock keeps the committed lock in the form ecsnet writes, so a
// hand edit that the real writer would reorder shows up here.
func TestExampleLock(t *testing.T) {
	data, err := os.ReadFile(exampleLock)
	if err != nil {
		t.Fatal(err)
	}
	l, err := schema.ReadLock(bytes.NewReader(data), exampleLock)
	if err != nil {
		t.Fatal(err)
	}
	if got := schema.MarshalLock(l); !bytes.Equal(got, data) {
		t.Errorf("%s is not in the form schema.MarshalLock writes; rewrite it with MarshalLock", exampleLock)
	}
	if l.Fleet != "shop-prod" {
		t.Errorf("lock fleet %q", l.Fleet)
	}
}

// TestExampleGolden renders every Linux host of the example fleet and
// compares its bundle with fixtures/example/want/hosts/<instance>/.
// Windows hosts are compared once their renderer exists.
func TestExampleGolden(t *testing.T) {
	for _, h := range exampleHosts(t) {
		t.Run(h.Name, func(t *testing.T) {
			files, err := ForHost(h)
			if h.Stack == schema.StackWindows && err != nil {
				t.Skipf("no Windows renderer yet: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]byte{}
			for _, f := range files {
				got[f.Path] = f.Data
			}
			golden.CheckTree(t, filepath.Join(exampleWant, h.Name), got)
			again, err := ForHost(h)
			if err != nil {
				t.Fatal(err)
			}
			if !sameFiles(files, again) {
				t.Error("a second render of the same host differs")
			}
		})
	}
}

func sameFiles(a, b []File) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Path != b[i].Path || a[i].Mode != b[i].Mode || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}
