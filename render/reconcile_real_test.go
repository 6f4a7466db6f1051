package render_test

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// TestRealReconcileReturningHost: lb-1 (ifupdown) applies its bundle with
// the floating ENI; it is stopped, the ENI moves away, and it boots again
// without the NIC. Its reconcile unit's script, asking a metadata service
// (served in the guest's namespace) that no longer lists the ENI's MAC,
// removes the ENI's lines from the interfaces.d file, leaving exactly the
// file of a bundle without the ENI, and its entries of the state record;
// the push of the bundle without the ENI then finds nothing of it to
// remove, and verifies clean. A second run changes
// nothing; an answer it cannot parse makes it go by NIC presence. The same
// for an iproute2 host (edge-1), whose ip(8) boot script then leaves the
// ENI out instead of refusing for its missing NIC.
func TestRealReconcileReturningHost(t *testing.T) {
	hosttest.RequireRoot(t)
	hosttest.RequireTool(t, "curl")
	hosttest.RequireTool(t, "python3")
	for _, stack := range []schema.Stack{schema.StackIfupdown, schema.StackIproute2} {
		t.Run(string(stack), func(t *testing.T) { reconcileReturning(t, stack, true) })
	}
	// Minimal images, and the emulator's guest root, have no curl: the
	// reconcile asks the metadata service over bash's /dev/tcp instead of
	// waiting out the grace period and going by the NICs present.
	t.Run("ifupdown-without-curl", func(t *testing.T) { reconcileReturning(t, schema.StackIfupdown, false) })
}

// pathWithout returns a PATH of one directory holding a link to every
// command of the usual directories but the ones named.
func pathWithout(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if slices.Contains(names, e.Name()) {
				continue
			}
			// The first directory of PATH wins; a later one's link fails.
			_ = os.Symlink(filepath.Join(d, e.Name()), filepath.Join(dir, e.Name()))
		}
	}
	return dir
}

func reconcileReturning(t *testing.T, stack schema.Stack, curl bool) {
	if stack == schema.StackIfupdown {
		hosttest.RequireTool(t, "ifup")
	}
	var h *render.Host
	for _, x := range rtHosts(t, stack) {
		if len(x.Secondary) > 0 {
			h = x
			break
		}
	}
	if h == nil {
		t.Fatalf("the example has no %s host with a secondary ENI", stack)
	}
	if len(h.Secondary) == 0 {
		t.Fatalf("%s has no secondary ENI", h.Name)
	}
	gone := h.Secondary[0]
	ns := pbBoot(t, h, pbRoot(t))
	dir := rtWrite(t, h, standin.Bundle(t, h))
	if code, out := rtApply(t, ns, dir); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	// Stopped; the ENI moves to another instance; booted again.
	if err := ns.Close(); err != nil {
		t.Fatal(err)
	}
	ns, err := hosttest.Create(h.Name, ns.Root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	for _, nic := range standin.NICs(h) {
		if nic.MAC == gone.MAC {
			continue
		}
		if err := ns.AddLink(nic.Name(), nic.MAC); err != nil {
			t.Fatal(err)
		}
	}
	ns.SetDHCPAddress(t, h.Primary.Name(), netip.PrefixFrom(h.Primary.Address, h.Primary.Bits()), h.Primary.Gateway)

	if stack == schema.StackIfupdown {
		// The boot brings up what the files have, as networking.service
		// does (the departed ENI's stanza finds no NIC), before the unit runs.
		out, errOut, _ := ns.Exec(nil, "ifup", "-a", "--exclude=lo", "--exclude="+h.Primary.Name())
		t.Logf("ifup -a at boot:\n%s%s", out, errOut)
	}

	var macs strings.Builder
	for _, nic := range standin.NICs(h) {
		if nic.MAC != gone.MAC {
			macs.WriteString(nic.MAC + "/\n")
		}
	}
	meta := func(answer string) string {
		t.Helper()
		startMetaStandIn(t, ns, answer, "/latest/meta-data/network/interfaces/macs/")
		return "http://127.0.0.1:8780"
	}
	env := []string{"env", "RECONCILE_GRACE=1"}
	if !curl {
		env = append(env, "PATH="+pathWithout(t, "curl"))
	}
	reconcile := func(url string) string {
		t.Helper()
		out, errOut, err := ns.Exec(nil, append(env, "ECSNET_METADATA_URL="+url,
			"/bin/bash", "/etc/ecsnet/"+h.Fleet+"/ecsnet-reconcile.sh")...)
		if err != nil {
			t.Fatalf("reconcile: %v\n%s%s", err, out, errOut)
		}
		t.Logf("reconcile:\n%s%s", out, errOut)
		return out + errOut
	}
	log := reconcile(meta(macs.String()))
	if !strings.Contains(log, "no longer attached to this instance (the metadata service does not list MAC "+gone.MAC) {
		t.Errorf("the reconcile does not say which ENI it removed and why:\n%s", log)
	}

	h2 := *h
	h2.Secondary = slices.Delete(slices.Clone(h.Secondary), 0, 1)
	files2 := standin.Bundle(t, &h2)
	if stack == schema.StackIproute2 {
		// The ip(8) boot script, which runs next, leaves the ENI out
		// instead of refusing for its missing NIC.
		out, errOut, err := ns.Exec(nil, "/bin/bash", "/etc/ecsnet/"+h.Fleet+"/ecsnet-ip.sh")
		if err != nil || !strings.Contains(out+errOut, "left out") {
			t.Errorf("ecsnet-ip.sh at boot, after the reconcile: %v\n%s%s", err, out, errOut)
		}
	}
	for _, f := range rtFiles(files2, "etc/network/interfaces.d", "") {
		got, ok := ns.ReadFile(t, "/"+f.Path)
		if !ok || got != string(f.Data) {
			t.Errorf("/%s after the reconcile is not the bundle's without %s:\n--- got\n%s\n--- want\n%s", f.Path, gone.ENI, got, f.Data)
		}
	}
	state, _ := ns.ReadFile(t, "/var/lib/ecsnet/"+h.Fleet+"/state")
	tbl := strconv.Itoa(gone.Table)
	for _, l := range strings.Split(state, "\n") {
		f := strings.Fields(l)
		if strings.Contains(l, gone.MAC) || len(f) == 2 && f[0] == "table" && f[1] == tbl || len(f) == 4 && f[0] == "rule" && f[2] == tbl {
			t.Errorf("the state record still has %s: %q\n%s", gone.ENI, l, state)
		}
	}
	live := standin.Live(t, ns)
	for _, s := range append(append(live.Addrs, live.Rules...), live.Routes...) {
		for _, a := range gone.AllAddresses() {
			if strings.Contains(s, a.String()+" ") || strings.Contains(s, a.String()+"/") {
				t.Errorf("live state still has %s of %s: %s", a, gone.ENI, s)
			}
		}
	}
	// Again: nothing left to do.
	conf := "/etc/network/interfaces.d/60-ecsnet"
	if stack == schema.StackIproute2 {
		conf = "/etc/ecsnet/" + h.Fleet + "/ecsnet-ip.sh"
	}
	before, _ := ns.ReadFile(t, conf)
	log = reconcile("http://127.0.0.1:9")
	if !strings.Contains(log, "cannot say which ENIs") || !strings.Contains(log, "the state record has nothing of it") {
		t.Errorf("a second reconcile, the metadata service unreachable:\n%s", log)
	}
	if after, _ := ns.ReadFile(t, conf); after != before {
		t.Errorf("a second reconcile changed the file")
	}
	dir2 := rtWrite(t, &h2, files2)
	// The next push installs the bundle without the ENI: nothing of the
	// ENI is left for it to remove.
	if code, out := rtApply(t, ns, dir2); code != 0 || strings.Contains(out, "removed rule") || strings.Contains(out, "flushed") || strings.Contains(out, gone.Address.String()) {
		t.Errorf("apply of the bundle without %s: exit %d\n%s", gone.ENI, code, out)
	}
	if code, out := rtApply(t, ns, dir2, "verify"); code != 0 {
		t.Errorf("verify with the bundle without %s: exit %d\n%s", gone.ENI, code, out)
	}
}

// startMetaStandIn serves answer at 127.0.0.1:8780 in ns (metaServer)
// until the test ends, and waits until path answers.
func startMetaStandIn(t *testing.T, ns *hosttest.Netns, answer, path string) {
	t.Helper()
	// Debian's python3 (cloud-init's), not a shim on PATH that may need
	// an environment the namespace's commands do not get.
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		py = "python3"
	}
	// Only its network namespace: ns.Command would mount the namespace's
	// private /etc overlay for as long as the server runs, and the
	// overlay cannot be mounted twice at once (the reconcile's own
	// commands mount it too).
	nsenter, err := hosttest.LookTool("nsenter")
	if err != nil {
		t.Skip(err)
	}
	srv := exec.Command(nsenter, "--net=/run/netns/"+ns.Name, "--", py, "-c", metaServer, answer)
	var srvErr strings.Builder
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	// Under a loaded machine python takes seconds to start; a stand-in
	// that never answers must fail the test, not send the reconcile down
	// its fallback.
	if !hosttest.WaitFor(30*time.Second, func() bool {
		_, _, err := ns.Exec(nil, "curl", "-fsS", "-m", "1", "http://127.0.0.1:8780"+path)
		return err == nil
	}) {
		t.Fatalf("the metadata stand-in did not answer within 30 s: %s", srvErr.String())
	}
}

// metaServer answers every GET with argv[1], as the metadata service
// lists a directory; PUT (a token) gets 404, as a service in normal mode
// without hardening could.
const metaServer = `
import http.server, sys
body = sys.argv[1].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Type", "text/plain"); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", 8780), H).serve_forever()
`

// TestReconcileFilesEveryStack: for every example Linux host with a
// secondary ENI, of every stack (ifcfg and wicked included, whose daemons
// cannot run here, and NetworkManager, networkd and netplan, whose reload
// finds no daemon in the namespace and only warns), and for each of its
// secondary ENIs: with the bundle's files installed and a state record
// naming them, a boot without that ENI's NIC, and a metadata service that
// no longer lists it, the reconcile leaves every file exactly as the
// bundle without that ENI has it, and removes the files only that ENI
// needed. The boot scripts that carry the whole bundle's data
// (ecsnet-ip.sh, ecsnet-primary.sh) are left for the next push.
func TestReconcileFilesEveryStack(t *testing.T) {
	hosttest.RequireRoot(t)
	hosttest.RequireTool(t, "curl")
	hosttest.RequireTool(t, "python3")
	for _, h := range standin.ExampleHosts(t) {
		if h.Stack == schema.StackWindows || len(h.Secondary) == 0 {
			continue
		}
		for i, gone := range h.Secondary {
			t.Run(h.Name+"/"+gone.ENI, func(t *testing.T) {
				files := standin.Bundle(t, h)
				ns, _, _ := reconcileInstalled(t, h, files, gone, false, "")

				h2 := *h
				h2.Secondary = slices.Delete(slices.Clone(h.Secondary), i, i+1)
				reduced := map[string]string{}
				for _, f := range standin.Bundle(t, &h2) {
					reduced[f.Path] = string(f.Data)
				}
				for _, f := range files {
					if !strings.HasPrefix(f.Path, "etc/") || strings.HasPrefix(f.Path, "etc/ecsnet/") || strings.Contains(f.Path, "-reconcile.service") {
						continue
					}
					got, ok := ns.ReadFile(t, "/"+f.Path)
					want, keep := reduced[f.Path]
					switch {
					case keep && got != want:
						t.Errorf("/%s is not the bundle's without %s:\n--- got\n%s\n--- want\n%s", f.Path, gone.ENI, got, want)
					case !keep && ok:
						t.Errorf("/%s, only %s's, is still there", f.Path, gone.ENI)
					}
				}
				st, _ := ns.ReadFile(t, "/var/lib/ecsnet/"+h.Fleet+"/state")
				if strings.Contains(st, gone.MAC) || strings.Contains(st, "table "+strconv.Itoa(gone.Table)+"\n") {
					t.Errorf("the state record still has %s:\n%s", gone.ENI, st)
				}
			})
		}
	}
}

// reconcileInstalled stands in for h booting with the bundle's files
// installed and a state record naming them and gone's addresses, rules
// and table; gone's NIC is there only when present. The metadata service
// answers meta, or, when meta is "", the MACs of the NICs there. It runs
// the reconcile script and returns its output.
func reconcileInstalled(t *testing.T, h *render.Host, files []render.File, gone render.NIC, present bool, meta string) (*hosttest.Netns, string, string) {
	t.Helper()
	ns, err := hosttest.Create(h.Name, pbRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	var state strings.Builder
	state.WriteString("# What ecsnet added (test stand-in).\n")
	for _, a := range gone.AllAddresses() {
		fmt.Fprintf(&state, "addr %s %s/%d\n", gone.MAC, a, gone.Bits())
		fmt.Fprintf(&state, "rule %s %d %d\n", a, gone.Table, gone.Priority)
	}
	fmt.Fprintf(&state, "table %d\n", gone.Table)
	for _, f := range files {
		if strings.HasPrefix(f.Path, "etc/") {
			ns.WriteFile(t, "/"+f.Path, f.Data, f.Mode)
			fmt.Fprintf(&state, "file %s\n", f.Path)
		}
	}
	ns.WriteFile(t, "/var/lib/ecsnet/"+h.Fleet+"/state", []byte(state.String()), 0o644)
	var macs strings.Builder
	for _, nic := range standin.NICs(h) {
		if nic.MAC == gone.MAC && !present {
			continue
		}
		if err := ns.AddLink(nic.Name(), nic.MAC); err != nil {
			t.Fatal(err)
		}
		macs.WriteString(nic.MAC + "/\n")
	}
	if meta == "" {
		meta = macs.String()
	}
	startMetaStandIn(t, ns, meta, "/")
	out, errOut, err := ns.Exec(nil, "env", "ECSNET_METADATA_URL=http://127.0.0.1:8780", "RECONCILE_GRACE=1",
		"/bin/bash", "/etc/ecsnet/"+h.Fleet+"/ecsnet-reconcile.sh")
	if err != nil {
		t.Fatalf("reconcile: %v\n%s%s", err, out, errOut)
	}
	t.Logf("reconcile:\n%s%s", out, errOut)
	return ns, out, errOut
}

// TestReconcileDoubt: the reconcile removes nothing of an ENI whose NIC
// is there, whatever the metadata service says, nor of one the service
// lists though its NIC has not appeared (yet); an answer that is not a
// list of MACs, or that lacks the primary ENI's, is not used: it goes by
// the NICs present after the grace period.
func TestReconcileDoubt(t *testing.T) {
	hosttest.RequireRoot(t)
	hosttest.RequireTool(t, "curl")
	hosttest.RequireTool(t, "python3")
	h := pbHosts(t, schema.StackIfupdown)[0]
	gone := h.Secondary[0]
	files := standin.Bundle(t, h)
	const conf = "/etc/network/interfaces.d/60-ecsnet"
	var full string
	for _, f := range files {
		if "/"+f.Path == conf {
			full = string(f.Data)
		}
	}
	for _, tt := range []struct {
		name    string
		present bool
		meta    string
		removed bool
		says    string
	}{
		{"NIC there, not listed", true, h.Primary.MAC + "/\n", false, ""},
		{"listed, NIC not there", false, h.Primary.MAC + "/\n" + gone.MAC + "/\n", false, "is attached (the metadata service lists it), but no NIC has its MAC yet: kept"},
		{"answer not MACs", false, "<html>Not Found</html>\n", true, "has a line that is not a MAC"},
		{"answer without the primary", false, gone.MAC + "/\n", true, "does not list the primary ENI's MAC"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ns, out, errOut := reconcileInstalled(t, h, files, gone, tt.present, tt.meta)
			got, _ := ns.ReadFile(t, conf)
			if removed := got != full; removed != tt.removed {
				t.Errorf("removed the ENI's lines: %v, want %v", removed, tt.removed)
			}
			if !strings.Contains(out+errOut, tt.says) {
				t.Errorf("the reconcile does not say %q", tt.says)
			}
			if tt.removed && !strings.Contains(out+errOut, "no NIC has its MAC 1s after boot") {
				t.Errorf("the reconcile did not go by the NICs present")
			}
		})
	}
}

// TestReconcileUnit: every Linux bundle with a secondary ENI carries the
// reconcile script and its unit, ordered before the fleet's other ecsnet
// unit, and its apply script owns the unit's symlink (render.OwnedPaths,
// so a payload backs it up); a bundle without a secondary ENI has none.
func TestReconcileUnit(t *testing.T) {
	for _, h := range standin.ExampleHosts(t) {
		if h.Stack == schema.StackWindows {
			continue
		}
		t.Run(h.Name, func(t *testing.T) {
			unitPath := "etc/systemd/system/ecsnet-" + h.Fleet + "-reconcile.service"
			wants := "etc/systemd/system/multi-user.target.wants/ecsnet-" + h.Fleet + "-reconcile.service"
			check := func(h *render.Host, want bool) {
				t.Helper()
				var unit, script, apply string
				for _, f := range standin.Bundle(t, h) {
					switch f.Path {
					case unitPath:
						unit = string(f.Data)
					case "etc/ecsnet/" + h.Fleet + "/ecsnet-reconcile.sh":
						script = string(f.Data)
					case render.ScriptName:
						apply = string(f.Data)
					}
				}
				owned := slices.Contains(render.OwnedPaths(h), wants)
				if !want {
					if unit != "" || script != "" || owned || strings.Contains(apply, wants) {
						t.Errorf("%d secondary ENIs: the bundle has the reconcile unit", len(h.Secondary))
					}
					return
				}
				if script == "" || !strings.Contains(unit, "\nBefore=ecsnet-"+h.Fleet+".service\n") ||
					!strings.Contains(unit, "\nExecStart=/etc/ecsnet/"+h.Fleet+"/ecsnet-reconcile.sh\n") {
					t.Errorf("no reconcile script, or its unit is not ordered before ecsnet-%s.service:\n%s", h.Fleet, unit)
				}
				if !owned || !strings.Contains(apply, "\n  "+render.ShellQuote(wants)+"\n") {
					t.Errorf("the apply script does not own %s (OwnedPaths %q)", wants, render.OwnedPaths(h))
				}
			}
			check(h, len(h.Secondary) > 0)
			c := *h
			c.Secondary = nil
			check(&c, false)
		})
	}
}
