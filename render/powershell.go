package render

import (
	"bytes"
	_ "embed"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/ecsnet/ecsnet/schema"
)

// PowerShellScript is the one file of a Windows host's bundle: an apply
// script that Cloud Assistant runs as RunPowerShellScript, or an
// administrator from the console.
const PowerShellScript = "ecsnet-apply.ps1"

// Windows keeps no routing rules, so a secondary ENI cannot have a table
// of its own. What ecsnet does instead rests on Windows' strong host model
// (the default: an interface sends only packets whose source address it
// owns, and looks only at its own routes for them):
//   - the secondary ENI gets a default route via its vSwitch gateway, with
//     a high interface metric (1000 + device index, the number the Linux
//     families use for the ENI's table), so the primary ENI's default route
//     keeps winning for traffic that has no source address yet;
//   - traffic from the secondary ENI's own addresses (replies, or a
//     program bound to them) can only leave through that ENI, and there its
//     default route is the only one: the effect of Linux's "from <ip>
//     lookup <table>" rule;
//   - WeakHostSend stays (or is set back to) Disabled on that interface,
//     since a weak-host interface would let those packets leave through the
//     primary ENI, where the VPC drops them.
//
// Secondary addresses get SkipAsSource, so Windows never picks them as the
// source of a new connection (host-config.md E14).

// psQuote returns a PowerShell expression whose value is exactly s, using
// only printable ASCII: a single-quoted literal with every ' doubled, and,
// for any other character, a [char] code joined on. PowerShell also ends a
// single-quoted string at the typographic quotes U+2018-U+201B; those, like
// every non-ASCII or control character, never appear literally.
func psQuote(s string) string {
	var parts []string
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, "'"+lit.String()+"'")
			lit.Reset()
		}
	}
	for _, r := range s {
		if r >= 0x20 && r < 0x7f {
			if r == '\'' {
				lit.WriteString("''")
			} else {
				lit.WriteRune(r)
			}
			continue
		}
		flush()
		for _, u := range utf16.Encode([]rune{r}) {
			parts = append(parts, fmt.Sprintf("[char]0x%04X", u))
		}
	}
	flush()
	switch {
	case len(parts) == 0:
		return "''"
	case len(parts) == 1 && parts[0][0] == '\'':
		return parts[0]
	}
	if parts[0][0] != '\'' {
		// [char] + [char] would add numbers; a string first makes + join.
		parts = append([]string{"''"}, parts...)
	}
	return "(" + strings.Join(parts, " + ") + ")"
}

// psComment returns free text fit for a # comment: printable ASCII only
// (anything else becomes '?'), at most 120 characters.
func psComment(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == 120 {
			b.WriteString("...")
			break
		}
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
		n++
	}
	return b.String()
}

// psENI is one ENI as the script's data block holds it.
type psENI struct {
	nic     NIC
	primary bool
	label   string
}

func powershell(h *Host) ([]File, error) {
	// The fleet name becomes a directory under ProgramData: only the
	// schema's tag-safe names reach it.
	if !schema.ValidFleetName(h.Fleet) {
		return nil, fmt.Errorf("fleet name %q is not tag-safe; it names the state directory", h.Fleet)
	}
	enis := []psENI{{nic: h.Primary, primary: true, label: "primary ENI"}}
	for _, n := range h.Secondary {
		enis = append(enis, psENI{nic: n, label: fmt.Sprintf("ENI %s (%s)", n.ENI, n.ENIID)})
	}
	for _, e := range enis {
		if err := psCheckNIC(e.nic, e.primary); err != nil {
			return nil, fmt.Errorf("%s: %w", e.label, err)
		}
	}

	head := newText(160)
	head.str("# ", PowerShellScript, ": network configuration of ", psComment(h.Name), " (", psComment(h.InstanceID), "), fleet ", h.Fleet, ".\n")
	b := newText(256 + 512*len(enis) + 32*addrCount(h))
	b.str("$Fleet = ", psQuote(h.Fleet), "\n$Instance = ", psQuote(h.Name), "\n$Enis = @(\n")
	for _, e := range enis {
		n := e.nic
		if e.primary {
			b.str("    # The primary ENI: DHCP gave it its primary address, which is made static\n" +
				"    # (with its gateway and DNS servers) only when secondary addresses must go on.\n")
		} else {
			b.str("    # ENI ", psComment(n.ENI), " (", psComment(n.ENIID), "), device index ")
			b.int(n.DeviceIndex)
			if n.Description != "" {
				b.str(": ", psComment(n.Description))
			}
			b.str("\n")
		}
		mac := ""
		if n.MAC != "" {
			mac = n.MACDashed()
		}
		metric := 0
		if !e.primary {
			metric = n.Priority
		}
		b.str("    @{ Label = ", psQuote(e.label), "; Primary = $", strconv.FormatBool(e.primary), "; Mac = ", psQuote(mac),
			"; Address = ", psQuote(n.Address.String()), "; PrefixLength = ")
		b.int(n.Bits())
		b.str("; Gateway = ", psQuote(n.Gateway.String()), "; InterfaceMetric = ")
		b.int(metric)
		b.str("\n       Secondary = @(")
		for i, a := range n.Secondary {
			if i > 0 {
				b.str(", ")
			}
			b.str(psQuote(a.String()))
		}
		b.str(")")
		if n.HasIPv6() {
			b.str("\n       IPv6 = @(")
			for i, a := range n.IPv6 {
				if i > 0 {
					b.str(", ")
				}
				b.str(psQuote(a.String()))
			}
			b.str("); IPv6PrefixLength = ")
			b.int(n.IPv6Bits())
			b.str("; IPv6Gateway = ", psQuote(n.IPv6Gateway().String()))
		}
		if ps := n.HostPrefixes(); len(ps) > 0 {
			// Windows has no local routes: the host answers for a prefix
			// when every address of it is on the adapter.
			b.str("\n       PrefixAddresses = @(")
			first := true
			for _, p := range ps {
				for a := p.Addr(); p.Contains(a); a = a.Next() {
					if !first {
						b.str(", ")
					}
					first = false
					b.str(psQuote(a.String()))
				}
			}
			b.str(")")
		}
		b.str(" }\n")
	}
	b.str(")\n")

	// The script is written with CRLF line ends; the constant parts were
	// converted once.
	script := make([]byte, 0, len(head.b)+len(psHeaderCRLF)+len(b.b)+len(psBodyCRLF)+64+8*len(enis)+2*addrCount(h))
	script = appendCRLF(script, head.b)
	script = append(script, psHeaderCRLF...)
	script = appendCRLF(script, b.b)
	script = append(script, psBodyCRLF...)
	for i := 0; i < len(script); i++ {
		// Windows PowerShell 5.1 reads a BOM-less script in the ANSI code
		// page (host-config.md §2.7): the script must stay ASCII.
		if c := script[i]; c >= 0x7f || c < 0x20 && c != '\r' && c != '\n' {
			return nil, fmt.Errorf("internal error: byte %#x at offset %d of %s is not printable ASCII", c, i, PowerShellScript)
		}
	}
	return []File{{Path: PowerShellScript, Mode: 0o755, Data: script}}, nil
}

// psHeaderCRLF and psBodyCRLF are psHeader and psBody with CRLF line ends.
var (
	psHeaderCRLF = strings.ReplaceAll(psHeader, "\n", "\r\n")
	psBodyCRLF   = strings.ReplaceAll(psBody, "\n", "\r\n")
)

// appendCRLF appends src to dst with each \n written as \r\n.
func appendCRLF(dst, src []byte) []byte {
	for {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			return append(dst, src...)
		}
		dst = append(append(dst, src[:i]...), '\r', '\n')
		src = src[i+1:]
	}
}

// psCheckNIC validates what reaches the script unquoted or as a number.
func psCheckNIC(n NIC, primary bool) error {
	if n.MAC != "" && !schema.ValidMAC(n.MAC) {
		return fmt.Errorf("MAC %q is not six lower-case hex pairs", n.MAC)
	}
	if !primary && n.MAC == "" {
		return fmt.Errorf("no MAC: a secondary ENI is found by its MAC")
	}
	if !n.Address.Is4() || !n.Gateway.Is4() || !n.Prefix.IsValid() || !n.Prefix.Addr().Is4() {
		return fmt.Errorf("address %v, gateway %v, prefix %v: want IPv4", n.Address, n.Gateway, n.Prefix)
	}
	if n.Bits() < 1 || n.Bits() > 30 {
		return fmt.Errorf("prefix %v: a vSwitch is /1 to /30", n.Prefix)
	}
	for _, a := range append([]netip.Addr{n.Address, n.Gateway}, n.Secondary...) {
		if !a.Is4() || !n.Prefix.Contains(a) {
			return fmt.Errorf("address %v is not an IPv4 address of %v", a, n.Prefix)
		}
	}
	if err := checkNIC6(n); err != nil {
		return err
	}
	if !primary && (n.Priority < 1 || n.Priority > 9999) {
		return fmt.Errorf("interface metric %d: Windows takes 1 to 9999", n.Priority)
	}
	return nil
}

// psHeader follows the first comment line.
//
//go:embed scripts/apply-header.ps1
var psHeader string

// psBody is the same for every host; it acts on $Fleet, $Instance and
// $Enis. It must stay ASCII and work on Windows PowerShell 4.0 (Windows
// Server 2012 R2).
//
//go:embed scripts/apply.ps1
var psBody string
