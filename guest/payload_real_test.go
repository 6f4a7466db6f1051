package guest

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// partFiles writes the invocations of a Linux payload (split as
// RunCommand's limit makes it) to files in a temporary directory, in the
// order they run.
func partFiles(t *testing.T, payload []byte) []string {
	t.Helper()
	parts, err := Invocations(payload, false, maxContent)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths := make([]string, len(parts))
	for i, p := range parts {
		paths[i] = filepath.Join(dir, fmt.Sprintf("part%d.sh", i))
		if err := os.WriteFile(paths[i], p, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

// rtPayload delivers a payload to a namespace the way Cloud Assistant
// would: split for RunCommand, each invocation a script run by bash as
// root, one after another. It returns the last exit code and all output.
func rtPayload(t *testing.T, ns *hosttest.Netns, payload []byte) (int, string) {
	t.Helper()
	var out strings.Builder
	code := 0
	for _, path := range partFiles(t, payload) {
		o, e, err := ns.Exec(nil, "/bin/bash", path)
		out.WriteString(o + e)
		code = 0
		if err != nil {
			var ee interface{ ExitCode() int }
			if !errors.As(err, &ee) {
				t.Fatal(err)
			}
			code = ee.ExitCode()
		}
		if code != 0 {
			break
		}
	}
	return code, out.String()
}

// rtApplyPayload builds h's apply payload (with the verification failing
// for the given reason, when not empty) and delivers it.
func rtApplyPayload(t *testing.T, ns *hosttest.Netns, h *render.Host, failVerify string) (int, string) {
	t.Helper()
	p, err := Payload(h, standin.Bundle(t, h), PayloadApply, PayloadOptions{FailVerify: failVerify})
	if err != nil {
		t.Fatal(err)
	}
	return rtPayload(t, ns, p)
}

// rtDrift runs the verify payload and compares the live state with h.
func rtDrift(t *testing.T, ns *hosttest.Netns, h *render.Host) []string {
	t.Helper()
	d, _ := rtCompare(t, ns, h)
	return d
}

// rtCompare runs the verify payload and returns Drift and Foreign of the
// live state against h.
func rtCompare(t *testing.T, ns *hosttest.Netns, h *render.Host) (drift, foreign []string) {
	t.Helper()
	v, err := Payload(h, nil, PayloadVerify, PayloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code, out := rtPayload(t, ns, v)
	if code != 0 {
		t.Fatalf("verify payload: exit %d\n%s", code, out)
	}
	l, err := ParseLive([]byte(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !l.WrittenKnown {
		t.Errorf("the verify payload did not report the state records:\n%s", out)
	}
	return compare(h, l)
}

// rtFilesOf reads the bundle's installed files (and the state record)
// from the namespace; absent files map to "(absent)".
func rtFilesOf(t *testing.T, ns *hosttest.Netns, h *render.Host, paths []string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, p := range append(slices.Clone(paths), "var/lib/ecsnet/"+h.Fleet+"/state") {
		data, ok := ns.ReadFile(t, "/"+p)
		if !ok {
			data = "(absent)"
		}
		got[p] = data
	}
	return got
}

func rtEtcPaths(files []render.File) []string {
	var out []string
	for _, f := range files {
		if strings.HasPrefix(f.Path, "etc/") {
			out = append(out, f.Path)
		}
	}
	return out
}

// TestRealPayload delivers the apply payload of every example host whose
// stack runs here to a namespace standing in for it: a first apply whose
// verification fails (injected) leaves the host exactly as it was; the
// real first apply converges and verifies with no drift; an update whose
// verification fails re-applies the previous bundle and restores files,
// state record and live state; the update itself then converges; a
// change by hand shows as drift.
func TestRealPayload(t *testing.T) {
	for _, h := range standin.ExampleHosts(t) {
		if !slices.Contains(standin.Runnable, h.Stack) {
			continue
		}
		t.Run(h.Name, func(t *testing.T) {
			if h.Stack == schema.StackIfupdown {
				hosttest.RequireTool(t, "ifup")
			}
			ns := standin.Netns(t, h)
			standin.Wire(t, ns, h) // the gateways answer the payload's probes
			standin.Prepare(t, ns, h)
			files := standin.Bundle(t, h)
			small := standin.Drop(h)
			paths := rtEtcPaths(files)
			for _, p := range rtEtcPaths(standin.Bundle(t, small)) {
				if !slices.Contains(paths, p) {
					paths = append(paths, p)
				}
			}

			before, beforeFiles := standin.Live(t, ns), rtFilesOf(t, ns, h, paths)
			code, out := rtApplyPayload(t, ns, h, "injected for the test")
			if Exit(code) != RolledBack || !strings.Contains(out, "result: rolled back: verification failed: injected for the test; the host is as it was before") {
				t.Fatalf("first apply with a failing verification: exit %d, want %d\n%s", code, RolledBack, out)
			}
			standin.Expect(t, "after a rolled-back first apply", standin.Live(t, ns), before)
			if got := rtFilesOf(t, ns, h, paths); !maps.Equal(got, beforeFiles) {
				t.Errorf("a rolled-back first apply left files changed:\n got %v\nwant %v", got, beforeFiles)
			}

			code, out = rtApplyPayload(t, ns, h, "")
			// The stand-in has no metadata service: the result names its
			// probes as not taken.
			if res, _ := PayloadResult(out); Exit(code) != Applied || !strings.HasPrefix(res, "applied and verified") {
				t.Fatalf("apply: exit %d\n%s", code, out)
			}
			standin.Expect(t, "after the apply", standin.Live(t, ns), standin.Want(h))
			standin.CheckMain(t, ns, h)
			if d := rtDrift(t, ns, h); len(d) > 0 {
				t.Errorf("drift right after the apply:\n%s", strings.Join(d, "\n"))
			}
			// Against a render that dropped some of them, the addresses
			// ecsnet just wrote are drift that push removes, never
			// foreign: verify reads the state record the apply wrote.
			d, f := rtCompare(t, ns, small)
			if len(f) > 0 {
				t.Errorf("addresses ecsnet wrote count as foreign against the smaller render:\n%s", strings.Join(f, "\n"))
			}
			for _, line := range d {
				if !strings.HasPrefix(line, "rule ") && strings.Contains(line, "is not in the desired state") && !strings.HasSuffix(line, "ecsnet wrote it, and ecsnet push removes it") {
					t.Errorf("an address ecsnet wrote is not called so: %s", line)
				}
			}

			applied, appliedFiles := standin.Live(t, ns), rtFilesOf(t, ns, h, paths)
			code, out = rtApplyPayload(t, ns, small, "injected again")
			if Exit(code) != RolledBack {
				t.Fatalf("update with a failing verification: exit %d, want %d\n%s", code, RolledBack, out)
			}
			if !strings.Contains(out, "re-applying the previous bundle") {
				t.Errorf("the rollback did not re-apply the previous bundle:\n%s", out)
			}
			standin.Expect(t, "after a rolled-back update", standin.Live(t, ns), applied)
			if got := rtFilesOf(t, ns, h, paths); !maps.Equal(got, appliedFiles) {
				t.Errorf("a rolled-back update left files changed:\n got %v\nwant %v", got, appliedFiles)
			}
			if d := rtDrift(t, ns, h); len(d) > 0 {
				t.Errorf("drift after the rolled-back update:\n%s", strings.Join(d, "\n"))
			}

			code, out = rtApplyPayload(t, ns, small, "")
			if Exit(code) != Applied {
				t.Fatalf("update: exit %d\n%s", code, out)
			}
			standin.Expect(t, "after the update", standin.Live(t, ns), standin.Want(small))
			if d := rtDrift(t, ns, small); len(d) > 0 {
				t.Errorf("drift after the update:\n%s", strings.Join(d, "\n"))
			}
			if d := rtDrift(t, ns, h); len(d) == 0 && !slices.Equal(standin.Want(h).Addrs, standin.Want(small).Addrs) {
				t.Error("no drift against the larger render")
			}

			// A change by hand: an address removed, another added. The
			// added one is foreign: a warning, not drift.
			ns.Run(t, "ip", "addr", "add", "172.16.0.250/24", "dev", small.Primary.Name())
			var want []string
			var victim *render.NIC
			switch {
			case len(small.Secondary) > 0:
				victim = &small.Secondary[0]
				ns.Run(t, "ip", "addr", "del", netip.PrefixFrom(victim.Address, victim.Bits()).String(), "dev", victim.Name())
				want = append(want, netip.PrefixFrom(victim.Address, victim.Bits()).String()+" is missing")
			case len(small.Primary.Secondary) > 0:
				victim = &small.Primary
				a := netip.PrefixFrom(victim.Secondary[0], victim.Bits()).String()
				ns.Run(t, "ip", "addr", "del", a, "dev", victim.Name())
				want = append(want, a+" is missing")
			}
			d, f = rtCompare(t, ns, small)
			if wantF := "primary ENI on eth0: 172.16.0.250/24 was not added by ecsnet"; len(f) != 1 || !strings.HasPrefix(f[0], wantF) {
				t.Errorf("foreign %q, want one that starts %q", f, wantF)
			}
			joined := strings.Join(d, "\n")
			if strings.Contains(joined, "172.16.0.250") {
				t.Errorf("a foreign address shows as drift:\n%s", joined)
			}
			for _, w := range want {
				if !strings.Contains(joined, w) {
					t.Errorf("a change by hand does not show as drift (%q):\n%s", w, joined)
				}
			}
			t.Logf("drift after a change by hand:\n%s", joined)
		})
	}
}
