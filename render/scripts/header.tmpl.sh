#
# Applies this bundle (network stack: %[1]s) to the running host and keeps
# it there across reboots.
#
#   ecsnet-apply.sh [apply]   install the files, apply them live, verify
#   ecsnet-apply.sh verify    compare the live state with the bundle (read-only)
#
# Exit codes: 0 done; 1 failed; 3 refused before changing anything (wrong
# host, wrong network stack, damaged bundle, missing NIC); 4 applied, but
# the live state does not match the bundle. These are this script's own:
# ecsnet push and apply --hosts run it inside a payload that rolls the
# host back when it fails, and a host's exit code is the payload's, one of
# the host exit codes 0, 1, 3, 5 and 6 (ecsnet help push says what each
# means).
#
# ROOT (default /) is where files are installed and read, and where the
# state record lives (ROOT/var/lib/ecsnet/%[2]s/); commands such as ip(8)
# always act on the running system, so tests point ROOT at a scratch tree
# inside a network namespace.
