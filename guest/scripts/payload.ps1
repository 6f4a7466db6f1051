
# ---- ecsnet payload (the same in every Windows payload) ----
$StateDir = Join-Path $env:ProgramData ('ecsnet\' + $Fleet)
$StateFile = Join-Path $StateDir 'state.json'
$Current = Join-Path $StateDir 'current'
$LockDir = Join-Path $StateDir 'payload.lock'
$Work = $null
$Held = $false

# Output goes straight to the console, never into a function's return
# value.
function Write-Log([string]$Message) {
    [Console]::Out.WriteLine('ecsnet: ' + $Instance + ': ' + $Message)
}

function Stop-Payload([int]$Code, [string]$Message) {
    [Console]::Out.WriteLine('ecsnet: ' + $Instance + ': result: ' + $Message)
    if ($null -ne $Work -and (Test-Path -LiteralPath $Work)) { Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue }
    if ($Held) { Remove-Item -LiteralPath $LockDir -Recurse -Force -ErrorAction SilentlyContinue }
    exit $Code
}

function Get-Sha256([byte[]]$Data) {
    $sha = [Security.Cryptography.SHA256]::Create()
    return (-join ($sha.ComputeHash($Data) | ForEach-Object { $_.ToString('x2') }))
}

function Expand-Bundle {
    $gz = [Convert]::FromBase64String(($Bundle -replace '\s', ''))
    $in = New-Object IO.MemoryStream(, $gz)
    $zip = New-Object IO.Compression.GZipStream($in, [IO.Compression.CompressionMode]::Decompress)
    $out = New-Object IO.MemoryStream
    $buf = New-Object byte[] 65536
    while (($n = $zip.Read($buf, 0, $buf.Length)) -gt 0) { $out.Write($buf, 0, $n) }
    $zip.Close()
    return $out.ToArray()
}

# One payload at a time per fleet; a lock left by a run that died is
# taken over.
function Enter-Lock {
    for ($i = 0; $i -lt 600; $i++) {
        try {
            New-Item -ItemType Directory -Path $LockDir -ErrorAction Stop | Out-Null
            [IO.File]::WriteAllText((Join-Path $LockDir 'pid'), [string]$PID)
            $script:Held = $true
            return
        } catch {
            $holder = ''
            try { $holder = [IO.File]::ReadAllText((Join-Path $LockDir 'pid')).Trim() } catch { }
            if ($holder -ne '' -and -not (Get-Process -Id ([int]$holder) -ErrorAction SilentlyContinue)) {
                Remove-Item -LiteralPath $LockDir -Recurse -Force -ErrorAction SilentlyContinue
                continue
            }
            Start-Sleep -Milliseconds 500
        }
    }
    Stop-Payload 1 ('another ecsnet payload holds ' + $LockDir + '; nothing was changed')
}

# Get-Snapshot returns the live state as sorted lines: addresses
# (ifIndex|address|prefix|SkipAsSource), interfaces (ifIndex|Dhcp|
# AutomaticMetric|InterfaceMetric), default routes (ifIndex|next hop) and
# DNS (ifIndex|servers|connection-specific suffix, as configured: servers
# a DHCP interface learnt from its lease are not listed).
function Get-Snapshot {
    $addrs = @(Get-NetIPAddress -AddressFamily IPv4 -ErrorAction SilentlyContinue | Where-Object { $_.IPAddress -notlike '127.*' -and $_.IPAddress -notlike '169.254.*' } |
        ForEach-Object { '{0}|{1}|{2}|{3}' -f $_.InterfaceIndex, $_.IPAddress, $_.PrefixLength, [bool]$_.SkipAsSource })
    $ifs = @(Get-NetIPInterface -AddressFamily IPv4 -ErrorAction SilentlyContinue | Where-Object { $_.InterfaceAlias -notlike 'Loopback*' } |
        ForEach-Object { '{0}|{1}|{2}|{3}' -f $_.InterfaceIndex, $_.Dhcp, $_.AutomaticMetric, $_.InterfaceMetric })
    $routes = @(Get-NetRoute -AddressFamily IPv4 -DestinationPrefix '0.0.0.0/0' -ErrorAction SilentlyContinue |
        ForEach-Object { '{0}|{1}' -f $_.InterfaceIndex, $_.NextHop })
    $dns = @(Get-DnsClient -ErrorAction SilentlyContinue | Where-Object { $_.InterfaceAlias -notlike 'Loopback*' } |
        ForEach-Object { '{0}|{1}|{2}' -f $_.InterfaceIndex, (Get-StaticDns $_.InterfaceIndex), $_.ConnectionSpecificSuffix })
    return @{ Addrs = @($addrs | Sort-Object); Ifs = @($ifs | Sort-Object); Routes = @($routes | Sort-Object); Dns = @($dns | Sort-Object) }
}

# Get-StaticDns returns the DNS servers set on an interface by hand (or by
# a script), comma-separated: what Set-DnsClientServerAddress wrote to the
# interface's NameServer value. Servers learnt from DHCP are not there.
function Get-StaticDns([int]$Index) {
    $guid = [string](Get-NetAdapter -InterfaceIndex $Index -ErrorAction SilentlyContinue).InterfaceGuid
    if ($guid -eq '') { return '' }
    $key = 'HKLM:\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters\Interfaces\' + $guid
    $v = Get-ItemProperty -LiteralPath $key -Name NameServer -ErrorAction SilentlyContinue
    if ($null -eq $v) { return '' }
    return ([string]$v.NameServer -replace '[ ;]+', ',')
}

# Compare-Snapshot lists the differences between two snapshots.
function Compare-Snapshot($A, $B) {
    $diff = @()
    foreach ($kind in @('Addrs', 'Ifs', 'Routes', 'Dns')) {
        foreach ($x in @($A[$kind])) { if (@($B[$kind]) -notcontains $x) { $diff += ('missing ' + $kind + ': ' + $x) } }
        foreach ($x in @($B[$kind])) { if (@($A[$kind]) -notcontains $x) { $diff += ('extra ' + $kind + ': ' + $x) } }
    }
    return $diff
}

function Find-Adapter($Eni) {
    if ($Eni.Mac -ne '') {
        $found = @(Get-NetAdapter -ErrorAction SilentlyContinue | Where-Object { $_.MacAddress -eq $Eni.Mac })
        if ($found.Count -eq 1) { return [int]$found[0].ifIndex }
        return $null
    }
    $found = @(Get-NetIPAddress -AddressFamily IPv4 -IPAddress $Eni.Address -ErrorAction SilentlyContinue)
    if ($found.Count -eq 1) { return [int]$found[0].InterfaceIndex }
    return $null
}

# Test-Live lists what the live state lacks of the rendered one.
function Test-Live {
    $bad = @()
    foreach ($e in $Want) {
        $idx = Find-Adapter $e
        if ($null -eq $idx) { $bad += ($e.Label + ': no adapter'); continue }
        foreach ($entry in @($e.Addresses)) {
            $f = $entry.Split('|')
            $have = @(Get-NetIPAddress -InterfaceIndex $idx -AddressFamily IPv4 -IPAddress $f[0] -ErrorAction SilentlyContinue)
            if ($have.Count -eq 0) { $bad += ('{0}: {1} is missing' -f $e.Label, $f[0]); continue }
            if ([string][bool]$have[0].SkipAsSource -ne $f[1]) { $bad += ('{0}: {1} has SkipAsSource {2}, want {3}' -f $e.Label, $f[0], [bool]$have[0].SkipAsSource, $f[1]) }
        }
        if ($e.Gateway -ne '') {
            $route = @(Get-NetRoute -InterfaceIndex $idx -AddressFamily IPv4 -DestinationPrefix '0.0.0.0/0' -ErrorAction SilentlyContinue | Where-Object { $_.NextHop -eq $e.Gateway })
            if ($route.Count -eq 0) { $bad += ('{0}: no default route via {1}' -f $e.Label, $e.Gateway) }
        }
    }
    if ($FailVerify -ne '') { $bad += $FailVerify }
    return $bad
}

# Invoke-Script runs an apply script in its own PowerShell and returns its
# exit code; its output becomes ours.
function Invoke-Script([string]$Path) {
    $ps = Join-Path $PSHOME 'powershell.exe'
    $saved = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    $out = & $ps -NoProfile -NonInteractive -ExecutionPolicy Bypass -File $Path 2>&1
    $rc = $LASTEXITCODE
    $ErrorActionPreference = $saved
    foreach ($line in @($out)) { [Console]::Out.WriteLine([string]$line) }
    return $rc
}

# Restore-Live puts the interfaces, addresses and default routes back as
# Before has them. DHCP interfaces get their address and route from DHCP.
function Restore-Live($Before) {
    $now = Get-Snapshot
    $dhcp = @{}
    foreach ($line in @($Before.Ifs)) {
        $f = $line.Split('|')
        if ($f[1] -eq 'Enabled') { $dhcp[$f[0]] = $true }
        $cur = @($now.Ifs | Where-Object { $_.Split('|')[0] -eq $f[0] })
        if ($cur.Count -eq 0 -or $cur[0] -eq $line) { continue }
        $c = $cur[0].Split('|')
        if ($c[1] -ne $f[1]) { Set-NetIPInterface -InterfaceIndex ([int]$f[0]) -AddressFamily IPv4 -Dhcp $f[1] -ErrorAction SilentlyContinue }
        if ($f[2] -eq 'Enabled') {
            Set-NetIPInterface -InterfaceIndex ([int]$f[0]) -AddressFamily IPv4 -AutomaticMetric Enabled -ErrorAction SilentlyContinue
        } elseif ($c[2] -ne $f[2] -or $c[3] -ne $f[3]) {
            Set-NetIPInterface -InterfaceIndex ([int]$f[0]) -AddressFamily IPv4 -InterfaceMetric ([int]$f[3]) -ErrorAction SilentlyContinue
        }
    }
    $now = Get-Snapshot
    foreach ($line in @($now.Routes)) {
        if (@($Before.Routes) -contains $line) { continue }
        $f = $line.Split('|')
        Remove-NetRoute -InterfaceIndex ([int]$f[0]) -DestinationPrefix '0.0.0.0/0' -NextHop $f[1] -Confirm:$false -ErrorAction SilentlyContinue
    }
    foreach ($line in @($now.Addrs)) {
        if (@($Before.Addrs) -contains $line) { continue }
        $f = $line.Split('|')
        $was = @($Before.Addrs | Where-Object { $_ -like ($f[0] + '|' + $f[1] + '|*') })
        if ($was.Count -gt 0 -and $was[0].Split('|')[2] -eq $f[2]) {
            Set-NetIPAddress -InterfaceIndex ([int]$f[0]) -IPAddress $f[1] -SkipAsSource ([bool]::Parse($was[0].Split('|')[3])) -ErrorAction SilentlyContinue
            continue
        }
        Remove-NetIPAddress -InterfaceIndex ([int]$f[0]) -IPAddress $f[1] -Confirm:$false -ErrorAction SilentlyContinue
    }
    $now = Get-Snapshot
    foreach ($line in @($Before.Addrs)) {
        if (@($now.Addrs) -contains $line) { continue }
        $f = $line.Split('|')
        if ($dhcp.ContainsKey($f[0])) { continue }
        New-NetIPAddress -InterfaceIndex ([int]$f[0]) -AddressFamily IPv4 -IPAddress $f[1] -PrefixLength ([int]$f[2]) -SkipAsSource ([bool]::Parse($f[3])) -ErrorAction SilentlyContinue | Out-Null
    }
    foreach ($line in @($Before.Routes)) {
        if (@($now.Routes) -contains $line) { continue }
        $f = $line.Split('|')
        if ($dhcp.ContainsKey($f[0])) { continue }
        New-NetRoute -InterfaceIndex ([int]$f[0]) -AddressFamily IPv4 -DestinationPrefix '0.0.0.0/0' -NextHop $f[1] -ErrorAction SilentlyContinue | Out-Null
    }
    # DNS servers and suffix as they were: none configured means those of
    # the DHCP lease.
    foreach ($line in @($Before.Dns)) {
        if (@($now.Dns) -contains $line) { continue }
        $f = $line.Split('|')
        if ($f[1] -eq '') {
            Set-DnsClientServerAddress -InterfaceIndex ([int]$f[0]) -ResetServerAddresses -ErrorAction SilentlyContinue
        } else {
            Set-DnsClientServerAddress -InterfaceIndex ([int]$f[0]) -ServerAddresses $f[1].Split(',') -ErrorAction SilentlyContinue
        }
        Set-DnsClient -InterfaceIndex ([int]$f[0]) -ConnectionSpecificSuffix $f[2] -ErrorAction SilentlyContinue
    }
}

function Invoke-Rollback([string]$Why) {
    Write-Log ('warning: ' + $Why + '; rolling back')
    $prev = Join-Path $Current 'ecsnet-apply.ps1'
    if (Test-Path -LiteralPath $prev) {
        $copy = Join-Path $Work 'previous.ps1'
        Copy-Item -LiteralPath $prev -Destination $copy -Force
        Write-Log 're-running the previous script'
        $rc = Invoke-Script $copy
        if ($rc -ne 0) { Write-Log ('warning: the previous script failed (exit {0}); restoring from the backup' -f $rc) }
    }
    $saved = Join-Path $Work 'state.json'
    if (Test-Path -LiteralPath $saved) {
        Copy-Item -LiteralPath $saved -Destination $StateFile -Force
    } elseif (Test-Path -LiteralPath $StateFile) {
        Remove-Item -LiteralPath $StateFile -Force
    }
    try { Restore-Live $Before } catch { Write-Log ('warning: restoring the live state: ' + $_.Exception.Message) }
    $diff = @()
    for ($i = 0; $i -lt 60; $i++) {
        $diff = @(Compare-Snapshot $Before (Get-Snapshot))
        if ($diff.Count -eq 0) { Stop-Payload 5 ('rolled back: ' + $Why + '; the host is as it was before') }
        Start-Sleep -Seconds 1
    }
    foreach ($d in $diff) { Write-Log $d }
    Stop-Payload 6 ('rollback incomplete: ' + $Why + '; the host differs from before (listed above): fix it by hand')
}

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Stop-Payload 3 'refused: run as Administrator (Cloud Assistant runs as System by default); nothing was changed'
}
$Started = $false
$Before = $null
try {
    if (-not (Test-Path -LiteralPath $StateDir)) { New-Item -ItemType Directory -Path $StateDir -Force | Out-Null }
    $Work = Join-Path $StateDir ('run-' + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $Work | Out-Null
    Enter-Lock
    $data = Expand-Bundle
    if ((Get-Sha256 $data) -ne $ScriptSha256) { Stop-Payload 1 'the payload is damaged (its script does not check out); nothing was changed' }
    $scriptPath = Join-Path $Work 'ecsnet-apply.ps1'
    [IO.File]::WriteAllBytes($scriptPath, $data)
    Wait-Macs
    $services = @(Get-ServicesBefore)
    $Before = Get-Snapshot
    if (Test-Path -LiteralPath $StateFile) { Copy-Item -LiteralPath $StateFile -Destination (Join-Path $Work 'state.json') -Force }
    Write-Log 'applying ecsnet-apply.ps1'
    $Started = $true
    $rc = Invoke-Script $scriptPath
    if ($rc -ne 0) { Invoke-Rollback ('ecsnet-apply.ps1 failed with exit ' + $rc) }
    Write-Log 'verifying the live state'
    $bad = @(Test-Live)
    if ($bad.Count -gt 0) { Invoke-Rollback ('verification failed: ' + ($bad -join '; ')) }
    Invoke-Probes $services
    if (-not (Test-Path -LiteralPath $Current)) { New-Item -ItemType Directory -Path $Current | Out-Null }
    Copy-Item -LiteralPath $scriptPath -Destination (Join-Path $Current 'ecsnet-apply.ps1.new') -Force
    Move-Item -LiteralPath (Join-Path $Current 'ecsnet-apply.ps1.new') -Destination (Join-Path $Current 'ecsnet-apply.ps1') -Force
    Stop-Payload 0 ('applied and verified' + (Get-ProbeResult))
} catch {
    $why = $_.Exception.Message
    if ($Started) { Invoke-Rollback ('the payload failed: ' + $why) }
    Stop-Payload 1 ('the payload failed before changing anything: ' + $why)
}
