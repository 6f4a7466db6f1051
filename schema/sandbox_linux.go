package schema

import "syscall"

// limitMemory caps this process's address space. Past it an allocation
// fails and the Go runtime exits with "out of memory", which the parent
// recognises.
func limitMemory(n uint64) error {
	return syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: n, Max: n})
}

// childAttr makes the child die with its parent: a second Ctrl-C exits
// ecsnet at once, and must not leave an evaluation running.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
