# ecsnet verify payload: prints this host's adapters, IPv4 and IPv6
# addresses (with SkipAsSource) and default routes for ecsnet verify, on
# one line that starts with ECSNET-LIVE-1, and the addresses ecsnet's state records say
# it wrote (so that verify tells an address ecsnet wrote from a foreign
# one, as on Linux). It changes nothing.
$ErrorActionPreference = 'Stop'
$adapters = @(Get-NetAdapter | ForEach-Object { @{ ifindex = [int]$_.ifIndex; name = [string]$_.Name; mac = [string]$_.MacAddress; up = ([string]$_.Status -eq 'Up') } })
$addrs = @(Get-NetIPAddress -AddressFamily IPv4 | ForEach-Object { @{ ifindex = [int]$_.InterfaceIndex; address = [string]$_.IPAddress; prefixlen = [int]$_.PrefixLength; skip_as_source = [bool]$_.SkipAsSource } })
$routes = @(Get-NetRoute -AddressFamily IPv4 -DestinationPrefix '0.0.0.0/0' -ErrorAction SilentlyContinue | ForEach-Object { @{ ifindex = [int]$_.InterfaceIndex; gateway = [string]$_.NextHop } })
$addrs6 = @(Get-NetIPAddress -AddressFamily IPv6 -ErrorAction SilentlyContinue | ForEach-Object { @{ ifindex = [int]$_.InterfaceIndex; address = [string]$_.IPAddress; prefixlen = [int]$_.PrefixLength; skip_as_source = [bool]$_.SkipAsSource } })
$routes6 = @(Get-NetRoute -AddressFamily IPv6 -DestinationPrefix '::/0' -ErrorAction SilentlyContinue | ForEach-Object { @{ ifindex = [int]$_.InterfaceIndex; gateway = [string]$_.NextHop } })
# The state record of each fleet (ProgramData\ecsnet\<fleet>\state.json,
# written by ecsnet-apply.ps1): "FLEET KEY ADDRESS" for each address it
# lists. A record that cannot be read is left out: verify then counts its
# addresses as foreign, never as ecsnet's.
$written = @()
$base = Join-Path $env:ProgramData 'ecsnet'
if (Test-Path -LiteralPath $base) {
    foreach ($d in @(Get-ChildItem -LiteralPath $base -Directory -ErrorAction SilentlyContinue | Where-Object { $_.Name -match '^[A-Za-z0-9._-]+$' })) {
        $file = Join-Path $d.FullName 'state.json'
        if (-not (Test-Path -LiteralPath $file)) { continue }
        try {
            $doc = Get-Content -LiteralPath $file -Raw | ConvertFrom-Json
        } catch {
            continue
        }
        foreach ($e in @($doc.enis)) {
            foreach ($a in @($e.addresses)) {
                if ($a) { $written += ('{0} {1} {2}' -f $d.Name, [string]$e.key, [string]$a) }
            }
        }
    }
}
$json = ConvertTo-Json -InputObject @{ format = 'windows'; adapters = $adapters; addresses = $addrs; routes = $routes; addresses6 = $addrs6; routes6 = $routes6; written = $written } -Depth 4 -Compress
Write-Output ('ECSNET-LIVE-1 ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($json)))
