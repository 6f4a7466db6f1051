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
