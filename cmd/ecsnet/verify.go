package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/guest"
	"github.com/ecsnet/ecsnet/internal/plural"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

type verifyArgs struct {
	cloud     cloudArgs
	instances []string
	format    string
	timeout   time.Duration
}

func verifyFlags(a *verifyArgs) *pflag.FlagSet {
	fs := newFlagSet("verify")
	addCloudFlags(fs, &a.cloud, false)
	fs.StringSliceVar(&a.instances, "instance", nil, "verify these instances only (by name; repeat or separate with commas)")
	fs.StringVar(&a.format, "format", formatText, "output format: text, json or markdown (for a pull request or an incident note)")
	fs.DurationVar(&a.timeout, "timeout", time.Minute, "time a host may take to report")
	return fs
}

const verifyHelp = `verify runs a read-only script on every instance of the file through
Cloud Assistant, which reports the live links, IPv4 addresses, rules and
routes (ip -j; Get-NetIPAddress and Get-NetRoute on Windows), and compares
them with the render of the desired state and the lock: addresses on the
right interface with the right prefix (and SkipAsSource on Windows), each
secondary ENI's route table and rules, no secondary ENI's default route in
the main table, and nothing ecsnet would not put there on the ENIs'
interfaces. It changes nothing.

It also reports, as warnings, the network managers on each Linux host
that compete with ecsnet's configuration (the checks push runs before it
changes a host): cloud-init rendering the network at every boot,
nm-cloud-setup, multi-nic-util, a netplan file that sorts after ecsnet's,
NetworkManager's automatic DHCP profiles; each with the fix, and whether
it would undo ecsnet's configuration at the next boot (then push refuses
the host unless --allow-competing). They never make verify exit non-zero.
`

// verifyHost is one instance's outcome, as the JSON output has it.
type verifyHost struct {
	Instance   string   `json:"instance"`
	InstanceID string   `json:"instance_id"`
	Status     string   `json:"status"` // guest.Verdict: in_sync, drift, error, not_checked
	Drift      []string `json:"drift"`
	// Foreign lists addresses on managed interfaces that ecsnet did not
	// write: warnings, not drift (guest.Foreign).
	Foreign []string `json:"foreign"`
	// Competing lists the network managers on the host that compete with
	// ecsnet's configuration (guest.Competing): warnings, not drift.
	Competing  []verifyCompeting `json:"competing"`
	Error      string            `json:"error"`
	ExitCode   int               `json:"exit_code"`
	TookMS     int64             `json:"took_ms"`
	OutputTail string            `json:"output_tail"`
	// Live is what the host reported: its IPv4 addresses, rules and
	// routes (null when it reported nothing).
	Live *verifyLive `json:"live"`
}

// verifyCompeting is one competing network manager.
type verifyCompeting struct {
	Name   string `json:"name"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
	// UndoesAtBoot: it would undo ecsnet's configuration at the next
	// boot, so push and apply --hosts refuse the host unless
	// --allow-competing.
	UndoesAtBoot bool `json:"undoes_at_boot"`
}

func newVerifyCompeting(cs []guest.Competing) []verifyCompeting {
	out := []verifyCompeting{}
	for _, c := range cs {
		out = append(out, verifyCompeting{Name: c.Name, Detail: c.Detail, Fix: c.Fix, UndoesAtBoot: c.Undo})
	}
	return out
}

type verifyLive struct {
	Addresses []string `json:"addresses"` // "eth1 172.16.0.100/24"
	Rules     []string `json:"rules"`     // "1001: from 172.16.0.100/32 lookup 1001"
	Routes    []string `json:"routes"`    // "1001 default via 172.16.0.253 dev eth1"
}

func newVerifyLive(l *guest.Live) *verifyLive {
	if l == nil {
		return nil
	}
	v := &verifyLive{Addresses: []string{}, Rules: []string{}, Routes: []string{}}
	for _, a := range l.Addrs {
		s := a.Dev + " " + a.Prefix.String()
		if l.Windows && a.SkipAsSource {
			s += " skip-as-source"
		}
		v.Addresses = append(v.Addresses, s)
	}
	for _, r := range l.Rules {
		from := "all"
		if r.From.IsValid() {
			from = r.From.String()
		}
		v.Rules = append(v.Rules, fmt.Sprintf("%d: from %s lookup %s", r.Priority, from, r.Table))
	}
	for _, r := range l.Routes {
		s := r.Table + " " + r.Dst
		if r.Gateway.IsValid() {
			s += " via " + r.Gateway.String()
		}
		v.Routes = append(v.Routes, s+" dev "+r.Dev)
	}
	slices.Sort(v.Addresses)
	slices.Sort(v.Rules)
	slices.Sort(v.Routes)
	return v
}

type verifySummary struct {
	Hosts      int `json:"hosts"`
	InSync     int `json:"in_sync"`
	Drift      int `json:"drift"`
	Errors     int `json:"errors"`
	NotChecked int `json:"not_checked"`
}

type verifyDoc struct {
	FormatVersion string        `json:"format_version"`
	Fleet         string        `json:"fleet"`
	Hosts         []verifyHost  `json:"hosts"`
	Summary       verifySummary `json:"summary"`
}

func runVerify(ctx context.Context, args []string, e env) int {
	var a verifyArgs
	fs := verifyFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if err := checkFormat(a.format, formatText, formatJSON, formatMarkdown); err != nil {
		return flagError(fs, err, e)
	}
	paths := fs.Args()
	f, code := loadFleetContext(ctx, e, a.format, paths, loadOptions(e, a.cloud.maxInput, a.cloud.eval))
	if f == nil {
		return code
	}
	// The same checks as push's --instance.
	only := map[string]bool{} // instance IDs; empty: all
	for _, n := range a.instances {
		in := f.Instance(n)
		if in == nil {
			fmt.Fprintf(e.stderr, "ecsnet verify: --instance %s: no such instance in the desired state\n", n)
			return exitError
		}
		only[in.ID] = true
	}
	lock, err := schema.ReadLockFile(a.cloud.lockFile(paths))
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet verify: %v\n", err)
		return exitError
	}
	client, err := newClient(&a.cloud, f, e)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet verify: %v\n", err)
		return exitError
	}
	defer client.Close()
	var run plan.HostRunner = client
	if len(only) > 0 {
		run = onlyInstances{run: client, ids: only}
	}
	rep, err := guest.Verify(ctx, run, f, lock, guest.VerifyOptions{Timeout: a.timeout, Wait: func(what string) func() {
		hb := startHeartbeat(e.stderr, heartbeatEvery(e))
		hb.begin("verify", what)
		return hb.Stop
	}})
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet verify: %v\n", err)
		return exitError
	}
	if len(only) > 0 {
		rep.Hosts = slices.DeleteFunc(rep.Hosts, func(h guest.HostCheck) bool { return !only[h.InstanceID] })
	}
	doc := newVerifyDoc(rep)
	switch a.format {
	case formatJSON:
		data, _ := json.MarshalIndent(doc, "", "  ")
		e.stdout.Write(append(data, '\n'))
	case formatMarkdown:
		writeVerifyMarkdown(e.stdout, &doc)
	default:
		writeVerifyText(e.stdout, &doc)
	}
	switch {
	case doc.Summary.Errors > 0:
		return exitError
	case doc.Summary.Drift > 0:
		return exitChanges
	}
	return exitOK
}

// onlyInstances runs verify's script on the instances of ids alone
// (verify --instance): guest.Verify checks every instance of the fleet,
// and verify then leaves the others out of its report.
type onlyInstances struct {
	run plan.HostRunner
	ids map[string]bool
}

func (o onlyInstances) RunScript(ctx context.Context, s plan.HostScript) ([]plan.HostResult, error) {
	s.InstanceIDs = slices.DeleteFunc(slices.Clone(s.InstanceIDs), func(id string) bool { return !o.ids[id] })
	if len(s.InstanceIDs) == 0 {
		return nil, nil
	}
	return o.run.RunScript(ctx, s)
}

// newVerifyDoc is the report as verify's JSON output has it.
func newVerifyDoc(rep *guest.Report) verifyDoc {
	doc := verifyDoc{FormatVersion: "1", Fleet: rep.Fleet, Summary: verifySummary{Hosts: len(rep.Hosts),
		InSync: rep.Count(guest.InSync), Drift: rep.Count(guest.Drifted), Errors: rep.Count(guest.CheckFailed), NotChecked: rep.Count(guest.NotChecked)}}
	for _, h := range rep.Hosts {
		doc.Hosts = append(doc.Hosts, verifyHost{Instance: h.Instance, InstanceID: h.InstanceID, Status: h.Verdict.String(),
			Drift: h.Drift, Foreign: nonNil(h.Foreign), Competing: newVerifyCompeting(h.Competing), Error: h.Reason, ExitCode: h.ExitCode, TookMS: h.Took.Milliseconds(), OutputTail: withoutLive(h.OutputTail),
			Live: newVerifyLive(h.Live)})
	}
	return doc
}

// withoutLive is a host's output tail without the line that carries its
// live state (guest.LiveMarker): a long Base64 blob that verify parses
// into live, not one for reading.
func withoutLive(tail string) string {
	lines := strings.Split(tail, "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, guest.LiveMarker) })
	return strings.Join(lines, "\n")
}

// nonNil is s, or an empty list for JSON's [] in place of null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// verifyStates are the verdicts as the text and markdown reports name
// them.
var verifyStates = map[string]string{guest.InSync.String(): "in sync", guest.Drifted.String(): "DRIFT", guest.CheckFailed.String(): "ERROR",
	guest.NotChecked.String(): "not checked"}

// writeVerifyMarkdown is the report as markdown: a table of the hosts,
// then each host's drift, foreign addresses and competing network
// managers as a list.
func writeVerifyMarkdown(w io.Writer, d *verifyDoc) {
	fmt.Fprintf(w, "### ecsnet verify: fleet %s, %s\n\n", mdCell(d.Fleet), plural.Count(d.Summary.Hosts, "host", "hosts"))
	fmt.Fprintln(w, "| Instance | ID | Status | Took | Reason |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, h := range d.Hosts {
		fmt.Fprintf(w, "| %s | %s | %s | %.1fs | %s |\n", mdCell(h.Instance), mdCell(h.InstanceID), verifyStates[h.Status], float64(h.TookMS)/1000, mdCell(h.Error))
	}
	for _, h := range d.Hosts {
		if len(h.Drift)+len(h.Foreign)+len(h.Competing) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n**%s**\n\n", mdCell(h.Instance))
		for _, x := range h.Drift {
			fmt.Fprintf(w, "- drift: %s\n", mdCell(x))
		}
		for _, x := range h.Foreign {
			fmt.Fprintf(w, "- warning: %s\n", mdCell(x))
		}
		for _, c := range h.Competing {
			fmt.Fprintf(w, "- warning: competing: %s\n", mdCell(guest.Competing{Name: c.Name, Detail: c.Detail, Fix: c.Fix, Undo: c.UndoesAtBoot}.String()))
		}
	}
	s := d.Summary
	fmt.Fprintf(w, "\nVerify: %d in sync, %d with drift, %s, %d not checked.\n", s.InSync, s.Drift, plural.Count(s.Errors, "error", "errors"), s.NotChecked)
}

func writeVerifyText(w io.Writer, d *verifyDoc) {
	fmt.Fprintf(w, "ecsnet verify: fleet %s, %s\n\n", d.Fleet, plural.Count(d.Summary.Hosts, "host", "hosts"))
	for _, h := range d.Hosts {
		state := verifyStates[h.Status]
		fmt.Fprintf(w, "  %-10s %-16s %-11s %5.1fs", h.Instance, h.InstanceID, state, float64(h.TookMS)/1000)
		if h.Error != "" {
			fmt.Fprintf(w, "  %s", h.Error)
		}
		fmt.Fprintln(w)
		for _, d := range h.Drift {
			fmt.Fprintf(w, "      - %s\n", d)
		}
		for _, f := range h.Foreign {
			fmt.Fprintf(w, "      warning: %s\n", f)
		}
		for _, c := range h.Competing {
			fmt.Fprintf(w, "      warning: competing: %s\n", guest.Competing{Name: c.Name, Detail: c.Detail, Fix: c.Fix, Undo: c.UndoesAtBoot})
		}
	}
	s := d.Summary
	fmt.Fprintf(w, "\nVerify: %d in sync, %d with drift, %s, %d not checked.\n", s.InSync, s.Drift, plural.Count(s.Errors, "error", "errors"), s.NotChecked)
	if s.Drift > 0 {
		fmt.Fprintln(w, "Run ecsnet push to put the drifted hosts back as rendered (or find what changed them).")
	}
}
