package main

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// TestE2EPreviewFields is issue 14's "done when" for the preview fields:
// whether or not the account sees Attachment.DeviceIndex (an invitational
// preview the API reference says general users do not get), the example
// fleet applies and converges, every host renders, and the lock and the
// render are the same byte for byte. The fleet gains a second ENI on
// web-1, so that two attaches to one instance race in one apply, and db-1
// has an ENI ecsnet does not own at the cloud's device index 1: the slots
// are ecsnet's, so db-1-repl is at 1, whatever the cloud's index.
func TestE2EPreviewFields(t *testing.T) {
	type outcome struct {
		lock   []byte
		render map[string]string
	}
	var got []outcome
	for _, preview := range []bool{false, true} {
		c := newE2E(t, func(w *emulator.World) { w.PreviewFields = &preview })
		c.edit(`	// An unbound spare:`, `	"web-1-more": {
		vswitch:        "data-h"
		securityGroups: ["web"]
		secondaryIps: ["172.16.2.23"]
		attachTo: "web-1"
	}
	// An unbound spare:`)
		c.apply()
		c.converged(nil)
		c.must(exitOK, "plan", "--detailed-exitcode", c.dir)
		lock, err := os.ReadFile(c.lockPath())
		if err != nil {
			t.Fatal(err)
		}
		l := c.lock()
		for name, want := range map[string]int{"db-1-repl": 1, "web-1-data": 1, "web-1-more": 2, "vip": 1, "spare-1": 0} {
			if e := l.Secondary(name); e == nil || e.DeviceIndex != want {
				t.Errorf("preview fields %t: %s: lock %+v, want slot %d", preview, name, e, want)
			}
		}
		out := filepath.Join(t.TempDir(), "out")
		e, stdout, stderr := c.env("")
		if code := run([]string{"render", "--out", out, c.dir}, e); code != exitOK {
			t.Fatalf("preview fields %t: render: exit %d\n%s%s", preview, code, stdout, stderr)
		}
		files := map[string]string{}
		err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(out, p)
			if strings.HasPrefix(d.Name(), ".") && d.IsDir() {
				return filepath.SkipDir // render's own bookkeeping
			}
			if d.IsDir() || strings.HasPrefix(rel, ".") {
				return nil
			}
			data, err := os.ReadFile(p)
			files[rel] = string(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		hosts := map[string]bool{}
		for p := range files {
			hosts[strings.Split(p, string(filepath.Separator))[0]] = true
		}
		if len(hosts) != 10 {
			t.Errorf("preview fields %t: rendered %d hosts, want the example's 10: %v", preview, len(hosts), slices.Sorted(maps.Keys(hosts)))
		}
		got = append(got, outcome{lock, files})
	}
	if !bytes.Equal(got[0].lock, got[1].lock) {
		t.Errorf("the lock depends on the preview fields:\n--- without\n%s\n--- with\n%s", got[0].lock, got[1].lock)
	}
	if !maps.Equal(got[0].render, got[1].render) {
		for p, a := range got[0].render {
			if got[1].render[p] != a {
				t.Errorf("the render of %s depends on the preview fields", p)
			}
		}
		if len(got[0].render) != len(got[1].render) {
			t.Errorf("the render has %d files without the preview fields, %d with", len(got[0].render), len(got[1].render))
		}
	}
}
