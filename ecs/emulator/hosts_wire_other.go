//go:build !linux

package emulator

import "net"

// listenInNetns is never reached: hosts mode refuses to start off Linux.
func listenInNetns(string, string) (net.Listener, error) { return nil, errHostsLinuxOnly }
