package schema

import "net/netip"

// The cloud reserves the first address and the last three of every vSwitch
// block; the first of those three (broadcast-2, .253 in a /24) is the
// gateway. See https://www.alibabacloud.com/help/en/vpc/api-610154.

// Gateway returns the vSwitch's gateway address: broadcast minus two.
func (v *VSwitch) Gateway() netip.Addr { return lastAddr(v.CIDR, 2) }

// Reserved reports whether a is one of the four addresses the cloud keeps
// for itself in this vSwitch.
func (v *VSwitch) Reserved(a netip.Addr) bool { return reserved(v.CIDR, a) }

// Usable returns how many addresses of the block ENIs can use.
func (v *VSwitch) Usable() int {
	bits := 32 - v.CIDR.Bits()
	if bits < 3 {
		return 0
	}
	return 1<<bits - 4
}

func reserved(p netip.Prefix, a netip.Addr) bool {
	if a == p.Masked().Addr() {
		return true
	}
	for i := 0; i < 3; i++ {
		if a == lastAddr(p, i) {
			return true
		}
	}
	return false
}

// lastAddr returns the address back steps below the block's broadcast.
func lastAddr(p netip.Prefix, back int) netip.Addr {
	if !p.IsValid() || !p.Addr().Is4() {
		return netip.Addr{}
	}
	b := p.Masked().Addr().As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n |= 1<<(32-p.Bits()) - 1
	n -= uint32(back)
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}
