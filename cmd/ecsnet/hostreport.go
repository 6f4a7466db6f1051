package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ecsnet/ecsnet/guest"
	"github.com/ecsnet/ecsnet/internal/plural"
	"github.com/ecsnet/ecsnet/plan"
)

// This file prints push's report: one guest.HostOutcome per host, with
// its reason on the same line, as text, JSON or markdown. Every view
// counts a host as done only when its outcome is (Outcome.Done), so a
// host whose script did not run is never shown as configured.

// outcomeOrder is the order in which a summary counts the outcomes.
var outcomeOrder = [...]guest.Outcome{guest.OutcomeApplied, guest.OutcomeUnchanged, guest.OutcomeRefused, guest.OutcomeRolledBack,
	guest.OutcomeFailed, guest.OutcomeNotExecuted, guest.OutcomeNotReachable}

// hostReport is one host's outcome as push and apply --hosts report it:
// with what the payload printed that the outcome's one line does not
// say, the probes that did not pass and the addresses push --prune
// removed.
type hostReport struct {
	guest.HostOutcome
	// ProbesNotOK are the probes the payload skipped or that failed
	// (guest/scripts/probe.sh), in its order: "applied and verified; not
	// probed: cloud-assistant" says only which.
	ProbesNotOK []probeResult `json:"probes_not_ok,omitempty"`
	// Removed are push --prune's removals, as the payload printed them
	// ("removed 172.16.0.9/24 from eth1: not in the desired state and
	// not ecsnet's (push --prune)").
	Removed []string `json:"removed,omitempty"`
}

// probeResult is one probe's result line: "ecsnet: <instance>: probe:
// <name>: ok|failed|skipped: <detail>".
type probeResult struct {
	Name   string `json:"name"`
	Result string `json:"result"` // failed or skipped
	Detail string `json:"detail"`
}

func (p probeResult) String() string { return "probe: " + p.Name + ": " + p.Result + ": " + p.Detail }

// hostReports are the host steps' outcomes (guest.Outcomes: those that
// ran, in plan order, then those skipped), each with what its output
// says besides.
func hostReports(reps []plan.HostReport, skipped []*plan.Step) []hostReport {
	var out []hostReport
	for _, o := range guest.Outcomes(reps, skipped) {
		out = append(out, hostReport{HostOutcome: o})
	}
	// guest.Outcomes lists reps first, one outcome each.
	for i, r := range reps {
		out[i].ProbesNotOK, out[i].Removed = payloadFindings(r.Step.Instance, r.Result.Output)
	}
	return out
}

// payloadFindings returns the probes that did not pass and the addresses
// removed by push --prune that a host's payload printed (instance is
// the name in its lines).
func payloadFindings(instance, output string) (probes []probeResult, removed []string) {
	prefix := "ecsnet: " + instance + ": "
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(strings.TrimRight(sc.Text(), "\r"), prefix)
		if !ok {
			continue
		}
		if p, ok := strings.CutPrefix(rest, "probe: "); ok {
			// The name may hold a space ("gateway lb-1-data"), never ": ".
			name, after, ok1 := strings.Cut(p, ": ")
			result, detail, ok2 := strings.Cut(after, ": ")
			if ok1 && ok2 && (result == "failed" || result == "skipped") {
				probes = append(probes, probeResult{Name: name, Result: result, Detail: detail})
			}
			continue
		}
		if strings.HasPrefix(rest, "removed ") && strings.HasSuffix(rest, "(push --prune)") {
			removed = append(removed, rest)
		}
	}
	return probes, removed
}

// hostReportLine writes one host's lines: guest's outcome line and its
// output tail (hostLine), then the probes that did not pass and the
// addresses removed, those the tail already shows left out.
func hostReportLine(w io.Writer, h hostReport) {
	hostLine(w, h.HostOutcome)
	for _, l := range h.findings() {
		if !strings.Contains(h.Output, l) {
			fmt.Fprintf(w, "      %s\n", l)
		}
	}
}

// findings are the lines hostReportLine adds under a host.
func (h hostReport) findings() []string {
	var out []string
	for _, p := range h.ProbesNotOK {
		out = append(out, p.String())
	}
	return append(out, h.Removed...)
}

// writeHostReports is the text report's Hosts block (nothing without
// hosts).
func writeHostReports(w io.Writer, hosts []hostReport) {
	if len(hosts) == 0 {
		return
	}
	fmt.Fprintf(w, "\nHosts (Cloud Assistant):\n")
	for _, h := range hosts {
		hostReportLine(w, h)
	}
}

// outcomesOf are the hosts' outcomes alone.
func outcomesOf(hosts []hostReport) []guest.HostOutcome {
	out := make([]guest.HostOutcome, len(hosts))
	for i, h := range hosts {
		out[i] = h.HostOutcome
	}
	return out
}

// pushDoc is push's JSON report.
type pushDoc struct {
	FormatVersion string       `json:"format_version"`
	Fleet         string       `json:"fleet"`
	Hosts         []hostReport `json:"hosts"`
	// Summary counts the hosts by outcome, every outcome named
	// ("not executed" is not_executed), and Done those configured.
	Summary map[string]int `json:"summary"`
	Done    int            `json:"done"`
	TookMS  int64          `json:"took_ms"`
}

// outcomeCounts counts outs by outcome, in outcomeOrder.
func outcomeCounts(outs []guest.HostOutcome) (counts [len(outcomeOrder)]int, done int) {
	for _, o := range outs {
		for i, k := range outcomeOrder {
			if o.Outcome == k {
				counts[i]++
			}
		}
		if o.Outcome.Done() {
			done++
		}
	}
	return counts, done
}

// outcomeSummary says how many hosts got each outcome, those with none
// left out: "3 applied, 7 not executed".
func outcomeSummary(outs []guest.HostOutcome) string {
	counts, _ := outcomeCounts(outs)
	var parts []string
	for i, n := range counts {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, outcomeOrder[i]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// newPushDoc is the JSON report of outs, push's and the part of apply's
// that reports the hosts.
func newPushDoc(fleet string, hosts []hostReport, took time.Duration) pushDoc {
	counts, done := outcomeCounts(outcomesOf(hosts))
	doc := pushDoc{FormatVersion: "1", Fleet: fleet, Hosts: hosts, Summary: map[string]int{}, Done: done, TookMS: took.Milliseconds()}
	if doc.Hosts == nil {
		doc.Hosts = []hostReport{}
	}
	for i, k := range outcomeOrder {
		doc.Summary[strings.ReplaceAll(k.String(), " ", "_")] = counts[i]
	}
	return doc
}

// writeOutcomeTable writes hosts as a markdown table and its summary
// line, then each host's probes that did not pass and removals as a list.
func writeOutcomeTable(w io.Writer, hosts []hostReport) {
	outs := outcomesOf(hosts)
	_, done := outcomeCounts(outs)
	fmt.Fprintf(w, "| host | instance | outcome | reason |\n|---|---|---|---|\n")
	for _, o := range outs {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", mdCell(o.Instance), mdCell(o.InstanceID), o.Outcome, mdCell(o.Reason))
	}
	fmt.Fprintf(w, "\n%s of %d configured: %s.\n", plural.Count(done, "host", "hosts"), len(outs), outcomeSummary(outs))
	for _, h := range hosts {
		if l := h.findings(); len(l) > 0 {
			fmt.Fprintf(w, "\n**%s**\n\n", mdCell(h.Instance))
			for _, x := range l {
				fmt.Fprintf(w, "- %s\n", mdCell(x))
			}
		}
	}
}

func writePushReport(w io.Writer, format, fleet string, hosts []hostReport, took time.Duration) {
	outs := outcomesOf(hosts)
	_, done := outcomeCounts(outs)
	switch format {
	case formatJSON:
		data, _ := json.MarshalIndent(newPushDoc(fleet, hosts, took), "", "  ")
		w.Write(append(data, '\n'))
	case formatMarkdown:
		fmt.Fprintf(w, "### ecsnet push: fleet %s\n\n", mdCell(fleet))
		writeOutcomeTable(w, hosts)
	default:
		writeHostReports(w, hosts)
		fmt.Fprintf(w, "\nPush: %s done of %d: %s in %.1fs.\n", plural.Count(done, "host", "hosts"), len(outs), outcomeSummary(outs), took.Seconds())
		if done < len(outs) {
			fmt.Fprintf(w, "%s not configured as rendered; the reason is on each host's line above.\n",
				plural.Count(len(outs)-done, "host is", "hosts are"))
		}
	}
}

// mdCell makes s one markdown table cell: no line breaks, pipes escaped.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// onlyNotExecuted reports whether an apply's only failures are host steps
// whose script did not run (the guests ecsnet emulator --hosts records):
// the demo shows them as such and goes on.
func onlyNotExecuted(rep *plan.Report, err error) bool {
	if err != nil || rep == nil || len(rep.Failed) == 0 || len(rep.Skipped) > 0 {
		return false
	}
	for _, f := range rep.Failed {
		var ne *plan.NotExecutedError
		if !errors.As(f.Err, &ne) {
			return false
		}
	}
	return true
}

// pushCommand is the push that configures hosts after a run that changed
// the cloud without them: the same cloud flags and desired state.
func pushCommand(a *cloudArgs, hosts, paths []string) string {
	return ecsnetCommand(a, []string{"push", "--instance", strings.Join(hosts, ",")}, paths)
}

// ecsnetCommand is an ecsnet command line with args, the cloud flags of a
// and the desired-state paths.
func ecsnetCommand(a *cloudArgs, args, paths []string) string {
	args = append([]string{"ecsnet"}, args...)
	for _, f := range []struct{ flag, v string }{{"--endpoint", a.endpoint}, {"--region", a.region}, {"--profile", a.profile},
		{"--ecs-ram-role", a.ramRole}, {"--lock", a.lockPath}} {
		if f.v != "" {
			args = append(args, f.flag, f.v)
		}
	}
	return shellJoin(append(args, paths...))
}

// shellJoin quotes each word that a POSIX shell would split or expand.
func shellJoin(words []string) string {
	out := make([]string, len(words))
	for i, s := range words {
		if s == "" || strings.ContainsAny(s, " \t\n'\"$`\\|&;<>()*?[]#~!{}") {
			s = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
		out[i] = s
	}
	return strings.Join(out, " ")
}

// writeHostsToPush ends an apply that changed the cloud without --hosts:
// the hosts whose addresses or ENIs changed, and the command that
// configures them (nothing when there are none).
func writeHostsToPush(w io.Writer, hosts []string, cmd string) {
	if len(hosts) == 0 {
		return
	}
	fmt.Fprintf(w, "\nHosts to configure: the cloud gave or took away addresses or ENIs that %s %s, and this apply did not configure the hosts (no --hosts). "+
		"Until they are, a host may answer for an address the cloud now routes elsewhere, or lack one it routes to the host. Run:\n  %s\n",
		strings.Join(hosts, ", "), plural.Word(len(hosts), "uses", "use"), cmd)
}

// hostsToPushNote is the note of a plan without --hosts whose cloud
// steps change what hosts use ("" when they change none). It is part of
// the saved plan, which may be applied elsewhere with other cloud flags,
// so its command names only the instances.
func hostsToPushNote(hosts []string) string {
	if len(hosts) == 0 {
		return ""
	}
	return fmt.Sprintf("Hosts to configure: this plan gives or takes away addresses or ENIs that %s %s. Apply it with --hosts to configure them in the same run, "+
		"or after the apply run ecsnet push --instance %s with the same desired state.",
		strings.Join(hosts, ", "), plural.Word(len(hosts), "uses", "use"), strings.Join(hosts, ","))
}
