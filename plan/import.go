package plan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ecsnet/ecsnet/schema"
)

// Region is what ecsnet import --all reads of the cloud: the vSwitches and
// ENIs of some VPCs, sorted by ID, the instances whose primary ENI is in
// them, and the quotas of their types.
type Region struct {
	Name      string
	VPCs      []string
	VSwitches []*ObservedVSwitch
	ENIs      []*ObservedENI
	Instances []*ObservedInstance
	Types     []TypeQuota
}

// Import decides the desired state of fleet that describes r as it is:
// every vSwitch, the security groups in use, every instance with the
// secondary addresses of its primary ENI pinned, and every secondary ENI
// by ID. Names are handed out in ID order, so the result is
// deterministic. Planned against r, it shows no changes.
func Import(r *Region, fleet string) *schema.ImportedFleet {
	im := &importer{r: r, fleet: fleet, out: &schema.ImportedFleet{Fleet: fleet, Region: r.Name, VPCs: r.VPCs},
		vsw: map[string]string{}, primaries: map[string]*ObservedENI{}}
	for _, v := range r.VSwitches {
		im.vsw[v.ID] = v.ID // IDs are DNS labels already
		im.out.VSwitches = append(im.out.VSwitches, schema.ImportedVSwitch{ID: v.ID, Zone: v.Zone, CIDR: v.CIDR, IPv6CIDR: v.IPv6CIDR})
	}
	for _, x := range r.ENIs {
		if x.Type == ENIPrimary {
			im.primaries[x.InstanceID] = x
		}
	}
	secondaries := im.secondaries()
	groupAddrs := im.groups(secondaries)
	instName := im.instances()
	unbound := im.enis(secondaries, instName)
	im.limits(unbound, groupAddrs)
	return im.out
}

// importer holds what Import has decided so far.
type importer struct {
	r         *Region
	fleet     string
	out       *schema.ImportedFleet
	vsw       map[string]string       // vSwitch ID -> name
	primaries map[string]*ObservedENI // instance ID -> its primary ENI
}

// secondaries returns the secondary ENIs the desired state takes, and
// says in LeftOut why it leaves the others out.
func (im *importer) secondaries() []*ObservedENI {
	var out []*ObservedENI
	for _, x := range im.r.ENIs {
		switch {
		case x.Type == ENIPrimary:
			continue
		case x.Type != ENISecondary:
			im.out.LeftOut = append(im.out.LeftOut, fmt.Sprintf("%s is a %s ENI, which ecsnet does not manage", x.ID, x.Type))
		case x.Tags[TagFleet] != "" && x.Tags[TagFleet] != im.fleet:
			im.out.LeftOut = append(im.out.LeftOut, fmt.Sprintf("%s carries the tags of fleet %q", x.ID, x.Tags[TagFleet]))
		case x.Status == ENIDeleting || x.Status == ENICreateFailed:
			im.out.LeftOut = append(im.out.LeftOut, fmt.Sprintf("%s is %s", x.ID, x.Status))
		default:
			out = append(out, x)
		}
	}
	return out
}

// groups lists the security groups in use, by ID, and returns the
// addresses each holds: they count towards its quota.
func (im *importer) groups(secondaries []*ObservedENI) map[string]int {
	groupAddrs := map[string]int{}
	for _, in := range im.r.Instances {
		if p := im.primaries[in.ID]; p != nil {
			for _, g := range p.SecurityGroups {
				groupAddrs[g] += 1 + len(in.SecondaryIPs)
			}
		}
	}
	for _, x := range secondaries {
		for _, g := range x.SecurityGroups {
			groupAddrs[g] += 1 + len(x.SecondaryIPs)
		}
	}
	for g := range groupAddrs {
		im.out.SecurityGroups = append(im.out.SecurityGroups, g)
	}
	slices.Sort(im.out.SecurityGroups)
	return groupAddrs
}

// instances adds the instances, named from InstanceName, and returns
// their names by ID.
func (im *importer) instances() map[string]string {
	names := namer{}
	instName := map[string]string{}
	for _, in := range im.r.Instances {
		p := im.primaries[in.ID]
		if p == nil {
			im.out.LeftOut = append(im.out.LeftOut, fmt.Sprintf("instance %s: its primary ENI was not listed", in.ID))
			continue
		}
		n := names.name(in.Name, in.ID)
		instName[in.ID] = n
		os, sure := schema.OSFromImage(in.OSName, in.OSType)
		im.out.Instances = append(im.out.Instances, schema.ImportedInstance{Name: n, ID: in.ID, Type: in.Type, OS: os, OSGuessed: !sure, OSType: in.OSType,
			Primary: schema.ImportedPrimary{VSwitch: im.vsw[p.VSwitch], IP: in.PrimaryIP, SecurityGroups: sorted(p.SecurityGroups), SecondaryIPs: in.SecondaryIPs,
				IPv6: in.IPv6, Prefixes: in.Prefixes}})
	}
	return instName
}

// enis adds the secondary ENIs, by ID, named from their ecsnet tag, their
// name or their ID, and returns the most secondary addresses an unbound
// one holds.
func (im *importer) enis(secondaries []*ObservedENI, instName map[string]string) (unbound int) {
	enames := namer{}
	for _, x := range secondaries {
		want := x.Name
		if x.Tags[TagFleet] == im.fleet && x.Tags[TagENI] != "" {
			want = x.Tags[TagENI]
		}
		ie := schema.ImportedENI{Name: enames.name(want, x.ID), ID: x.ID, VSwitch: im.vsw[x.VSwitch], SecurityGroups: sorted(x.SecurityGroups),
			Description: x.Description, PrimaryIP: x.PrimaryIP, SecondaryIPs: x.SecondaryIPs, AttachTo: instName[x.InstanceID],
			IPv6: x.IPv6, Prefixes: x.Prefixes}
		if ie.AttachTo != "" {
			// As the cloud reports it (ecs reads it for types with
			// several cards); 0 where it does not.
			ie.NetworkCard = x.NetworkCard
		}
		if x.InstanceID != "" && ie.AttachTo == "" {
			ie.Check = "check: attached to " + x.InstanceID + ", which is not in these VPCs"
		}
		if ie.AttachTo == "" {
			unbound = max(unbound, len(x.SecondaryIPs))
		}
		im.out.ENIs = append(im.out.ENIs, ie)
	}
	return unbound
}

// limits writes the limits where the cloud differs from ecsnet's defaults
// and table, capped at what the schema accepts.
func (im *importer) limits(unbound int, groupAddrs map[string]int) {
	out := im.out
	if unbound > schema.DefaultUnboundENIMaxSecondaryIPs {
		out.Limits.UnboundENIMaxSecondaryIPs = min(unbound, 49)
	}
	maxGroup := 0
	for _, n := range groupAddrs {
		maxGroup = max(maxGroup, n)
	}
	if maxGroup > schema.DefaultSecurityGroupMaxIPs {
		out.Limits.SecurityGroupMaxIPs = min(maxGroup, 65536)
	}
	for _, t := range im.r.Types {
		bt, ok := schema.BuiltinInstanceType(t.Name)
		// Issue 17's columns count only where the cloud reports them.
		differs := func(cloud, table int) bool { return cloud > 0 && cloud != table }
		if ok && bt.MaxENIs == t.MaxENIs && bt.MaxIPsPerENI == t.MaxIPsPerENI && !differs(t.MaxIPv6PerENI, bt.MaxIPv6PerENI) &&
			!differs(t.NetworkCards, max(bt.NetworkCards, 1)) && !differs(t.MaxQueuesPerENI, bt.MaxQueuesPerENI) {
			continue
		}
		out.Limits.InstanceTypes = append(out.Limits.InstanceTypes, schema.ImportedType{Name: t.Name, MaxENIs: t.MaxENIs, MaxIPsPerENI: t.MaxIPsPerENI, AttachNeedsStopped: bt.AttachNeedsStopped,
			MaxIPv6PerENI: t.MaxIPv6PerENI, NetworkCards: t.NetworkCards, MaxQueuesPerENI: t.MaxQueuesPerENI})
	}
}

func sorted(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return out
}

// dnsName makes s a DNS label (what the desired state's names are), or
// returns "" when nothing of it is left.
func dnsName(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(c)
		default:
			dash = true
		}
	}
	n := strings.TrimLeft(b.String(), "0123456789-")
	if len(n) > 63 {
		n = strings.TrimRight(n[:63], "-")
	}
	if !schema.ValidName(n) {
		return ""
	}
	return n
}

// namer hands out unique DNS-label names: the wanted name, else the
// fallback, with "-2", "-3"… added on a clash.
type namer map[string]bool

func (u namer) name(want, fallback string) string {
	base := dnsName(want)
	if base == "" {
		base = dnsName(fallback)
	}
	n := base
	for i := 2; u[n]; i++ {
		suffix := "-" + strconv.Itoa(i)
		n = strings.TrimRight(base[:min(len(base), 63-len(suffix))], "-") + suffix
	}
	u[n] = true
	return n
}
