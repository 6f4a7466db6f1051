package schema

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLockVSwitches: the vSwitch blocks a lock records round-trip, sorted
// by ID; a lock without them (every lock written before) reads as before
// and is written back byte for byte; a bad entry is refused with the
// entry named.
func TestLockVSwitches(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("..", "fixtures", "example", LockFileName))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ReadLock(bytes.NewReader(old), "old.json")
	if err != nil {
		t.Fatal(err)
	}
	if l.VSwitches != nil {
		t.Errorf("a lock without vswitches read as %v", l.VSwitches)
	}
	if got := MarshalLock(l); !bytes.Equal(got, old) {
		t.Errorf("a lock with no blocks to record is not written back byte for byte")
	}

	l.VSwitches = map[string]netip.Prefix{
		"vsw-b": netip.MustParsePrefix("172.16.3.0/24"),
		"vsw-a": netip.MustParsePrefix("172.16.0.0/25"),
	}
	out := MarshalLock(l)
	want := `"fleet": "shop-prod",
  "vswitches": {
    "vsw-a": "172.16.0.0/25",
    "vsw-b": "172.16.3.0/24"
  },
  "enis": [`
	if !bytes.Contains(out, []byte(want)) {
		t.Errorf("written lock lacks\n%s\ngot:\n%.400s", want, out)
	}
	back, err := ReadLock(bytes.NewReader(out), "new.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(back.VSwitches) != 2 || back.VSwitches["vsw-a"] != l.VSwitches["vsw-a"] || back.VSwitches["vsw-b"] != l.VSwitches["vsw-b"] {
		t.Errorf("read back %v, want %v", back.VSwitches, l.VSwitches)
	}
	if !bytes.Equal(MarshalLock(back), out) {
		t.Error("a read lock is not written back byte for byte")
	}
	c := back.Clone()
	c.VSwitches["vsw-a"] = netip.MustParsePrefix("10.0.0.0/8")
	if back.VSwitches["vsw-a"] == c.VSwitches["vsw-a"] {
		t.Error("Clone shares the vSwitch map")
	}

	for _, bad := range []string{`{"vsw-a": "172.16.0.1/24"}`, `{"vsw-a": "fe80::/64"}`, `{"vsw-a": "nonsense"}`, `{"": "10.0.0.0/24"}`, `{"vsw-a": 24}`} {
		src := `{"format_version": 2, "fleet": "x", "vswitches": ` + bad + `, "enis": []}`
		if _, err := ReadLock(strings.NewReader(src), "bad.json"); err == nil {
			t.Errorf("vswitches %s accepted", bad)
		} else if !strings.Contains(err.Error(), "bad.json") {
			t.Errorf("vswitches %s: error %q does not name the lock", bad, err)
		}
	}
}
