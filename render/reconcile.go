package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	_ "embed"

	"github.com/ecsnet/ecsnet/schema"
)

// A host that was stopped (or unreachable) while its floating ENI moved
// to another instance never ran the host-remove of that move: the cloud
// detached the ENI, but the host's configuration still has it. So every
// Linux bundle with a secondary ENI installs a second boot unit that
// removes, at boot, ecsnet's configuration for each of the bundle's ENIs
// this instance no longer has:
//
//	etc/ecsnet/<fleet>/ecsnet-reconcile.sh               0755
//	etc/systemd/system/ecsnet-<fleet>-reconcile.service  0644
//
// enabled with a symlink the apply script owns, as the primary's boot
// unit is. Every stack gets it, not only those with a boot unit already:
// the files of a departed ENI are harmless only while no NIC matches them
// (ifupdown and ifcfg name a NIC eth<N>, which a later ENI can take), and
// the state record would keep listing what the host no longer has.
//
// Which ENIs are gone: the metadata service's list of this instance's
// MACs when it answers something parseable that includes the primary
// ENI's MAC; an ENI it does not list whose NIC is absent is gone. When it
// cannot be used, an ENI whose NIC has not appeared after a grace period
// (for hot-plug) is gone. An ENI whose NIC is present is never touched.
//
// What is removed is exactly what the bundle without that ENI would not
// have: render knows it by rendering the host without each secondary ENI
// in turn. A file only that ENI needs is removed; a file the others share
// loses the ENI's block of lines, recorded with the block's sha256 so
// that a file changed since is left alone; then the ENI's rules and route
// table, and its entries of the state record. Only files the state record
// lists (ecsnet wrote them) are touched. The host's next push installs
// the new bundle as usual.

func reconcilePath(h *Host) string { return "etc/ecsnet/" + h.Fleet + "/ecsnet-reconcile.sh" }
func reconcileUnitName(h *Host) string {
	return "ecsnet-" + h.Fleet + "-reconcile.service"
}

func reconcileWantsPath(h *Host) string {
	return "etc/systemd/system/multi-user.target.wants/" + reconcileUnitName(h)
}

// needsReconcile reports whether h's bundle gets the reconcile unit.
func needsReconcile(h *Host) bool {
	return !h.configOnly && len(h.Secondary) > 0 && h.Stack != schema.StackWindows
}

// withReconcile adds the reconcile script, its unit and the unit's
// symlink to s, h's apply script, when h has a secondary ENI.
func withReconcile(h *Host, s applyScript) (applyScript, error) {
	if !needsReconcile(h) {
		return s, nil
	}
	// Only configuration files are compared: ecsnet's own boot scripts
	// and units carry the whole bundle's data (the primary's acts on the
	// primary only; ecsnet-ip.sh leaves the ENIs the reconcile found
	// gone out), and the copies without an ENI are rendered without them
	// (configOnly), since rendering them again would cost a full script
	// per secondary ENI.
	skip := func(p string) bool {
		return strings.HasPrefix(p, "etc/ecsnet/") || strings.HasPrefix(p, "etc/systemd/system/")
	}
	var data text
	data.str("# RECONCILE: what to do for an ENI that left this instance: its key (MAC),\n" +
		"# then \"drop PATH\" (a file only it needs), \"cut PATH FIRST LAST SHA256\"\n" +
		"# (lines of a shared file that are its own) or \"keep PATH\" (a file that\n" +
		"# changes otherwise: left for the next push).\nRECONCILE=(\n")
	for i, n := range h.Secondary {
		h2 := *h
		h2.configOnly = true
		h2.Secondary = slices.Delete(slices.Clone(h.Secondary), i, i+1)
		files, err := stackFiles(&h2)
		if err != nil {
			return s, fmt.Errorf("render without ENI %s: %w", n.ENI, err)
		}
		rest := map[string][]byte{}
		for _, f := range files {
			rest[f.Path] = f.Data
		}
		for _, f := range s.files {
			if skip(f.Path) {
				continue
			}
			r, ok := rest[f.Path]
			switch {
			case !ok:
				data.str("\t" + shq(n.MAC+" drop "+f.Path) + "\n")
			case bytes.Equal(r, f.Data):
			default:
				if first, last, block, ok := cutBlock(f.Data, r); ok {
					sum := sha256.Sum256(block)
					data.str("\t" + shq(n.MAC+" cut "+f.Path+" "+strconv.Itoa(first)+" "+strconv.Itoa(last)+" "+hex.EncodeToString(sum[:])) + "\n")
				} else {
					data.str("\t" + shq(n.MAC+" keep "+f.Path) + "\n")
				}
			}
		}
	}
	data.str(")\n")
	script := applyScript{stack: s.stack, header: reconcileHeader, data: string(data.b), main: reconcileMain,
		lib: scriptLibBase, nicsOnly: true}.render(h)
	script.Path = reconcilePath(h)
	unit := File{Path: "etc/systemd/system/" + reconcileUnitName(h), Mode: 0o644,
		Data: []byte(fmt.Sprintf(reconcileUnit, generatedBy("# ", h), h.Fleet, script.Path))}
	s.files = append(s.files, script, unit)
	s.owned = append(s.owned, reconcileWantsPath(h))
	s.data += "# The boot unit that removes the configuration of ENIs this instance no\n# longer has.\nRECONCILE_UNIT=" +
		shq(reconcileUnitName(h)) + "\nRECONCILE_SCRIPT=" + shq(script.Path) + "\n"
	return s, nil
}

// cutBlock reports whether short is long without one block of whole
// lines, and which: its first and last line (1-based) and its bytes.
func cutBlock(long, short []byte) (first, last int, block []byte, ok bool) {
	a, b := bytes.SplitAfter(long, []byte("\n")), bytes.SplitAfter(short, []byte("\n"))
	if len(b) >= len(a) {
		return 0, 0, nil, false
	}
	p := 0
	for p < len(b) && bytes.Equal(a[p], b[p]) {
		p++
	}
	q := 0
	for q < len(b)-p && bytes.Equal(a[len(a)-1-q], b[len(b)-1-q]) {
		q++
	}
	if p+q != len(b) {
		return 0, 0, nil, false
	}
	first, last = p+1, len(a)-q
	if last > len(a) || len(a[last-1]) == 0 {
		return 0, 0, nil, false
	}
	return first, last, bytes.Join(a[p:len(a)-q], nil), true
}

const reconcileUnit = `%[1]s
[Unit]
Description=ecsnet: remove the configuration of ENIs this instance no longer has (fleet %[2]s)
Wants=network-online.target
After=network-online.target
Before=ecsnet-%[2]s.service

[Service]
Type=oneshot
RemainAfterExit=yes
TimeoutStartSec=5min
ExecStart=/%[3]s

[Install]
WantedBy=multi-user.target
`

//go:embed scripts/reconcile-header.sh
var reconcileHeader string

//go:embed scripts/reconcile-main.sh
var reconcileMain string
