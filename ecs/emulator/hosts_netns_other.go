//go:build !linux

package emulator

import (
	"context"
	"errors"
	"os/exec"
)

// Hosts mode is Linux's: network and mount namespaces, overlayfs and
// nsenter (hosts_netns.go). Elsewhere the package still builds, because
// ecsnet is released for macOS and Windows too and its emulator serves
// the cloud there, and hosts mode refuses to start (findTools).

var errHostsLinuxOnly = errors.New("hosts mode runs on Linux only (it makes network and mount namespaces)")

const hostsPrefix = "ecsnet-emu-"

type nsTools struct{ ip, nsenter, unshare, sh string }

type nsHandle struct{ net, wire, mnt, uts string }

func findTools() (nsTools, error)                                      { return nsTools{}, errHostsLinuxOnly }
func lookTool(string) (string, error)                                  { return "", errHostsLinuxOnly }
func runTool(context.Context, string, ...string) error                 { return errHostsLinuxOnly }
func newHandle(name string) nsHandle                                   { return nsHandle{net: name, wire: name + "-w"} }
func (nsTools) create(context.Context, nsHandle, string, string) error { return errHostsLinuxOnly }
func (nsTools) createNet(context.Context, nsHandle) error              { return errHostsLinuxOnly }
func (nsTools) destroy(nsHandle) error                                 { return nil }
func (nsTools) sweepStale(string)                                      {}
func releaseNSDir()                                                    {}
func setOpaque(string) error                                           { return errHostsLinuxOnly }

// enter is never reached (findTools fails first); its command fails.
func (nsTools) enter(ctx context.Context, _ nsHandle, _ []string, _ ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ecsnet-emulator-hosts-mode-needs-linux")
}

// Booted guests (hosts_nspawn.go) are Linux's too.

type nspawnGuest struct{ pid1 int }

var errNoCloudInit = errHostsLinuxOnly

func (*Host) makeGuestTree() error                       { return errHostsLinuxOnly }
func (*Host) bootGuestLocked(context.Context) error      { return errHostsLinuxOnly }
func (*Host) haltGuestLocked()                           {}
func (*Host) writeCloudInitLocked(context.Context) error { return errHostsLinuxOnly }
func (*Host) primaryByDHCPLocked() bool                  { return false }
func (*Host) guestCommand(ctx context.Context, _ int, _ []string, _ ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ecsnet-emulator-hosts-mode-needs-linux")
}
