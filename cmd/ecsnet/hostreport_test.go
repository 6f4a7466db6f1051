package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/guest"
	"github.com/ecsnet/ecsnet/plan"
)

// appliedOutput is what an apply payload prints on a host that applied,
// with a probe of each result and a removal by push --prune (the lines
// of guest/scripts/probe.sh and payload.sh).
const appliedOutput = "ecsnet: lb-1: probing (up to 15s)\n" +
	"ecsnet: lb-1: removed 172.16.0.99/24 from eth1: not in the desired state and not ecsnet's (push --prune)\n" +
	"ecsnet: lb-1: probe: address lb-1-data: ok: 172.16.0.31 present on eth1\n" +
	"ecsnet: lb-1: probe: gateway lb-1-data: skipped: ping is not installed\n" +
	"ecsnet: lb-1: probe: metadata: ok: 100.100.100.200:80 answers, as before the change (dev eth0 src 172.16.0.15)\n" +
	"ecsnet: lb-1: probe: cloud-assistant: skipped: not probed: the metadata service did not name the region before the change\n" +
	"ecsnet: lb-1: result: applied and verified; not probed: gateway lb-1-data, cloud-assistant (the probe lines say why)\n"

func appliedHost() plan.HostReport {
	return plan.HostReport{Step: &plan.Step{ID: "host-apply host/lb-1", Action: plan.HostApply, Instance: "lb-1", InstanceID: "i-bp1lb0000001"},
		Result: plan.HostResult{InstanceID: "i-bp1lb0000001", Status: "Success", Output: appliedOutput, Took: time.Second}}
}

// TestHostReportShowsProbesNotOKAndRemovals: an applied host whose
// result line says "not probed: ... (the probe lines say why)" has those
// probe lines (skipped or failed, not the ok ones) and push --prune's
// removals under it, in text, JSON and markdown.
func TestHostReportShowsProbesNotOKAndRemovals(t *testing.T) {
	hosts := hostReports([]plan.HostReport{appliedHost()}, nil)
	want := []string{"probe: gateway lb-1-data: skipped: ping is not installed",
		"probe: cloud-assistant: skipped: not probed: the metadata service did not name the region before the change",
		"removed 172.16.0.99/24 from eth1: not in the desired state and not ecsnet's (push --prune)"}

	var text bytes.Buffer
	writePushReport(&text, formatText, "shop", hosts, time.Second)
	for _, l := range want {
		if !strings.Contains(text.String(), "\n      "+l+"\n") {
			t.Errorf("text report lacks %q under the host:\n%s", l, text.String())
		}
	}
	if strings.Contains(text.String(), "probe: metadata: ok") {
		t.Errorf("text report lists a probe that passed:\n%s", text.String())
	}

	var js bytes.Buffer
	writePushReport(&js, formatJSON, "shop", hosts, time.Second)
	var doc struct {
		Hosts []struct {
			Outcome     string                                  `json:"outcome"`
			ProbesNotOK []struct{ Name, Result, Detail string } `json:"probes_not_ok"`
			Removed     []string                                `json:"removed"`
		}
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Hosts) != 1 || doc.Hosts[0].Outcome != "applied" || len(doc.Hosts[0].ProbesNotOK) != 2 ||
		doc.Hosts[0].ProbesNotOK[1].Name != "cloud-assistant" || doc.Hosts[0].ProbesNotOK[1].Result != "skipped" ||
		doc.Hosts[0].ProbesNotOK[0].Detail != "ping is not installed" || len(doc.Hosts[0].Removed) != 1 || doc.Hosts[0].Removed[0] != want[2] {
		t.Errorf("JSON report: %+v\n%s", doc.Hosts, js.String())
	}

	var md bytes.Buffer
	writePushReport(&md, formatMarkdown, "shop", hosts, time.Second)
	for _, l := range want {
		if !strings.Contains(md.String(), "\n- "+l+"\n") {
			t.Errorf("markdown report lacks %q:\n%s", l, md.String())
		}
	}
}

// notExecutedReport is an apply with two cloud steps done, a cloud step
// failed and a host step whose script did not run.
func notExecutedReport() *plan.Report {
	db := &plan.Step{ID: "host-apply host/db-1", Action: plan.HostApply, Instance: "db-1", InstanceID: "i-bp1db0000001"}
	res := plan.HostResult{InstanceID: "i-bp1db0000001", Status: "Success", Output: "ecsnet emulator: db-1 (wicked): recorded, not executed (wicked cannot run here)\n"}
	ne := &plan.NotExecutedError{Result: res, Reason: "ecsnet emulator: db-1 (wicked): recorded, not executed (wicked cannot run here)"}
	return &plan.Report{
		Done:   []*plan.Step{{ID: "create eni/a"}, {ID: "attach eni/a"}},
		Failed: []plan.Failure{{Step: &plan.Step{ID: "assign eni/b"}, Err: errTest("InvalidParam")}, {Step: db, Err: ne}},
		Hosts:  []plan.HostReport{{Step: db, Result: res, Err: ne}},
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

// TestApplyReportCountsNotExecutedApart: a host step whose script did
// not run is neither done nor failed: the summary counts it as not
// executed and its line says so, in text, JSON and markdown.
func TestApplyReportCountsNotExecutedApart(t *testing.T) {
	rep := notExecutedReport()
	var text bytes.Buffer
	writeApplySteps(&text, rep, "x.lock", time.Second)
	for _, w := range []string{"\nApply: 2 done, 1 failed, 1 not executed, 0 skipped in 1.0s; lock written to x.lock\n",
		"\n  failed: assign eni/b: InvalidParam\n",
		"\n  not executed: host-apply host/db-1: ecsnet emulator: db-1 (wicked): recorded, not executed (wicked cannot run here)\n"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, text.String())
		}
	}
	if strings.Contains(text.String(), "failed: host-apply") {
		t.Errorf("text calls a step not executed failed:\n%s", text.String())
	}

	var js bytes.Buffer
	writeApplyReport(&js, formatJSON, "shop", rep, nil, nil, time.Second)
	var doc applyDoc
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if s := doc.Steps; s.Done != 2 || s.Failed != 1 || s.NotExecuted != 1 || s.Skipped != 0 {
		t.Errorf("JSON steps: %+v", s)
	}
	var md bytes.Buffer
	writeApplyReport(&md, formatMarkdown, "shop", rep, nil, nil, time.Second)
	if !strings.Contains(md.String(), "Steps: 2 done, 1 failed, 1 not executed, 0 skipped; ") {
		t.Errorf("markdown:\n%s", md.String())
	}
}

// TestReportApplyBlankLineAfterHosts: "The cloud matches the desired
// state." is its own paragraph after the Hosts block.
func TestReportApplyBlankLineAfterHosts(t *testing.T) {
	rep := &plan.Report{Done: []*plan.Step{appliedHost().Step}, Hosts: []plan.HostReport{appliedHost()}, Drift: &plan.Plan{}}
	var out bytes.Buffer
	if code := reportApply(env{stdout: &out, stderr: &out}, rep, nil, "x.lock", "ecsnet plan x", time.Second); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	if !strings.HasSuffix(out.String(), "(push --prune)\n\nThe cloud matches the desired state.\n") {
		t.Errorf("no blank line before the last one:\n%s", out.String())
	}
}

// TestVerifyJSONLeavesOutLive: a host in sync's output_tail has no
// ECSNET-LIVE-1 line (its live state is parsed into "live").
func TestVerifyJSONLeavesOutLive(t *testing.T) {
	rep := &guest.Report{Fleet: "shop", Hosts: []guest.HostCheck{{Instance: "lb-1", InstanceID: "i-1", Verdict: guest.InSync,
		OutputTail: "ecsnet: lb-1: verify\n" + guest.LiveMarker + "H4sIAAAAAAAA/6tWKkktLlGyUlAqS8wpTVWqBQCqqO5ZEgAAAA==\nend"}}}
	doc := newVerifyDoc(rep)
	if got := doc.Hosts[0].OutputTail; got != "ecsnet: lb-1: verify\nend" {
		t.Errorf("output_tail %q", got)
	}
}
