#
# Removes, at boot, ecsnet's configuration for each ENI of this bundle that
# this instance no longer has: an ENI that moved to another instance while
# this one was stopped or unreachable, so that its host-remove never ran.
# ecsnet-<fleet>-reconcile.service runs it before the other ecsnet units;
# ecsnet-apply.sh installs it.
#
# An ENI is gone when the metadata service does not list its MAC for this
# instance and no NIC has it; when the metadata service cannot be asked
# (or answers something this script cannot read), when no NIC has its MAC
# after RECONCILE_GRACE seconds (default 60, for hot-plug). It then removes
# what a bundle without that ENI would not have, and only what ecsnet wrote
# (the state record says): its files, or its lines of a shared file, its
# rules and route table, and its state record entries, and logs each.
#
#   ecsnet-reconcile.sh [up]
#
# Exit codes: 0 done (also when nothing was gone); 1 failed; 3 refused
# (not root, or no ip(8) or bash 4).
