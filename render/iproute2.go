package render

import "fmt"

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

const iproute2BootHeader = `#
# Brings this host's secondary addresses, ENI route tables and rules up
# with ip(8), finding each NIC by its MAC. Idempotent: it adds only what
# is missing. ecsnet-<fleet>.service runs it at boot; ecsnet-apply.sh
# installs it and also removes what a newer bundle dropped.
#
#   ecsnet-ip.sh [up]     add what is missing
#   ecsnet-ip.sh verify   compare the live state with this script (read-only)
#
# Exit codes: 0 done; 1 failed; 3 refused (a NIC is missing); 4 the live
# state does not match.
`

const iproute2BootMain = `
# ---- main ----

ECSNET_CMD="${1:-up}"
case "$ECSNET_CMD" in
up)
	ecsnet_require_root
	ecsnet_resolve_nics
	ecsnet_want_sets
	ecsnet_converge_ip
	ecsnet_drop_main_defaults
	CHECK_VERBOSE=1
	ecsnet_check "" || exit 4
	;;
verify)
	ecsnet_resolve_nics
	ecsnet_want_sets
	CHECK_VERBOSE=1
	ecsnet_check "" || exit 4
	ecsnet_log "live state matches ($STACK)"
	;;
*)
	echo "usage: $0 [up|verify]" >&2
	exit 1
	;;
esac
`

// iproute2Code is the generic stack's part of the apply script: ip(8) does
// the live work; the unit makes it last.
const iproute2Code = `
stack_preflight() { :; }
stack_check_nics() { :; }
stack_take_down() { :; }

stack_bring_up() {
	ecsnet_converge_ip
	iproute2_enable_unit
}

# The unit is enabled the way systemctl enable would, with a symlink, so
# that it also works under a scratch ROOT; systemd reloads when it runs.
iproute2_enable_unit() {
	local wants="$ROOT_P/etc/systemd/system/multi-user.target.wants"
	if [ "$(readlink "$wants/$UNIT" 2>/dev/null)" != "../$UNIT" ]; then
		mkdir -p "$wants"
		ecsnet_backup "etc/systemd/system/multi-user.target.wants/$UNIT"
		ln -sfn "../$UNIT" "$wants/$UNIT"
		CHANGED_FILES+=("etc/systemd/system/multi-user.target.wants/$UNIT")
		ecsnet_log "enabled $UNIT"
	fi
	if [ "$ROOT_P" = "" ] && [ -d /run/systemd/system ]; then
		ecsnet_changed 'etc/systemd/system/*' && systemctl daemon-reload
	elif ! ecsnet_has systemctl; then
		ecsnet_warn "no systemd here: run /etc/ecsnet/$FLEET/ecsnet-ip.sh at boot (for example from rc.local) to keep the addresses after a reboot"
	fi
	return 0
}

stack_verify() { return 0; }
stack_state() { :; }
`
