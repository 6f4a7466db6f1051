# nspawn_boot.sh boots a guest: the cached Debian root ($1) under an
# overlay whose upper layer ($2, with the guest's files already in it) takes
# every write, with systemd-nspawn in the network namespace $4 (made by
# hosttest, holding the veths with the ENIs' MACs). $3 is the overlay's
# work directory, $5 a host directory bound read-only at /ecsnet-bundle, $6 the
# guest's host name.
# Run under `unshare --mount`, so the overlay vanishes with the guest.
#
# --register=no: no machined (no system bus on this machine).
# --keep-unit: no scope unit (PID 1 here is not systemd).
# --capability=CAP_NET_ADMIN: nspawn grants it only with a network
#   namespace it makes itself; without it NetworkManager's link changes
#   fail with EPERM.
set -eu
root=$1 upper=$2 work=$3 netns=$4 bundle=$5 name=$6
merged=$upper.merged
mkdir -p "$merged"
mount -t overlay ecsnet-guest -o "lowerdir=$root,upperdir=$upper,workdir=$work" "$merged"
exec systemd-nspawn --quiet --directory="$merged" --boot \
	--register=no --keep-unit --console=pipe \
	--network-namespace-path="/run/netns/$netns" \
	--capability=CAP_NET_ADMIN \
	--bind-ro="$bundle:/ecsnet-bundle" \
	--machine="$name"
