package main

import (
	"syscall"
	"unsafe"
)

// isTTY reports whether fd is a terminal: the TIOCGETA ioctl succeeds only
// on one (/dev/null is a character device, but no terminal).
func isTTY(fd uintptr) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCGETA, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
