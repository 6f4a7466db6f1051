
stack_preflight() { :; }
stack_check_nics() { :; }
stack_take_down() { :; }

stack_bring_up() {
	ecsnet_converge_ip
	iproute2_enable_unit
}

# The unit is enabled the way systemctl enable would, with a symlink, so
# that it also works under a scratch ROOT; systemd reloads when it runs.
iproute2_enable_unit() {
	local wants="$ROOT_P/etc/systemd/system/multi-user.target.wants"
	if [ "$(readlink "$wants/$UNIT" 2>/dev/null)" != "../$UNIT" ]; then
		mkdir -p "$wants"
		ecsnet_backup "etc/systemd/system/multi-user.target.wants/$UNIT"
		ln -sfn "../$UNIT" "$wants/$UNIT"
		CHANGED_FILES+=("etc/systemd/system/multi-user.target.wants/$UNIT")
		ecsnet_log "enabled $UNIT"
	fi
	if [ "$ROOT_P" = "" ] && [ -d /run/systemd/system ]; then
		ecsnet_changed 'etc/systemd/system/*' && systemctl daemon-reload
	elif ! ecsnet_has systemctl; then
		ecsnet_warn "no systemd here: run /etc/ecsnet/$FLEET/ecsnet-ip.sh at boot (for example from rc.local) to keep the addresses after a reboot"
	fi
	return 0
}

stack_verify() { return 0; }
stack_state() { :; }
