package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ecsnet/ecsnet/internal/plural"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// This file ends apply --hosts: each host's outcome as push reports it
// (text on stderr, or --format json or markdown on stdout), and the exact
// commands that finish what the run left: the same apply for cloud steps
// not done, push for hosts whose cloud steps ran but that are not
// configured, and push once they are back for hosts Cloud Assistant
// could not reach.

// finishStep is one command that finishes what an apply left.
type finishStep struct {
	// Kind is finishApply, finishPush or finishPushWhenBack.
	Kind string `json:"kind"`
	// Hosts are the instances it configures; empty for an apply.
	Hosts []string `json:"hosts,omitempty"`
	// When says when to run it, and why it is needed.
	When    string `json:"when"`
	Command string `json:"command"`
}

// The kinds of finishStep.
const (
	finishApply        = "apply"          // the same apply: cloud steps not done
	finishPush         = "push"           // hosts whose cloud steps ran, not configured
	finishPushWhenBack = "push-when-back" // hosts Cloud Assistant could not reach
)

// applyFinish returns the commands that finish what an apply --hosts
// left, in the order to run them.
func applyFinish(a *applyArgs, f *schema.Fleet, rep *plan.Report) []finishStep {
	left := map[string]bool{} // cloud steps not done
	for _, x := range rep.Failed {
		if !x.Step.Action.Host() {
			left[x.Step.ID] = true
		}
	}
	for _, s := range rep.Skipped {
		if !s.Action.Host() {
			left[s.ID] = true
		}
	}
	// A host step whose own cloud steps were not done is left to the
	// apply that does them: a push now would deliver the lock as it
	// stands, without them.
	byApply := func(s *plan.Step) bool {
		if slices.ContainsFunc(s.DependsOn, func(d string) bool { return left[d] }) {
			return true
		}
		for _, x := range append(slices.Clone(rep.Skipped), failedSteps(rep)...) {
			if left[x.ID] && slices.Contains(x.DependsOn, s.ID) {
				return true
			}
		}
		return false
	}
	unreachable, notDone := map[string]bool{}, map[string]bool{}
	for _, x := range rep.Failed {
		var ue *plan.UnreachableError
		switch {
		case !x.Step.Action.Host():
		case errors.As(x.Err, &ue):
			unreachable[x.Step.Instance] = true
		default:
			notDone[x.Step.Instance] = true
		}
	}
	for _, s := range rep.Skipped {
		if s.Action.Host() && !byApply(s) {
			notDone[s.Instance] = true
		}
	}
	var out []finishStep
	if len(left) > 0 {
		args := []string{"apply", "--hosts"}
		for _, fl := range []struct {
			name   string
			v, def int
		}{{"--hosts-batch", a.host.batch, 10}, {"--canary", a.host.canary, 0}, {"--max-failures", a.host.maxFailures, 0}} {
			if fl.v != fl.def {
				args = append(args, fl.name, fmt.Sprint(fl.v))
			}
		}
		out = append(out, finishStep{Kind: finishApply, When: fmt.Sprintf("once the failures above are dealt with: %s not done (failed, or not started because the rollout stopped); "+
			"the same apply makes them and configures their hosts", plural.Count(len(left), "cloud step", "cloud steps")), Command: ecsnetCommand(&a.cloud, args, a.paths)})
	}
	if hosts := fleetOrder(f, notDone, unreachable); len(hosts) > 0 {
		out = append(out, finishStep{Kind: finishPush, Hosts: hosts, When: "once the cause on each host's line above is dealt with: the cloud changed for them, and this run did not configure them",
			Command: pushCommand(&a.cloud, hosts, a.paths)})
	}
	if hosts := fleetOrder(f, unreachable, nil); len(hosts) > 0 {
		out = append(out, finishStep{Kind: finishPushWhenBack, Hosts: hosts, When: "when they are back (Running, with Cloud Assistant up): Cloud Assistant could not reach them in this run, " +
			"so they still hold the configuration of what the cloud took away, or lack what it gave them",
			Command: pushCommand(&a.cloud, hosts, a.paths)})
	}
	return out
}

func failedSteps(rep *plan.Report) []*plan.Step {
	out := make([]*plan.Step, len(rep.Failed))
	for i, x := range rep.Failed {
		out[i] = x.Step
	}
	return out
}

// fleetOrder returns the instances in set and not in except, in the
// fleet's order.
func fleetOrder(f *schema.Fleet, set, except map[string]bool) []string {
	var out []string
	for _, in := range f.Instances {
		if set[in.Name] && !except[in.Name] {
			out = append(out, in.Name)
		}
	}
	return out
}

// writeFinish ends apply --hosts's text report with the commands that
// finish the job (nothing when it is finished).
func writeFinish(w io.Writer, steps []finishStep) {
	for _, s := range steps {
		switch s.Kind {
		case finishApply:
			fmt.Fprintf(w, "\nTo finish: %s. Run:\n  %s\n", s.When, s.Command)
		case finishPushWhenBack:
			fmt.Fprintf(w, "\nHosts not reachable: %s %s not configured in this run: Cloud Assistant could not reach %s (the reason is on each host's line above); "+
				"the cloud's changes were made all the same. When %s back (Running, with Cloud Assistant up), run:\n  %s\n",
				strings.Join(s.Hosts, ", "), plural.Word(len(s.Hosts), "was", "were"), plural.Word(len(s.Hosts), "it", "them"),
				plural.Word(len(s.Hosts), "it is", "they are"), s.Command)
		default:
			fmt.Fprintf(w, "\nHosts to configure: %s %s not configured in this run (the reason is on each host's line above). Once the cause is dealt with, run:\n  %s\n",
				strings.Join(s.Hosts, ", "), plural.Word(len(s.Hosts), "was", "were"), s.Command)
		}
	}
}

// applyDoc is apply's JSON report: push's, with the cloud steps' counts
// and the commands that finish the job.
type applyDoc struct {
	pushDoc
	Steps struct {
		Done   int `json:"done"`
		Failed int `json:"failed"`
		// NotExecuted are host steps whose script did not run
		// (plan.NotExecutedError): neither done nor failed.
		NotExecuted int `json:"not_executed"`
		Skipped     int `json:"skipped"`
	} `json:"steps"`
	// Converged is true when the cloud was read back after the apply and
	// a fresh plan is empty.
	Converged bool         `json:"converged"`
	ToFinish  []finishStep `json:"to_finish"`
}

// notExecuted returns why a failed step did not run, and whether it is a
// host step whose script did not run (plan.NotExecutedError): not done,
// and not a failure of the host either, so every report counts it apart.
func notExecuted(err error) (string, bool) {
	var ne *plan.NotExecutedError
	if errors.As(err, &ne) {
		return ne.Reason, true
	}
	return "", false
}

// failedCounts counts rep's failed steps: those that failed, and the
// host steps whose script did not run.
func failedCounts(rep *plan.Report) (failed, notExec int) {
	for _, f := range rep.Failed {
		if _, ok := notExecuted(f.Err); ok {
			notExec++
		} else {
			failed++
		}
	}
	return failed, notExec
}

// stepCounts says how the steps went: "27 done, 0 failed, 9 not
// executed, 0 skipped" (not executed only when there are any).
func stepCounts(rep *plan.Report) string {
	failed, notExec := failedCounts(rep)
	s := fmt.Sprintf("%d done, %d failed, ", len(rep.Done), failed)
	if notExec > 0 {
		s += fmt.Sprintf("%d not executed, ", notExec)
	}
	return s + fmt.Sprintf("%d skipped", len(rep.Skipped))
}

// writeApplySteps writes apply's text summary: how the steps went, each
// step not done and why, then what each host step did.
func writeApplySteps(w io.Writer, rep *plan.Report, lockPath string, took time.Duration) {
	fmt.Fprintf(w, "\nApply: %s in %.1fs; lock written to %s\n", stepCounts(rep), took.Seconds(), lockPath)
	for _, f := range rep.Failed {
		if why, ok := notExecuted(f.Err); ok {
			fmt.Fprintf(w, "  not executed: %s: %s\n", f.Step.ID, why)
		} else {
			fmt.Fprintf(w, "  failed: %s: %v\n", f.Step.ID, f.Err)
		}
	}
	writeHostReports(w, hostReports(rep.Hosts, rep.Skipped))
}

// writeApplyReport writes apply's report as JSON or markdown.
func writeApplyReport(w io.Writer, format, fleet string, rep *plan.Report, err error, finish []finishStep, took time.Duration) {
	outs := hostReports(rep.Hosts, rep.Skipped)
	converged := err == nil && rep.Drift != nil && rep.Drift.Empty()
	failed, notExecuted := failedCounts(rep)
	switch format {
	case formatJSON:
		doc := applyDoc{pushDoc: newPushDoc(fleet, outs, took), Converged: converged, ToFinish: finish}
		doc.Steps.Done, doc.Steps.Failed, doc.Steps.NotExecuted, doc.Steps.Skipped = len(rep.Done), failed, notExecuted, len(rep.Skipped)
		if doc.ToFinish == nil {
			doc.ToFinish = []finishStep{}
		}
		data, _ := json.MarshalIndent(doc, "", "  ")
		w.Write(append(data, '\n'))
	case formatMarkdown:
		fmt.Fprintf(w, "### ecsnet apply: fleet %s\n\n", mdCell(fleet))
		fmt.Fprintf(w, "Steps: %s; ", stepCounts(rep))
		if converged {
			fmt.Fprintf(w, "the cloud matches the desired state.\n\n")
		} else {
			fmt.Fprintf(w, "the cloud does not match the desired state yet.\n\n")
		}
		if len(outs) > 0 {
			writeOutcomeTable(w, outs)
		}
		if len(finish) > 0 {
			fmt.Fprintf(w, "\nTo finish:\n\n")
			for _, s := range finish {
				fmt.Fprintf(w, "- %s:\n  `%s`\n", mdCell(s.When), s.Command)
			}
		}
	}
}
