package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/fixtures"
	"github.com/ecsnet/ecsnet/guest"
	"github.com/ecsnet/ecsnet/internal/guestroot"
	"github.com/ecsnet/ecsnet/internal/plural"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

type demoArgs struct {
	dir       string
	keep      bool
	guestRoot string
}

func demoFlags(a *demoArgs) *pflag.FlagSet {
	fs := newFlagSet("demo")
	fs.StringVar(&a.dir, "dir", "", "work in this directory instead of a temporary one")
	fs.BoolVar(&a.keep, "keep", false, "keep the temporary directory (fleet, lock, rendered hosts) and print its path")
	fs.StringVar(&a.guestRoot, "guest-root", "", "as root: the Debian root the NetworkManager, networkd and netplan hosts boot, as ecsnet emulator --hosts --guest-root (default: the one make guest-root caches, when it is complete; without one those hosts are not executed)")
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
	if a.guestRoot == "" {
		a.guestRoot = guestroot.Dir()
	}
	if err := demo(ctx, e, dir, a.guestRoot); err != nil {
		fmt.Fprintf(e.stderr, "ecsnet demo: %v\n", err)
		return exitError
	}
	if a.keep || a.dir != "" {
		fmt.Fprintf(e.stdout, "\nThe demo's files are in %s: example/ (the fleet and its lock) and rendered/ (the hosts)\n", dir)
	}
	return exitOK
}

// demo runs the job in dir; as root the hosts boot from guestRoot when it
// is a complete root (demoEmulator).
func demo(ctx context.Context, e env, dir, guestRoot string) error {
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
	emu, err := startDemoEmulator(w, os.Geteuid() == 0, guestRoot)
	if err != nil {
		return err
	}
	defer emu.close()
	srv, endpoint, hosts := emu.srv, emu.endpoint, emu.cloudOnly == ""
	fmt.Fprintf(e.stdout, "serving %s at %s\n", w.RegionId, endpoint)
	if hosts {
		printDemoHosts(e.stdout, f, emu.demoMode)
	} else {
		fmt.Fprintln(e.stdout, emu.cloudOnly)
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
		if !onlyNotExecuted(rep, err) {
			return fmt.Errorf("apply did not converge")
		}
		// apply exits 1 for them, as it must; the demo knows that the
		// emulator only records these hosts, so it goes on.
		fmt.Fprintf(e.stdout, "\nThe demo goes on: the %s not executed above %s that the emulator only records (apply exits 1 for them, as it must).\n",
			plural.Count(len(rep.Failed), "host step", "host steps"), plural.Word(len(rep.Failed), "is a host", "are hosts"))
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
	fmt.Fprintf(e.stdout, "\nemulator: %s in all. The lock, example/%s, records what the cloud picked:\n",
		plural.Count(srv.MutatingCalls(), "mutating call", "mutating calls"), schema.LockFileName)
	printLocked(e.stdout, f, lock)

	step("ecsnet render --out rendered/ example/")
	bundles, missing, err := render.Fleet(f, lock)
	if err != nil {
		return err
	}
	if missing != nil {
		return missing
	}
	out := filepath.Join(dir, "rendered")
	inputs := []render.Input{{What: "the desired state", Path: fleetDir}, {What: "the lock", Path: lockPath}}
	if err := render.CheckOutDir(out, inputs, homeDir(e)); err != nil {
		return err
	}
	if _, err := render.WriteBundles(out, f.Name, bundles, true); err != nil {
		return err
	}
	for _, in := range f.Instances {
		fmt.Fprintf(e.stdout, "  %-8s %-15s %s\n", in.Name, in.Network, plural.Count(len(bundles[in.Name]), "file", "files"))
	}
	fmt.Fprintf(e.stdout, "each host's files, its apply script and manifest.json are under rendered/<instance>/\n")
	return nil
}

// printDemoHosts says how the emulator runs each host in hosts mode: in
// namespaces with this machine's tools, booted from the guest root, or
// recorded and not executed (and then why), with how to get a guest root
// when there is none, once.
func printDemoHosts(w io.Writer, f *schema.Fleet, mode demoMode) {
	var ns, booted, recorded []string
	for _, in := range f.Instances {
		name := fmt.Sprintf("%s (%s)", in.Name, in.Network)
		switch {
		case in.Network == schema.StackIfupdown || in.Network == schema.StackIproute2:
			ns = append(ns, name)
		case slices.Contains(guestroot.Stacks, in.Network):
			booted = append(booted, name)
		default:
			recorded = append(recorded, name)
		}
	}
	fmt.Fprintln(w, "hosts mode: every instance has a guest, and Cloud Assistant delivers each host's script to it")
	fmt.Fprintf(w, "  run for real in network namespaces, with this machine's tools: %s\n", strings.Join(ns, ", "))
	if mode.guestRoot != "" {
		fmt.Fprintf(w, "  run for real under their own systemd, booted by systemd-nspawn from the guest root %s: %s\n", mode.guestRoot, strings.Join(booted, ", "))
	} else if len(booted) > 0 {
		fmt.Fprintf(w, "  not executed, recorded only: %s: %s\n", strings.Join(booted, ", "), mode.noGuestRoot)
		if !strings.Contains(mode.noGuestRoot, "make guest-root") {
			fmt.Fprintln(w, "  (make guest-root builds a guest root, and the demo then boots them)")
		}
	}
	if len(recorded) > 0 {
		fmt.Fprintf(w, "  not executed, recorded only (the emulator cannot run their stacks): %s\n", strings.Join(recorded, ", "))
	}
}

// printLocked lists what the lock records of the ENIs and addresses the
// cloud picked: the ENIs whose primary or secondary addresses are
// counted, and the primary ENIs with counted secondary addresses.
func printLocked(w io.Writer, f *schema.Fleet, lock *schema.Lock) {
	for _, x := range f.ENIs {
		if l := lock.Secondary(x.Name); l != nil && (x.Counted || !x.PrimaryIP.IsValid()) {
			fmt.Fprintf(w, "  eni/%-12s %s  primary %s, secondary %s\n", x.Name, l.ID, l.PrimaryIP, addrList(l.Addrs()))
		}
	}
	for _, in := range f.Instances {
		if l := lock.Primary(in.Name); l != nil && in.Primary.Counted {
			fmt.Fprintf(w, "  instance/%-7s %s  secondary %s\n", in.Name, l.ID, addrList(l.Addrs()))
		}
	}
}
