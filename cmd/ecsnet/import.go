package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/internal/plural"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// importHelp is the flow `ecsnet help import` documents.
//
//go:embed doc/import.txt
var importHelp string

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
			if !schema.ValidVPCID(v) {
				return fmt.Errorf("--vpc %q is not a VPC ID (vpc-…)", v)
			}
		}
		return nil
	}
	switch {
	case len(args) == 0:
		return errors.New("name the ENI to adopt and the desired state: import ENI_ID --as NAME PATH..., or import --all")
	case !schema.ValidENIID(args[0]):
		return fmt.Errorf("%q is not an ENI ID (eni-…)", args[0])
	case a.as == "":
		return errors.New("--as NAME is required: the name the ENI takes in the desired state")
	case !schema.ValidName(a.as):
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
		return fail(e, formatText, "ecsnet import", err)
	}
	return exitOK
}

// importENI adopts one ENI into the desired state at paths.
func importENI(ctx context.Context, e env, a *importArgs, id string, paths []string) error {
	f, _ := loadFleetContext(ctx, e, formatText, paths, loadOptions(e, a.cloud.maxInput, a.cloud.eval))
	if f == nil {
		return errReported
	}
	if err := plan.CheckAdopt(f, id, a.as); err != nil {
		return err // before any call: the file alone refuses it
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
	ad, err := plan.Adopt(f, obs, id, a.as)
	if err != nil {
		return err
	}
	if !ad.Tagged {
		if err := client.TagResources(ctx, []string{id}, map[string]string{plan.TagFleet: f.Name, plan.TagENI: a.as}); err != nil {
			return fmt.Errorf("tag %s: %w", id, err)
		}
	}
	ad.Record(lock)
	if err := schema.WriteLockFile(lockPath, lock); err != nil {
		return err
	}
	fmt.Fprint(e.stdout, ad.Entry.FormatCUE())
	fmt.Fprintf(e.stderr, "ecsnet import: %s is now %q of fleet %s: tagged, and recorded in %s with its %s.\n"+
		"Add the entry above to the desired state (append it, or keep it as a file of its own beside the others); "+
		"ecsnet plan then shows no changes. Until it is added, ecsnet leaves the ENI alone: it never modifies or deletes an adopted ENI. "+
		"Commit the lock with the entry: it is what records the adoption.\n",
		id, a.as, f.Name, lockPath, adoptedAddrs(ad.Locked))
	for _, w := range ad.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	return nil
}

// adoptedAddrs says what the lock records of an adopted ENI's addresses:
// its secondary addresses always, its IPv6 addresses, prefixes and card
// when it has them.
func adoptedAddrs(l *schema.LockedENI) string {
	s := plural.Count(len(l.Secondary), "secondary address", "secondary addresses")
	if len(l.IPv6) > 0 {
		s += ", " + plural.Count(len(l.IPv6), "IPv6 address", "IPv6 addresses")
	}
	if len(l.Prefixes) > 0 {
		s += ", " + plural.Count(len(l.Prefixes), "prefix", "prefixes")
	}
	if l.NetworkCard != 0 {
		s += fmt.Sprintf(", network card %d", l.NetworkCard)
	}
	return s
}

// importAll writes a desired state for what the VPCs hold, checks that it
// validates and that its plan is empty, and prints it.
func importAll(ctx context.Context, e env, a *importArgs) error {
	client, err := newClient(&a.cloud, &schema.Fleet{Region: a.cloud.region}, e)
	if err != nil {
		return err
	}
	defer client.Close()
	r, err := client.ObserveVPCs(ctx, a.vpcs)
	if err != nil {
		return err
	}
	var buf strings.Builder
	if err := plan.Import(r, a.fleet).WriteCUE(&buf); err != nil {
		return err
	}
	src := buf.String()
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
		a.fleet, plural.Count(len(f.VSwitches), "vSwitch", "vSwitches"), plural.Count(len(f.Instances), "instance", "instances"),
		plural.Count(len(f.ENIs), "secondary ENI", "secondary ENIs"))
	return nil
}
