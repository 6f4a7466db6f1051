//go:build !linux

package emulator

import (
	"net"
	"os/exec"
	"syscall"
)

// listenInNetns is never reached: hosts mode refuses to start off Linux.
func listenInNetns(string, string) (net.Listener, error) { return nil, errHostsLinuxOnly }

// setPgid and killGroup are never reached off Linux (hosts mode refuses
// to start); they exist so that the package builds for every release.
func setPgid(*exec.Cmd)             {}
func killGroup(int, syscall.Signal) {}
