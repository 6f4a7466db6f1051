package render

import (
	"crypto/sha1"
	_ "embed"
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
// down or restarting DHCP. cloud-init rewrites that profile at every boot,
// so the bundle also installs a boot unit that does the same again
// (primaryboot.go says why a re-apply, and not a profile of ecsnet's
// own).
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
//
// IPv6 and IPv4 prefixes (dualstack.go): a secondary ENI with IPv6
// addresses gets [ipv6] method=manual (no router advertisements),
// never-default, its IPv6 block and ::/0 via the vSwitch's IPv6 gateway in
// its table, and one routing rule per IPv6 address; without, [ipv6]
// method=ignore as before. Prefixes the host answers for are [ipv4]
// routes with type=local in table 255 (local), and a routing rule each to
// its table. The
// primary ENI's IPv6 addresses and prefixes, like its IPv4 secondaries,
// are the apply script's (nmcli on the existing profile).
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
	return linuxBundle(h, withPrimaryBoot(h, applyScript{
		stack: "networkmanager",
		files: files,
		data:  data.String(),
		code:  nmCode,
	}))
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

// nmConnection is the keyfile of a secondary ENI.
func nmConnection(h *Host, n NIC, gen, uuid string) []byte {
	addrs := n.AllAddresses()
	prefixes := n.HostPrefixes()
	// Room for the fixed text and every address's lines: one allocation.
	w := newINI(768 + 96*len(addrs) + 128*dualCount(n))
	w.str(gen, "# ", upperFirst(nicTitle(n)), ".\n", describe("# ", n),
		"# Static addresses; never the default route: its gateway lives in\n# table ")
	w.int(n.Table)
	w.str(", which the routing rules select for traffic from its addresses.\n")
	if n.HasIPv6() {
		w.str("# The same for IPv6 (method manual: no router advertisements).\n")
	}
	if len(prefixes) > 0 {
		w.str("# Its IPv4 prefixes are local routes: the host answers for every address in them.\n")
	}
	w.section("connection")
	w.set("id", "ecsnet-", n.ENI)
	w.set("uuid", uuid)
	w.set("type", "ethernet")
	w.section("ethernet")
	w.set("mac-address", n.MACUpper())
	w.section("ipv4")
	w.set("method", "manual")
	for i, a := range addrs {
		w.keyN("address", i+1)
		w.cidr(a, n.Bits())
		w.end()
	}
	w.set("never-default", "true")
	// route<N>=destination[,gateway] and its options (nm-settings-keyfile(5)).
	w.setPrefix("route1", n.Prefix)
	w.key("route1_options")
	w.str("table=")
	w.int(n.Table)
	w.end()
	w.key("route2")
	w.str("0.0.0.0/0,")
	w.addr(n.Gateway)
	w.end()
	w.key("route2_options")
	w.str("table=")
	w.int(n.Table)
	w.end()
	// A route of type local has no gateway (route<N>_options type=local,
	// nm-settings-nmcli(5)).
	for i, p := range prefixes {
		w.keyN("route", 3+i)
		w.prefix(p)
		w.end()
		w.str("route")
		w.int(3 + i)
		w.str("_options=table=")
		w.int(localTable)
		w.str(",type=local")
		w.end()
	}
	for i, a := range addrs {
		w.keyN("routing-rule", i+1)
		w.str("priority ")
		w.int(n.Priority)
		w.str(" from ")
		w.addr(a)
		w.str(" table ")
		w.int(n.Table)
		w.end()
	}
	for i, p := range prefixes {
		w.keyN("routing-rule", len(addrs)+i+1)
		w.str("priority ")
		w.int(n.Priority)
		w.str(" from ")
		w.prefix(p)
		w.str(" table ")
		w.int(n.Table)
		w.end()
	}
	w.section("ipv6")
	if !n.HasIPv6() {
		w.set("method", "ignore")
		return w.bytes()
	}
	w.set("method", "manual")
	for i, a := range n.IPv6 {
		w.keyN("address", i+1)
		w.cidr(a, n.IPv6Bits())
		w.end()
	}
	w.set("never-default", "true")
	w.setPrefix("route1", n.IPv6Prefix)
	w.key("route1_options")
	w.str("table=")
	w.int(n.Table)
	w.end()
	w.key("route2")
	w.str(v6Default, ",")
	w.addr(n.IPv6Gateway())
	w.end()
	w.key("route2_options")
	w.str("table=")
	w.int(n.Table)
	w.end()
	for i, a := range n.IPv6 {
		w.keyN("routing-rule", i+1)
		w.str("priority ")
		w.int(n.Priority)
		w.str(" from ")
		w.addr(a)
		w.str(" table ")
		w.int(n.Table)
		w.end()
	}
	return w.bytes()
}

//go:embed scripts/stack-nmkeyfile.sh
var nmCode string
