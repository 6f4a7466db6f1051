
# ---- How to get there (the same for every host) ----
$StateDir = Join-Path $env:ProgramData ('ecsnet\' + $Fleet)
$StateFile = Join-Path $StateDir 'state.json'

function Write-Step([string]$Message) {
    Write-Output ('ecsnet: ' + $Message)
}

# Get-Family says which address family an address (or prefix) is of.
function Get-Family([string]$Address) {
    if ($Address.Contains(':')) { return 'IPv6' }
    return 'IPv4'
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
        $state[[string]$e.key] = @{ Addresses = @($e.addresses | Where-Object { $_ } | ForEach-Object { [string]$_ }); Gateway = [string]$e.gateway; Gateway6 = [string]$e.gateway6; Static = [bool]$e.static }
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
        $e = @{ key = $key; addresses = @($s.Addresses | Sort-Object -Unique); gateway = $s.Gateway; static = $s.Static }
        if ([string]$s.Gateway6 -ne '') { $e.gateway6 = $s.Gateway6 }
        $enis += $e
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
        $have = @(Get-NetIPAddress -InterfaceIndex $Index -AddressFamily (Get-Family $Address) -IPAddress $Address -PolicyStore $store -ErrorAction SilentlyContinue)
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

# Remove-DefaultRoutes6 is Remove-DefaultRoutes for IPv6 (::/0).
function Remove-DefaultRoutes6([int]$Index, [string]$Except) {
    foreach ($store in @('ActiveStore', 'PersistentStore')) {
        $routes = @(Get-NetRoute -InterfaceIndex $Index -AddressFamily IPv6 -DestinationPrefix '::/0' -PolicyStore $store -ErrorAction SilentlyContinue)
        foreach ($r in $routes) {
            if ($r.NextHop -ne $Except) {
                Remove-NetRoute -InterfaceIndex $Index -DestinationPrefix '::/0' -NextHop $r.NextHop -PolicyStore $store -Confirm:$false
            }
        }
    }
}

# Add-Address puts an address on an adapter unless it is there already,
# and sets its SkipAsSource either way. An IPv6 address takes the length
# of the vSwitch's IPv6 block.
function Add-Address($Eni, [int]$Index, [string]$Address, [bool]$SkipAsSource) {
    $family = Get-Family $Address
    $length = $Eni.PrefixLength
    if ($family -eq 'IPv6') { $length = $Eni.IPv6PrefixLength }
    $have = @(Get-NetIPAddress -AddressFamily $family -IPAddress $Address -ErrorAction SilentlyContinue)
    $elsewhere = @($have | Where-Object { $_.InterfaceIndex -ne $Index })
    if ($elsewhere.Count -gt 0) {
        throw ('{0}: {1} is already on another adapter (ifIndex {2}); remove it there first' -f $Eni.Label, $Address, $elsewhere[0].InterfaceIndex)
    }
    $mine = @($have | Where-Object { $_.InterfaceIndex -eq $Index })
    if ($mine.Count -gt 0 -and $mine[0].PrefixLength -ne $length) {
        Write-Step ('{0}: {1}/{2} has the wrong prefix length; replacing it with /{3}' -f $Eni.Label, $Address, $mine[0].PrefixLength, $length)
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
    New-NetIPAddress -InterfaceIndex $Index -AddressFamily $family -IPAddress $Address -PrefixLength $length -SkipAsSource $SkipAsSource | Out-Null
    Write-Step ('{0}: added {1}/{2}' -f $Eni.Label, $Address, $length)
}

# Set-Eni6 gives an ENI its IPv6 addresses (the first one a source, the
# others SkipAsSource, as the IPv4 secondaries), the addresses of the
# IPv4 prefixes the host answers for (SkipAsSource), and its IPv6 default
# route via the vSwitch's IPv6 gateway (the first of the block's reserved
# tail addresses; Alibaba Cloud documents no router advertisements). A
# secondary ENI's route has the interface's high metric, as its IPv4 one.
function Set-Eni6($Eni, [int]$Index) {
    foreach ($a in @($Eni.PrefixAddresses)) { Add-Address $Eni $Index $a $true }
    $v6 = @($Eni.IPv6)
    if ($v6.Count -eq 0) { return }
    for ($i = 0; $i -lt $v6.Count; $i++) { Add-Address $Eni $Index $v6[$i] ($i -gt 0) }
    if (-not $Eni.Primary) {
        $if = Get-NetIPInterface -InterfaceIndex $Index -AddressFamily IPv6
        if ($if.AutomaticMetric -eq 'Enabled' -or $if.InterfaceMetric -ne $Eni.InterfaceMetric) {
            Set-NetIPInterface -InterfaceIndex $Index -AddressFamily IPv6 -InterfaceMetric $Eni.InterfaceMetric
            Write-Step ('{0}: IPv6 interface metric {1}' -f $Eni.Label, $Eni.InterfaceMetric)
        }
        if ($if.WeakHostSend -ne 'Disabled') {
            Set-NetIPInterface -InterfaceIndex $Index -AddressFamily IPv6 -WeakHostSend Disabled
            Write-Step ('{0}: IPv6 WeakHostSend disabled' -f $Eni.Label)
        }
    }
    Remove-DefaultRoutes6 $Index $Eni.IPv6Gateway
    $route = @(Get-NetRoute -InterfaceIndex $Index -AddressFamily IPv6 -DestinationPrefix '::/0' -ErrorAction SilentlyContinue | Where-Object { $_.NextHop -eq $Eni.IPv6Gateway })
    if ($route.Count -eq 0) {
        New-NetRoute -InterfaceIndex $Index -AddressFamily IPv6 -DestinationPrefix '::/0' -NextHop $Eni.IPv6Gateway | Out-Null
        Write-Step ('{0}: IPv6 default route via {1}' -f $Eni.Label, $Eni.IPv6Gateway)
    }
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
    if ([string]$Old.Gateway6 -ne '') { Remove-DefaultRoutes6 $Index '' }
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
    foreach ($a in @($Eni.PrefixAddresses)) {
        $have = @(Get-NetIPAddress -InterfaceIndex $Index -AddressFamily IPv4 -IPAddress $a -ErrorAction SilentlyContinue)
        if ($have.Count -eq 0) { $bad += ('{0}: {1} (of a prefix) missing' -f $Eni.Label, $a) }
    }
    $v6 = @($Eni.IPv6)
    for ($i = 0; $i -lt $v6.Count; $i++) {
        $have = @(Get-NetIPAddress -InterfaceIndex $Index -AddressFamily IPv6 -IPAddress $v6[$i] -ErrorAction SilentlyContinue)
        if ($have.Count -eq 0) { $bad += ('{0}: {1} missing' -f $Eni.Label, $v6[$i]); continue }
        if ([bool]$have[0].SkipAsSource -ne ($i -gt 0)) { $bad += ('{0}: {1} SkipAsSource is not {2}' -f $Eni.Label, $v6[$i], ($i -gt 0)) }
    }
    if ($v6.Count -gt 0) {
        $route = @(Get-NetRoute -InterfaceIndex $Index -AddressFamily IPv6 -DestinationPrefix '::/0' -ErrorAction SilentlyContinue | Where-Object { $_.NextHop -eq $Eni.IPv6Gateway })
        if ($route.Count -eq 0) { $bad += ('{0}: no IPv6 default route via {1}' -f $Eni.Label, $Eni.IPv6Gateway) }
    }
    return $bad
}

function Invoke-Apply {
    Assert-Host
    # An ENI without IPv6 or prefixes on the host has no such keys: @($null)
    # would be a list of one.
    foreach ($eni in $Enis) {
        foreach ($k in @('IPv6', 'PrefixAddresses')) {
            if (-not $eni.ContainsKey($k)) { $eni[$k] = @() }
        }
    }
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
        $addrs = @($eni.Secondary) + @($eni.IPv6) + @($eni.PrefixAddresses)
        if (-not $eni.Primary) { $addrs += $eni.Address }
        $gateway = ''
        if (-not $eni.Primary) { $gateway = $eni.Gateway }
        $gateway6 = ''
        if (@($eni.IPv6).Count -gt 0) { $gateway6 = [string]$eni.IPv6Gateway }
        $static = (-not $eni.Primary) -or (@($eni.Secondary).Count -gt 0)
        $new[(Get-EniKey $eni)] = @{ Addresses = $addrs; Gateway = $gateway; Gateway6 = $gateway6; Static = $static }
    }
    $merged = @{}
    foreach ($key in $old.Keys) { $merged[$key] = $old[$key] }
    foreach ($key in $new.Keys) {
        if ($merged.ContainsKey($key)) {
            $gateway6 = $new[$key].Gateway6
            if ($gateway6 -eq '') { $gateway6 = [string]$merged[$key].Gateway6 }
            $merged[$key] = @{ Addresses = @($merged[$key].Addresses) + @($new[$key].Addresses); Gateway = $new[$key].Gateway; Gateway6 = $gateway6; Static = ($merged[$key].Static -or $new[$key].Static) }
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
            if ([string]$old[$key].Gateway6 -ne '' -and $new[$key].Gateway6 -eq '') {
                Remove-DefaultRoutes6 $index[$key] ''
                Write-Step ('adapter {0}: removed the IPv6 default route, which the file no longer has' -f $key)
            }
            continue
        }
        $idx = Find-AdapterByKey $key
        if ($null -ne $idx) { Reset-Eni $key $old[$key] $idx }
    }

    foreach ($eni in $Enis) {
        $idx = $index[(Get-EniKey $eni)]
        if ($eni.Primary) { Set-PrimaryEni $eni $idx } else { Set-SecondaryEni $eni $idx }
        Set-Eni6 $eni $idx
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
