# It delivers ecsnet-apply.ps1 through Cloud Assistant (RunPowerShellScript)
# and applies it safely, on the host by itself: it records the live IPv4
# addresses, interfaces and default routes and backs up the state record,
# runs the script, verifies the addresses (with SkipAsSource) and routes,
# then probes (each ENI's gateway with ping.exe -S, the metadata service
# and Cloud Assistant); if any fails it re-runs the previous script,
# restores the record and the live state as they were, and exits non-zero.
#
# Exit codes: 0 applied and verified; 1 could not run (nothing changed);
# 3 refused (nothing changed); 5 failed and rolled back (the host is as it
# was); 6 failed and the rollback left differences (fix by hand).
#Requires -Version 4.0

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 1

