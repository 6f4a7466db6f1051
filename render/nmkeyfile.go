package render

import (
	"crypto/sha1"
	"encoding/hex"
)

// nmKeyfile renders the NetworkManager stack (RHEL/Rocky/Alma 8-10,
// Alibaba Cloud Linux 3/4, Anolis 8, SLES/openSUSE 16).
//
// The primary ENI gets no file: NetworkManager already has a profile for
// it (cloud-init's or the image's), and a second profile for the same
// device would leave one of them inactive. The apply script adds the
// secondary addresses to that profile with `nmcli connection modify
// +ipv4.addresses` (always with a prefix: without one nmcli makes a /32),
// removes the ones an earlier run added and the bundle dropped, and runs
// `nmcli device reapply`, which changes addresses without taking the link
// down or restarting DHCP.
//
// Each secondary ENI gets a keyfile, mode 0600 (NetworkManager ignores
// keyfiles others can read), owned by the ENI's name:
//
//	etc/NetworkManager/system-connections/ecsnet-<eni>.nmconnection
//
// matched by MAC only (no interface-name), static addresses, never-default
// (no default route in the main table), the subnet and default routes in
// table 1000+N, and one routing rule per address with an explicit priority
// (NetworkManager requires one). Its UUID is derived from the fleet and
// the ENI's name, so it is stable across renders and re-attachments. The
// apply script reloads the profiles and activates the ENI's profile on the
// interface that has its MAC.
func nmKeyfile(h *Host) ([]File, error) {
	if err := checkHost(h); err != nil {
		return nil, err
	}
	files := make([]File, 0, len(h.Secondary)+1)
	gen := generatedBy("# ", h)
	data := newText(96 + 140*len(h.Secondary))
	data.str("# NM_PROFILES: UUID, NIC key, keyfile of each secondary ENI.\nNM_PROFILES=(\n")
	for _, n := range h.Secondary {
		uuid := nmUUID(h, n)
		f := File{Path: nmPath(n), Mode: 0o600, Data: nmConnection(h, n, gen, uuid)}
		files = append(files, f)
		data.str("  '")
		data.shqText(uuid, " ", nicKey(n), " ", f.Path)
		data.str("'\n")
	}
	data.str(")\n")
	return linuxBundle(h, applyScript{
		stack: "networkmanager",
		files: files,
		data:  data.String(),
		code:  nmCode,
	})
}

func nmPath(n NIC) string {
	return "etc/NetworkManager/system-connections/ecsnet-" + n.ENI + ".nmconnection"
}

// nmUUID is a name-based (version 5 layout) UUID of the fleet and ENI name.
func nmUUID(h *Host, n NIC) string {
	s := sha1.Sum([]byte("ecsnet/" + h.Fleet + "/eni/" + n.ENI))
	s[6] = s[6]&0x0f | 0x50
	s[8] = s[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], s[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], s[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], s[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], s[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], s[10:16])
	return string(b[:])
}

func nmConnection(h *Host, n NIC, gen, uuid string) []byte {
	addrs := n.AllAddresses()
	b := newText(len(gen) + 640 + len(n.Description) + 110*len(addrs))
	title := nicTitle(n)
	b.str(gen, "# ", upperFirst(title), ".\n", describe("# ", n))
	b.str("# Static addresses; never the default route: its gateway lives in\n# table ")
	b.int(n.Table)
	b.str(", which the routing rules select for traffic from its addresses.\n")
	b.str("[connection]\nid=ecsnet-", n.ENI, "\nuuid=", uuid, "\ntype=ethernet\n\n")
	b.str("[ethernet]\nmac-address=", n.MACUpper(), "\n\n")
	b.str("[ipv4]\nmethod=manual\n")
	for i, a := range addrs {
		b.str("address")
		b.int(i + 1)
		b.byte('=')
		b.cidr(a, n.Bits())
		b.byte('\n')
	}
	b.str("never-default=true\nroute1=")
	b.prefix(n.Prefix)
	b.str("\nroute1_options=table=")
	b.int(n.Table)
	b.str("\nroute2=0.0.0.0/0,")
	b.addr(n.Gateway)
	b.str("\nroute2_options=table=")
	b.int(n.Table)
	b.byte('\n')
	for i, a := range addrs {
		b.str("routing-rule")
		b.int(i + 1)
		b.str("=priority ")
		b.int(n.Priority)
		b.str(" from ")
		b.addr(a)
		b.str(" table ")
		b.int(n.Table)
		b.byte('\n')
	}
	b.str("\n[ipv6]\nmethod=ignore\n")
	return b.bytes()
}

const nmCode = `
NM_PRIMARY_UUID=""

stack_preflight() {
	ecsnet_has nmcli || ecsnet_refuse "nmcli is not installed: this host does not run NetworkManager; render it for its own stack"
	[ "$(nmcli -t -f RUNNING general 2>/dev/null)" = running ] ||
		ecsnet_refuse "NetworkManager is not running; render this host for the stack it runs"
	[ -d "$ROOT_P/etc/NetworkManager" ] ||
		ecsnet_refuse "$ROOT_P/etc/NetworkManager does not exist"
	if ecsnet_has_primary_addrs; then
		ecsnet_warn_cloud_init "the primary ENI's profile (and drop the secondary addresses ecsnet adds to it)"
	fi
}

ecsnet_has_primary_addrs() {
	local rec
	for rec in ${ADDRS[@]+"${ADDRS[@]}"}; do
		case "$rec" in "primary "*) return 0 ;; esac
	done
	return 1
}

stack_check_nics() {
	local key dev st
	for key in "${!DEV[@]}"; do
		dev="${DEV[$key]}"
		st="$(nmcli -g GENERAL.STATE device show "$dev" 2>/dev/null)" || st=""
		case "$st" in
		"" | *unmanaged*) ecsnet_refuse "NetworkManager does not manage $dev ($(ecsnet_what "$key")); this bundle is for NetworkManager" ;;
		esac
	done
	NM_PRIMARY_UUID="$(nmcli -g GENERAL.CON-UUID device show "$PRIMARY_DEV" 2>/dev/null)" || NM_PRIMARY_UUID=""
	[ -n "$NM_PRIMARY_UUID" ] ||
		ecsnet_refuse "NetworkManager has no active profile on $PRIMARY_DEV: ecsnet adds the secondary addresses to that profile and never makes a second one for the device"
	local rec uuid k path
	for rec in ${NM_PROFILES[@]+"${NM_PROFILES[@]}"}; do
		read -r uuid k path <<<"$rec"
		[ "$uuid" != "$NM_PRIMARY_UUID" ] || ecsnet_refuse "the profile active on $PRIMARY_DEV is ecsnet's own $uuid"
	done
}

nm_wanted_profile() { # UUID
	local rec uuid k path
	for rec in ${NM_PROFILES[@]+"${NM_PROFILES[@]}"}; do
		read -r uuid k path <<<"$rec"
		[ "$uuid" = "$1" ] && return 0
	done
	return 1
}

# Profiles of ENIs that left this bundle go down before their files go.
stack_take_down() {
	local rec kind uuid key path
	for rec in ${OLD_EXTRA[@]+"${OLD_EXTRA[@]}"}; do
		read -r kind uuid key path <<<"$rec"
		[ "$kind" = nm ] || continue
		nm_wanted_profile "$uuid" && continue
		if nmcli connection down uuid "$uuid" >/dev/null 2>&1; then
			ecsnet_log "took down profile $uuid (its ENI left the bundle)"
		fi
	done
}

# nm_primary_addresses: the primary ENI's secondary addresses live in its
# existing profile. Add the missing ones, remove the ones an earlier run
# added and the bundle dropped, and reapply without a link bounce.
nm_primary_addresses() {
	local cur rec key c n a changed=0
	local -a list=() add=() del=()
	declare -A have=()
	cur="$(nmcli -g ipv4.addresses connection show uuid "$NM_PRIMARY_UUID")"
	IFS=', ' read -r -a list <<<"$cur"
	for a in ${list[@]+"${list[@]}"}; do have[$a]=1; done
	for rec in ${ADDRS[@]+"${ADDRS[@]}"}; do
		read -r key c n <<<"$rec"
		[ "$key" = primary ] && [ -z "${have[$c]:-}" ] && add+=("$c")
	done
	for rec in ${OLD_ADDRS[@]+"${OLD_ADDRS[@]}"}; do
		[ -n "${WANT_ADDR[$rec]:-}" ] && continue
		read -r key c <<<"$rec"
		[ "$key" = primary ] && [ -n "${have[$c]:-}" ] && del+=("$c")
	done
	for c in ${del[@]+"${del[@]}"}; do
		nmcli connection modify uuid "$NM_PRIMARY_UUID" -ipv4.addresses "$c"
		ecsnet_log "removed $c from the profile of $PRIMARY_DEV"
		changed=1
	done
	if [ "${#add[@]}" -gt 0 ]; then
		nmcli connection modify uuid "$NM_PRIMARY_UUID" +ipv4.addresses "$(IFS=,; echo "${add[*]}")"
		ecsnet_log "added ${add[*]} to the profile of $PRIMARY_DEV"
		changed=1
	fi
	if [ "$changed" = 1 ] || ! ecsnet_check primary; then
		nmcli device reapply "$PRIMARY_DEV"
		ecsnet_log "reapplied the profile of $PRIMARY_DEV"
	fi
}

stack_bring_up() {
	nm_primary_addresses
	if ecsnet_changed 'etc/NetworkManager/*'; then
		nmcli connection reload
	fi
	local rec uuid key path dev active
	for rec in ${NM_PROFILES[@]+"${NM_PROFILES[@]}"}; do
		read -r uuid key path <<<"$rec"
		dev="${DEV[$key]}"
		active="$(nmcli -g GENERAL.CON-UUID device show "$dev" 2>/dev/null)" || active=""
		if [ "$active" != "$uuid" ] || ecsnet_changed "$path" || ! ecsnet_check "$key"; then
			nmcli connection up uuid "$uuid" ifname "$dev" >/dev/null
			ecsnet_log "activated profile $(basename "$path" .nmconnection) on $dev"
		fi
	done
	ecsnet_wait_converged 30
}

stack_verify() { return 0; }

stack_state() {
	local rec uuid key path
	for rec in ${NM_PROFILES[@]+"${NM_PROFILES[@]}"}; do
		read -r uuid key path <<<"$rec"
		echo "nm $uuid $key $path"
	done
}
`
