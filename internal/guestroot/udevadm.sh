#!/bin/sh
# Harness rewrite (guestroot.Rewrites): a booted guest has no udev and a
# read-only /sys, so `udevadm trigger` cannot write a uevent (EROFS), and
# `netplan apply`, which runs `udevadm trigger --attr-match=subsystem=net`
# and `udevadm settle` unconditionally, would fail. On a real host they
# make udev apply netplan's .link files (renames); here the NICs already
# carry their final names. netplan apply runs trigger after it has
# regenerated /run/systemd/network and before it reloads networkd, which
# is where the rewrite of ecsnet-veth-mac.service (at boot) must happen
# again: PermanentMACAddress= becomes MACAddress= (a veth has no
# permanent MAC) and the .link files go. Every other subcommand is the
# real udevadm's.
case ${1:-} in
trigger)
	for f in /run/systemd/network/*.network; do
		[ -e "$f" ] && sed -i 's/^PermanentMACAddress=/MACAddress=/' "$f"
	done
	rm -f /run/systemd/network/*.link
	exit 0
	;;
settle) exit 0 ;;
esac
exec /usr/bin/udevadm "$@"
