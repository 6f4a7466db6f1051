//go:build darwin || freebsd || netbsd

package render

import (
	"io/fs"
	"syscall"
)

// stampOf returns the stamp of an lstat result.
func stampOf(fi fs.FileInfo) (stamp, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return stamp{}, false
	}
	return stamp{dev: uint64(st.Dev), ino: uint64(st.Ino), size: st.Size,
		mtime: st.Mtimespec.Nano(), ctime: st.Ctimespec.Nano(), mode: uint32(fi.Mode())}, true
}
