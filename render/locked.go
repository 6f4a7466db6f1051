package render

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ecsnet/ecsnet/schema"
)

// LockedHost resolves one instance as the lock has it, rather than as
// the desired state wants it: the primary ENI with the secondary
// addresses the lock records, and the ENIs of the file that the lock
// says are attached to the instance, with the lock's addresses. It is
// what a host may use while the cloud is in between: apply delivers it
// to a host before the cloud removes an address or an ENI from it (with
// the lock minus what is about to go) and after the cloud added one, so
// that a host never configures an address the cloud does not route to
// it. Once the cloud matches the desired state, LockedHost and Hosts give
// the same Host.
func LockedHost(f *schema.Fleet, lock *schema.Lock, instance string) (*Host, error) {
	in := f.Instance(instance)
	if in == nil {
		return nil, fmt.Errorf("no instance %q in the desired state", instance)
	}
	h := &Host{Name: in.Name, InstanceID: in.ID, Fleet: f.Name, OS: in.OS, Stack: in.Network}
	vsw := f.VSwitch(in.Primary.VSwitch)
	h.Primary = NIC{Address: in.Primary.IP, Prefix: vsw.CIDR.Masked(), Gateway: vsw.Gateway()}
	if l := lock.Primary(in.Name); l != nil {
		h.Primary.ENIID, h.Primary.MAC = l.ID, strings.ToLower(l.MAC)
		h.Primary.Secondary = sortedAddrs(l.Addrs())
	}
	lockedV6AndPrefixes(&h.Primary, vsw, in.Primary.Prefixes, lock.Primary(in.Name))
	for _, e := range f.ENIs {
		l := lock.Secondary(e.Name)
		if l == nil || l.AttachedTo != in.Name || l.ID == "" {
			continue
		}
		if l.MAC == "" || l.DeviceIndex < 1 || !l.PrimaryIP.IsValid() {
			return nil, fmt.Errorf("%s: the lock records ENI %s as attached but lacks its MAC, device index or primary address; run ecsnet observe or apply to refresh it", in.Name, e.Name)
		}
		v := f.VSwitch(e.VSwitch)
		if !v.CIDR.Contains(l.PrimaryIP) {
			// The ENI is being replaced (its vSwitch changed): the old one
			// is on its way out.
			continue
		}
		h.Secondary = append(h.Secondary, NIC{ENI: e.Name, ENIID: l.ID, Description: e.Description, MAC: strings.ToLower(l.MAC),
			DeviceIndex: l.DeviceIndex, Address: l.PrimaryIP, Prefix: v.CIDR.Masked(), Gateway: v.Gateway(),
			Secondary: sortedAddrs(l.Addrs()), Table: RouteTableBase + l.DeviceIndex, Priority: RouteTableBase + l.DeviceIndex})
		lockedV6AndPrefixes(&h.Secondary[len(h.Secondary)-1], v, e.Prefixes, l)
	}
	slices.SortFunc(h.Secondary, func(a, b NIC) int { return a.DeviceIndex - b.DeviceIndex })
	for i := 1; i < len(h.Secondary); i++ {
		if h.Secondary[i].DeviceIndex == h.Secondary[i-1].DeviceIndex {
			return nil, fmt.Errorf("%s: the lock gives ENIs %s and %s device index %d; run ecsnet observe or apply to refresh it",
				in.Name, h.Secondary[i-1].ENI, h.Secondary[i].ENI, h.Secondary[i].DeviceIndex)
		}
	}
	return h, nil
}

func sortedAddrs(as []netip.Addr) []netip.Addr {
	out := slices.Clone(as)
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// lockedV6AndPrefixes gives a NIC the IPv6 addresses and IPv4 prefixes
// the lock records for its ENI; whether the host answers for the
// prefixes is the desired state's to say.
func lockedV6AndPrefixes(n *NIC, v *schema.VSwitch, px schema.Prefixes, l *schema.LockedENI) {
	n.PrefixesOnHost = px.OnHost
	if l == nil {
		return
	}
	for _, a := range l.IPv6 {
		n.IPv6 = append(n.IPv6, a.Addr)
	}
	slices.SortFunc(n.IPv6, netip.Addr.Compare)
	if len(n.IPv6) > 0 && v != nil {
		n.IPv6Prefix = v.IPv6CIDR.Masked()
	}
	for _, p := range l.Prefixes {
		n.Prefixes = append(n.Prefixes, p.Prefix)
	}
	sortPrefixes(n.Prefixes)
}
