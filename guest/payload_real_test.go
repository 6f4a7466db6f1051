package render_test

import (
	"errors"
	"github.com/ecsnet/ecsnet/guest"
	"github.com/ecsnet/ecsnet/render"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/schema"
)

// rtPayload delivers a payload to a namespace the way Cloud Assistant
// would: split for RunCommand, each invocation a script run by bash as
// root, one after another. It returns the last exit code and all output.
// maxContent is RunCommand's CommandContent limit after Base64
// (ecs-api.md §2.12, ecs.MaxCommandContent).
const maxContent = 16 << 10

func rtPayload(t *testing.T, ns *hosttest.Netns, payload []byte) (int, string) {
	t.Helper()
	parts, err := guest.Invocations(payload, false, maxContent)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var out strings.Builder
	code := 0
	for i, p := range parts {
		path := filepath.Join(dir, "part"+string(rune('0'+i))+".sh")
		if err := os.WriteFile(path, p, 0o700); err != nil {
			t.Fatal(err)
		}
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
	p, err := guest.Payload(h, render.RtBundle(t, h), guest.PayloadApply, guest.PayloadOptions{FailVerify: failVerify})
	if err != nil {
		t.Fatal(err)
	}
	return rtPayload(t, ns, p)
}

// rtDrift runs the verify payload and compares the live state with h.
func rtDrift(t *testing.T, ns *hosttest.Netns, h *render.Host) []string {
	t.Helper()
	v, err := guest.Payload(h, nil, guest.PayloadVerify, guest.PayloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code, out := rtPayload(t, ns, v)
	if code != 0 {
		t.Fatalf("verify payload: exit %d\n%s", code, out)
	}
	l, err := guest.ParseLive([]byte(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return guest.Drift(h, l)
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
	for _, h := range render.RtExampleHosts(t) {
		if !slices.Contains(render.RtRunnable, h.Stack) {
			continue
		}
		t.Run(h.Name, func(t *testing.T) {
			if h.Stack == schema.StackIfupdown {
				hosttest.RequireTool(t, "ifup")
			}
			ns := render.RtNetns(t, h)
			render.RtPrepare(t, ns, h)
			files := render.RtBundle(t, h)
			small := render.RtDrop(h)
			paths := rtEtcPaths(files)
			for _, p := range rtEtcPaths(render.RtBundle(t, small)) {
				if !slices.Contains(paths, p) {
					paths = append(paths, p)
				}
			}

			before, beforeFiles := render.RtLive(t, ns), rtFilesOf(t, ns, h, paths)
			code, out := rtApplyPayload(t, ns, h, "injected for the test")
			if guest.Exit(code) != guest.RolledBack || !strings.Contains(out, "result: rolled back: verification failed: injected for the test; the host is as it was before") {
				t.Fatalf("first apply with a failing verification: exit %d, want %d\n%s", code, guest.RolledBack, out)
			}
			render.RtExpect(t, "after a rolled-back first apply", render.RtLive(t, ns), before)
			if got := rtFilesOf(t, ns, h, paths); !mapsEqual(got, beforeFiles) {
				t.Errorf("a rolled-back first apply left files changed:\n got %v\nwant %v", got, beforeFiles)
			}

			code, out = rtApplyPayload(t, ns, h, "")
			if guest.Exit(code) != guest.Applied || !strings.HasSuffix(strings.TrimSpace(out), "result: applied and verified") {
				t.Fatalf("apply: exit %d\n%s", code, out)
			}
			render.RtExpect(t, "after the apply", render.RtLive(t, ns), render.RtWant(h))
			render.RtCheckMain(t, ns, h)
			if d := rtDrift(t, ns, h); len(d) > 0 {
				t.Errorf("drift right after the apply:\n%s", strings.Join(d, "\n"))
			}

			applied, appliedFiles := render.RtLive(t, ns), rtFilesOf(t, ns, h, paths)
			code, out = rtApplyPayload(t, ns, small, "injected again")
			if guest.Exit(code) != guest.RolledBack {
				t.Fatalf("update with a failing verification: exit %d, want %d\n%s", code, guest.RolledBack, out)
			}
			if !strings.Contains(out, "re-applying the previous bundle") {
				t.Errorf("the rollback did not re-apply the previous bundle:\n%s", out)
			}
			render.RtExpect(t, "after a rolled-back update", render.RtLive(t, ns), applied)
			if got := rtFilesOf(t, ns, h, paths); !mapsEqual(got, appliedFiles) {
				t.Errorf("a rolled-back update left files changed:\n got %v\nwant %v", got, appliedFiles)
			}
			if d := rtDrift(t, ns, h); len(d) > 0 {
				t.Errorf("drift after the rolled-back update:\n%s", strings.Join(d, "\n"))
			}

			code, out = rtApplyPayload(t, ns, small, "")
			if guest.Exit(code) != guest.Applied {
				t.Fatalf("update: exit %d\n%s", code, out)
			}
			render.RtExpect(t, "after the update", render.RtLive(t, ns), render.RtWant(small))
			if d := rtDrift(t, ns, small); len(d) > 0 {
				t.Errorf("drift after the update:\n%s", strings.Join(d, "\n"))
			}
			if d := rtDrift(t, ns, h); len(d) == 0 && !slices.Equal(render.RtWant(h).Addrs, render.RtWant(small).Addrs) {
				t.Error("no drift against the larger render")
			}

			// A change by hand: an address removed, another added.
			ns.Run(t, "ip", "addr", "add", "172.16.0.250/24", "dev", small.Primary.Name())
			want := []string{"primary ENI on eth0: 172.16.0.250/24 is not in the desired state"}
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
			d := rtDrift(t, ns, small)
			joined := strings.Join(d, "\n")
			for _, w := range want {
				if !strings.Contains(joined, w) {
					t.Errorf("a change by hand does not show as drift (%q):\n%s", w, joined)
				}
			}
			t.Logf("drift after a change by hand:\n%s", joined)
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
