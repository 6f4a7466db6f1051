package emulator

import "syscall"

// setOpaque marks an overlayfs upper directory opaque, so the machine's
// directory below it does not show through.
func setOpaque(dir string) error {
	return syscall.Setxattr(dir, "trusted.overlay.opaque", []byte("y"), 0)
}
