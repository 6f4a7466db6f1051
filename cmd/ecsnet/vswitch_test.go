package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/schema"
)

// slash25 writes vSwitch data-i as /25 in the e2e fleet, where the
// emulator's world (like the example's cloud) has /24, and returns the
// file:line:col of the cidr value.
func (c *e2e) slash25() string {
	c.t.Helper()
	c.edit(`cidr: "172.16.3.0/24"`, `cidr: "172.16.3.0/25"`)
	src, err := os.ReadFile(c.fleetPath())
	if err != nil {
		c.t.Fatal(err)
	}
	i := strings.Index(string(src), `cidr: "172.16.3.0/25"`) + len("cidr: ")
	line := strings.Count(string(src[:i]), "\n") + 1
	col := i - strings.LastIndex(string(src[:i]), "\n")
	return fmt.Sprintf("%s:%d:%d", c.fleetPath(), line, col)
}

// wantBlockError checks that a command refused the /25 block at its
// position, said what the cloud has, and how to fix it.
func wantBlockError(t *testing.T, what string, code int, stderr, pos string) {
	t.Helper()
	want := pos + `: vswitches."data-i".cidr: cidr 172.16.3.0/25 differs from the cloud's 172.16.3.0/24`
	if code != exitError || !strings.Contains(stderr, want) ||
		!strings.Contains(stderr, "gateway 172.16.3.125 instead of 172.16.3.253") ||
		!strings.Contains(stderr, `hint: write the cloud's block, cidr: "172.16.3.0/24"`) {
		t.Errorf("%s: exit %d, want 1 with\n%s\nand a hint; stderr:\n%s", what, code, want, stderr)
	}
}

// TestE2EVSwitchBlockDiffers (issue 11 item 5): with /25 in the file and
// /24 in the cloud, plan, apply and plan --observed fail at the file's
// cidr, and nothing in the cloud changes.
func TestE2EVSwitchBlockDiffers(t *testing.T) {
	c := newE2E(t, nil)
	pos := c.slash25()
	if code, out, errs := runCLI(t, "validate", c.dir); code != exitOK {
		t.Fatalf("validate (which cannot see the cloud): exit %d\n%s\n%s", code, out, errs)
	}

	code, _, errs := c.run("plan", c.dir)
	wantBlockError(t, "plan", code, errs, pos)
	c.wantCalls(nil)

	code, _, errs = c.run("apply", "--auto-approve", c.dir)
	wantBlockError(t, "apply", code, errs, pos)
	c.wantCalls(nil)
	if _, err := os.Stat(c.lockPath()); err == nil {
		t.Error("a refused apply wrote the lock")
	}

	snap, _ := c.must(exitOK, "observe", c.dir)
	path := filepath.Join(t.TempDir(), "snapshot.json")
	if err := os.WriteFile(path, []byte(snap), 0o644); err != nil {
		t.Fatal(err)
	}
	c.calls()
	code, _, errs = runCLI(t, "plan", "--observed", path, c.dir)
	wantBlockError(t, "plan --observed", code, errs, pos)
	if all := c.srv.Calls(); len(all) != 0 {
		t.Errorf("plan --observed called the API: %v", all)
	}
	if got := c.srv.State(); fmt.Sprint(got) != fmt.Sprint(c.initial) {
		t.Error("the cloud changed")
	}
}

// TestE2EVSwitchZoneDiffers: a cloud whose vSwitch is in another zone
// than the file says fails the plan at the file's zone.
func TestE2EVSwitchZoneDiffers(t *testing.T) {
	c := newE2E(t, func(w *emulator.World) {
		for i, v := range w.VSwitches {
			if v.VSwitchId == "vsw-bp1data000i" {
				w.VSwitches[i].ZoneId = "cn-hangzhou-j"
			}
		}
	})
	code, _, errs := c.run("plan", c.dir)
	if code != exitError || !strings.Contains(errs, c.fleetPath()+":") ||
		!strings.Contains(errs, `vswitches."data-i".zone: zone cn-hangzhou-i differs from the cloud's cn-hangzhou-j for vSwitch vsw-bp1data000i`) {
		t.Errorf("plan: exit %d, want 1 at the file's zone; stderr:\n%s", code, errs)
	}
	c.wantCalls(nil)
}

// TestE2EVSwitchRenderOffline: apply records each vSwitch's block in the
// lock, and an offline render of a file that disagrees with it fails at
// the file's cidr and writes nothing, with --check too.
func TestE2EVSwitchRenderOffline(t *testing.T) {
	c := appliedE2E(t, nil)
	l := c.lock()
	want := map[string]netip.Prefix{}
	for _, v := range c.fleet().VSwitches {
		want[v.ID] = v.CIDR
	}
	if fmt.Sprint(l.VSwitches) != fmt.Sprint(want) {
		t.Fatalf("the lock records blocks %v, want %v", l.VSwitches, want)
	}
	out := filepath.Join(t.TempDir(), "hosts")
	if code, stdout, errs := runCLI(t, "render", "--out", out, c.dir); code != exitOK {
		t.Fatalf("render of the applied fleet: exit %d\n%s\n%s", code, stdout, errs)
	}

	pos := c.slash25()
	fresh := filepath.Join(t.TempDir(), "fresh")
	code, _, errs := runCLI(t, "render", "--out", fresh, c.dir)
	wantBlockError(t, "render", code, errs, pos)
	if !strings.Contains(errs, "(as the lock records it)") {
		t.Errorf("render does not say the block comes from the lock:\n%s", errs)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a refused render created %s (%v)", fresh, err)
	}
	code, _, errs = runCLI(t, "render", "--check", "--out", out, c.dir)
	wantBlockError(t, "render --check", code, errs, pos)
	if all := c.srv.Calls(); len(all) != 0 {
		t.Errorf("render called the API: %v", all)
	}
	if _, err := schema.ReadLockFile(c.lockPath()); err != nil {
		t.Fatal(err)
	}
}
