#!/bin/bash
# ecsnet payload %[1]s, part %[2]d of %[3]d: stores a piece of the compressed
# payload on the host; the last part joins the pieces and runs the payload.
set -eu
umask 077
d="${ROOT:-/}"
d="${d%%/}/var/lib/ecsnet/.incoming/%[4]s"
mkdir -p "$d"
base64 -d >"$d/%[5]d.tmp" <<'ECSNET_PART'
%[6]sECSNET_PART
mv -f "$d/%[7]d.tmp" "$d/%[8]d"
