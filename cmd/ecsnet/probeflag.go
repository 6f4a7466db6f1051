package main

import (
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/guest"
)

// probeList is --skip-probes of push and apply --hosts: the probes a host
// does not take after its apply (guest.PayloadOptions.SkipProbes). Each
// name is checked as the flag is parsed, so a wrong one is a usage error
// (exit 1) before anything is delivered.
type probeList []string

func (p *probeList) String() string { return strings.Join(*p, ",") }

func (p *probeList) Type() string { return "probes" }

func (p *probeList) Set(v string) error {
	for _, n := range strings.Split(v, ",") {
		n = strings.TrimSpace(n)
		if n != "all" && !slices.Contains(guest.ProbeKinds(), n) {
			return &probeNameError{name: n}
		}
		if !slices.Contains(*p, n) {
			*p = append(*p, n)
		}
	}
	return nil
}

type probeNameError struct{ name string }

func (e *probeNameError) Error() string {
	return "--skip-probes " + e.name + ": no such probe; use " + strings.Join(guest.ProbeKinds(), ", ") + " or all (separate with commas)"
}

// addProbeFlags registers --skip-probes.
func addProbeFlags(fs *pflag.FlagSet, p *probeList) {
	fs.Var(p, "skip-probes", "probes the hosts skip after the apply: "+strings.Join(guest.ProbeKinds(), ", ")+" or all "+
		"(e.g. gateway, for a vSwitch whose gateway does not answer ping); each is reported as skipped, never as passed")
}

// with returns o with the probes p names turned off.
func (p probeList) with(o guest.PayloadOptions) guest.PayloadOptions {
	o.SkipProbes = slices.Clone(p)
	return o
}
