
stack_preflight() {
	ecsnet_has networkctl || ecsnet_refuse "networkctl is not installed: this host does not run systemd-networkd"
	if compgen -G "$ROOT_P/etc/netplan/*.yaml" >/dev/null; then
		ecsnet_refuse "this host configures networkd through netplan (/etc/netplan): render it with network: netplan"
	fi
	if [ -d /run/systemd/system ] && ! systemctl is-active --quiet systemd-networkd.service; then
		ecsnet_refuse "systemd-networkd is not running; render this host for the stack it runs"
	fi
	networkctl list --no-legend >/dev/null 2>&1 ||
		ecsnet_refuse "networkctl cannot reach systemd-networkd (it is not running, or there is no D-Bus): nothing could apply the files"
}

networkd_file_of() { # DEV: the .network file networkd applies to DEV
	{ networkctl status "$1" 2>/dev/null || true; } | sed -n 's/^ *Network File: //p'
}

stack_check_nics() {
	local setup current
	setup="$({ networkctl list --no-legend "$PRIMARY_DEV" 2>/dev/null || true; } | awk '{ print $5 }')"
	case "$setup" in
	unmanaged) ecsnet_refuse "systemd-networkd does not manage $PRIMARY_DEV; render this host for the stack that does" ;;
	esac
	current="$(networkd_file_of "$PRIMARY_DEV")"
	case "$current" in
	"" | */05-ecsnet-*) ;;
	*) ecsnet_log "$PRIMARY_DEV is configured by $current today; ecsnet's file, which sorts first, takes its place" ;;
	esac
}

stack_take_down() { :; }

stack_bring_up() {
	local rec key path dev
	if ecsnet_changed 'etc/systemd/network/*'; then
		if [ "$ROOT_P" != "" ]; then
			ecsnet_warn "ROOT is $ROOT, not /: networkd reads /etc only; nothing was applied live"
			return 0
		fi
		if networkctl reload 2>/dev/null; then
			ecsnet_log "ran networkctl reload"
		elif [ -d /run/systemd/system ]; then
			# systemd before 244 has no reload.
			systemctl restart systemd-networkd.service
			ecsnet_log "restarted systemd-networkd"
		else
			ecsnet_die "networkctl reload failed and systemd is not init here: restart systemd-networkd to apply the new files"
		fi
		ecsnet_wait_converged 30
	fi
	for rec in ${NETWORKD_FILES[@]+"${NETWORKD_FILES[@]}"}; do
		read -r key path <<<"$rec"
		dev="${DEV[$key]}"
		ecsnet_check "$key" && continue
		[ "$ROOT_P" = "" ] || continue
		if networkctl reconfigure "$dev" 2>/dev/null; then
			ecsnet_log "reconfigured $dev"
		elif [ -d /run/systemd/system ]; then
			systemctl restart systemd-networkd.service
			ecsnet_log "restarted systemd-networkd"
		fi
	done
	ecsnet_wait_converged 30
}

# Only the first matching .network file applies: make sure it is ours.
stack_verify() {
	local rec key path dev file bad=0
	[ "$ROOT_P" = "" ] || return 0
	for rec in ${NETWORKD_FILES[@]+"${NETWORKD_FILES[@]}"}; do
		read -r key path <<<"$rec"
		dev="${DEV[$key]}"
		file="$(networkd_file_of "$dev")"
		if [ -n "$file" ] && [ "$file" != "/$path" ]; then
			[ "$CHECK_VERBOSE" = 1 ] && printf 'ecsnet: %s: differs: networkd configures %s from %s, not /%s\n' "$INSTANCE" "$dev" "$file" "$path" >&2
			bad=1
		fi
	done
	return "$bad"
}

stack_state() { :; }
