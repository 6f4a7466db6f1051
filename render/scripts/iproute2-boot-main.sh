
# ---- main ----

ECSNET_CMD="${1:-up}"
case "$ECSNET_CMD" in
up)
	ecsnet_require_root
	ecsnet_resolve_nics
	ecsnet_want_sets
	ecsnet_converge_ip
	ecsnet_drop_main_defaults
	CHECK_VERBOSE=1
	ecsnet_check "" || exit 4
	;;
verify)
	ecsnet_resolve_nics
	ecsnet_want_sets
	CHECK_VERBOSE=1
	ecsnet_check "" || exit 4
	ecsnet_log "live state matches ($STACK)"
	;;
*)
	echo "usage: $0 [up|verify]" >&2
	exit 1
	;;
esac
