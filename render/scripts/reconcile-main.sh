
# ---- main ----

METADATA_URL="${ECSNET_METADATA_URL:-http://100.100.100.200}"
RECONCILE_GRACE="${RECONCILE_GRACE:-60}"
GONE=()               # the keys of the ENIs found gone
declare -A META_MAC=() # the MACs the metadata service lists for this instance
META_OK=0
META_WHY=""

# reconcile_get_curl PATH: prints the body of the metadata service's answer
# to GET PATH and succeeds when it is 200; prints the error otherwise.
# Hardened mode wants a token; normal mode takes one too.
reconcile_get_curl() {
	local tok
	tok="$(curl -fsS -m 3 -X PUT -H 'X-aliyun-ecs-metadata-token-ttl-seconds: 60' "$METADATA_URL/latest/api/token" 2>/dev/null)" || tok=""
	[[ "$tok" =~ ^[A-Za-z0-9._~+/=-]{1,512}$ ]] || tok=""
	curl -fsS -m 5 ${tok:+-H "X-aliyun-ecs-metadata-token: $tok"} "$METADATA_URL$1" 2>&1
}

# reconcile_get_tcp PATH: as reconcile_get_curl, with an HTTP/1.0 request
# over bash's /dev/tcp, each exchange bounded by timeout(1). The answer is
# only parsed, strictly: a status line HTTP/1.x 200, header lines, an
# empty line, the body (at most 64 KiB); nothing of it is ever run.
reconcile_get_tcp() {
	local host port tok
	if [[ ! "$METADATA_URL" =~ ^http://([A-Za-z0-9.-]+)(:([0-9]{1,5}))?$ ]]; then
		echo "cannot ask $METADATA_URL without curl (only http://HOST[:PORT])"
		return 1
	fi
	host="${BASH_REMATCH[1]}" port="${BASH_REMATCH[3]:-80}"
	tok="$(reconcile_http "$host" "$port" PUT /latest/api/token 'X-aliyun-ecs-metadata-token-ttl-seconds: 60' 2>/dev/null)" || tok=""
	[[ "$tok" =~ ^[A-Za-z0-9._~+/=-]{1,512}$ ]] || tok=""
	reconcile_http "$host" "$port" GET "$1" ${tok:+"X-aliyun-ecs-metadata-token: $tok"}
}

# reconcile_http HOST PORT METHOD PATH [HEADER]: one HTTP/1.0 exchange;
# prints the body and succeeds on status 200 with the whole body (as long
# as Content-Length says, when the answer has one); prints why and fails
# otherwise.
reconcile_http() {
	local req raw head body line status="" len="" nl=$'\n' cr=$'\r'
	local status_re=$'^HTTP/1\\.[01] ([0-9]{3})( [^\r\n]*)?\r?$'
	req="$3 $4 HTTP/1.0$cr${nl}Host: $1$cr${nl}Content-Length: 0$cr$nl${5:+$5$cr$nl}$cr$nl"
	# HTTP/1.0: the server closes the connection after its answer, so the
	# whole answer is read to its end; timeout bounds connect and read.
	# shellcheck disable=SC2016 # the inner script's own arguments
	raw="$(timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1; printf "%s" "$3" >&3; head -c 65536 <&3' \
		reconcile-http "$1" "$2" "$req" 2>/dev/null | tr -d '\0' || true; printf .)"
	raw="${raw%.}"
	if [ -z "$raw" ]; then
		echo "no answer from $1:$2"
		return 1
	fi
	case "$raw" in
	*"$cr$nl$cr$nl"*) head="${raw%%"$cr$nl$cr$nl"*}" body="${raw#*"$cr$nl$cr$nl"}" ;;
	*"$nl$nl"*) head="${raw%%"$nl$nl"*}" body="${raw#*"$nl$nl"}" ;;
	*)
		echo "the answer from $1:$2 is not HTTP (no end of headers)"
		return 1
		;;
	esac
	while IFS= read -r line; do
		if [ -z "$status" ]; then
			[[ "$line" =~ $status_re ]] || { echo "the answer from $1:$2 is not HTTP: $(printf '%q' "${line:0:80}")"; return 1; }
			status="${BASH_REMATCH[1]}"
			continue
		fi
		line="${line%"$cr"}"
		shopt -s nocasematch
		if [[ "$line" =~ ^content-length:[[:blank:]]*([0-9]{1,9})[[:blank:]]*$ ]]; then len="${BASH_REMATCH[1]}"; fi
		shopt -u nocasematch
	done <<<"$head"
	if [ "$status" != 200 ]; then
		echo "HTTP status $status"
		return 1
	fi
	if [ -n "$len" ] && [ "$(printf '%s' "$body" | wc -c)" -ne "$len" ]; then
		echo "the answer from $1:$2 is cut short (Content-Length $len)"
		return 1
	fi
	printf '%s' "$body"
}

# reconcile_metadata: fills META_MAC from the metadata service's list of
# this instance's MACs and sets META_OK=1; leaves META_OK=0 and says why in
# META_WHY when the service does not answer, or answers something that is
# not a list of MACs including the primary ENI's. It asks with curl where
# there is one, else with bash's /dev/tcp (minimal images, and the
# emulator's guest root, have no curl).
# https://www.alibabacloud.com/help/en/ecs/user-guide/view-instance-metadata
reconcile_metadata() {
	local path=/latest/meta-data/network/interfaces/macs/ out="" i line primary get=reconcile_get_tcp
	ecsnet_has curl && get=reconcile_get_curl
	for i in 1 2 3 4 5; do
		if out="$("$get" "$path")"; then
			break
		fi
		META_WHY="GET $METADATA_URL$path: ${out:-no answer}"
		out=""
		[ "$i" = 5 ] && return 0
		sleep 2
	done
	while IFS= read -r line; do
		line="${line%$'\r'}"
		[ -n "$line" ] || continue
		line="${line%/}"
		if [[ ! "$line" =~ ^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$ ]]; then
			META_WHY="the answer to $path has a line that is not a MAC: $(printf '%q' "$line")"
			META_MAC=()
			return 0
		fi
		META_MAC[${line,,}]=1
	done <<<"$out"
	ecsnet_nic primary
	primary="$N_MAC"
	if [ "$primary" != - ] && [ -z "${META_MAC[$primary]:-}" ]; then
		META_WHY="the answer to $path does not list the primary ENI's MAC $primary"
		META_MAC=()
		return 0
	fi
	META_OK=1
}

# reconcile_state_drop KEY TABLE PATH...: rewrites the state record without
# the ENI's entries (its addresses, rules, table, stanzas or profiles) and
# without the files given.
reconcile_state_drop() {
	local key="$1" t="$2"
	shift 2
	[ -f "$STATE_FILE" ] || return 0
	awk -v key="$key" -v t="$t" -v files="$*" '
		BEGIN { n = split(files, f, " "); for (i = 1; i <= n; i++) drop[f[i]] = 1 }
		($1 == "addr" || $1 == "local") && $2 == key { next }
		$1 == "rule" && $3 == t { next }
		$1 == "table" && $2 == t { next }
		$1 == "file" && ($2 in drop) { next }
		($1 == "ifup" || $1 == "nm") && $3 == key { next }
		{ print }' "$STATE_FILE" >"$STATE_FILE.new"
	mv -f "$STATE_FILE.new" "$STATE_FILE"
}

# reconcile_gone KEY TABLE WHY: removes ecsnet's configuration for the ENI.
reconcile_gone() {
	local key="$1" t="$2" why="$3" rec k op path first last sum from tt p have=0 path2
	local -a dropped=() cuts=()
	local what
	what="$(ecsnet_what "$key")"
	GONE+=("$key")
	for rec in ${OLD_ADDRS[@]+"${OLD_ADDRS[@]}"} ${OLD_EXTRA[@]+"${OLD_EXTRA[@]}"}; do
		case " $rec " in *" $key "*) have=1 ;; esac
	done
	for tt in ${OLD_TABLES[@]+"${OLD_TABLES[@]}"}; do [ "$tt" = "$t" ] && have=1; done
	if [ "$have" = 0 ]; then
		ecsnet_log "$what is not attached ($why), and the state record has nothing of it: nothing to remove"
		return 0
	fi
	ecsnet_log "$what is no longer attached to this instance ($why): removing ecsnet's configuration for it"
	for rec in ${OLD_RULES[@]+"${OLD_RULES[@]}"}; do
		read -r from tt p <<<"$rec"
		[ "$tt" = "$t" ] || continue
		if ecsnet_has_rule "$from" "$tt" "$p"; then
			ecsnet_rule_remove "$from" "$tt" "$p"
			ecsnet_log "removed rule from $from lookup $tt priority $p"
		fi
	done
	ecsnet_flush_table "$t" ""
	for rec in ${RECONCILE[@]+"${RECONCILE[@]}"}; do
		read -r k op path first last sum <<<"$rec"
		[ "$k" = "$key" ] || continue
		ecsnet_owned_before "$path" || continue
		case "$op" in
		drop)
			if [ -e "$ROOT_P/$path" ] || [ -L "$ROOT_P/$path" ]; then
				rm -f "$ROOT_P/$path"
				ecsnet_log "removed /$path"
				CHANGED_FILES+=("$path")
			fi
			dropped+=("$path")
			;;
		cut) cuts+=("$first $last $sum $path") ;;
		keep) ecsnet_warn "left /$path as it is: without $what it changes in more than its own lines; the next push rewrites it" ;;
		esac
	done
	# Cut from the bottom up, so that the line numbers (of the file as
	# the bundle wrote it) still hold.
	while read -r first last sum path2; do
		[ -n "$path2" ] || continue
		reconcile_cut "$ROOT_P/$path2" "$first" "$last" "$sum" && CHANGED_FILES+=("$path2")
	done < <(printf '%s\n' ${cuts[@]+"${cuts[@]}"} | sort -k1,1nr)
	reconcile_state_drop "$key" "$t" ${dropped[@]+"${dropped[@]}"}
	ecsnet_log "removed $what from the state record"
}

# reconcile_cut FILE FIRST LAST SHA256: deletes lines FIRST to LAST when
# they are still the ones the bundle wrote.
reconcile_cut() {
	local f="$1" tmp
	[ -f "$f" ] || return 1
	if [ "$(sed -n "$2,$3p" "$f" | sha256sum | cut -d' ' -f1)" != "$4" ]; then
		ecsnet_warn "left ${f#"$ROOT_P"} as it is: lines $2-$3 are not the ones ecsnet wrote for this ENI (the file changed since); the next push rewrites it"
		return 1
	fi
	tmp="$f.ecsnet-new"
	sed "$2,$3d" "$f" >"$tmp"
	chmod --reference="$f" "$tmp"
	mv -f "$tmp" "$f"
	ecsnet_log "removed lines $2-$3 of ${f#"$ROOT_P"}"
}

# reconcile_reload: the stack reads the files it still has.
reconcile_reload() {
	[ "${#CHANGED_FILES[@]}" -gt 0 ] || return 0
	[ "$ROOT_P" = "" ] || return 0
	case "$STACK" in
	networkmanager) if ecsnet_has nmcli; then nmcli connection reload || ecsnet_warn "nmcli connection reload failed"; fi ;;
	networkd) if ecsnet_has networkctl; then networkctl reload || ecsnet_warn "networkctl reload failed"; fi ;;
	netplan)
		if ecsnet_has netplan; then netplan generate || ecsnet_warn "netplan generate failed"; fi
		if ecsnet_has networkctl; then networkctl reload || ecsnet_warn "networkctl reload failed"; fi
		;;
	esac
	if ecsnet_changed 'etc/systemd/system/*' && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
}

ECSNET_CMD="${1:-up}"
case "$ECSNET_CMD" in
up)
	ecsnet_require_root
	ecsnet_lock
	ecsnet_load_state
	reconcile_metadata
	if [ "$META_OK" = 1 ]; then
		ecsnet_log "the metadata service lists ${#META_MAC[@]} ENI(s) for this instance"
	else
		ecsnet_log "the metadata service cannot say which ENIs this instance has ($META_WHY): going by the NICs present after up to ${RECONCILE_GRACE}s"
	fi
	declare -A WAIT=()
	for rec in "${NICS[@]}"; do
		read -r N_KEY N_MAC N_NAME N_CIDR N_GW N_TABLE N_FIXED N_ENI N_ENIID <<<"$rec"
		[ "$N_KEY" = primary ] && continue
		[ -n "$(ecsnet_devs_by_mac "$N_MAC")" ] && continue
		if [ "$META_OK" = 1 ]; then
			if [ -n "${META_MAC[$N_MAC]:-}" ]; then
				ecsnet_log "$(ecsnet_what "$N_KEY") is attached (the metadata service lists it), but no NIC has its MAC yet: kept"
			else
				reconcile_gone "$N_KEY" "$N_TABLE" "the metadata service does not list MAC $N_MAC, and no NIC has it"
			fi
		else
			WAIT[$N_KEY]="$N_TABLE"
		fi
	done
	i=0
	while [ "${#WAIT[@]}" -gt 0 ]; do
		for key in "${!WAIT[@]}"; do
			[ -n "$(ecsnet_devs_by_mac "$key")" ] && unset "WAIT[$key]"
		done
		[ "${#WAIT[@]}" -gt 0 ] || break
		i=$((i + 1))
		if [ "$i" -gt $((RECONCILE_GRACE * 4)) ]; then
			for key in "${!WAIT[@]}"; do
				reconcile_gone "$key" "${WAIT[$key]}" "no NIC has its MAC ${RECONCILE_GRACE}s after boot"
			done
			break
		fi
		sleep 0.25
	done
	reconcile_reload
	# The ENIs found gone, for the boot scripts that run after this one
	# and would otherwise wait for their NICs (ecsnet-ip.sh).
	mkdir -p "$ROOT_P/run/ecsnet/$FLEET"
	printf '%s\n' ${GONE[@]+"${GONE[@]}"} >"$ROOT_P/run/ecsnet/$FLEET/gone"
	ecsnet_log "reconciled: ${#GONE[@]} ENI(s) of this bundle gone from this instance"
	;;
*)
	echo "usage: $0 [up]" >&2
	exit 1
	;;
esac
