package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ImportedFleet is a desired state as ecsnet import --all writes it: the
// entries, already named and sorted, and what a reviewer must be told.
// WriteCUE turns it into a CUE file; plan decides its contents.
type ImportedFleet struct {
	Fleet, Region  string
	VPCs           []string // what was read, for the header
	VSwitches      []ImportedVSwitch
	SecurityGroups []string // IDs, which are their names too
	Instances      []ImportedInstance
	ENIs           []ImportedENI
	Limits         ImportedLimits
	LeftOut        []string // what was not imported, and why
}

// ImportedVSwitch is one vswitches: entry, named by its ID.
type ImportedVSwitch struct {
	ID, Zone string
	CIDR     netip.Prefix
	IPv6CIDR netip.Prefix // the zero Prefix: none
}

// ImportedInstance is one instances: entry.
type ImportedInstance struct {
	Name, ID, Type string
	OS             OS
	OSGuessed      bool   // OS is a guess: say so in a check: comment
	OSType         string // the cloud's OSType, for that comment
	Primary        ImportedPrimary
}

// ImportedPrimary is an instance's primary: entry.
type ImportedPrimary struct {
	VSwitch        string
	IP             netip.Addr
	SecurityGroups []string
	SecondaryIPs   []netip.Addr
	IPv6           []netip.Addr
	Prefixes       []netip.Prefix
}

// ImportedENI is one enis: entry.
type ImportedENI struct {
	Name, ID, VSwitch string
	SecurityGroups    []string
	// Description is the cloud's; WriteCUE leaves it out, with a comment
	// saying why, when the desired state would not accept it.
	Description  string
	Check        string // a "check: …" note for the reviewer, or ""
	PrimaryIP    netip.Addr
	SecondaryIPs []netip.Addr
	IPv6         []netip.Addr
	Prefixes     []netip.Prefix
	AttachTo     string
	NetworkCard  int // written when not 0
}

// ImportedLimits are the limits: entries where the cloud differs from
// ecsnet's defaults and table; zero values are left out.
type ImportedLimits struct {
	UnboundENIMaxSecondaryIPs int
	SecurityGroupMaxIPs       int
	InstanceTypes             []ImportedType
}

// ImportedType is one limits: instanceTypes: entry, the cloud's figures.
type ImportedType struct {
	Name                  string
	MaxENIs, MaxIPsPerENI int
	AttachNeedsStopped    bool
	// Written when not 0 (networkCards: when above 1).
	MaxIPv6PerENI, NetworkCards, MaxQueuesPerENI int
}

// WriteCUE writes f as a CUE file. The output depends only on f, so the
// same cloud gives the same bytes.
func (f *ImportedFleet) WriteCUE(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Written by ecsnet import --all from what %s holds in %s.\n", f.Region, strings.Join(f.VPCs, ", "))
	b.WriteString(`// ENIs are adopted by ID and nothing was tagged. Names come from the cloud's
// names (made DNS-safe and unique) or from IDs: rename them freely, keeping
// references in step. Review every "check:" comment, then run
// ecsnet validate and ecsnet plan, which shows no changes.
`)
	fmt.Fprintf(&b, "fleet:  %s\nregion: %s\n", cueString(f.Fleet), cueString(f.Region))

	b.WriteString("\nvswitches: {\n")
	for _, v := range f.VSwitches {
		v6 := ""
		if v.IPv6CIDR.IsValid() {
			v6 = ", ipv6Cidr: " + cueString(v.IPv6CIDR.String())
		}
		fmt.Fprintf(&b, "\t%s: {id: %s, zone: %s, cidr: %s%s}\n", cueString(v.ID), cueString(v.ID), cueString(v.Zone), cueString(v.CIDR.String()), v6)
	}
	b.WriteString("}\n")

	b.WriteString("\nsecurityGroups: {\n")
	for _, g := range f.SecurityGroups {
		fmt.Fprintf(&b, "\t%s: {id: %s}\n", cueString(g), cueString(g))
	}
	b.WriteString("}\n")

	b.WriteString("\ninstances: {\n")
	for _, in := range f.Instances {
		fmt.Fprintf(&b, "\t%s: {\n", cueString(in.Name))
		fmt.Fprintf(&b, "\t\tid:   %s\n", cueString(in.ID))
		fmt.Fprintf(&b, "\t\ttype: %s\n", cueString(in.Type))
		if !in.OSGuessed {
			fmt.Fprintf(&b, "\t\tos:   %s\n", cueString(string(in.OS)))
		} else {
			osType := in.OSType
			if osType == "" {
				osType = "unknown"
			}
			fmt.Fprintf(&b, "\t\tos:   %s // check: a guess (the cloud says OS type %s); ecsnet help os lists the choices\n", cueString(string(in.OS)), commentSafe(osType))
		}
		p := in.Primary
		fmt.Fprintf(&b, "\t\tprimary: {vswitch: %s, ip: %s", cueString(p.VSwitch), cueString(p.IP.String()))
		if len(p.SecurityGroups) > 0 {
			fmt.Fprintf(&b, ", securityGroups: %s", cueList(p.SecurityGroups))
		}
		if len(p.SecondaryIPs) > 0 {
			fmt.Fprintf(&b, ", secondaryIps: %s", cueAddrs(p.SecondaryIPs))
		}
		if len(p.IPv6) > 0 {
			fmt.Fprintf(&b, ", ipv6Ips: %s", cueAddrs(p.IPv6))
		}
		if len(p.Prefixes) > 0 {
			fmt.Fprintf(&b, ", ipv4Prefixes: %s", cuePrefixes(p.Prefixes))
		}
		b.WriteString("}\n\t}\n")
	}
	b.WriteString("}\n")

	b.WriteString("\nenis: {\n")
	for _, x := range f.ENIs {
		b.WriteString("\t")
		x.write(&b, "\t")
	}
	b.WriteString("}\n")

	var limits []string
	if n := f.Limits.UnboundENIMaxSecondaryIPs; n > 0 {
		limits = append(limits, fmt.Sprintf("\tunboundEniMaxSecondaryIps: %d", n))
	}
	if n := f.Limits.SecurityGroupMaxIPs; n > 0 {
		limits = append(limits, fmt.Sprintf("\tsecurityGroupMaxIps: %d", n))
	}
	var rows []string
	for _, t := range f.Limits.InstanceTypes {
		row := fmt.Sprintf("\t\t%s: {maxEnis: %d, maxIpsPerEni: %d", cueString(t.Name), t.MaxENIs, t.MaxIPsPerENI)
		if t.AttachNeedsStopped {
			row += ", attachNeedsStopped: true"
		}
		if t.MaxIPv6PerENI > 0 {
			row += fmt.Sprintf(", maxIpv6PerEni: %d", t.MaxIPv6PerENI)
		}
		if t.NetworkCards > 1 {
			row += fmt.Sprintf(", networkCards: %d", t.NetworkCards)
		}
		if t.MaxQueuesPerENI > 0 {
			row += fmt.Sprintf(", maxQueuesPerEni: %d", t.MaxQueuesPerENI)
		}
		rows = append(rows, row+"} // the cloud's figures (DescribeInstanceTypes)")
	}
	if len(rows) > 0 {
		limits = append(limits, "\tinstanceTypes: {\n"+strings.Join(rows, "\n")+"\n\t}")
	}
	if len(limits) > 0 {
		b.WriteString("\nlimits: {\n" + strings.Join(limits, "\n") + "\n}\n")
	}
	if len(f.LeftOut) > 0 {
		b.WriteString("\n// Left out:\n")
		for _, s := range f.LeftOut {
			fmt.Fprintf(&b, "//   - %s\n", commentSafe(s))
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// FormatCUE returns x as an enis: entry that is a CUE file of its own, or
// an addition to one.
func (x ImportedENI) FormatCUE() string {
	var b bytes.Buffer
	b.WriteString("enis: ")
	x.write(&b, "")
	return b.String()
}

// write writes the entry, its lines indented by indent.
func (x ImportedENI) write(b *bytes.Buffer, indent string) {
	desc, comment := cueDescription(x.Description)
	if x.Check != "" {
		comment = strings.TrimPrefix(comment+"; ", "; ") + x.Check
	}
	fmt.Fprintf(b, "%s: {\n", cueString(x.Name))
	in := indent + "\t"
	fmt.Fprintf(b, "%sid:             %s\n", in, cueString(x.ID))
	fmt.Fprintf(b, "%svswitch:        %s\n", in, cueString(x.VSwitch))
	fmt.Fprintf(b, "%ssecurityGroups: %s\n", in, cueList(x.SecurityGroups))
	if desc != "" {
		fmt.Fprintf(b, "%sdescription:    %s\n", in, cueString(desc))
	}
	if comment != "" {
		fmt.Fprintf(b, "%s// %s\n", in, comment)
	}
	fmt.Fprintf(b, "%sprimaryIp:      %s\n", in, cueString(x.PrimaryIP.String()))
	if len(x.SecondaryIPs) > 0 {
		fmt.Fprintf(b, "%ssecondaryIps: %s\n", in, cueAddrs(x.SecondaryIPs))
	}
	if len(x.IPv6) > 0 {
		fmt.Fprintf(b, "%sipv6Ips: %s\n", in, cueAddrs(x.IPv6))
	}
	if len(x.Prefixes) > 0 {
		fmt.Fprintf(b, "%sipv4Prefixes: %s\n", in, cuePrefixes(x.Prefixes))
	}
	if x.AttachTo != "" {
		fmt.Fprintf(b, "%sattachTo:       %s\n", in, cueString(x.AttachTo))
	}
	if x.NetworkCard != 0 {
		fmt.Fprintf(b, "%snetworkCard:    %d\n", in, x.NetworkCard)
	}
	fmt.Fprintf(b, "%s}\n", indent)
}

// cueDescription returns the cloud's description if the desired state
// accepts it (the rules of the decoder), or a comment saying why it is
// left out. Left out, the plan keeps the cloud's description as it is.
func cueDescription(s string) (desc, comment string) {
	n := utf8.RuneCountInString(s)
	switch {
	case s == "":
		return "", ""
	case !utf8.ValidString(s), strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", "description left out: the cloud's is not one line of UTF-8 text"
	case n < 2 || n > 256:
		return "", "description left out: the cloud's is not 2 to 256 characters long"
	case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
		return "", "description left out: the cloud's starts with a URL scheme"
	}
	return s, ""
}

// cueString quotes s as a CUE string: JSON's escapes are CUE's, and a
// backslash is escaped, so "\(" never starts an interpolation.
func cueString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a string always encodes
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func cueList(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = cueString(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func cueAddrs(as []netip.Addr) string {
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return cueList(ss)
}

func cuePrefixes(ps []netip.Prefix) string {
	ss := make([]string, len(ps))
	for i, p := range ps {
		ss[i] = p.String()
	}
	return cueList(ss)
}

// commentSafe keeps a cloud-supplied string on one comment line.
func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
