
stack_preflight() {
	ecsnet_has wicked || ecsnet_refuse "wicked is not installed: render this host for its own stack"
	[ -d "$ROOT_P/etc/sysconfig/network" ] || ecsnet_refuse "$ROOT_P/etc/sysconfig/network does not exist"
	if [ "$ROOT_P" = "" ] && [ -d /run/systemd/system ] && ! systemctl is-active --quiet wickedd.service; then
		ecsnet_refuse "wickedd is not running: this host's network is not managed by wicked"
	fi
	wicked_check_primary_file
}

# The bundle's ifcfg-eth0 replaces the image's: only a DHCP one, and say
# which of its settings ecsnet's file lacks.
wicked_check_primary_file() {
	local f="$ROOT_P/$WICKED_PRIMARY" proto extra
	[ -f "$f" ] || return 0
	[ -f "$STATE_FILE" ] && grep -qxF "file $WICKED_PRIMARY" "$STATE_FILE" && return 0
	proto="$(wicked_proto "$f")"
	case "$proto" in
	dhcp*) ;;
	*) ecsnet_refuse "/$WICKED_PRIMARY has BOOTPROTO='$proto', not DHCP: ecsnet's file would replace a configuration it does not render" ;;
	esac
	extra="$(grep -E '^[A-Za-z0-9_]+=' "$f" | cut -d= -f1 | grep -Ev '^(BOOTPROTO|STARTMODE|NAME|IPADDR_[0-9]+|LABEL_[0-9]+)$' | tr '\n' ' ')" || true
	if [ -n "$extra" ]; then
		ecsnet_warn "/$WICKED_PRIMARY also sets ${extra}which ecsnet's file does not; the original is kept in $ORIGINAL"
	fi
}

# wicked_proto FILE: the BOOTPROTO an ifcfg file sets (its last one).
wicked_proto() {
	sed -n "s/^BOOTPROTO=[\"']\{0,1\}\([A-Za-z0-9+]*\).*/\1/p" "$1" | tail -n 1
}

# The image's ifcfg-eth0 may ask for DHCP otherwise than ecsnet's
# BOOTPROTO='dhcp', DHCPv4 and DHCPv6 (ifcfg(5),
# https://reposcope.com/man/en/5/ifcfg): 'dhcp4' (IPv4 only, as a SLES
# image on Alibaba Cloud has it), 'dhcp+autoip'. The installed file keeps
# the image's value (read from $ORIGINAL once replaced); the rest is the
# bundle's.
stack_install_source() { # PATH FILE
	local image proto="" out="$STATE_DIR/ifcfg-primary"
	if [ "$1" = "$WICKED_PRIMARY" ]; then
		image="$ORIGINAL/$1"
		if [ ! -f "$image" ] && ! ecsnet_owned_before "$1"; then image="$ROOT_P/$1"; fi
		if [ -f "$image" ]; then proto="$(wicked_proto "$image")"; fi
		case "$proto" in
		dhcp?*)
			sed "s/^BOOTPROTO='dhcp'\$/BOOTPROTO='$proto'/" "$2" >"$out"
			printf '%s\n' "$out"
			return
			;;
		esac
	fi
	printf '%s\n' "$2"
}

stack_check_nics() { :; }

# A secondary ENI that left the bundle goes down before its files go.
stack_take_down() {
	local p name
	for p in ${OLD_FILES[@]+"${OLD_FILES[@]}"}; do
		case "$p" in etc/sysconfig/network/ifcfg-*) ;; *) continue ;; esac
		[ -n "${WANT_PATH[$p]:-}" ] && continue
		[ "$p" = "$WICKED_PRIMARY" ] && continue
		name="${p##*/ifcfg-}"
		if [ "$ROOT_P" = "" ] && ip link show dev "$name" >/dev/null 2>&1; then
			wicked ifdown "$name" || ecsnet_warn "wicked ifdown $name failed"
		fi
	done
}

stack_bring_up() {
	local rec key name
	for rec in ${WICKED_IFS[@]+"${WICKED_IFS[@]}"}; do
		read -r key name <<<"$rec"
		name="$(ecsnet_host_name "$name")" # its files are installed under that name
		if ecsnet_changed "etc/sysconfig/network/if*-$name" || ! ecsnet_check "$key"; then
			if [ "$ROOT_P" = "" ]; then
				wicked ifreload "$name" || ecsnet_die "wicked ifreload $name failed"
				ecsnet_log "ran wicked ifreload $name"
			else
				ecsnet_warn "ROOT is $ROOT, not /: wicked reads /etc only, so ip(8) applies $name"
			fi
		fi
	done
	# The primary ENI: ip(8), not ifreload, which would bounce it.
	ecsnet_converge_ip
	ecsnet_enable_unit "${UNIT:-}" "${BOOT_SCRIPT:-}"
}

# stack_boot_primary (the boot script): cloud-init rewrote ifcfg-eth0
# without the secondary addresses; add them with ip(8), labelled as
# ifcfg-eth0's LABEL_n names them (eth0:n).
stack_boot_primary() {
	local rec key c n
	for rec in ${ADDRS[@]+"${ADDRS[@]}"}; do
		read -r key c n <<<"$rec"
		[ "$key" = primary ] || continue
		ecsnet_addr_ensure "$PRIMARY_DEV" "$c" "$n"
	done
	ecsnet_converge_extras primary
}

stack_verify() { return 0; }
stack_state() { :; }
