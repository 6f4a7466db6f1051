package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/guest"
	"github.com/ecsnet/ecsnet/internal/plural"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

type pushArgs struct {
	cloud     cloudArgs
	host      hostArgs
	instances []string
	format    string
	prune     bool

	skipProbes probeList // --skip-probes (probeflag.go)
	// allowCompeting: a host whose preflight finds a network manager
	// that would undo ecsnet's configuration at the next boot applies
	// anyway (guest.PayloadOptions.AllowCompeting).
	allowCompeting bool
}

func pushFlags(a *pushArgs) *pflag.FlagSet {
	fs := newFlagSet("push")
	addCloudFlags(fs, &a.cloud, false)
	addHostFlags(fs, &a.host)
	addProbeFlags(fs, &a.skipProbes)
	fs.StringSliceVar(&a.instances, "instance", nil, "push to these instances only (by name; repeat or separate with commas)")
	fs.StringVar(&a.format, "format", formatText, "how to report each host's outcome on stdout: text, json or markdown")
	fs.BoolVar(&a.prune, "prune", false, "also remove the foreign addresses verify warns about: those on interfaces ecsnet manages that ecsnet did not add (Linux hosts)")
	fs.BoolVar(&a.allowCompeting, "allow-competing", false, "apply even on a Linux host where a network manager would undo ecsnet's configuration at the next boot (cloud-init, multi-nic-util, a later netplan file); it is still reported")
	return fs
}

// pushHelp is push's help text; the host exit codes come from guest.Exit,
// the one place they are named. Never assigned to.
var pushHelp = `push renders every instance from the desired state and the lock and
delivers it through Cloud Assistant, without calling any cloud API that
changes something. Each host backs up what it replaces, applies, verifies
the live state and, if that fails, rolls itself back on its own. A host's
exit code says how it went (its last line of output says why):
` + guest.ExitCodes("  ") + `
A host whose render holds an address or ENI the lock does not record as
on it yet is refused: run apply --hosts, which changes the cloud first.

Each host's line gives its outcome and why: applied, refused, rolled
back, failed, not executed (its output lacks the payload's result line:
ecsnet did not run there, as with ecsnet emulator without --hosts or a
stack ecsnet emulator --hosts only records) or not reachable. push exits
0 only when every host is applied; --format json or markdown prints the
same report for a program or a pull request.

An address on an interface ecsnet manages that ecsnet did not add
(keepalived's, a HaVip's, a container runtime's) is foreign: push leaves
it, and verify warns about it; push --prune removes it. An address ecsnet
added that the desired state dropped is removed by every push.

Before it changes anything, a Linux host looks for network managers that
compete with ecsnet's configuration and prints each ("competing: ..."):
cloud-init rendering the network at every boot, nm-cloud-setup,
multi-nic-util, a netplan file that sorts after ecsnet's, NetworkManager's
automatic DHCP profiles. One that would undo ecsnet's configuration at the
next boot makes the host refuse (exit 3, nothing changed) with the fix,
unless --allow-competing or the run adds no address ecsnet had not
configured there (it only removes, or re-applies); the others are
warnings. push repeats them
after its report; verify shows them too.
`

// runPush delivers the current render to the hosts alone.
func runPush(ctx context.Context, args []string, e env) int {
	var a pushArgs
	fs := pushFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if err := a.host.check(); err != nil {
		return flagError(fs, err, e)
	}
	if err := checkFormat(a.format, formatText, formatJSON, formatMarkdown); err != nil {
		return flagError(fs, err, e)
	}
	paths := fs.Args()
	f, code := loadFleetContext(ctx, e, formatText, paths, loadOptions(e, a.cloud.maxInput, a.cloud.eval))
	if f == nil {
		return code
	}
	for _, n := range a.instances {
		if f.Instance(n) == nil {
			fmt.Fprintf(e.stderr, "ecsnet push: --instance %s: no such instance in the desired state\n", n)
			return exitError
		}
	}
	lock, err := schema.ReadLockFile(a.cloud.lockFile(paths))
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet push: %v\n", err)
		return exitError
	}
	hosts, problems := guest.Pushable(f, lock)
	p := &plan.Plan{Fleet: f.Name, Region: f.Region}
	var refused []hostReport
	for _, in := range f.Instances {
		if len(a.instances) > 0 && !slices.Contains(a.instances, in.Name) {
			continue
		}
		if h := hosts[in.Name]; a.prune && h != nil && h.Stack == schema.StackWindows {
			// Refused here rather than failed in delivery, so that one
			// Windows host in the fleet does not stop the Linux hosts'
			// rollout (--max-failures counts failed steps).
			problems[in.Name] = "--prune is not supported on Windows hosts; push this host without --prune"
		}
		if why, bad := problems[in.Name]; bad {
			fmt.Fprintf(e.stderr, "ecsnet push: %s: not pushed: %s\n", in.Name, why)
			refused = append(refused, hostReport{HostOutcome: guest.HostOutcome{Step: "host-apply " + plan.HostTarget(in.Name).String(), Instance: in.Name,
				InstanceID: in.ID, Outcome: guest.OutcomeRefused, ExitCode: -1, Reason: "not pushed: " + why}})
			continue
		}
		p.Steps = append(p.Steps, &plan.Step{ID: "host-apply host/" + in.Name, Action: plan.HostApply, Target: plan.HostTarget(in.Name),
			Instance: in.Name, InstanceID: in.ID, Reason: "ecsnet push"})
	}
	if len(p.Steps) == 0 {
		fmt.Fprintln(e.stderr, "ecsnet push: no host to push to")
		return exitError
	}
	client, err := newClient(&a.cloud, f, e)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet push: %v\n", err)
		return exitError
	}
	defer client.Close()
	payload := func(s *plan.Step, _ *schema.Lock) (plan.HostPayload, error) {
		return hostPayload(hosts[s.Instance], a.skipProbes.with(guest.PayloadOptions{Prune: a.prune, AllowCompeting: a.allowCompeting}))
	}
	// The header goes with the text report; JSON and markdown keep
	// stdout for the report itself.
	head := e.stdout
	if a.format != formatText {
		head = e.stderr
	}
	fmt.Fprintf(head, "ecsnet push: %s of fleet %s, %d at once", plural.Count(len(p.Steps), "host", "hosts"), f.Name, a.host.batch)
	if a.host.canary > 0 {
		fmt.Fprintf(head, ", the first %d alone", a.host.canary)
	}
	fmt.Fprintln(head)
	start := time.Now()
	hb := startHeartbeat(e.stderr, heartbeatEvery(e))
	rep, err := plan.Deliver(ctx, p, lock, plan.ApplyOptions{Progress: hb.track(progressPrinter(hb)), Hosts: a.host.options(client, payload)})
	hb.Stop()
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet push: %v\n", err)
		return exitError
	}
	outs := append(hostReports(rep.Hosts, rep.Skipped), refused...)
	writePushReport(e.stdout, a.format, f.Name, outs, time.Since(start))
	writeCompeting(e.stdout, e.stderr, a.format, rep.Hosts)
	for _, o := range outs {
		if !o.Outcome.Done() {
			return exitError
		}
	}
	return exitOK
}

// writeCompeting prints, after push's report, the network managers
// competing with ecsnet's configuration that each host's payload reported
// (guest.CompetingLines), one warning each: the applied hosts'
// (--allow-competing, or ones that only fight) as much as the refused
// ones', whose reason names only the first. A list under the markdown
// report; lines on stdout after the text one, on stderr beside JSON.
func writeCompeting(stdout, stderr io.Writer, format string, reps []plan.HostReport) {
	first := true
	for _, r := range reps {
		for _, c := range guest.CompetingLines(r.Result.Output) {
			switch format {
			case formatMarkdown:
				if first {
					fmt.Fprintf(stdout, "\n**Competing network managers** (warnings)\n\n")
				}
				fmt.Fprintf(stdout, "- %s: %s\n", mdCell(r.Step.Instance), mdCell(c))
			case formatJSON:
				fmt.Fprintf(stderr, "ecsnet push: %s: warning: competing: %s\n", r.Step.Instance, c)
			default:
				fmt.Fprintf(stdout, "ecsnet push: %s: warning: competing: %s\n", r.Step.Instance, c)
			}
			first = false
		}
	}
}
