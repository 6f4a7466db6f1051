package render

import (
	_ "embed"
	"fmt"
)

// iproute2 renders the generic Linux stack: a plain ip(8) script that
// brings the addresses, table routes and rules up (finding every NIC by
// its MAC at run time), and a systemd unit that runs it at boot. The apply
// script installs both, enables the unit and converges the live state.
//
//	etc/ecsnet/<fleet>/ecsnet-ip.sh          0755  the boot script (up | verify)
//	etc/systemd/system/ecsnet-<fleet>.service 0644  runs it once at boot
func iproute2(h *Host) ([]File, error) {
	if err := checkHost(h); err != nil {
		return nil, err
	}
	if h.configOnly {
		return nil, nil // its only files are the boot script and unit
	}
	boot := applyScript{stack: "iproute2", header: iproute2BootHeader, code: iproute2Code, main: iproute2BootMain}.render(h)
	boot.Path = iproute2BootPath(h)
	unit := File{Path: iproute2UnitPath(h), Mode: 0o644, Data: []byte(fmt.Sprintf(iproute2Unit, generatedBy("# ", h), h.Fleet, boot.Path))}
	return linuxBundle(h, applyScript{
		stack: "iproute2",
		files: []File{boot, unit},
		owned: []string{iproute2WantsPath(h)},
		data:  fmt.Sprintf("UNIT=%s\n", shq("ecsnet-"+h.Fleet+".service")),
		code:  iproute2Code,
	})
}

func iproute2BootPath(h *Host) string { return "etc/ecsnet/" + h.Fleet + "/ecsnet-ip.sh" }
func iproute2UnitPath(h *Host) string { return "etc/systemd/system/ecsnet-" + h.Fleet + ".service" }
func iproute2WantsPath(h *Host) string {
	return "etc/systemd/system/multi-user.target.wants/ecsnet-" + h.Fleet + ".service"
}

const iproute2Unit = `%[1]s
[Unit]
Description=ecsnet: secondary addresses, ENI route tables and rules (fleet %[2]s)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/%[3]s up

[Install]
WantedBy=multi-user.target
`

//go:embed scripts/iproute2-boot-header.sh
var iproute2BootHeader string

//go:embed scripts/iproute2-boot-main.sh
var iproute2BootMain string

// iproute2Code is the generic stack's part of the apply script: ip(8) does
// the live work; the unit makes it last.
//
//go:embed scripts/stack-iproute2.sh
var iproute2Code string
