# ecsnet verify payload: prints this host's adapters, IPv4 addresses (with
# SkipAsSource) and default routes for ecsnet verify, on one line that
# starts with ECSNET-LIVE-1. It changes nothing.
$ErrorActionPreference = 'Stop'
$adapters = @(Get-NetAdapter | ForEach-Object { @{ ifindex = [int]$_.ifIndex; name = [string]$_.Name; mac = [string]$_.MacAddress; up = ([string]$_.Status -eq 'Up') } })
$addrs = @(Get-NetIPAddress -AddressFamily IPv4 | ForEach-Object { @{ ifindex = [int]$_.InterfaceIndex; address = [string]$_.IPAddress; prefixlen = [int]$_.PrefixLength; skip_as_source = [bool]$_.SkipAsSource } })
$routes = @(Get-NetRoute -AddressFamily IPv4 -DestinationPrefix '0.0.0.0/0' -ErrorAction SilentlyContinue | ForEach-Object { @{ ifindex = [int]$_.InterfaceIndex; gateway = [string]$_.NextHop } })
$json = ConvertTo-Json -InputObject @{ format = 'windows'; adapters = $adapters; addresses = $addrs; routes = $routes } -Depth 4 -Compress
Write-Output ('ECSNET-LIVE-1 ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($json)))
