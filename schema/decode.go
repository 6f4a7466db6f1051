package schema

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ecsnet/ecsnet/internal/levenshtein"
	"github.com/ecsnet/ecsnet/internal/plural"
)

// The document's fields. Kept together so that the unknown-field check,
// its "did you mean" hint and the README stay in step.
var (
	topFields      = []string{"fleet", "region", "vswitches", "securityGroups", "instances", "enis", "limits"}
	topRequired    = []string{"fleet", "region", "vswitches", "instances"}
	vswitchFields  = []string{"id", "zone", "cidr", "ipv6Cidr"}
	vswitchReq     = []string{"id", "zone", "cidr"}
	groupFields    = []string{"id"}
	instanceFields = []string{"id", "type", "os", "network", "primary"}
	instanceReq    = []string{"id", "type", "os", "primary"}
	primaryFields  = []string{"vswitch", "ip", "secondaryIps", "secondaryIpCount", "securityGroups", "ipv6Ips", "ipv6IpCount", "ipv4Prefixes", "ipv4PrefixCount", "ipv4PrefixesOnHost"}
	primaryReq     = []string{"vswitch", "ip"}
	eniFields      = []string{"id", "vswitch", "securityGroups", "description", "primaryIp", "secondaryIps", "secondaryIpCount", "attachTo", "ipv6Ips", "ipv6IpCount", "ipv4Prefixes", "ipv4PrefixCount", "ipv4PrefixesOnHost", "networkCard", "queues"}
	eniReq         = []string{"vswitch", "securityGroups"}
	limitsFields   = []string{"unboundEniMaxSecondaryIps", "securityGroupMaxIps", "instanceTypes"}
	typeFields     = []string{"maxEnis", "maxIpsPerEni", "attachNeedsStopped", "maxIpv6PerEni", "networkCards", "maxQueuesPerEni"}
	typeReq        = []string{"maxEnis", "maxIpsPerEni"}
)

// The rules for names and IDs are in names.go.
var (
	reRegion       = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]+){1,4}$`)
	reInstanceType = regexp.MustCompile(`^ecs\.[a-z0-9-]+\.[a-z0-9-]+$`)
)

// Bounds that keep hostile numbers from turning into huge allocations.
const (
	maxSecondaryIPs = 49 // the most any ENI can carry today (ecs-api.md §4)
	maxGroupsPerENI = 5  // security groups per ENI, default quota
)

type decoder struct {
	errs Errors
	// misspelt holds the paths of fields written under a near-miss name
	// ("securitygroups"): the unknown field's error says the right name,
	// and the checks that would follow from the field's absence (it is
	// required; a reference into it is undefined) stay silent, as a
	// compiler's do after the first error.
	misspelt map[string]bool
}

func (d *decoder) errorf(pos Pos, p path, hint, format string, args ...any) {
	d.errs = append(d.errs, &Error{Pos: pos, Path: p.String(), Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// object checks that n is a struct with only allowed fields and every
// required one.
func (d *decoder) object(n *node, p path, what string, allowed, required []string) bool {
	if n.kind != kObject {
		d.errorf(n.pos, p, fmt.Sprintf("write %s as a struct: { ... }", what), "%s must be a struct, got %s", what, n.describe())
		return false
	}
	var meant []string
	for _, f := range n.fields {
		if slices.Contains(allowed, f.name) {
			continue
		}
		hint := "allowed fields: " + strings.Join(allowed, ", ")
		if s := suggest(f.name, allowed); s != "" {
			hint = fmt.Sprintf("did you mean %q? (%s)", s, hint)
			if n.lookup(s) == nil {
				meant = append(meant, s)
				if d.misspelt == nil {
					d.misspelt = map[string]bool{}
				}
				d.misspelt[p.field(s).String()] = true
			}
		}
		d.errorf(f.pos, p.field(f.name), hint, "field %q is not allowed in %s", f.name, what)
	}
	for _, r := range required {
		if n.lookup(r) == nil && !slices.Contains(meant, r) {
			d.errorf(n.pos, p, fmt.Sprintf("add %s: ... (see the README, \"The desired-state format\")", r), "%s is missing the required field %q", what, r)
		}
	}
	return true
}

func (d *decoder) str(n *node, p path) (string, bool) {
	if n.kind != kString {
		d.errorf(n.pos, p, "write a string in double quotes", "must be a string, got %s", n.describe())
		return "", false
	}
	return n.str, true
}

func (d *decoder) intv(n *node, p path, lo, hi int) (int, bool) {
	hint := fmt.Sprintf("write a whole number from %d to %d, without quotes", lo, hi)
	if n.kind != kNumber {
		d.errorf(n.pos, p, hint, "must be a whole number, got %s", n.describe())
		return 0, false
	}
	// Like CUE's int, a number written with a fraction or an exponent is
	// not a whole number, even when its value is (2.0).
	v, err := strconv.ParseInt(n.str, 10, 64)
	if err != nil {
		if strings.ContainsAny(n.str, ".eE") {
			d.errorf(n.pos, p, hint, "must be a whole number, got %s", n.str)
		} else {
			d.errorf(n.pos, p, hint, "must be from %d to %d, got %s", lo, hi, n.str)
		}
		return 0, false
	}
	if v < int64(lo) || v > int64(hi) {
		d.errorf(n.pos, p, hint, "must be from %d to %d, got %s", lo, hi, n.str)
		return 0, false
	}
	return int(v), true
}

func (d *decoder) boolv(n *node, p path) (bool, bool) {
	if n.kind != kBool {
		d.errorf(n.pos, p, "write true or false, without quotes", "must be true or false, got %s", n.describe())
		return false, false
	}
	return n.str == "true", true
}

// name checks a map key that becomes a directory name and a tag value.
func (d *decoder) name(f field, p path, what string) bool {
	if ValidName(f.name) {
		return true
	}
	d.errorf(f.pos, p, "use 2 to 63 lower-case ASCII letters, digits and '-', starting with a letter and not ending with '-' (it becomes a directory name and a tag value)",
		"%s name %q is not a DNS label: %s", what, f.name, nameWhy(f.name))
	return false
}

func (d *decoder) id(n *node, p path, valid func(string) bool, example string) string {
	s, ok := d.str(n, p)
	if !ok {
		return ""
	}
	if !valid(s) {
		prefix, _, _ := strings.Cut(example, "-")
		what := map[string]string{"i": "an instance", "eni": "an ENI", "vsw": "a vSwitch", "sg": "a security group"}[prefix]
		d.errorf(n.pos, p, fmt.Sprintf("copy the ID from the console or the API; it looks like %q", example),
			"%q is not %s ID: it must be %q followed by 4 to 40 lower-case letters and digits", s, what, prefix+"-")
		return ""
	}
	return s
}

// ipv4 parses a dotted-decimal IPv4 address strictly: no leading zeros (an
// ambiguity some tools read as octal), no spaces, no IPv6.
func (d *decoder) ipv4(n *node, p path) (netip.Addr, bool) {
	return d.ipv4At(n, p, -1)
}

// ipv4At is ipv4 for element idx of the list at p (or p itself when idx is
// -1); the element's path is built only for an error.
func (d *decoder) ipv4At(n *node, base path, idx int) (netip.Addr, bool) {
	p := func() path {
		if idx < 0 {
			return base
		}
		return base.index(idx)
	}
	if n.kind != kString {
		d.str(n, p())
		return netip.Addr{}, false
	}
	s := n.str
	a, err := netip.ParseAddr(s)
	if err == nil && a.Is4() {
		return a, true
	}
	{
		var why string
		switch {
		case strings.TrimSpace(s) != s:
			why = "it has leading or trailing spaces"
		case err == nil:
			why = "it is an IPv6 address; IPv6 addresses go in ipv6Ips (on a vSwitch with an ipv6Cidr)"
		default:
			why = strings.TrimPrefix(err.Error(), fmt.Sprintf("ParseAddr(%q): ", s))
		}
		d.errorf(n.pos, p(), "write four decimal numbers 0-255 separated by dots, without leading zeros or spaces, e.g. 172.16.0.21", "%q is not a valid IPv4 address: %s", s, why)
		return netip.Addr{}, false
	}
}

func (d *decoder) secondaries(n *node, p path) Secondaries {
	var s Secondaries
	if f := n.lookup("secondaryIps"); f != nil {
		lp := p.field("secondaryIps")
		if f.val.kind != kList {
			d.errorf(f.val.pos, lp, `write a list: ["172.16.0.21", ...]`, "secondaryIps must be a list of addresses, got %s", f.val.describe())
		} else if len(f.val.elems) > maxSecondaryIPs {
			d.errorf(f.val.pos, lp, "no ENI carries that many; split the addresses over more ENIs", "secondaryIps lists %d addresses; no instance type allows more than %d secondary addresses per ENI", len(f.val.elems), maxSecondaryIPs)
		} else {
			for i, e := range f.val.elems {
				if a, ok := d.ipv4At(e, lp, i); ok {
					s.Pinned = append(s.Pinned, Address{Addr: a, Pos: e.pos})
				}
			}
		}
	}
	if f := n.lookup("secondaryIpCount"); f != nil {
		if c, ok := d.intv(f.val, p.field("secondaryIpCount"), 0, maxSecondaryIPs); ok {
			s.Count, s.Counted, s.CountPos = c, true, f.val.pos
		}
		if n.lookup("secondaryIps") != nil {
			d.errorf(f.pos, p.field("secondaryIpCount"), "keep secondaryIps to pin addresses, or secondaryIpCount to let the cloud pick them", "secondaryIps and secondaryIpCount are exclusive")
		}
	}
	return s
}

func (d *decoder) groupRefs(n *node, p path) ([]string, []Pos) {
	if n.kind != kList {
		d.errorf(n.pos, p, `write a list of names from securityGroups: ["web"]`, "securityGroups must be a list of names, got %s", n.describe())
		return nil, nil
	}
	var out []string
	var pos []Pos
	for i, e := range n.elems {
		if s, ok := d.str(e, p.index(i)); ok {
			out = append(out, s)
			pos = append(pos, e.pos)
		}
	}
	return out, pos
}

// decode turns the merged document into a Fleet, reporting every
// structural problem.
func (d *decoder) decode(root *node) *Fleet {
	f := &Fleet{Limits: Limits{
		UnboundENIMaxSecondaryIPs: DefaultUnboundENIMaxSecondaryIPs,
		SecurityGroupMaxIPs:       DefaultSecurityGroupMaxIPs,
	}}
	if !d.object(root, nil, "the fleet file", topFields, topRequired) {
		return f
	}
	for _, fl := range root.fields {
		p := path{fl.name}
		switch fl.name {
		case "fleet":
			if s, ok := d.str(fl.val, p); ok {
				if !ValidFleetName(s) {
					d.errorf(fl.val.pos, p, fleetNameRule, "fleet name %q is not tag-safe%s", s, fleetWhy(s))
				}
				f.Name = s
			}
		case "region":
			f.RegionPos = fl.val.pos
			if s, ok := d.str(fl.val, p); ok {
				if !reRegion.MatchString(s) {
					d.errorf(fl.val.pos, p, `write a region ID such as "cn-hangzhou" or "ap-southeast-1"`, "%q is not a region ID", s)
				} else {
					f.Region = s
				}
			}
		case "vswitches":
			d.each(fl.val, p, "vswitches", func(e field, ep path) {
				d.name(e, ep, "vSwitch")
				if !d.object(e.val, ep, "a vSwitch", vswitchFields, vswitchReq) {
					return
				}
				v := &VSwitch{Name: e.name, Pos: e.pos}
				if x := e.val.lookup("id"); x != nil {
					v.IDPos = x.val.pos
					v.ID = d.id(x.val, ep.field("id"), ValidVSwitchID, "vsw-bp1s5fnvk4gn2tws03624")
				}
				if x := e.val.lookup("zone"); x != nil {
					v.ZonePos = x.val.pos
					v.Zone, _ = d.str(x.val, ep.field("zone"))
				}
				if x := e.val.lookup("cidr"); x != nil {
					v.CIDRPos = x.val.pos
					v.CIDR = d.cidr(x.val, ep.field("cidr"))
				}
				if x := e.val.lookup("ipv6Cidr"); x != nil {
					v.IPv6CIDRPos = x.val.pos
					v.IPv6CIDR = d.cidr6(x.val, ep.field("ipv6Cidr"))
				}
				f.VSwitches = append(f.VSwitches, v)
			})
		case "securityGroups":
			d.each(fl.val, p, "securityGroups", func(e field, ep path) {
				d.name(e, ep, "security group")
				if !d.object(e.val, ep, "a security group", groupFields, groupFields) {
					return
				}
				g := &SecurityGroup{Name: e.name, Pos: e.pos}
				if x := e.val.lookup("id"); x != nil {
					g.IDPos = x.val.pos
					g.ID = d.id(x.val, ep.field("id"), ValidSecurityGroupID, "sg-bp67acfmxazb4ph6a9v1")
				}
				f.SecurityGroups = append(f.SecurityGroups, g)
			})
		case "instances":
			d.each(fl.val, p, "instances", func(e field, ep path) {
				if in := d.instance(e, ep); in != nil {
					f.Instances = append(f.Instances, in)
				}
			})
		case "enis":
			d.each(fl.val, p, "enis", func(e field, ep path) {
				if x := d.eni(e, ep); x != nil {
					f.ENIs = append(f.ENIs, x)
				}
			})
		case "limits":
			d.limits(fl.val, p, &f.Limits)
		}
	}
	f.misspelt = d.misspelt
	f.index()
	return f
}

func (d *decoder) each(n *node, p path, what string, fn func(field, path)) {
	if n.kind != kObject {
		d.errorf(n.pos, p, fmt.Sprintf("write %s as a struct keyed by name: %s: { \"name\": { ... } }", what, what), "%s must be a struct keyed by name, got %s", what, n.describe())
		return
	}
	for _, e := range n.fields {
		fn(e, p.field(e.name))
	}
}

func (d *decoder) cidr(n *node, p path) netip.Prefix {
	s, ok := d.str(n, p)
	if !ok {
		return netip.Prefix{}
	}
	pf, err := netip.ParsePrefix(s)
	switch {
	case err != nil || !pf.Addr().Is4():
		d.errorf(n.pos, p, `write the vSwitch's IPv4 block as address/length, e.g. "172.16.0.0/24"`, "%q is not an IPv4 CIDR block", s)
		return netip.Prefix{}
	case pf.Masked() != pf:
		d.errorf(n.pos, p, fmt.Sprintf("write %q", pf.Masked()), "%q has host bits set", s)
		return netip.Prefix{}
	case pf.Bits() < 16 || pf.Bits() > 29:
		d.errorf(n.pos, p, "write the vSwitch's real block: the cloud allows /16 (65,532 addresses) to /29 (4 usable addresses)", "%q: a vSwitch block must be /16 to /29", s)
		return netip.Prefix{}
	}
	return pf
}

func (d *decoder) instance(e field, p path) *Instance {
	d.name(e, p, "instance")
	if !d.object(e.val, p, "an instance", instanceFields, instanceReq) {
		return nil
	}
	in := &Instance{Name: e.name, Pos: e.pos}
	n := e.val
	if x := n.lookup("id"); x != nil {
		in.IDPos = x.val.pos
		in.ID = d.id(x.val, p.field("id"), ValidInstanceID, "i-bp67acfmxazb4ph6a9v1")
	}
	if x := n.lookup("type"); x != nil {
		in.TypePos = x.val.pos
		if s, ok := d.str(x.val, p.field("type")); ok {
			if !reInstanceType.MatchString(s) {
				d.errorf(x.val.pos, p.field("type"), `write the instance type as the API names it, e.g. "ecs.g7.large"`, "%q is not an instance type name", s)
			} else {
				in.Type = s
			}
		}
	}
	if x := n.lookup("os"); x != nil {
		in.OSPos = x.val.pos
		if s, ok := d.str(x.val, p.field("os")); ok {
			if st, known := OS(s).DefaultStack(); known {
				in.OS, in.Network = OS(s), st
			} else {
				d.errorf(x.val.pos, p.field("os"), osHint(s), "unknown os %q", s)
			}
		}
	}
	if x := n.lookup("network"); x != nil {
		if s, ok := d.str(x.val, p.field("network")); ok {
			if !Stack(s).Valid() {
				names := make([]string, 0, len(Stacks()))
				for _, st := range Stacks() {
					names = append(names, string(st))
				}
				hint := "one of: " + strings.Join(names, ", ")
				if sg := suggest(s, names); sg != "" {
					hint = fmt.Sprintf("did you mean %q? (%s)", sg, hint)
				}
				d.errorf(x.val.pos, p.field("network"), hint, "unknown network stack %q", s)
			} else {
				in.Network = Stack(s)
				switch {
				case in.OS != "" && in.OS.Windows() && in.Network != StackWindows:
					d.errorf(x.val.pos, p.field("network"), "Windows hosts are configured with PowerShell: remove network: (or set it to \"windows\")", "network %q does not fit os %q", s, in.OS)
				case in.OS != "" && !in.OS.Windows() && in.Network == StackWindows:
					d.errorf(x.val.pos, p.field("network"), "the windows stack is for Windows OSes only: remove network: to use the OS's own stack", "network %q does not fit os %q", s, in.OS)
				}
			}
		}
	}
	if x := n.lookup("primary"); x != nil {
		pp := p.field("primary")
		in.Primary.Pos = x.pos
		if d.object(x.val, pp, "the primary ENI", primaryFields, primaryReq) {
			pn := x.val
			if y := pn.lookup("vswitch"); y != nil {
				in.Primary.VSwitchPos = y.val.pos
				in.Primary.VSwitch, _ = d.str(y.val, pp.field("vswitch"))
			}
			if y := pn.lookup("ip"); y != nil {
				in.Primary.IPPos = y.val.pos
				in.Primary.IP, _ = d.ipv4(y.val, pp.field("ip"))
			}
			if y := pn.lookup("securityGroups"); y != nil {
				in.Primary.SecurityGroups, in.Primary.GroupPos = d.groupRefs(y.val, pp.field("securityGroups"))
			}
			in.Primary.Secondaries = d.secondaries(pn, pp)
			in.Primary.IPv6 = d.ipv6(pn, pp)
			in.Primary.Prefixes = d.prefixes(pn, pp)
		}
	}
	return in
}

func (d *decoder) eni(e field, p path) *ENI {
	d.name(e, p, "ENI")
	if !d.object(e.val, p, "an ENI", eniFields, eniReq) {
		return nil
	}
	x := &ENI{Name: e.name, Pos: e.pos}
	n := e.val
	if y := n.lookup("id"); y != nil {
		x.IDPos = y.val.pos
		x.ID = d.id(y.val, p.field("id"), ValidENIID, "eni-bp1g5mjbwvh4pyuv3w8c")
	}
	if y := n.lookup("vswitch"); y != nil {
		x.VSwitchPos = y.val.pos
		x.VSwitch, _ = d.str(y.val, p.field("vswitch"))
	}
	if y := n.lookup("securityGroups"); y != nil {
		x.SecurityGroups, x.GroupPos = d.groupRefs(y.val, p.field("securityGroups"))
		switch {
		case y.val.kind == kList && len(y.val.elems) == 0:
			d.errorf(y.val.pos, p.field("securityGroups"), "name at least one group from securityGroups", "an ENI needs at least one security group")
		case len(x.SecurityGroups) > maxGroupsPerENI:
			d.errorf(y.val.pos, p.field("securityGroups"), "the default quota is 5 groups per ENI", "%d security groups on one ENI; at most %d are allowed", len(x.SecurityGroups), maxGroupsPerENI)
		}
	}
	if y := n.lookup("description"); y != nil {
		if s, ok := d.str(y.val, p.field("description")); ok {
			d.description(y.val.pos, p.field("description"), s)
			x.Description = s
		}
	}
	if y := n.lookup("primaryIp"); y != nil {
		x.PrimaryIPPos = y.val.pos
		x.PrimaryIP, _ = d.ipv4(y.val, p.field("primaryIp"))
	}
	if y := n.lookup("attachTo"); y != nil {
		x.AttachToPos = y.val.pos
		if s, ok := d.str(y.val, p.field("attachTo")); ok && s == "" {
			d.errorf(y.val.pos, p.field("attachTo"), "name an instance, or leave attachTo out to keep the ENI unbound", "attachTo is empty")
		} else {
			x.AttachTo = s
		}
	}
	x.Secondaries = d.secondaries(n, p)
	x.IPv6 = d.ipv6(n, p)
	x.Prefixes = d.prefixes(n, p)
	d.cardAndQueues(n, p, x)
	return x
}

// description enforces the API's rules (2-256 characters, not starting
// with http:// or https://) and refuses control characters, which would
// break the comment lines that carry it into host files.
func (d *decoder) description(pos Pos, p path, s string) {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		d.errorf(pos, p, "use UTF-8 text", "description is not valid UTF-8")
	case n < 2 || n > 256:
		d.errorf(pos, p, "write 2 to 256 characters, or leave description out", "description has %s; the API takes 2 to 256", plural.Count(n, "character", "characters"))
	case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
		d.errorf(pos, p, "the API refuses descriptions that start with http:// or https://; reword it", "description starts with a URL scheme")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		d.errorf(pos, p, "keep the description on one line, without tabs or control characters", "description contains a control character")
	}
}

func (d *decoder) limits(n *node, p path, l *Limits) {
	if !d.object(n, p, "limits", limitsFields, nil) {
		return
	}
	if x := n.lookup("unboundEniMaxSecondaryIps"); x != nil {
		if v, ok := d.intv(x.val, p.field("unboundEniMaxSecondaryIps"), 0, maxSecondaryIPs); ok {
			l.UnboundENIMaxSecondaryIPs = v
		}
	}
	if x := n.lookup("securityGroupMaxIps"); x != nil {
		if v, ok := d.intv(x.val, p.field("securityGroupMaxIps"), 1, 65536); ok {
			l.SecurityGroupMaxIPs = v
		}
	}
	if x := n.lookup("instanceTypes"); x != nil {
		d.each(x.val, p.field("instanceTypes"), "instanceTypes", func(e field, ep path) {
			if l.broken == nil {
				l.broken = map[string]bool{}
			}
			l.broken[e.name] = true // until the row decodes
			if !reInstanceType.MatchString(e.name) {
				d.errorf(e.pos, ep, `name the type as the API does, e.g. "ecs.g7.large"`, "%q is not an instance type name", e.name)
				return
			}
			if !d.object(e.val, ep, "an instance type", typeFields, typeReq) {
				return
			}
			t := InstanceType{Name: e.name}
			ok := e.val.lookup("maxEnis") != nil && e.val.lookup("maxIpsPerEni") != nil
			if y := e.val.lookup("maxEnis"); y != nil {
				var ok1 bool
				t.MaxENIs, ok1 = d.intv(y.val, ep.field("maxEnis"), 1, 64)
				ok = ok && ok1
			}
			if y := e.val.lookup("maxIpsPerEni"); y != nil {
				var ok2 bool
				t.MaxIPsPerENI, ok2 = d.intv(y.val, ep.field("maxIpsPerEni"), 1, maxSecondaryIPs+1)
				ok = ok && ok2
			}
			if y := e.val.lookup("attachNeedsStopped"); y != nil {
				t.AttachNeedsStopped, _ = d.boolv(y.val, ep.field("attachNeedsStopped"))
			}
			if !d.typeColumns6(e.val, ep, &t) {
				ok = false
			}
			if ok {
				if l.InstanceTypes == nil {
					l.InstanceTypes = map[string]InstanceType{}
				}
				l.InstanceTypes[e.name] = t
				delete(l.broken, e.name)
				if y := e.val.lookup("maxIpv6PerEni"); y != nil {
					if l.ipv6Pos == nil {
						l.ipv6Pos = map[string]Pos{}
					}
					l.ipv6Pos[e.name] = y.val.pos
				}
			}
		})
	}
}

// suggest returns the candidate closest to s, if it is close enough to be
// a likely typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := levenshtein.Distance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(s)/3) {
		return best
	}
	// A prefix of a longer name ("ubuntu22" for "ubuntu22.04") is a likely
	// abbreviation, and a name inside a longer one ("networkd" in
	// "systemd-networkd") a likely decoration.
	if len(s) >= 4 {
		ls := strings.ToLower(s)
		for _, c := range candidates {
			lc := strings.ToLower(c)
			if strings.HasPrefix(lc, ls) || len(lc) >= 4 && strings.Contains(ls, lc) {
				return c
			}
		}
	}
	return ""
}
