package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/guest"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

type verifyArgs struct {
	cloud   cloudArgs
	format  string
	timeout time.Duration
}

func verifyFlags(a *verifyArgs) *pflag.FlagSet {
	fs := newFlagSet("verify")
	addCloudFlags(fs, &a.cloud, false)
	fs.StringVar(&a.format, "format", formatText, "output format: text or json")
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
`

// verifyHost is one instance's outcome, as the JSON output has it.
type verifyHost struct {
	Instance   string   `json:"instance"`
	InstanceID string   `json:"instance_id"`
	Status     string   `json:"status"` // in_sync, drift, error, not_checked
	Drift      []string `json:"drift"`
	Error      string   `json:"error"`
	ExitCode   int      `json:"exit_code"`
	TookMS     int64    `json:"took_ms"`
	OutputTail string   `json:"output_tail"`
	// Live is what the host reported: its IPv4 addresses, rules and
	// routes (null when it reported nothing).
	Live *verifyLive `json:"live"`
}

type verifyLive struct {
	Addresses []string `json:"addresses"` // "eth1 172.16.0.100/24"
	Rules     []string `json:"rules"`     // "1001: from 172.16.0.100/32 lookup 1001"
	Routes    []string `json:"routes"`    // "1001 default via 172.16.0.253 dev eth1"
}

func newVerifyLive(l *guest.Live) *verifyLive {
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

type verifyDoc struct {
	FormatVersion string       `json:"format_version"`
	Fleet         string       `json:"fleet"`
	Hosts         []verifyHost `json:"hosts"`
	Summary       struct {
		Hosts      int `json:"hosts"`
		InSync     int `json:"in_sync"`
		Drift      int `json:"drift"`
		Errors     int `json:"errors"`
		NotChecked int `json:"not_checked"`
	} `json:"summary"`
}

// emulatorRecorded is what ecsnet emulator --hosts answers for a family
// whose stack it cannot run: the script was recorded, not executed, so
// there is no live state to compare.
const emulatorRecorded = "recorded, not executed"

func runVerify(ctx context.Context, args []string, e env) int {
	var a verifyArgs
	fs := verifyFlags(&a)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if err := checkFormat(a.format, formatText, formatJSON); err != nil {
		return flagError(fs, err, e)
	}
	paths := fs.Args()
	f, code := loadFleetContext(ctx, e, a.format, paths, loadOptions(e, a.cloud.maxInput, a.cloud.eval))
	if f == nil {
		return code
	}
	lock, err := schema.ReadLockFile(a.cloud.lockFile(paths))
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet verify: %v\n", err)
		return exitError
	}
	desired, problems := verifyTargets(f, lock)
	client, err := newClient(&a.cloud, f, e)
	if err != nil {
		fmt.Fprintf(e.stderr, "ecsnet verify: %v\n", err)
		return exitError
	}
	defer client.Close()

	// One verify script per OS, the same for every host: one call for up
	// to 50 of them.
	results := map[string]plan.HostResult{}
	for _, windows := range []bool{false, true} {
		var ids []string
		var any *render.Host
		for _, in := range f.Instances {
			if h := desired[in.Name]; h != nil && (h.Stack == schema.StackWindows) == windows {
				ids = append(ids, in.ID)
				any = h
			}
		}
		if len(ids) == 0 {
			continue
		}
		script, err := guest.Payload(any, nil, guest.PayloadVerify, guest.PayloadOptions{})
		if err != nil {
			fmt.Fprintf(e.stderr, "ecsnet verify: %v\n", err)
			return exitError
		}
		hb := startHeartbeat(e.stderr, heartbeatEvery(e))
		family := "Linux"
		if windows {
			family = "Windows"
		}
		hb.begin("verify", fmt.Sprintf("ecsnet verify on %d %s hosts (Cloud Assistant)", len(ids), family))
		rs, err := client.RunScript(ctx, plan.HostScript{InstanceIDs: ids, Content: script, Windows: windows, Timeout: a.timeout, Name: "ecsnet verify"})
		hb.Stop()
		if err != nil {
			fmt.Fprintf(e.stderr, "ecsnet verify: %v\n", err)
			return exitError
		}
		for _, r := range rs {
			results[r.InstanceID] = r
		}
	}

	doc := verifyDoc{FormatVersion: "1", Fleet: f.Name}
	for _, in := range f.Instances {
		v := verifyHost{Instance: in.Name, InstanceID: in.ID, Drift: []string{}}
		r, ran := results[in.ID]
		switch {
		case problems[in.Name] != "":
			v.Status, v.Error = "error", problems[in.Name]
		case !ran:
			v.Status, v.Error = "error", "no result"
		default:
			v.ExitCode, v.TookMS, v.OutputTail = r.ExitCode, r.Took.Milliseconds(), r.Tail(3)
			live, perr := guest.ParseLive([]byte(r.Output))
			switch {
			case !r.OK():
				v.Status, v.Error = "error", (&plan.HostError{Result: r, ExitMeaning: guest.ExitMeaning}).Error()
			case perr != nil && strings.Contains(r.Output, emulatorRecorded):
				v.Status, v.Error = "not_checked", "the emulator records this family's scripts without running them"
			case perr != nil && !strings.Contains(r.Output, strings.TrimSpace(guest.LiveMarker)):
				v.Status, v.Error = "error", noLiveState(r)
			case perr != nil:
				v.Status, v.Error = "error", perr.Error()
			default:
				v.Live = newVerifyLive(live)
				v.Drift = guest.Drift(desired[in.Name], live)
				v.Status = "in_sync"
				if len(v.Drift) > 0 {
					v.Status = "drift"
				}
			}
		}
		doc.Hosts = append(doc.Hosts, v)
		doc.Summary.Hosts++
		switch v.Status {
		case "in_sync":
			doc.Summary.InSync++
		case "drift":
			doc.Summary.Drift++
		case "error":
			doc.Summary.Errors++
		default:
			doc.Summary.NotChecked++
		}
	}
	if a.format == formatJSON {
		data, _ := json.MarshalIndent(doc, "", "  ")
		e.stdout.Write(append(data, '\n'))
	} else {
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

// noLiveState says, in the user's terms, why a host that ran the verify
// script successfully gave nothing to compare: the script's last line is
// the host's live state, so without it the script most likely never ran.
func noLiveState(r plan.HostResult) string {
	if strings.TrimSpace(r.Output) == "" {
		return "the host's verify script did not report its live state (exit 0, no output): was it run? " +
			"(ecsnet emulator without --hosts runs no scripts)"
	}
	return "the host's verify script ended without reporting its live state; its output ends: " +
		strings.ReplaceAll(r.Tail(3), "\n", " | ")
}

// verifyTargets returns the render each host is compared with, and why a
// host cannot be checked.
func verifyTargets(f *schema.Fleet, lock *schema.Lock) (map[string]*render.Host, map[string]string) {
	problems := map[string]string{}
	hosts, err := render.Hosts(f, lock)
	var missing render.MissingError
	if err != nil && !errors.As(err, &missing) {
		for _, in := range f.Instances {
			problems[in.Name] = err.Error()
		}
		return nil, problems
	}
	for _, m := range missing {
		problems[m.Instance] = "the lock lacks " + m.What + "; run ecsnet apply first"
	}
	out := map[string]*render.Host{}
	for _, h := range hosts {
		out[h.Name] = h
	}
	return out, problems
}

func writeVerifyText(w io.Writer, d *verifyDoc) {
	fmt.Fprintf(w, "ecsnet verify: fleet %s, %d hosts\n\n", d.Fleet, d.Summary.Hosts)
	for _, h := range d.Hosts {
		state := map[string]string{"in_sync": "in sync", "drift": "DRIFT", "error": "ERROR", "not_checked": "not checked"}[h.Status]
		fmt.Fprintf(w, "  %-10s %-16s %-11s %5.1fs", h.Instance, h.InstanceID, state, float64(h.TookMS)/1000)
		if h.Error != "" {
			fmt.Fprintf(w, "  %s", h.Error)
		}
		fmt.Fprintln(w)
		for _, d := range h.Drift {
			fmt.Fprintf(w, "      - %s\n", d)
		}
	}
	s := d.Summary
	fmt.Fprintf(w, "\nVerify: %d in sync, %d with drift, %d errors, %d not checked.\n", s.InSync, s.Drift, s.Errors, s.NotChecked)
	if s.Drift > 0 {
		fmt.Fprintln(w, "Run ecsnet push to put the drifted hosts back as rendered (or find what changed them).")
	}
}
