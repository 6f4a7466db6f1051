package schema

import (
	"fmt"
	"net/netip"
	"slices"
)

// The lock's IPv6 addresses, IPv4 prefixes and network card (issue 17).

// comparePrefix orders prefixes by address, then length.
func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// IPv6Addrs returns the recorded IPv6 addresses.
func (e *LockedENI) IPv6Addrs() []netip.Addr {
	out := make([]netip.Addr, len(e.IPv6))
	for i, a := range e.IPv6 {
		out[i] = a.Addr
	}
	return out
}

// PrefixList returns the recorded IPv4 prefixes.
func (e *LockedENI) PrefixList() []netip.Prefix {
	out := make([]netip.Prefix, len(e.Prefixes))
	for i, p := range e.Prefixes {
		out[i] = p.Prefix
	}
	return out
}

// HasIPv6 reports whether the lock records a as an IPv6 address of the ENI.
func (e *LockedENI) HasIPv6(a netip.Addr) bool {
	_, ok := slices.BinarySearchFunc(e.IPv6, a, func(x LockedAddr, a netip.Addr) int { return x.Addr.Compare(a) })
	return ok
}

// HasPrefix reports whether the lock records p as a prefix of the ENI.
func (e *LockedENI) HasPrefix(p netip.Prefix) bool {
	_, ok := slices.BinarySearchFunc(e.Prefixes, p, func(x LockedPrefix, p netip.Prefix) int { return comparePrefix(x.Prefix, p) })
	return ok
}

// marshalIssue17 renders an entry's IPv6 addresses and prefixes, sorted,
// with the found ones listed again apart, and its card.
func marshalIssue17(e *LockedENI) (v6, found6, prefixes, foundPrefixes []string, card int) {
	v := slices.Clone(e.IPv6)
	slices.SortFunc(v, func(a, b LockedAddr) int { return a.Addr.Compare(b.Addr) })
	for _, a := range v {
		v6 = append(v6, a.Addr.String())
		if !a.Added {
			found6 = append(found6, a.Addr.String())
		}
	}
	px := slices.Clone(e.Prefixes)
	slices.SortFunc(px, func(a, b LockedPrefix) int { return comparePrefix(a.Prefix, b.Prefix) })
	for _, p := range px {
		prefixes = append(prefixes, p.Prefix.String())
		if !p.Added {
			foundPrefixes = append(foundPrefixes, p.Prefix.String())
		}
	}
	return v6, found6, prefixes, foundPrefixes, e.NetworkCard
}

// readIssue17 reads an entry's IPv6 addresses, prefixes and card strictly:
// each address a plain IPv6 address (no zone, no IPv4-mapped form), each
// prefix a /28 IPv4 block written as its first address, none twice, every
// found one also listed, a card from 0 to 7, and none of it in a version 1
// lock.
func readIssue17(e *LockedENI, j lockENIJSON, version int) error {
	if version == 1 && (len(j.IPv6) > 0 || len(j.FoundIPv6) > 0 || len(j.Prefixes) > 0 || len(j.FoundPrefixes) > 0 || j.NetworkCard != 0) {
		return fmt.Errorf("ipv6_ips, ipv4_prefixes and network_card need format_version %d", LockVersion)
	}
	if j.NetworkCard < 0 || j.NetworkCard >= maxNetworkCards {
		return fmt.Errorf("network_card %d is not a card number (0 to %d)", j.NetworkCard, maxNetworkCards-1)
	}
	e.NetworkCard = j.NetworkCard
	parse6 := func(field, s string) (netip.Addr, error) {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
			return netip.Addr{}, fmt.Errorf("%s: %q is not an IPv6 address", field, s)
		}
		return a, nil
	}
	for _, s := range j.IPv6 {
		a, err := parse6("ipv6_ips", s)
		if err != nil {
			return err
		}
		e.IPv6 = append(e.IPv6, LockedAddr{Addr: a, Added: true})
	}
	slices.SortFunc(e.IPv6, func(a, b LockedAddr) int { return a.Addr.Compare(b.Addr) })
	for k := 1; k < len(e.IPv6); k++ {
		if e.IPv6[k].Addr == e.IPv6[k-1].Addr {
			return fmt.Errorf("%s is listed twice in ipv6_ips", e.IPv6[k].Addr)
		}
	}
	for _, s := range j.FoundIPv6 {
		a, err := parse6("found_ipv6_ips", s)
		if err != nil {
			return err
		}
		k, ok := slices.BinarySearchFunc(e.IPv6, a, func(x LockedAddr, a netip.Addr) int { return x.Addr.Compare(a) })
		if !ok {
			return fmt.Errorf("found_ipv6_ips lists %s, which ipv6_ips does not", a)
		}
		e.IPv6[k].Added = false
	}
	parse4 := func(field, s string) (netip.Prefix, error) {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() || p.Bits() != prefixBits || p.Masked() != p {
			return netip.Prefix{}, fmt.Errorf("%s: %q is not a /28 IPv4 prefix written as its first address", field, s)
		}
		return p, nil
	}
	for _, s := range j.Prefixes {
		p, err := parse4("ipv4_prefixes", s)
		if err != nil {
			return err
		}
		e.Prefixes = append(e.Prefixes, LockedPrefix{Prefix: p, Added: true})
	}
	slices.SortFunc(e.Prefixes, func(a, b LockedPrefix) int { return comparePrefix(a.Prefix, b.Prefix) })
	for k := 1; k < len(e.Prefixes); k++ {
		if e.Prefixes[k].Prefix == e.Prefixes[k-1].Prefix {
			return fmt.Errorf("%s is listed twice in ipv4_prefixes", e.Prefixes[k].Prefix)
		}
	}
	for _, s := range j.FoundPrefixes {
		p, err := parse4("found_ipv4_prefixes", s)
		if err != nil {
			return err
		}
		k, ok := slices.BinarySearchFunc(e.Prefixes, p, func(x LockedPrefix, p netip.Prefix) int { return comparePrefix(x.Prefix, p) })
		if !ok {
			return fmt.Errorf("found_ipv4_prefixes lists %s, which ipv4_prefixes does not", p)
		}
		e.Prefixes[k].Added = false
	}
	return nil
}
