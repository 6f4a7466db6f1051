
stack_preflight() {
	ecsnet_has netplan || ecsnet_refuse "netplan is not installed: render this host for its own stack"
	[ -d "$ROOT_P/etc/netplan" ] || ecsnet_refuse "$ROOT_P/etc/netplan does not exist"
	# netplan apply reloads systemd and hands the files to networkd.
	[ -d /run/systemd/system ] || ecsnet_refuse "systemd is not running here, and netplan apply needs it"
	systemctl is-active --quiet systemd-networkd.service ||
		ecsnet_refuse "systemd-networkd is not running: this bundle is for netplan with its networkd renderer"
	local f
	for f in "$ROOT_P"/etc/netplan/*.yaml "$ROOT_P"/run/netplan/*.yaml "$ROOT_P"/lib/netplan/*.yaml; do
		if [ ! -f "$f" ] || [ "$f" = "$ROOT_P/$NETPLAN_FILE" ]; then continue; fi
		if grep -Eq '^[[:space:]]*renderer:[[:space:]]*["'\'']?NetworkManager' "$f"; then
			ecsnet_refuse "$f makes netplan render with NetworkManager, which drops routing-policy before netplan 1.2; render this host with network: networkmanager"
		fi
	done
	netplan_check_primary_id
}

# netplan_ids FILE: the IDs under "ethernets:" of a block-style netplan
# file, as cloud-init writes them.
netplan_ids() {
	awk '
		/^[[:space:]]*(#|$)/ { next }
		{
			match($0, /^ */); ind = RLENGTH
			line = substr($0, ind + 1)
			if (ineth) {
				if (ind <= ethind) ineth = 0
				else {
					if (idind < 0) idind = ind
					if (ind == idind) { key = line; sub(/[[:space:]]*:.*/, "", key); gsub(/["'\'']/, "", key); print key }
					next
				}
			}
			if (line ~ /^ethernets:[[:space:]]*$/) { ineth = 1; ethind = ind; idind = -1 }
		}' "$1"
}

# The drop-in extends the primary ENI under the ID cloud-init gave it; if
# cloud-init used another, refuse rather than lose the addresses.
netplan_check_primary_id() {
	local f="$ROOT_P/etc/netplan/50-cloud-init.yaml" ids g
	if [ -f "$f" ]; then
		ids="$(netplan_ids "$f" | tr '\n' ' ')"
		case " $ids " in
		*" $NETPLAN_PRIMARY_ID "*) return 0 ;;
		esac
		ecsnet_refuse "cloud-init's /etc/netplan/50-cloud-init.yaml defines the ethernets ${ids:-(none)}but not $NETPLAN_PRIMARY_ID; ecsnet's drop-in extends the primary ENI under the ID $NETPLAN_PRIMARY_ID (the interface name, as cloud-init names it on Alibaba Cloud), and under another ID networkd would ignore its addresses"
	fi
	for g in "$ROOT_P"/etc/netplan/*.yaml "$ROOT_P"/run/netplan/*.yaml "$ROOT_P"/lib/netplan/*.yaml; do
		if [ ! -f "$g" ] || [ "$g" = "$ROOT_P/$NETPLAN_FILE" ]; then continue; fi
		netplan_ids "$g" | grep -qxF "$NETPLAN_PRIMARY_ID" && return 0
	done
	ecsnet_refuse "no netplan file defines the ethernet $NETPLAN_PRIMARY_ID (no /etc/netplan/50-cloud-init.yaml either); ecsnet's drop-in only extends the primary ENI's existing definition"
}

stack_check_nics() { :; }
stack_take_down() { :; }

stack_bring_up() {
	ecsnet_changed 'etc/netplan/*' || ecsnet_any_drift || return 0
	local out
	if [ "$ROOT_P" = "" ]; then
		out="$(netplan generate 2>&1)" || {
			ecsnet_restore_file "$NETPLAN_FILE"
			ecsnet_die "netplan rejected the configuration (the old file is back): $out"
		}
		netplan apply
		ecsnet_log "ran netplan apply"
		ecsnet_wait_converged 30
	else
		out="$(netplan generate --root-dir "$ROOT" 2>&1)" || {
			ecsnet_restore_file "$NETPLAN_FILE"
			ecsnet_die "netplan rejected the configuration (the old file is back): $out"
		}
		ecsnet_warn "ROOT is $ROOT, not /: generated there; netplan apply works on / only, so nothing was applied live"
	fi
}

stack_verify() { return 0; }
stack_state() { :; }
