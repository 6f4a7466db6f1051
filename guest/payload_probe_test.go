package guest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
)

// TestProbeData: the probes' data section carries each NIC's key, name,
// MAC, the render's gateway and its addresses, shell-quoted; the wait,
// deadline and the probes turned off come from PayloadOptions, sorted and
// each once; an unknown probe is refused. The Windows payload carries the
// same gateways and runs the same probes.
func TestProbeData(t *testing.T) {
	h := exampleHost(t, "lb-1")
	files, err := render.ForHost(h)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Payload(h, files, PayloadApply, PayloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vip := h.Secondary[0]
	for _, want := range []string{
		"PROBE_MAC_WAIT=30\nPROBE_DEADLINE=15\nSKIP_PROBES=''\n",
		"  'primary primary " + h.Primary.MAC + " 172.16.0.253 172.16.0.12 172.16.0.31'\n",
		"  '" + vip.MAC + " vip " + vip.MAC + " 172.16.0.253 172.16.0.100 172.16.0.101 172.16.0.102'\n",
		"\tp_wait_macs\n\tp_services_before\n",
		"\tp_probe\n\tp_keep_current\n",
	} {
		if !strings.Contains(string(p), want) {
			t.Errorf("the Linux payload lacks %q", want)
		}
	}
	p, err = Payload(h, files, PayloadApply, PayloadOptions{SkipProbes: []string{ProbeMetadata, ProbeGateway, ProbeMetadata}, MACWait: 1500 * time.Millisecond, ProbeDeadline: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if want := "PROBE_MAC_WAIT=2\nPROBE_DEADLINE=60\nSKIP_PROBES='gateway metadata'\n"; !strings.Contains(string(p), want) {
		t.Errorf("the Linux payload lacks %q", want)
	}
	if _, err := Payload(h, files, PayloadApply, PayloadOptions{SkipProbes: []string{"ping"}}); err == nil || !strings.Contains(err.Error(), `unknown probe "ping" to skip: use address, gateway, metadata, cloud-assistant or all`) {
		t.Errorf("an unknown probe: %v", err)
	}

	w := exampleHost(t, "win-1")
	wfiles, err := render.ForHost(w)
	if err != nil {
		t.Fatal(err)
	}
	wp, err := Payload(w, wfiles, PayloadApply, PayloadOptions{SkipProbes: []string{ProbeGateway}})
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(wp), "\r\n", "\n")
	for _, want := range []string{
		"Name = '-'; Primary = $true; Mac = '" + w.Primary.MACDashed() + "'; Address = '172.16.0.14'; Gateway = ''; VSwitchGateway = '172.16.0.253';",
		"Name = 'win-1-data'; Primary = $false;",
		"VSwitchGateway = '172.16.2.253';",
		"$ProbeMacWait = 30\n$ProbeDeadline = 15\n$SkipProbes = @('gateway')\n",
		"    Wait-Macs\n    $services = @(Get-ServicesBefore)\n    $Before = Get-Snapshot\n",
		"    Invoke-Probes $services\n",
		"& ping.exe -n 1 -w 1000 -S $P.Eni.Address $P.Eni.VSwitchGateway",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the Windows payload lacks %q", want)
		}
	}
}

// TestProbeOutcome: a host that rolled back after a failed probe is
// "rolled back" with the probe and its detail in the reason, the one
// field every report (text, JSON, markdown) prints on the host's line.
func TestProbeOutcome(t *testing.T) {
	out := "ecsnet: edge-1: probe: gateway edge-1-data: failed: no answer from 172.16.3.253 to a ping from 172.16.2.9 (route: dev eth1 src 172.16.2.9)\n" +
		"ecsnet: edge-1: result: rolled back: probe failed: gateway edge-1-data: no answer from 172.16.3.253 to a ping from 172.16.2.9 (route: dev eth1 src 172.16.2.9); the host is as it was before\n"
	res := plan.HostResult{Status: "Failed", ExitCode: 5, Error: "ExitCodeNonzero", Output: out}
	o := OutcomeOf(plan.HostReport{Step: &plan.Step{ID: "host-apply host/edge-1", Instance: "edge-1", InstanceID: "i-1"}, Result: res,
		Err: &plan.HostError{Result: res, ExitMeaning: ExitMeaning}})
	if o.Outcome != OutcomeRolledBack {
		t.Errorf("outcome %s, want rolled back", o.Outcome)
	}
	want := "exit 5: rolled back: probe failed: gateway edge-1-data: no answer from 172.16.3.253"
	if !strings.HasPrefix(o.Reason, want) {
		t.Errorf("reason %q, want it to start %q", o.Reason, want)
	}
	data, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"outcome":"rolled back","reason":"`+want) {
		t.Errorf("JSON %s lacks the outcome and the probe", data)
	}
	if !strings.Contains(o.Output, "probe: gateway edge-1-data: failed") {
		t.Errorf("the output tail lacks the probe's line: %q", o.Output)
	}
}
