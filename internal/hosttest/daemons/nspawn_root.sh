# nspawn_root.sh makes, once, the Debian root that nspawn guests boot:
# debootstrap of bookworm (minbase) with systemd, dbus, iproute2,
# NetworkManager and netplan. libpam-systemd is named because debootstrap
# does not resolve virtual packages: NetworkManager needs polkitd, which
# needs default-logind | logind, which libpam-systemd provides; without it
# debootstrap fails "while configuring base packages" (polkitd).
# $1 is the directory; it is complete when $1/.ecsnet-complete exists.
# Concurrent callers wait on a lock. No service is enabled here: each
# guest enables its stack's daemon in its own layer.
set -eu
dir=$1
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
[ -e "$dir/.ecsnet-complete" ] && exit 0
rm -rf "$dir.tmp"
debootstrap --variant=minbase \
	--include=systemd,systemd-sysv,libpam-systemd,dbus,iproute2,network-manager,netplan.io \
	bookworm "$dir.tmp" "${ECSNET_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$dir.log" 2>&1 || {
	tail -20 "$dir.log" >&2
	exit 1
}
touch "$dir.tmp/.ecsnet-complete"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
