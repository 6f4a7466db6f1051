package guest

import (
	"bufio"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
)

// The real-tool tests of the payload's probes (scripts/probe.sh). Each
// runs the real payload in a namespace standing in for edge-1 (the
// example's iproute2 host: its primary ENI on app-h and edge-1-data on
// data-h), whose far side (standin.Wire) answers as the cloud's
// vSwitches do: at .253 of each block.

// probeHost is the example's edge-1, which runs here for real.
func probeHost(t *testing.T) *render.Host {
	t.Helper()
	hosttest.RequireTool(t, "ping")
	h := exampleHost(t, "edge-1")
	if len(h.Secondary) != 1 || h.Secondary[0].ENI != "edge-1-data" {
		t.Fatalf("edge-1 has ENIs %v, want edge-1-data only", h.Secondary)
	}
	return h
}

// wrongBlockHost renders edge-1 from a file whose data-h block is a /23
// where the cloud's is a /24, and a lock that does not record the cloud's
// blocks (so render cannot refuse it): edge-1-data's gateway comes out
// 172.16.3.253, where nothing answers, and every address still fits the
// block (the cloud picked .9, .66 and .227, so no smaller block holds
// them).
func wrongBlockHost(t *testing.T) *render.Host {
	t.Helper()
	f, lock := standin.Example(t)
	for _, v := range f.VSwitches {
		if v.Name == "data-h" {
			v.CIDR = netip.MustParsePrefix("172.16.2.0/23")
		}
	}
	lock.VSwitches = nil
	hosts, err := render.Hosts(f, lock)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		if h.Name == "edge-1" {
			if gw := h.Secondary[0].Gateway.String(); gw != "172.16.3.253" {
				t.Fatalf("the wrong block gives gateway %s, want 172.16.3.253", gw)
			}
			return h
		}
	}
	t.Fatal("no edge-1")
	return nil
}

// probeStandin is a wired stand-in for the cloud's h.
func probeStandin(t *testing.T, h *render.Host) *hosttest.Netns {
	t.Helper()
	ns := standin.Netns(t, h)
	standin.Wire(t, ns, h)
	standin.Prepare(t, ns, h)
	return ns
}

func probePayload(t *testing.T, h *render.Host, files []render.File, opts PayloadOptions) []byte {
	t.Helper()
	p, err := Payload(h, files, PayloadApply, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// probeLine matches one probe's result line.
func probeLine(name, result string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^ecsnet: edge-1: probe: ` + regexp.QuoteMeta(name) + `: ` + result + `: .+$`)
}

func wantLines(t *testing.T, out string, res ...*regexp.Regexp) {
	t.Helper()
	for _, re := range res {
		if !re.MatchString(out) {
			t.Errorf("the output lacks a line like %s:\n%s", re, out)
		}
	}
}

// TestProbeWrongGateway: a render whose gateway nobody answers at (the
// file's vSwitch block differs from the cloud's) passes the apply and its
// verification, fails the gateway probe, and the host rolls back by
// itself: exit 5, the probe named on the result line, the live state and
// files as before. Turned off with SkipProbes, the same render applies and
// the probe says it was skipped, never that it passed.
func TestProbeWrongGateway(t *testing.T) {
	h := probeHost(t)
	wrong := wrongBlockHost(t)
	ns := probeStandin(t, h)
	files := standin.Bundle(t, wrong)
	paths := rtEtcPaths(files)
	before, beforeFiles := standin.Live(t, ns), rtFilesOf(t, ns, h, paths)

	start := time.Now()
	code, out := rtPayload(t, ns, probePayload(t, wrong, files, PayloadOptions{ProbeDeadline: 3 * time.Second}))
	t.Logf("a rolled-back apply took %v:\n%s", time.Since(start).Round(time.Millisecond), out)
	if Exit(code) != RolledBack {
		t.Fatalf("exit %d, want %d (rolled back)\n%s", code, RolledBack, out)
	}
	res, _ := PayloadResult(out)
	if want := "rolled back: probe failed: gateway edge-1-data: no answer from 172.16.3.253 to a ping from "; !strings.HasPrefix(res, want) ||
		!strings.HasSuffix(res, "; the host is as it was before") {
		t.Errorf("result %q, want it to start %q", res, want)
	}
	wantLines(t, out,
		probeLine("gateway edge-1-data", "failed"),
		probeLine("gateway primary", "ok"),
		probeLine("address edge-1-data", "ok"),
		probeLine("address primary", "ok"))
	standin.Expect(t, "after the rollback", standin.Live(t, ns), before)
	if got := rtFilesOf(t, ns, h, paths); !maps.Equal(got, beforeFiles) {
		t.Errorf("the rollback left files changed:\n got %v\nwant %v", got, beforeFiles)
	}

	code, out = rtPayload(t, ns, probePayload(t, wrong, files, PayloadOptions{SkipProbes: []string{ProbeGateway}}))
	if Exit(code) != Applied {
		t.Fatalf("with the gateway probe off: exit %d, want 0\n%s", code, out)
	}
	wantLines(t, out, probeLine("gateway edge-1-data", "skipped"), probeLine("gateway primary", "skipped"))
	if strings.Contains(out, "probe: gateway edge-1-data: ok") {
		t.Errorf("a probe turned off says ok:\n%s", out)
	}
}

// TestProbeRightGateway: the cloud's own render applies, every probe
// passes, and the metadata service, which the stand-in does not serve,
// is reported as not probed: neither a pass nor a failure.
func TestProbeRightGateway(t *testing.T) {
	h := probeHost(t)
	ns := probeStandin(t, h)
	code, out := rtPayload(t, ns, probePayload(t, h, standin.Bundle(t, h), PayloadOptions{}))
	if Exit(code) != Applied {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	wantLines(t, out,
		probeLine("gateway primary", "ok"),
		probeLine("gateway edge-1-data", "ok"),
		probeLine("address primary", "ok"),
		probeLine("address edge-1-data", "ok"),
		regexp.MustCompile(`(?m)^ecsnet: edge-1: probe: metadata: skipped: not probed: 100\.100\.100\.200:80 was unreachable before the change$`),
		regexp.MustCompile(`(?m)^ecsnet: edge-1: probe: cloud-assistant: skipped: not probed: .+$`))
	// The probes not taken are named in the result line too, which is
	// what every report prints for the host.
	if res, _ := PayloadResult(out); res != "applied and verified; not probed: metadata, cloud-assistant (the probe lines say why)" {
		t.Errorf("result %q does not name the probes not taken", res)
	}
	standin.Expect(t, "after the apply", standin.Live(t, ns), standin.Want(h))
}

// TestProbeMACNeverAppears: an ENI the render has but the host never
// shows (its interface did not come) is refused after the wait, naming
// the ENI and its MAC; nothing is changed.
func TestProbeMACNeverAppears(t *testing.T) {
	h := probeHost(t)
	without := *h
	without.Secondary = nil
	ns := probeStandin(t, &without)
	files := standin.Bundle(t, h)
	paths := rtEtcPaths(files)
	before, beforeFiles := standin.Live(t, ns), rtFilesOf(t, ns, h, paths)

	start := time.Now()
	code, out := rtPayload(t, ns, probePayload(t, h, files, PayloadOptions{MACWait: 2 * time.Second}))
	took := time.Since(start)
	if Exit(code) != Refused {
		t.Fatalf("exit %d, want %d (refused)\n%s", code, Refused, out)
	}
	res, _ := PayloadResult(out)
	want := "refused: no interface has the MAC of ENI edge-1-data (MAC " + h.Secondary[0].MAC + ") after 2s"
	if !strings.HasPrefix(res, want) || !strings.HasSuffix(res, "nothing was changed") {
		t.Errorf("result %q, want it to start %q and end \"nothing was changed\"", res, want)
	}
	if !strings.Contains(out, "waiting up to 2s for the interface of ENI edge-1-data") {
		t.Errorf("the output does not say it waited:\n%s", out)
	}
	if took < 2*time.Second {
		t.Errorf("refused after %v, before the 2s wait was over", took)
	}
	standin.Expect(t, "after the refusal", standin.Live(t, ns), before)
	if got := rtFilesOf(t, ns, h, paths); !maps.Equal(got, beforeFiles) {
		t.Errorf("the refusal changed files:\n got %v\nwant %v", got, beforeFiles)
	}
}

// TestProbeMACLate: an interface that appears while the payload waits
// for it is configured. The interface is added once the payload says it
// is waiting (its output is read as it runs), so the test does not depend
// on how fast the payload gets there.
func TestProbeMACLate(t *testing.T) {
	h := probeHost(t)
	without := *h
	without.Secondary = nil
	ns := probeStandin(t, &without)
	// The ENI's own gateway does not answer on this late link (the wire
	// has no bridge for it): only the wait is under test here.
	p := probePayload(t, h, standin.Bundle(t, h), PayloadOptions{MACWait: 60 * time.Second, SkipProbes: []string{ProbeGateway}})
	var out strings.Builder
	for i, path := range partFiles(t, p) {
		cmd := ns.Command("/bin/bash", path)
		cmd.Stderr = &out
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "waiting up to 60s for the interface of ENI edge-1-data") {
				n := h.Secondary[0]
				if err := ns.AddLink(n.Name(), n.MAC); err != nil {
					t.Error(err)
				}
			}
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("part %d: %v\n%s", i+1, err, out.String())
		}
	}
	if !strings.Contains(out.String(), "waiting up to 60s for the interface of ENI edge-1-data") {
		t.Errorf("the output does not say it waited:\n%s", out.String())
	}
	// --skip-probes gateway: applied, and the result says the gateway
	// probes were not taken.
	if res, _ := PayloadResult(out.String()); !strings.HasPrefix(res, "applied and verified; not probed: gateway primary, gateway edge-1-data") {
		t.Fatalf("result %q, want applied and verified with the gateway probes not taken\n%s", res, out.String())
	}
	standin.Expect(t, "after the apply", standin.Live(t, ns), standin.Want(h))
}

// TestProbeMetadataBroken: the metadata service answers before the change;
// a bundle that takes its route away (here a blackhole route its script
// adds) passes the apply and its verification, fails the metadata probe
// and rolls back, after which the service answers again. The same host
// with a bundle that leaves it alone probes it ok.
func TestProbeMetadataBroken(t *testing.T) {
	h := probeHost(t)
	ns := probeStandin(t, h)
	standin.Metadata(t, ns)
	files := standin.Bundle(t, h)
	before := standin.Live(t, ns)

	hijack := slices.Clone(files)
	for i, f := range hijack {
		if f.Path == render.ScriptName {
			data := append(slices.Clone(f.Data), "\n# a bundle that hijacks the metadata service (the test's)\n[ \"$ECSNET_CMD\" != apply ] || ip route add blackhole 100.100.100.200/32\n"...)
			hijack[i].Data = data
		}
	}
	code, out := rtPayload(t, ns, probePayload(t, h, hijack, PayloadOptions{ProbeDeadline: 3 * time.Second}))
	if Exit(code) != RolledBack {
		t.Fatalf("exit %d, want %d (rolled back)\n%s", code, RolledBack, out)
	}
	res, _ := PayloadResult(out)
	if want := "rolled back: probe failed: metadata: 100.100.100.200:80 answered before the change and does not now"; !strings.HasPrefix(res, want) {
		t.Errorf("result %q, want it to start %q", res, want)
	}
	wantLines(t, out, probeLine("metadata", "failed"), probeLine("gateway edge-1-data", "ok"))
	standin.Expect(t, "after the rollback", standin.Live(t, ns), before)
	if routes := ns.Run(t, "ip", "-4", "route", "show", "table", "all", "type", "blackhole"); strings.TrimSpace(routes) != "" {
		t.Errorf("the blackhole route is left after the rollback: %s", routes)
	}

	code, out = rtPayload(t, ns, probePayload(t, h, files, PayloadOptions{}))
	if Exit(code) != Applied {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	wantLines(t, out,
		regexp.MustCompile(`(?m)^ecsnet: edge-1: probe: metadata: ok: 100\.100\.100\.200:80 answers, as before the change \(dev eth0 src 172\.16\.0\.15\)$`),
		// The stand-in's metadata service names no region, so the Cloud
		// Assistant server is not known.
		regexp.MustCompile(`(?m)^ecsnet: edge-1: probe: cloud-assistant: skipped: not probed: the metadata service did not name the region before the change$`))
}

// TestProbeNoPing: on a host without ping the gateway probes are skipped
// and say so; never counted as passed. (ping is hidden from the payload
// by a bind mount of /dev/null over it, in the payload's own mount
// namespace.)
func TestProbeNoPing(t *testing.T) {
	h := probeHost(t)
	ns := probeStandin(t, h)
	var out strings.Builder
	for i, path := range partFiles(t, probePayload(t, h, standin.Bundle(t, h), PayloadOptions{})) {
		o, e, err := ns.Exec(nil, "/bin/bash", "-c", `mount --bind /dev/null "$(command -v ping)" && exec /bin/bash "$1"`, "sh", path)
		out.WriteString(o + e)
		if err != nil {
			t.Fatalf("part %d: %v\n%s", i+1, err, out.String())
		}
	}
	wantLines(t, out.String(),
		regexp.MustCompile(`(?m)^ecsnet: edge-1: probe: gateway primary: skipped: ping is not installed$`),
		regexp.MustCompile(`(?m)^ecsnet: edge-1: probe: gateway edge-1-data: skipped: ping is not installed$`),
		probeLine("address edge-1-data", "ok"))
	if strings.Contains(out.String(), "probe: gateway primary: ok") {
		t.Errorf("a gateway probe without ping says ok:\n%s", out.String())
	}
	if res, _ := PayloadResult(out.String()); !strings.HasPrefix(res, "applied and verified; not probed: gateway primary, gateway edge-1-data, ") {
		t.Errorf("result %q does not name the gateway probes not taken", res)
	}
}
