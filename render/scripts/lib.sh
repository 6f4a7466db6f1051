# ---- finding the NICs ----

# ecsnet_resolve_nics: finds every NIC (only RESOLVE_ONLY's, a NIC key,
# when set) and sets DEV.
RESOLVE_ONLY=""
ecsnet_resolve_nics() {
	local rec dev
	for rec in "${NICS[@]}"; do
		read -r N_KEY N_MAC N_NAME N_CIDR N_GW N_TABLE N_FIXED N_ENI N_ENIID <<<"$rec"
		[ -n "$RESOLVE_ONLY" ] && [ "$N_KEY" != "$RESOLVE_ONLY" ] && continue
		dev=""
		if [ "$N_MAC" != - ]; then
			dev="$(ecsnet_devs_by_mac "$N_MAC")"
			case "$dev" in
			"") ecsnet_refuse "no interface has MAC $N_MAC of $(ecsnet_what "$N_KEY"): is it attached to this instance ($INSTANCE_ID)?" ;;
			*[[:space:]]*) ecsnet_refuse "several interfaces have MAC $N_MAC: $(echo "$dev" | tr '\n' ' ')" ;;
			esac
		else
			dev="$(ecsnet_dev_by_addr "${N_CIDR%/*}")"
			[ -n "$dev" ] || ecsnet_refuse "no interface holds ${N_CIDR%/*}, the primary address of $INSTANCE ($INSTANCE_ID), and the lock has no MAC to find it by: is this the right host?"
		fi
		if [ "$N_KEY" = primary ]; then
			PRIMARY_DEV="$dev"
			[ -n "$(ecsnet_addr_on "$dev" "${N_CIDR%/*}")" ] ||
				ecsnet_refuse "$dev (MAC $N_MAC) does not hold ${N_CIDR%/*}, the primary address of $INSTANCE ($INSTANCE_ID): is this the right host?"
		fi
		if [ "$dev" != "$N_NAME" ]; then
			case "$N_FIXED" in
			1) ecsnet_refuse "$(ecsnet_what "$N_KEY") is $dev on this host, but the $STACK files name it $N_NAME; rename the interface (net.ifnames=0) or render for a stack that matches by MAC" ;;
			2)
				# The files name the NIC eth<slot>, ecsnet's number, which
				# need not be the kernel's: they are installed under the
				# name found by MAC. The name goes into file names and
				# files, so only a plain one is taken.
				[[ "$dev" =~ ^[A-Za-z0-9_][A-Za-z0-9_-]{0,14}$ ]] ||
					ecsnet_refuse "$(ecsnet_what "$N_KEY") is \"$dev\" on this host, a name the $STACK files cannot use (letters, digits, '_' and '-' only); rename the interface"
				RENAME[$N_NAME]="$dev"
				;;
			esac
		fi
		DEV[$N_KEY]="$dev"
	done
}

# ecsnet_rename_words: copies stdin to stdout with every word (a run of
# letters, digits and '_') that RENAME has replaced by its kernel name, in
# one pass, so that two NICs whose names trade places stay apart. Only
# eth<N> words are in RENAME, and only a NIC's name is such a word in the
# files (addresses, tables and keys are not), comments included.
ecsnet_rename_words() {
	local map="" k
	for k in "${!RENAME[@]}"; do map+="$k ${RENAME[$k]} "; done
	awk -v map="$map" '
		BEGIN { n = split(map, w, " "); for (i = 1; i < n; i += 2) to[w[i]] = w[i + 1] }
		{
			out = ""; s = $0
			while (match(s, /[A-Za-z0-9_]+/)) {
				t = substr(s, RSTART, RLENGTH)
				out = out substr(s, 1, RSTART - 1) ((t in to) ? to[t] : t)
				s = substr(s, RSTART + RLENGTH)
			}
			print out s
		}'
}

# ecsnet_host_path PATH: where a file of the bundle goes on this host:
# PATH, with the interface names in its last element as this host has
# them (the files' ifcfg-ethN is ifcfg-ens5 where the ENI's MAC is on ens5).
ecsnet_host_path() {
	if [ "${#RENAME[@]}" = 0 ]; then
		printf '%s\n' "$1"
		return
	fi
	printf '%s/%s\n' "${1%/*}" "$(printf '%s\n' "${1##*/}" | ecsnet_rename_words)"
}

# ecsnet_host_name NAME: an interface name (or alias label, NAME:N) of the
# files as this host names it.
ecsnet_host_name() {
	local base="${1%%:*}"
	printf '%s%s\n' "${RENAME[$base]:-$base}" "${1:${#base}}"
}

# ecsnet_stage: when a NIC's kernel name differs from the one the files
# give it, writes the files as they are installed here, names and
# contents renamed, under $STAGE; ecsnet_install_files takes them from
# there.
ecsnet_stage() {
	[ "${#RENAME[@]}" -gt 0 ] || return 0
	local rec path mode sum dst
	for rec in "${NICS[@]}"; do
		read -r N_KEY N_MAC N_NAME N_CIDR N_GW N_TABLE N_FIXED N_ENI N_ENIID <<<"$rec"
		[ -n "${RENAME[$N_NAME]:-}" ] || continue
		ecsnet_log "$(ecsnet_what "$N_KEY") is ${RENAME[$N_NAME]} on this host, $N_NAME in the $STACK files: installing them as ${RENAME[$N_NAME]}'s"
	done
	rm -rf "$STAGE"
	for rec in ${FILES[@]+"${FILES[@]}"}; do
		read -r path mode sum <<<"$rec"
		dst="$(ecsnet_host_path "$path")"
		[[ "$dst" =~ ^(etc|usr/local)/[A-Za-z0-9._:/-]+$ && "$dst" != *..* ]] ||
			ecsnet_die "cannot name /$path after this host's interfaces: /$dst is not a plain path"
		mkdir -p "$STAGE/$(dirname "$dst")"
		ecsnet_rename_words <"$BUNDLE/$path" >"$STAGE/$dst"
	done
}

# ecsnet_dev KEY: the interface of a NIC of this bundle, or of a NIC an
# earlier run configured (found by MAC); fails when it is gone.
ecsnet_dev() {
	if [ -n "${DEV[$1]:-}" ]; then printf '%s\n' "${DEV[$1]}"; return 0; fi
	[ "$1" = primary ] && return 1
	local d
	d="$(ecsnet_devs_by_mac "$1")"
	case "$d" in "" | *[[:space:]]*) return 1 ;; esac
	printf '%s\n' "$d"
}

# ---- the bundle and the state record ----

ecsnet_check_bundle() {
	local rec path mode sum
	for rec in ${FILES[@]+"${FILES[@]}"}; do
		read -r path mode sum <<<"$rec"
		[ -f "$BUNDLE/$path" ] || ecsnet_refuse "the bundle is incomplete: $path is missing next to $0"
		[ "$(sha256sum <"$BUNDLE/$path" | cut -d' ' -f1)" = "$sum" ] ||
			ecsnet_refuse "the bundle is damaged: $path does not have the sha256 the script expects"
	done
}

ecsnet_want_sets() {
	local rec key c n from t p path mode sum
	for rec in ${ADDRS[@]+"${ADDRS[@]}"}; do read -r key c n <<<"$rec"; WANT_ADDR["$key $c"]=1; WANT_IP["$key ${c%/*}"]=1; done
	for rec in ${RULES[@]+"${RULES[@]}"}; do read -r from t p <<<"$rec"; WANT_RULE["$from $t $p"]=1; done
	for rec in ${ROUTES[@]+"${ROUTES[@]}"}; do read -r t key c n <<<"$rec"; WANT_TABLE[$t]=1; done
	for rec in ${LOCALS[@]+"${LOCALS[@]}"}; do read -r key c <<<"$rec"; WANT_LOCAL["$key $c"]=1; done
	for rec in ${MAIN6[@]+"${MAIN6[@]}"}; do read -r key c <<<"$rec"; WANT_MAIN6["$key $c"]=1; done
	for rec in ${FILES[@]+"${FILES[@]}"}; do read -r path mode sum <<<"$rec"; WANT_PATH[$(ecsnet_host_path "$path")]=1; done
	for path in ${OWNED[@]+"${OWNED[@]}"}; do WANT_PATH[$path]=1; done
}


ecsnet_write_state() {
	local rec key c n from t p path mode sum
	{
		echo "# What ecsnet added on this host for fleet $FLEET, instance $INSTANCE."
		echo "# The next apply removes what its bundle no longer has. Do not edit."
		for rec in ${ADDRS[@]+"${ADDRS[@]}"}; do read -r key c n <<<"$rec"; echo "addr $key $c"; done
		for rec in ${RULES[@]+"${RULES[@]}"}; do read -r from t p <<<"$rec"; echo "rule $from $t $p"; done
		for t in ${WANT_TABLE[@]+"${!WANT_TABLE[@]}"}; do echo "table $t"; done | sort
		for rec in ${LOCALS[@]+"${LOCALS[@]}"}; do echo "local $rec"; done
		for rec in ${MAIN6[@]+"${MAIN6[@]}"}; do echo "main6 $rec"; done
		for rec in ${FILES[@]+"${FILES[@]}"}; do read -r path mode sum <<<"$rec"; echo "file $(ecsnet_host_path "$path")"; done
		for path in ${OWNED[@]+"${OWNED[@]}"}; do echo "file $path"; done
		stack_state
	} >"$STATE_FILE.new"
	mv -f "$STATE_FILE.new" "$STATE_FILE"
}


# Each run keeps what it replaced: backup/files/<path> (the old file),
# backup/created (files that did not exist), backup/state (the old record).
ecsnet_backup_begin() {
	rm -rf "$BACKUP"
	mkdir -p "$BACKUP/files"
	: >"$BACKUP/created"
	if [ -f "$STATE_FILE" ]; then cp -p "$STATE_FILE" "$BACKUP/state"; fi
}

ecsnet_backup() { # PATH
	if [ -e "$ROOT_P/$1" ] || [ -L "$ROOT_P/$1" ]; then
		mkdir -p "$BACKUP/files/$(dirname "$1")"
		cp -pP "$ROOT_P/$1" "$BACKUP/files/$1"
	else
		echo "$1" >>"$BACKUP/created"
	fi
}

# A file ecsnet replaces that it did not write (the image's ifcfg-eth0 on
# SUSE) is kept, the first time, under original/<path>; when a later
# bundle no longer has the path, the original comes back instead of the
# path going away.
ORIGINAL="$STATE_DIR/original"


ecsnet_install_files() {
	local rec path mode sum dst src
	ecsnet_stage
	for rec in ${FILES[@]+"${FILES[@]}"}; do
		read -r path mode sum <<<"$rec"
		src="$BUNDLE/$path"
		if [ "${#RENAME[@]}" -gt 0 ]; then
			# Named as this host names its interfaces (ecsnet_stage).
			path="$(ecsnet_host_path "$path")"
			src="$STAGE/$path"
		fi
		dst="$ROOT_P/$path"
		# A format whose installed file keeps a value of the file it
		# replaces (wicked: the image's BOOTPROTO) defines
		# stack_install_source PATH FILE: the file to install instead.
		if declare -F stack_install_source >/dev/null; then src="$(stack_install_source "$path" "$src")"; fi
		if [ -f "$dst" ] && [ ! -L "$dst" ] && cmp -s "$src" "$dst" &&
			[ "$(stat -c %a "$dst")" = "${mode#0}" ]; then
			continue
		fi
		ecsnet_backup "$path"
		if [ -e "$dst" ] && ! ecsnet_owned_before "$path" && [ ! -e "$ORIGINAL/$path" ]; then
			mkdir -p "$ORIGINAL/$(dirname "$path")"
			cp -pP "$dst" "$ORIGINAL/$path"
			ecsnet_log "kept the original /$path in $ORIGINAL"
		fi
		mkdir -p "$(dirname "$dst")"
		cp "$src" "$dst.ecsnet-new"
		chmod "$mode" "$dst.ecsnet-new"
		mv -f "$dst.ecsnet-new" "$dst"
		CHANGED_FILES+=("$path")
		ecsnet_log "installed /$path"
	done
	for path in ${OLD_FILES[@]+"${OLD_FILES[@]}"}; do
		[ -n "${WANT_PATH[$path]:-}" ] && continue
		if [ -e "$ORIGINAL/$path" ]; then
			ecsnet_backup "$path"
			mv -f "$ORIGINAL/$path" "$ROOT_P/$path"
			CHANGED_FILES+=("$path")
			ecsnet_log "restored the original /$path (no longer in the bundle)"
		elif [ -e "$ROOT_P/$path" ] || [ -L "$ROOT_P/$path" ]; then
			ecsnet_backup "$path"
			rm -f "$ROOT_P/$path"
			CHANGED_FILES+=("$path")
			ecsnet_log "removed /$path (no longer in the bundle)"
		fi
	done
	rm -rf "$STAGE"
}

# ecsnet_restore_file PATH: put back what the last install replaced (or
# remove what it created), for a config its own tool rejected.
ecsnet_restore_file() {
	if [ -e "$BACKUP/files/$1" ] || [ -L "$BACKUP/files/$1" ]; then
		cp -pP "$BACKUP/files/$1" "$ROOT_P/$1"
	elif grep -qxF "$1" "$BACKUP/created" 2>/dev/null; then
		rm -f "$ROOT_P/$1"
	fi
}


# ---- applying and removing live state with ip(8) ----

# An IPv6 address is added without duplicate address detection
# (nodad): the vSwitch assigned it to this ENI alone, and a tentative
# address could not be the source of the check's or the probes' packets
# for a second or more.
ecsnet_addr_ensure() { # DEV CIDR N
	local dev="$1" c="$2" n="$3" have fam
	fam="$(ecsnet_fam "$c")"
	ecsnet_has_addr "$dev" "$c" && return 0
	for have in $(ecsnet_addr_on "$dev" "${c%/*}"); do
		ip "$fam" addr del "$have" dev "$dev"
	done
	if [ "$fam" = -6 ]; then
		ip -6 addr add "$c" dev "$dev" nodad
	elif [ "$n" = - ]; then
		ip -4 addr add "$c" dev "$dev"
	else
		ip -4 addr add "$c" dev "$dev" label "$dev:$n"
	fi
	ecsnet_log "added $c to $dev"
}

ecsnet_rule_ensure() { # FROM TABLE PRIO
	ecsnet_has_rule "$1" "$2" "$3" && return 0
	ip "$(ecsnet_fam "$1")" rule add from "$(ecsnet_host_prefix "$1")" table "$2" priority "$3"
	ecsnet_log "added rule from $1 lookup $2 priority $3"
}

# IPv4 prefixes the host answers for (LOCALS): a route of type local in
# table local, where the kernel keeps the host's own addresses, so every
# address of the prefix is delivered here; the ENI's rule (RULES) sends
# the replies out through its table.
ecsnet_has_local() { # DEV PREFIX
	ip -4 route show table local type local 2>/dev/null | awk -v dev="$1" -v p="$2" '
		($1 == p || ($1 == "local" && $2 == p)) { for (i = 2; i < NF; i++) if ($i == "dev" && $(i+1) == dev) ok = 1 }
		END { exit !ok }'
}

# ecsnet_main6_on DEV: prints the gateways of the main table's IPv6
# default routes through DEV.
ecsnet_main6_on() {
	ip -6 route show default dev "$1" 2>/dev/null | awk '$1 == "default" { for (i = 2; i < NF; i++) if ($i == "via") print $(i+1) }'
}


# ecsnet_converge_ip: add every address, route and rule of the bundle
# that is missing, with ip(8); leave everything else alone.
ecsnet_converge_ip() {
	local rec key c n dev t dst gw from p
	for rec in "${NICS[@]}"; do
		read -r key n n n n t n n n <<<"$rec"
		[ "$key" = primary ] && continue
		dev="${DEV[$key]}"
		ecsnet_link_up "$dev" || { ip link set dev "$dev" up; ecsnet_log "set $dev up"; }
	done
	for rec in ${ADDRS[@]+"${ADDRS[@]}"}; do
		read -r key c n <<<"$rec"
		ecsnet_addr_ensure "${DEV[$key]}" "$c" "$n"
	done
	for rec in ${ROUTES[@]+"${ROUTES[@]}"}; do
		read -r t key dst gw <<<"$rec"
		dev="${DEV[$key]}"
		ecsnet_has_route "$t" "$dev" "$dst" "$gw" && continue
		if [ "$gw" = - ]; then
			if [ "$(ecsnet_fam "$dst")" = -6 ]; then
				ip -6 route replace "$dst" dev "$dev" table "$t"
			else
				ip -4 route replace "$dst" dev "$dev" scope link table "$t"
			fi
			ecsnet_log "added route $dst dev $dev to table $t"
		else
			ip "$(ecsnet_fam "$gw")" route replace "$dst" via "$gw" dev "$dev" table "$t"
			ecsnet_log "added route $dst via $gw dev $dev to table $t"
		fi
	done
	local fam
	for t in ${WANT_TABLE[@]+"${!WANT_TABLE[@]}"}; do
		for fam in -4 -6; do
			for dst in $(ip "$fam" route show table "$t" 2>/dev/null | awk '$1 == "default" || $1 ~ /^[0-9a-f.:]+(\/[0-9]+)?$/ { print $1 }'); do
				ecsnet_want_route "$t" "$dst" "$fam" && continue
				ip "$fam" route del "$dst" table "$t" || ecsnet_warn "could not remove route $dst from table $t"
				ecsnet_log "removed stray route $dst from table $t"
			done
		done
	done
	for rec in ${RULES[@]+"${RULES[@]}"}; do
		read -r from t p <<<"$rec"
		ecsnet_rule_ensure "$from" "$t" "$p"
	done
	ecsnet_converge_extras ""
}

# ecsnet_converge_extras [KEY]: adds the local routes of the prefixes the
# host answers for (LOCALS) and the main table's IPv6 default route
# (MAIN6) that are missing, of one NIC (or all).
ecsnet_converge_extras() {
	local rec key dst gw dev
	for rec in ${LOCALS[@]+"${LOCALS[@]}"}; do
		read -r key dst <<<"$rec"
		[ -n "$1" ] && [ "$key" != "$1" ] && continue
		dev="${DEV[$key]}"
		ecsnet_has_local "$dev" "$dst" && continue
		ip -4 route replace local "$dst" dev "$dev" table local
		ecsnet_log "added local route $dst dev $dev (the host answers for the prefix)"
	done
	for rec in ${MAIN6[@]+"${MAIN6[@]}"}; do
		read -r key gw <<<"$rec"
		[ -n "$1" ] && [ "$key" != "$1" ] && continue
		dev="${DEV[$key]}"
		[ "$(ecsnet_main6_on "$dev")" = "$gw" ] && continue
		ip -6 route replace default via "$gw" dev "$dev"
		ecsnet_log "added the IPv6 default route via $gw dev $dev to the main table"
	done
}

ecsnet_want_route() { # TABLE DEST FAMILY
	local rec t key dst gw
	for rec in ${ROUTES[@]+"${ROUTES[@]}"}; do
		read -r t key dst gw <<<"$rec"
		[ "$t" = "$1" ] && [ "$dst" = "$2" ] && [ "$(ecsnet_fam "$dst" "$gw")" = "$3" ] && return 0
	done
	return 1
}

# ecsnet_remove_dropped: remove what an earlier run added and this bundle
# no longer has. The primary ENI's own primary address is never touched,
# nor is an address the bundle still wants on the same NIC with another
# prefix (a vSwitch block fixed from /25 to /24): the apply has just
# replaced it with the new prefix, and removing it by address would take
# the new one away.
ecsnet_remove_dropped() {
	local rec key c dev have from t p gw
	ecsnet_nic primary
	local primary_addr="${N_CIDR%/*}"
	for rec in ${OLD_ADDRS[@]+"${OLD_ADDRS[@]}"}; do
		[ -n "${WANT_ADDR[$rec]:-}" ] && continue
		read -r key c <<<"$rec"
		[ "${c%/*}" = "$primary_addr" ] && continue
		[ -n "${WANT_IP[$key ${c%/*}]:-}" ] && continue
		dev="$(ecsnet_dev "$key")" || continue # the NIC is gone, and its addresses with it
		for have in $(ecsnet_addr_on "$dev" "${c%/*}"); do
			if ip "$(ecsnet_fam "$c")" addr del "$have" dev "$dev"; then
				ecsnet_log "removed $have from $dev (no longer in the bundle)"
			else
				ecsnet_warn "could not remove $have from $dev"
			fi
		done
	done
	for rec in ${OLD_RULES[@]+"${OLD_RULES[@]}"}; do
		[ -n "${WANT_RULE[$rec]:-}" ] && continue
		read -r from t p <<<"$rec"
		if ecsnet_has_rule "$from" "$t" "$p"; then
			ecsnet_rule_remove "$from" "$t" "$p"
			ecsnet_log "removed rule from $from lookup $t priority $p (no longer in the bundle)"
		fi
	done
	for t in ${OLD_TABLES[@]+"${OLD_TABLES[@]}"}; do
		[ -n "${WANT_TABLE[$t]:-}" ] && continue
		ecsnet_flush_table "$t" "(no longer in the bundle)"
	done
	for rec in ${OLD_LOCALS[@]+"${OLD_LOCALS[@]}"}; do
		[ -n "${WANT_LOCAL[$rec]:-}" ] && continue
		read -r key c <<<"$rec"
		dev="$(ecsnet_dev "$key")" || continue
		if ecsnet_has_local "$dev" "$c"; then
			ip -4 route del local "$c" dev "$dev" table local || ecsnet_warn "could not remove the local route $c dev $dev"
			ecsnet_log "removed local route $c dev $dev (no longer in the bundle)"
		fi
	done
	for rec in ${OLD_MAIN6[@]+"${OLD_MAIN6[@]}"}; do
		[ -n "${WANT_MAIN6[$rec]:-}" ] && continue
		read -r key gw <<<"$rec"
		dev="$(ecsnet_dev "$key")" || continue
		if [ -n "$(ecsnet_main6_on "$dev" | grep -xF "$gw")" ]; then
			ip -6 route del default via "$gw" dev "$dev" || ecsnet_warn "could not remove the IPv6 default route via $gw dev $dev"
			ecsnet_log "removed the IPv6 default route via $gw dev $dev (no longer in the bundle)"
		fi
	done
}

# A secondary ENI's gateway never belongs in the main table: a second
# default route there hijacks or blackholes the host's traffic. Remove any
# that something else (a DHCP client) put there.
ecsnet_drop_main_defaults() {
	local rec key dev gw n
	for rec in "${NICS[@]}"; do
		read -r key n n n n n n n n <<<"$rec"
		[ "$key" = primary ] && continue
		dev="${DEV[$key]}"
		while read -r gw; do
			[ -n "$gw" ] || continue
			ip -4 route del default via "$gw" dev "$dev"
			ecsnet_log "removed the main-table default route via $gw dev $dev (its place is table $(ecsnet_nic "$key"; echo "$N_TABLE"))"
		done < <(ip -4 route show default dev "$dev" 2>/dev/null | awk '$1 == "default" { for (i = 2; i < NF; i++) if ($i == "via") print $(i+1) }')
		while read -r gw; do
			[ -n "$gw" ] || continue
			ip -6 route del default via "$gw" dev "$dev"
			ecsnet_log "removed the main-table IPv6 default route via $gw dev $dev (its place is table $(ecsnet_nic "$key"; echo "$N_TABLE"))"
		done < <(ecsnet_main6_on "$dev")
	done
}

# ecsnet_check [KEY]: compares the live state of one NIC (or all) with the
# bundle; prints each difference when CHECK_VERBOSE=1; returns 1 on any.
CHECK_VERBOSE=0
ecsnet_check() {
	local only="${1:-}" rec key c n dev t dst gw from p bad=0
	ecsnet_problem() { bad=1; if [ "$CHECK_VERBOSE" = 1 ]; then printf 'ecsnet: %s: differs: %s\n' "$INSTANCE" "$*" >&2; fi; }
	for rec in "${NICS[@]}"; do
		read -r key n n n n t n n n <<<"$rec"
		[ -n "$only" ] && [ "$key" != "$only" ] && continue
		dev="${DEV[$key]}"
		if [ "$key" != primary ]; then
			ecsnet_link_up "$dev" || ecsnet_problem "$dev ($(ecsnet_what "$key")) is down"
			if [ -n "$(ip -4 route show default dev "$dev" 2>/dev/null)" ]; then
				ecsnet_problem "the main table has a default route via $dev; it belongs in table $t only"
			fi
			if [ -n "$(ecsnet_main6_on "$dev")" ]; then
				ecsnet_problem "the main table has an IPv6 default route via $dev; it belongs in table $t only"
			fi
		fi
	done
	for rec in ${ADDRS[@]+"${ADDRS[@]}"}; do
		read -r key c n <<<"$rec"
		[ -n "$only" ] && [ "$key" != "$only" ] && continue
		ecsnet_has_addr "${DEV[$key]}" "$c" || ecsnet_problem "$c is not on ${DEV[$key]} ($(ecsnet_what "$key"))"
	done
	for rec in ${ROUTES[@]+"${ROUTES[@]}"}; do
		read -r t key dst gw <<<"$rec"
		[ -n "$only" ] && [ "$key" != "$only" ] && continue
		ecsnet_has_route "$t" "${DEV[$key]}" "$dst" "$gw" ||
			ecsnet_problem "table $t lacks the route to $dst (gateway $gw) dev ${DEV[$key]}"
	done
	for rec in ${RULES[@]+"${RULES[@]}"}; do
		read -r from t p <<<"$rec"
		if [ -n "$only" ]; then
			ecsnet_nic "$only"
			[ "$N_TABLE" = "$t" ] || continue
		fi
		ecsnet_has_rule "$from" "$t" "$p" || ecsnet_problem "no rule from $from lookup $t priority $p"
	done
	for rec in ${LOCALS[@]+"${LOCALS[@]}"}; do
		read -r key dst <<<"$rec"
		[ -n "$only" ] && [ "$key" != "$only" ] && continue
		ecsnet_has_local "${DEV[$key]}" "$dst" || ecsnet_problem "table local lacks the local route to $dst dev ${DEV[$key]} (the host does not answer for the prefix)"
	done
	for rec in ${MAIN6[@]+"${MAIN6[@]}"}; do
		read -r key gw <<<"$rec"
		[ -n "$only" ] && [ "$key" != "$only" ] && continue
		ecsnet_main6_on "${DEV[$key]}" | grep -qxF "$gw" || ecsnet_problem "the main table lacks the IPv6 default route via $gw dev ${DEV[$key]}"
	done
	if [ -z "$only" ]; then
		for rec in ${OLD_ADDRS[@]+"${OLD_ADDRS[@]}"}; do
			[ -n "${WANT_ADDR[$rec]:-}" ] && continue
			read -r key c <<<"$rec"
			[ -n "${WANT_IP[$key ${c%/*}]:-}" ] && continue # wanted with another prefix: checked above
			dev="$(ecsnet_dev "$key")" || continue
			[ -z "$(ecsnet_addr_on "$dev" "${c%/*}")" ] || ecsnet_problem "${c%/*} is still on $dev though the bundle dropped it"
		done
		stack_verify || bad=1
	fi
	return "$bad"
}

# ecsnet_wait_converged SECONDS: daemons (networkd, NetworkManager) apply
# asynchronously; wait until the live state matches or time runs out.
ecsnet_wait_converged() {
	local i=0
	while ecsnet_any_drift; do
		i=$((i + 1))
		[ "$i" -le $(($1 * 4)) ] || return 0
		sleep 0.25
	done
}

# ecsnet_wait_nic KEY SECONDS: ecsnet_wait_converged for one NIC.
ecsnet_wait_nic() {
	local i=0
	until ecsnet_check "$1"; do
		i=$((i + 1))
		[ "$i" -le $(($2 * 4)) ] || return 0
		sleep 0.25
	done
}

# ecsnet_wait_primary SECONDS: at boot, wait until the primary ENI holds
# its primary address (DHCP may still be running); ecsnet_resolve_nics
# then says what is wrong if it never does.
ecsnet_wait_primary() {
	local i=0 dev a
	ecsnet_nic primary
	a="${N_CIDR%/*}"
	while :; do
		if [ "$N_MAC" != - ]; then dev="$(ecsnet_devs_by_mac "$N_MAC")"; else dev="$(ecsnet_dev_by_addr "$a")"; fi
		if [ -n "$dev" ] && [ -n "$(ecsnet_addr_on "$dev" "$a" 2>/dev/null)" ]; then return 0; fi
		i=$((i + 1))
		[ "$i" -le $(($1 * 4)) ] || return 0
		sleep 0.25
	done
}

# ecsnet_enable_unit UNIT SCRIPT: enables the bundle's boot unit (none
# when UNIT is empty) the way systemctl enable would, with a symlink, so
# that it also works under a scratch ROOT; the symlink is in OWNED, so a
# later bundle without the unit removes it. Reloads systemd when a unit
# file was installed or removed.
ecsnet_enable_unit() {
	local u="$1" wants="$ROOT_P/etc/systemd/system/multi-user.target.wants"
	if [ -n "$u" ] && [ "$(readlink "$wants/$u" 2>/dev/null)" != "../$u" ]; then
		mkdir -p "$wants"
		ecsnet_backup "etc/systemd/system/multi-user.target.wants/$u"
		ln -sfn "../$u" "$wants/$u"
		CHANGED_FILES+=("etc/systemd/system/multi-user.target.wants/$u")
		ecsnet_log "enabled $u"
	fi
	if [ "$ROOT_P" = "" ] && [ -d /run/systemd/system ]; then
		ecsnet_changed 'etc/systemd/system/*' && systemctl daemon-reload
	elif [ -n "$u" ] && ! ecsnet_has systemctl; then
		ecsnet_warn "no systemd here: run /$2 at boot (for example from rc.local) to keep the addresses after a reboot"
	fi
	return 0
}

# ecsnet_any_drift: whether any NIC's live state differs from the bundle.
ecsnet_any_drift() {
	local rec key
	for rec in "${NICS[@]}"; do
		read -r key _ <<<"$rec"
		ecsnet_check "$key" || return 0
	done
	return 1
}

# ---- the format's functions follow ----
