package emulator

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// listenInNetns opens a TCP listener on addr inside the network namespace
// at nsPath (a /run/netns file). A socket stays in the namespace it was
// made in, so the listener serves that namespace from this process while
// nothing listens on the machine's own network. The socket is made on a
// locked OS thread moved into the namespace and back; a thread that could
// not get back stays locked, so it ends with its goroutine and no other
// goroutine ever runs in the wrong namespace.
func listenInNetns(nsPath, addr string) (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), syscall.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer self.Close()
		target, err := os.Open(nsPath)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer target.Close()
		if err := setns(target); err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("enter %s: %w", nsPath, err)}
			return
		}
		ln, lerr := net.Listen("tcp4", addr)
		if err := setns(self); err != nil {
			if ln != nil {
				ln.Close()
			}
			ch <- result{err: fmt.Errorf("leave %s: %w", nsPath, err)}
			return // the thread stays locked and ends with this goroutine
		}
		runtime.UnlockOSThread()
		ch <- result{ln, lerr}
	}()
	r := <-ch
	return r.ln, r.err
}

// setns moves the calling thread into the network namespace of f.
func setns(f *os.File) error {
	return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
}

// setPgid starts cmd in a process group of its own, so that killGroup
// reaches whatever it forks.
func setPgid(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup signals the process group led by pid.
func killGroup(pid int, sig syscall.Signal) { syscall.Kill(-pid, sig) }
