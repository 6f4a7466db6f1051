
# ---- ecsnet payload (the same in every Linux payload) ----

ROOT="${ROOT:-/}"
ROOT_P="${ROOT%/}"
STATE_DIR="$ROOT_P/var/lib/ecsnet/$FLEET"
WORK=""
HELD=""

p_log() { printf 'ecsnet: %s: %s\n' "$INSTANCE" "$*"; }
p_warn() { printf 'ecsnet: %s: warning: %s\n' "$INSTANCE" "$*" >&2; }
p_end() { # CODE MESSAGE
	printf 'ecsnet: %s: result: %s\n' "$INSTANCE" "$2"
	exit "$1"
}

# shellcheck disable=SC2317 # run by the EXIT trap
p_cleanup() {
	if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
	if [ -n "$HELD" ]; then rm -rf "$HELD"; fi
}

# One payload at a time per fleet; a lock left by a run that died is
# taken over. Runs that find the same dead holder at once take it over
# one at a time (the takeover directory), each reading the holder again
# there: without that, a second run's removal would take away the lock
# the first had just made, and both would change the host. A takeover
# directory left by a run killed inside it is removed after a minute.
p_lock() {
	local lock="$STATE_DIR/payload.lock" pid i=0
	while ! mkdir "$lock" 2>/dev/null; do
		pid="$(cat "$lock/pid" 2>/dev/null || true)"
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			if mkdir "$lock.takeover" 2>/dev/null; then
				if [ "$(cat "$lock/pid" 2>/dev/null || true)" = "$pid" ]; then rm -rf "$lock"; fi
				rmdir "$lock.takeover"
				continue
			fi
			find "$lock.takeover" -maxdepth 0 -mmin +1 -exec rmdir {} + 2>/dev/null
		fi
		i=$((i + 1))
		[ "$i" -le 600 ] || p_end 1 "another ecsnet payload (pid ${pid:-unknown}) holds $lock; nothing was changed"
		sleep 0.5
	done
	HELD="$lock"
	echo "$$" >"$lock/pid"
}

p_extract() {
	mkdir "$WORK/new" || return 1
	p_bundle >"$WORK/bundle.tgz" || return 1
	[ "$(sha256sum <"$WORK/bundle.tgz" | cut -d' ' -f1)" = "$BUNDLE_SHA256" ] || return 1
	tar -xzf "$WORK/bundle.tgz" -C "$WORK/new" --no-same-owner -m || return 1
	[ -f "$WORK/new/ecsnet-apply.sh" ]
}

# p_snapshot DIR: the live state, one sorted file per kind. Kernel routes
# (which come and go with their addresses) and the local table are left
# out; flags that ip route add does not take are dropped.
p_snapshot() {
	mkdir -p "$1"
	ip -4 -o addr show 2>/dev/null | sed 's/\\.*$//' |
		awk '{ d = $2; sub(/@.*/, "", d); print d, $4, $NF }' | sort >"$1/addr"
	ip -4 rule show 2>/dev/null | tr '\t' ' ' | sed 's/  */ /g; s/ *$//' | sort >"$1/rule"
	ip -4 route show table all 2>/dev/null | grep -Ev '^(local|broadcast|anycast|multicast) | proto kernel ' |
		sed 's/ linkdown//g; s/ dead//g; s/ offload//g; s/ trap//g; s/  */ /g; s/ *$//' | sort >"$1/route"
	ip -o link show 2>/dev/null | awk '{
		n = $2; sub(/:$/, "", n); sub(/@.*/, "", n)
		print n, ($3 ~ /[<,]UP[,>]/ ? "up" : "down")
	}' | sort >"$1/link"
	# IPv6 (global addresses; link-local and kernel routes come and go
	# by themselves) and the local routes of prefixes the host answers for.
	ip -6 -o addr show scope global 2>/dev/null | sed 's/\\.*$//' |
		awk '{ d = $2; sub(/@.*/, "", d); print d, $4 }' | sort >"$1/addr6"
	ip -6 rule show 2>/dev/null | tr '\t' ' ' | sed 's/  */ /g; s/ *$//' | sort >"$1/rule6"
	ip -6 route show table all 2>/dev/null | grep -Ev '^(local|broadcast|anycast|multicast|ff00::/8) | proto kernel ' |
		sed 's/ linkdown//g; s/ dead//g; s/ offload//g; s/ trap//g; s/  */ /g; s/ *$//' | sort >"$1/route6"
	ip -4 route show table local type local 2>/dev/null | grep -v ' proto kernel ' | awk '$1 ~ /\// || $2 ~ /\// { print }' |
		sed 's/^local //; s/  */ /g; s/ *$//' | sort >"$1/local"
}

# p_same A B: whether two snapshots are equal; prints the differences.
p_same() {
	local k same=0
	for k in addr rule route link addr6 rule6 route6 local; do
		[ -f "$1/$k" ] || continue
		if ! cmp -s "$1/$k" "$2/$k"; then
			same=1
			comm -23 "$1/$k" "$2/$k" | sed "s/^/ecsnet: $INSTANCE: missing $k: /" >&2
			comm -13 "$1/$k" "$2/$k" | sed "s/^/ecsnet: $INSTANCE: extra $k: /" >&2
		fi
	done
	return "$same"
}

# p_restore_live BEFORE NOW: removes what NOW has and BEFORE had not, and
# puts back what BEFORE had and NOW lacks.
p_restore_live() {
	local b="$1" n="$2" line prio rest dev c label st want
	# shellcheck disable=SC2086 # a route or rule line is split into ip's words
	comm -13 "$b/route" "$n/route" | while read -r line; do
		ip -4 route del $line 2>/dev/null || true
	done
	comm -13 "$b/rule" "$n/rule" | while read -r line; do
		prio="${line%%:*}" rest="${line#*:}"
		# shellcheck disable=SC2086
		ip -4 rule del priority "$prio" $rest 2>/dev/null || true
	done
	comm -13 "$b/addr" "$n/addr" | while read -r dev c label; do
		ip -4 addr del "$c" dev "$dev" 2>/dev/null || true
	done
	while read -r dev st; do
		want="$(awk -v d="$dev" '$1 == d { print $2 }' "$b/link")"
		if [ -n "$want" ] && [ "$want" != "$st" ]; then ip link set dev "$dev" "$want" 2>/dev/null || true; fi
	done <"$n/link"
	comm -23 "$b/addr" "$n/addr" | while read -r dev c label; do
		if [ "$label" = "$dev" ]; then
			ip -4 addr add "$c" dev "$dev" 2>/dev/null || true
		else
			ip -4 addr add "$c" dev "$dev" label "$label" 2>/dev/null || true
		fi
	done
	# shellcheck disable=SC2086
	comm -23 "$b/route" "$n/route" | while read -r line; do
		ip -4 route add $line 2>/dev/null || true
	done
	comm -23 "$b/rule" "$n/rule" | while read -r line; do
		prio="${line%%:*}" rest="${line#*:}"
		# shellcheck disable=SC2086
		ip -4 rule add priority "$prio" $rest 2>/dev/null || true
	done
	[ -f "$b/addr6" ] || return 0
	# shellcheck disable=SC2086
	comm -13 "$b/route6" "$n/route6" | while read -r line; do
		ip -6 route del $line 2>/dev/null || true
	done
	comm -13 "$b/rule6" "$n/rule6" | while read -r line; do
		prio="${line%%:*}" rest="${line#*:}"
		# shellcheck disable=SC2086
		ip -6 rule del priority "$prio" $rest 2>/dev/null || true
	done
	# shellcheck disable=SC2086
	comm -13 "$b/local" "$n/local" | while read -r line; do
		ip -4 route del local $line table local 2>/dev/null || true
	done
	comm -13 "$b/addr6" "$n/addr6" | while read -r dev c; do
		ip -6 addr del "$c" dev "$dev" 2>/dev/null || true
	done
	comm -23 "$b/addr6" "$n/addr6" | while read -r dev c; do
		ip -6 addr add "$c" dev "$dev" nodad 2>/dev/null || true
	done
	# shellcheck disable=SC2086
	comm -23 "$b/local" "$n/local" | while read -r line; do
		ip -4 route add local $line table local 2>/dev/null || true
	done
	# shellcheck disable=SC2086
	comm -23 "$b/route6" "$n/route6" | while read -r line; do
		ip -6 route add $line 2>/dev/null || true
	done
	comm -23 "$b/rule6" "$n/rule6" | while read -r line; do
		prio="${line%%:*}" rest="${line#*:}"
		# shellcheck disable=SC2086
		ip -6 rule add priority "$prio" $rest 2>/dev/null || true
	done
}

# p_paths: the bundle's paths and those the last run recorded, each once.
p_paths() {
	{
		printf '%s\n' "${PATHS[@]}"
		if [ -f "$STATE_DIR/state" ]; then
			awk '$1 == "file" && $2 ~ /^(etc|usr\/local)\/[A-Za-z0-9._:\/-]+$/ && $2 !~ /\.\./ { print $2 }' "$STATE_DIR/state"
		fi
	} | sort -u
}

p_backup() {
	local p
	mkdir -p "$WORK/saved/files"
	p_paths >"$WORK/saved/paths"
	while read -r p; do
		[ -n "$p" ] || continue
		if [ -e "$ROOT_P/$p" ] || [ -L "$ROOT_P/$p" ]; then
			mkdir -p "$WORK/saved/files/$(dirname "$p")"
			cp -pP "$ROOT_P/$p" "$WORK/saved/files/$p" || return 1
		fi
	done <"$WORK/saved/paths"
	if [ -f "$STATE_DIR/state" ]; then cp -p "$STATE_DIR/state" "$WORK/saved/state" || return 1; fi
	if [ -d "$STATE_DIR/original" ]; then cp -a "$STATE_DIR/original" "$WORK/saved/original" || return 1; fi
}

# p_same_file A B: same kind, bytes (or link target) and mode.
p_same_file() {
	if [ -L "$1" ] || [ -L "$2" ]; then
		[ -L "$1" ] && [ -L "$2" ] && [ "$(readlink "$1")" = "$(readlink "$2")" ]
		return
	fi
	[ -f "$1" ] && [ -f "$2" ] && cmp -s "$1" "$2" && [ "$(stat -c %a "$1")" = "$(stat -c %a "$2")" ]
}

p_restore_files() {
	local p s units=0
	while read -r p; do
		[ -n "$p" ] || continue
		s="$WORK/saved/files/$p"
		if [ -e "$s" ] || [ -L "$s" ]; then
			p_same_file "$s" "$ROOT_P/$p" && continue
			mkdir -p "$(dirname "$ROOT_P/$p")"
			rm -f "$ROOT_P/$p"
			cp -pP "$s" "$ROOT_P/$p" && p_log "restored /$p"
		elif [ -e "$ROOT_P/$p" ] || [ -L "$ROOT_P/$p" ]; then
			rm -f "$ROOT_P/$p" && p_log "removed /$p (it was not there before)"
		else
			continue
		fi
		case "$p" in etc/systemd/*) units=1 ;; esac
	done <"$WORK/saved/paths"
	if [ -f "$WORK/saved/state" ]; then cp -p "$WORK/saved/state" "$STATE_DIR/state"; else rm -f "$STATE_DIR/state"; fi
	rm -rf "$STATE_DIR/original"
	if [ -d "$WORK/saved/original" ]; then cp -a "$WORK/saved/original" "$STATE_DIR/original"; fi
	if [ "$units" = 1 ] && [ -z "$ROOT_P" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl daemon-reload || true
	fi
}

# p_undo_stack: with no previous bundle to re-apply, takes down what the
# failed run brought up through its stack and the live restore cannot
# undo by itself (ifupdown's record of the stanzas it brought up).
p_undo_stack() {
	local kind name key phys f files=()
	[ -f "$STATE_DIR/state" ] || return 0
	command -v ifdown >/dev/null 2>&1 || return 0
	cp "$STATE_DIR/state" "$WORK/failed.state"
	mapfile -t files < <(awk '$1 == "file" && $2 ~ /^etc\/network\/interfaces\.d\/[A-Za-z0-9._-]+$/ { print $2 }' "$WORK/failed.state")
	while read -r kind name key; do
		[ "$kind" = ifup ] || continue
		if [ -f "$WORK/saved/state" ] && grep -qxF "ifup $name $key" "$WORK/saved/state"; then continue; fi
		phys="$({ ifquery --state 2>/dev/null || true; } | awk -F= -v n="$name" '$2 == n { print $1; exit }')"
		[ -n "$phys" ] || continue
		for f in ${files[@]+"${files[@]}"}; do
			ifdown --force -i "$ROOT_P/$f" "$phys" >/dev/null 2>&1 || true
		done
		p_log "took $name ($phys) down"
	done <"$WORK/failed.state"
}

# p_rollback REASON: puts the host back as it was, then ends the run.
p_rollback() {
	local why="$1" rc
	p_warn "$why; rolling back"
	if [ -f "$STATE_DIR/current/ecsnet-apply.sh" ]; then
		rm -rf "$WORK/prev"
		cp -a "$STATE_DIR/current" "$WORK/prev"
		p_log "re-applying the previous bundle"
		bash "$WORK/prev/ecsnet-apply.sh" apply
		rc=$?
		[ "$rc" = 0 ] || p_warn "the previous bundle did not apply cleanly (exit $rc); restoring from the backup"
	else
		p_undo_stack
	fi
	p_restore_files
	p_snapshot "$WORK/now"
	p_restore_live "$WORK/before" "$WORK/now"
	p_snapshot "$WORK/after"
	if p_same "$WORK/before" "$WORK/after"; then
		p_end 5 "rolled back: $why; the host is as it was before"
	fi
	p_end 6 "rollback incomplete: $why; the host differs from before (listed above): fix it by hand"
}

# p_prune: push --prune. Removes every IPv4 address (but link-local
# ones) that PRUNE_KEEP does not list from the interfaces ecsnet manages:
# the primary ENI's (the one holding its DHCP address) and each ENI's, by
# MAC; on those PRUNE_V6 lists (ecsnet gives them IPv6 statics and turns
# router advertisements off), every permanent global IPv6 address it does
# not list too (SLAAC's and DHCPv6's are dynamic; link-local ones are not
# global). Interfaces ecsnet does not manage are left alone. Runs after
# the apply and before the verification, so a failure rolls it back with
# the rest (p_snapshot has the addresses as they were).
p_prune() {
	local rec key a dev want n
	declare -A keep=() devs=() v6=()
	for rec in ${PRUNE_KEEP[@]+"${PRUNE_KEEP[@]}"}; do
		read -r key a <<<"$rec"
		keep["$key $a"]=1
		devs[$key]=1
	done
	for key in ${PRUNE_V6[@]+"${PRUNE_V6[@]}"}; do v6[$key]=1; done
	for key in "${!devs[@]}"; do
		if [ "$key" = primary ]; then
			dev=""
			for rec in "${PRUNE_KEEP[@]}"; do
				read -r n a <<<"$rec"
				[ "$n" = primary ] || continue
				dev="$(ip -4 -o addr show 2>/dev/null | awk -v a="$a" '{ split($4, p, "/") } p[1] == a { d = $2; sub(/@.*/, "", d); print d; exit }')"
				[ -z "$dev" ] || break
			done
		else
			want="$(ip -o link show 2>/dev/null | awk -v m="$key" '{ for (i = 1; i < NF; i++) if ($i == "link/ether" && tolower($(i+1)) == m) { d = $2; sub(/:$/, "", d); sub(/@.*/, "", d); print d } }')"
			n="$(printf '%s\n' "$want" | grep -c .)"
			[ "$n" = 1 ] || { p_warn "prune: $n interfaces have MAC $key; left alone"; continue; }
			dev="$want"
		fi
		[ -n "$dev" ] || { p_warn "prune: no interface found for $key; left alone"; continue; }
		while read -r a; do
			[ -n "$a" ] || continue
			[ -z "${keep["$key ${a%/*}"]:-}" ] || continue
			case "$a" in 169.254.*) continue ;; esac
			if ip -4 addr del "$a" dev "$dev"; then
				p_log "removed $a from $dev: not in the desired state and not ecsnet's (push --prune)"
			else
				p_warn "prune: could not remove $a from $dev"
			fi
		done < <(ip -4 -o addr show dev "$dev" 2>/dev/null | awk '{ print $4 }')
		[ -n "${v6[$key]:-}" ] || continue
		while read -r a; do
			[ -n "$a" ] || continue
			[ -z "${keep["$key ${a%/*}"]:-}" ] || continue
			if ip -6 addr del "$a" dev "$dev"; then
				p_log "removed $a from $dev: not in the desired state and not ecsnet's (push --prune)"
			else
				p_warn "prune: could not remove $a from $dev"
			fi
		done < <(ip -6 -o addr show dev "$dev" scope global permanent 2>/dev/null | awk '{ print $4 }')
	done
}

p_keep_current() {
	rm -rf "$STATE_DIR/current.new"
	if cp -a "$WORK/new" "$STATE_DIR/current.new"; then
		rm -rf "$STATE_DIR/current"
		mv "$STATE_DIR/current.new" "$STATE_DIR/current"
	else
		p_warn "could not keep this bundle for a later rollback"
	fi
}

p_main() {
	local t rc
	[ "$(id -u)" = 0 ] || p_end 3 "refused: run as root (Cloud Assistant's default user); nothing was changed"
	for t in ip base64 tar gzip sha256sum mktemp cmp comm timeout; do
		command -v "$t" >/dev/null 2>&1 || p_end 3 "refused: $t is not installed; nothing was changed"
	done
	if ! mkdir -p "$STATE_DIR" || ! chmod 700 "$STATE_DIR"; then
		p_end 1 "cannot create $STATE_DIR; nothing was changed"
	fi
	WORK="$(mktemp -d "$STATE_DIR/run.XXXXXX")" || p_end 1 "cannot create a private directory in $STATE_DIR; nothing was changed"
	trap p_cleanup EXIT
	# A lost session must not stop a run half-way.
	trap '' HUP PIPE
	p_lock
	p_extract || p_end 1 "the payload is damaged (its bundle does not extract or check out); nothing was changed"
	p_preflight
	p_wait_macs
	p_services_before
	p_snapshot "$WORK/before"
	p_backup || p_end 1 "cannot back up the files this bundle replaces; nothing was changed"
	p_log "applying the bundle of $INSTANCE ($INSTANCE_ID, $STACK)"
	bash "$WORK/new/ecsnet-apply.sh" apply
	rc=$?
	case "$rc" in
	0) ;;
	3) p_end 3 "refused by ecsnet-apply.sh (see above); nothing was changed" ;;
	*) p_rollback "ecsnet-apply.sh apply failed with exit $rc" ;;
	esac
	if [ "${PRUNE:-0}" = 1 ]; then p_prune; fi
	p_log "verifying the live state"
	if [ -n "$FAIL_VERIFY" ]; then
		p_rollback "verification failed: $FAIL_VERIFY"
	fi
	bash "$WORK/new/ecsnet-apply.sh" verify
	rc=$?
	[ "$rc" = 0 ] || p_rollback "verification failed (ecsnet-apply.sh verify exit $rc): the live state does not match the bundle"
	p_probe
	p_keep_current
	p_end 0 "applied and verified$(p_probe_result)"
}

p_main
