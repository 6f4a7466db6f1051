
# ---- ecsnet payload probes (the same in every Windows payload) ----
#
# As on Linux (scripts/probe.sh): before the change, wait for each
# secondary ENI's adapter and record which services the host reaches;
# after the verification, probe each address on its adapter, a ping from
# each ENI's primary address to its vSwitch gateway (ping.exe -S: the
# Test-Connection of Windows PowerShell has no source address), and the
# metadata service and Cloud Assistant server when they answered before.
# Each result is one line: "ecsnet: <instance>: probe: <name>: ok|failed|
# skipped: <detail>"; a failed probe rolls the host back.

$MetadataAddr = '100.100.100.200'

# The probes not taken: the result line names them, so that a report
# never counts them as passed.
$ProbesSkipped = New-Object System.Collections.Generic.List[string]

function Write-Probe([string]$Name, [string]$Result, [string]$Detail) {
    [Console]::Out.WriteLine('ecsnet: ' + $Instance + ': probe: ' + $Name + ': ' + $Result + ': ' + $Detail)
    if ($Result -eq 'skipped') { $ProbesSkipped.Add($Name) }
}

# What the result line adds about the probes not taken.
function Get-ProbeResult {
    if ($ProbesSkipped.Count -eq 0) { return '' }
    return '; not probed: ' + ($ProbesSkipped -join ', ') + ' (the probe lines say why)'
}

function Test-ProbeOff([string]$Kind) {
    return (@($SkipProbes) -contains $Kind) -or (@($SkipProbes) -contains 'all')
}

# Wait-Macs: a hot-plugged NIC can appear some seconds after the API
# reports its ENI InUse. Refuses, naming the ENIs whose adapter never
# came, before anything is changed.
function Wait-Macs {
    $deadline = (Get-Date).AddSeconds($ProbeMacWait)
    $said = $false
    while ($true) {
        $missing = @()
        foreach ($e in $Want) {
            if ($e.Primary) { continue }
            if ($null -eq (Find-Adapter $e)) { $missing += ('{0}, MAC {1}' -f $e.Label, $e.Mac) }
        }
        if ($missing.Count -eq 0) { return }
        if ((Get-Date) -ge $deadline) { break }
        if (-not $said) {
            Write-Log ('waiting up to {0}s for the adapter of {1}' -f $ProbeMacWait, ($missing -join '; '))
            $said = $true
        }
        Start-Sleep -Seconds 1
    }
    Stop-Payload 3 ('refused: no adapter has the MAC of {0} after {1}s: is it attached to this instance? nothing was changed' -f ($missing -join '; '), $ProbeMacWait)
}

# Test-Tcp: whether a TCP connection to Address:Port opens within Seconds.
function Test-Tcp([string]$Address, [int]$Port, [int]$Seconds) {
    $c = New-Object Net.Sockets.TcpClient
    try {
        $r = $c.BeginConnect($Address, $Port, $null, $null)
        if (-not $r.AsyncWaitHandle.WaitOne($Seconds * 1000)) { return $false }
        $c.EndConnect($r)
        return $true
    } catch {
        return $false
    } finally {
        $c.Close()
    }
}

# Get-ServicesBefore: the metadata service and the Cloud Assistant server
# (https://<region>.axt.aliyun.com, TCP 443: see probe.sh for the page),
# each as @{ Name; Address; Port; State (reachable, unreachable or
# unknown); Detail }.
function Get-ServicesBefore {
    $out = @()
    $md = Test-Tcp $MetadataAddr 80 2
    $state = 'unreachable'
    if ($md) { $state = 'reachable' }
    $out += @{ Name = 'metadata'; Address = $MetadataAddr; Port = 80; State = $state; Detail = '' }
    if (-not $md) {
        $out += @{ Name = 'cloud-assistant'; Address = ''; Port = 443; State = 'unknown'; Detail = 'the metadata service, which names the region of its server, was not reachable before the change' }
        return $out
    }
    $region = ''
    try {
        $region = [string](Invoke-WebRequest -UseBasicParsing -TimeoutSec 2 -Uri ('http://' + $MetadataAddr + '/latest/meta-data/region-id')).Content
    } catch {
        $region = ''
    }
    if ($region -notmatch '^[a-z0-9-]+$') {
        $out += @{ Name = 'cloud-assistant'; Address = ''; Port = 443; State = 'unknown'; Detail = 'the metadata service did not name the region before the change' }
        return $out
    }
    $addr = ''
    try {
        $addr = [string](@([Net.Dns]::GetHostAddresses($region + '.axt.aliyun.com') | Where-Object { $_.AddressFamily -eq 'InterNetwork' })[0])
    } catch {
        $addr = ''
    }
    if ($addr -eq '') {
        $out += @{ Name = 'cloud-assistant'; Address = ''; Port = 443; State = 'unknown'; Detail = ($region + '.axt.aliyun.com did not resolve before the change') }
        return $out
    }
    $state = 'unreachable'
    if (Test-Tcp $addr 443 2) { $state = 'reachable' }
    $out += @{ Name = 'cloud-assistant'; Address = $addr; Port = 443; State = $state; Detail = '' }
    return $out
}

# Test-ProbeOnce: one try of one probe: @{ Ok; Detail }.
function Test-ProbeOnce($P) {
    switch ($P.Kind) {
        'address' {
            $idx = Find-Adapter $P.Eni
            if ($null -eq $idx) { return @{ Ok = $false; Detail = 'no adapter found' } }
            $missing = @()
            foreach ($a in @($P.Eni.Address) + @($P.Eni.Addresses | ForEach-Object { $_.Split('|')[0] })) {
                if (@(Get-NetIPAddress -InterfaceIndex $idx -AddressFamily IPv4 -IPAddress $a -ErrorAction SilentlyContinue).Count -eq 0) { $missing += $a }
            }
            if ($missing.Count -gt 0) { return @{ Ok = $false; Detail = ('not on interface {0}: {1}' -f $idx, ($missing -join ' ')) } }
            return @{ Ok = $true; Detail = ('on interface {0}' -f $idx) }
        }
        'gateway' {
            $out = @(& ping.exe -n 1 -w 1000 -S $P.Eni.Address $P.Eni.VSwitchGateway 2>&1)
            # ping.exe exits 0 for "Destination host unreachable" too: only
            # a reply (TTL=) counts.
            if (($out -join "`n") -match 'TTL=') { return @{ Ok = $true; Detail = ('{0} answers a ping from {1}' -f $P.Eni.VSwitchGateway, $P.Eni.Address) } }
            return @{ Ok = $false; Detail = ('no answer from {0} to a ping from {1}' -f $P.Eni.VSwitchGateway, $P.Eni.Address) }
        }
        'service' {
            $s = $P.Service
            if (Test-Tcp $s.Address $s.Port 2) { return @{ Ok = $true; Detail = ('{0}:{1} answers, as before the change' -f $s.Address, $s.Port) } }
            return @{ Ok = $false; Detail = ('{0}:{1} answered before the change and does not now' -f $s.Address, $s.Port) }
        }
    }
}

# Invoke-Probes: every probe, retried until $ProbeDeadline; then the
# results, and a rollback naming the first that failed.
function Invoke-Probes($Services) {
    Write-Log ('probing (up to {0}s)' -f $ProbeDeadline)
    $probes = @()
    foreach ($e in $Want) {
        $name = 'primary'
        if (-not $e.Primary) { $name = $e.Name }
        if (Test-ProbeOff 'address') { Write-Probe ('address ' + $name) 'skipped' 'turned off (--skip-probes)' }
        else { $probes += @{ Name = ('address ' + $name); Kind = 'address'; Eni = $e; Ok = $false; Detail = '' } }
        if (Test-ProbeOff 'gateway') { Write-Probe ('gateway ' + $name) 'skipped' 'turned off (--skip-probes)' }
        elseif ($null -eq (Get-Command ping.exe -ErrorAction SilentlyContinue)) { Write-Probe ('gateway ' + $name) 'skipped' 'ping.exe is not installed' }
        else { $probes += @{ Name = ('gateway ' + $name); Kind = 'gateway'; Eni = $e; Ok = $false; Detail = '' } }
    }
    foreach ($s in @($Services)) {
        if (Test-ProbeOff $s.Name) { Write-Probe $s.Name 'skipped' 'turned off (--skip-probes)' }
        elseif ($s.State -eq 'unknown') { Write-Probe $s.Name 'skipped' ('not probed: ' + $s.Detail) }
        elseif ($s.State -ne 'reachable') { Write-Probe $s.Name 'skipped' ('not probed: {0}:{1} was unreachable before the change' -f $s.Address, $s.Port) }
        else { $probes += @{ Name = $s.Name; Kind = 'service'; Service = $s; Ok = $false; Detail = '' } }
    }
    $deadline = (Get-Date).AddSeconds($ProbeDeadline)
    while ($true) {
        $failed = 0
        foreach ($p in $probes) {
            if ($p.Ok) { continue }
            $r = Test-ProbeOnce $p
            $p.Ok = $r.Ok
            $p.Detail = $r.Detail
            if (-not $r.Ok) { $failed++ }
        }
        if ($failed -eq 0 -or (Get-Date) -ge $deadline) { break }
        Start-Sleep -Seconds 1
    }
    $first = ''
    foreach ($p in $probes) {
        $result = 'ok'
        if (-not $p.Ok) { $result = 'failed' }
        Write-Probe $p.Name $result $p.Detail
        if (-not $p.Ok -and $first -eq '') { $first = $p.Name + ': ' + $p.Detail }
    }
    if ($first -eq '') { return }
    if ($failed -gt 1) { $first += (' (and {0} more, listed above)' -f ($failed - 1)) }
    Invoke-Rollback ('probe failed: ' + $first)
}
