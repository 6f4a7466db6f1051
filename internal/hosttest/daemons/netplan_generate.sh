# netplan_generate.sh runs netplan generate on a hosttest namespace's
# /etc/netplan, as netplan's systemd generator does at boot, writing
# /run/systemd/network; then makes its output match veths (daemons.Rewrites):
# a veth has no permanent MAC, so PermanentMACAddress= becomes MACAddress=
# (the veths carry the ENIs' MACs), and the .link files, which only rename,
# go (no udev runs; the veths already have their names).
set -eu
netplan generate
for f in /run/systemd/network/*.network; do
	[ -e "$f" ] || continue
	sed -i 's/^PermanentMACAddress=/MACAddress=/' "$f"
done
rm -f /run/systemd/network/*.link
