package standin

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
)

// listenInNetns switches the calling goroutine's thread into the named
// namespace for good (the thread is locked and never unlocked, so the
// runtime retires it when the goroutine ends) and listens there.
func listenInNetns(netns, addr string) (net.Listener, error) {
	runtime.LockOSThread()
	f, err := os.Open("/run/netns/" + netns)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	nr := setnsNR(runtime.GOARCH)
	if nr == 0 {
		return nil, fmt.Errorf("setns: no syscall number known for %s", runtime.GOARCH)
	}
	if _, _, errno := syscall.RawSyscall(nr, f.Fd(), syscall.CLONE_NEWNET, 0); errno != 0 {
		return nil, fmt.Errorf("setns %s: %w", netns, errno)
	}
	return net.Listen("tcp4", addr)
}

// setnsNR is setns(2)'s number on an architecture, 0 when unknown:
// package syscall does not name it, and golang.org/x/sys is not one of the
// module's direct requirements (for one call in a test helper).
func setnsNR(arch string) uintptr {
	switch arch {
	case "amd64":
		return 308
	case "arm64", "riscv64":
		return 268
	case "386":
		return 346
	case "arm":
		return 375
	case "ppc64le":
		return 350
	case "s390x":
		return 339
	}
	return 0
}
