// Package hosttest is a test helper, not product API: it proves rendered
// host files with the real OS tools on a Debian machine (host-config.md
// §7), for the tests of package render and, later, the host emulator.
//
// What it runs:
//   - network namespaces (NewNetns) with veths whose MACs are the ENIs',
//     and a private mount namespace per command, so that a bundle's apply
//     script run with ROOT=/ sees its own /etc, /var and /run and never
//     the machine's;
//   - ifupdown, the iproute2 scripts and the apply scripts inside them, and
//     systemd-networkd itself (StartNetworkd: with a read-only /sys it
//     runs without udev), read back with `ip -j` (Addrs, Rules, Routes);
//   - NetworkManager itself (StartNetworkManager: `NetworkManager
//     --no-daemon` with a private dbus-daemon), whose commands run in its
//     own mount namespace (Daemon.Command) so its files stay its own;
//   - `netplan generate --root-dir` (NetplanGenerate), `nmcli --offline`
//     (NMOfflineRoundTrip, NMLost), bash sourcing of ifcfg files
//     (SourceIfcfg) and wicked's sysconfig reading rule
//     (ReadWickedSysconfig), `cloud-init devel net-convert` (NetConvert);
//   - tree-sitter-powershell through node (PowerShellSyntax).
//
// A test that needs root or a tool skips with a clear message when it is
// missing, unless ECSNET_REQUIRE_REAL_TOOLS=1 (CI sets it): then the same
// test fails, so CI cannot pass by skipping. install.sh beside this file
// installs everything on Debian.
//
// The namespace core (Create, Close, AddLink, DelLink, Command, Exec and
// the Parse functions) returns errors and takes no testing.TB, so the host
// emulator of the delivery issue can reuse it (or move it to a package of
// its own); the rest takes a testing.TB.
//
// Its sub-package standin builds on it with render's host model (a
// namespace standing in for a rendered host, its wanted and live state),
// for render's and guest's real-tool tests; hosttest itself may not import
// render, whose own tests import hosttest. Sub-package daemons boots
// rendered hosts under their stack's real daemon, in a namespace or as a
// debootstrapped Debian guest under systemd-nspawn.
//
// Network tests send nothing outside the namespaces they create.
package hosttest
