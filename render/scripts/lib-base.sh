# ---- shared library (the same in every ecsnet Linux bundle) ----

ROOT="${ROOT:-/}"
ROOT_P="${ROOT%/}"
BUNDLE="$(cd "$(dirname "$0")" && pwd)"
STATE_DIR="$ROOT_P/var/lib/ecsnet/$FLEET"
STATE_FILE="$STATE_DIR/state"
BACKUP="$STATE_DIR/backup"

declare -A DEV=()          # NIC key -> kernel name, found at run time
declare -A RENAME=()       # a name the files give a NIC -> its kernel name, where they differ
declare -A WANT_ADDR=()    # "key cidr" of ADDRS
declare -A WANT_IP=()      # "key address" of ADDRS, without the prefix
declare -A WANT_RULE=()    # "from table prio" of RULES
declare -A WANT_TABLE=()   # table numbers of ROUTES
declare -A WANT_LOCAL=()   # "key prefix" of LOCALS
declare -A WANT_MAIN6=()   # "key gateway" of MAIN6
declare -A WANT_PATH=()    # paths of FILES and OWNED
OLD_ADDRS=() OLD_RULES=() OLD_TABLES=() OLD_FILES=() OLD_EXTRA=() OLD_LOCALS=() OLD_MAIN6=()
CHANGED_FILES=()
PRIMARY_DEV=""
STAGE="$STATE_DIR/stage"   # the files as this host names its interfaces, when RENAME is not empty

ecsnet_log()  { printf 'ecsnet: %s: %s\n' "$INSTANCE" "$*"; }
ecsnet_warn() { printf 'ecsnet: %s: warning: %s\n' "$INSTANCE" "$*" >&2; }
ecsnet_die()  { printf 'ecsnet: %s: %s\n' "$INSTANCE" "$*" >&2; exit 1; }
ECSNET_CMD=apply
ecsnet_refuse() {
	printf 'ecsnet: %s: refusing to %s (nothing was changed): %s\n' "$INSTANCE" "$ECSNET_CMD" "$*" >&2
	exit 3
}
ecsnet_has() { command -v "$1" >/dev/null 2>&1; }

# ecsnet_nic KEY: sets N_KEY N_MAC N_NAME N_CIDR N_GW N_TABLE N_FIXED N_ENI N_ENIID.
ecsnet_nic() {
	local rec
	for rec in "${NICS[@]}"; do
		read -r N_KEY N_MAC N_NAME N_CIDR N_GW N_TABLE N_FIXED N_ENI N_ENIID <<<"$rec"
		[ "$N_KEY" = "$1" ] && return 0
	done
	return 1
}

ecsnet_what() { # KEY -> words for messages
	ecsnet_nic "$1" || { printf 'NIC %s' "$1"; return; }
	if [ "$N_ENI" = primary ]; then printf 'the primary ENI'; else printf 'ENI %s (%s, MAC %s)' "$N_ENI" "$N_ENIID" "$N_MAC"; fi
}

# ecsnet_fam ADDR...: -6 when any ADDR (an address, a prefix, or
# "default") is IPv6, else -4: ip(8) shows and changes one family at a
# time, and the records of both families share the arrays.
ecsnet_fam() {
	local a
	for a in "$@"; do case "$a" in *:*) echo -6; return ;; esac; done
	echo -4
}

# ecsnet_host_prefix FROM: FROM as a rule's selector: a prefix as it is,
# an address as a host route (/32, /128).
ecsnet_host_prefix() {
	case "$1" in */*) echo "$1" ;; *:*) echo "$1/128" ;; *) echo "$1/32" ;; esac
}

# ecsnet_devs_by_mac MAC: prints the interfaces with that MAC, one a line.
ecsnet_devs_by_mac() {
	ip -o link show | awk -v mac="$1" '{
		for (i = 1; i < NF; i++) if ($i == "link/ether" && tolower($(i+1)) == mac) {
			name = $2; sub(/:$/, "", name); sub(/@.*/, "", name); print name
		}
	}'
}

# ecsnet_dev_by_addr ADDR: prints the interface that holds ADDR.
ecsnet_dev_by_addr() {
	ip -o -4 addr show | awk -v a="$1" '{ split($4, p, "/"); if (p[1] == a) { print $2; exit } }'
}

ecsnet_has_addr() { # DEV CIDR: exactly this address and prefix
	ip -o "$(ecsnet_fam "$2")" addr show dev "$1" 2>/dev/null | awk -v c="$2" '$4 == c { f = 1 } END { exit !f }'
}

ecsnet_addr_on() { # DEV ADDR: prints ADDR/len when ADDR is on DEV with any prefix
	ip -o "$(ecsnet_fam "$2")" addr show dev "$1" 2>/dev/null | awk -v a="$2" '{ split($4, p, "/"); if (p[1] == a) print $4 }'
}

ecsnet_has_rule() { # FROM TABLE PRIO (FROM: an address or a prefix)
	ip "$(ecsnet_fam "$1")" rule show | awk -v p="$3:" -v f="$1" -v t="$2" '
		$1 == p && $2 == "from" && ($3 == f || $3 == f "/32" || $3 == f "/128") {
			for (i = 4; i < NF; i++) if (($i == "lookup" || $i == "table") && $(i+1) == t) ok = 1
		}
		END { exit !ok }'
}

ecsnet_has_route() { # TABLE DEV DEST GW
	ip "$(ecsnet_fam "$3" "$4")" route show table "$1" 2>/dev/null | awk -v dev="$2" -v dst="$3" -v gw="$4" '
		$1 == dst {
			d = ""; v = "-"
			for (i = 2; i < NF; i++) { if ($i == "dev") d = $(i+1); if ($i == "via") v = $(i+1) }
			if (d == dev && v == gw) ok = 1
		}
		END { exit !ok }'
}

ecsnet_link_up() { ip -o link show dev "$1" 2>/dev/null | grep -q '[<,]UP[,>]'; }

# ---- the state record, the lock, and what every ecsnet script needs ----

# The state record lists what ecsnet added, one item a line. It is read
# back strictly: a line that does not look like ecsnet wrote it is skipped
# with a warning, never used.
ecsnet_load_state() {
	[ -f "$STATE_FILE" ] || return 0
	local kind a b c n=0 ip='[0-9]{1,3}(\.[0-9]{1,3}){3}' key='(primary|[0-9a-f]{2}(:[0-9a-f]{2}){5})'
	local ip6='[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7}'
	while read -r kind a b c; do
		n=$((n + 1))
		case "$kind" in
		"" | "#"*) continue ;;
		addr) [[ "$a" =~ ^$key$ && ("$b" =~ ^$ip/[0-9]{1,2}$ || "$b" =~ ^$ip6/[0-9]{1,3}$) && -z "$c" ]] && { OLD_ADDRS+=("$a $b"); continue; } ;;
		rule) [[ ("$a" =~ ^$ip(/[0-9]{1,2})?$ || "$a" =~ ^$ip6$) && "$b" =~ ^[0-9]{1,10}$ && "$c" =~ ^[0-9]{1,10}$ ]] && { OLD_RULES+=("$a $b $c"); continue; } ;;
		local) [[ "$a" =~ ^$key$ && "$b" =~ ^$ip/[0-9]{1,2}$ && -z "$c" ]] && { OLD_LOCALS+=("$a $b"); continue; } ;;
		main6) [[ "$a" =~ ^$key$ && "$b" =~ ^$ip6$ && -z "$c" ]] && { OLD_MAIN6+=("$a $b"); continue; } ;;
		table) [[ "$a" =~ ^[0-9]{1,10}$ && -z "$b" ]] && { OLD_TABLES+=("$a"); continue; } ;;
		file) [[ "$a" =~ ^(etc|usr/local)/[A-Za-z0-9._:/-]+$ && "$a" != *..* && -z "$b" ]] && { OLD_FILES+=("$a"); continue; } ;;
		ifup | nm) [[ "$a" =~ ^[A-Za-z0-9:._=-]+$ && "$b" =~ ^[A-Za-z0-9:._-]*$ && "$c" =~ ^[A-Za-z0-9:._/-]*$ ]] && { OLD_EXTRA+=("$kind $a $b $c"); continue; } ;;
		esac
		ecsnet_warn "$STATE_FILE line $n is not an ecsnet state line; skipped"
	done <"$STATE_FILE"
}

# One apply at a time. A directory, not flock on an open descriptor: a
# daemon started by a hook (if-up.d) would inherit the descriptor and hold
# the lock for ever. A lock left by a run that died is taken over, by
# one run at a time (the takeover directory), each reading the holder
# again there: runs that found the same dead holder at once would each
# remove the lock, the second taking away the one the first had just
# made, and both would change the host (the fix of guest/scripts/
# payload.sh's p_lock, e7bbf9c). A takeover directory left by a run
# killed inside it is removed after a minute.
ecsnet_lock() {
	mkdir -p "$STATE_DIR"
	local lock="$STATE_DIR/lock" pid i=0
	while ! mkdir "$lock" 2>/dev/null; do
		pid="$(cat "$lock/pid" 2>/dev/null || true)"
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			if mkdir "$lock.takeover" 2>/dev/null; then
				if [ "$(cat "$lock/pid" 2>/dev/null || true)" = "$pid" ]; then rm -rf "$lock"; fi
				rmdir "$lock.takeover" 2>/dev/null || true
				continue
			fi
			# Under set -e: the directory may be gone by now.
			find "$lock.takeover" -maxdepth 0 -mmin +1 -exec rmdir {} + 2>/dev/null || true
		fi
		i=$((i + 1))
		[ "$i" -le 240 ] || ecsnet_die "another ecsnet apply (pid ${pid:-unknown}) holds $lock"
		sleep 0.5
	done
	echo "$$" >"$lock/pid"
	trap 'rm -rf "$STATE_DIR/lock"' EXIT
}

ecsnet_owned_before() { # PATH: whether an earlier run installed it
	local p
	for p in ${OLD_FILES[@]+"${OLD_FILES[@]}"}; do [ "$p" = "$1" ] && return 0; done
	return 1
}

ecsnet_changed() { # GLOB: whether an installed or removed path matches
	local p
	for p in ${CHANGED_FILES[@]+"${CHANGED_FILES[@]}"}; do
		# shellcheck disable=SC2053
		[[ "$p" == $1 ]] && return 0
	done
	return 1
}

ecsnet_rule_remove() { # FROM TABLE PRIO
	local _
	for _ in 1 2 3 4 5 6 7 8; do
		ecsnet_has_rule "$1" "$2" "$3" || return 0
		ip "$(ecsnet_fam "$1")" rule del from "$(ecsnet_host_prefix "$1")" table "$2" priority "$3"
	done
}

# ecsnet_flush_table TABLE WHY: empties a secondary ENI's route table,
# both families.
ecsnet_flush_table() {
	local fam label
	for fam in -4 -6; do
		if [ -n "$(ip "$fam" route show table "$1" 2>/dev/null)" ]; then
			ip "$fam" route flush table "$1"
			label=""
			[ "$fam" = -6 ] && label=" (IPv6)"
			ecsnet_log "flushed route table $1$label${2:+ $2}"
		fi
	done
}

ecsnet_require_root() {
	[ "$(id -u)" = 0 ] || ecsnet_refuse "run as root"
	[ "${BASH_VERSINFO[0]}" -ge 4 ] || ecsnet_refuse "bash 4 or later is needed"
	ecsnet_has ip || ecsnet_refuse "ip(8) (iproute2) is not installed"
}
