#!/bin/bash
# ecsnet verify payload: prints this host's live links, addresses, rules
# and routes (IPv4 and IPv6, and table local's local routes) for ecsnet
# verify, compressed, on one line that starts
# with ECSNET-LIVE-1, and the addresses ecsnet's state records say it
# wrote (so that verify tells an address ecsnet wrote from a foreign one,
# as push does), and the network managers that compete with ecsnet's
# configuration (preflight.sh's pf_scan, which guest puts in place of the
# marker line below). It changes nothing.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail
export LC_ALL=C
ROOT="${ROOT:-/}"
ROOT_P="${ROOT%/}"

# @PREFLIGHT@

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
		awk -v fleet="$fleet" '$1 == "addr" && NF == 3 && $2 ~ /^(primary|[0-9a-f:]+)$/ && $3 ~ /^([0-9.]+|[0-9a-f:]+)\/[0-9]+$/ { print fleet, $2, $3 }' "$f"
	done
}

# competing prints preflight's findings (pf_emit's lines, each once) for
# the bundle each fleet last applied here (kept by the apply payload as
# /var/lib/ecsnet/<fleet>/current), or for no bundle when there is none.
competing() {
	local d fleet family any=0
	for d in "$ROOT_P"/var/lib/ecsnet/*/current; do
		[ -d "$d" ] || continue
		fleet="$(basename "$(dirname "$d")")"
		[[ "$fleet" =~ ^[A-Za-z0-9._-]+$ ]] || continue
		family="$(sed -n 's/^[[:space:]]*"stack":[[:space:]]*"\([a-z0-9]*\)".*/\1/p' "$d/manifest.json" 2>/dev/null | head -n 1)"
		pf_scan "$d" "$family"
		any=1
	done
	if [ "$any" = 0 ]; then pf_scan "" ""; fi
}

# json_strings prints its input's lines as a JSON list's strings.
json_strings() {
	sed 's/\\/\\\\/g; s/"/\\"/g; s/\t/\\t/g' | awk '{ printf "%s\"%s\"", (NR > 1 ? "," : ""), $0 }'
}

doc() {
	local findings
	findings="$(competing | sort -u)"
	if ip -j addr show >/dev/null 2>&1; then
		printf '{"format":"ip-json","addr":'
		j addr show
		printf ',"rule":'
		j -4 rule show
		printf ',"route":'
		j -4 route show table all
		printf ',"rule6":'
		j -6 rule show
		printf ',"route6":'
		j -6 route show table all
		printf ',"local":'
		j -4 route show table local type local
		printf ',"written":['
		written | awk 'NR > 1 { printf "," } { printf "\"%s\"", $0 }'
		printf '],"competing":['
		if [ -n "$findings" ]; then printf '%s\n' "$findings" | json_strings; fi
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
		echo '#competing'
		if [ -n "$findings" ]; then printf '%s\n' "$findings"; fi
	fi
}

command -v ip >/dev/null 2>&1 || { echo "ecsnet: ip(8) is not installed" >&2; exit 3; }
printf 'ECSNET-LIVE-1 %s\n' "$(doc | gzip -9n | base64 | tr -d '\n')"
