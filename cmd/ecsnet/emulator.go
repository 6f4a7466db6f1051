package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/fixtures"
	"github.com/ecsnet/ecsnet/internal/guestroot"
)

type emulatorArgs struct {
	listen    string
	world     string
	seed      int64
	clock     emulatorClock // emulator_faults.go
	latency   time.Duration
	throttle  float64
	serverErr float64
	hosts     bool
	hostsDir  string
	guestRoot string
	buildRoot bool
	account   emulatorAccount // emulator_account.go
}

func emulatorFlags(a *emulatorArgs) *pflag.FlagSet {
	fs := newFlagSet("emulator")
	fs.StringVar(&a.listen, "listen", "127.0.0.1:0", "address to listen on (loopback only: the emulator is for rehearsals and tests)")
	fs.StringVar(&a.world, "world", "", "world file: the emulated cloud (default: the bundled example's world)")
	fs.Int64Var(&a.seed, "seed", 0, "seed for IDs, MACs and picked addresses (default: the world's)")
	a.clock.register(fs)
	fs.DurationVar(&a.latency, "latency", 0, "latency added to every call")
	fs.Float64Var(&a.throttle, "throttle-rate", 0, "share of calls answered with Throttling (0 to 1)")
	fs.Float64Var(&a.serverErr, "server-error-rate", 0, "share of calls answered with a 5xx (0 to 1)")
	fs.BoolVar(&a.hosts, "hosts", false, "emulate the guests too (root only): Debian/ifupdown and generic-Linux instances become network and mount namespaces, NetworkManager, networkd and netplan instances Debian guests booted with systemd-nspawn (with a guest root), all running Cloud Assistant shell scripts for real; ifcfg, wicked and Windows instances record and parse-check them")
	fs.StringVar(&a.hostsDir, "hosts-dir", "", "with --hosts: where the guests' private file trees go (default: the temporary directory)")
	fs.StringVar(&a.guestRoot, "guest-root", "", "with --hosts: the Debian root the NetworkManager, networkd and netplan guests boot (default: the one --build-guest-root makes, under $ECSNET_TOOL_CACHE or ~/.cache/ecsnet/nspawn, when it is complete); with --build-guest-root: where to build it")
	fs.BoolVar(&a.buildRoot, "build-guest-root", false, "build the guest root with debootstrap (root only; a few minutes, needs a Debian mirror), print its directory and exit")
	a.account.register(fs)
	return fs
}

// runEmulator serves the ECS API emulator until interrupted.
func runEmulator(ctx context.Context, args []string, e env) int {
	var a emulatorArgs
	fs := emulatorFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if a.buildRoot {
		return buildGuestRoot(ctx, a.guestRoot, e)
	}
	w, err := readWorld(a.world)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet emulator: %v\n", err)
		return exitError
	}
	host, _, err := net.SplitHostPort(a.listen)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet emulator: --listen: %v\n", err)
		return exitError
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(e.stderr, "ecsnet emulator: --listen %s: listen on a loopback address (127.0.0.1 or ::1)\n", a.listen)
		return exitError
	}
	opts := emulator.Options{Seed: a.seed, Latency: a.latency, ThrottleRate: a.throttle, ServerErrorRate: a.serverErr}
	if err := a.clock.apply(fs, w, &opts); err != nil {
		fmt.Fprintf(e.stderr, "ecsnet emulator: %v\n", err)
		return exitError
	}
	a.account.apply(fs, &opts)
	for _, x := range []struct {
		set  bool
		flag string
	}{{a.hostsDir != "", "--hosts-dir"}, {a.guestRoot != "", "--guest-root"}} {
		if x.set && !a.hosts {
			fmt.Fprintf(e.stderr, "ecsnet emulator: %s needs --hosts\n", x.flag)
			return exitError
		}
	}
	if a.hosts {
		if os.Geteuid() != 0 {
			fmt.Fprintln(e.stderr, "ecsnet emulator: --hosts needs root: the emulated guests are network and mount namespaces; run it as root, or leave --hosts out (commands then run nothing and say so)")
			return exitError
		}
		opts.Hosts = &emulator.HostsConfig{Dir: a.hostsDir, Log: e.stderr, GuestRoot: a.guestRoot}
		if a.guestRoot == "" {
			if def := guestroot.Dir(); guestroot.Check(def) == nil {
				opts.Hosts.GuestRoot = def
			} else {
				fmt.Fprintf(e.stderr, "ecsnet emulator: hosts: no guest root at %s, so NetworkManager, networkd and netplan instances only record their commands; build it with `ecsnet emulator --build-guest-root` (or make guest-root)\n", def)
			}
		}
	}
	srv, err := emulator.New(w, opts)
	if err != nil {
		if errors.Is(err, emulator.ErrHostsNeedRoot) {
			fmt.Fprintf(e.stderr, "ecsnet emulator: --hosts: %v\n", err)
		} else {
			fmt.Fprintf(e.stderr, "ecsnet emulator: %v\n", err)
		}
		return exitError
	}
	// Shutdown (interrupt, SIGTERM, or a listen failure) deletes every
	// namespace the guests were made of.
	defer func() {
		if err := srv.Close(); err != nil {
			fmt.Fprintf(e.stderr, "ecsnet emulator: removing the emulated guests: %v\n", err)
		} else if a.hosts {
			fmt.Fprintln(e.stderr, "ecsnet emulator: removed the emulated guests' namespaces and files")
		}
	}()
	ln, err := net.Listen("tcp", a.listen)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet emulator: %v\n", err)
		return exitError
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintln(e.stdout, url)
	fmt.Fprintf(e.stderr, "ecsnet emulator: serving region %s at %s (admin: %s/_emulator/calls, %s/_emulator/state)\n", w.RegionId, url, url, url)
	if a.hosts {
		var real, recorded []string
		for _, h := range srv.Hosts() {
			if h.Runs() {
				real = append(real, fmt.Sprintf("%s (%s)", h.Hostname(), h.Stack()))
			} else {
				recorded = append(recorded, fmt.Sprintf("%s (%s)", h.Hostname(), h.Stack()))
			}
		}
		fmt.Fprintf(e.stderr, "ecsnet emulator: hosts: %d run shell scripts for real (%s); %d record them, not executed (%s)\n",
			len(real), strings.Join(real, ", "), len(recorded), strings.Join(recorded, ", "))
	}
	if len(w.AccessKeys) > 0 {
		fmt.Fprintf(e.stderr, "ecsnet emulator: accepts the world's access keys, e.g. ALIBABA_CLOUD_ACCESS_KEY_ID=%s\n", w.AccessKeys[0].AccessKeyId)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(e.stderr, "ecsnet emulator: %v\n", err)
		return exitError
	}
	return exitOK
}

// buildGuestRoot makes the guest root (internal/guestroot) in dir, or
// the default cache directory, and prints where it is.
func buildGuestRoot(ctx context.Context, dir string, e env) int {
	if dir == "" {
		dir = guestroot.Dir()
	}
	if err := guestroot.Build(ctx, dir, e.stderr); err != nil {
		fmt.Fprintf(e.stderr, "ecsnet emulator: --build-guest-root: %v\n", err)
		return exitError
	}
	fmt.Fprintln(e.stdout, dir)
	return exitOK
}

func readWorld(path string) (*emulator.World, error) {
	if path == "" {
		return exampleWorld()
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read world: %w", err)
	}
	defer fh.Close()
	w, err := emulator.ReadWorld(fh)
	if err != nil {
		return nil, fmt.Errorf("world %s: %w", path, err)
	}
	return w, nil
}

func exampleWorld() (*emulator.World, error) {
	return emulator.ReadWorld(bytes.NewReader(fixtures.ExampleWorld))
}
