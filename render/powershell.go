package render

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf16"
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
	if !validFleet(h.Fleet) {
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
		b.str(") }\n")
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
	if n.MAC != "" && !validMAC(n.MAC) {
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
	if !primary && (n.Priority < 1 || n.Priority > 9999) {
		return fmt.Errorf("interface metric %d: Windows takes 1 to 9999", n.Priority)
	}
	return nil
}

// psHeader follows the first comment line.
const psHeader = `# Rendered by ecsnet from the desired state and the lock; ecsnet render
# rewrites it, so do not edit it here.
#
# Run it as Administrator from the console or Cloud Assistant, not over an
# RDP session through the primary ENI: making its DHCP address static cuts
# connectivity for a moment. It is idempotent, skips what is already
# right, removes the addresses an earlier run added that the file no longer
# has (it records them in $env:ProgramData\ecsnet\<fleet>\state.json), and
# exits non-zero with a message on the first failure.
#
# Windows has no routing rules. A secondary ENI gets a default route via
# its own gateway with a high interface metric: the primary ENI keeps the
# default route for new connections, and Windows' strong host model sends
# traffic from a secondary ENI's addresses through that ENI only, where its
# own default route is the only one (what "from <ip> lookup <table>" does on
# Linux). Secondary addresses get SkipAsSource, so they are never chosen as
# the source of new connections.
#Requires -Version 4.0

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 1

# ---- What this host should have (rendered) ----
`

// psBody is the same for every host; it acts on $Fleet, $Instance and
// $Enis. It must stay ASCII and work on Windows PowerShell 4.0 (Windows
// Server 2012 R2).
const psBody = `
# ---- How to get there (the same for every host) ----
$StateDir = Join-Path $env:ProgramData ('ecsnet\' + $Fleet)
$StateFile = Join-Path $StateDir 'state.json'

function Write-Step([string]$Message) {
    Write-Output ('ecsnet: ' + $Message)
}

function Get-EniKey($Eni) {
    if ($Eni.Mac -ne '') { return $Eni.Mac }
    return 'primary'
}

# Assert-Host refuses to run where this script cannot do its job.
function Assert-Host {
    $principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
    if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
        throw 'run as Administrator: changing IP addresses needs it'
    }
    foreach ($cmd in @('Get-NetAdapter', 'Get-NetIPAddress', 'New-NetIPAddress', 'Set-NetIPInterface', 'New-NetRoute', 'Get-DnsClientServerAddress', 'Get-DnsClient', 'Get-CimInstance')) {
        if (-not (Get-Command $cmd -ErrorAction SilentlyContinue)) {
            throw ('this host has no ' + $cmd + ' (the NetTCPIP, NetAdapter and DnsClient modules of Windows Server 2012 or later): it is not the stack this script was rendered for')
        }
    }
}

# Get-AdapterIndex finds the adapter of an ENI by its MAC (adapter names
# follow detection order and change), or the primary ENI by its address
# when the lock had no MAC for it.
function Get-AdapterIndex($Eni) {
    if ($Eni.Mac -ne '') {
        $found = @(Get-NetAdapter | Where-Object { $_.MacAddress -eq $Eni.Mac })
        if ($found.Count -ne 1) {
            throw ('{0}: expected one network adapter with MAC {1}, found {2}; is the ENI attached?' -f $Eni.Label, $Eni.Mac, $found.Count)
        }
        return [int]$found[0].ifIndex
    }
    $found = @(Get-NetIPAddress -AddressFamily IPv4 -IPAddress $Eni.Address -ErrorAction SilentlyContinue)
    if ($found.Count -ne 1) {
        throw ('{0}: expected one adapter with address {1}, found {2}' -f $Eni.Label, $Eni.Address, $found.Count)
    }
    return [int]$found[0].InterfaceIndex
}

function Find-AdapterByKey([string]$Key) {
    if ($Key -eq 'primary') { return $null }
    $found = @(Get-NetAdapter | Where-Object { $_.MacAddress -eq $Key })
    if ($found.Count -ne 1) { return $null }
    return [int]$found[0].ifIndex
}

# Read-State returns what an earlier run recorded: ENI key -> the
# addresses it put there, and whether it made that ENI static.
function Read-State {
    $state = @{}
    if (-not (Test-Path -LiteralPath $StateFile)) { return $state }
    try {
        $doc = Get-Content -LiteralPath $StateFile -Raw | ConvertFrom-Json
    } catch {
        throw ('cannot read ' + $StateFile + ': ' + $_.Exception.Message + '; delete it only if no address ecsnet added is left')
    }
    if ($doc.format_version -ne 1 -or $doc.fleet -ne $Fleet) {
        throw ($StateFile + ' belongs to another fleet or format (fleet ' + $doc.fleet + ', format ' + $doc.format_version + ')')
    }
    foreach ($e in @($doc.enis)) {
        $state[[string]$e.key] = @{ Addresses = @($e.addresses | Where-Object { $_ } | ForEach-Object { [string]$_ }); Gateway = [string]$e.gateway; Static = [bool]$e.static }
    }
    return $state
}

function Write-State($State) {
    if (-not (Test-Path -LiteralPath $StateDir)) {
        New-Item -ItemType Directory -Path $StateDir -Force | Out-Null
    }
    $enis = @()
    foreach ($key in @($State.Keys | Sort-Object)) {
        $s = $State[$key]
        $enis += @{ key = $key; addresses = @($s.Addresses | Sort-Object -Unique); gateway = $s.Gateway; static = $s.Static }
    }
    $json = ConvertTo-Json -InputObject @{ format_version = 1; fleet = $Fleet; instance = $Instance; enis = $enis } -Depth 5
    $tmp = $StateFile + '.tmp'
    [IO.File]::WriteAllText($tmp, $json)
    Move-Item -LiteralPath $tmp -Destination $StateFile -Force
}

# Remove-Address deletes an address from an adapter, from both the live
# configuration and the one Windows restores at boot.
function Remove-Address([int]$Index, [string]$Address) {
    foreach ($store in @('ActiveStore', 'PersistentStore')) {
        $have = @(Get-NetIPAddress -InterfaceIndex $Index -AddressFamily IPv4 -IPAddress $Address -PolicyStore $store -ErrorAction SilentlyContinue)
        foreach ($a in $have) {
            Remove-NetIPAddress -InterfaceIndex $Index -IPAddress $Address -PolicyStore $store -Confirm:$false
        }
    }
}

function Remove-DefaultRoutes([int]$Index, [string]$Except) {
    foreach ($store in @('ActiveStore', 'PersistentStore')) {
        $routes = @(Get-NetRoute -InterfaceIndex $Index -AddressFamily IPv4 -DestinationPrefix '0.0.0.0/0' -PolicyStore $store -ErrorAction SilentlyContinue)
        foreach ($r in $routes) {
            if ($r.NextHop -ne $Except) {
                Remove-NetRoute -InterfaceIndex $Index -DestinationPrefix '0.0.0.0/0' -NextHop $r.NextHop -PolicyStore $store -Confirm:$false
            }
        }
    }
}

# Add-Address puts an address on an adapter unless it is there already,
# and sets its SkipAsSource either way.
function Add-Address($Eni, [int]$Index, [string]$Address, [bool]$SkipAsSource) {
    $have = @(Get-NetIPAddress -AddressFamily IPv4 -IPAddress $Address -ErrorAction SilentlyContinue)
    $elsewhere = @($have | Where-Object { $_.InterfaceIndex -ne $Index })
    if ($elsewhere.Count -gt 0) {
        throw ('{0}: {1} is already on another adapter (ifIndex {2}); remove it there first' -f $Eni.Label, $Address, $elsewhere[0].InterfaceIndex)
    }
    $mine = @($have | Where-Object { $_.InterfaceIndex -eq $Index })
    if ($mine.Count -gt 0 -and $mine[0].PrefixLength -ne $Eni.PrefixLength) {
        Write-Step ('{0}: {1}/{2} has the wrong prefix length; replacing it with /{3}' -f $Eni.Label, $Address, $mine[0].PrefixLength, $Eni.PrefixLength)
        Remove-Address $Index $Address
        $mine = @()
    }
    if ($mine.Count -gt 0) {
        if ([bool]$mine[0].SkipAsSource -ne $SkipAsSource) {
            Set-NetIPAddress -InterfaceIndex $Index -IPAddress $Address -SkipAsSource $SkipAsSource
            Write-Step ('{0}: {1}: SkipAsSource set to {2}' -f $Eni.Label, $Address, $SkipAsSource)
        }
        return
    }
    New-NetIPAddress -InterfaceIndex $Index -AddressFamily IPv4 -IPAddress $Address -PrefixLength $Eni.PrefixLength -SkipAsSource $SkipAsSource | Out-Null
    Write-Step ('{0}: added {1}/{2}' -f $Eni.Label, $Address, $Eni.PrefixLength)
}

# ConvertTo-Static makes the primary ENI's DHCP address static, keeping its
# prefix length, default gateway and DNS servers: turning DHCP off drops
# all of them (host-config.md E13), and a DHCP interface refuses a second,
# static address. On any failure it turns DHCP back on.
function ConvertTo-Static($Eni, [int]$Index) {
    $cfg = Get-NetIPConfiguration -InterfaceIndex $Index
    $ip = @($cfg.IPv4Address | Where-Object { $_.IPAddress -eq $Eni.Address })
    if ($ip.Count -ne 1) {
        $seen = @($cfg.IPv4Address | ForEach-Object { $_.IPAddress }) -join ', '
        throw ('{0}: DHCP gave it {1}, not {2} as the desired state says; refusing to make it static' -f $Eni.Label, $seen, $Eni.Address)
    }
    $prefix = [int]$ip[0].PrefixLength
    $gateways = @($cfg.IPv4DefaultGateway | Where-Object { $_ } | ForEach-Object { $_.NextHop })
    $gateway = $Eni.Gateway
    if ($gateways.Count -gt 0) { $gateway = [string]$gateways[0] }
    $dns = @((Get-DnsClientServerAddress -InterfaceIndex $Index -AddressFamily IPv4).ServerAddresses)
    # The connection-specific DNS suffix DHCP handed out (option 15) goes
    # with the lease: keep it as a static suffix, unless one is set already.
    $static = [string](Get-DnsClient -InterfaceIndex $Index).ConnectionSpecificSuffix
    $suffix = $static
    if ($suffix -eq '') {
        $suffix = [string](Get-CimInstance Win32_NetworkAdapterConfiguration -Filter ('InterfaceIndex=' + $Index)).DNSDomain
    }
    Write-Step ('{0}: making DHCP address {1}/{2} static, gateway {3}, DNS {4}, suffix {5}' -f $Eni.Label, $Eni.Address, $prefix, $gateway, ($dns -join ', '), $suffix)
    try {
        Set-NetIPInterface -InterfaceIndex $Index -AddressFamily IPv4 -Dhcp Disabled
        Remove-Address $Index $Eni.Address
        Remove-DefaultRoutes $Index ''
        New-NetIPAddress -InterfaceIndex $Index -AddressFamily IPv4 -IPAddress $Eni.Address -PrefixLength $prefix -DefaultGateway $gateway | Out-Null
        if ($dns.Count -gt 0) {
            Set-DnsClientServerAddress -InterfaceIndex $Index -ServerAddresses $dns
        }
        if ($suffix -ne $static) {
            Set-DnsClient -InterfaceIndex $Index -ConnectionSpecificSuffix $suffix
        }
    } catch {
        $why = $_.Exception.Message
        # Better the old lease than no address at all.
        Set-NetIPInterface -InterfaceIndex $Index -AddressFamily IPv4 -Dhcp Enabled -ErrorAction SilentlyContinue
        Set-DnsClientServerAddress -InterfaceIndex $Index -ResetServerAddresses -ErrorAction SilentlyContinue
        Set-DnsClient -InterfaceIndex $Index -ConnectionSpecificSuffix $static -ErrorAction SilentlyContinue
        throw ('{0}: making the DHCP address static failed, DHCP turned back on: {1}' -f $Eni.Label, $why)
    }
}

function Set-PrimaryEni($Eni, [int]$Index) {
    if (@($Eni.Secondary).Count -eq 0) { return }
    $if = Get-NetIPInterface -InterfaceIndex $Index -AddressFamily IPv4
    if ($if.Dhcp -eq 'Enabled') { ConvertTo-Static $Eni $Index }
    foreach ($a in @($Eni.Secondary)) { Add-Address $Eni $Index $a $true }
}

function Set-SecondaryEni($Eni, [int]$Index) {
    $if = Get-NetIPInterface -InterfaceIndex $Index -AddressFamily IPv4
    if ($if.Dhcp -eq 'Enabled') {
        $leased = @(Get-NetIPAddress -InterfaceIndex $Index -AddressFamily IPv4 -PrefixOrigin Dhcp -ErrorAction SilentlyContinue | ForEach-Object { $_.IPAddress })
        if ($leased.Count -gt 0 -and $leased -notcontains $Eni.Address) {
            throw ('{0}: DHCP gave it {1}, not {2} as the lock says; run ecsnet observe, render again' -f $Eni.Label, ($leased -join ', '), $Eni.Address)
        }
        Set-NetIPInterface -InterfaceIndex $Index -AddressFamily IPv4 -Dhcp Disabled
        Write-Step ('{0}: DHCP turned off; the address comes from the lock' -f $Eni.Label)
    }
    Add-Address $Eni $Index $Eni.Address $false
    foreach ($a in @($Eni.Secondary)) { Add-Address $Eni $Index $a $true }
    $if = Get-NetIPInterface -InterfaceIndex $Index -AddressFamily IPv4
    if ($if.AutomaticMetric -eq 'Enabled' -or $if.InterfaceMetric -ne $Eni.InterfaceMetric) {
        Set-NetIPInterface -InterfaceIndex $Index -AddressFamily IPv4 -InterfaceMetric $Eni.InterfaceMetric
        Write-Step ('{0}: interface metric {1}' -f $Eni.Label, $Eni.InterfaceMetric)
    }
    if ($if.WeakHostSend -ne 'Disabled') {
        Set-NetIPInterface -InterfaceIndex $Index -AddressFamily IPv4 -WeakHostSend Disabled
        Write-Step ('{0}: WeakHostSend disabled' -f $Eni.Label)
    }
    Remove-DefaultRoutes $Index $Eni.Gateway
    $route = @(Get-NetRoute -InterfaceIndex $Index -AddressFamily IPv4 -DestinationPrefix '0.0.0.0/0' -ErrorAction SilentlyContinue | Where-Object { $_.NextHop -eq $Eni.Gateway })
    if ($route.Count -eq 0) {
        New-NetRoute -InterfaceIndex $Index -AddressFamily IPv4 -DestinationPrefix '0.0.0.0/0' -NextHop $Eni.Gateway | Out-Null
        Write-Step ('{0}: default route via {1} at metric {2}' -f $Eni.Label, $Eni.Gateway, $Eni.InterfaceMetric)
    }
}

# Reset-Eni undoes what an earlier run did to an ENI the file no longer
# has but that is still attached (it is about to be detached).
function Reset-Eni([string]$Key, $Old, [int]$Index) {
    foreach ($a in @($Old.Addresses)) { Remove-Address $Index $a }
    if ($Old.Static) {
        if ($Old.Gateway -ne '') { Remove-DefaultRoutes $Index '' }
        Set-NetIPInterface -InterfaceIndex $Index -AddressFamily IPv4 -AutomaticMetric Enabled
        Set-NetIPInterface -InterfaceIndex $Index -AddressFamily IPv4 -Dhcp Enabled
    }
    Write-Step ('adapter {0}: no longer in the file; removed what ecsnet had put there' -f $Key)
}

# Test-Eni lists what is not as the file says.
function Test-Eni($Eni, [int]$Index) {
    $bad = @()
    $want = @($Eni.Secondary)
    if (-not $Eni.Primary) { $want += $Eni.Address }
    foreach ($a in $want) {
        $have = @(Get-NetIPAddress -InterfaceIndex $Index -AddressFamily IPv4 -IPAddress $a -ErrorAction SilentlyContinue)
        if ($have.Count -eq 0) { $bad += ('{0}: {1} missing' -f $Eni.Label, $a); continue }
        $skip = [bool]($Eni.Primary -or $a -ne $Eni.Address)
        if ([bool]$have[0].SkipAsSource -ne $skip) { $bad += ('{0}: {1} SkipAsSource is not {2}' -f $Eni.Label, $a, $skip) }
    }
    if (-not $Eni.Primary) {
        $route = @(Get-NetRoute -InterfaceIndex $Index -AddressFamily IPv4 -DestinationPrefix '0.0.0.0/0' -ErrorAction SilentlyContinue | Where-Object { $_.NextHop -eq $Eni.Gateway })
        if ($route.Count -eq 0) { $bad += ('{0}: no default route via {1}' -f $Eni.Label, $Eni.Gateway) }
    }
    return $bad
}

function Invoke-Apply {
    Assert-Host
    $old = Read-State
    # A lock that has since learnt the primary ENI's MAC renames its record.
    $primaryKey = Get-EniKey $Enis[0]
    if ($primaryKey -ne 'primary' -and $old.ContainsKey('primary')) {
        $was = $old['primary']
        $old.Remove('primary')
        if ($old.ContainsKey($primaryKey)) {
            $old[$primaryKey].Addresses = @($old[$primaryKey].Addresses) + @($was.Addresses)
        } else {
            $old[$primaryKey] = $was
        }
    }
    $index = @{}
    foreach ($eni in $Enis) { $index[(Get-EniKey $eni)] = Get-AdapterIndex $eni }

    # Record every address this run may add before adding any, so that a
    # run cut short still knows what to remove later.
    $new = @{}
    foreach ($eni in $Enis) {
        $addrs = @($eni.Secondary)
        if (-not $eni.Primary) { $addrs += $eni.Address }
        $gateway = ''
        if (-not $eni.Primary) { $gateway = $eni.Gateway }
        $static = (-not $eni.Primary) -or (@($eni.Secondary).Count -gt 0)
        $new[(Get-EniKey $eni)] = @{ Addresses = $addrs; Gateway = $gateway; Static = $static }
    }
    $merged = @{}
    foreach ($key in $old.Keys) { $merged[$key] = $old[$key] }
    foreach ($key in $new.Keys) {
        if ($merged.ContainsKey($key)) {
            $merged[$key] = @{ Addresses = @($merged[$key].Addresses) + @($new[$key].Addresses); Gateway = $new[$key].Gateway; Static = ($merged[$key].Static -or $new[$key].Static) }
        } else {
            $merged[$key] = $new[$key]
        }
    }
    Write-State $merged

    # Removals first, so an address that moves between ENIs is free.
    foreach ($key in @($old.Keys)) {
        if ($new.ContainsKey($key)) {
            foreach ($a in @($old[$key].Addresses)) {
                if (@($new[$key].Addresses) -notcontains $a) {
                    Remove-Address $index[$key] $a
                    Write-Step ('adapter {0}: removed {1}, which the file no longer has' -f $key, $a)
                }
            }
            continue
        }
        $idx = Find-AdapterByKey $key
        if ($null -ne $idx) { Reset-Eni $key $old[$key] $idx }
    }

    foreach ($eni in $Enis) {
        $idx = $index[(Get-EniKey $eni)]
        if ($eni.Primary) { Set-PrimaryEni $eni $idx } else { Set-SecondaryEni $eni $idx }
    }

    $bad = @()
    foreach ($eni in $Enis) { $bad += @(Test-Eni $eni $index[(Get-EniKey $eni)]) }
    if ($bad.Count -gt 0) { throw ('after applying, the host still differs: ' + ($bad -join '; ')) }
    Write-State $new
    Write-Step ('{0}: network configuration is as the file says' -f $Instance)
}

try {
    Invoke-Apply
} catch {
    [Console]::Error.WriteLine('ecsnet: ' + $Instance + ': failed: ' + $_.Exception.Message)
    exit 1
}
exit 0
`
