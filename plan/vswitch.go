package plan

import (
	"fmt"
	"net/netip"

	"github.com/ecsnet/ecsnet/schema"
)

// checkVSwitches compares every vSwitch of the desired state with the
// cloud's: the cloud must have it, in the zone the file says, with the
// block the file says. The file's block is what render derives each host's
// prefix and gateway from (broadcast minus two) and what addresses are
// picked from, and validate cannot check it offline: a file that says /25
// where the cloud has /24 would configure gateway .125 instead of .253, and
// the hosts would lose that ENI's traffic. Errors point at the file's id,
// zone or cidr field and say what the cloud has.
func checkVSwitches(f *schema.Fleet, obs *Observed) schema.Errors {
	var errs schema.Errors
	for _, v := range f.VSwitches {
		path := fmt.Sprintf("vswitches.%q", v.Name)
		o := obs.VSwitch(v.ID)
		if o == nil {
			errs = append(errs, &schema.Error{Pos: orPos(v.IDPos, v.Pos), Path: path + ".id",
				Msg:  fmt.Sprintf("vSwitch %s was not found in region %s", v.ID, obs.Region),
				Hint: "check the ID and the region, and that the credentials may call vpc:DescribeVSwitches"})
			continue
		}
		if o.CIDR.IsValid() && v.CIDR.IsValid() && o.CIDR.Masked() != v.CIDR.Masked() {
			errs = append(errs, schema.VSwitchBlockError(v, o.CIDR, ""))
		}
		if v.IPv6CIDR.IsValid() {
			// As the IPv4 block: render derives the hosts' IPv6 prefix
			// from it, and validate checked the IPv6 addresses against it.
			switch {
			case !o.IPv6CIDR.IsValid():
				errs = append(errs, &schema.Error{Pos: orPos(v.IPv6CIDRPos, v.Pos), Path: path + ".ipv6Cidr",
					Msg:  fmt.Sprintf("ipv6Cidr %s: vSwitch %s has no IPv6 block in the cloud", v.IPv6CIDR, v.ID),
					Hint: "enable IPv6 on the vSwitch (the VPC console, or the VPC API), then write the block it gets; or remove ipv6Cidr and the IPv6 addresses in it"})
			case o.IPv6CIDR.Masked() != v.IPv6CIDR.Masked():
				errs = append(errs, &schema.Error{Pos: orPos(v.IPv6CIDRPos, v.Pos), Path: path + ".ipv6Cidr",
					Msg:  fmt.Sprintf("ipv6Cidr %s differs from the cloud's %s for vSwitch %s", v.IPv6CIDR, o.IPv6CIDR, v.ID),
					Hint: fmt.Sprintf("write the cloud's block, ipv6Cidr: %q, and check the IPv6 addresses against it", o.IPv6CIDR.Masked())})
			}
		}
		if o.Zone != "" && v.Zone != "" && o.Zone != v.Zone {
			errs = append(errs, &schema.Error{Pos: orPos(v.ZonePos, v.Pos), Path: path + ".zone",
				Msg:  fmt.Sprintf("zone %s differs from the cloud's %s for vSwitch %s", v.Zone, o.Zone, v.ID),
				Hint: fmt.Sprintf("write the cloud's zone, zone: %q (a vSwitch never changes zone)", o.Zone)})
		}
	}
	return errs
}

// RecordVSwitches sets the lock's vSwitch blocks to the cloud's, for the
// fleet's vSwitches the cloud reported, so that an offline render can
// check the file against them (schema.Lock.CheckVSwitches).
func RecordVSwitches(lock *schema.Lock, f *schema.Fleet, obs *Observed) {
	blocks := make(map[string]netip.Prefix, len(f.VSwitches))
	for _, v := range f.VSwitches {
		if o := obs.VSwitch(v.ID); o != nil && o.CIDR.IsValid() {
			blocks[v.ID] = o.CIDR.Masked()
		}
	}
	if len(blocks) == 0 {
		blocks = nil
	}
	lock.VSwitches = blocks
}

func orPos(p, fallback schema.Pos) schema.Pos {
	if p.IsValid() {
		return p
	}
	return fallback
}
