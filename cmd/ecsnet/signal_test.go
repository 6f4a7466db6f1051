package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowCUE is a small fleet whose evaluation takes minutes: 2^24
// combinations of disjunctions.
func slowCUE(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`fleet:  "shop-test"
region: "cn-hangzhou"
vswitches: "app-h": {id: "vsw-bp1app0000h", zone: "cn-hangzhou-h", cidr: "172.16.0.0/24"}
instances: {}
`)
	const n = 24
	for i := range n {
		fmt.Fprintf(&b, "_d%d: {a%d: 1} | {b%d: 1}\n", i, i, i)
	}
	b.WriteString("_all: _d0")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, " & _d%d", i)
	}
	b.WriteString("\nz: len([for k, _ in _all {k}])\n")
	p := filepath.Join(t.TempDir(), "fleet.cue")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestValidateRefusesNamedPipe: a FIFO in the fleet directory used to
// block validate forever in open(2).
func TestValidateRefusesNamedPipe(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "example", "fleet.cue"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "more.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan struct{})
	var code int
	var stderr string
	go func() {
		defer close(done)
		code, _, stderr = runCLI(t, "validate", dir)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("validate still runs after 10s: it is blocked on the FIFO")
	}
	if code != exitError || !strings.Contains(stderr, fifo+": input is a named pipe (FIFO)") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 naming %s", code, stderr, fifo)
	}
}

// TestSignalStopsLoading runs validate on a fleet whose CUE evaluation
// would take minutes, as a real process, and signals it: it must stop
// within seconds with the shell's code for the signal, leaving no
// evaluation behind.
func TestSignalStopsLoading(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	p := slowCUE(t)
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 143}, {syscall.SIGINT, 130}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "validate", "--eval-time", "10m", p)
			cmd.Env = []string{"ECSNET_TEST_MAIN=1", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second) // well into the evaluation
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("validate still ran 10s after %v", tc.sig)
			}
			t.Logf("stopped %v after the signal", time.Since(start))
			if got := cmd.ProcessState.ExitCode(); got != tc.code {
				t.Errorf("exit code %d after %v, want %d; stderr:\n%s", got, tc.sig, tc.code, stderr.String())
			}
		})
	}
}
