//go:build !linux

package schema

import "syscall"

// limitMemory does nothing outside Linux: the sandbox there caps the
// evaluation's time only.
func limitMemory(n uint64) error { return nil }

func childAttr() *syscall.SysProcAttr { return nil }
