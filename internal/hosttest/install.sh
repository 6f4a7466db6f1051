#!/usr/bin/env bash
# install.sh installs everything the real-tool tests of ecsnet need
# (package internal/hosttest, render/realtool_test.go and the shellcheck
# and PowerShell checks of render/scripts_test.go) on Debian 12 or
# later, as root. .ci/run calls it before `go test` with
# ECSNET_REQUIRE_REAL_TOOLS=1, which turns every "tool missing" skip into a
# failure.
#
# Idempotent: packages already installed are left alone (no apt-get update
# when nothing is missing), and the npm tarballs are fetched only when the
# cache lacks them.
#
# No daemon is started: while it installs, a policy-rc.d that answers 101
# ("action forbidden") is in place, which invoke-rc.d and deb-systemd-invoke
# both honour. The packages this script newly installs that would take over
# the machine's network at the next boot (NetworkManager, cloud-init) are
# disabled, so the tools are there but never run as services.
#
# The npm packages go to ECSNET_TOOL_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/ecsnet), where hosttest.PowerShellSyntax
# looks for them; it fetches them itself when they are missing and npm is
# there.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
	echo "install.sh: run as root (apt-get install)" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null; then
	echo "install.sh: needs a Debian-based system (apt-get)" >&2
	exit 1
fi

start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive

# Debian packages, and the command each one must provide.
#   ifupdown      ifup/ifdown             the eni family for real in namespaces
#   iproute2      ip                      namespaces, veths, read-back with ip -j
#   netplan.io    netplan                 netplan generate --root-dir
#   network-manager nmcli, NetworkManager, nm-online
#                                         nmcli --offline keyfile round trip;
#                                         NetworkManager --no-daemon in a namespace
#   dbus-daemon   dbus-daemon             NetworkManager's private system bus
#   cloud-init    cloud-init              cloud-init devel net-convert cross-check;
#                                         hosts mode's per-boot render of the
#                                         primary ENI's file
#   dnsmasq-base  dnsmasq                 hosts mode's DHCP on the vSwitch side
#   util-linux    unshare, nsenter        private mount namespaces, entering a daemon's
#   systemd       systemd-networkd        run networkd in a namespace (no daemon is started)
#   debootstrap, systemd-container
#                 debootstrap, systemd-nspawn
#                                         guests booted from a Debian root
#                                         (internal/hosttest/daemons, with
#                                         ECSNET_NSPAWN_GUESTS=1)
#   the shellcheck package, command shellcheck: lints render/scripts/*.sh
#                 and the rendered scripts
#   dnsmasq-base  dnsmasq                 the emulator's vSwitch side: DHCP for each ENI
#   isc-dhcp-client, iputils-ping, curl
#                 dhclient, ping, curl    the vSwitch side's test (DHCP, gateways, metadata)
#   nodejs, npm   node, npm               tree-sitter-powershell (wasm)
#   ca-certificates                       npm over https
packages=(ifupdown iproute2 netplan.io network-manager dbus-daemon cloud-init util-linux systemd debootstrap systemd-container shellcheck dnsmasq-base isc-dhcp-client iputils-ping curl ca-certificates)
commands=(ifup ip netplan nmcli NetworkManager nm-online dbus-daemon cloud-init unshare nsenter flock debootstrap systemd-nspawn shellcheck dnsmasq dhclient ping curl)

# Node: a node already on PATH (e.g. a newer one from another repository)
# is kept; installing Debian's npm beside it would conflict.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
	if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != "ii " ]; then
		missing+=("$p")
	fi
done

new_nm=no new_cloudinit=no
if [ ${#missing[@]} -gt 0 ]; then
	for p in "${missing[@]}"; do
		case $p in
		network-manager) new_nm=yes ;;
		cloud-init) new_cloudinit=yes ;;
		esac
	done
	echo "install.sh: installing ${missing[*]}"
	made_policy=no
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\n# ecsnet install.sh: start no daemon while installing\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=yes
	fi
	cleanup() { if [ "$made_policy" = yes ]; then rm -f /usr/sbin/policy-rc.d; fi; }
	trap cleanup EXIT
	# cloud-init must never run on this machine's next boot: it would
	# rewrite the machine's own network configuration.
	if [ "$new_cloudinit" = yes ]; then
		mkdir -p /etc/cloud
		touch /etc/cloud/cloud-init.disabled
	fi
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	if [ "$new_nm" = yes ] && command -v systemctl >/dev/null; then
		# Installed for nmcli --offline only; do not let it manage the
		# machine's interfaces after a reboot.
		systemctl disable NetworkManager.service NetworkManager-wait-online.service >/dev/null 2>&1 || true
	fi
	cleanup
	trap - EXIT
else
	echo "install.sh: Debian packages already installed"
fi

for c in "${commands[@]}" node npm; do
	if ! command -v "$c" >/dev/null && [ ! -x "/usr/sbin/$c" ] && [ ! -x "/sbin/$c" ]; then
		echo "install.sh: $c is still missing after the install" >&2
		exit 1
	fi
done
if [ ! -x /lib/systemd/systemd-networkd ] && [ ! -x /usr/lib/systemd/systemd-networkd ]; then
	echo "install.sh: systemd-networkd is still missing after the install" >&2
	exit 1
fi

# tree-sitter-powershell and its wasm runtime, unpacked the way
# hosttest.PowerShellSyntax expects: CACHE/tree-sitter/<pkg>@<version>/.
# `npm pack` downloads the tarball only (no install scripts run).
cache=${ECSNET_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ecsnet}
for spec in tree-sitter-powershell@0.26.4 web-tree-sitter@0.27.2; do
	dir=$cache/tree-sitter/$spec
	if [ -f "$dir/package.json" ]; then
		continue
	fi
	echo "install.sh: fetching $spec"
	tmp=$(mktemp -d)
	(cd "$tmp" && npm pack --silent "$spec" >/dev/null)
	mkdir -p "$tmp/x"
	tar -xzf "$tmp"/*.tgz -C "$tmp/x"
	mkdir -p "$cache/tree-sitter"
	rm -rf "$dir"
	mv "$tmp/x/package" "$dir"
	rm -rf "$tmp"
done

echo "install.sh: ready in $(($(date +%s) - start)) s"
