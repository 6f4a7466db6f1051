// Command fleetgen writes a valid generated fleet, for benchmarks and for
// trying ecsnet on a large desired state:
//
//	go run ./internal/fleetgen -instances 1000 -format cue -o fleet.cue
//
// The fleet's shape (3 ENIs per instance, 11 addresses per ENI, an OS mix
// over every family; with -dual-stack, IPv6 addresses and IPv4 prefixes on
// a tenth of the ENIs each) is documented in package testfleet. It is a developer
// tool, not part of the product; it uses the standard flag package for that
// reason.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ecsnet/ecsnet/internal/testfleet"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fleetgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts testfleet.Options
	fs.IntVar(&opts.Instances, "instances", 100, "number of instances (1 to 491520)")
	fs.StringVar(&opts.Format, "format", "cue", "output syntax: cue, json or yaml")
	fs.Int64Var(&opts.Seed, "seed", 1, "seed for the generated IDs")
	fs.BoolVar(&opts.DualStack, "dual-stack", false, "a tenth of the ENIs dual-stack and a tenth with an IPv4 prefix; IPv6 blocks on the vSwitches (issue 17)")
	out := fs.String("o", "", "write to this file instead of standard output")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "fleetgen: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *out == "" {
		if err := testfleet.Write(stdout, opts); err != nil {
			fmt.Fprintf(stderr, "fleetgen: %v\n", err)
			return 1
		}
		return 0
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintf(stderr, "fleetgen: %v\n", err)
		return 1
	}
	err = testfleet.Write(f, opts) // buffered inside
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		fmt.Fprintf(stderr, "fleetgen: %v\n", err)
		return 1
	}
	return 0
}
