package main

import "syscall"

// isTTY reports whether fd is a console: GetConsoleMode fails on files,
// pipes and NUL.
func isTTY(fd uintptr) bool {
	var mode uint32
	return syscall.GetConsoleMode(syscall.Handle(fd), &mode) == nil
}
