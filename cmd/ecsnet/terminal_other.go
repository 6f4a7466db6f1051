//go:build !linux && !darwin && !windows

package main

import "os"

// isTTY falls back to "a character device" where ecsnet knows no
// terminal ioctl; it takes /dev/null for a terminal, so an apply there
// without one asks and then reads no answer, which cancels it.
func isTTY(fd uintptr) bool {
	st, err := os.NewFile(fd, "").Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
