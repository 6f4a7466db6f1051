#
# Adds the primary ENI's secondary addresses again at boot. On this host's
# network stack they live in the primary's own configuration (its
# NetworkManager profile, or ifcfg-eth0 on SUSE), which cloud-init rewrites
# at every boot without them. ecsnet-<fleet>.service runs it after
# cloud-init and the network stack; ecsnet-apply.sh installs it. It adds
# only what is missing and never touches other addresses.
#
#   ecsnet-primary.sh [up]     add what is missing
#   ecsnet-primary.sh verify   compare the live state with this script (read-only)
#
# Exit codes: 0 done; 1 failed; 3 refused (the primary ENI or its profile
# is missing); 4 the live state does not match.
