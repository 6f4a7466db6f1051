package main

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/fixtures"
	"github.com/ecsnet/ecsnet/guest"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

type demoArgs struct {
	dir  string
	keep bool
}

func demoFlags(a *demoArgs) *pflag.FlagSet {
	fs := newFlagSet("demo")
	fs.StringVar(&a.dir, "dir", "", "work in this directory instead of a temporary one")
	fs.BoolVar(&a.keep, "keep", false, "keep the temporary directory (fleet, lock, rendered hosts) and print its path")
	return fs
}

// runDemo runs the main job on the embedded example fleet against the
// built-in emulator, in a temporary copy so that a clean checkout stays
// clean: validate, plan, apply, plan again (no changes), lock written.
func runDemo(ctx context.Context, args []string, e env) int {
	var a demoArgs
	fset := demoFlags(&a)
	if err := fset.Parse(args); err != nil {
		return flagError(fset, err, e)
	}
	dir := a.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "ecsnet-demo-")
		if err != nil {
			fmt.Fprintf(e.stderr, "ecsnet demo: %v\n", err)
			return exitError
		}
		if !a.keep {
			defer os.RemoveAll(tmp)
		}
		dir = tmp
	}
	if err := demo(ctx, e, dir); err != nil {
		fmt.Fprintf(e.stderr, "ecsnet demo: %v\n", err)
		return exitError
	}
	if a.keep || a.dir != "" {
		fmt.Fprintf(e.stdout, "\nThe demo's files are in %s: example/ (the fleet and its lock) and rendered/ (the hosts)\n", dir)
	}
	return exitOK
}

func demo(ctx context.Context, e env, dir string) error {
	if err := copyFS(dir, fixtures.Example, "example"); err != nil {
		return err
	}
	fleetDir := filepath.Join(dir, "example")
	lockPath := filepath.Join(fleetDir, schema.LockFileName)

	step := func(s string) { fmt.Fprintf(e.stdout, "\n== %s\n", s) }
	step("ecsnet validate example/")
	f, err := schema.Load([]string{fleetDir}, schema.LoadOptions{})
	if code := reportLoad(e, formatText, "ecsnet demo", f, err, false); code != exitOK {
		return fmt.Errorf("the example does not validate")
	}

	step("ecsnet emulator (the bundled example world, on loopback)")
	w, err := exampleWorld()
	if err != nil {
		return err
	}
	srv, cloudOnly, err := demoEmulator(w, emulator.Options{AsyncDelay: 20 * time.Millisecond}, os.Geteuid() == 0)
	if err != nil {
		return err
	}
	hosts := cloudOnly == ""
	if hosts {
		defer srv.Close()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	endpoint := "http://" + ln.Addr().String()
	fmt.Fprintf(e.stdout, "serving %s at %s\n", w.RegionId, endpoint)
	if hosts {
		fmt.Fprintln(e.stdout, "hosts mode: every instance has a guest; lb-1, lb-2 and edge-1 (ifupdown, iproute2) run what Cloud Assistant delivers in network namespaces, the others record it")
	} else {
		fmt.Fprintln(e.stdout, cloudOnly)
	}

	// The emulator finishes attaches in 20 ms; poll it more often than the
	// real cloud needs.
	client, err := ecs.New(ecs.Config{Region: f.Region, Endpoint: endpoint, WaitInterval: 20 * time.Millisecond,
		Credentials: ecs.Credentials{AccessKeyID: w.AccessKeys[0].AccessKeyId, AccessKeySecret: w.AccessKeys[0].AccessKeySecret}})
	if err != nil {
		return err
	}
	defer client.Close()

	step("ecsnet plan example/")
	obs, err := client.Observe(ctx, f)
	if err != nil {
		return fmt.Errorf("observe: %w", err)
	}
	p, err := plan.Compute(f, obs, nil, plan.Options{})
	if err != nil {
		return err
	}
	applyCmd := "ecsnet apply --auto-approve example/"
	aopts := plan.ApplyOptions{
		SaveLock: func(l *schema.Lock) error { return schema.WriteLockFile(lockPath, l) },
		Progress: progressPrinter(e.stdout),
	}
	if hosts {
		p = plan.WithHosts(p, f, obs)
		applyCmd = "ecsnet apply --auto-approve --hosts example/"
		ha := hostArgs{batch: 10, timeout: ecs.DefaultScriptTimeout}
		aopts.Hosts = ha.options(client, lockedPayloads(f, guest.PayloadOptions{}))
	}
	if err := plan.WriteText(e.stdout, p, plan.TextOptions{}); err != nil {
		return err
	}

	step(applyCmd)
	start := time.Now()
	rep, err := plan.Apply(ctx, client, f, p, &schema.Lock{}, aopts)
	if code := reportApply(env{stdout: e.stdout, stderr: e.stdout}, rep, err, "example/"+schema.LockFileName, "ecsnet plan example/", time.Since(start)); code != exitOK {
		return fmt.Errorf("apply did not converge")
	}

	step("ecsnet plan example/ (again: nothing to do)")
	lock, err := schema.ReadLockFile(lockPath)
	if err != nil {
		return err
	}
	obs, err = client.Observe(ctx, f)
	if err != nil {
		return fmt.Errorf("observe: %w", err)
	}
	p, err = plan.Compute(f, obs, lock, plan.Options{})
	if err != nil {
		return err
	}
	if err := plan.WriteText(e.stdout, p, plan.TextOptions{}); err != nil {
		return err
	}
	if !p.Empty() {
		return fmt.Errorf("the second plan is not empty")
	}
	if hosts {
		step("ecsnet verify example/ (the hosts' live addresses, routes and rules against the render)")
		keys := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": w.AccessKeys[0].AccessKeyId, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": w.AccessKeys[0].AccessKeySecret}
		venv := env{stdin: e.stdin, stdout: e.stdout, stderr: e.stdout, getenv: func(k string) string { return keys[k] }}
		if code := runVerify(ctx, []string{"--endpoint", endpoint, fleetDir}, venv); code != exitOK {
			return fmt.Errorf("ecsnet verify found the hosts differ from the render (exit %d)", code)
		}
	}
	fmt.Fprintf(e.stdout, "\nemulator: %d mutating calls in all. The lock, example/%s, records what the cloud picked:\n", srv.MutatingCalls(), schema.LockFileName)
	for _, x := range f.ENIs {
		if l := lock.Secondary(x.Name); l != nil && (x.Counted || !x.PrimaryIP.IsValid()) {
			fmt.Fprintf(e.stdout, "  eni/%-12s %s  primary %s, secondary %s\n", x.Name, l.ID, l.PrimaryIP, addrList(l.Addrs()))
		}
	}
	for _, in := range f.Instances {
		if l := lock.Primary(in.Name); l != nil && in.Primary.Counted {
			fmt.Fprintf(e.stdout, "  instance/%-7s %s  secondary %s\n", in.Name, l.ID, addrList(l.Addrs()))
		}
	}

	step("ecsnet render --out rendered/ example/")
	bundles, missing, err := render.Fleet(f, lock)
	if err != nil {
		return err
	}
	if missing != nil {
		return missing
	}
	out := filepath.Join(dir, "rendered")
	if _, err := writeBundles(out, f.Name, []render.Input{{What: "the desired state", Path: fleetDir}, {What: "the lock", Path: lockPath}}, bundles, true); err != nil {
		return err
	}
	for _, in := range f.Instances {
		fmt.Fprintf(e.stdout, "  %-8s %-15s %d files\n", in.Name, in.Network, len(bundles[in.Name]))
	}
	fmt.Fprintf(e.stdout, "each host's files, its apply script and manifest.json are under rendered/<instance>/\n")
	return nil
}

// demoEmulator starts the demo's emulator. As root it runs the hosts too
// (network namespaces), and the demo closes the loop on them; otherwise,
// or when hosts mode does not start (a tool its guests need is missing),
// it stays in the cloud, and cloudOnly says why in the user's terms.
func demoEmulator(w *emulator.World, opts emulator.Options, root bool) (srv *emulator.Server, cloudOnly string, err error) {
	if !root {
		srv, err = emulator.New(w, opts)
		return srv, "not root: cloud-only (run make demo as root to also configure the hosts: apply --hosts, then verify)", err
	}
	if opts.Hosts == nil {
		opts.Hosts = &emulator.HostsConfig{}
	}
	if srv, err = emulator.New(w, opts); err == nil {
		return srv, "", nil
	}
	cloudOnly = fmt.Sprintf("cloud-only: hosts mode did not start, so the hosts are not configured: %v", err)
	opts.Hosts = nil
	srv, err = emulator.New(w, opts)
	return srv, cloudOnly, err
}

func addrList(as []netip.Addr) string {
	if len(as) == 0 {
		return "none"
	}
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// copyFS writes the tree under root of fsys into dir.
func copyFS(dir string, fsys fs.FS, root string) error {
	return fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
}
