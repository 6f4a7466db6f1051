package schema

import (
	"fmt"
	"net/netip"
)

// VSwitchBlockError reports a vSwitch whose cidr in the file differs from
// the cloud's block, want, at the file's cidr. source says where want was
// read when it was not the cloud just now (" (as the lock records it)").
// The message names the gateway each block gives, which is what a wrong
// block breaks on the hosts.
func VSwitchBlockError(v *VSwitch, want netip.Prefix, source string) *Error {
	want = want.Masked()
	cloud := VSwitch{CIDR: want}
	pos := v.CIDRPos
	if !pos.IsValid() {
		pos = v.Pos
	}
	return &Error{Pos: pos, Path: fmt.Sprintf("vswitches.%q.cidr", v.Name),
		Msg: fmt.Sprintf("cidr %s differs from the cloud's %s%s for vSwitch %s: hosts would get gateway %s instead of %s",
			v.CIDR, want, source, v.ID, v.Gateway(), cloud.Gateway()),
		Hint: fmt.Sprintf("write the cloud's block, cidr: %q (a vSwitch's block never changes)", want)}
}

// CheckVSwitches compares the file's vSwitch blocks with those the lock
// recorded from the cloud (see Lock.VSwitches), for what works offline
// (render): the mistake plan catches against the cloud, caught without it.
// A vSwitch the lock recorded no block for is not checked.
func (l *Lock) CheckVSwitches(f *Fleet) Errors {
	if l == nil || len(l.VSwitches) == 0 {
		return nil
	}
	var errs Errors
	for _, v := range f.VSwitches {
		want, ok := l.VSwitches[v.ID]
		if ok && v.CIDR.IsValid() && want.Masked() != v.CIDR.Masked() {
			e := VSwitchBlockError(v, want, " (as the lock records it)")
			e.Hint += "; if the lock is stale, run ecsnet apply to refresh it"
			errs = append(errs, e)
		}
	}
	return errs.Sort()
}

// VSwitchIPv6BlockError reports a vSwitch whose ipv6Cidr in the file
// differs from the cloud's IPv6 block (DescribeVSwitches Ipv6CidrBlock),
// want, at the file's ipv6Cidr; an invalid want means the cloud's vSwitch
// has no IPv6 block. source is as for VSwitchBlockError.
func VSwitchIPv6BlockError(v *VSwitch, want netip.Prefix, source string) *Error {
	pos := v.IPv6CIDRPos
	if !pos.IsValid() {
		pos = v.Pos
	}
	e := &Error{Pos: pos, Path: fmt.Sprintf("vswitches.%q.ipv6Cidr", v.Name)}
	switch {
	case !want.IsValid():
		e.Msg = fmt.Sprintf("ipv6Cidr %s: vSwitch %s has no IPv6 block in the cloud%s", v.IPv6CIDR, v.ID, source)
		e.Hint = "enable IPv6 on the VPC and the vSwitch first (VPC console or AllocateVpcIpv6Cidr/ModifyVSwitchAttribute), or remove ipv6Cidr and the ENIs' IPv6 addresses"
	case !v.IPv6CIDR.IsValid():
		e.Msg = fmt.Sprintf("vSwitch %s has the IPv6 block %s in the cloud%s, but the file gives none", v.ID, want.Masked(), source)
		e.Hint = fmt.Sprintf("add ipv6Cidr: %q to the vSwitch", want.Masked())
	default:
		e.Msg = fmt.Sprintf("ipv6Cidr %s differs from the cloud's %s%s for vSwitch %s", v.IPv6CIDR, want.Masked(), source, v.ID)
		e.Hint = fmt.Sprintf("write the cloud's block, ipv6Cidr: %q (a vSwitch's IPv6 block does not change while it has addresses)", want.Masked())
	}
	return e
}
