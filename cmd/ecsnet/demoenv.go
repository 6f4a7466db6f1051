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
)

// demoServer is the demo's emulator, served over HTTP on loopback.
type demoServer struct {
	srv      *emulator.Server
	endpoint string // http://127.0.0.1:PORT
	// cloudOnly says, in the user's terms, why the hosts are not
	// emulated; "" in hosts mode.
	cloudOnly string
	hs        *http.Server
}

// startDemoEmulator serves the world w on loopback, attaches finishing in
// 20 ms; as root with the hosts too (see demoEmulator).
func startDemoEmulator(w *emulator.World, root bool) (*demoServer, error) {
	srv, cloudOnly, err := demoEmulator(w, emulator.Options{AsyncDelay: 20 * time.Millisecond}, root)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if cloudOnly == "" {
			srv.Close()
		}
		return nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	return &demoServer{srv: srv, endpoint: "http://" + ln.Addr().String(), cloudOnly: cloudOnly, hs: hs}, nil
}

// close stops serving, then ends the hosts' guests in hosts mode.
func (d *demoServer) close() {
	d.hs.Close()
	if d.cloudOnly == "" {
		d.srv.Close()
	}
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
