
stack_preflight() {
	ecsnet_has ifup || ecsnet_refuse "ifup (ifupdown) is not installed: this host does not use /etc/network/interfaces; render it for its own stack"
	[ -f "$ROOT_P/etc/network/interfaces" ] || ecsnet_refuse "$ROOT_P/etc/network/interfaces does not exist"
	ifupdown_sourced || ecsnet_refuse "/etc/network/interfaces does not source /$IFUPDOWN_FILE; add 'source /etc/network/interfaces.d/*' to it"
	if compgen -G "$ROOT_P/etc/netplan/*.yaml" >/dev/null; then
		ecsnet_refuse "this host has netplan configuration in /etc/netplan: render it with network: netplan"
	fi
}

# ifupdown_sourced: whether /etc/network/interfaces reads our file (the
# source patterns vary: Debian uses interfaces.d/*, older releases
# source-directory, whose run-parts rules skip names with a dot, and
# Ubuntu 14.04/16.04 *.cfg).
ifupdown_sourced() {
	local kw arg rest target="/$IFUPDOWN_FILE"
	while read -r kw arg rest; do
		[[ "$arg" == /* ]] || arg="/etc/network/$arg"
		case "$kw" in
		source)
			# shellcheck disable=SC2053
			[[ "$target" == $arg ]] && return 0
			;;
		source-directory)
			[ "${arg%/}" = /etc/network/interfaces.d ] && [[ "${target##*/}" =~ ^[a-zA-Z0-9_-]+$ ]] && return 0
			;;
		esac
	done <"$ROOT_P/etc/network/interfaces"
	return 1
}

stack_check_nics() { :; }

ifupdown_ifup() { ifup -i "$ROOT_P/$IFUPDOWN_FILE" "$@"; }
ifupdown_ifdown() { ifdown -i "$ROOT_P/$IFUPDOWN_FILE" "$@"; }

# ifupdown_physical NAME: the interface ifupdown has up as stanza NAME.
ifupdown_physical() {
	{ ifquery --state 2>/dev/null || true; } | awk -F= -v n="$1" '$2 == n { print $1; exit }'
}

ifupdown_wanted() { # NAME, as this host names it
	local rec name key addrs
	for rec in ${IFUPDOWN[@]+"${IFUPDOWN[@]}"}; do
		read -r name key addrs <<<"$rec"
		[ "$(ecsnet_host_name "$name")" = "$1" ] && return 0
	done
	return 1
}

# Stanzas that left the bundle go down first, with the file that defined
# them still in place.
stack_take_down() {
	local rec kind name key phys
	for rec in ${OLD_EXTRA[@]+"${OLD_EXTRA[@]}"}; do
		read -r kind name key <<<"$rec"
		[ "$kind" = ifup ] || continue
		ifupdown_wanted "$name" && continue
		phys="$(ifupdown_physical "$name")"
		[ -n "$phys" ] || continue
		if [ -f "$ROOT_P/$IFUPDOWN_FILE" ] && ifupdown_ifdown "$phys"; then
			ecsnet_log "took $name ($phys) down: it left the bundle"
		else
			ifdown --force "$phys" >/dev/null 2>&1 || true
			ecsnet_warn "ifdown $phys failed; forced it, and ip(8) removes what is left"
		fi
	done
}

stack_bring_up() {
	local rec name key addrs target dev c have
	for rec in ${IFUPDOWN[@]+"${IFUPDOWN[@]}"}; do
		read -r name key addrs <<<"$rec"
		# A stanza named after an interface is installed under the
		# interface's name on this host (ecsnet_stage).
		name="$(ecsnet_host_name "$name")"
		if [ "$key" = - ]; then
			target="$name"
			dev="${name%%:*}"
		else
			dev="${DEV[$key]}"
			target="$dev=$name"
		fi
		[ -n "$(ifupdown_physical "$name")" ] && continue
		# Addresses already there (put by hand, or left by a failed run)
		# would make ifup fail with "File exists": adopt them.
		for c in ${addrs//,/ }; do
			for have in $(ecsnet_addr_on "$dev" "${c%/*}"); do
				ip -4 addr del "$have" dev "$dev"
				ecsnet_log "adopting ${c%/*} on $dev into stanza $name"
			done
		done
		ifupdown_ifup "$target" || ecsnet_die "ifup $target failed (see above)"
		ecsnet_log "brought $target up"
	done
	# Repair anything removed behind ifupdown's back since.
	ecsnet_converge_ip
}

stack_verify() { return 0; }

stack_state() {
	local rec name key addrs
	for rec in ${IFUPDOWN[@]+"${IFUPDOWN[@]}"}; do
		read -r name key addrs <<<"$rec"
		echo "ifup $(ecsnet_host_name "$name") $key"
	done
}
