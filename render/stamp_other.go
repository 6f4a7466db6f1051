//go:build !linux && !darwin && !freebsd && !netbsd

package render

import "io/fs"

// stampOf reports false: without an inode and a change time (Windows has
// neither in its FileInfo) an mtime can be set back by hand, so render
// reads every file back and keeps no stat cache.
func stampOf(fs.FileInfo) (stamp, bool) { return stamp{}, false }
