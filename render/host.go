package render

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ecsnet/ecsnet/internal/plural"
	"github.com/ecsnet/ecsnet/schema"
)

// RouteTableBase is added to a secondary ENI's device index to give its
// route table and its rules' priority (eth1: 1001).
const RouteTableBase = 1000

// Host is everything a renderer needs about one instance, resolved once:
// renderers only format it.
type Host struct {
	Name       string // the instance's name in the desired state
	InstanceID string
	Fleet      string
	OS         schema.OS
	Stack      schema.Stack
	Primary    NIC   // device index 0
	Secondary  []NIC // attached secondary ENIs, by device index

	// configOnly renders the configuration files only: no apply script,
	// boot scripts or units. Set on the copies rendered without one ENI to
	// learn what that ENI adds (reconcile.go).
	configOnly bool
}

// NIC is one ENI as the host sees it.
type NIC struct {
	ENI         string // the desired state's ENI name; "" for the primary ENI
	ENIID       string
	Description string // free text from the desired state: quote it in every format
	// MAC is lower-case and colon-separated. It may be empty for the
	// primary ENI when no lock is at hand: scripts then find the primary
	// interface by its primary address.
	MAC         string
	DeviceIndex int
	Address     netip.Addr   // the ENI's primary address
	Prefix      netip.Prefix // the vSwitch block (masked)
	Gateway     netip.Addr   // the vSwitch gateway: broadcast minus two
	Secondary   []netip.Addr // secondary addresses, sorted
	// IPv6 holds the ENI's IPv6 addresses, sorted; IPv6Prefix is the
	// vSwitch's IPv6 block (zero when the ENI has no IPv6 addresses).
	IPv6       []netip.Addr
	IPv6Prefix netip.Prefix
	// Prefixes are the ENI's /28 IPv4 prefixes, sorted. Renderers
	// configure them only when PrefixesOnHost is set (ipv4PrefixesOnHost).
	Prefixes       []netip.Prefix
	PrefixesOnHost bool
	// Table and Priority are the route table and rule priority of a
	// secondary ENI's policy routing; 0 for the primary ENI.
	Table    int
	Priority int
}

// Name returns the conventional kernel name of the NIC, eth<device index>.
// Scripts find the real name by MAC at run time; formats that need a name
// (ifcfg files, netplan IDs) use this one.
func (n NIC) Name() string { return "eth" + strconv.Itoa(n.DeviceIndex) }

// Bits returns the prefix length of the NIC's vSwitch block.
func (n NIC) Bits() int { return n.Prefix.Bits() }

// IPv6Gateway returns the vSwitch's IPv6 gateway: the first of the nine
// addresses at the end of its IPv6 block that the vSwitch reserves (the
// block's last address minus eight), or the zero Addr when the NIC has no
// IPv6 block. Alibaba Cloud's instance metadata shows ipv6-gateway
// 2408:XXXX:325:a204:ffff:ffff:ffff:fff7 for vswitch-ipv6-cidr-block
// 2408:XXXX:325:a204::/64
// (https://help.aliyun.com/zh/ecs/user-guide/view-instance-metadata), and
// the reserved tail is documented at
// https://help.aliyun.com/zh/vpc/vpc-and-vswitch (系统保留地址): the same rule
// as IPv4's gateway, the first of the three tail reservations. Its static
// guides configure that gateway as the default route; they document no
// router advertisements, so no stack relies on them
// (/tmp/brief4/ipv6-gateway.md has the decision per stack).
func (n NIC) IPv6Gateway() netip.Addr {
	if !n.IPv6Prefix.IsValid() || !n.IPv6Prefix.Addr().Is6() {
		return netip.Addr{}
	}
	a := lastOf(n.IPv6Prefix.Masked())
	for range 8 {
		a = a.Prev()
	}
	return a
}

// IPv6Bits returns the prefix length of the NIC's IPv6 block (64).
func (n NIC) IPv6Bits() int { return n.IPv6Prefix.Bits() }

// HasIPv6 reports whether the host configures IPv6 addresses on the NIC.
func (n NIC) HasIPv6() bool { return len(n.IPv6) > 0 && n.IPv6Prefix.IsValid() }

// HostPrefixes returns the IPv4 prefixes the host configures: all of
// them when the desired state asks (ipv4PrefixesOnHost), else none.
func (n NIC) HostPrefixes() []netip.Prefix {
	if !n.PrefixesOnHost {
		return nil
	}
	return n.Prefixes
}

// MACUpper returns the MAC in upper case, as NetworkManager writes it.
func (n NIC) MACUpper() string { return strings.ToUpper(n.MAC) }

// MACDashed returns the MAC as Windows' Get-NetAdapter shows it:
// 00-16-3E-0A-0B-0C.
func (n NIC) MACDashed() string { return strings.ReplaceAll(strings.ToUpper(n.MAC), ":", "-") }

// AllAddresses returns the ENI's primary address and its secondaries.
func (n NIC) AllAddresses() []netip.Addr {
	return append([]netip.Addr{n.Address}, n.Secondary...)
}

// Missing names an ENI whose data only the cloud knows (an address it
// picks, a MAC, a device index) and the lock does not have yet.
type Missing struct {
	Instance string
	ENI      string // "" for the primary ENI
	What     string
}

// MissingError lists what the lock lacks. Hosts that need none of it are
// still rendered.
type MissingError []Missing

func (m MissingError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s data only the cloud has; run ecsnet apply (which writes the lock) or pass --observed SNAPSHOT, then render (until then, render --check and plan --rendered show these hosts with placeholders):", plural.Count(len(m), "ENI needs", "ENIs need"))
	for _, x := range m {
		who := "the primary ENI"
		if x.ENI != "" {
			who = "ENI " + x.ENI
		}
		fmt.Fprintf(&b, "\n  %s of %s: %s", who, x.Instance, x.What)
	}
	return b.String()
}

// Hosts resolves every instance of the fleet, in name order. With a lock
// that lacks something (an address the cloud picks, a secondary ENI's MAC),
// the hosts concerned are left out and listed in the MissingError; the
// others are returned all the same.
//
// A fleet whose vSwitch blocks disagree with those the lock recorded from
// the cloud is refused (schema.Errors at the file's cidr): every host's
// prefix and gateway come from those blocks.
func Hosts(f *schema.Fleet, lock *schema.Lock) ([]*Host, error) {
	if es := lock.CheckVSwitches(f); len(es) > 0 {
		return nil, es
	}
	var hosts []*Host
	var missing MissingError
	for _, in := range f.Instances {
		h, miss := resolve(f, lock, in, nil)
		if len(miss) > 0 {
			missing = append(missing, miss...)
			continue
		}
		hosts = append(hosts, h)
	}
	if len(missing) > 0 {
		return hosts, missing
	}
	return hosts, nil
}

// resolve resolves one instance. What the lock lacks is listed as
// Missing, or, when picks is not nil (a review render), recorded there
// with the value left zero for Pending to fill in.
func resolve(f *schema.Fleet, lock *schema.Lock, in *schema.Instance, picks *[]pick) (*Host, []Missing) {
	h := &Host{Name: in.Name, InstanceID: in.ID, Fleet: f.Name, OS: in.OS, Stack: in.Network}
	var miss []Missing
	vsw := f.VSwitch(in.Primary.VSwitch)
	h.Primary = NIC{Address: in.Primary.IP, Prefix: vsw.CIDR.Masked(), Gateway: vsw.Gateway()}
	locked := lock.Primary(in.Name)
	if locked != nil {
		h.Primary.ENIID, h.Primary.MAC = locked.ID, strings.ToLower(locked.MAC)
	}
	sec, ok := secondaries(in.Primary.Secondaries, locked)
	switch {
	case ok:
	case picks != nil:
		sec = pickCount(picks, "", in.Primary.Count, locked)
	default:
		miss = append(miss, Missing{Instance: in.Name, What: countWhat(in.Primary.Count, locked)})
	}
	h.Primary.Secondary = sec
	if what := resolveV6AndPrefixes(&h.Primary, vsw, in.Primary.IPv6, in.Primary.Prefixes, locked, picks, ""); len(what) > 0 {
		miss = append(miss, Missing{Instance: in.Name, What: strings.Join(what, "; ")})
	}

	for _, e := range f.AttachedTo(in.Name) {
		l := lock.Secondary(e.Name)
		v := f.VSwitch(e.VSwitch)
		nic := NIC{ENI: e.Name, Description: e.Description, Prefix: v.CIDR.Masked(), Gateway: v.Gateway(), Address: e.PrimaryIP}
		if picks != nil && l != nil && l.PrimaryIP.IsValid() && !v.CIDR.Contains(l.PrimaryIP) {
			// The ENI is being replaced (its vSwitch changed): apply
			// creates a new one, and everything the lock has is the old
			// one's.
			l = nil
		}
		var what []string
		attached := l != nil && l.ID != "" && l.MAC != "" && l.AttachedTo == in.Name && l.DeviceIndex >= 1
		switch {
		case attached:
			nic.ENIID, nic.MAC, nic.DeviceIndex = l.ID, strings.ToLower(l.MAC), l.DeviceIndex
			nic.Table, nic.Priority = RouteTableBase+l.DeviceIndex, RouteTableBase+l.DeviceIndex
			if !nic.Address.IsValid() {
				nic.Address = l.PrimaryIP
			}
		case picks != nil:
			// An ENI apply creates, or attaches here (a failover): what
			// the cloud has given it already is real, the rest is picked.
			if l != nil && l.ID != "" {
				nic.ENIID = l.ID
			} else {
				*picks = append(*picks, pick{eni: e.Name, kind: pickID})
			}
			if l != nil && l.MAC != "" {
				nic.MAC = strings.ToLower(l.MAC)
			} else {
				*picks = append(*picks, pick{eni: e.Name, kind: pickMAC})
			}
			*picks = append(*picks, pick{eni: e.Name, kind: pickIndex})
			if !nic.Address.IsValid() && l != nil {
				nic.Address = l.PrimaryIP
			}
		default:
			what = append(what, "its ID, MAC and device index (it is not attached yet)")
		}
		if !nic.Address.IsValid() {
			if picks != nil {
				*picks = append(*picks, pick{eni: e.Name, kind: pickAddress})
			} else {
				what = append(what, "the primary address the cloud picks")
			}
		}
		s, ok := secondaries(e.Secondaries, l)
		switch {
		case ok:
		case picks != nil:
			s = pickCount(picks, e.Name, e.Count, l)
		default:
			what = append(what, countWhat(e.Count, l))
		}
		nic.Secondary = s
		what = append(what, resolveV6AndPrefixes(&nic, v, e.IPv6, e.Prefixes, l, picks, e.Name)...)
		if len(what) > 0 {
			miss = append(miss, Missing{Instance: in.Name, ENI: e.Name, What: strings.Join(what, "; ")})
			continue
		}
		h.Secondary = append(h.Secondary, nic)
	}
	slices.SortFunc(h.Secondary, func(a, b NIC) int { return a.DeviceIndex - b.DeviceIndex })
	for i := 1; i < len(h.Secondary); i++ {
		if h.Secondary[i].DeviceIndex != 0 && h.Secondary[i].DeviceIndex == h.Secondary[i-1].DeviceIndex {
			miss = append(miss, Missing{Instance: in.Name, ENI: h.Secondary[i].ENI,
				What: fmt.Sprintf("the lock gives it device index %d, as it does %s; run ecsnet observe or apply to refresh the lock", h.Secondary[i].DeviceIndex, h.Secondary[i-1].ENI)})
		}
	}
	return h, miss
}

// countWhat says how many addresses of a count the cloud has still to pick.
func countWhat(count int, l *schema.LockedENI) string {
	have := 0
	if l != nil {
		have = len(l.Secondary)
	}
	if have == 0 {
		return plural.Count(count, "address", "addresses") + " the cloud picks"
	}
	return fmt.Sprintf("%s the cloud picks (the lock has %d of %d)", plural.Count(count-have, "more address", "more addresses"), have, count)
}

// pickCount records, for a review render, the addresses of a count that
// the lock does not have yet, and returns those it has.
func pickCount(picks *[]pick, eni string, count int, l *schema.LockedENI) []netip.Addr {
	var have []netip.Addr
	if l != nil {
		have = sortedAddrs(l.Addrs())
	}
	for i := len(have) + 1; i <= count; i++ {
		*picks = append(*picks, pick{eni: eni, kind: pickSecondary, i: i, n: count})
	}
	return have
}

// secondaries returns the wanted secondary addresses: the pinned ones, or
// for a count the ones the lock records. ok is false when the lock does not
// record enough.
func secondaries(want schema.Secondaries, l *schema.LockedENI) ([]netip.Addr, bool) {
	if !want.Counted {
		out := want.PinnedAddrs()
		slices.SortFunc(out, netip.Addr.Compare)
		return out, true
	}
	if want.Count == 0 {
		return nil, true
	}
	if l == nil || len(l.Secondary) < want.Count {
		return nil, false
	}
	out := l.Addrs()
	slices.SortFunc(out, netip.Addr.Compare)
	return out, true
}

// resolveV6AndPrefixes fills a NIC's IPv6 addresses, its vSwitch's IPv6
// block and its IPv4 prefixes: the pinned ones, or for a count those the
// lock records. It returns what the lock lacks, as countWhat does for
// IPv4 addresses, or for a review render (picks not nil) records the
// IPv6 addresses and the prefixes the host answers for missing as picks.
// Prefixes the host does not answer for appear in no file, so a count of
// them the lock lacks is no Missing.
func resolveV6AndPrefixes(nic *NIC, v *schema.VSwitch, v6 schema.IPv6, px schema.Prefixes, l *schema.LockedENI, picks *[]pick, eni string) []string {
	var what []string
	switch {
	case !v6.Counted:
		if len(v6.Pinned) > 0 {
			nic.IPv6 = v6.PinnedAddrs()
		}
	case v6.Count == 0:
	case l != nil && len(l.IPv6) >= v6.Count:
		for _, a := range l.IPv6 {
			nic.IPv6 = append(nic.IPv6, a.Addr)
		}
	case picks != nil:
		have := 0
		if l != nil {
			have = len(l.IPv6)
			for _, a := range l.IPv6 {
				nic.IPv6 = append(nic.IPv6, a.Addr)
			}
		}
		for i := have + 1; i <= v6.Count; i++ {
			*picks = append(*picks, pick{eni: eni, kind: pickIPv6, i: i, n: v6.Count})
		}
		if v != nil {
			nic.IPv6Prefix = v.IPv6CIDR.Masked() // the picks need the block even when the lock has none yet
		}
	default:
		have := 0
		if l != nil {
			have = len(l.IPv6)
		}
		w := plural.Count(v6.Count, "IPv6 address", "IPv6 addresses") + " the cloud picks"
		if have > 0 {
			w = fmt.Sprintf("%s the cloud picks (the lock has %d of %d)", plural.Count(v6.Count-have, "more IPv6 address", "more IPv6 addresses"), have, v6.Count)
		}
		what = append(what, w)
	}
	slices.SortFunc(nic.IPv6, netip.Addr.Compare)
	if len(nic.IPv6) > 0 && v != nil {
		nic.IPv6Prefix = v.IPv6CIDR.Masked()
	}
	switch {
	case !px.Counted:
		if len(px.Pinned) > 0 {
			nic.Prefixes = px.PinnedPrefixes()
		}
	case px.Count == 0:
	case l != nil && len(l.Prefixes) >= px.Count:
		for _, p := range l.Prefixes {
			nic.Prefixes = append(nic.Prefixes, p.Prefix)
		}
	case !px.OnHost:
		if l != nil {
			for _, p := range l.Prefixes {
				nic.Prefixes = append(nic.Prefixes, p.Prefix)
			}
		}
	case picks != nil:
		have := 0
		if l != nil {
			have = len(l.Prefixes)
			for _, p := range l.Prefixes {
				nic.Prefixes = append(nic.Prefixes, p.Prefix)
			}
		}
		for i := have + 1; i <= px.Count; i++ {
			*picks = append(*picks, pick{eni: eni, kind: pickPrefix, i: i, n: px.Count})
		}
	default:
		have := 0
		if l != nil {
			have = len(l.Prefixes)
		}
		w := plural.Count(px.Count, "IPv4 prefix", "IPv4 prefixes") + " the cloud picks"
		if have > 0 {
			w = fmt.Sprintf("%s the cloud picks (the lock has %d of %d)", plural.Count(px.Count-have, "more IPv4 prefix", "more IPv4 prefixes"), have, px.Count)
		}
		what = append(what, w)
	}
	sortPrefixes(nic.Prefixes)
	nic.PrefixesOnHost = px.OnHost
	return what
}

// sortPrefixes sorts prefixes by address, then length.
func sortPrefixes(ps []netip.Prefix) {
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
}
