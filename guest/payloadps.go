package guest

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"github.com/ecsnet/ecsnet/render"
	"strings"
)

// psENI is one ENI as the Windows payload checks it after the apply.
type psENI struct {
	nic     render.NIC
	primary bool
	label   string
}

// The Windows payload: ecsnet-apply.ps1, gzip-compressed in a Base64
// here-string, and the PowerShell that backs up, applies, verifies and
// rolls back around it (see bundle.go). Like the apply script it is ASCII
// only and runs on Windows PowerShell 4.0 and later.

func psPayload(h *render.Host, files []render.File, opts PayloadOptions) ([]byte, error) {
	var script []byte
	for _, f := range files {
		if f.Path == render.PowerShellScript {
			script = f.Data
		}
	}
	if script == nil {
		return nil, fmt.Errorf("payload %s: the bundle has no %s", h.Name, render.PowerShellScript)
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.Write(script)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	enis := []psENI{{nic: h.Primary, primary: true, label: "primary ENI"}}
	for _, n := range h.Secondary {
		enis = append(enis, psENI{nic: n, label: fmt.Sprintf("ENI %s (%s)", n.ENI, n.ENIID)})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# ecsnet payload for %s (%s) of fleet %s.\n", render.PowerShellComment(h.Name), render.PowerShellComment(h.InstanceID), h.Fleet)
	b.WriteString(psPayloadHeader)
	fmt.Fprintf(&b, "$Fleet = %s\n$Instance = %s\n$FailVerify = %s\n$ScriptSha256 = %s\n",
		render.PowerShellQuote(h.Fleet), render.PowerShellQuote(h.Name), render.PowerShellQuote(opts.FailVerify), render.PowerShellQuote(hexSHA256(script)))
	b.WriteString("# What the live state must hold once the script ran: adapters by MAC, the\n" +
		"# addresses with SkipAsSource, and a secondary ENI's default route.\n$Want = @(\n")
	for _, e := range enis {
		n := e.nic
		if err := render.CheckPowerShellNIC(n, e.primary); err != nil {
			return nil, fmt.Errorf("payload %s: %s: %w", h.Name, e.label, err)
		}
		mac := ""
		if n.MAC != "" {
			mac = n.MACDashed()
		}
		var addrs []string
		if !e.primary {
			addrs = append(addrs, render.PowerShellQuote(n.Address.String()+"|False"))
		}
		for _, a := range n.Secondary {
			addrs = append(addrs, render.PowerShellQuote(a.String()+"|True"))
		}
		gw := ""
		if !e.primary {
			gw = n.Gateway.String()
		}
		// Name and VSwitchGateway are the probes' (scripts/probe.ps1):
		// every ENI's gateway, the primary's too, as render has it.
		fmt.Fprintf(&b, "    @{ Label = %s; Name = %s; Primary = $%t; Mac = %s; Address = %s; Gateway = %s; VSwitchGateway = %s; Addresses = @(%s) }\n",
			render.PowerShellQuote(e.label), render.PowerShellQuote(dash(n.ENI)), e.primary, render.PowerShellQuote(mac), render.PowerShellQuote(n.Address.String()), render.PowerShellQuote(gw),
			render.PowerShellQuote(n.Gateway.String()), strings.Join(addrs, ", "))
	}
	b.WriteString(")\n")
	wait, deadline := probeTimes(opts)
	skip := make([]string, 0, len(opts.SkipProbes))
	for _, k := range probesOff(opts) {
		skip = append(skip, render.PowerShellQuote(k))
	}
	fmt.Fprintf(&b, "# The probes: the wait for each secondary ENI's adapter, their deadline\n# and those turned off (push/apply --skip-probes).\n$ProbeMacWait = %d\n$ProbeDeadline = %d\n$SkipProbes = @(%s)\n",
		seconds(wait), seconds(deadline), strings.Join(skip, ", "))
	b.WriteString("# ecsnet-apply.ps1, gzip-compressed.\n$Bundle = @'\n")
	b.WriteString(base64Lines(gz.Bytes()))
	b.WriteString("'@\n")
	b.WriteString(psProbe)
	b.WriteString(psPayloadBody)
	out := crlf(b.String())
	for i := 0; i < len(out); i++ {
		if c := out[i]; c >= 0x7f || c < 0x20 && c != '\r' && c != '\n' {
			return nil, fmt.Errorf("internal error: byte %#x at offset %d of the payload is not printable ASCII", c, i)
		}
	}
	return []byte(out), nil
}

//go:embed scripts/payload-header.ps1
var psPayloadHeader string

//go:embed scripts/payload.ps1
var psPayloadBody string

// psProbe defines the Windows payload's probes (Wait-Macs,
// Get-ServicesBefore, Invoke-Probes), as scripts/probe.sh does for Linux.
//
//go:embed scripts/probe.ps1
var psProbe string

// psVerifyPayload prints the live state for ecsnet verify. It changes
// nothing.
//
//go:embed scripts/verify.ps1
var psVerifyPayload string
