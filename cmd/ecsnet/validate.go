package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/internal/plural"
	"github.com/ecsnet/ecsnet/schema"
)

type validateArgs struct {
	format   string
	maxInput int64
	eval     evalLimits
	describe bool
	paths    []string
}

func validateFlags(a *validateArgs) *pflag.FlagSet {
	fs := newFlagSet("validate")
	fs.StringVar(&a.format, "format", formatText, "output format: text, json or github (workflow annotations)")
	fs.Int64Var(&a.maxInput, "max-input-size", schema.DefaultMaxInputBytes, "refuse inputs larger than this many bytes in total")
	addEvalFlags(fs, &a.eval)
	fs.BoolVarP(&a.describe, "describe", "d", false, "print what the fleet describes, instance by instance")
	return fs
}

func parseValidateArgs(args []string) (validateArgs, *pflag.FlagSet, error) {
	a := validateArgs{}
	fs := validateFlags(&a)
	if err := fs.Parse(args); err != nil {
		return a, fs, err
	}
	a.paths = fs.Args()
	if err := checkFormat(a.format); err != nil {
		return a, fs, err
	}
	if len(a.paths) == 0 {
		return a, fs, fmt.Errorf("name the desired-state files or directories to check")
	}
	return a, fs, nil
}

func runValidate(ctx context.Context, args []string, e env) int {
	a, fs, err := parseValidateArgs(args)
	if err != nil {
		return flagError(fs, err, e)
	}
	f, err := schema.LoadContext(ctx, a.paths, loadOptions(e, a.maxInput, a.eval))
	if _, ok := signalExit(ctx); ok {
		return exitError // run exits 130 or 143
	}
	return reportLoad(e, a.format, "ecsnet validate", f, err, a.describe)
}

// flagError reports a bad command line (or --help) the same way for every
// command.
func flagError(fs *pflag.FlagSet, err error, e env) int {
	if errors.Is(err, pflag.ErrHelp) {
		c, _ := lookup(fs.Name())
		commandUsage(e.stdout, c)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "ecsnet %s: %v\n", fs.Name(), err)
	if s := suggestFlag(fs, err); s != "" {
		fmt.Fprintf(e.stderr, "Did you mean %s?\n", s)
	}
	fmt.Fprintf(e.stderr, "Run 'ecsnet help %s' for usage.\n", fs.Name())
	return exitError
}

// reportLoad prints the outcome of schema.Load in the chosen format and
// returns the exit code.
func reportLoad(e env, format, title string, f *schema.Fleet, err error, describe bool) int {
	es, isSchema := asErrors(err)
	if err != nil && !isSchema {
		fmt.Fprintf(e.stderr, "ecsnet: %v\n", err)
		return exitError
	}
	switch format {
	case formatJSON:
		doc := map[string]any{"format_version": "1", "valid": err == nil}
		if err != nil {
			doc["errors"] = jsonErrors(es)
		} else {
			doc["fleet"] = summarize(f)
		}
		if werr := writeJSON(e.stdout, doc); werr != nil {
			fmt.Fprintf(e.stderr, "ecsnet: %v\n", werr)
			return exitError
		}
	case formatGitHub:
		printErrorsGitHub(e.stdout, title, es)
		if err == nil {
			fmt.Fprintln(e.stdout, oneLine(f))
		}
	default:
		if err != nil {
			printErrorsText(e.stderr, es)
		} else {
			fmt.Fprintln(e.stdout, oneLine(f))
			if describe {
				describeFleet(e.stdout, f)
			}
		}
	}
	if err != nil {
		return exitError
	}
	return exitOK
}

// fleetSummary is the JSON summary of a valid fleet.
type fleetSummary struct {
	Name             string `json:"name"`
	Region           string `json:"region"`
	Instances        int    `json:"instances"`
	ENIs             int    `json:"enis"`
	BoundENIs        int    `json:"bound_enis"`
	PinnedAddresses  int    `json:"pinned_addresses"`
	CountedAddresses int    `json:"counted_addresses"`
	// Issue 17's addresses, left out of a fleet without them.
	PinnedIPv6      int `json:"pinned_ipv6_addresses,omitempty"`
	CountedIPv6     int `json:"counted_ipv6_addresses,omitempty"`
	PinnedPrefixes  int `json:"pinned_ipv4_prefixes,omitempty"`
	CountedPrefixes int `json:"counted_ipv4_prefixes,omitempty"`
}

func summarize(f *schema.Fleet) fleetSummary {
	s := fleetSummary{Name: f.Name, Region: f.Region, Instances: len(f.Instances), ENIs: len(f.ENIs)}
	add := func(sec schema.Secondaries) {
		if sec.Counted {
			s.CountedAddresses += sec.Count
		} else {
			s.PinnedAddresses += len(sec.Pinned)
		}
	}
	add6 := func(v6 schema.IPv6, px schema.Prefixes) {
		if v6.Counted {
			s.CountedIPv6 += v6.Count
		} else {
			s.PinnedIPv6 += len(v6.Pinned)
		}
		if px.Counted {
			s.CountedPrefixes += px.Count
		} else {
			s.PinnedPrefixes += len(px.Pinned)
		}
	}
	for _, in := range f.Instances {
		add(in.Primary.Secondaries)
		add6(in.Primary.IPv6, in.Primary.Prefixes)
	}
	for _, x := range f.ENIs {
		if x.Bound() {
			s.BoundENIs++
		}
		add(x.Secondaries)
		add6(x.IPv6, x.Prefixes)
	}
	return s
}

func oneLine(f *schema.Fleet) string {
	s := summarize(f)
	return fmt.Sprintf("valid: fleet %q in %s: %s, %s (%d bound, %d unbound), %d pinned and %d counted secondary addresses",
		s.Name, s.Region, plural.Count(s.Instances, "instance", "instances"), plural.Count(s.ENIs, "secondary ENI", "secondary ENIs"),
		s.BoundENIs, s.ENIs-s.BoundENIs, s.PinnedAddresses, s.CountedAddresses) + oneLine6(s)
}

// oneLine6 is the summary's tail for IPv6 addresses and IPv4 prefixes,
// empty for a fleet without them (so an IPv4 fleet's line is unchanged).
func oneLine6(s fleetSummary) string {
	var out string
	if s.PinnedIPv6+s.CountedIPv6 > 0 {
		out += fmt.Sprintf(", %d pinned and %d counted IPv6 addresses", s.PinnedIPv6, s.CountedIPv6)
	}
	if s.PinnedPrefixes+s.CountedPrefixes > 0 {
		out += fmt.Sprintf(", %d pinned and %d counted IPv4 prefixes", s.PinnedPrefixes, s.CountedPrefixes)
	}
	return out
}

// describeFleet prints the fleet instance by instance, as a reviewer reads
// it.
func describeFleet(w io.Writer, f *schema.Fleet) {
	secs := func(s schema.Secondaries) string {
		switch {
		case s.Counted:
			return fmt.Sprintf("%d picked by the cloud", s.Count)
		case len(s.Pinned) == 0:
			return "none"
		}
		out := ""
		for i, a := range s.Pinned {
			if i > 0 {
				out += ", "
			}
			out += a.Addr.String()
		}
		return out
	}
	for _, in := range f.Instances {
		fmt.Fprintf(w, "\ninstance %s (%s, %s, %s; network stack %s; zone %s)\n", in.Name, in.ID, in.Type, in.OS, in.Network, f.Zone(in))
		fmt.Fprintf(w, "  primary ENI   %s in %s; secondary: %s\n", in.Primary.IP, in.Primary.VSwitch, secs(in.Primary.Secondaries))
		for _, x := range f.AttachedTo(in.Name) {
			card := ""
			if x.NetworkCard != 0 {
				card = fmt.Sprintf("; network card %d", x.NetworkCard)
			}
			fmt.Fprintf(w, "  ENI %-10s %s in %s; secondary: %s%s\n", x.Name, primaryOf(x), x.VSwitch, secs(x.Secondaries), card)
		}
	}
	for _, x := range f.ENIs {
		if !x.Bound() {
			fmt.Fprintf(w, "\nunbound ENI %s (%s in %s; secondary: %s)\n", x.Name, primaryOf(x), x.VSwitch, secs(x.Secondaries))
		}
	}
}

func primaryOf(x *schema.ENI) string {
	if x.PrimaryIP.IsValid() {
		return x.PrimaryIP.String()
	}
	return "primary picked by the cloud"
}
