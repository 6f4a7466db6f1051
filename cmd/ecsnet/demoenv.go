package main

// This file sets up what the demo runs the job in: its copy of the
// example fleet and its emulator, served on loopback.

import (
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/internal/guestroot"
)

// demoServer is the demo's emulator, served over HTTP on loopback.
type demoServer struct {
	srv      *emulator.Server
	endpoint string // http://127.0.0.1:PORT
	demoMode
	hs *http.Server
}

// demoMode is how the demo's emulator runs the hosts, each field in the
// user's terms.
type demoMode struct {
	// cloudOnly says why the hosts are not emulated; "" in hosts mode.
	cloudOnly string
	// guestRoot is the Debian root the NetworkManager, networkd and
	// netplan hosts boot from; "" when they only record their commands.
	guestRoot string
	// noGuestRoot says, in hosts mode without a guest root, why there is
	// none; the demo prints it once, with how to get one.
	noGuestRoot string
}

// startDemoEmulator serves the world w on loopback, attaches finishing in
// 20 ms; as root with the hosts too, booting guests from guestRoot when it
// is a complete root (see demoEmulator).
func startDemoEmulator(w *emulator.World, root bool, guestRoot string) (*demoServer, error) {
	srv, mode, err := demoEmulator(w, emulator.Options{AsyncDelay: 20 * time.Millisecond}, root, guestRoot)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	return &demoServer{srv: srv, endpoint: "http://" + ln.Addr().String(), demoMode: mode, hs: hs}, nil
}

// close stops serving, then ends the hosts' guests in hosts mode.
func (d *demoServer) close() {
	d.hs.Close()
	d.srv.Close()
}

// demoEmulator starts the demo's emulator. As root it runs the hosts too
// (network namespaces), and the demo closes the loop on them: with
// guestRoot, when it is a complete root (guestroot.Check), the
// NetworkManager, networkd and netplan hosts boot from it and run for
// real, as ecsnet emulator --hosts does with its default root; without
// one, or when the booted guests do not start, those hosts only record
// their commands and mode.noGuestRoot says why and how to get a root.
// Not as root, or when hosts mode does not start at all (a tool its
// guests need is missing), it stays in the cloud, and mode.cloudOnly says
// why.
func demoEmulator(w *emulator.World, opts emulator.Options, root bool, guestRoot string) (srv *emulator.Server, mode demoMode, err error) {
	if !root {
		srv, err = emulator.New(w, opts)
		mode.cloudOnly = "not root: cloud-only (run make demo as root to also configure the hosts: apply --hosts, then verify)"
		return srv, mode, err
	}
	hosts := emulator.HostsConfig{}
	if opts.Hosts != nil {
		hosts = *opts.Hosts
	}
	if err := guestroot.Check(guestRoot); err != nil {
		mode.noGuestRoot = fmt.Sprintf("no guest root: %v", err)
	} else {
		booted := hosts
		booted.GuestRoot = guestRoot
		opts.Hosts = &booted
		if srv, err = emulator.New(w, opts); err == nil {
			mode.guestRoot = guestRoot
			return srv, mode, nil
		}
		mode.noGuestRoot = fmt.Sprintf("the guests did not boot from the guest root %s: %v", guestRoot, err)
	}
	hosts.GuestRoot = ""
	opts.Hosts = &hosts
	if srv, err = emulator.New(w, opts); err == nil {
		return srv, mode, nil
	}
	mode = demoMode{cloudOnly: fmt.Sprintf("cloud-only: hosts mode did not start, so the hosts are not configured: %v", err)}
	opts.Hosts = nil
	srv, err = emulator.New(w, opts)
	return srv, mode, err
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
