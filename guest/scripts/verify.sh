#!/bin/bash
# ecsnet verify payload: prints this host's live links, IPv4 addresses,
# rules and routes for ecsnet verify, compressed, on one line that starts
# with ECSNET-LIVE-1, and the addresses ecsnet's state records say it
# wrote (so that verify tells an address ecsnet wrote from a foreign one,
# as push does). It changes nothing.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail
export LC_ALL=C

j() { # prints ip's JSON, or [] when it prints nothing
	local out
	out="$(ip -j "$@" 2>/dev/null)"
	printf '%s' "${out:-[]}"
}

# written prints "FLEET KEY CIDR" for each address the state record of
# each fleet (render/scripts/lib.sh) says ecsnet added. Only lines of the
# record's strict form are printed; ecsnet verify checks them again.
written() {
	local f fleet
	for f in /var/lib/ecsnet/*/state; do
		[ -f "$f" ] || continue
		fleet="$(basename "$(dirname "$f")")"
		[[ "$fleet" =~ ^[A-Za-z0-9._-]+$ ]] || continue
		awk -v fleet="$fleet" '$1 == "addr" && NF == 3 && $2 ~ /^(primary|[0-9a-f:]+)$/ && $3 ~ /^[0-9.]+\/[0-9]+$/ { print fleet, $2, $3 }' "$f"
	done
}

doc() {
	if ip -j addr show >/dev/null 2>&1; then
		printf '{"format":"ip-json","addr":'
		j addr show
		printf ',"rule":'
		j -4 rule show
		printf ',"route":'
		j -4 route show table all
		printf ',"written":['
		written | awk 'NR > 1 { printf "," } { printf "\"%s\"", $0 }'
		printf ']}\n'
	else
		echo '#ip-text'
		echo '#link'
		ip -o link show
		echo '#addr'
		ip -4 -o addr show
		echo '#rule'
		ip -4 rule show
		echo '#route'
		ip -4 route show table all
		echo '#written'
		written
	fi
}

command -v ip >/dev/null 2>&1 || { echo "ecsnet: ip(8) is not installed" >&2; exit 3; }
printf 'ECSNET-LIVE-1 %s\n' "$(doc | gzip -9n | base64 | tr -d '\n')"
