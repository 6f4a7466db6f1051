
NM_PRIMARY_UUID=""

stack_preflight() {
	ecsnet_has nmcli || ecsnet_refuse "nmcli is not installed: this host does not run NetworkManager; render it for its own stack"
	[ "$(nmcli -t -f RUNNING general 2>/dev/null)" = running ] ||
		ecsnet_refuse "NetworkManager is not running; render this host for the stack it runs"
	[ -d "$ROOT_P/etc/NetworkManager" ] ||
		ecsnet_refuse "$ROOT_P/etc/NetworkManager does not exist"
}

stack_check_nics() {
	local key dev st
	for key in "${!DEV[@]}"; do
		dev="${DEV[$key]}"
		st="$(nmcli -g GENERAL.STATE device show "$dev" 2>/dev/null)" || st=""
		case "$st" in
		"" | *unmanaged*) ecsnet_refuse "NetworkManager does not manage $dev ($(ecsnet_what "$key")); this bundle is for NetworkManager" ;;
		esac
	done
	nm_primary_profile || ecsnet_refuse "NetworkManager has no active profile on $PRIMARY_DEV: ecsnet adds the secondary addresses to that profile and never makes a second one for the device"
}

# nm_primary_profile: sets NM_PRIMARY_UUID to the profile active on the
# primary ENI; fails when there is none (yet).
nm_primary_profile() {
	NM_PRIMARY_UUID="$(nmcli -g GENERAL.CON-UUID device show "$PRIMARY_DEV" 2>/dev/null)" || NM_PRIMARY_UUID=""
	[ -n "$NM_PRIMARY_UUID" ] || return 1
	local rec uuid k path
	for rec in ${NM_PROFILES[@]+"${NM_PROFILES[@]}"}; do
		read -r uuid k path <<<"$rec"
		[ "$uuid" != "$NM_PRIMARY_UUID" ] || ecsnet_refuse "the profile active on $PRIMARY_DEV is ecsnet's own $uuid"
	done
}

nm_wanted_profile() { # UUID
	local rec uuid k path
	for rec in ${NM_PROFILES[@]+"${NM_PROFILES[@]}"}; do
		read -r uuid k path <<<"$rec"
		[ "$uuid" = "$1" ] && return 0
	done
	return 1
}

# Profiles of ENIs that left this bundle go down before their files go.
stack_take_down() {
	local rec kind uuid key path
	for rec in ${OLD_EXTRA[@]+"${OLD_EXTRA[@]}"}; do
		read -r kind uuid key path <<<"$rec"
		[ "$kind" = nm ] || continue
		nm_wanted_profile "$uuid" && continue
		if nmcli connection down uuid "$uuid" >/dev/null 2>&1; then
			ecsnet_log "took down profile $uuid (its ENI left the bundle)"
		fi
	done
}

# nm_primary_addresses: the primary ENI's secondary addresses live in its
# existing profile, so that they survive its next activation: add the
# missing ones to it and remove the ones an earlier run added and the
# bundle dropped. The live device gets them with ip(8), never by
# `nmcli device reapply` or activating the profile again: NetworkManager
# 1.42 (Debian 12's 1.42.4), on reapply of a DHCP profile, drops the
# device's addresses, the DHCP one included, puts that one back and
# leaves the new static ones out; activating again runs DHCP again. Both
# take the host's own address away for a moment, and with it Cloud
# Assistant's connection. NetworkManager leaves addresses it did not add
# alone, also when the DHCP lease renews (TestRealNMReboot).
nm_primary_addresses() {
	local fam
	for fam in 4 6; do nm_primary_family "$fam"; done
	local rec key c n
	for rec in ${ADDRS[@]+"${ADDRS[@]}"}; do
		read -r key c n <<<"$rec"
		[ "$key" = primary ] || continue
		ecsnet_addr_ensure "$PRIMARY_DEV" "$c" -
	done
	# The primary ENI's IPv6 default route (MAIN6): ipv6.gateway of its
	# profile, for the next activation. It, and the local routes of the
	# prefixes the host answers for, go live with ip(8); at boot, after
	# cloud-init rewrote the profile, the boot unit does this again.
	for rec in ${MAIN6[@]+"${MAIN6[@]}"}; do
		read -r key c <<<"$rec"
		n="$(nmcli -g ipv6.gateway connection show uuid "$NM_PRIMARY_UUID")"
		if [ "${n//\\:/:}" != "$c" ]; then
			nmcli connection modify uuid "$NM_PRIMARY_UUID" ipv6.gateway "$c"
			ecsnet_log "set the IPv6 gateway $c in the profile of $PRIMARY_DEV"
		fi
	done
	ecsnet_converge_extras primary
}

# nm_primary_family 4|6: the profile's ipv4.addresses or ipv6.addresses
# gain the bundle's addresses of that family and lose those an earlier run
# added and the bundle dropped, in one change (NetworkManager checks the
# profile after each). A profile whose IPv6 method takes no static
# addresses (ignore, disabled, link-local: cloud-init's for an IPv4 VPC)
# is switched to manual with them, which also stops NetworkManager from
# acting on router advertisements there; when the last address ecsnet
# added goes, it goes back to ignore, and the IPv6 gateway an earlier run
# set goes with it.
nm_primary_family() {
	local f="$1" cur rec key c n a method left
	local -a list=() add=() del=() args=()
	declare -A have=()
	cur="$(nmcli -g "ipv$f.addresses" connection show uuid "$NM_PRIMARY_UUID")"
	cur="${cur//\\:/:}" # -g escapes the colons of IPv6 addresses
	IFS=', ' read -r -a list <<<"$cur"
	for a in ${list[@]+"${list[@]}"}; do have[$a]=1; done
	for rec in ${ADDRS[@]+"${ADDRS[@]}"}; do
		read -r key c n <<<"$rec"
		[ "$(ecsnet_fam "$c")" = "-$f" ] || continue
		[ "$key" = primary ] && [ -z "${have[$c]:-}" ] && add+=("$c")
	done
	for rec in ${OLD_ADDRS[@]+"${OLD_ADDRS[@]}"}; do
		[ -n "${WANT_ADDR[$rec]:-}" ] && continue
		read -r key c <<<"$rec"
		[ "$(ecsnet_fam "$c")" = "-$f" ] || continue
		[ "$key" = primary ] && [ -n "${have[$c]:-}" ] && del+=("$c")
	done
	[ "${#add[@]}" -gt 0 ] || [ "${#del[@]}" -gt 0 ] || return 0
	for c in ${del[@]+"${del[@]}"}; do args+=("-ipv$f.addresses" "$c"); done
	if [ "${#add[@]}" -gt 0 ]; then args+=("+ipv$f.addresses" "$(IFS=,; echo "${add[*]}")"); fi
	if [ "$f" = 6 ]; then
		method="$(nmcli -g ipv6.method connection show uuid "$NM_PRIMARY_UUID")"
		left=$((${#list[@]} - ${#del[@]} + ${#add[@]}))
		case "$method" in
		ignore | disabled | link-local | "") [ "$left" -gt 0 ] && args+=(ipv6.method manual) ;;
		manual) [ "$left" = 0 ] && args+=(ipv6.method ignore ipv6.gateway "") ;;
		esac
	fi
	nmcli connection modify uuid "$NM_PRIMARY_UUID" "${args[@]}"
	for c in ${del[@]+"${del[@]}"}; do ecsnet_log "removed $c from the profile of $PRIMARY_DEV"; done
	if [ "${#add[@]}" -gt 0 ]; then ecsnet_log "added ${add[*]} to the profile of $PRIMARY_DEV"; fi
}

stack_bring_up() {
	nm_primary_addresses
	if ecsnet_changed 'etc/NetworkManager/*'; then
		nmcli connection reload
	fi
	local rec uuid key path dev active
	for rec in ${NM_PROFILES[@]+"${NM_PROFILES[@]}"}; do
		read -r uuid key path <<<"$rec"
		dev="${DEV[$key]}"
		active="$(nmcli -g GENERAL.CON-UUID device show "$dev" 2>/dev/null)" || active=""
		if [ "$active" != "$uuid" ] || ecsnet_changed "$path" || ! ecsnet_check "$key"; then
			nmcli connection up uuid "$uuid" ifname "$dev" >/dev/null
			ecsnet_log "activated profile $(basename "$path" .nmconnection) on $dev"
		fi
	done
	ecsnet_wait_converged 30
	ecsnet_enable_unit "${UNIT:-}" "${BOOT_SCRIPT:-}"
}

# stack_boot_primary (the boot script): cloud-init rewrote the primary's
# profile without the secondary addresses; add them again as apply does,
# once NetworkManager runs and has activated a profile on the primary
# (state 100, connected: device reapply refuses a device still
# activating; the unit's ordering after NetworkManager-wait-online.service
# holds only where that service is enabled).
stack_boot_primary() {
	local i=0
	until [ "$(nmcli -t -f RUNNING general 2>/dev/null)" = running ] &&
		[[ "$(nmcli -g GENERAL.STATE device show "$PRIMARY_DEV" 2>/dev/null)" == 100* ]] && nm_primary_profile; do
		i=$((i + 1))
		[ "$i" -le 240 ] || ecsnet_refuse "NetworkManager has not activated a profile on $PRIMARY_DEV after 60 s"
		sleep 0.25
	done
	nm_primary_addresses
}

stack_verify() { return 0; }

stack_state() {
	local rec uuid key path
	for rec in ${NM_PROFILES[@]+"${NM_PROFILES[@]}"}; do
		read -r uuid key path <<<"$rec"
		echo "nm $uuid $key $path"
	done
}
