package main

import (
	"syscall"
	"unsafe"
)

// isTTY reports whether fd is a terminal: the TCGETS ioctl succeeds only
// on one. A character device is not enough: /dev/null is one too, and
// apply </dev/null (cron, nohup) has no one to answer its question.
func isTTY(fd uintptr) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
