# boot.sh boots a guest: the Debian root ($1) under an overlay whose upper
# layer ($2, with the guest's files already in it) takes every write,
# with systemd-nspawn in the network namespace $4 (holding the veths with
# the ENIs' MACs). $3 is the overlay's work directory, $5 the guest's host
# name; the rest are extra systemd-nspawn options (--bind-ro=...).
# Run under `unshare --mount --propagation private`, so the overlay
# vanishes with the guest.
#
# --register=no: no machined (no system bus on the machine).
# --keep-unit: no scope unit (PID 1 of a container is often not systemd).
# --capability=CAP_NET_ADMIN: nspawn grants it only with a network
#   namespace it makes itself; without it NetworkManager's link changes
#   fail with EPERM.
set -eu
root=$1 upper=$2 work=$3 netns=$4 name=$5
shift 5
merged=$upper.merged
mkdir -p "$merged"
mount -t overlay ecsnet-guest -o "lowerdir=$root,upperdir=$upper,workdir=$work" "$merged"
exec systemd-nspawn --quiet --directory="$merged" --boot \
	--register=no --keep-unit --console=pipe \
	--network-namespace-path="/run/netns/$netns" \
	--capability=CAP_NET_ADMIN \
	--machine="$name" "$@"
