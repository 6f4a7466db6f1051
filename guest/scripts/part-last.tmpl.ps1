$all = New-Object IO.MemoryStream
for ($i = 1; $i -le %[1]d; $i++) {
    $p = Join-Path $d ([string]$i)
    if (-not (Test-Path -LiteralPath $p)) {
        [Console]::Error.WriteLine('ecsnet: part ' + $i + ' of the payload is missing; nothing was run')
        Remove-Item -LiteralPath $d -Recurse -Force -ErrorAction SilentlyContinue
        exit 1
    }
    $bytes = [IO.File]::ReadAllBytes($p)
    $all.Write($bytes, 0, $bytes.Length)
}
$all.Position = 0
$zip = New-Object IO.Compression.GZipStream($all, [IO.Compression.CompressionMode]::Decompress)
$plain = New-Object IO.MemoryStream
$buf = New-Object byte[] 65536
while (($n = $zip.Read($buf, 0, $buf.Length)) -gt 0) { $plain.Write($buf, 0, $n) }
$data = $plain.ToArray()
$sum = -join ([Security.Cryptography.SHA256]::Create().ComputeHash($data) | ForEach-Object { $_.ToString('x2') })
if ($sum -ne '%[2]s') {
    [Console]::Error.WriteLine('ecsnet: the payload does not check out; nothing was run')
    Remove-Item -LiteralPath $d -Recurse -Force -ErrorAction SilentlyContinue
    exit 1
}
$file = Join-Path $d 'payload.ps1'
[IO.File]::WriteAllBytes($file, $data)
& (Join-Path $PSHOME 'powershell.exe') -NoProfile -NonInteractive -ExecutionPolicy Bypass -File $file
$rc = $LASTEXITCODE
Remove-Item -LiteralPath $d -Recurse -Force -ErrorAction SilentlyContinue
exit $rc
