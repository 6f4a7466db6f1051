
stack_preflight() {
	[ -d "$ROOT_P/etc/sysconfig/network-scripts" ] ||
		ecsnet_refuse "$ROOT_P/etc/sysconfig/network-scripts does not exist: this host does not use initscripts; render it for its own stack"
	[ -e "$ROOT_P/etc/sysconfig/network-scripts/ifup-aliases" ] ||
		ecsnet_refuse "initscripts (network-scripts) is not installed: nothing would read the ifcfg files at boot; render this host with network: networkmanager"
}

# ifcfg_nm_manages DEV: whether a running NetworkManager manages DEV.
ifcfg_nm_manages() {
	ecsnet_has nmcli || return 1
	[ "$(nmcli -t -f RUNNING general 2>/dev/null)" = running ] || return 1
	local st
	st="$(nmcli -g GENERAL.STATE device show "$1" 2>/dev/null)" || return 1
	case "$st" in "" | *unmanaged*) return 1 ;; esac
	return 0
}

stack_check_nics() {
	if ifcfg_nm_manages "$PRIMARY_DEV"; then
		ecsnet_refuse "NetworkManager manages $PRIMARY_DEV: this bundle is for initscripts; render the host with network: networkmanager"
	fi
}

stack_take_down() { :; }

# The files are what initscripts reads at boot; live, ip(8) does what
# ifup-aliases and ifup-routes would do, without taking eth0 down.
stack_bring_up() {
	ecsnet_converge_ip
	ecsnet_enable_unit "${UNIT:-}" "${BOOT_SCRIPT:-}"
}

# stack_boot_primary (the boot script): the primary ENI's IPv4 secondary
# addresses are in ecsnet's alias files, which ifup-aliases has read by
# now; its IPv6 addresses, its IPv6 default route and its prefixes' local
# routes are in no file (ifcfg-eth0 is cloud-init's), so add them with ip(8).
stack_boot_primary() {
	local rec key c n
	for rec in ${ADDRS[@]+"${ADDRS[@]}"}; do
		read -r key c n <<<"$rec"
		[ "$key" = primary ] || continue
		[ "$(ecsnet_fam "$c")" = -6 ] || continue # the IPv4 ones are in the alias files
		ecsnet_addr_ensure "$PRIMARY_DEV" "$c" "$n"
	done
	ecsnet_converge_extras primary
}

stack_verify() { return 0; }
stack_state() { :; }
