package render

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/ecsnet/ecsnet/schema"
)

// This file packs a host's bundle into what Cloud Assistant runs: one
// self-contained script (a payload), split into invocations when it is
// longer than RunCommand takes.
//
// The Linux apply payload is a bash script that carries the bundle as a
// tar.gz in a Base64 heredoc. On the host, by itself, so that a lost
// connection cannot strand it half-way (the netplan-try and
// nmstate-rollback idea), it:
//
//  1. extracts the bundle into a private directory under
//     /var/lib/ecsnet/<fleet>/ and checks its sha256;
//  2. records the live state (addresses, rules, routes, links) and backs
//     up every file it may replace (the bundle's paths, those the last
//     run recorded, the state record and the kept originals);
//  3. runs ecsnet-apply.sh apply, then ecsnet-apply.sh verify against
//     the live state;
//  4. if either fails: re-applies the previous bundle (kept from the last
//     run that succeeded, with the failed run's state record in place, so
//     that it removes what the failed run added), restores the backed-up
//     files, puts the live state back as it was recorded, compares, and
//     exits non-zero with the reason;
//  5. if both succeed: keeps the bundle as the previous one for next time.
//
// The Windows payload does the same in PowerShell around ecsnet-apply.ps1,
// verifying with Get-NetIPAddress (addresses, SkipAsSource) and
// Get-NetRoute.
//
// Payload exit codes: 0 applied and verified; 3 refused before changing
// anything; 5 failed and rolled back (the host is as it was); 6 failed
// and the rollback left differences (printed: fix by hand); 1 the payload
// itself could not run (nothing changed). The last line of the output is
// always "ecsnet: <instance>: result: ...".

// Payload modes.
const (
	// PayloadApply backs up, applies, verifies and rolls back on failure.
	PayloadApply = "apply"
	// PayloadVerify changes nothing: it prints the live state (see
	// ParseLive) for drift comparison.
	PayloadVerify = "verify"
)

// Exit codes of an apply payload.
const (
	PayloadApplied    = 0
	PayloadFailed     = 1 // the payload could not run; nothing was changed
	PayloadRefused    = 3 // refused before changing anything
	PayloadRolledBack = 5 // failed; the host was put back as it was
	PayloadStranded   = 6 // failed; the rollback left differences
)

// PayloadOptions adjust Payload. The zero value is what apply and push
// deliver.
type PayloadOptions struct {
	// FailVerify makes the verification after the apply fail with this
	// reason, so that the rollback runs: for drills and tests of the
	// rollback on a real host. Empty in normal use.
	FailVerify string
}

// bundleTime is the modification time of every file in a payload's
// archive: a constant, so the same bundle always gives the same bytes
// (GNU tar warns about times before 1970 and in the future, not this).
var bundleTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Payload packs a host's bundle (files from ForHost) into one
// self-contained script for Cloud Assistant: bash for Linux
// (RunShellScript), PowerShell for Windows (RunPowerShellScript, ASCII
// only). mode is PayloadApply or PayloadVerify; a verify payload ignores
// files and is the same for every host of an OS. The same input always
// gives the same bytes.
func Payload(h *Host, files []File, mode string, opts PayloadOptions) ([]byte, error) {
	windows := h.Stack == schema.StackWindows
	switch mode {
	case PayloadVerify:
		if windows {
			return []byte(crlf(psVerifyPayload)), nil
		}
		return []byte(shVerifyPayload), nil
	case PayloadApply:
	default:
		return nil, fmt.Errorf("payload %s: mode %q is not apply or verify", h.Name, mode)
	}
	if err := checkPayloadHost(h); err != nil {
		return nil, fmt.Errorf("payload %s: %w", h.Name, err)
	}
	if strings.ContainsFunc(opts.FailVerify, func(r rune) bool { return r < 0x20 || r >= 0x7f }) {
		return nil, fmt.Errorf("payload %s: FailVerify must be printable ASCII", h.Name)
	}
	if windows {
		return psPayload(h, files, opts)
	}
	return shPayload(h, files, opts)
}

// checkPayloadHost validates the values that reach a payload's data
// section (the renderers check the rest).
func checkPayloadHost(h *Host) error {
	if !validFleet(h.Fleet) {
		return fmt.Errorf("fleet name %q is not tag-safe", h.Fleet)
	}
	if !validName(h.Name) {
		return fmt.Errorf("instance name %q is not a DNS label", h.Name)
	}
	if h.InstanceID != "" && !validID(h.InstanceID, "i-") {
		return fmt.Errorf("instance ID %q is not like i-bp1...", h.InstanceID)
	}
	return nil
}

// Archive returns the bundle as a gzip-compressed tar, with fixed times,
// owners and modes, and no name or time in the gzip header: the same
// files always give the same bytes.
func Archive(files []File) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	for _, f := range sorted {
		if !fs.ValidPath(f.Path) || f.Path == "." {
			return nil, fmt.Errorf("archive: bad path %q", f.Path)
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.Path, Mode: int64(f.Mode.Perm()), Size: int64(len(f.Data)),
			ModTime: bundleTime, Uname: "root", Gname: "root", Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("archive %s: %w", f.Path, err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// base64Lines encodes data in lines of 76 characters, as base64(1)
// writes and reads them.
func base64Lines(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteByte('\n')
		enc = enc[76:]
	}
	b.WriteString(enc)
	b.WriteByte('\n')
	return b.String()
}

func hexSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// ownedPaths are the paths a stack's apply script creates beside its
// files (render.go's applyScript.owned), which a payload backs up too.
func ownedPaths(h *Host) []string {
	if h.Stack == schema.StackIproute2 {
		return []string{iproute2WantsPath(h)}
	}
	return nil
}

func shPayload(h *Host, files []File, opts PayloadOptions) ([]byte, error) {
	var paths []string
	hasScript := false
	for _, f := range files {
		switch {
		case f.Path == ScriptName:
			hasScript = true
		case f.Path == ManifestName:
		default:
			paths = append(paths, f.Path)
		}
	}
	if !hasScript {
		return nil, fmt.Errorf("payload %s: the bundle has no %s", h.Name, ScriptName)
	}
	paths = append(paths, ownedPaths(h)...)
	slices.Sort(paths)
	if err := checkPaths(pathFiles(paths)); err != nil {
		return nil, fmt.Errorf("payload %s: %w", h.Name, err)
	}
	tgz, err := Archive(files)
	if err != nil {
		return nil, fmt.Errorf("payload %s: %w", h.Name, err)
	}
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	b.WriteString(generatedBy("# ", h))
	b.WriteString(shPayloadHeader)
	b.WriteString("[ -n \"${BASH_VERSION:-}\" ] || exec bash \"$0\" \"$@\"\n")
	b.WriteString("set -uo pipefail\numask 077\nexport LC_ALL=C\n\n")
	fmt.Fprintf(&b, "FLEET=%s\nINSTANCE=%s\nINSTANCE_ID=%s\nSTACK=%s\n", shq(h.Fleet), shq(h.Name), shq(dash(h.InstanceID)), shq(string(h.Stack)))
	fmt.Fprintf(&b, "BUNDLE_SHA256=%s\nFAIL_VERIFY=%s\n", shq(hexSHA256(tgz)), shq(opts.FailVerify))
	b.WriteString("# PATHS: every file the bundle installs or creates; each is backed up.\nPATHS=(\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "  %s\n", shq(p))
	}
	b.WriteString(")\n\n")
	b.WriteString("# p_bundle prints the bundle: a tar.gz of ecsnet-apply.sh, manifest.json\n# and the files.\np_bundle() {\n\tbase64 -d <<'ECSNET_BUNDLE'\n")
	b.WriteString(base64Lines(tgz))
	b.WriteString("ECSNET_BUNDLE\n}\n")
	b.WriteString(shPayloadLib)
	return []byte(b.String()), nil
}

func pathFiles(paths []string) []File {
	out := make([]File, len(paths))
	for i, p := range paths {
		out[i] = File{Path: p}
	}
	return out
}

const shPayloadHeader = `#
# ecsnet payload: delivers this host's bundle through Cloud Assistant
# (RunShellScript) and applies it safely, on the host by itself: it backs
# up what it replaces, runs ecsnet-apply.sh apply, then verify; if either
# fails it re-applies the previous bundle, restores the backup and the
# live addresses, rules and routes as they were, and exits non-zero.
#
# Exit codes: 0 applied and verified; 1 could not run (nothing changed);
# 3 refused (nothing changed); 5 failed and rolled back (the host is as it
# was); 6 failed and the rollback left differences (fix by hand). The last
# line says how it ended: "ecsnet: <instance>: result: ...".
`

// shPayloadLib is the Linux payload's code. It is a constant: the data
// section above is the only generated part.
const shPayloadLib = `
# ---- ecsnet payload (the same in every Linux payload) ----

ROOT="${ROOT:-/}"
ROOT_P="${ROOT%/}"
STATE_DIR="$ROOT_P/var/lib/ecsnet/$FLEET"
WORK=""
HELD=""

p_log() { printf 'ecsnet: %s: %s\n' "$INSTANCE" "$*"; }
p_warn() { printf 'ecsnet: %s: warning: %s\n' "$INSTANCE" "$*" >&2; }
p_end() { # CODE MESSAGE
	printf 'ecsnet: %s: result: %s\n' "$INSTANCE" "$2"
	exit "$1"
}

# shellcheck disable=SC2317 # run by the EXIT trap
p_cleanup() {
	if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
	if [ -n "$HELD" ]; then rm -rf "$HELD"; fi
}

# One payload at a time per fleet; a lock left by a run that died is
# taken over.
p_lock() {
	local lock="$STATE_DIR/payload.lock" pid i=0
	while ! mkdir "$lock" 2>/dev/null; do
		pid="$(cat "$lock/pid" 2>/dev/null || true)"
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			rm -rf "$lock"
			continue
		fi
		i=$((i + 1))
		[ "$i" -le 600 ] || p_end 1 "another ecsnet payload (pid ${pid:-unknown}) holds $lock; nothing was changed"
		sleep 0.5
	done
	HELD="$lock"
	echo "$$" >"$lock/pid"
}

p_extract() {
	mkdir "$WORK/new" || return 1
	p_bundle >"$WORK/bundle.tgz" || return 1
	[ "$(sha256sum <"$WORK/bundle.tgz" | cut -d' ' -f1)" = "$BUNDLE_SHA256" ] || return 1
	tar -xzf "$WORK/bundle.tgz" -C "$WORK/new" --no-same-owner -m || return 1
	[ -f "$WORK/new/ecsnet-apply.sh" ]
}

# p_snapshot DIR: the live state, one sorted file per kind. Kernel routes
# (which come and go with their addresses) and the local table are left
# out; flags that ip route add does not take are dropped.
p_snapshot() {
	mkdir -p "$1"
	ip -4 -o addr show 2>/dev/null | sed 's/\\.*$//' |
		awk '{ d = $2; sub(/@.*/, "", d); print d, $4, $NF }' | sort >"$1/addr"
	ip -4 rule show 2>/dev/null | tr '\t' ' ' | sed 's/  */ /g; s/ *$//' | sort >"$1/rule"
	ip -4 route show table all 2>/dev/null | grep -Ev '^(local|broadcast|anycast|multicast) | proto kernel ' |
		sed 's/ linkdown//g; s/ dead//g; s/ offload//g; s/ trap//g; s/  */ /g; s/ *$//' | sort >"$1/route"
	ip -o link show 2>/dev/null | awk '{
		n = $2; sub(/:$/, "", n); sub(/@.*/, "", n)
		print n, ($3 ~ /[<,]UP[,>]/ ? "up" : "down")
	}' | sort >"$1/link"
}

# p_same A B: whether two snapshots are equal; prints the differences.
p_same() {
	local k same=0
	for k in addr rule route link; do
		if ! cmp -s "$1/$k" "$2/$k"; then
			same=1
			comm -23 "$1/$k" "$2/$k" | sed "s/^/ecsnet: $INSTANCE: missing $k: /" >&2
			comm -13 "$1/$k" "$2/$k" | sed "s/^/ecsnet: $INSTANCE: extra $k: /" >&2
		fi
	done
	return "$same"
}

# p_restore_live BEFORE NOW: removes what NOW has and BEFORE had not, and
# puts back what BEFORE had and NOW lacks.
p_restore_live() {
	local b="$1" n="$2" line prio rest dev c label st want
	# shellcheck disable=SC2086 # a route or rule line is split into ip's words
	comm -13 "$b/route" "$n/route" | while read -r line; do
		ip -4 route del $line 2>/dev/null || true
	done
	comm -13 "$b/rule" "$n/rule" | while read -r line; do
		prio="${line%%:*}" rest="${line#*:}"
		# shellcheck disable=SC2086
		ip -4 rule del priority "$prio" $rest 2>/dev/null || true
	done
	comm -13 "$b/addr" "$n/addr" | while read -r dev c label; do
		ip -4 addr del "$c" dev "$dev" 2>/dev/null || true
	done
	while read -r dev st; do
		want="$(awk -v d="$dev" '$1 == d { print $2 }' "$b/link")"
		if [ -n "$want" ] && [ "$want" != "$st" ]; then ip link set dev "$dev" "$want" 2>/dev/null || true; fi
	done <"$n/link"
	comm -23 "$b/addr" "$n/addr" | while read -r dev c label; do
		if [ "$label" = "$dev" ]; then
			ip -4 addr add "$c" dev "$dev" 2>/dev/null || true
		else
			ip -4 addr add "$c" dev "$dev" label "$label" 2>/dev/null || true
		fi
	done
	# shellcheck disable=SC2086
	comm -23 "$b/route" "$n/route" | while read -r line; do
		ip -4 route add $line 2>/dev/null || true
	done
	comm -23 "$b/rule" "$n/rule" | while read -r line; do
		prio="${line%%:*}" rest="${line#*:}"
		# shellcheck disable=SC2086
		ip -4 rule add priority "$prio" $rest 2>/dev/null || true
	done
}

# p_paths: the bundle's paths and those the last run recorded, each once.
p_paths() {
	{
		printf '%s\n' "${PATHS[@]}"
		if [ -f "$STATE_DIR/state" ]; then
			awk '$1 == "file" && $2 ~ /^(etc|usr\/local)\/[A-Za-z0-9._:\/-]+$/ && $2 !~ /\.\./ { print $2 }' "$STATE_DIR/state"
		fi
	} | sort -u
}

p_backup() {
	local p
	mkdir -p "$WORK/saved/files"
	p_paths >"$WORK/saved/paths"
	while read -r p; do
		[ -n "$p" ] || continue
		if [ -e "$ROOT_P/$p" ] || [ -L "$ROOT_P/$p" ]; then
			mkdir -p "$WORK/saved/files/$(dirname "$p")"
			cp -pP "$ROOT_P/$p" "$WORK/saved/files/$p" || return 1
		fi
	done <"$WORK/saved/paths"
	if [ -f "$STATE_DIR/state" ]; then cp -p "$STATE_DIR/state" "$WORK/saved/state" || return 1; fi
	if [ -d "$STATE_DIR/original" ]; then cp -a "$STATE_DIR/original" "$WORK/saved/original" || return 1; fi
}

# p_same_file A B: same kind, bytes (or link target) and mode.
p_same_file() {
	if [ -L "$1" ] || [ -L "$2" ]; then
		[ -L "$1" ] && [ -L "$2" ] && [ "$(readlink "$1")" = "$(readlink "$2")" ]
		return
	fi
	[ -f "$1" ] && [ -f "$2" ] && cmp -s "$1" "$2" && [ "$(stat -c %a "$1")" = "$(stat -c %a "$2")" ]
}

p_restore_files() {
	local p s units=0
	while read -r p; do
		[ -n "$p" ] || continue
		s="$WORK/saved/files/$p"
		if [ -e "$s" ] || [ -L "$s" ]; then
			p_same_file "$s" "$ROOT_P/$p" && continue
			mkdir -p "$(dirname "$ROOT_P/$p")"
			rm -f "$ROOT_P/$p"
			cp -pP "$s" "$ROOT_P/$p" && p_log "restored /$p"
		elif [ -e "$ROOT_P/$p" ] || [ -L "$ROOT_P/$p" ]; then
			rm -f "$ROOT_P/$p" && p_log "removed /$p (it was not there before)"
		else
			continue
		fi
		case "$p" in etc/systemd/*) units=1 ;; esac
	done <"$WORK/saved/paths"
	if [ -f "$WORK/saved/state" ]; then cp -p "$WORK/saved/state" "$STATE_DIR/state"; else rm -f "$STATE_DIR/state"; fi
	rm -rf "$STATE_DIR/original"
	if [ -d "$WORK/saved/original" ]; then cp -a "$WORK/saved/original" "$STATE_DIR/original"; fi
	if [ "$units" = 1 ] && [ -z "$ROOT_P" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl daemon-reload || true
	fi
}

# p_undo_stack: with no previous bundle to re-apply, takes down what the
# failed run brought up through its stack and the live restore cannot
# undo by itself (ifupdown's record of the stanzas it brought up).
p_undo_stack() {
	local kind name key phys f files=()
	[ -f "$STATE_DIR/state" ] || return 0
	command -v ifdown >/dev/null 2>&1 || return 0
	cp "$STATE_DIR/state" "$WORK/failed.state"
	mapfile -t files < <(awk '$1 == "file" && $2 ~ /^etc\/network\/interfaces\.d\/[A-Za-z0-9._-]+$/ { print $2 }' "$WORK/failed.state")
	while read -r kind name key; do
		[ "$kind" = ifup ] || continue
		if [ -f "$WORK/saved/state" ] && grep -qxF "ifup $name $key" "$WORK/saved/state"; then continue; fi
		phys="$({ ifquery --state 2>/dev/null || true; } | awk -F= -v n="$name" '$2 == n { print $1; exit }')"
		[ -n "$phys" ] || continue
		for f in ${files[@]+"${files[@]}"}; do
			ifdown --force -i "$ROOT_P/$f" "$phys" >/dev/null 2>&1 || true
		done
		p_log "took $name ($phys) down"
	done <"$WORK/failed.state"
}

# p_rollback REASON: puts the host back as it was, then ends the run.
p_rollback() {
	local why="$1" rc
	p_warn "$why; rolling back"
	if [ -f "$STATE_DIR/current/ecsnet-apply.sh" ]; then
		rm -rf "$WORK/prev"
		cp -a "$STATE_DIR/current" "$WORK/prev"
		p_log "re-applying the previous bundle"
		bash "$WORK/prev/ecsnet-apply.sh" apply
		rc=$?
		[ "$rc" = 0 ] || p_warn "the previous bundle did not apply cleanly (exit $rc); restoring from the backup"
	else
		p_undo_stack
	fi
	p_restore_files
	p_snapshot "$WORK/now"
	p_restore_live "$WORK/before" "$WORK/now"
	p_snapshot "$WORK/after"
	if p_same "$WORK/before" "$WORK/after"; then
		p_end 5 "rolled back: $why; the host is as it was before"
	fi
	p_end 6 "rollback incomplete: $why; the host differs from before (listed above): fix it by hand"
}

p_keep_current() {
	rm -rf "$STATE_DIR/current.new"
	if cp -a "$WORK/new" "$STATE_DIR/current.new"; then
		rm -rf "$STATE_DIR/current"
		mv "$STATE_DIR/current.new" "$STATE_DIR/current"
	else
		p_warn "could not keep this bundle for a later rollback"
	fi
}

p_main() {
	local t rc
	[ "$(id -u)" = 0 ] || p_end 3 "refused: run as root (Cloud Assistant's default user); nothing was changed"
	for t in ip base64 tar gzip sha256sum mktemp cmp comm; do
		command -v "$t" >/dev/null 2>&1 || p_end 3 "refused: $t is not installed; nothing was changed"
	done
	if ! mkdir -p "$STATE_DIR" || ! chmod 700 "$STATE_DIR"; then
		p_end 1 "cannot create $STATE_DIR; nothing was changed"
	fi
	WORK="$(mktemp -d "$STATE_DIR/run.XXXXXX")" || p_end 1 "cannot create a private directory in $STATE_DIR; nothing was changed"
	trap p_cleanup EXIT
	# A lost session must not stop a run half-way.
	trap '' HUP PIPE
	p_lock
	p_extract || p_end 1 "the payload is damaged (its bundle does not extract or check out); nothing was changed"
	p_snapshot "$WORK/before"
	p_backup || p_end 1 "cannot back up the files this bundle replaces; nothing was changed"
	p_log "applying the bundle of $INSTANCE ($INSTANCE_ID, $STACK)"
	bash "$WORK/new/ecsnet-apply.sh" apply
	rc=$?
	case "$rc" in
	0) ;;
	3) p_end 3 "refused by ecsnet-apply.sh (see above); nothing was changed" ;;
	*) p_rollback "ecsnet-apply.sh apply failed with exit $rc" ;;
	esac
	p_log "verifying the live state"
	if [ -n "$FAIL_VERIFY" ]; then
		p_rollback "verification failed: $FAIL_VERIFY"
	fi
	bash "$WORK/new/ecsnet-apply.sh" verify
	rc=$?
	[ "$rc" = 0 ] || p_rollback "verification failed (ecsnet-apply.sh verify exit $rc): the live state does not match the bundle"
	p_keep_current
	p_end 0 "applied and verified"
}

p_main
`

// LiveMarker starts the line of a verify payload's output that carries
// the live state: gzip-compressed and Base64-encoded (ParseLive).
const LiveMarker = "ECSNET-LIVE-1 "

// shVerifyPayload prints the live state. ip -j where iproute2 has it
// (4.14 and later), the one-line text forms where it does not (CentOS 7).
const shVerifyPayload = `#!/bin/bash
# ecsnet verify payload: prints this host's live links, IPv4 addresses,
# rules and routes for ecsnet verify, compressed, on one line that starts
# with ECSNET-LIVE-1. It changes nothing.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail
export LC_ALL=C

j() { # prints ip's JSON, or [] when it prints nothing
	local out
	out="$(ip -j "$@" 2>/dev/null)"
	printf '%s' "${out:-[]}"
}

doc() {
	if ip -j addr show >/dev/null 2>&1; then
		printf '{"format":"ip-json","addr":'
		j addr show
		printf ',"rule":'
		j -4 rule show
		printf ',"route":'
		j -4 route show table all
		printf '}\n'
	else
		echo '#ip-text'
		echo '#link'
		ip -o link show
		echo '#addr'
		ip -4 -o addr show
		echo '#rule'
		ip -4 rule show
		echo '#route'
		ip -4 route show table all
	fi
}

command -v ip >/dev/null 2>&1 || { echo "ecsnet: ip(8) is not installed" >&2; exit 3; }
printf 'ECSNET-LIVE-1 %s\n' "$(doc | gzip -9n | base64 | tr -d '\n')"
`

// crlf gives a PowerShell script Windows line ends.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// Invocations splits a payload into the scripts Cloud Assistant runs on a
// host one after another: the payload alone when its Base64 form takes at
// most maxEncoded bytes (RunCommand's CommandContent limit), else parts
// that each store a piece of the gzip-compressed payload on the host
// (under /var/lib/ecsnet/.incoming/<sha256>/, or
// ProgramData\ecsnet\.incoming on Windows), the last of which also joins
// the pieces, decompresses them, checks the payload's sha256 and runs it,
// so that its exit code and output are the payload's. Writing a piece is
// idempotent: a retried part overwrites its own file. The same payload
// always gives the same parts.
func Invocations(payload []byte, windows bool, maxEncoded int) ([][]byte, error) {
	if base64.StdEncoding.EncodedLen(len(payload)) <= maxEncoded {
		return [][]byte{payload}, nil
	}
	sum := hexSHA256(payload)
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.Write(payload)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	data := gz.Bytes()
	maxRaw := maxEncoded / 4 * 3
	// The part scripts' own text, measured with an empty piece, plus room
	// for the part numbers.
	overhead := len(partScript(nil, sum, 99, 99, windows)) + 16
	room := maxRaw - overhead
	// base64Lines turns 57 bytes into a line of 76 characters and a
	// newline (a CRLF on Windows).
	lineBytes := 77
	if windows {
		lineBytes = 78
	}
	piece := room / lineBytes * 57
	if piece < 1024 {
		return nil, fmt.Errorf("split payload: %d bytes of Base64 per call leave no room for a piece", maxEncoded)
	}
	n := (len(data) + piece - 1) / piece
	out := make([][]byte, 0, n)
	for i := range n {
		chunk := data[i*piece : min(len(data), (i+1)*piece)]
		s := partScript(chunk, sum, i+1, n, windows)
		if base64.StdEncoding.EncodedLen(len(s)) > maxEncoded {
			return nil, fmt.Errorf("internal error: part %d of %d is %d bytes, over the limit", i+1, n, len(s))
		}
		out = append(out, s)
	}
	return out, nil
}

func partScript(piece []byte, sum string, i, n int, windows bool) []byte {
	if windows {
		s := fmt.Sprintf(psPart, sum[:12], i, n, sum, base64Lines(piece), i)
		if i == n {
			s += fmt.Sprintf(psPartLast, n, sum)
		}
		return []byte(crlf(s))
	}
	s := fmt.Sprintf(shPart, sum[:12], i, n, sum, i, base64Lines(piece), i, i)
	if i == n {
		s += fmt.Sprintf(shPartLast, n, sum, sum[:12])
	}
	return []byte(s)
}

const shPart = `#!/bin/bash
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
`

const shPartLast = `for ((i = 1; i <= %[1]d; i++)); do
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
`

const psPart = `# ecsnet payload %[1]s, part %[2]d of %[3]d: stores a piece of the compressed
# payload on the host; the last part joins the pieces and runs the payload.
$ErrorActionPreference = 'Stop'
$d = Join-Path $env:ProgramData 'ecsnet\.incoming\%[4]s'
New-Item -ItemType Directory -Force -Path $d | Out-Null
$piece = @'
%[5]s'@
[IO.File]::WriteAllBytes((Join-Path $d 'part.tmp'), [Convert]::FromBase64String(($piece -replace '\s', '')))
Move-Item -Force -LiteralPath (Join-Path $d 'part.tmp') -Destination (Join-Path $d '%[6]d')
`

const psPartLast = `$all = New-Object IO.MemoryStream
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
`
