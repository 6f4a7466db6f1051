package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ecsnet/ecsnet/schema"
)

// A review render shows a change before apply has made it. A pull request
// that adds an ENI or counted addresses changes hosts' files with values
// only the cloud picks (a new ENI's ID, MAC and device index, addresses
// for a count), which the lock records only after apply. For review, such
// a host is rendered with placeholders where those values go:
//
//	HWADDR=<MAC of eni/web-1-extra: picked at apply>
//	IPADDR=<address 2 of 3 on eni/web-1-extra: picked by the cloud>
//
// The renderers validate every value (script.go's checkHost and the
// per-stack checks), and a placeholder is no address or MAC. So the host
// is rendered twice, each time with a different set of sentinel values
// that pass validation, and each sentinel's byte strings (an address, its
// alias number, a MAC in each case the formats write it, a device index,
// its interface name and route table, a file's sha256) are replaced by
// the placeholder. The two results must be byte for byte the same: a
// sentinel that collided with a real value (the same string in a
// description, another ENI's alias number) would be replaced in one
// render and not in the other, and a sentinel form the replacement missed
// would leave two different strings. Either way the host is refused
// rather than shown wrong. The sentinels are also chosen to be impossible
// or unused: MACs with the locally administered bit set (the cloud's are
// 00:16:3e:...), ID-like strings no region issues, device indexes above
// any an instance type allows, and addresses from the top of the block,
// starting with one the cloud reserves, that neither the desired state
// nor the lock uses anywhere.
//
// Review files are for people: Pending has no way to write them, and a
// plain render refuses hosts that need them (MissingError).

// ReviewNote is the line that heads review output holding placeholders.
const ReviewNote = "Values in <...> are picked by the cloud at apply: ecsnet render writes them once the lock records them."

type pickKind uint8

const (
	pickID        pickKind = iota // a new ENI's ID
	pickMAC                       // a new ENI's MAC
	pickIndex                     // the device index of an ENI attached to this instance at apply
	pickAddress                   // a new ENI's primary address
	pickSecondary                 // address i of n of a count
	pickIPv6                      // IPv6 address i of n of an ipv6IpCount
	pickPrefix                    // IPv4 prefix i of n of an ipv4PrefixCount the host answers for
)

// pick is one value of a host that only the cloud can give and the lock
// does not record yet.
type pick struct {
	eni  string // the ENI's name; "" for the instance's primary ENI
	kind pickKind
	i, n int // address i of n, for pickSecondary (1-based)
}

// Pending is a host that needs values only the cloud picks: Render shows
// its files with placeholders for them, for review only.
type Pending struct {
	Name  string // the instance
	Needs string // what the cloud picks, for messages: "eni/x: ID, MAC, device index; ..."
	base  *Host  // real values; zero where a pick goes
	picks []pick
	used  map[netip.Addr]bool // every address of the desired state and the lock
}

// ReviewHosts resolves every instance as Hosts does. Those that need
// values the cloud picks and the lock lacks are returned as Pending
// rather than listed in a MissingError; only what a placeholder cannot
// stand for (a lock that contradicts itself) is still a MissingError,
// with the other hosts returned all the same.
func ReviewHosts(f *schema.Fleet, lock *schema.Lock) ([]*Host, []*Pending, error) {
	if es := lock.CheckVSwitches(f); len(es) > 0 {
		return nil, nil, es
	}
	var hosts []*Host
	var pending []*Pending
	var missing MissingError
	var used map[netip.Addr]bool
	for _, in := range f.Instances {
		var picks []pick
		h, miss := resolve(f, lock, in, &picks)
		switch {
		case len(miss) > 0:
			missing = append(missing, miss...)
		case len(picks) > 0:
			if used == nil {
				used = usedAddrs(f, lock)
			}
			pending = append(pending, &Pending{Name: in.Name, Needs: needs(in.Name, picks), base: h, picks: picks, used: used})
		default:
			hosts = append(hosts, h)
		}
	}
	if len(missing) > 0 {
		return hosts, pending, missing
	}
	return hosts, pending, nil
}

// needs says what the cloud picks for one host, ENI by ENI.
func needs(instance string, picks []pick) string {
	var parts []string
	for i := 0; i < len(picks); {
		j := i
		var what []string
		for ; j < len(picks) && picks[j].eni == picks[i].eni; j++ {
			switch p := picks[j]; p.kind {
			case pickID:
				what = append(what, "ID")
			case pickMAC:
				what = append(what, "MAC")
			case pickIndex:
				what = append(what, "device index")
			case pickAddress:
				what = append(what, "primary address")
			case pickSecondary, pickIPv6, pickPrefix:
				if j+1 < len(picks) && picks[j+1].eni == p.eni && picks[j+1].kind == p.kind {
					continue // the last one of the run says how many
				}
				one, many := "address", "addresses"
				switch p.kind {
				case pickIPv6:
					one, many = "IPv6 address", "IPv6 addresses"
				case pickPrefix:
					one, many = "IPv4 prefix", "IPv4 prefixes"
				}
				first := p.i - countRun(picks[:j+1]) + 1
				if first == p.i {
					what = append(what, fmt.Sprintf("%s %d of %d", one, p.i, p.n))
				} else {
					what = append(what, fmt.Sprintf("%s %d-%d of %d", many, first, p.i, p.n))
				}
			}
		}
		parts = append(parts, owner(instance, picks[i].eni)+": "+strings.Join(what, ", "))
		i = j
	}
	return strings.Join(parts, "; ")
}

// countRun returns how many picks of one kind and ENI end picks.
func countRun(picks []pick) int {
	n := 0
	last := picks[len(picks)-1]
	for i := len(picks) - 1; i >= 0 && picks[i].kind == last.kind && picks[i].eni == last.eni; i-- {
		n++
	}
	return n
}

// owner names an ENI as plans and locks do: eni/x, or instance/x for an
// instance's primary ENI.
func owner(instance, eni string) string {
	if eni == "" {
		return "instance/" + instance
	}
	return "eni/" + eni
}

// usedAddrs returns every address the desired state or the lock names,
// each address of their IPv4 prefixes included.
func usedAddrs(f *schema.Fleet, lock *schema.Lock) map[netip.Addr]bool {
	used := map[netip.Addr]bool{}
	prefix := func(p netip.Prefix) {
		for a := p.Masked().Addr(); p.Contains(a); a = a.Next() {
			used[a] = true
		}
	}
	for _, in := range f.Instances {
		used[in.Primary.IP] = true
		for _, a := range in.Primary.Pinned {
			used[a.Addr] = true
		}
		for _, p := range in.Primary.Prefixes.Pinned {
			prefix(p.Prefix)
		}
	}
	for _, e := range f.ENIs {
		for _, p := range e.Prefixes.Pinned {
			prefix(p.Prefix)
		}
	}
	for _, e := range f.ENIs {
		if e.PrimaryIP.IsValid() {
			used[e.PrimaryIP] = true
		}
		for _, a := range e.Pinned {
			used[a.Addr] = true
		}
		for _, a := range e.IPv6.Pinned {
			used[a.Addr] = true
		}
	}
	for _, in := range f.Instances {
		for _, a := range in.Primary.IPv6.Pinned {
			used[a.Addr] = true
		}
	}
	if lock != nil {
		for _, e := range lock.ENIs {
			if e.PrimaryIP.IsValid() {
				used[e.PrimaryIP] = true
			}
			for _, a := range e.Secondary {
				used[a.Addr] = true
			}
			for _, a := range e.IPv6 {
				used[a.Addr] = true
			}
			for _, p := range e.Prefixes {
				prefix(p.Prefix)
			}
		}
	}
	return used
}

// Render renders the host for review, with placeholders for what the
// cloud picks, and a manifest of these files. It fails rather than show a
// value it could not tell apart from a sentinel (see the top of this
// file).
func (p *Pending) Render() ([]File, error) {
	vals, err := p.allocate()
	if err != nil {
		return nil, fmt.Errorf("render %s for review: %w", p.Name, err)
	}
	return p.renderPair(vals)
}

// renderPair renders the host with each of the two sets of values, turns
// them into placeholders and checks that both give the same files.
func (p *Pending) renderPair(vals []picked) ([]File, error) {
	var files [2][]File
	var subs [2]*replacer
	for s := range 2 {
		h, r := p.fill(vals, s)
		fs, err := ForHost(h)
		if err != nil {
			return nil, fmt.Errorf("render %s for review: %w", p.Name, err)
		}
		files[s], subs[s] = withoutManifest(fs), r
	}
	if len(files[0]) != len(files[1]) {
		return nil, p.mismatch("the two renders have different files")
	}
	// A file with a picked value in it differs between the two renders:
	// its sha256, which the apply script lists, is known only at apply.
	for i := range files[0] {
		a, b := files[0][i], files[1][i]
		if !bytes.Equal(a.Data, b.Data) {
			sa, sb := sha256.Sum256(a.Data), sha256.Sum256(b.Data)
			subs[0].add(hex.EncodeToString(sa[:]), placeholderHash, boundAlnum)
			subs[1].add(hex.EncodeToString(sb[:]), placeholderHash, boundAlnum)
			// A checksum inside a file over part of another (the boot
			// reconcile's "cut PATH FIRST LAST SHA256" lines) differs too:
			// the n-th checksum of one render stands where the n-th of the
			// other does. A wrong pairing cannot slip through: the renders
			// are compared after the replacement.
			ha, hb := sha256Tokens(a.Data), sha256Tokens(b.Data)
			if len(ha) == len(hb) {
				for k := range ha {
					if ha[k] != hb[k] {
						subs[0].add(ha[k], placeholderHash, boundAlnum)
						subs[1].add(hb[k], placeholderHash, boundAlnum)
					}
				}
			}
		}
	}
	var out [2][]File
	placeheld := map[string]bool{} // the review files with a placeholder, by path
	for s := range 2 {
		for _, f := range files[s] {
			path, data := subs[s].replace(f.Path), subs[s].replace(string(f.Data))
			if s == 0 && (path != f.Path || data != string(f.Data)) {
				placeheld[path] = true
			}
			out[s] = append(out[s], File{Path: path, Mode: f.Mode, Data: []byte(data)})
		}
		slices.SortFunc(out[s], func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	}
	for i := range out[0] {
		a, b := out[0][i], out[1][i]
		if a.Path != b.Path || a.Mode != b.Mode || !bytes.Equal(a.Data, b.Data) {
			return nil, p.mismatch(a.Path + " differs")
		}
	}
	// The manifest lists the review files; for those with placeholders,
	// its sha256 and size are known only at apply too.
	m := &replacer{}
	for _, f := range out[0] {
		if !placeheld[f.Path] {
			continue
		}
		sum := sha256.Sum256(f.Data)
		m.add(`"sha256": "`+hex.EncodeToString(sum[:])+`",
      "size": `+strconv.Itoa(len(f.Data)), `"sha256": "`+placeholderHash+`",
      "size": "`+placeholderSize+`"`, boundAlnum)
	}
	return append(out[0], File{Path: ManifestName, Mode: 0o644, Data: []byte(m.replace(string(manifest(p.base, out[0]))))}), nil
}

func (p *Pending) mismatch(what string) error {
	return fmt.Errorf("render %s for review: a value the cloud picks cannot be shown as a placeholder (%s); run ecsnet apply, then render", p.Name, what)
}

// sha256Tokens returns, in order, the words of data that look like a
// hex-encoded sha256: 64 lower-case hex digits between characters that are
// neither letters nor digits.
func sha256Tokens(data []byte) []string {
	var out []string
	alnum := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	for i := 0; i < len(data); {
		if !alnum(data[i]) {
			i++
			continue
		}
		j := i
		for j < len(data) && alnum(data[j]) {
			j++
		}
		if w := data[i:j]; len(w) == 64 && bytes.IndexFunc(w, func(r rune) bool { return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') }) < 0 {
			out = append(out, string(w))
		}
		i = j
	}
	return out
}

func withoutManifest(files []File) []File {
	return slices.DeleteFunc(files, func(f File) bool { return f.Path == ManifestName })
}

// picked holds a pick's two sentinel values, one per render.
type picked struct {
	addr    [2]netip.Addr
	px      [2]netip.Prefix
	index   [2]int
	mac, id [2]string
}

// allocate chooses the sentinel values of every pick for both renders.
func (p *Pending) allocate() ([]picked, error) {
	h := p.base
	// What the host's files hold already: its addresses, their alias
	// numbers and its device indexes. A sentinel equal to one of them
	// would be a collision.
	taken := map[netip.Addr]bool{}
	offsets := map[uint32]bool{}
	indexes := map[int]bool{}
	for _, n := range append([]NIC{h.Primary}, h.Secondary...) {
		for _, a := range n.AllAddresses() {
			if a.IsValid() {
				taken[a] = true
				offsets[aliasNum(n, a)] = true
			}
		}
		for _, a := range n.IPv6 {
			taken[a] = true
		}
		for _, x := range n.Prefixes {
			for a := x.Addr(); x.Contains(a); a = a.Next() {
				taken[a] = true
			}
		}
		if n.ENI != "" && n.DeviceIndex > 0 {
			indexes[n.DeviceIndex] = true
		}
	}
	vals := make([]picked, len(p.picks))
	next := maxDeviceIndex
	for i, pk := range p.picks {
		switch pk.kind {
		case pickID:
			vals[i].id = [2]string{fmt.Sprintf("eni-zzzzecsnetpick0%03d", i), fmt.Sprintf("eni-zzzzecsnetpick1%03d", i)}
		case pickMAC:
			// Locally administered: the cloud's MACs are 00:16:3e:...
			vals[i].mac = [2]string{fmt.Sprintf("02:ec:5e:00:%02x:%02x", i>>8, i&0xff), fmt.Sprintf("02:ec:5e:01:%02x:%02x", i>>8, i&0xff)}
		case pickIndex:
			// Pairs from the top of the range, far above the handful of
			// ENIs an instance type allows; their tables (1000 + index)
			// must not read as an alias number either.
			for next > 1 && (indexes[next] || indexes[next-1] || offsets[uint32(RouteTableBase+next)] || offsets[uint32(RouteTableBase+next-1)]) {
				next--
			}
			if next <= 1 || indexes[next] {
				return nil, fmt.Errorf("no device index left to stand for %s's", owner(p.Name, pk.eni))
			}
			for ix := range indexes {
				if ix >= next-1 {
					return nil, fmt.Errorf("device index %d is too high to tell from a placeholder", ix)
				}
			}
			vals[i].index = [2]int{next, next - 1}
			next -= 2
		case pickAddress, pickSecondary:
			n := p.nic(pk.eni)
			hi, lo, ok := p.addrPair(n, taken, offsets)
			if !ok {
				return nil, fmt.Errorf("%s: no unused address left in %s to stand for the ones the cloud picks", owner(p.Name, pk.eni), n.Prefix)
			}
			taken[hi], taken[lo] = true, true
			offsets[aliasNum(*n, hi)], offsets[aliasNum(*n, lo)] = true, true
			vals[i].addr = [2]netip.Addr{hi, lo}
		case pickIPv6:
			n := p.nic(pk.eni)
			hi, lo, ok := p.addrPair6(n, taken)
			if !ok {
				return nil, fmt.Errorf("%s: no unused address left in %s to stand for the IPv6 addresses the cloud picks", owner(p.Name, pk.eni), n.IPv6Prefix)
			}
			taken[hi], taken[lo] = true, true
			vals[i].addr = [2]netip.Addr{hi, lo}
		case pickPrefix:
			n := p.nic(pk.eni)
			hi, lo, ok := p.prefixPair(n, taken)
			if !ok {
				return nil, fmt.Errorf("%s: no unused /28 left in %s to stand for the IPv4 prefixes the cloud picks", owner(p.Name, pk.eni), n.Prefix)
			}
			for _, x := range []netip.Prefix{hi, lo} {
				for a := x.Addr(); x.Contains(a); a = a.Next() {
					taken[a] = true
				}
			}
			vals[i].px = [2]netip.Prefix{hi, lo}
		}
	}
	// A count's picks get ascending pairs: address 1 of n sorts first.
	for i := 0; i < len(p.picks); {
		j := i
		for j < len(p.picks) && (p.picks[j].kind == pickSecondary || p.picks[j].kind == pickIPv6 || p.picks[j].kind == pickPrefix) && p.picks[j].kind == p.picks[i].kind && p.picks[j].eni == p.picks[i].eni {
			j++
		}
		if j > i+1 {
			slices.Reverse(vals[i:j])
		}
		i = max(j, i+1)
	}
	return vals, nil
}

// maxDeviceIndex is the highest device index the renderers accept.
const maxDeviceIndex = 99

// addrPair returns two unused addresses of n's block for one pick, one
// per render: from the top down, the first the cloud's reserved
// broadcast-minus-one, skipping the gateway, anything the desired state
// or the lock uses, and alias numbers the host has. No address of n lies
// between the two, so both renders sort n's addresses the same way.
func (p *Pending) addrPair(n *NIC, taken map[netip.Addr]bool, offsets map[uint32]bool) (hi, lo netip.Addr, ok bool) {
	free := func(a netip.Addr) bool {
		return n.Prefix.Contains(a) && a != n.Prefix.Addr() && a != n.Gateway && !taken[a] && !p.used[a] && !offsets[aliasNum(*n, a)]
	}
	top := lastOf(n.Prefix)
	limit := 1 << 16 // a /8's worth of looking is more than any fleet needs
	var prev netip.Addr
	for a := top.Prev(); a.IsValid() && n.Prefix.Contains(a) && limit > 0; a, limit = a.Prev(), limit-1 {
		if !free(a) {
			if taken[a] || p.used[a] {
				prev = netip.Addr{} // a real address between would sort differently
			}
			continue
		}
		if prev.IsValid() {
			return prev, a, true
		}
		prev = a
	}
	return netip.Addr{}, netip.Addr{}, false
}

// addrPair6 is addrPair for an IPv6 count: two adjacent addresses of the
// NIC's IPv6 block, from just below its reserved tail down, that neither
// the host, the desired state nor the lock has.
func (p *Pending) addrPair6(n *NIC, taken map[netip.Addr]bool) (hi, lo netip.Addr, ok bool) {
	free := func(a netip.Addr) bool { return n.IPv6Prefix.Contains(a) && !taken[a] && !p.used[a] }
	for a, limit := n.IPv6Gateway().Prev(), 1<<10; a.IsValid() && limit > 0; a, limit = a.Prev(), limit-1 {
		if free(a) && free(a.Prev()) {
			return a, a.Prev(), true
		}
	}
	return netip.Addr{}, netip.Addr{}, false
}

// prefixPair is addrPair for a count of IPv4 prefixes the host answers
// for: two /28s of the NIC's block, from the top down, that hold neither
// its primary address nor the gateway, nor any address the host, the
// desired state or the lock has (their prefixes' included). No prefix of
// the NIC lies between the two, so both renders sort its prefixes the
// same way.
func (p *Pending) prefixPair(n *NIC, taken map[netip.Addr]bool) (hi, lo netip.Prefix, ok bool) {
	free := func(x netip.Prefix) bool {
		if !n.Prefix.Contains(x.Addr()) || x.Addr() == n.Prefix.Addr() || x.Contains(n.Address) || x.Contains(n.Gateway) {
			return false
		}
		for a := x.Addr(); x.Contains(a); a = a.Next() {
			if taken[a] || p.used[a] {
				return false
			}
		}
		return true
	}
	var prev netip.Prefix
	x := netip.PrefixFrom(lastOf(n.Prefix), 28).Masked()
	for limit := 1 << 12; n.Prefix.Contains(x.Addr()) && limit > 0; limit-- { // a /16's worth of /28s
		switch {
		case slices.Contains(n.Prefixes, x):
			prev = netip.Prefix{} // a real prefix between would sort differently
		case free(x):
			if prev.IsValid() {
				return prev, x, true
			}
			prev = x
		}
		a := x.Addr()
		for range 16 {
			a = a.Prev()
		}
		if !a.IsValid() {
			break
		}
		x = netip.PrefixFrom(a, 28)
	}
	return netip.Prefix{}, netip.Prefix{}, false
}

// lastOf returns the last address of p (for IPv4, the broadcast address).
func lastOf(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := range b {
		// The bits of byte i past the prefix length are set.
		if host := p.Bits() - 8*i; host < 8 {
			b[i] |= byte(0xff >> max(host, 0))
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// nic returns the base host's NIC of an ENI ("" for the primary).
func (p *Pending) nic(eni string) *NIC {
	return nicOf(p.base, eni)
}

func nicOf(h *Host, eni string) *NIC {
	if eni == "" {
		return &h.Primary
	}
	for i := range h.Secondary {
		if h.Secondary[i].ENI == eni {
			return &h.Secondary[i]
		}
	}
	return nil
}

const (
	placeholderHash = "<sha256: known at apply>"
	placeholderSize = "<size: known at apply>"
)

// fill returns the host with render s's sentinels, and the replacer that
// turns them into placeholders.
func (p *Pending) fill(vals []picked, s int) (*Host, *replacer) {
	h := *p.base
	h.Primary = cloneNIC(h.Primary)
	h.Secondary = slices.Clone(h.Secondary)
	for i := range h.Secondary {
		h.Secondary[i] = cloneNIC(h.Secondary[i])
	}
	r := &replacer{}
	// What each sentinel address stands for, by NIC; names come after
	// the device indexes are known.
	type addrPick struct {
		a           netip.Addr
		placeholder string
		secondary   bool
	}
	byNIC := map[string][]addrPick{}
	for i, pk := range p.picks {
		n := nicOf(&h, pk.eni)
		who := owner(p.Name, pk.eni)
		switch pk.kind {
		case pickID:
			n.ENIID = vals[i].id[s]
			r.add(n.ENIID, "<ID of "+who+": picked at apply>", boundAlnum)
		case pickMAC:
			n.MAC = vals[i].mac[s]
			ph := "<MAC of " + who + ": picked at apply>"
			r.add(n.MAC, ph, boundMAC)
			r.add(n.MACUpper(), ph, boundMAC)
			r.add(n.MACDashed(), ph, boundMAC)
			r.add(strings.ReplaceAll(n.MAC, ":", "-"), ph, boundMAC)
		case pickIndex:
			d := vals[i].index[s]
			n.DeviceIndex, n.Table, n.Priority = d, RouteTableBase+d, RouteTableBase+d
			r.add(n.Name(), "eth<device index of "+who+">", boundName)
			r.add("device index "+strconv.Itoa(d), "device index <device index of "+who+": picked at apply>", boundAddr)
			r.add(strconv.Itoa(RouteTableBase+d), "<1000 + device index of "+who+">", boundNumber)
		case pickAddress:
			a := vals[i].addr[s]
			n.Address = a
			byNIC[pk.eni] = append(byNIC[pk.eni], addrPick{a, "<primary address of " + who + ": picked by the cloud>", false})
		case pickSecondary:
			a := vals[i].addr[s]
			n.Secondary = append(n.Secondary, a)
			byNIC[pk.eni] = append(byNIC[pk.eni], addrPick{a, fmt.Sprintf("<address %d of %d on %s: picked by the cloud>", pk.i, pk.n, who), true})
		case pickIPv6:
			a := vals[i].addr[s]
			n.IPv6 = append(n.IPv6, a)
			slices.SortFunc(n.IPv6, netip.Addr.Compare)
			// An IPv6 address is a token of hex digits and colons.
			r.add(a.String(), fmt.Sprintf("<IPv6 address %d of %d on %s: picked by the cloud>", pk.i, pk.n, who), boundMAC)
		case pickPrefix:
			x := vals[i].px[s]
			n.Prefixes = append(n.Prefixes, x)
			sortPrefixes(n.Prefixes)
			what := fmt.Sprintf("IPv4 prefix %d of %d on %s", pk.i, pk.n, who)
			r.add(x.String(), "<"+what+": picked by the cloud>", boundAddr)
			// Windows lists each address of a prefix the host answers for.
			k := 1
			for a := x.Addr(); x.Contains(a); a, k = a.Next(), k+1 {
				r.add(a.String(), fmt.Sprintf("<address %d of %s: picked by the cloud>", k, what), boundAddr)
			}
		}
	}
	for i := range h.Secondary {
		slices.SortFunc(h.Secondary[i].Secondary, netip.Addr.Compare)
	}
	slices.SortFunc(h.Primary.Secondary, netip.Addr.Compare)
	slices.SortFunc(h.Secondary, func(a, b NIC) int { return a.DeviceIndex - b.DeviceIndex })
	for _, eni := range slices.Sorted(maps.Keys(byNIC)) { // the same order every time
		aps := byNIC[eni]
		n := nicOf(&h, eni)
		name := n.Name()
		if slices.ContainsFunc(p.picks, func(pk pick) bool { return pk.eni == eni && pk.kind == pickIndex }) {
			name = "eth<device index of " + owner(p.Name, eni) + ">"
		}
		bits := strconv.Itoa(n.Bits())
		for _, ap := range aps {
			r.add(ap.a.String(), ap.placeholder, boundAddr)
			if !ap.secondary {
				continue
			}
			// The forms the formats give an address's alias number (see
			// aliasNum): the label eth1:N (ifcfg, ifupdown), wicked's
			// IPADDR_N and LABEL_N='N', and the apply script's
			// "address/bits N".
			off := strconv.FormatUint(uint64(aliasNum(*n, ap.a)), 10)
			offP := "<alias number of " + strings.TrimSuffix(strings.TrimPrefix(ap.placeholder, "<"), ": picked by the cloud>") + ">"
			r.add(n.Name()+":"+off, name+":"+offP, boundName)
			r.add("IPADDR_"+off+"=", "IPADDR_"+offP+"=", boundAlnum)
			r.add("LABEL_"+off+"='"+off+"'", "LABEL_"+offP+"='"+offP+"'", boundAlnum)
			r.add(ap.a.String()+"/"+bits+" "+off+"'", ap.placeholder+"/"+bits+" "+offP+"'", boundAddr)
		}
	}
	return &h, r
}

func cloneNIC(n NIC) NIC {
	n.Secondary = slices.Clone(n.Secondary)
	n.IPv6 = slices.Clone(n.IPv6)
	n.Prefixes = slices.Clone(n.Prefixes)
	return n
}

// bound says which bytes may stand right before and after a match, so
// that a sentinel is replaced only as a whole token: 172.16.2.25 is not
// replaced inside 172.16.2.250, nor a MAC inside a longer hex string.
type bound uint8

const (
	boundAlnum  bound = iota // no letter or digit either side
	boundMAC                 // no hex digit, ':' or '-' either side
	boundName                // no letter or digit before, no digit after (eth97 in eth97:21)
	boundAddr                // no letter, digit or '.' before; no digit, or '.' and a digit, after
	boundNumber              // as boundAddr, and no ':' or '_' either side
)

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (b bound) ok(s string, start, end int) bool {
	var before, after byte
	if start > 0 {
		before = s[start-1]
	}
	if end < len(s) {
		after = s[end]
	}
	afterDot := after == '.' && end+1 < len(s) && isDigit(s[end+1])
	switch b {
	case boundMAC:
		return !isAlnum(before) && before != ':' && before != '-' && !isAlnum(after) && after != ':' && after != '-'
	case boundName:
		return !isAlnum(before) && !isDigit(after)
	case boundAddr:
		return !isAlnum(before) && before != '.' && !isDigit(after) && !afterDot
	case boundNumber:
		return !isAlnum(before) && before != '.' && before != ':' && before != '_' &&
			!isAlnum(after) && after != ':' && after != '_' && !afterDot
	}
	return !isAlnum(before) && !isAlnum(after)
}

// replacer replaces sentinel strings with placeholders in one pass: at
// each position the longest match wins, and a placeholder is never
// searched again.
type replacer struct{ subs []sub }

type sub struct {
	old, new string
	bound    bound
}

func (r *replacer) add(old, new string, b bound) {
	r.subs = append(r.subs, sub{old, new, b})
}

func (r *replacer) replace(s string) string {
	slices.SortStableFunc(r.subs, func(a, b sub) int { return len(b.old) - len(a.old) })
	var first [256]bool
	for _, x := range r.subs {
		first[x.old[0]] = true
	}
	var out strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if !first[s[i]] {
			continue
		}
		for _, x := range r.subs {
			if strings.HasPrefix(s[i:], x.old) && x.bound.ok(s, i, i+len(x.old)) {
				out.WriteString(s[last:i])
				out.WriteString(x.new)
				i += len(x.old) - 1
				last = i + 1
				break
			}
		}
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}
