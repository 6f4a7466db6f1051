
# ---- main ----

ECSNET_CMD="${1:-up}"
case "$ECSNET_CMD" in
up)
	ecsnet_require_root
	ecsnet_wait_primary 120
	RESOLVE_ONLY=primary
	ecsnet_resolve_nics
	ecsnet_want_sets
	ecsnet_lock
	ecsnet_load_state
	stack_boot_primary
	ecsnet_wait_nic primary 30
	CHECK_VERBOSE=1
	ecsnet_check primary || exit 4
	ecsnet_log "the primary ENI's secondary addresses are up ($STACK)"
	;;
verify)
	RESOLVE_ONLY=primary
	ecsnet_resolve_nics
	ecsnet_want_sets
	CHECK_VERBOSE=1
	ecsnet_check primary || exit 4
	ecsnet_log "live state matches ($STACK, primary ENI)"
	;;
*)
	echo "usage: $0 [up|verify]" >&2
	exit 1
	;;
esac
