#
# Brings this host's secondary addresses, ENI route tables and rules up
# with ip(8), finding each NIC by its MAC. Idempotent: it adds only what
# is missing. ecsnet-<fleet>.service runs it at boot; ecsnet-apply.sh
# installs it and also removes what a newer bundle dropped.
#
#   ecsnet-ip.sh [up]     add what is missing
#   ecsnet-ip.sh verify   compare the live state with this script (read-only)
#
# Exit codes: 0 done; 1 failed; 3 refused (a NIC is missing); 4 the live
# state does not match.
