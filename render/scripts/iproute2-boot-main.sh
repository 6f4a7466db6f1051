
# ---- main ----

# ecsnet_drop_gone: leaves out the ENIs that ecsnet-reconcile.sh, which
# runs before this script at boot, found no longer attached to this
# instance (it removed their rules and routes): their NICs will not come.
ecsnet_drop_gone() {
	local f="$ROOT_P/run/ecsnet/$FLEET/gone" key rec k t n
	[ -f "$f" ] || return 0
	while read -r key; do
		[[ "$key" =~ ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$ ]] || continue
		ecsnet_nic "$key" || continue
		t="$N_TABLE"
		ecsnet_log "$(ecsnet_what "$key") left out: ecsnet-reconcile.sh found it no longer attached"
		local -a keep=()
		for rec in "${NICS[@]}"; do read -r k n <<<"$rec"; [ "$k" = "$key" ] || keep+=("$rec"); done
		NICS=("${keep[@]}")
		keep=()
		for rec in ${ADDRS[@]+"${ADDRS[@]}"}; do read -r k n <<<"$rec"; [ "$k" = "$key" ] || keep+=("$rec"); done
		ADDRS=(${keep[@]+"${keep[@]}"})
		keep=()
		for rec in ${ROUTES[@]+"${ROUTES[@]}"}; do read -r n k n <<<"$rec"; [ "$k" = "$key" ] || keep+=("$rec"); done
		ROUTES=(${keep[@]+"${keep[@]}"})
		keep=()
		for rec in ${RULES[@]+"${RULES[@]}"}; do read -r n k n <<<"$rec"; [ "$k" = "$t" ] || keep+=("$rec"); done
		RULES=(${keep[@]+"${keep[@]}"})
		keep=()
		for rec in ${LOCALS[@]+"${LOCALS[@]}"}; do read -r k n <<<"$rec"; [ "$k" = "$key" ] || keep+=("$rec"); done
		LOCALS=(${keep[@]+"${keep[@]}"})
	done <"$f"
}

ECSNET_CMD="${1:-up}"
case "$ECSNET_CMD" in
up)
	ecsnet_require_root
	ecsnet_drop_gone
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
