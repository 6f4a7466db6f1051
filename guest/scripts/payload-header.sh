#
# ecsnet payload: delivers this host's bundle through Cloud Assistant
# (RunShellScript) and applies it safely, on the host by itself: it waits
# for each secondary ENI's interface, backs up what it replaces, runs
# ecsnet-apply.sh apply, then verify, then probes (each address on its
# interface, each ENI's vSwitch gateway, the metadata service and Cloud
# Assistant); if any fails it re-applies the previous bundle, restores the
# backup and the live addresses, rules and routes as they were, and exits
# non-zero.
#
# Exit codes: 0 applied and verified; 1 could not run (nothing changed);
# 3 refused (nothing changed); 5 failed and rolled back (the host is as it
# was); 6 failed and the rollback left differences (fix by hand). The last
# line says how it ended: "ecsnet: <instance>: result: ...".
