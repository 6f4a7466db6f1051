for ((i = 1; i <= %[1]d; i++)); do
	[ -f "$d/$i" ] || { echo "ecsnet: part $i of the payload is missing; nothing was run" >&2; rm -rf "$d"; exit 1; }
	cat "$d/$i"
done | gzip -dc >"$d/payload"
if [ "$(sha256sum <"$d/payload" | cut -d' ' -f1)" != %[2]s ]; then
	echo "ecsnet: payload %[3]s does not check out; nothing was run" >&2
	rm -rf "$d"
	exit 1
fi
rc=0
bash "$d/payload" || rc=$?
rm -rf "$d"
exit "$rc"
