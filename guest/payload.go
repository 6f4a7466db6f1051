package guest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/ecsnet/ecsnet/render"
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
//     /var/lib/ecsnet/<fleet>/ and checks its sha256, waits (PROBE_MAC_WAIT)
//     for each secondary ENI's interface to appear and refuses when one
//     does not, and notes which services (metadata, Cloud Assistant) the
//     host reaches;
//  2. records the live state (addresses, rules, routes, links) and backs
//     up every file it may replace (the bundle's paths, those the last
//     run recorded, the state record and the kept originals);
//  3. runs ecsnet-apply.sh apply, then ecsnet-apply.sh verify against
//     the live state;
//  4. probes (scripts/probe.sh): each address on its ENI's interface, a
//     ping from each ENI's primary address to its vSwitch gateway, the
//     services it reached before;
//  5. if any of these fails: re-applies the previous bundle (kept from the last
//     run that succeeded, with the failed run's state record in place, so
//     that it removes what the failed run added), restores the backed-up
//     files, puts the live state back as it was recorded, compares, and
//     exits non-zero with the reason;
//  6. if all succeed: keeps the bundle as the previous one for next time.
//
// The Windows payload does the same in PowerShell around ecsnet-apply.ps1,
// verifying with Get-NetIPAddress (addresses, SkipAsSource) and
// Get-NetRoute.
//
// A payload ends with one of the Exit codes (exit.go). The last line of
// its output is always "ecsnet: <instance>: result: ...".

// Payload modes.
const (
	// PayloadApply backs up, applies, verifies and rolls back on failure.
	PayloadApply = "apply"
	// PayloadVerify changes nothing: it prints the live state (see
	// ParseLive) for drift comparison.
	PayloadVerify = "verify"
)

// PayloadOptions adjust Payload. The zero value is what apply and push
// deliver.
type PayloadOptions struct {
	// FailVerify makes the verification after the apply fail with this
	// reason, so that the rollback runs: for drills and tests of the
	// rollback on a real host. Empty in normal use.
	FailVerify string
	// Prune makes a Linux host remove, after its apply, every IPv4
	// address on an interface ecsnet manages that the render does not
	// have, and every permanent global IPv6 address on one the render
	// gives IPv6: the foreign addresses verify warns about (push --prune).
	// Covered by the payload's rollback like the apply. Windows payloads
	// refuse it.
	Prune bool
	// AllowCompeting lets a Linux host apply although its preflight found
	// a network manager that would undo or fight ecsnet's configuration
	// (push/apply --allow-competing). The preflight still reports it.
	AllowCompeting bool
	// SkipProbes turns probes off (push/apply --skip-probes): any of
	// ProbeKinds, or "all". For a vSwitch whose gateway does not answer
	// ICMP, "gateway". A probe turned off is reported as skipped, never
	// as passed.
	SkipProbes []string
	// MACWait is how long a host waits for a secondary ENI's interface to
	// appear before it refuses (a hot-plugged NIC can lag the API's
	// InUse); zero means DefaultMACWait.
	MACWait time.Duration
	// ProbeDeadline is how long the probes after the apply may take,
	// retries included, before the host rolls back; zero means
	// DefaultProbeDeadline.
	ProbeDeadline time.Duration
}

// The payload's probes after an apply (scripts/probe.sh): each address
// on its ENI's interface, a ping from each ENI's primary address to its
// vSwitch gateway, and the metadata service and Cloud Assistant server
// still reachable when they were before.
const (
	ProbeAddress        = "address"
	ProbeGateway        = "gateway"
	ProbeMetadata       = "metadata"
	ProbeCloudAssistant = "cloud-assistant"
)

// ProbeKinds lists the probes SkipProbes may name.
func ProbeKinds() []string {
	return []string{ProbeAddress, ProbeGateway, ProbeMetadata, ProbeCloudAssistant}
}

// The defaults of PayloadOptions.MACWait and ProbeDeadline.
const (
	DefaultMACWait       = 30 * time.Second
	DefaultProbeDeadline = 15 * time.Second
)

// checkSkipProbes checks the names of SkipProbes.
func checkSkipProbes(names []string) error {
	for _, n := range names {
		if n != "all" && !slices.Contains(ProbeKinds(), n) {
			return fmt.Errorf("unknown probe %q to skip: use %s or all", n, strings.Join(ProbeKinds(), ", "))
		}
	}
	return nil
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
func Payload(h *render.Host, files []render.File, mode string, opts PayloadOptions) ([]byte, error) {
	windows := h.Stack == schema.StackWindows
	switch mode {
	case PayloadVerify:
		if windows {
			return []byte(crlf(psVerifyPayload)), nil
		}
		return []byte(shVerify()), nil // verify.sh with preflight.sh (guest/preflight.go)
	case PayloadApply:
	default:
		return nil, fmt.Errorf("payload %s: mode %q is not apply or verify", h.Name, mode)
	}
	if err := h.CheckNames(); err != nil { // the values that reach the data section; the renderers check the rest
		return nil, fmt.Errorf("payload %s: %w", h.Name, err)
	}
	if strings.ContainsFunc(opts.FailVerify, func(r rune) bool { return r < 0x20 || r >= 0x7f }) {
		return nil, fmt.Errorf("payload %s: FailVerify must be printable ASCII", h.Name)
	}
	if err := checkSkipProbes(opts.SkipProbes); err != nil {
		return nil, fmt.Errorf("payload %s: %w", h.Name, err)
	}
	if opts.MACWait < 0 || opts.ProbeDeadline < 0 {
		return nil, fmt.Errorf("payload %s: the MAC wait and the probe deadline must not be negative", h.Name)
	}
	if windows {
		if opts.Prune {
			return nil, fmt.Errorf("payload %s: pruning foreign addresses is not supported on Windows hosts; push without --prune, or with --instance naming Linux hosts only", h.Name)
		}
		return psPayload(h, files, opts)
	}
	return shPayload(h, files, opts)
}

// Archive returns the bundle as a gzip-compressed tar, with fixed times,
// owners and modes, and no name or time in the gzip header: the same
// files always give the same bytes.
func Archive(files []render.File) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b render.File) int { return strings.Compare(a.Path, b.Path) })
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

func shPayload(h *render.Host, files []render.File, opts PayloadOptions) ([]byte, error) {
	var paths []string
	hasScript := false
	for _, f := range files {
		switch {
		case f.Path == render.ScriptName:
			hasScript = true
		case f.Path == render.ManifestName:
		default:
			paths = append(paths, f.Path)
		}
	}
	if !hasScript {
		return nil, fmt.Errorf("payload %s: the bundle has no %s", h.Name, render.ScriptName)
	}
	paths = append(paths, render.OwnedPaths(h)...)
	slices.Sort(paths)
	if err := render.CheckPaths(paths); err != nil {
		return nil, fmt.Errorf("payload %s: %w", h.Name, err)
	}
	tgz, err := Archive(files)
	if err != nil {
		return nil, fmt.Errorf("payload %s: %w", h.Name, err)
	}
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	b.WriteString(render.GeneratedBy("# ", h))
	b.WriteString(shPayloadHeader)
	b.WriteString("[ -n \"${BASH_VERSION:-}\" ] || exec bash \"$0\" \"$@\"\n")
	b.WriteString("set -uo pipefail\numask 077\nexport LC_ALL=C\n\n")
	fmt.Fprintf(&b, "FLEET=%s\nINSTANCE=%s\nINSTANCE_ID=%s\nSTACK=%s\n", render.ShellQuote(h.Fleet), render.ShellQuote(h.Name), render.ShellQuote(dash(h.InstanceID)), render.ShellQuote(string(h.Stack)))
	fmt.Fprintf(&b, "BUNDLE_SHA256=%s\nFAIL_VERIFY=%s\n", render.ShellQuote(hexSHA256(tgz)), render.ShellQuote(opts.FailVerify))
	if opts.AllowCompeting {
		b.WriteString("ALLOW_COMPETING=1\n")
	}
	if opts.Prune {
		writePruneKeep(&b, h)
	}
	writeProbes(&b, h, opts)
	b.WriteString("# PATHS: every file the bundle installs or creates; each is backed up.\nPATHS=(\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "  %s\n", render.ShellQuote(p))
	}
	b.WriteString(")\n\n")
	b.WriteString("# p_bundle prints the bundle: a tar.gz of ecsnet-apply.sh, manifest.json\n# and the files.\np_bundle() {\n\tbase64 -d <<'ECSNET_BUNDLE'\n")
	b.WriteString(base64Lines(tgz))
	b.WriteString("ECSNET_BUNDLE\n}\n")
	b.WriteString(shPreflight)
	b.WriteString(shProbe)
	b.WriteString(shPayloadLib)
	return []byte(b.String()), nil
}

// dash stands in for an empty value in the data section.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

//go:embed scripts/payload-header.sh
var shPayloadHeader string

// shPreflight defines p_preflight, which the payload runs before it
// changes anything: it looks for network managers that would undo or
// fight ecsnet's configuration.
//
//go:embed scripts/preflight.sh
var shPreflight string

// shProbe defines the probes the payload takes after the apply
// (p_probe), the wait for hot-plugged NICs before it (p_wait_macs) and the
// record of the services the host reaches before it (p_services_before).
//
//go:embed scripts/probe.sh
var shProbe string

// shPayloadLib is the Linux payload's code. It is fixed text: the data
// section above is the only generated part.
//
//go:embed scripts/payload.sh
var shPayloadLib string

// LiveMarker starts the line of a verify payload's output that carries
// the live state: gzip-compressed and Base64-encoded (ParseLive).
const LiveMarker = "ECSNET-LIVE-1 "

// shVerifyPayload prints the live state. ip -j where iproute2 has it
// (4.14 and later), the one-line text forms where it does not (CentOS 7).
//
//go:embed scripts/verify.sh
var shVerifyPayload string

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

// The part scripts are fmt templates (hence .tmpl in their names):
// partScript fills in the payload's sha256, the part numbers and the
// Base64 piece. The .ps1 files are stored with LF, like every script under
// scripts/, and get their CRLF line ends after filling in.
//
//go:embed scripts/part.tmpl.sh
var shPart string

//go:embed scripts/part-last.tmpl.sh
var shPartLast string

//go:embed scripts/part.tmpl.ps1
var psPart string

//go:embed scripts/part-last.tmpl.ps1
var psPartLast string

// writePruneKeep writes PRUNE=1 and PRUNE_KEEP, "KEY ADDRESS" for every
// address of every NIC of h (the primary ENI's own, DHCP's, included, and
// its IPv6 addresses): the payload's p_prune keeps these and removes any
// other IPv4 address from the interfaces they are on. KEY is the state
// record's: "primary" or the ENI's MAC. PRUNE_V6, written only when a NIC
// has IPv6, lists the keys of the NICs the render gives IPv6 statics
// (router advertisements off): there p_prune removes the other permanent
// global IPv6 addresses too, as verify calls them foreign (compare6).
func writePruneKeep(b *strings.Builder, h *render.Host) {
	b.WriteString("PRUNE=1\n# PRUNE_KEEP: NIC key, address: every address the render has on the NICs it manages.\nPRUNE_KEEP=(\n")
	var v6 []string
	for _, n := range append([]render.NIC{h.Primary}, h.Secondary...) {
		key := "primary"
		if n.ENI != "" {
			key = n.MAC
		}
		for _, a := range n.AllAddresses() {
			fmt.Fprintf(b, "  %s\n", render.ShellQuote(key+" "+a.String()))
		}
		for _, a := range n.IPv6 {
			fmt.Fprintf(b, "  %s\n", render.ShellQuote(key+" "+a.String()))
		}
		if n.HasIPv6() {
			v6 = append(v6, key)
		}
	}
	b.WriteString(")\n")
	if len(v6) > 0 {
		b.WriteString("# PRUNE_V6: NIC keys whose foreign IPv6 addresses go too.\nPRUNE_V6=(")
		for _, k := range v6 {
			b.WriteString(" " + render.ShellQuote(k))
		}
		b.WriteString(" )\n")
	}
}

// writeProbes writes the probes' data: the MAC wait, the deadline, the
// probes turned off and PROBES, one line per NIC: "KEY NAME MAC GATEWAY
// ADDRESS...", KEY as the state record has it ("primary" or the ENI's
// MAC), NAME "primary" or the ENI's name. The gateway is the render's
// (NIC.Gateway, the vSwitch block's broadcast minus two): a wrong block in
// the file gives a gateway nobody answers at, which is what the probe is
// for.
func writeProbes(b *strings.Builder, h *render.Host, opts PayloadOptions) {
	wait, deadline := probeTimes(opts)
	fmt.Fprintf(b, "PROBE_MAC_WAIT=%d\nPROBE_DEADLINE=%d\n", seconds(wait), seconds(deadline))
	fmt.Fprintf(b, "SKIP_PROBES=%s\n", render.ShellQuote(strings.Join(probesOff(opts), " ")))
	b.WriteString("# PROBES: NIC key, name, MAC, vSwitch gateway, addresses (the ENI's primary first).\nPROBES=(\n")
	for _, n := range append([]render.NIC{h.Primary}, h.Secondary...) {
		key, name := "primary", "primary"
		if n.ENI != "" {
			key, name = n.MAC, n.ENI
		}
		f := []string{key, name, dash(n.MAC), n.Gateway.String()}
		for _, a := range n.AllAddresses() {
			f = append(f, a.String())
		}
		fmt.Fprintf(b, "  %s\n", render.ShellQuote(strings.Join(f, " ")))
	}
	b.WriteString(")\n")
	// A host with IPv6 addresses also probes them and its IPv6 gateways
	// (NIC.IPv6Gateway, the first of the block's reserved tail addresses):
	// source-routed from the ENI's first IPv6 address.
	var v6 []string
	for _, n := range append([]render.NIC{h.Primary}, h.Secondary...) {
		if !n.HasIPv6() {
			continue
		}
		key, name := "primary", "primary"
		if n.ENI != "" {
			key, name = n.MAC, n.ENI
		}
		f := []string{key, name, n.IPv6Gateway().String()}
		for _, a := range n.IPv6 {
			f = append(f, a.String())
		}
		v6 = append(v6, render.ShellQuote(strings.Join(f, " ")))
	}
	if len(v6) > 0 {
		b.WriteString("# PROBES6: NIC key, name, vSwitch IPv6 gateway, IPv6 addresses.\nPROBES6=(\n")
		for _, l := range v6 {
			fmt.Fprintf(b, "  %s\n", l)
		}
		b.WriteString(")\n")
	}
}

// probeTimes returns the MAC wait and the probe deadline, defaults filled
// in.
func probeTimes(opts PayloadOptions) (wait, deadline time.Duration) {
	wait, deadline = opts.MACWait, opts.ProbeDeadline
	if wait == 0 {
		wait = DefaultMACWait
	}
	if deadline == 0 {
		deadline = DefaultProbeDeadline
	}
	return wait, deadline
}

// probesOff returns SkipProbes sorted, each once, so that the same
// options always give the same payload.
func probesOff(opts PayloadOptions) []string {
	skip := slices.Clone(opts.SkipProbes)
	slices.Sort(skip)
	return slices.Compact(skip)
}

// seconds rounds d up to whole seconds, at least one.
func seconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}
