package render

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// TestHostsRefuseBlockTheLockContradicts: with a lock that recorded the
// cloud's /24 for a vSwitch the file writes as /25, Hosts renders nothing
// and reports the file's cidr (the gateway would be .125 instead of .253);
// the example's lock, which records no blocks, renders as before.
func TestHostsRefuseBlockTheLockContradicts(t *testing.T) {
	src, err := os.ReadFile(exampleFleet)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), `cidr: "172.16.3.0/24"`, `cidr: "172.16.3.0/25"`, 1)
	path := filepath.Join(t.TempDir(), "fleet.cue")
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := schema.Load([]string{path}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lock, err := schema.ReadLockFile(exampleLock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Hosts(f, lock); err != nil {
		t.Fatalf("a lock without blocks: %v", err)
	}

	lock.VSwitches = map[string]netip.Prefix{"vsw-bp1data000i": netip.MustParsePrefix("172.16.3.0/24")}
	hosts, err := Hosts(f, lock)
	var es schema.Errors
	if !errors.As(err, &es) || len(es) != 1 || hosts != nil {
		t.Fatalf("Hosts: %d hosts, error %v; want none and one schema error", len(hosts), err)
	}
	if es[0].Pos != f.VSwitch("data-i").CIDRPos || !strings.Contains(es[0].Msg, "gateway 172.16.3.125 instead of 172.16.3.253") {
		t.Errorf("error %v, want one at %s naming both gateways", es[0], f.VSwitch("data-i").CIDRPos)
	}
}
