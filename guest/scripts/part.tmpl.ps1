# ecsnet payload %[1]s, part %[2]d of %[3]d: stores a piece of the compressed
# payload on the host; the last part joins the pieces and runs the payload.
$ErrorActionPreference = 'Stop'
$d = Join-Path $env:ProgramData 'ecsnet\.incoming\%[4]s'
New-Item -ItemType Directory -Force -Path $d | Out-Null
$piece = @'
%[5]s'@
[IO.File]::WriteAllBytes((Join-Path $d 'part.tmp'), [Convert]::FromBase64String(($piece -replace '\s', '')))
Move-Item -Force -LiteralPath (Join-Path $d 'part.tmp') -Destination (Join-Path $d '%[6]d')
