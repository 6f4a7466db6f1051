package render

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ecsnet/ecsnet/schema"
)

// This file holds what every Linux bundle shares: the checks that keep
// hostile values out of the files, the quoting and comment helpers, and
// the apply script, ecsnet-apply.sh.
//
// The apply script is one bash program made of four parts:
//
//   - a header (what it is for, its exit codes, ROOT);
//   - a data section, generated here from the Host: the NICs, addresses,
//     routes, rules and files, as single-quoted words built only from
//     validated, typed values (netip addresses, MACs matched by a regexp,
//     numbers, names matched by the schema's rules);
//   - the shared library, scripts/lib.sh (fixed text: no Go value is ever
//     interpolated into code), and the format's own functions
//     (scripts/stack-<format>.sh, fixed too): stack_preflight, stack_check_nics, stack_take_down,
//     stack_bring_up, stack_verify and stack_state;
//   - main, which runs "apply" (the default) or "verify".
//
// apply: refuse before changing anything when the bundle is damaged, the
// live network stack is not the one rendered for, or a NIC cannot be found
// by its MAC (the primary ENI by its primary address when the lock has no
// MAC). Files that name a secondary ENI's interface call it eth<slot>,
// ecsnet's number for it, which need not be the kernel's: where the NIC
// found by MAC is called otherwise, the script installs those files under
// that name (renamingStack). Then back up what it replaces under
// /var/lib/ecsnet/<fleet>/backup, install the files, apply them live
// without a reboot and without bouncing the primary ENI or unrelated
// interfaces, remove what an earlier
// run added and the files no longer want (the state record
// /var/lib/ecsnet/<fleet>/state lists it), write the new record, and
// verify the live addresses, table routes and rules. Running it twice
// changes nothing the second time.
//
// verify: read-only; compares the live state with the bundle. The
// delivery issue (Cloud Assistant) builds restore-on-failure on top of the
// backup and the state record.

// aliasMax is the longest interface label the kernel accepts (IFNAMSIZ-1).
const aliasMax = 15

// The names, IDs and MACs are checked with the schema's rules
// (schema/names.go); validPath is render's own. All are regular
// expressions written out by hand: matching regexps was a tenth of the
// time of rendering a large fleet. TestValidPath holds validPath to its
// expression.

// validPath: ^(etc|usr/local)/[A-Za-z0-9._:/-]+$
func validPath(s string) bool {
	rest, ok := strings.CutPrefix(s, "etc/")
	if !ok {
		rest, ok = strings.CutPrefix(s, "usr/local/")
	}
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') && !strings.ContainsRune("._:/-", rune(c)) {
			return false
		}
	}
	return true
}

// CheckNames reports the first of h's fleet name, instance name and
// instance ID that breaks the schema's rules. Every file and payload of
// the host is named or tagged with them, so the renderers and the payload
// builder check them before anything else.
func (h *Host) CheckNames() error {
	if !schema.ValidFleetName(h.Fleet) {
		return fmt.Errorf("fleet name %q is not tag-safe (lower-case letters, digits, '.', '_', '-')", h.Fleet)
	}
	if !schema.ValidName(h.Name) {
		return fmt.Errorf("instance name %q is not a DNS label", h.Name)
	}
	if h.InstanceID != "" && !schema.ValidInstanceID(h.InstanceID) {
		return fmt.Errorf("instance ID %q is not like i-bp1...", h.InstanceID)
	}
	return nil
}

// checkHost validates every value of h that reaches a file or a script.
// The schema checks names and addresses already; a Host can also be built
// by hand or from a damaged lock (whose MACs and IDs are not checked when
// it is read), so the renderers check again rather than trust.
func checkHost(h *Host) error {
	if err := h.CheckNames(); err != nil {
		return err
	}
	if h.Primary.DeviceIndex != 0 {
		return fmt.Errorf("the primary ENI has device index %d, not 0", h.Primary.DeviceIndex)
	}
	if err := checkNIC(h.Primary, true); err != nil {
		return fmt.Errorf("primary ENI: %w", err)
	}
	// A host has a handful of NICs and addresses: slices searched in
	// turn cost less than maps.
	seen := seenAddrs{addrs: make([]ownedAddr, 0, min(addrCount(h), 65))}
	seen.add(h.Primary.Address, -1)
	for _, a := range h.Primary.Secondary {
		if _, dup := seen.owner(a); dup {
			return fmt.Errorf("address %s is listed twice (%s)", a, "the primary ENI")
		}
		seen.add(a, -1)
	}
	for i, n := range h.Secondary {
		if !schema.ValidName(n.ENI) {
			return fmt.Errorf("ENI name %q is not a DNS label", n.ENI)
		}
		if err := checkNIC(n, false); err != nil {
			return fmt.Errorf("ENI %s: %w", n.ENI, err)
		}
		for _, m := range h.Secondary[:i] {
			if m.DeviceIndex == n.DeviceIndex {
				return fmt.Errorf("ENI %s: device index %d is used twice", n.ENI, n.DeviceIndex)
			}
		}
		dupMAC := n.MAC == h.Primary.MAC && n.MAC != ""
		for _, m := range h.Secondary[:i] {
			dupMAC = dupMAC || m.MAC == n.MAC
		}
		if dupMAC {
			return fmt.Errorf("ENI %s: MAC %s is used twice", n.ENI, n.MAC)
		}
		for k := -1; k < len(n.Secondary); k++ { // its primary address, then the secondary ones
			a := n.Address
			if k >= 0 {
				a = n.Secondary[k]
			}
			if w, dup := seen.owner(a); dup {
				owner := "the primary ENI"
				if w >= 0 {
					owner = "ENI " + h.Secondary[w].ENI
				}
				return fmt.Errorf("ENI %s: address %s is also on %s", n.ENI, a, owner)
			}
			seen.add(a, i)
		}
	}
	return nil
}

// seenAddrs records addresses and the index of the secondary ENI that has
// each (-1: the primary ENI); past a few dozen, in a map.
type seenAddrs struct {
	addrs []ownedAddr
	m     map[netip.Addr]int
}

type ownedAddr struct {
	a     netip.Addr
	owner int
}

func (s *seenAddrs) add(a netip.Addr, owner int) {
	if s.m != nil {
		s.m[a] = owner
		return
	}
	s.addrs = append(s.addrs, ownedAddr{a, owner})
	if len(s.addrs) > 64 {
		s.m = make(map[netip.Addr]int, 2*len(s.addrs))
		for _, x := range s.addrs {
			s.m[x.a] = x.owner
		}
	}
}

func (s *seenAddrs) owner(a netip.Addr) (int, bool) {
	if s.m != nil {
		w, ok := s.m[a]
		return w, ok
	}
	for _, x := range s.addrs {
		if x.a == a {
			return x.owner, true
		}
	}
	return 0, false
}

func checkNIC(n NIC, primary bool) error {
	if n.ENIID != "" && !schema.ValidENIID(n.ENIID) {
		return fmt.Errorf("ENI ID %q is not like eni-bp1...", n.ENIID)
	}
	if n.MAC != "" && !schema.ValidMAC(n.MAC) {
		return fmt.Errorf("MAC %q is not like 00:16:3e:0a:0b:0c", n.MAC)
	}
	if !primary && n.MAC == "" {
		return fmt.Errorf("no MAC: a secondary ENI is found by its MAC")
	}
	if !primary && (n.DeviceIndex < 1 || n.DeviceIndex > 99) {
		return fmt.Errorf("device index %d is not between 1 and 99", n.DeviceIndex)
	}
	if !primary && (n.Table != RouteTableBase+n.DeviceIndex || n.Priority != RouteTableBase+n.DeviceIndex) {
		return fmt.Errorf("route table %d and rule priority %d are not %d (1000 + device index)", n.Table, n.Priority, RouteTableBase+n.DeviceIndex)
	}
	if !n.Prefix.IsValid() || !n.Prefix.Addr().Is4() || n.Prefix.Bits() < 8 || n.Prefix.Bits() > 30 || n.Prefix != n.Prefix.Masked() {
		return fmt.Errorf("vSwitch block %v is not a masked IPv4 prefix between /8 and /30", n.Prefix)
	}
	if !n.Gateway.Is4() || !n.Prefix.Contains(n.Gateway) {
		return fmt.Errorf("gateway %v is not in the vSwitch block %v", n.Gateway, n.Prefix)
	}
	hostAddr := func(a netip.Addr) error {
		if !a.Is4() || !n.Prefix.Contains(a) || a == n.Prefix.Addr() || a == n.Gateway {
			return fmt.Errorf("address %v is not a host address of the vSwitch block %v", a, n.Prefix)
		}
		return nil
	}
	if err := hostAddr(n.Address); err != nil {
		return err
	}
	for _, a := range n.Secondary {
		if err := hostAddr(a); err != nil {
			return err
		}
	}
	if !slices.IsSortedFunc(n.Secondary, netip.Addr.Compare) {
		return fmt.Errorf("secondary addresses are not sorted")
	}
	if err := checkNIC6(n); err != nil {
		return err
	}
	nameLen := len(n.Name())
	for _, a := range n.Secondary {
		if nameLen+1+decimalLen(aliasNum(n, a)) > aliasMax {
			return fmt.Errorf("alias label for %s would be longer than %d characters", a, aliasMax)
		}
	}
	return nil
}

// checkNIC6 validates a NIC's IPv6 addresses, its IPv6 block and its
// IPv4 prefixes.
func checkNIC6(n NIC) error {
	if len(n.IPv6) > 0 {
		p := n.IPv6Prefix
		if !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() || p.Bits() < 48 || p.Bits() > 120 || p != p.Masked() {
			return fmt.Errorf("vSwitch IPv6 block %v is not a masked IPv6 prefix between /48 and /120", p)
		}
		gw := n.IPv6Gateway()
		for i, a := range n.IPv6 {
			if !a.Is6() || a.Is4In6() || a.Zone() != "" || !p.Contains(a) || a == p.Addr() || a.Compare(gw) >= 0 {
				return fmt.Errorf("IPv6 address %v is not a host address of the vSwitch IPv6 block %v", a, p)
			}
			if i > 0 && n.IPv6[i-1].Compare(a) >= 0 {
				return fmt.Errorf("IPv6 addresses are not sorted, or %v is listed twice", a)
			}
		}
	}
	for i, x := range n.Prefixes {
		// The cloud assigns /28 prefixes (AssignPrivateIpAddresses
		// Ipv4Prefix.N).
		if !x.IsValid() || !x.Addr().Is4() || x != x.Masked() || x.Bits() != 28 || !n.Prefix.Contains(x.Addr()) {
			return fmt.Errorf("IPv4 prefix %v is not a masked /28 inside the vSwitch block %v", x, n.Prefix)
		}
		if x.Contains(n.Address) || x.Contains(n.Gateway) {
			return fmt.Errorf("IPv4 prefix %v holds the ENI's primary address or the gateway", x)
		}
		for _, a := range n.Secondary {
			if x.Contains(a) {
				return fmt.Errorf("IPv4 prefix %v holds the secondary address %v", x, a)
			}
		}
		if i > 0 && n.Prefixes[i-1].Overlaps(x) {
			return fmt.Errorf("IPv4 prefixes %v and %v overlap", n.Prefixes[i-1], x)
		}
		if i > 0 && n.Prefixes[i-1].Addr().Compare(x.Addr()) > 0 {
			return fmt.Errorf("IPv4 prefixes are not sorted")
		}
	}
	return nil
}

// decimalLen is the number of decimal digits of v.
func decimalLen(v uint32) int {
	n := 1
	for ; v >= 10; v /= 10 {
		n++
	}
	return n
}

// aliasNum is the number in an address's alias label (eth0:N) and in its
// ifcfg and wicked key suffixes: the address's offset in its vSwitch block
// (172.16.0.21 in 172.16.0.0/24 is eth0:21). Unlike a running count, it
// does not change when another address is added or removed, so an update
// touches only the aliases that change.
func aliasNum(n NIC, a netip.Addr) uint32 {
	return u32(a) - u32(n.Prefix.Addr())
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// cidr writes a host address with the prefix length of its vSwitch.
func cidr(a netip.Addr, bits int) string { return netip.PrefixFrom(a, bits).String() }

// netmask writes a prefix length as a dotted mask.
func netmask(bits int) string {
	m := ^uint32(0) << (32 - bits)
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

// shq quotes s as one bash word. Values that reach scripts are validated
// first; shq is the second fence.
func shq(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// commentText reduces free text (an ENI description) to characters that
// are inert in a comment of every format we write: letters, digits, space
// and a little punctuation. Line breaks, quotes, backslashes, '$', '`',
// control and format characters (including bidirectional overrides) are
// dropped, so the text can neither end the comment nor hide anything.
func commentText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	var b strings.Builder
	b.Grow(min(len(s), 124))
	space := false
	for _, r := range s {
		ok := unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(".,:;_()/+@-", r)
		if r == ' ' || r == '\t' {
			space = b.Len() > 0
			continue
		}
		if !ok {
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		if b.Len() >= 120 {
			break
		}
	}
	return b.String()
}

// nicTitle describes a NIC for comments and messages.
func nicTitle(n NIC) string {
	if n.ENI == "" {
		id := ""
		if n.ENIID != "" {
			id = " " + n.ENIID
		}
		return "primary ENI" + id + " (" + n.Name() + ")"
	}
	return "ENI " + n.ENI + " (" + n.ENIID + ", " + n.Name() + ", device index " + strconv.Itoa(n.DeviceIndex) + ", MAC " + n.MAC + ")"
}

// describe returns the comment line carrying a NIC's description, or "".
func describe(prefix string, n NIC) string {
	d := commentText(n.Description)
	if d == "" {
		return ""
	}
	return prefix + "Description: " + d + "\n"
}

// generatedBy is the first comment of every file: where it comes from and
// that editing it by hand is pointless. No timestamp, no version: the same
// input gives the same bytes.
func generatedBy(prefix string, h *Host) string {
	id := ""
	if h.InstanceID != "" {
		id = " (" + h.InstanceID + ")"
	}
	return prefix + "Written by ecsnet for instance " + h.Name + id + " of fleet " + h.Fleet + ".\n" +
		prefix + "Change the desired state and render again: the next apply replaces this file.\n"
}

// nicKey identifies a NIC in the script's data and the state record: its
// MAC for a secondary ENI, "primary" for the primary ENI (whose MAC the
// lock may not have).
func nicKey(n NIC) string {
	if n.ENI == "" {
		return "primary"
	}
	return n.MAC
}

// applyScript describes one format's apply script.
type applyScript struct {
	stack string
	// files are the configuration files the script installs.
	files []File
	// owned are further paths the script creates itself (a symlink) and
	// removes when a later bundle no longer has them.
	owned []string
	// fixedName reports whether the format's files name a NIC by its
	// kernel name (eth<N>) rather than matching its MAC. N is ecsnet's
	// slot, not the kernel's order (plan/slot.go), so for a secondary ENI
	// of a renamingStack the script installs the files under the
	// name it finds by MAC; for any other such NIC it refuses when the
	// names differ.
	fixedName func(NIC) bool
	// data is the format's own data section (bash assignments built from
	// validated values); code is its functions (fixed text).
	data string
	code string
	// header and main replace the default ones (apply and verify), for
	// scripts that are not apply scripts (the generic stack's boot script).
	header, main string
	// lib replaces the shared library (scriptLib), for scripts that need
	// only its base (scriptLibBase); nicsOnly leaves everything but the
	// NICs out of the data section.
	lib      string
	nicsOnly bool
}

// ScriptName is the apply script at the top of every Linux bundle.
const ScriptName = "ecsnet-apply.sh"

func (s applyScript) render(h *Host) File {
	// The data section varies in size; everything around it is constant
	// or short. Writing it first lets the script take one allocation of
	// its exact size (the library alone is about 20 KB).
	data := newText(512 + 256*(1+len(h.Secondary)) + 64*addrCount(h) + 128*(len(s.files)+len(s.owned)))
	scriptData(data, h, s)
	gen := generatedBy("# ", h)
	main := s.main
	if main == "" {
		main = scriptMain
	}
	lib := s.lib
	if lib == "" {
		lib = scriptLib
	}
	size := len(scriptStart) + len(gen) + len(scriptRestart) + len(data.b) + len(s.data) + 1 + len(lib) + len(s.code) + len(main)
	if s.header != "" {
		size += len(s.header)
	} else {
		size += len(scriptHeaderParts[0]) + len(s.stack) + len(scriptHeaderParts[1]) + len(h.Fleet) + len(scriptHeaderParts[2])
	}
	b := newText(size)
	b.str(scriptStart, gen)
	if s.header != "" {
		b.str(s.header)
	} else {
		b.str(scriptHeaderParts[0], s.stack, scriptHeaderParts[1], h.Fleet, scriptHeaderParts[2])
	}
	b.str(scriptRestart)
	b.b = append(b.b, data.b...)
	b.str(s.data, "\n", lib, s.code, main)
	return File{Path: ScriptName, Mode: 0o755, Data: b.bytes()}
}

const (
	scriptStart = "#!/bin/bash\n" +
		"# shellcheck disable=SC2034 # not every format reads every field of a record\n"
	// Run by sh, the script starts again under bash before the first
	// line sh could not parse.
	scriptRestart = "[ -n \"${BASH_VERSION:-}\" ] || exec bash \"$0\" \"$@\"\n" +
		"set -euo pipefail\numask 022\n\n"
)

// addrCount is the number of addresses of h's NICs.
func addrCount(h *Host) int {
	n := 1 + len(h.Primary.Secondary)
	for _, x := range h.Secondary {
		n += 1 + len(x.Secondary)
	}
	return n
}

// scriptHeaderParts is scriptHeader cut at its two verbs, which render
// fills in without fmt.
var scriptHeaderParts = func() [3]string {
	a, rest, ok1 := strings.Cut(scriptHeader, "%[1]s")
	b, c, ok2 := strings.Cut(rest, "%[2]s")
	if !ok1 || !ok2 || strings.Contains(a+b+c, "%") {
		panic("scriptHeader must have %[1]s, then %[2]s, and no other %")
	}
	return [3]string{a, b, c}
}()

// scriptHeader is the apply script's header comment: %[1]s is the network
// stack and %[2]s the fleet (see scriptHeaderParts).
//
//go:embed scripts/header.tmpl.sh
var scriptHeader string

// scriptData writes the shared data section.
func scriptData(b *text, h *Host, s applyScript) {
	b.str("FLEET=")
	b.shq(h.Fleet)
	b.str("\nINSTANCE=")
	b.shq(h.Name)
	b.str("\nINSTANCE_ID=")
	b.shq(dash(h.InstanceID))
	b.str("\nSTACK=")
	b.shq(s.stack)
	b.str("\n\n")
	b.str("# NICS: key (MAC, or \"primary\"), MAC (- when unknown), the name the\n" +
		"# files use, its primary address, gateway, route table (0: main),\n" +
		"# whether the files name it (0: they match it by MAC; 1: by that exact\n" +
		"# name; 2: by name, changed to the one found by MAC), ENI name, ENI ID.\n")
	b.str("NICS=(\n")
	nic := func(n NIC) {
		fixed := "0"
		if s.fixedName != nil && s.fixedName(n) {
			fixed = "1"
			if n.ENI != "" && renamingStack(s.stack) {
				fixed = "2"
			}
		}
		eni := n.ENI
		if eni == "" {
			eni = "primary"
		}
		// One quoted word of space-separated fields: quoting each field's
		// text in turn gives the bytes of quoting their join.
		b.str("  '")
		b.shqText(nicKey(n), " ", dash(n.MAC), " ", n.Name(), " ")
		b.cidr(n.Address, n.Bits())
		b.byte(' ')
		b.addr(n.Gateway)
		b.byte(' ')
		b.int(n.Table)
		b.shqText(" ", fixed, " ", eni, " ", dash(n.ENIID))
		b.str("'\n")
		if d := describe("  # ", n); d != "" {
			b.str(d)
		}
	}
	nic(h.Primary)
	for _, n := range h.Secondary {
		nic(n)
	}
	b.str(")\n")
	if s.nicsOnly {
		return
	}
	b.str("# ADDRS: NIC key, address/prefix, alias number (the label is <dev>:<n>; - for none).\n" +
		"# The primary ENI's own primary address belongs to DHCP and is never listed.\n")
	b.str("ADDRS=(\n")
	addrs := func(n NIC) {
		key := nicKey(n)
		if n.ENI != "" {
			b.str("  '")
			b.shqText(key, " ")
			b.cidr(n.Address, n.Bits())
			b.str(" -'\n")
		}
		for _, a := range n.Secondary {
			b.str("  '")
			b.shqText(key, " ")
			b.cidr(a, n.Bits())
			b.byte(' ')
			b.uint32(aliasNum(n, a))
			b.str("'\n")
		}
		for _, a := range n.IPv6 {
			b.str("  '")
			b.shqText(key, " ")
			b.cidr(a, n.IPv6Bits())
			b.str(" -'\n")
		}
	}
	addrs(h.Primary)
	for _, n := range h.Secondary {
		addrs(n)
	}
	b.str(")\n")
	b.str("# ROUTES: table, NIC key, destination, gateway (- for a link route).\n")
	b.str("ROUTES=(\n")
	for _, n := range h.Secondary {
		key := nicKey(n)
		b.str("  '")
		b.int(n.Table)
		b.shqText(" ", key, " ")
		b.prefix(n.Prefix)
		b.str(" -'\n  '")
		b.int(n.Table)
		b.shqText(" ", key, " default ")
		b.addr(n.Gateway)
		b.str("'\n")
		if n.HasIPv6() {
			b.str("  '")
			b.int(n.Table)
			b.shqText(" ", key, " ")
			b.prefix(n.IPv6Prefix)
			b.str(" -'\n  '")
			b.int(n.Table)
			b.shqText(" ", key, " default ")
			b.addr(n.IPv6Gateway())
			b.str("'\n")
		}
	}
	b.str(")\n")
	b.str("# RULES: from address, table, priority: one per address of a secondary ENI.\n")
	b.str("RULES=(\n")
	for _, n := range h.Secondary {
		rule := func(a netip.Addr) {
			b.str("  '")
			b.addr(a)
			b.byte(' ')
			b.int(n.Table)
			b.byte(' ')
			b.int(n.Priority)
			b.str("'\n")
		}
		rule(n.Address)
		for _, a := range n.Secondary {
			rule(a)
		}
		for _, a := range n.IPv6 {
			rule(a)
		}
		for _, p := range n.HostPrefixes() {
			b.str("  '")
			b.prefix(p)
			b.byte(' ')
			b.int(n.Table)
			b.byte(' ')
			b.int(n.Priority)
			b.str("'\n")
		}
	}
	b.str(")\n")
	scriptData6(b, h)
	b.str("# FILES: path in the bundle and on the host, mode, sha256.\n")
	b.str("FILES=(\n")
	for _, f := range s.files {
		sum := sha256.Sum256(f.Data)
		b.str("  '")
		b.shqText(f.Path, " ")
		b.mode(uint32(f.Mode.Perm()))
		b.byte(' ')
		b.b = hex.AppendEncode(b.b, sum[:])
		b.str("'\n")
	}
	b.str(")\n")
	b.str("# OWNED: further paths this script creates and owns.\n")
	b.str("OWNED=(\n")
	for _, p := range s.owned {
		b.str("  ")
		b.shq(p)
		b.str("\n")
	}
	b.str(")\n")
}

// renamingStack reports whether a stack's files name a secondary ENI's
// interface, eth<slot>, only in ways the apply script can change to the
// name the host gives it: file names and plain words (DEVICE=eth1, dev
// eth1, iface eth1, set-name: eth1). The slot is ecsnet's own, so the
// kernel may well call the interface otherwise (an ENI ecsnet does not
// own, attached first, takes eth1).
func renamingStack(stack string) bool {
	switch stack {
	case "ifcfg", "wicked", "ifupdown", "netplan":
		return true
	}
	return false
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// checkPaths makes sure every file path is one the script's own checks
// accept (the state record is read back with the same pattern).
func checkPaths(files []File) error {
	for _, f := range files {
		if !validPath(f.Path) || strings.Contains(f.Path, "..") || strings.Contains(f.Path, "//") {
			return fmt.Errorf("file path %q is not a plain path under etc/", f.Path)
		}
	}
	return nil
}

// linuxBundle validates, renders the apply script and returns the bundle's
// files.
func linuxBundle(h *Host, s applyScript) ([]File, error) {
	if h.configOnly {
		return s.files, nil
	}
	s, err := withReconcile(h, s)
	if err != nil {
		return nil, err
	}
	if err := checkPaths(s.files); err != nil {
		return nil, err
	}
	return append(slices.Clone(s.files), s.render(h)), nil
}

// scriptLib is the shared bash library: its base (what every ecsnet
// script needs: messages, the NICs, the state record and the lock), then
// the rest. Like every script under scripts/, it is embedded and never
// changed at run time: the data section above is the only generated part
// of a script.
var scriptLib = scriptLibBase + "\n" + scriptLibRest

//go:embed scripts/lib-base.sh
var scriptLibBase string

//go:embed scripts/lib.sh
var scriptLibRest string

// scriptMain runs a command. It is fixed text, like the library.
//
//go:embed scripts/main.sh
var scriptMain string

// scriptData6 writes the parts of the data section only a host with IPv6
// addresses or IPv4 prefixes on the host has; an IPv4-only host's script
// has neither array (the library takes them as empty).
func scriptData6(b *text, h *Host) {
	nics := append([]NIC{h.Primary}, h.Secondary...)
	locals := false
	for _, n := range nics {
		locals = locals || len(n.HostPrefixes()) > 0
	}
	if locals {
		b.str("# LOCALS: NIC key, IPv4 prefix the host answers for (a local route in table local).\n")
		b.str("LOCALS=(\n")
		for _, n := range nics {
			for _, p := range n.HostPrefixes() {
				b.str("  '")
				b.shqText(nicKey(n), " ")
				b.prefix(p)
				b.str("'\n")
			}
		}
		b.str(")\n")
	}
	if h.Primary.HasIPv6() {
		// The primary ENI's IPv6 default route is the host's, in the main
		// table, as Alibaba's guides configure it (IPV6_DEFAULTGW).
		b.str("# MAIN6: NIC key, gateway of the main table's IPv6 default route.\n")
		b.str("MAIN6=(\n  '")
		b.shqText(nicKey(h.Primary), " ")
		b.addr(h.Primary.IPv6Gateway())
		b.str("'\n)\n")
	}
}
