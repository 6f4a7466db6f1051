package render

import (
	"net/netip"
	"strconv"

	"github.com/ecsnet/ecsnet/schema"
)

// ifupdown renders the Debian stack (Debian 8-13, Ubuntu 14.04/16.04): one
// file of stanzas that /etc/network/interfaces sources, mode 0644:
//
//	etc/network/interfaces.d/60-ecsnet       Debian
//	etc/network/interfaces.d/60-ecsnet.cfg   Ubuntu 14.04/16.04, whose
//	                                         interfaces sources only *.cfg
//
// cloud-init owns 50-cloud-init (the primary ENI by DHCP); this file only
// adds to it, and cloud-init never rewrites it.
//
// The primary ENI's secondary addresses are alias stanzas, one per
// address (auto eth0:N / iface eth0:N inet static / address A/len), with
// no gateway: the DHCP stanza owns the default route, and a second
// `gateway` makes ifup fail with "File exists" and leave the stanza half
// up (seed erratum E5). Addresses are CIDR (E6).
//
// A secondary ENI is one logical interface, ecsnet-<eni>: the first stanza
// holds its primary address and, as up/down commands, its table routes and
// one rule per address; each further address is another stanza of the same
// name, which ifup applies together (one `address` per stanza: a second
// one in a stanza is silently ignored). On ifupdown 0.8.20 and later
// (Debian 10+) an `auto mac/<MAC>/=ecsnet-<eni>` line binds it to the
// interface with the ENI's MAC, whatever its name; older releases name the
// interface (eth<N>) and the apply script checks that eth<N> has the MAC.
//
// The apply script never restarts networking (which bounces every
// interface: E7): it runs ifdown, with the old file still installed, for
// the stanzas that left the bundle, installs the file, runs ifup for the
// stanzas that are not up, and converges the rest with ip(8), so that a
// stanza that gained or lost an address is not taken down (a VIP stays
// reachable while its neighbours change).
func ifupdown(h *Host) ([]File, error) {
	if err := checkHost(h); err != nil {
		return nil, err
	}
	byMAC := ifupdownByMAC(h.OS)
	path := "etc/network/interfaces.d/60-ecsnet"
	if h.OS == "ubuntu14.04" || h.OS == "ubuntu16.04" {
		path += ".cfg"
	}
	b := newText(512 + 200*len(h.Primary.Secondary) + 1000*len(h.Secondary) + 250*addrCount(h))
	data := newText(160 + 64*addrCount(h))
	b.str(generatedBy("# ", h))
	b.str("# cloud-init's 50-cloud-init brings the primary ENI up by DHCP; this file\n# only adds to it.\n")
	data.str("# IFUPDOWN: stanza name, NIC key (- when the name is the interface's),\n" +
		"# the stanza's addresses.\nIFUPDOWN=(\n")
	// record adds the data record of one stanza: its name, NIC key and
	// addresses (address/prefix, comma-separated).
	record := func(name, key string, bits int, addrs ...netip.Addr) {
		data.str("  '")
		data.shqText(name, " ", key, " ")
		for i, a := range addrs {
			if i > 0 {
				data.byte(',')
			}
			data.cidr(a, bits)
		}
		data.str("'\n")
	}
	p := h.Primary
	if len(p.Secondary) > 0 {
		b.str("\n# Secondary addresses of the ", nicTitle(p), ".\n# Alias stanzas never name a gateway: the DHCP stanza owns the default route.\n")
	}
	for _, a := range p.Secondary {
		alias := p.Name() + ":" + strconv.FormatUint(uint64(aliasNum(p, a)), 10)
		b.str("auto ", alias, "\niface ", alias, " inet static\n    address ")
		b.cidr(a, p.Bits())
		b.byte('\n')
		record(alias, "-", p.Bits(), a)
	}
	for _, n := range h.Secondary {
		b.str("\n# ", upperFirst(nicTitle(n)), ".\n", describe("# ", n))
		b.str("# Static, no gateway: its default route is in table ")
		b.int(n.Table)
		b.str(", which one rule\n# per address selects for traffic from that address.\n")
		name, key := n.Name(), "-"
		if byMAC {
			name, key = "ecsnet-"+n.ENI, nicKey(n)
			b.str("auto mac/", n.MAC, "/=", name, "\n")
		} else {
			b.str("auto ", name, "\n")
		}
		addrs := n.AllAddresses()
		for i, a := range addrs {
			b.str("iface ", name, " inet static\n    address ")
			b.cidr(a, n.Bits())
			b.byte('\n')
			if i > 0 {
				continue
			}
			b.str("    up ip -4 route replace ")
			b.prefix(n.Prefix)
			b.str(" dev \"$IFACE\" scope link table ")
			b.int(n.Table)
			b.str("\n    up ip -4 route replace default via ")
			b.addr(n.Gateway)
			b.str(" dev \"$IFACE\" table ")
			b.int(n.Table)
			b.byte('\n')
			for _, r := range addrs {
				b.str("    up ip -4 rule del ")
				b.rule(r, n)
				b.str(" 2>/dev/null || true\n    up ip -4 rule add ")
				b.rule(r, n)
				b.byte('\n')
			}
			for _, r := range addrs {
				b.str("    down ip -4 rule del ")
				b.rule(r, n)
				b.str(" || true\n")
			}
			b.str("    down ip -4 route flush table ")
			b.int(n.Table)
			b.str(" || true\n")
		}
		record(name, key, n.Bits(), addrs...)
	}
	data.str(")\nIFUPDOWN_FILE=")
	data.shq(path)
	data.byte('\n')
	return linuxBundle(h, applyScript{
		stack: "ifupdown",
		files: []File{{Path: path, Mode: 0o644, Data: b.bytes()}},
		// Alias stanzas name the primary interface; without MAC
		// patterns, so do the secondary ENIs' stanzas.
		fixedName: func(n NIC) bool { return n.ENI == "" || !byMAC },
		data:      data.String(),
		code:      ifupdownCode,
	})
}

// ifupdownByMAC reports whether the OS's ifupdown (0.8.20 or later) can
// bind a stanza to a MAC with `auto mac/<MAC>/=<name>`. Releases we do not
// know get the older, name-based form.
func ifupdownByMAC(os schema.OS) bool {
	switch os {
	case "debian10", "debian11", "debian12", "debian13":
		return true
	}
	return false
}

const ifupdownCode = `
stack_preflight() {
	ecsnet_has ifup || ecsnet_refuse "ifup (ifupdown) is not installed: this host does not use /etc/network/interfaces; render it for its own stack"
	[ -f "$ROOT_P/etc/network/interfaces" ] || ecsnet_refuse "$ROOT_P/etc/network/interfaces does not exist"
	ifupdown_sourced || ecsnet_refuse "/etc/network/interfaces does not source /$IFUPDOWN_FILE; add 'source /etc/network/interfaces.d/*' to it"
	if compgen -G "$ROOT_P/etc/netplan/*.yaml" >/dev/null; then
		ecsnet_refuse "this host has netplan configuration in /etc/netplan: render it with network: netplan"
	fi
}

# ifupdown_sourced: whether /etc/network/interfaces reads our file (the
# source patterns vary: Debian uses interfaces.d/*, older releases
# source-directory, whose run-parts rules skip names with a dot, and
# Ubuntu 14.04/16.04 *.cfg).
ifupdown_sourced() {
	local kw arg rest target="/$IFUPDOWN_FILE"
	while read -r kw arg rest; do
		[[ "$arg" == /* ]] || arg="/etc/network/$arg"
		case "$kw" in
		source)
			# shellcheck disable=SC2053
			[[ "$target" == $arg ]] && return 0
			;;
		source-directory)
			[ "${arg%/}" = /etc/network/interfaces.d ] && [[ "${target##*/}" =~ ^[a-zA-Z0-9_-]+$ ]] && return 0
			;;
		esac
	done <"$ROOT_P/etc/network/interfaces"
	return 1
}

stack_check_nics() { :; }

ifupdown_ifup() { ifup -i "$ROOT_P/$IFUPDOWN_FILE" "$@"; }
ifupdown_ifdown() { ifdown -i "$ROOT_P/$IFUPDOWN_FILE" "$@"; }

# ifupdown_physical NAME: the interface ifupdown has up as stanza NAME.
ifupdown_physical() {
	{ ifquery --state 2>/dev/null || true; } | awk -F= -v n="$1" '$2 == n { print $1; exit }'
}

ifupdown_wanted() { # NAME
	local rec name key addrs
	for rec in ${IFUPDOWN[@]+"${IFUPDOWN[@]}"}; do
		read -r name key addrs <<<"$rec"
		[ "$name" = "$1" ] && return 0
	done
	return 1
}

# Stanzas that left the bundle go down first, with the file that defined
# them still in place.
stack_take_down() {
	local rec kind name key phys
	for rec in ${OLD_EXTRA[@]+"${OLD_EXTRA[@]}"}; do
		read -r kind name key <<<"$rec"
		[ "$kind" = ifup ] || continue
		ifupdown_wanted "$name" && continue
		phys="$(ifupdown_physical "$name")"
		[ -n "$phys" ] || continue
		if [ -f "$ROOT_P/$IFUPDOWN_FILE" ] && ifupdown_ifdown "$phys"; then
			ecsnet_log "took $name ($phys) down: it left the bundle"
		else
			ifdown --force "$phys" >/dev/null 2>&1 || true
			ecsnet_warn "ifdown $phys failed; forced it, and ip(8) removes what is left"
		fi
	done
}

stack_bring_up() {
	local rec name key addrs target dev c have
	for rec in ${IFUPDOWN[@]+"${IFUPDOWN[@]}"}; do
		read -r name key addrs <<<"$rec"
		if [ "$key" = - ]; then
			target="$name"
			dev="${name%%:*}"
		else
			dev="${DEV[$key]}"
			target="$dev=$name"
		fi
		[ -n "$(ifupdown_physical "$name")" ] && continue
		# Addresses already there (put by hand, or left by a failed run)
		# would make ifup fail with "File exists": adopt them.
		for c in ${addrs//,/ }; do
			for have in $(ecsnet_addr_on "$dev" "${c%/*}"); do
				ip -4 addr del "$have" dev "$dev"
				ecsnet_log "adopting ${c%/*} on $dev into stanza $name"
			done
		done
		ifupdown_ifup "$target" || ecsnet_die "ifup $target failed (see above)"
		ecsnet_log "brought $target up"
	done
	# Repair anything removed behind ifupdown's back since.
	ecsnet_converge_ip
}

stack_verify() { return 0; }

stack_state() {
	local rec name key addrs
	for rec in ${IFUPDOWN[@]+"${IFUPDOWN[@]}"}; do
		read -r name key addrs <<<"$rec"
		echo "ifup $name $key"
	done
}
`
