package render

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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
//   - the shared library below (a constant: no Go value is ever
//     interpolated into code), and the format's own functions (constants
//     too): stack_preflight, stack_check_nics, stack_take_down,
//     stack_bring_up, stack_verify and stack_state;
//   - main, which runs "apply" (the default) or "verify".
//
// apply: refuse before changing anything when the bundle is damaged, the
// live network stack is not the one rendered for, or a NIC cannot be found
// by its MAC (the primary ENI by its primary address when the lock has no
// MAC); then back up what it replaces under /var/lib/ecsnet/<fleet>/backup,
// install the files, apply them live without a reboot and without
// bouncing the primary ENI or unrelated interfaces, remove what an earlier
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

// The validators below are regular expressions written out by hand
// (each one's comment): matching regexps was a tenth of the time of
// rendering a large fleet. TestValidators holds them to the expressions.

// validMAC: ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$
func validMAC(s string) bool {
	if len(s) != 17 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i%3 == 2 {
			if c != ':' {
				return false
			}
		} else if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func lowerOrDigit(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// validFleet: ^[a-z0-9][a-z0-9._-]{0,62}$
func validFleet(s string) bool {
	if len(s) < 1 || len(s) > 63 || !lowerOrDigit(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !lowerOrDigit(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// validName: ^[a-z][a-z0-9-]{0,61}[a-z0-9]$
func validName(s string) bool {
	if len(s) < 2 || len(s) > 63 || !('a' <= s[0] && s[0] <= 'z') || !lowerOrDigit(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !lowerOrDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

// validID reports whether s is prefix followed by 4 to 40 lower-case
// letters and digits: validID(s, "i-") is ^i-[a-z0-9]{4,40}$ and
// validID(s, "eni-") ^eni-[a-z0-9]{4,40}$.
func validID(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) < 4 || len(rest) > 40 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !lowerOrDigit(rest[i]) {
			return false
		}
	}
	return true
}

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
		if !lowerOrDigit(c) && !('A' <= c && c <= 'Z') && !strings.ContainsRune("._:/-", rune(c)) {
			return false
		}
	}
	return true
}

// checkHost validates every value of h that reaches a file or a script.
// The schema checks names and addresses already; a Host can also be built
// by hand or from a damaged lock (whose MACs and IDs are not checked when
// it is read), so the renderers check again rather than trust.
func checkHost(h *Host) error {
	if !validFleet(h.Fleet) {
		return fmt.Errorf("fleet name %q is not tag-safe (lower-case letters, digits, '.', '_', '-')", h.Fleet)
	}
	if !validName(h.Name) {
		return fmt.Errorf("instance name %q is not a DNS label", h.Name)
	}
	if h.InstanceID != "" && !validID(h.InstanceID, "i-") {
		return fmt.Errorf("instance ID %q is not like i-bp1...", h.InstanceID)
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
		if !validName(n.ENI) {
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
	if n.ENIID != "" && !validID(n.ENIID, "eni-") {
		return fmt.Errorf("ENI ID %q is not like eni-bp1...", n.ENIID)
	}
	if n.MAC != "" && !validMAC(n.MAC) {
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
	nameLen := len(n.Name())
	for _, a := range n.Secondary {
		if nameLen+1+decimalLen(aliasNum(n, a)) > aliasMax {
			return fmt.Errorf("alias label for %s would be longer than %d characters", a, aliasMax)
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
	// kernel name (eth<N>) rather than matching its MAC: the script then
	// refuses when the NIC found by MAC has another name.
	fixedName func(NIC) bool
	// data is the format's own data section (bash assignments built from
	// validated values); code is its functions (a constant).
	data string
	code string
	// header and main replace the default ones (apply and verify), for
	// scripts that are not apply scripts (the generic stack's boot script).
	header, main string
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
	size := len(scriptStart) + len(gen) + len(scriptRestart) + len(data.b) + len(s.data) + 1 + len(scriptLib) + len(s.code) + len(main)
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
	b.str(s.data, "\n", scriptLib, s.code, main)
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

const scriptHeader = `#
# Applies this bundle (network stack: %[1]s) to the running host and keeps
# it there across reboots.
#
#   ecsnet-apply.sh [apply]   install the files, apply them live, verify
#   ecsnet-apply.sh verify    compare the live state with the bundle (read-only)
#
# Exit codes: 0 done; 1 failed; 3 refused before changing anything (wrong
# host, wrong network stack, damaged bundle, missing NIC); 4 applied, but
# the live state does not match the bundle.
#
# ROOT (default /) is where files are installed and read, and where the
# state record lives (ROOT/var/lib/ecsnet/%[2]s/); commands such as ip(8)
# always act on the running system, so tests point ROOT at a scratch tree
# inside a network namespace.
`

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
		"# whether the files need that exact name, ENI name, ENI ID.\n")
	b.str("NICS=(\n")
	nic := func(n NIC) {
		fixed := "0"
		if s.fixedName != nil && s.fixedName(n) {
			fixed = "1"
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
	}
	b.str(")\n")
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
	if err := checkPaths(s.files); err != nil {
		return nil, err
	}
	return append(slices.Clone(s.files), s.render(h)), nil
}

// scriptLib is the shared bash library. It is a constant: the data section
// above is the only generated part of a script.
const scriptLib = `# ---- shared library (the same in every ecsnet Linux bundle) ----

ROOT="${ROOT:-/}"
ROOT_P="${ROOT%/}"
BUNDLE="$(cd "$(dirname "$0")" && pwd)"
STATE_DIR="$ROOT_P/var/lib/ecsnet/$FLEET"
STATE_FILE="$STATE_DIR/state"
BACKUP="$STATE_DIR/backup"

declare -A DEV=()          # NIC key -> kernel name, found at run time
declare -A WANT_ADDR=()    # "key cidr" of ADDRS
declare -A WANT_RULE=()    # "from table prio" of RULES
declare -A WANT_TABLE=()   # table numbers of ROUTES
declare -A WANT_PATH=()    # paths of FILES and OWNED
OLD_ADDRS=() OLD_RULES=() OLD_TABLES=() OLD_FILES=() OLD_EXTRA=()
CHANGED_FILES=()
PRIMARY_DEV=""

ecsnet_log()  { printf 'ecsnet: %s: %s\n' "$INSTANCE" "$*"; }
ecsnet_warn() { printf 'ecsnet: %s: warning: %s\n' "$INSTANCE" "$*" >&2; }
ecsnet_die()  { printf 'ecsnet: %s: %s\n' "$INSTANCE" "$*" >&2; exit 1; }
ECSNET_CMD=apply
ecsnet_refuse() {
	printf 'ecsnet: %s: refusing to %s (nothing was changed): %s\n' "$INSTANCE" "$ECSNET_CMD" "$*" >&2
	exit 3
}
ecsnet_has() { command -v "$1" >/dev/null 2>&1; }

# ecsnet_nic KEY: sets N_KEY N_MAC N_NAME N_CIDR N_GW N_TABLE N_FIXED N_ENI N_ENIID.
ecsnet_nic() {
	local rec
	for rec in "${NICS[@]}"; do
		read -r N_KEY N_MAC N_NAME N_CIDR N_GW N_TABLE N_FIXED N_ENI N_ENIID <<<"$rec"
		[ "$N_KEY" = "$1" ] && return 0
	done
	return 1
}

ecsnet_what() { # KEY -> words for messages
	ecsnet_nic "$1" || { printf 'NIC %s' "$1"; return; }
	if [ "$N_ENI" = primary ]; then printf 'the primary ENI'; else printf 'ENI %s (%s, MAC %s)' "$N_ENI" "$N_ENIID" "$N_MAC"; fi
}

# ecsnet_devs_by_mac MAC: prints the interfaces with that MAC, one a line.
ecsnet_devs_by_mac() {
	ip -o link show | awk -v mac="$1" '{
		for (i = 1; i < NF; i++) if ($i == "link/ether" && tolower($(i+1)) == mac) {
			name = $2; sub(/:$/, "", name); sub(/@.*/, "", name); print name
		}
	}'
}

# ecsnet_dev_by_addr ADDR: prints the interface that holds ADDR.
ecsnet_dev_by_addr() {
	ip -o -4 addr show | awk -v a="$1" '{ split($4, p, "/"); if (p[1] == a) { print $2; exit } }'
}

ecsnet_has_addr() { # DEV CIDR: exactly this address and prefix
	ip -o -4 addr show dev "$1" 2>/dev/null | awk -v c="$2" '$4 == c { f = 1 } END { exit !f }'
}

ecsnet_addr_on() { # DEV ADDR: prints ADDR/len when ADDR is on DEV with any prefix
	ip -o -4 addr show dev "$1" 2>/dev/null | awk -v a="$2" '{ split($4, p, "/"); if (p[1] == a) print $4 }'
}

ecsnet_has_rule() { # FROM TABLE PRIO
	ip -4 rule show | awk -v p="$3:" -v f="$1" -v t="$2" '
		$1 == p && $2 == "from" && ($3 == f || $3 == f "/32") {
			for (i = 4; i < NF; i++) if (($i == "lookup" || $i == "table") && $(i+1) == t) ok = 1
		}
		END { exit !ok }'
}

ecsnet_has_route() { # TABLE DEV DEST GW
	ip -4 route show table "$1" 2>/dev/null | awk -v dev="$2" -v dst="$3" -v gw="$4" '
		$1 == dst {
			d = ""; v = "-"
			for (i = 2; i < NF; i++) { if ($i == "dev") d = $(i+1); if ($i == "via") v = $(i+1) }
			if (d == dev && v == gw) ok = 1
		}
		END { exit !ok }'
}

ecsnet_link_up() { ip -o link show dev "$1" 2>/dev/null | grep -q '[<,]UP[,>]'; }

# ---- finding the NICs ----

ecsnet_resolve_nics() {
	local rec dev
	for rec in "${NICS[@]}"; do
		read -r N_KEY N_MAC N_NAME N_CIDR N_GW N_TABLE N_FIXED N_ENI N_ENIID <<<"$rec"
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
		if [ "$N_FIXED" = 1 ] && [ "$dev" != "$N_NAME" ]; then
			ecsnet_refuse "$(ecsnet_what "$N_KEY") is $dev on this host, but the $STACK files name it $N_NAME; rename the interface (net.ifnames=0) or render for a stack that matches by MAC"
		fi
		DEV[$N_KEY]="$dev"
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
	for rec in ${ADDRS[@]+"${ADDRS[@]}"}; do read -r key c n <<<"$rec"; WANT_ADDR["$key $c"]=1; done
	for rec in ${RULES[@]+"${RULES[@]}"}; do read -r from t p <<<"$rec"; WANT_RULE["$from $t $p"]=1; done
	for rec in ${ROUTES[@]+"${ROUTES[@]}"}; do read -r t key c n <<<"$rec"; WANT_TABLE[$t]=1; done
	for rec in ${FILES[@]+"${FILES[@]}"}; do read -r path mode sum <<<"$rec"; WANT_PATH[$path]=1; done
	for path in ${OWNED[@]+"${OWNED[@]}"}; do WANT_PATH[$path]=1; done
}

# The state record lists what ecsnet added, one item a line. It is read
# back strictly: a line that does not look like ecsnet wrote it is skipped
# with a warning, never used.
ecsnet_load_state() {
	[ -f "$STATE_FILE" ] || return 0
	local kind a b c n=0 ip='[0-9]{1,3}(\.[0-9]{1,3}){3}' key='(primary|[0-9a-f]{2}(:[0-9a-f]{2}){5})'
	while read -r kind a b c; do
		n=$((n + 1))
		case "$kind" in
		"" | "#"*) continue ;;
		addr) [[ "$a" =~ ^$key$ && "$b" =~ ^$ip/[0-9]{1,2}$ && -z "$c" ]] && { OLD_ADDRS+=("$a $b"); continue; } ;;
		rule) [[ "$a" =~ ^$ip$ && "$b" =~ ^[0-9]{1,10}$ && "$c" =~ ^[0-9]{1,10}$ ]] && { OLD_RULES+=("$a $b $c"); continue; } ;;
		table) [[ "$a" =~ ^[0-9]{1,10}$ && -z "$b" ]] && { OLD_TABLES+=("$a"); continue; } ;;
		file) [[ "$a" =~ ^(etc|usr/local)/[A-Za-z0-9._:/-]+$ && "$a" != *..* && -z "$b" ]] && { OLD_FILES+=("$a"); continue; } ;;
		ifup | nm) [[ "$a" =~ ^[A-Za-z0-9:._=-]+$ && "$b" =~ ^[A-Za-z0-9:._-]*$ && "$c" =~ ^[A-Za-z0-9:._/-]*$ ]] && { OLD_EXTRA+=("$kind $a $b $c"); continue; } ;;
		esac
		ecsnet_warn "$STATE_FILE line $n is not an ecsnet state line; skipped"
	done <"$STATE_FILE"
}

ecsnet_write_state() {
	local rec key c n from t p path mode sum
	{
		echo "# What ecsnet added on this host for fleet $FLEET, instance $INSTANCE."
		echo "# The next apply removes what its bundle no longer has. Do not edit."
		for rec in ${ADDRS[@]+"${ADDRS[@]}"}; do read -r key c n <<<"$rec"; echo "addr $key $c"; done
		for rec in ${RULES[@]+"${RULES[@]}"}; do read -r from t p <<<"$rec"; echo "rule $from $t $p"; done
		for t in ${WANT_TABLE[@]+"${!WANT_TABLE[@]}"}; do echo "table $t"; done | sort
		for rec in ${FILES[@]+"${FILES[@]}"}; do read -r path mode sum <<<"$rec"; echo "file $path"; done
		for path in ${OWNED[@]+"${OWNED[@]}"}; do echo "file $path"; done
		stack_state
	} >"$STATE_FILE.new"
	mv -f "$STATE_FILE.new" "$STATE_FILE"
}

# One apply at a time. A directory, not flock on an open descriptor: a
# daemon started by a hook (if-up.d) would inherit the descriptor and hold
# the lock for ever. A lock left by a run that died is taken over.
ecsnet_lock() {
	mkdir -p "$STATE_DIR"
	local lock="$STATE_DIR/lock" pid i=0
	while ! mkdir "$lock" 2>/dev/null; do
		pid="$(cat "$lock/pid" 2>/dev/null || true)"
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			rm -rf "$lock"
			continue
		fi
		i=$((i + 1))
		[ "$i" -le 240 ] || ecsnet_die "another ecsnet apply (pid ${pid:-unknown}) holds $lock"
		sleep 0.5
	done
	echo "$$" >"$lock/pid"
	trap 'rm -rf "$STATE_DIR/lock"' EXIT
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

ecsnet_owned_before() { # PATH: whether an earlier run installed it
	local p
	for p in ${OLD_FILES[@]+"${OLD_FILES[@]}"}; do [ "$p" = "$1" ] && return 0; done
	return 1
}

ecsnet_install_files() {
	local rec path mode sum dst
	for rec in ${FILES[@]+"${FILES[@]}"}; do
		read -r path mode sum <<<"$rec"
		dst="$ROOT_P/$path"
		if [ -f "$dst" ] && [ ! -L "$dst" ] && cmp -s "$BUNDLE/$path" "$dst" &&
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
		cp "$BUNDLE/$path" "$dst.ecsnet-new"
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

ecsnet_changed() { # GLOB: whether an installed or removed path matches
	local p
	for p in ${CHANGED_FILES[@]+"${CHANGED_FILES[@]}"}; do
		# shellcheck disable=SC2053
		[[ "$p" == $1 ]] && return 0
	done
	return 1
}

# ---- applying and removing live state with ip(8) ----

ecsnet_addr_ensure() { # DEV CIDR N
	local dev="$1" c="$2" n="$3" have
	ecsnet_has_addr "$dev" "$c" && return 0
	for have in $(ecsnet_addr_on "$dev" "${c%/*}"); do
		ip -4 addr del "$have" dev "$dev"
	done
	if [ "$n" = - ]; then
		ip -4 addr add "$c" dev "$dev"
	else
		ip -4 addr add "$c" dev "$dev" label "$dev:$n"
	fi
	ecsnet_log "added $c to $dev"
}

ecsnet_rule_ensure() { # FROM TABLE PRIO
	ecsnet_has_rule "$1" "$2" "$3" && return 0
	ip -4 rule add from "$1/32" table "$2" priority "$3"
	ecsnet_log "added rule from $1 lookup $2 priority $3"
}

ecsnet_rule_remove() { # FROM TABLE PRIO
	local _
	for _ in 1 2 3 4 5 6 7 8; do
		ecsnet_has_rule "$1" "$2" "$3" || return 0
		ip -4 rule del from "$1/32" table "$2" priority "$3"
	done
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
			ip -4 route replace "$dst" dev "$dev" scope link table "$t"
			ecsnet_log "added route $dst dev $dev to table $t"
		else
			ip -4 route replace "$dst" via "$gw" dev "$dev" table "$t"
			ecsnet_log "added route $dst via $gw dev $dev to table $t"
		fi
	done
	for t in ${WANT_TABLE[@]+"${!WANT_TABLE[@]}"}; do
		for dst in $(ip -4 route show table "$t" | awk '$1 == "default" || $1 ~ /^[0-9.\/]+$/ { print $1 }'); do
			ecsnet_want_route "$t" "$dst" && continue
			ip -4 route del "$dst" table "$t" || ecsnet_warn "could not remove route $dst from table $t"
			ecsnet_log "removed stray route $dst from table $t"
		done
	done
	for rec in ${RULES[@]+"${RULES[@]}"}; do
		read -r from t p <<<"$rec"
		ecsnet_rule_ensure "$from" "$t" "$p"
	done
}

ecsnet_want_route() { # TABLE DEST
	local rec t key dst gw
	for rec in ${ROUTES[@]+"${ROUTES[@]}"}; do
		read -r t key dst gw <<<"$rec"
		[ "$t" = "$1" ] && [ "$dst" = "$2" ] && return 0
	done
	return 1
}

# ecsnet_remove_dropped: remove what an earlier run added and this bundle
# no longer has. The primary ENI's own primary address is never touched.
ecsnet_remove_dropped() {
	local rec key c dev have from t p
	ecsnet_nic primary
	local primary_addr="${N_CIDR%/*}"
	for rec in ${OLD_ADDRS[@]+"${OLD_ADDRS[@]}"}; do
		[ -n "${WANT_ADDR[$rec]:-}" ] && continue
		read -r key c <<<"$rec"
		[ "${c%/*}" = "$primary_addr" ] && continue
		dev="$(ecsnet_dev "$key")" || continue # the NIC is gone, and its addresses with it
		for have in $(ecsnet_addr_on "$dev" "${c%/*}"); do
			if ip -4 addr del "$have" dev "$dev"; then
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
		if [ -n "$(ip -4 route show table "$t" 2>/dev/null)" ]; then
			ip -4 route flush table "$t"
			ecsnet_log "flushed route table $t (no longer in the bundle)"
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
	if [ -z "$only" ]; then
		for rec in ${OLD_ADDRS[@]+"${OLD_ADDRS[@]}"}; do
			[ -n "${WANT_ADDR[$rec]:-}" ] && continue
			read -r key c <<<"$rec"
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

# ecsnet_warn_cloud_init WHAT: cloud-init renders the primary ENI's
# configuration, and on Alibaba Cloud (AliYun datasource, cloud-init 23.4
# and later) at every boot: say that it may undo WHAT, unless its network
# configuration is disabled.
ecsnet_warn_cloud_init() {
	[ -e "$ROOT_P/etc/cloud/cloud.cfg" ] || return 0
	[ ! -e "$ROOT_P/etc/cloud/cloud-init.disabled" ] || return 0
	if grep -Eqs 'config:[[:space:]]*disabled' "$ROOT_P/etc/cloud/cloud.cfg" "$ROOT_P"/etc/cloud/cloud.cfg.d/*.cfg; then
		return 0
	fi
	ecsnet_warn "cloud-init manages the network configuration here and may rewrite $1 at boot; re-run this script after a reboot, or disable it with network: {config: disabled} in /etc/cloud/cloud.cfg.d/"
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

ecsnet_require_root() {
	[ "$(id -u)" = 0 ] || ecsnet_refuse "run as root"
	[ "${BASH_VERSINFO[0]}" -ge 4 ] || ecsnet_refuse "bash 4 or later is needed"
	ecsnet_has ip || ecsnet_refuse "ip(8) (iproute2) is not installed"
}

# ---- the format's functions follow ----
`

// scriptMain runs a command. It is a constant, like the library.
const scriptMain = `
# ---- main ----

ecsnet_apply() {
	ecsnet_require_root
	ecsnet_check_bundle
	stack_preflight
	ecsnet_resolve_nics
	stack_check_nics
	ecsnet_want_sets
	ecsnet_lock
	ecsnet_load_state
	ecsnet_backup_begin
	stack_take_down
	ecsnet_install_files
	stack_bring_up
	ecsnet_remove_dropped
	ecsnet_drop_main_defaults
	ecsnet_write_state
	CHECK_VERBOSE=1
	if ! ecsnet_check ""; then
		ecsnet_warn "the live state does not match the bundle (see above); the replaced files are in $BACKUP"
		exit 4
	fi
	ecsnet_log "live state matches the bundle ($STACK)"
}

ecsnet_verify() {
	ecsnet_has ip || ecsnet_refuse "ip(8) (iproute2) is not installed"
	ecsnet_resolve_nics
	ecsnet_want_sets
	ecsnet_load_state
	CHECK_VERBOSE=1
	if ecsnet_check ""; then
		ecsnet_log "live state matches the bundle ($STACK)"
	else
		exit 4
	fi
}

ECSNET_CMD="${1:-apply}"
case "$ECSNET_CMD" in
apply) ecsnet_apply ;;
verify) ecsnet_verify ;;
*)
	echo "usage: $0 [apply|verify]" >&2
	exit 1
	;;
esac
`
