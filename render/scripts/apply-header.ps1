# Rendered by ecsnet from the desired state and the lock; ecsnet render
# rewrites it, so do not edit it here.
#
# Run it as Administrator from the console or Cloud Assistant, not over an
# RDP session through the primary ENI: making its DHCP address static cuts
# connectivity for a moment. It is idempotent, skips what is already
# right, removes the addresses an earlier run added that the file no longer
# has (it records them in $env:ProgramData\ecsnet\<fleet>\state.json), and
# exits non-zero with a message on the first failure.
#
# Windows has no routing rules. A secondary ENI gets a default route via
# its own gateway with a high interface metric: the primary ENI keeps the
# default route for new connections, and Windows' strong host model sends
# traffic from a secondary ENI's addresses through that ENI only, where its
# own default route is the only one (what "from <ip> lookup <table>" does on
# Linux). Secondary addresses get SkipAsSource, so they are never chosen as
# the source of new connections.
#Requires -Version 4.0

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 1

# ---- What this host should have (rendered) ----
