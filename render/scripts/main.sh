
# ---- main ----

ecsnet_apply() {
	ecsnet_require_root
	ecsnet_check_bundle
	stack_preflight
	ecsnet_resolve_nics
	stack_check_nics
	ecsnet_want_sets
	ecsnet_lock
	ecsnet_load_state
	ecsnet_backup_begin
	stack_take_down
	ecsnet_install_files
	stack_bring_up
	if [ -n "${RECONCILE_UNIT:-}" ]; then ecsnet_enable_unit "$RECONCILE_UNIT" "$RECONCILE_SCRIPT"; fi
	ecsnet_remove_dropped
	ecsnet_drop_main_defaults
	ecsnet_write_state
	CHECK_VERBOSE=1
	if ! ecsnet_check ""; then
		ecsnet_warn "the live state does not match the bundle (see above); the replaced files are in $BACKUP"
		exit 4
	fi
	ecsnet_log "live state matches the bundle ($STACK)"
}

ecsnet_verify() {
	ecsnet_has ip || ecsnet_refuse "ip(8) (iproute2) is not installed"
	ecsnet_resolve_nics
	ecsnet_want_sets
	ecsnet_load_state
	CHECK_VERBOSE=1
	if ecsnet_check ""; then
		ecsnet_log "live state matches the bundle ($STACK)"
	else
		exit 4
	fi
}

ECSNET_CMD="${1:-apply}"
case "$ECSNET_CMD" in
apply) ecsnet_apply ;;
verify) ecsnet_verify ;;
*)
	echo "usage: $0 [apply|verify]" >&2
	exit 1
	;;
esac
