# daemon_nm.sh runs NetworkManager in the foreground with a private system
# bus, inside a hosttest namespace command (the private /etc, /var and /run
# are already mounted). $1 is the NetworkManager binary, $2 dbus-daemon.
# SIGTERM stops both; whatever NetworkManager configured stays, as it does
# when NetworkManager exits on a real host.
set -eu
nm=$1 bus_bin=$2

# NetworkManager uses udev only when /sys is writable (use_udev in
# NetworkManager's src/libnm-platform/nm-linux-platform.c); no udev runs
# here, so a read-only /sys makes it take links as the kernel reports them.
mount -o remount,ro,bind /sys

# The bus: the system bus's well-known socket, but inside this namespace's
# private /run, and a policy that lets root (the only user here) do
# anything, since no other process can reach it.
mkdir -p /run/dbus /run/ecsnet-nm/conf.d /run/ecsnet-nm/system.d
cat >/run/ecsnet-nm/dbus.conf <<'CONF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
CONF

# NetworkManager's own configuration, replacing the machine's (Debian's
# plugins=ifupdown,keyfile would read /etc/network/interfaces): keyfiles
# only, from the real /etc/NetworkManager/system-connections; no automatic
# DHCP profile on a NIC without one (the primary keeps the address its
# DHCP client left, as NetworkManager keeps any external configuration);
# hands off resolv.conf and the host name, which this namespace shares
# with the machine.
cat >/run/ecsnet-nm/NetworkManager.conf <<'CONF'
[main]
plugins=keyfile
no-auto-default=*
dns=none
rc-manager=unmanaged
hostname-mode=none

[logging]
level=INFO
CONF

# The directories NetworkManager writes to, copied up into the private
# layer now, while this mount is the only one on it: a later copy-up could
# fail once another command mounted the layers (see Daemon.Command).
for d in /etc/NetworkManager/system-connections /var/lib/NetworkManager; do
	mkdir -p "$d"
	: >"$d/.ecsnet-copy-up"
	rm -f "$d/.ecsnet-copy-up"
done

"$bus_bin" --nofork --nopidfile --config-file=/run/ecsnet-nm/dbus.conf &
bus=$!
i=0
while [ ! -S /run/dbus/system_bus_socket ]; do
	i=$((i + 1))
	if [ "$i" -gt 200 ]; then
		echo "daemon_nm.sh: dbus-daemon made no socket in 10 s" >&2
		kill "$bus"
		exit 1
	fi
	sleep 0.05
done

"$nm" --no-daemon --debug \
	--config=/run/ecsnet-nm/NetworkManager.conf \
	--config-dir=/run/ecsnet-nm/conf.d \
	--system-config-dir=/run/ecsnet-nm/system.d &
daemon=$!
trap 'kill -TERM "$daemon" 2>/dev/null || true' TERM INT
status=0
wait "$daemon" || status=$?
# wait returns early when the trap ran; wait again for the daemon's exit.
wait "$daemon" 2>/dev/null || true
kill -TERM "$bus" 2>/dev/null || true
wait "$bus" 2>/dev/null || true
exit "$status"
