package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// importHelp is the flow `ecsnet help import` documents.
const importHelp = `Adopt one ENI into an existing desired state:

  ecsnet import eni-bp1xxxxxxxx --as pod-pool fleet/ > fleet/pod-pool.cue

The ENI must be in the fleet's VPCs, must not be a primary ENI, and must not
carry another fleet's tags; the file must name its vSwitch, its security
groups and, when it is attached, its instance (import says what to add when
it does not). Import then tags the ENI with ecsnet's fleet and ENI tags,
records it in the lock with every address it holds now, and prints its
enis: entry. Append the entry to the file or keep it as a file of its own
in the directory, as above; ecsnet plan then shows no changes. Until it
is added, plan lists the ENI as adopted and left alone: ecsnet never
modifies or deletes an ENI it adopted. The lock is what records the
adoption, so commit it with the entry.

Start using ecsnet on a fleet that already exists:

  ecsnet import --all --region cn-hangzhou --vpc vpc-bp1xxxxxxxx --fleet shop > fleet/fleet.cue
  ecsnet validate fleet/
  ecsnet plan fleet/      # no changes
  ecsnet apply fleet/     # nothing to do; writes the lock

import --all writes a desired state for what the VPCs hold: their
vSwitches, the security groups in use, every instance with the secondary
addresses of its primary ENI pinned, and every secondary ENI, by ID, with
its addresses and attachment. It changes nothing in the cloud and tags
nothing: the file names each ENI by ID. Names come from the cloud's names,
made DNS-safe and unique, or else from IDs; rename them as you like. Review
every "check:" comment (an operating system import could not tell), then
plan: it shows no changes. From then on, edit the file and apply. --vpc is
required (repeat it for more VPCs): ecsnet has no call that lists a
region's VPCs.
`

type importArgs struct {
	cloud cloudArgs
	as    string
	all   bool
	vpcs  []string
	fleet string
}

func importFlags(a *importArgs) *pflag.FlagSet {
	fs := newFlagSet("import")
	addCloudFlags(fs, &a.cloud, false)
	fs.StringVar(&a.as, "as", "", "the name the adopted ENI takes in the desired state (a DNS label)")
	fs.BoolVar(&a.all, "all", false, "write a desired state for what the VPCs already hold, on stdout (needs --region and --vpc)")
	fs.StringSliceVar(&a.vpcs, "vpc", nil, "with --all: a VPC to import (repeat for more)")
	fs.StringVar(&a.fleet, "fleet", "imported", "with --all: the fleet name of the written desired state")
	return fs
}

var (
	reENIID   = regexp.MustCompile(`^eni-[a-z0-9]{4,40}$`)
	reVPCID   = regexp.MustCompile(`^vpc-[a-z0-9]{4,40}$`)
	reDNSName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,61}[a-z0-9]$`)
)

// checkImportArgs checks the combination of flags and arguments.
func checkImportArgs(a *importArgs, fs *pflag.FlagSet) error {
	args := fs.Args()
	if a.all {
		switch {
		case a.as != "":
			return errors.New("--as adopts one ENI; --all imports everything: use one of them")
		case len(args) > 0:
			return fmt.Errorf("--all reads no desired state and takes no arguments (got %q); it writes the desired state on stdout", args[0])
		case a.cloud.region == "":
			return errors.New("--all needs --region")
		case len(a.vpcs) == 0:
			return errors.New("--all needs --vpc VPC_ID: ecsnet has no call that lists a region's VPCs")
		case a.cloud.lockPath != "":
			return errors.New("--all writes no lock (the first apply does); drop --lock")
		case !schema.ValidFleetName(a.fleet):
			return fmt.Errorf("--fleet %q is not a fleet name: 1 to 63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit, without \"..\" or a '.' at the end", a.fleet)
		}
		for _, v := range a.vpcs {
			if !reVPCID.MatchString(v) {
				return fmt.Errorf("--vpc %q is not a VPC ID (vpc-…)", v)
			}
		}
		return nil
	}
	switch {
	case len(args) == 0:
		return errors.New("name the ENI to adopt and the desired state: import ENI_ID --as NAME PATH..., or import --all")
	case !reENIID.MatchString(args[0]):
		return fmt.Errorf("%q is not an ENI ID (eni-…)", args[0])
	case a.as == "":
		return errors.New("--as NAME is required: the name the ENI takes in the desired state")
	case !reDNSName.MatchString(a.as):
		return fmt.Errorf("--as %q is not a DNS label: use 2 to 63 lower-case ASCII letters, digits and '-', starting with a letter and not ending with '-'", a.as)
	case len(args) == 1:
		return errors.New("name the desired-state files or directory after the ENI ID")
	case len(a.vpcs) > 0 || fs.Changed("fleet"):
		return errors.New("--vpc and --fleet go with --all; an adopted ENI joins the fleet of the desired state")
	}
	return nil
}

func runImport(ctx context.Context, args []string, e env) int {
	var a importArgs
	fs := importFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if err := checkImportArgs(&a, fs); err != nil {
		return flagError(fs, err, e)
	}
	var err error
	if a.all {
		err = importAll(ctx, e, &a)
	} else {
		err = importENI(ctx, e, &a, fs.Arg(0), fs.Args()[1:])
	}
	if err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintf(e.stderr, "ecsnet import: %v\n", err)
		}
		return exitError
	}
	return exitOK
}

// errReported is an error already printed where it was found.
var errReported = errors.New("reported")

// importENI adopts one ENI into the desired state at paths.
func importENI(ctx context.Context, e env, a *importArgs, id string, paths []string) error {
	f, _ := loadFleetContext(ctx, e, formatText, paths, loadOptions(e, a.cloud.maxInput, a.cloud.eval))
	if f == nil {
		return errReported
	}
	if x := f.ENI(a.as); x != nil {
		return fmt.Errorf("the desired state already has an ENI called %q (%s); choose another --as", a.as, x.Pos)
	}
	for _, x := range f.ENIs {
		if x.ID == id {
			return fmt.Errorf("ENI %s is adopted already, as %q (%s)", id, x.Name, x.Pos)
		}
	}
	lockPath := a.cloud.lockFile(paths)
	lock, err := schema.ReadLockFile(lockPath)
	if err != nil {
		return err
	}
	client, err := newClient(&a.cloud, f, e)
	if err != nil {
		return err
	}
	defer client.Close()
	obs, err := client.Observe(ctx, f)
	if err != nil {
		return fmt.Errorf("observe: %w", err)
	}
	ad, err := adopt(f, obs, id, a.as)
	if err != nil {
		return err
	}
	if !ad.tagged {
		if err := client.TagResources(ctx, []string{id}, map[string]string{plan.TagFleet: f.Name, plan.TagENI: a.as}); err != nil {
			return fmt.Errorf("tag %s: %w", id, err)
		}
	}
	if old := lock.Secondary(a.as); old != nil {
		// A name used before keeps its generation, so no ClientToken of
		// the old ENI is ever sent for this one. It saturates, as apply's
		// does: ReadLock refuses a generation above schema.MaxGeneration.
		ad.locked.Generation = min(old.Generation+1, schema.MaxGeneration)
	}
	lock.Fleet = f.Name
	lock.Put(ad.locked)
	if err := schema.WriteLockFile(lockPath, lock); err != nil {
		return err
	}
	fmt.Fprint(e.stdout, ad.snippet)
	fmt.Fprintf(e.stderr, "ecsnet import: %s is now %q of fleet %s: tagged, and recorded in %s with its %s.\n"+
		"Add the entry above to the desired state (append it, or keep it as a file of its own beside the others); "+
		"ecsnet plan then shows no changes. Until it is added, ecsnet leaves the ENI alone: it never modifies or deletes an adopted ENI. "+
		"Commit the lock with the entry: it is what records the adoption.\n",
		id, a.as, f.Name, lockPath, plural(len(ad.locked.Secondary), "secondary address", "secondary addresses"))
	for _, w := range ad.warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	return nil
}

// adoption is what adopt decides: the lock entry, the desired-state
// snippet, and whether the ENI carries ecsnet's tags already (a repeated
// import).
type adoption struct {
	locked   *schema.LockedENI
	snippet  string
	tagged   bool
	warnings []string
}

// adopt checks that the ENI id of the observed cloud may join fleet f as
// name, and returns what adopting it means. It is pure: no I/O.
func adopt(f *schema.Fleet, obs *plan.Observed, id, name string) (*adoption, error) {
	o := obs.ENI(id)
	if o == nil {
		var vpcs []string
		for _, v := range obs.VSwitches {
			vpcs = append(vpcs, v.VPC)
		}
		slices.Sort(vpcs)
		return nil, fmt.Errorf("ENI %s was not found in the fleet's VPCs (%s) in %s; check the ID and the region",
			id, strings.Join(slices.Compact(vpcs), ", "), f.Region)
	}
	switch {
	case o.Type == plan.ENIPrimary:
		return nil, fmt.Errorf("ENI %s is the primary ENI of instance %s: ecsnet manages a primary ENI through its instance; add the instance to instances: instead (ecsnet import --all writes its entry)", id, o.InstanceID)
	case o.Tags[plan.TagFleet] != "" && o.Tags[plan.TagFleet] != f.Name:
		return nil, fmt.Errorf("ENI %s carries the tags of fleet %q (as %q): it belongs to that fleet's desired state", id, o.Tags[plan.TagFleet], o.Tags[plan.TagENI])
	case o.Tags[plan.TagFleet] == f.Name && o.Tags[plan.TagENI] != "" && o.Tags[plan.TagENI] != name:
		return nil, fmt.Errorf("ENI %s carries this fleet's tags already, as %q; import it under that name", id, o.Tags[plan.TagENI])
	case o.Status != plan.ENIAvailable && o.Status != plan.ENIInUse:
		return nil, fmt.Errorf("ENI %s is %s; import it once it is Available or InUse", id, o.Status)
	}
	for _, x := range obs.ENIs {
		if x.ID != id && x.Tags[plan.TagFleet] == f.Name && x.Tags[plan.TagENI] == name && x.Status != plan.ENIDeleting {
			return nil, fmt.Errorf("ENI %s already carries the tags of %q in fleet %s; choose another --as", x.ID, name, f.Name)
		}
	}

	// Everything the entry refers to must be in the file under a name.
	var missing []string
	vswName := ""
	for _, v := range f.VSwitches {
		if v.ID == o.VSwitch {
			vswName = v.Name
		}
	}
	if vswName == "" {
		entry := fmt.Sprintf("%q: {id: %q}", o.VSwitch, o.VSwitch)
		if v := obs.VSwitch(o.VSwitch); v != nil {
			entry = fmt.Sprintf("%q: {id: %q, zone: %q, cidr: %q}", v.ID, v.ID, v.Zone, v.CIDR.String())
		}
		missing = append(missing, fmt.Sprintf("its vSwitch %s: add to vswitches:\n        %s", o.VSwitch, entry))
	}
	var groups []string
	for _, sg := range o.SecurityGroups {
		n := ""
		for _, g := range f.SecurityGroups {
			if g.ID == sg {
				n = g.Name
			}
		}
		if n == "" {
			missing = append(missing, fmt.Sprintf("its security group %s: add to securityGroups:\n        %q: {id: %q}", sg, sg, sg))
		}
		groups = append(groups, n)
	}
	attachTo := ""
	if o.InstanceID != "" {
		for _, in := range f.Instances {
			if in.ID == o.InstanceID {
				attachTo = in.Name
			}
		}
		if attachTo == "" {
			missing = append(missing, fmt.Sprintf("the instance it is attached to, %s: add it to instances (ecsnet import --all writes its entry); without attachTo the plan would detach the ENI", o.InstanceID))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("cannot adopt %s: the desired state does not name\n  - %s\nthen run ecsnet import again", id, strings.Join(missing, "\n  - "))
	}
	slices.Sort(groups)

	ad := &adoption{tagged: o.Tags[plan.TagFleet] == f.Name && o.Tags[plan.TagENI] == name}
	ad.locked = &schema.LockedENI{Name: name, ID: o.ID, MAC: strings.ToLower(o.MAC), PrimaryIP: o.PrimaryIP, Adopted: true}
	if o.InstanceID != "" {
		ad.locked.AttachedTo, ad.locked.DeviceIndex = attachTo, o.DeviceIndex
	}
	for _, a := range o.SecondaryIPs {
		ad.locked.Secondary = append(ad.locked.Secondary, schema.LockedAddr{Addr: a})
	}
	x := importedENI{name: name, id: o.ID, vswitch: vswName, groups: groups, primaryIP: o.PrimaryIP, secondary: o.SecondaryIPs, attachTo: attachTo}
	x.description, x.comment = cueDescription(o.Description)
	if attachTo == "" && len(o.SecondaryIPs) > f.Limits.UnboundENIMaxSecondaryIPs {
		ad.warnings = append(ad.warnings, fmt.Sprintf("the ENI is unbound and holds %d secondary addresses; the file allows %d: add limits: unboundEniMaxSecondaryIps: %d",
			len(o.SecondaryIPs), f.Limits.UnboundENIMaxSecondaryIPs, len(o.SecondaryIPs)))
	}
	var b bytes.Buffer
	b.WriteString("enis: ")
	x.write(&b, "")
	ad.snippet = b.String()
	return ad, nil
}

// importedENI is one enis: entry import writes.
type importedENI struct {
	name, id, vswitch string
	groups            []string
	description       string // "" to leave out
	comment           string // why the description was left out
	primaryIP         netip.Addr
	secondary         []netip.Addr
	attachTo          string
}

// write writes the entry, its lines indented by indent.
func (x importedENI) write(w io.Writer, indent string) {
	fmt.Fprintf(w, "%s: {\n", cueString(x.name))
	in := indent + "\t"
	fmt.Fprintf(w, "%sid:             %s\n", in, cueString(x.id))
	fmt.Fprintf(w, "%svswitch:        %s\n", in, cueString(x.vswitch))
	fmt.Fprintf(w, "%ssecurityGroups: %s\n", in, cueList(x.groups))
	if x.description != "" {
		fmt.Fprintf(w, "%sdescription:    %s\n", in, cueString(x.description))
	}
	if x.comment != "" {
		fmt.Fprintf(w, "%s// %s\n", in, x.comment)
	}
	fmt.Fprintf(w, "%sprimaryIp:      %s\n", in, cueString(x.primaryIP.String()))
	if len(x.secondary) > 0 {
		fmt.Fprintf(w, "%ssecondaryIps: %s\n", in, cueAddrs(x.secondary))
	}
	if x.attachTo != "" {
		fmt.Fprintf(w, "%sattachTo:       %s\n", in, cueString(x.attachTo))
	}
	fmt.Fprintf(w, "%s}\n", indent)
}

// cueDescription returns the cloud's description if the desired state
// accepts it (the rules of schema's decoder), or a comment saying why it
// is left out. Left out, the plan keeps the cloud's description as it is.
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

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// region is what import --all reads of the cloud.
type region struct {
	name      string
	vswitches []*plan.ObservedVSwitch
	enis      []*plan.ObservedENI
	instances []*plan.ObservedInstance
	types     []plan.TypeQuota
}

// importAll writes a desired state for what the VPCs hold, checks that it
// validates and that its plan is empty, and prints it.
func importAll(ctx context.Context, e env, a *importArgs) error {
	client, err := newClient(&a.cloud, &schema.Fleet{Region: a.cloud.region}, e)
	if err != nil {
		return err
	}
	defer client.Close()
	r, err := readRegion(ctx, client, a.cloud.region, a.vpcs)
	if err != nil {
		return err
	}
	src := writeImported(r, a.fleet, a.vpcs)
	fmt.Fprint(e.stdout, src)

	// Self-check: what a user does next must work.
	f, err := schema.Load([]string{"-"}, schema.LoadOptions{Stdin: strings.NewReader(src)})
	if err != nil {
		if es, ok := asErrors(err); ok {
			printErrorsText(e.stderr, es)
		}
		return fmt.Errorf("the written desired state does not validate; this is a bug in ecsnet import, please report it with the errors above")
	}
	obs, err := client.Observe(ctx, f)
	if err != nil {
		return fmt.Errorf("observe, to check the written desired state: %w", err)
	}
	p, err := plan.Compute(f, obs, nil, plan.Options{})
	if err != nil {
		if es, ok := asErrors(err); ok {
			printErrorsText(e.stderr, es)
		}
		return fmt.Errorf("the written desired state does not plan: %v", err)
	}
	if !p.Empty() {
		plan.WriteText(e.stderr, p, plan.TextOptions{})
		return fmt.Errorf("the plan of the written desired state is not empty (above): the cloud changed while it was read, or this is a bug in ecsnet import")
	}
	fmt.Fprintf(e.stderr, "ecsnet import: wrote fleet %q: %s, %s and %s; it validates and its plan shows no changes. Review the check: comments.\n",
		a.fleet, plural(len(f.VSwitches), "vSwitch", "vSwitches"), plural(len(f.Instances), "instance", "instances"),
		plural(len(f.ENIs), "secondary ENI", "secondary ENIs"))
	return nil
}

// readRegion lists the vSwitches and ENIs of the VPCs, the instances whose
// primary ENI is in them, and the quotas of their types.
func readRegion(ctx context.Context, c *ecs.Client, name string, vpcs []string) (*region, error) {
	r := &region{name: name}
	for _, vpc := range vpcs {
		vs, err := c.DescribeVSwitches(ctx, ecs.VSwitchQuery{VPCID: vpc})
		if err != nil {
			return nil, fmt.Errorf("list the vSwitches of %s: %w", vpc, err)
		}
		if len(vs) == 0 {
			return nil, fmt.Errorf("VPC %s has no vSwitch in %s (check the ID and --region)", vpc, name)
		}
		r.vswitches = append(r.vswitches, vs...)
		es, err := c.DescribeNetworkInterfaces(ctx, ecs.ENIQuery{VPCID: vpc})
		if err != nil {
			return nil, fmt.Errorf("list the ENIs of %s: %w", vpc, err)
		}
		r.enis = append(r.enis, es...)
	}
	var ids []string
	for _, x := range r.enis {
		if x.Type == plan.ENIPrimary && x.InstanceID != "" {
			ids = append(ids, x.InstanceID)
		}
	}
	var err error
	if r.instances, err = c.DescribeInstances(ctx, ids); err != nil {
		return nil, fmt.Errorf("describe the instances: %w", err)
	}
	var types []string
	for _, in := range r.instances {
		types = append(types, in.Type)
	}
	if r.types, err = c.DescribeInstanceTypes(ctx, types); err != nil {
		return nil, fmt.Errorf("describe the instance types: %w", err)
	}
	slices.SortFunc(r.vswitches, func(a, b *plan.ObservedVSwitch) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(r.enis, func(a, b *plan.ObservedENI) int { return strings.Compare(a.ID, b.ID) })
	return r, nil
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
	if !reDNSName.MatchString(n) {
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

// writeImported renders the desired state of a region: deterministic,
// since every list is sorted by ID and names are handed out in that order.
func writeImported(r *region, fleet string, vpcs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// Written by ecsnet import --all from what %s holds in %s.\n", r.name, strings.Join(vpcs, ", "))
	b.WriteString(`// ENIs are adopted by ID and nothing was tagged. Names come from the cloud's
// names (made DNS-safe and unique) or from IDs: rename them freely, keeping
// references in step. Review every "check:" comment, then run
// ecsnet validate and ecsnet plan, which shows no changes.
`)
	fmt.Fprintf(&b, "fleet:  %s\nregion: %s\n", cueString(fleet), cueString(r.name))

	vsw := map[string]string{} // ID -> name; IDs are DNS labels already
	b.WriteString("\nvswitches: {\n")
	for _, v := range r.vswitches {
		vsw[v.ID] = v.ID
		fmt.Fprintf(&b, "\t%s: {id: %s, zone: %s, cidr: %s}\n", cueString(v.ID), cueString(v.ID), cueString(v.Zone), cueString(v.CIDR.String()))
	}
	b.WriteString("}\n")

	// Security groups in use, by ID; a group's addresses count towards
	// its quota.
	groupAddrs := map[string]int{}
	primaries := map[string]*plan.ObservedENI{}
	for _, x := range r.enis {
		if x.Type == plan.ENIPrimary {
			primaries[x.InstanceID] = x
		}
	}
	var skipped []string
	var secondaries []*plan.ObservedENI
	for _, x := range r.enis {
		switch {
		case x.Type == plan.ENIPrimary:
			continue
		case x.Type != plan.ENISecondary:
			skipped = append(skipped, fmt.Sprintf("%s is a %s ENI, which ecsnet does not manage", x.ID, x.Type))
		case x.Tags[plan.TagFleet] != "" && x.Tags[plan.TagFleet] != fleet:
			skipped = append(skipped, fmt.Sprintf("%s carries the tags of fleet %q", x.ID, x.Tags[plan.TagFleet]))
		case x.Status == plan.ENIDeleting || x.Status == plan.ENICreateFailed:
			skipped = append(skipped, fmt.Sprintf("%s is %s", x.ID, x.Status))
		default:
			secondaries = append(secondaries, x)
		}
	}
	groupsOf := func(ids []string) []string {
		out := slices.Clone(ids)
		slices.Sort(out)
		return out
	}
	for _, in := range r.instances {
		if p := primaries[in.ID]; p != nil {
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
	var groups []string
	for g := range groupAddrs {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	b.WriteString("\nsecurityGroups: {\n")
	for _, g := range groups {
		fmt.Fprintf(&b, "\t%s: {id: %s}\n", cueString(g), cueString(g))
	}
	b.WriteString("}\n")

	// Instances, named from InstanceName.
	names := namer{}
	instName := map[string]string{}
	b.WriteString("\ninstances: {\n")
	for _, in := range r.instances {
		p := primaries[in.ID]
		if p == nil {
			skipped = append(skipped, fmt.Sprintf("instance %s: its primary ENI was not listed", in.ID))
			continue
		}
		n := names.name(in.Name, in.ID)
		instName[in.ID] = n
		os, sure := schema.OSFromImage(in.OSName, in.OSType)
		fmt.Fprintf(&b, "\t%s: {\n", cueString(n))
		fmt.Fprintf(&b, "\t\tid:   %s\n", cueString(in.ID))
		fmt.Fprintf(&b, "\t\ttype: %s\n", cueString(in.Type))
		if sure {
			fmt.Fprintf(&b, "\t\tos:   %s\n", cueString(string(os)))
		} else {
			fmt.Fprintf(&b, "\t\tos:   %s // check: a guess (the cloud says OS type %s); ecsnet help os lists the choices\n", cueString(string(os)), commentSafe(cmpOr(in.OSType, "unknown")))
		}
		fmt.Fprintf(&b, "\t\tprimary: {vswitch: %s, ip: %s", cueString(vsw[p.VSwitch]), cueString(in.PrimaryIP.String()))
		if len(p.SecurityGroups) > 0 {
			fmt.Fprintf(&b, ", securityGroups: %s", cueList(groupsOf(p.SecurityGroups)))
		}
		if len(in.SecondaryIPs) > 0 {
			fmt.Fprintf(&b, ", secondaryIps: %s", cueAddrs(in.SecondaryIPs))
		}
		b.WriteString("}\n\t}\n")
	}
	b.WriteString("}\n")

	// Secondary ENIs, by ID, named from their ecsnet tag, their name or
	// their ID.
	unbound := 0
	enames := namer{}
	b.WriteString("\nenis: {\n")
	for _, x := range secondaries {
		want := x.Name
		if x.Tags[plan.TagFleet] == fleet && x.Tags[plan.TagENI] != "" {
			want = x.Tags[plan.TagENI]
		}
		ie := importedENI{name: enames.name(want, x.ID), id: x.ID, vswitch: vsw[x.VSwitch], groups: groupsOf(x.SecurityGroups),
			primaryIP: x.PrimaryIP, secondary: x.SecondaryIPs, attachTo: instName[x.InstanceID]}
		ie.description, ie.comment = cueDescription(x.Description)
		if x.InstanceID != "" && ie.attachTo == "" {
			ie.comment = strings.TrimPrefix(ie.comment+"; ", "; ") + "check: attached to " + x.InstanceID + ", which is not in these VPCs"
		}
		if ie.attachTo == "" {
			unbound = max(unbound, len(x.SecondaryIPs))
		}
		b.WriteString("\t")
		ie.write(&b, "\t")
	}
	b.WriteString("}\n")

	// Limits where the cloud differs from ecsnet's defaults and table.
	var limits []string
	if unbound > schema.DefaultUnboundENIMaxSecondaryIPs {
		limits = append(limits, fmt.Sprintf("\tunboundEniMaxSecondaryIps: %d", min(unbound, 49)))
	}
	maxGroup := 0
	for _, n := range groupAddrs {
		maxGroup = max(maxGroup, n)
	}
	if maxGroup > schema.DefaultSecurityGroupMaxIPs {
		limits = append(limits, fmt.Sprintf("\tsecurityGroupMaxIps: %d", min(maxGroup, 65536)))
	}
	var rows []string
	for _, t := range r.types {
		bt, ok := schema.BuiltinInstanceType(t.Name)
		if ok && bt.MaxENIs == t.MaxENIs && bt.MaxIPsPerENI == t.MaxIPsPerENI {
			continue
		}
		row := fmt.Sprintf("\t\t%s: {maxEnis: %d, maxIpsPerEni: %d", cueString(t.Name), t.MaxENIs, t.MaxIPsPerENI)
		if bt.AttachNeedsStopped {
			row += ", attachNeedsStopped: true"
		}
		rows = append(rows, row+"} // the cloud's figures (DescribeInstanceTypes)")
	}
	if len(rows) > 0 {
		limits = append(limits, "\tinstanceTypes: {\n"+strings.Join(rows, "\n")+"\n\t}")
	}
	if len(limits) > 0 {
		b.WriteString("\nlimits: {\n" + strings.Join(limits, "\n") + "\n}\n")
	}
	if len(skipped) > 0 {
		b.WriteString("\n// Left out:\n")
		for _, s := range skipped {
			fmt.Fprintf(&b, "//   - %s\n", commentSafe(s))
		}
	}
	return b.String()
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

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
