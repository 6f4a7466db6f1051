
# ---- ecsnet payload probes (the same in every Linux payload) ----
#
# Files and addresses that match the bundle do not prove the host still
# reaches its network: a vSwitch block in the file that differs from the
# cloud's renders a gateway nobody answers at, and the ENI's traffic goes
# nowhere. So, before it keeps the bundle, the payload probes what users
# depend on, and rolls back when a probe does not pass within
# PROBE_DEADLINE seconds.
#
# The data section gives:
#   PROBES          one line per NIC: KEY NAME MAC GATEWAY ADDRESS...
#                   (KEY is "primary" or the ENI's MAC, as in the state
#                   record; NAME is "primary" or the ENI's name; MAC is
#                   "-" when the lock has none for the primary ENI);
#   PROBE_MAC_WAIT  seconds to wait for each secondary ENI's interface;
#   PROBE_DEADLINE  seconds the probes may take, retries included;
#   SKIP_PROBES     probes turned off (push/apply --skip-probes): any of
#                   address, gateway, metadata, cloud-assistant, or all.
#
# Each result is one line: "ecsnet: <instance>: probe: <name>: ok|failed|
# skipped: <detail>". A probe that could not be taken (no ping, a service
# the host did not reach before the change) is skipped and says why: it is
# never counted as passed.

# The instance metadata service (ecs-api.md §7; host-config.md "metadata").
METADATA_ADDR=100.100.100.200

# PROBES_SKIPPED: the probes not taken, ", NAME" each: the result line
# names them, so that a report never counts them as passed.
PROBES_SKIPPED=""

p_probe_line() { # NAME RESULT DETAIL
	printf 'ecsnet: %s: probe: %s: %s: %s\n' "$INSTANCE" "$1" "$2" "$3"
	if [ "$2" = skipped ]; then PROBES_SKIPPED="$PROBES_SKIPPED, $1"; fi
}

# p_probe_result: what the result line adds about the probes not taken,
# or nothing when every probe was taken.
p_probe_result() {
	[ -n "$PROBES_SKIPPED" ] || return 0
	printf '; not probed: %s (the probe lines say why)' "${PROBES_SKIPPED#, }"
}

# p_probe_off KIND: whether --skip-probes turned that kind of probe off.
p_probe_off() {
	case " ${SKIP_PROBES:-} " in *" $1 "* | *" all "*) return 0 ;; esac
	return 1
}

# p_nic_dev KEY ADDRESS: the interface of a NIC: the one with the ENI's
# MAC, or for the primary ENI the one holding its (DHCP) address.
p_nic_dev() {
	if [ "$1" = primary ]; then
		ip -4 -o addr show 2>/dev/null | awk -v a="$2" '{ split($4, p, "/") } p[1] == a { d = $2; sub(/@.*/, "", d); print d; exit }'
		return
	fi
	ip -o link show 2>/dev/null | awk -v m="$1" '{
		for (i = 1; i < NF; i++) if ($i == "link/ether" && tolower($(i+1)) == m) { d = $2; sub(/:$/, "", d); sub(/@.*/, "", d); print d }
	}'
}

# p_primary_addr: the primary ENI's primary address (PROBES).
p_primary_addr() {
	local rec key name mac gw addrs
	for rec in ${PROBES[@]+"${PROBES[@]}"}; do
		read -r key name mac gw addrs <<<"$rec"
		if [ "$key" = primary ]; then
			echo "${addrs%% *}"
			return
		fi
	done
}

# p_wait_macs: a hot-plugged NIC can appear on the host some seconds after
# the API reports its ENI InUse. Waits up to PROBE_MAC_WAIT seconds for an
# interface with each secondary ENI's MAC; refuses, naming the ENIs whose
# MAC never came, before anything is changed.
p_wait_macs() {
	local rec key name mac rest missing said="" end
	end=$((SECONDS + ${PROBE_MAC_WAIT:-30}))
	while :; do
		missing=""
		for rec in ${PROBES[@]+"${PROBES[@]}"}; do
			read -r key name mac rest <<<"$rec"
			[ "$key" != primary ] || continue
			[ -n "$(p_nic_dev "$key")" ] || missing="$missing, ENI $name (MAC $mac)"
		done
		[ -n "$missing" ] || return 0
		[ "$SECONDS" -lt "$end" ] || break
		if [ -z "$said" ]; then
			p_log "waiting up to ${PROBE_MAC_WAIT:-30}s for the interface of ${missing#, }"
			said=1
		fi
		sleep 1
	done
	p_end 3 "refused: no interface has the MAC of ${missing#, } after ${PROBE_MAC_WAIT:-30}s: is it attached to this instance ($INSTANCE_ID)? nothing was changed"
}

# p_tcp ADDRESS PORT SECONDS: whether a TCP connection opens, with bash's
# /dev/tcp (curl and wget may be absent).
p_tcp() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout "$3" bash -c 'exec 3<>"/dev/tcp/$1/$2"' p_tcp "$1" "$2" 2>/dev/null
}

# p_route ADDRESS: how the host reaches ADDRESS now: "dev X src Y".
p_route() {
	ip -4 route get "$1" 2>/dev/null | awk 'NR == 1 { for (i = 1; i < NF; i++) if ($i == "dev" || $i == "src") s = s (s == "" ? "" : " ") $i " " $(i+1); print s }'
}

# p_metadata_get PATH: the body of a 200 answer from the metadata service
# to GET PATH, within 2 seconds; fails otherwise.
p_metadata_get() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 2 bash -c '
		exec 3<>"/dev/tcp/$1/80" || exit 1
		printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$1" >&3
		IFS= read -r status <&3 || exit 1
		case "$status" in "HTTP/"*" 200"*) ;; *) exit 1 ;; esac
		while IFS= read -r line <&3; do [ "${line%$'"'"'\r'"'"'}" != "" ] || break; done
		cat <&3' p_get "$METADATA_ADDR" "$1" 2>/dev/null
}

# p_services_before records, before anything changes, which services the
# host reaches: the metadata service, and the Cloud Assistant server the
# agent talks to. The agent connects to https://<region>.axt.aliyun.com
# (TCP 443) and to 100.100.100.200:80; the server's addresses differ by
# region, so the payload learns the region from the metadata service and
# resolves the name:
# https://www.alibabacloud.com/help/en/ecs/user-guide/configure-network-permissions-for-the-cloud-assistant-agent
# Writes "NAME ADDRESS PORT reachable|unreachable|unknown DETAIL" lines to
# $WORK/services.
p_services_before() {
	local svcs="$WORK/services" region addr state
	: >"$svcs"
	if p_tcp "$METADATA_ADDR" 80 2; then state=reachable; else state=unreachable; fi
	printf 'metadata %s 80 %s %s\n' "$METADATA_ADDR" "$state" "$(p_route "$METADATA_ADDR")" >>"$svcs"
	if [ "$state" != reachable ]; then
		printf 'cloud-assistant - 443 unknown the metadata service, which names the region of its server, was not reachable before the change\n' >>"$svcs"
		return 0
	fi
	region="$(p_metadata_get /latest/meta-data/region-id)"
	case "$region" in
	"" | *[!a-z0-9-]*)
		printf 'cloud-assistant - 443 unknown the metadata service did not name the region before the change\n' >>"$svcs"
		return 0
		;;
	esac
	# Bounded: a resolver that does not answer would hold the run for
	# its timeouts times its attempts.
	addr="$(timeout 3 getent ahostsv4 "$region.axt.aliyun.com" 2>/dev/null | awk '{ print $1; exit }')"
	if [ -z "$addr" ]; then
		printf 'cloud-assistant - 443 unknown %s.axt.aliyun.com did not resolve (in 3s) before the change\n' "$region" >>"$svcs"
		return 0
	fi
	if p_tcp "$addr" 443 2; then state=reachable; else state=unreachable; fi
	printf 'cloud-assistant %s 443 %s %s\n' "$addr" "$state" "$(p_route "$addr")" >>"$svcs"
}

# p_have_ping: whether an executable ping is there (bash's command -v also
# names a file on PATH that is not executable).
p_have_ping() {
	local p
	p="$(command -v ping 2>/dev/null)" && [ -f "$p" ] && [ -x "$p" ]
}

# p_probe_once KIND ARGS...: one try of one probe; prints the detail on
# stdout and succeeds when it passes.
p_probe_once() {
	local kind="$1" key dev a missing="" route
	shift
	case "$kind" in
	address) # KEY ADDRESS...
		key="$1"
		shift
		dev="$(p_nic_dev "$key" "$1")"
		if [ -z "$dev" ]; then
			if [ "$key" = primary ]; then echo "no interface holds the primary address $1"; else echo "no interface has MAC $key"; fi
			return 1
		fi
		for a in "$@"; do
			ip -4 -o addr show dev "$dev" 2>/dev/null | awk -v a="$a" '{ split($4, p, "/") } p[1] == a { f = 1 } END { exit !f }' || missing="$missing $a"
		done
		if [ -n "$missing" ]; then
			echo "not on $dev:$missing"
			return 1
		fi
		echo "$* on $dev"
		;;
	gateway) # ADDRESS GATEWAY
		if ping -c 1 -W 1 -I "$1" "$2" >/dev/null 2>&1; then
			echo "$2 answers a ping from $1"
			return 0
		fi
		echo "no answer from $2 to a ping from $1 (route: $(p_route "$2"))"
		return 1
		;;
	address6) # KEY ADDRESS...
		key="$1"
		shift
		dev="$(p_nic_dev "$key" "$(p_primary_addr)")"
		if [ -z "$dev" ]; then
			echo "no interface for $key"
			return 1
		fi
		for a in "$@"; do
			ip -6 -o addr show dev "$dev" scope global 2>/dev/null | awk -v a="$a" '{ split($4, p, "/") } p[1] == a && !/ tentative/ { f = 1 } END { exit !f }' || missing="$missing $a"
		done
		if [ -n "$missing" ]; then
			echo "not on $dev (or still tentative):$missing"
			return 1
		fi
		echo "$* on $dev"
		;;
	gateway6) # ADDRESS GATEWAY
		if ping -6 -c 1 -W 1 -I "$1" "$2" >/dev/null 2>&1; then
			echo "$2 answers a ping from $1"
			return 0
		fi
		route="$(ip -6 route get "$2" from "$1" 2>/dev/null | awk 'NR == 1 { for (i = 1; i < NF; i++) if ($i == "dev" || $i == "via" || $i == "table") s = s (s == "" ? "" : " ") $i " " $(i+1); print s }')"
		echo "no answer from $2 to a ping from $1 (route: ${route:-none})"
		return 1
		;;
	service) # ADDRESS PORT ROUTE-BEFORE...
		a="$1:$2"
		route="$(p_route "$1")"
		if p_tcp "$1" "$2" 2; then
			echo "$a answers, as before the change ($route)"
			return 0
		fi
		shift 2
		echo "$a answered before the change and does not now (route before: $*; now: ${route:-none})"
		return 1
		;;
	esac
}

# p_probe: the probes, after the apply and its verification. Retries each
# probe that has not passed until PROBE_DEADLINE; then prints every
# result and, when one failed, rolls back naming the first.
p_probe() {
	local rec key name mac gw addrs end i detail first="" nfailed=0 svc addr port state rest
	local -a names=() kinds=() args=() results=() details=()
	p_log "probing (up to ${PROBE_DEADLINE:-15}s)"
	for rec in ${PROBES[@]+"${PROBES[@]}"}; do
		read -r key name mac gw addrs <<<"$rec"
		if p_probe_off address; then
			p_probe_line "address $name" skipped "turned off (--skip-probes)"
		else
			names+=("address $name") kinds+=(address) args+=("$key $addrs")
		fi
		if p_probe_off gateway; then
			p_probe_line "gateway $name" skipped "turned off (--skip-probes)"
		elif ! p_have_ping; then
			p_probe_line "gateway $name" skipped "ping is not installed"
		else
			names+=("gateway $name") kinds+=(gateway) args+=("${addrs%% *} $gw")
		fi
	done
	# shellcheck disable=SC2153 # PROBES6 is in the data only where a NIC has IPv6
	for rec in ${PROBES6[@]+"${PROBES6[@]}"}; do
		read -r key name gw addrs <<<"$rec"
		if p_probe_off address; then
			p_probe_line "IPv6 address $name" skipped "turned off (--skip-probes)"
		else
			names+=("IPv6 address $name") kinds+=(address6) args+=("$key $addrs")
		fi
		if p_probe_off gateway; then
			p_probe_line "IPv6 gateway $name" skipped "turned off (--skip-probes)"
		elif ! p_have_ping; then
			p_probe_line "IPv6 gateway $name" skipped "ping is not installed"
		else
			names+=("IPv6 gateway $name") kinds+=(gateway6) args+=("${addrs%% *} $gw")
		fi
	done
	while read -r svc addr port state rest; do
		[ -n "$svc" ] || continue
		if p_probe_off "$svc"; then
			p_probe_line "$svc" skipped "turned off (--skip-probes)"
		elif [ "$state" = unknown ]; then
			p_probe_line "$svc" skipped "not probed: $rest"
		elif [ "$state" != reachable ]; then
			p_probe_line "$svc" skipped "not probed: $addr:$port was unreachable before the change"
		else
			names+=("$svc") kinds+=(service) args+=("$addr $port $rest")
		fi
	done <"$WORK/services"
	end=$((SECONDS + ${PROBE_DEADLINE:-15}))
	while :; do
		nfailed=0
		for i in "${!names[@]}"; do
			[ "${results[i]:-}" != ok ] || continue
			# shellcheck disable=SC2086 # ARGS are words
			if detail="$(p_probe_once "${kinds[i]}" ${args[i]})"; then
				results[i]=ok
			else
				results[i]=failed nfailed=$((nfailed + 1))
			fi
			details[i]="$detail"
		done
		if [ "$nfailed" = 0 ] || [ "$SECONDS" -ge "$end" ]; then break; fi
		sleep 1
	done
	for i in "${!names[@]}"; do
		p_probe_line "${names[i]}" "${results[i]}" "${details[i]}"
		if [ "${results[i]}" = failed ] && [ -z "$first" ]; then first="${names[i]}: ${details[i]}"; fi
	done
	[ -n "$first" ] || return 0
	if [ "$nfailed" -gt 1 ]; then first="$first (and $((nfailed - 1)) more, listed above)"; fi
	p_rollback "probe failed: $first"
}
