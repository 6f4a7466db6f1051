# root.sh makes, once, the Debian root that hosts mode's nspawn guests
# (and internal/hosttest/daemons.BootNspawn) boot: debootstrap of bookworm
# (minbase) with the packages $2 names, comma-separated (guestroot.Packages).
# libpam-systemd is among them because debootstrap does not resolve
# virtual packages: NetworkManager needs polkitd, which needs
# default-logind | logind, which libpam-systemd provides; without it
# debootstrap fails "while configuring base packages" (polkitd).
# $1 is the directory; it is complete when $1/.ecsnet-complete exists.
# Concurrent callers wait on a lock. No service is enabled here: each
# guest enables its stack's daemon in its own layer.
set -eu
dir=$1 include=$2
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
[ -e "$dir/.ecsnet-complete" ] && exit 0
rm -rf "$dir.tmp"
echo "guest root: debootstrap bookworm into $dir (a few minutes; log: $dir.log)" >&2
debootstrap --variant=minbase --include="$include" \
	bookworm "$dir.tmp" "${ECSNET_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$dir.log" 2>&1 || {
	tail -20 "$dir.log" >&2
	exit 1
}
# network-manager's postinst enables NetworkManager; each guest enables
# its own stack's daemon (guestroot.Enable), so nothing is enabled here: a
# networkd or netplan host runs no NetworkManager.
rm -f "$dir.tmp/etc/systemd/system/multi-user.target.wants/NetworkManager.service" \
	"$dir.tmp/etc/systemd/system/network-online.target.wants/NetworkManager-wait-online.service" \
	"$dir.tmp/etc/systemd/system/dbus-org.freedesktop.nm-dispatcher.service"
# The apt caches are not needed to boot; they are most of the size.
rm -rf "$dir.tmp/var/cache/apt/archives/"*.deb "$dir.tmp/var/lib/apt/lists/"*
printf '%s\n' "$include" >"$dir.tmp/.ecsnet-complete"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
