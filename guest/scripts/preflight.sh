
# ---- ecsnet preflight (the same in every Linux payload, and in verify's) ----

# The pf_ functions look, on the files alone, for network managers that
# would undo or fight ecsnet's configuration: they read files under
# $ROOT_P and never run a command the host's files provide. pf_scan is
# shared by the apply payload (p_preflight, on the bundle about to be
# applied) and the verify payload (on the bundle each fleet last applied).

# pf_emit SEVERITY NAME DETAIL FIX: one finding, tab-separated. SEVERITY
# is "undo" (it would undo ecsnet's configuration at the next boot: the
# apply refuses) or "fight" (it competes at runtime or on a hot-plug: a
# warning). Tabs and control characters in the text (a file's name) become
# '?'.
pf_emit() {
	local s out=()
	for s in "$@"; do
		out+=("$(printf '%s' "$s" | tr '\000-\037\177' '?')")
	done
	printf '%s\t%s\t%s\t%s\n' "${out[@]}"
}

# pf_files GLOB...: the existing files among the globs' matches.
pf_files() {
	local f
	for f in "$@"; do
		[ -f "$f" ] && printf '%s\n' "$f"
	done
	return 0
}

# pf_block BUNDLE NAME: the records of one array of ecsnet-apply.sh's data
# section (NICS, ADDRS...), one a line, without their quotes.
pf_block() {
	[ -n "$1" ] && [ -f "$1/ecsnet-apply.sh" ] || return 0
	awk -v name="$2" '
		$0 == name "=(" { in_block = 1; next }
		in_block && $0 == ")" { exit }
		in_block && $1 ~ /^\047/ { s = $0; sub(/^ *\047/, "", s); sub(/\047$/, "", s); print s }
	' "$1/ecsnet-apply.sh"
}

# pf_primary_addrs BUNDLE: whether the bundle adds secondary addresses to
# the primary ENI (ADDRS records keyed "primary").
pf_primary_addrs() { pf_block "$1" ADDRS | grep -q '^primary '; }

# pf_secondary_enis BUNDLE: whether the bundle configures a secondary ENI
# (a NICS record keyed by a MAC).
pf_secondary_enis() { pf_block "$1" NICS | grep -qv '^primary '; }

# pf_boot_reapply BUNDLE: whether the bundle installs a unit of its own
# that re-applies ecsnet's configuration at boot after cloud-init (so
# cloud-init's every-boot render cannot undo it).
pf_boot_reapply() {
	local f
	[ -n "$1" ] && [ -d "$1/etc/systemd/system" ] || return 1
	while read -r f; do
		grep -qs 'cloud-init' "$f" && return 0
	done < <(find "$1/etc/systemd/system" -name 'ecsnet*.service' -type f 2>/dev/null)
	return 1
}

# pf_cloud_cfgs: cloud-init's configuration files, in the order it merges
# them, and the datasource list ds-identify wrote at boot.
pf_cloud_cfgs() {
	pf_files "$ROOT_P/etc/cloud/cloud.cfg" "$ROOT_P"/etc/cloud/cloud.cfg.d/*.cfg
}

# pf_ci_network_disabled: whether cloud-init's network configuration is
# disabled: `network: {config: disabled}` in /etc/cloud/cloud.cfg or
# cloud.cfg.d/*.cfg, in the flow or the block form
# (https://cloudinit.readthedocs.io/en/latest/reference/network-config.html,
# "Disabling network configuration"), or network-config=disabled on the
# kernel command line (read from /proc/cmdline only on the host itself).
pf_ci_network_disabled() {
	local cfgs
	mapfile -t cfgs < <(pf_cloud_cfgs)
	if [ "${#cfgs[@]}" -gt 0 ] && awk '
		{ sub(/#.*/, "") }
		/^network[[:space:]]*:/ {
			in_net = 1
			if ($0 ~ /config[[:space:]]*:[[:space:]]*["\047]?disabled/) found = 1
			next
		}
		/^[^[:space:]]/ { in_net = 0 }
		in_net && /^[[:space:]]+config[[:space:]]*:[[:space:]]*["\047]?disabled/ { found = 1 }
		END { exit !found }
	' "${cfgs[@]}"; then
		return 0
	fi
	[ -z "$ROOT_P" ] && grep -qs 'network-config=disabled' /proc/cmdline
}

# pf_ci_aliyun: whether cloud-init runs with the AliYun datasource: the
# cloud-id it wrote at boot (/run/cloud-init/cloud-id, "aliyun": the
# datasource's platform name), the datasource it last used
# (/var/lib/cloud/instance/datasource, "DataSourceAliYun: ..."), or a
# datasource_list that names AliYun (ds-identify's /run/cloud-init/cloud.cfg
# or the image's configuration).
pf_ci_aliyun() {
	grep -qsx 'aliyun' "$ROOT_P/run/cloud-init/cloud-id" && return 0
	grep -qs '^DataSourceAliYun' "$ROOT_P/var/lib/cloud/instance/datasource" && return 0
	local cfgs
	mapfile -t cfgs < <(pf_files "$ROOT_P/run/cloud-init/cloud.cfg"; pf_cloud_cfgs)
	[ "${#cfgs[@]}" -gt 0 ] && grep -Eqs '^[[:space:]]*datasource_list[[:space:]]*:.*AliYun' "${cfgs[@]}"
}

# pf_ci_version: cloud-init's version, read from its Python package's
# cloudinit/version.py (`__VERSION__ = "23.4.1"`,
# canonical/cloud-init:cloudinit/version.py) rather than by running
# cloud-init --version, which takes seconds to import and is a program of
# the host's. Empty when not found.
pf_ci_version() {
	local f
	for f in "$ROOT_P"/usr/lib/python3*/site-packages/cloudinit/version.py \
		"$ROOT_P"/usr/lib/python3*/dist-packages/cloudinit/version.py \
		"$ROOT_P"/usr/lib64/python3*/site-packages/cloudinit/version.py \
		"$ROOT_P"/usr/local/lib/python3*/site-packages/cloudinit/version.py \
		"$ROOT_P"/usr/local/lib/python3*/dist-packages/cloudinit/version.py; do
		[ -f "$f" ] || continue
		sed -n "s/^__VERSION__[[:space:]]*=[[:space:]]*[\"']\([0-9][0-9.]*\)[\"'].*/\1/p" "$f" | head -n 1
		return 0
	done
}

# pf_cloud_init BUNDLE STACK: cloud-init 23.4 and later with the AliYun
# datasource renders the network configuration at every boot
# (DataSourceAliYun adds EventType.BOOT to its network update events:
# canonical/cloud-init:cloudinit/sources/DataSourceAliYun.py; seed erratum
# E16), for every NIC in the metadata by default
# (apply_full_imds_network_config). It undoes ecsnet where ecsnet's
# addresses live in a file cloud-init owns: the primary ENI's profile on
# NetworkManager and its ifcfg-eth0 on wicked, unless the bundle re-applies
# them at boot after cloud-init. Elsewhere ecsnet's files are its own, and
# it is a warning.
pf_cloud_init() {
	local b="$1" family="$2" ver where
	[ -f "$ROOT_P/etc/cloud/cloud.cfg" ] || return 0
	[ ! -e "$ROOT_P/etc/cloud/cloud-init.disabled" ] || return 0
	pf_ci_network_disabled && return 0
	pf_ci_aliyun || return 0
	ver="$(pf_ci_version)"
	if [ -n "$ver" ] && printf '%s\n' "$ver" | awk -F. '{ exit !($1 < 23 || $1 == 23 && $2 < 4) }'; then
		return 0 # renders only at an instance's first boot
	fi
	local what="cloud-init ${ver:-(version unknown)} with the AliYun datasource renders the network configuration at every boot"
	local fix="disable cloud-init's network configuration: put network: {config: disabled} in /etc/cloud/cloud.cfg.d/99-disable-network-config.cfg"
	case "$family" in
	networkmanager) where="the primary ENI's NetworkManager profile" ;;
	wicked) where="/etc/sysconfig/network/ifcfg-eth0" ;;
	*) where="" ;;
	esac
	if [ -n "$where" ] && pf_primary_addrs "$b"; then
		if ! pf_boot_reapply "$b"; then
			pf_emit undo cloud-init "$what, rewriting $where, which holds the primary ENI's secondary addresses ecsnet adds" "$fix"
			return 0
		fi
		pf_emit fight cloud-init "$what, rewriting $where without the primary ENI's secondary addresses; ecsnet's boot unit adds them again after it, so they are missing for a moment at each boot" "$fix"
		return 0
	fi
	pf_emit fight cloud-init "$what (for every NIC in the metadata, by DHCP); ecsnet's own files are left alone, but cloud-init's are rewritten beside them" "$fix"
}

# pf_nm_cloud_setup: NetworkManager-cloud-setup with its Aliyun provider
# (nm-cloud-setup.service, run at NetworkManager's start and by
# nm-cloud-setup.timer; the provider is enabled by
# Environment=NM_CLOUD_SETUP_ALIYUN=yes, usually in a drop-in of the
# service: nm-cloud-setup(8),
# https://networkmanager.dev/docs/api/latest/nm-cloud-setup.html) reads
# the ENIs' addresses from the metadata service and re-applies them, with
# policy routing of its own (tables from 30400), to the active profiles
# at runtime. Its changes are not written to disk, so the next boot does
# not lose ecsnet's configuration: it fights (an address the metadata
# lists late, or not at all, such as a HaVip's, comes and goes).
pf_nm_cloud_setup() {
	local enabled="" f envs
	for f in "$ROOT_P"/etc/systemd/system/*.wants/nm-cloud-setup.service "$ROOT_P"/etc/systemd/system/*.wants/nm-cloud-setup.timer; do
		if [ -e "$f" ] || [ -L "$f" ]; then enabled="$f" && break; fi
	done
	[ -n "$enabled" ] || return 0
	mapfile -t envs < <(pf_files "$ROOT_P"/etc/systemd/system/nm-cloud-setup.service "$ROOT_P"/etc/systemd/system/nm-cloud-setup.service.d/*.conf \
		"$ROOT_P"/run/systemd/system/nm-cloud-setup.service.d/*.conf "$ROOT_P"/usr/lib/systemd/system/nm-cloud-setup.service.d/*.conf)
	[ "${#envs[@]}" -gt 0 ] || return 0
	grep -Eqs '^[[:space:]]*Environment=.*NM_CLOUD_SETUP_ALIYUN=("?)(yes|true|on|1)' "${envs[@]}" || return 0
	pf_emit fight nm-cloud-setup "NetworkManager-cloud-setup is enabled (${enabled#"$ROOT_P"}) with NM_CLOUD_SETUP_ALIYUN: it re-applies the ENIs' addresses from the metadata service and adds policy routing of its own (tables 30400 and up) at boot and on its timer" \
		"systemctl disable --now nm-cloud-setup.timer nm-cloud-setup.service, or remove NM_CLOUD_SETUP_ALIYUN from its drop-in"
}

# pf_multi_nic_util: Alibaba Cloud's multi-nic-util (the CentOS ENI tool
# https://www.alibabacloud.com/help/doc-detail/56955.htm has users install,
# then `systemctl restart eni.service`) configures every secondary ENI
# itself, by DHCP with a route table of its own, from a udev rule on
# hot-plug and from eni.service at boot. That replaces ecsnet's
# configuration of a secondary ENI at the next boot; with none in the
# bundle it only fights over ENIs attached later.
pf_multi_nic_util() {
	local b="$1" found="" f
	for f in "$ROOT_P"/etc/systemd/system/*.wants/eni.service "$ROOT_P"/etc/udev/rules.d/*eni*.rules "$ROOT_P"/usr/lib/udev/rules.d/*eni*.rules "$ROOT_P"/lib/udev/rules.d/*eni*.rules; do
		if [ -e "$f" ] || [ -L "$f" ]; then found="${f#"$ROOT_P"}" && break; fi
	done
	[ -n "$found" ] || return 0
	local what="Alibaba Cloud's multi-nic-util is installed ($found): it configures every secondary ENI itself (DHCP, its own route table) at boot (eni.service) and on hot-plug"
	local fix="uninstall multi-nic-util (systemctl disable --now eni.service; remove its udev rule $found)"
	if pf_secondary_enis "$b"; then
		pf_emit undo multi-nic-util "$what, in place of ecsnet's configuration of this host's secondary ENIs" "$fix"
	else
		pf_emit fight multi-nic-util "$what" "$fix"
	fi
}

# pf_netplan_later BUNDLE: a netplan file whose name sorts after ecsnet's
# 60-ecsnet.yaml (netplan reads /etc, /run and /lib/netplan/*.yaml in
# the order of their names, and a later file's scalars override an
# earlier one's for the same ID: netplan(5), "Configuration files") and
# that names one of the IDs or MACs ecsnet's file configures: netplan
# generate, which runs at every boot, would let it override ecsnet's
# settings. Only where ecsnet renders netplan.
pf_netplan_later() {
	local b="$1" ours ids=() macs=() f base hit id mac body
	ours="$b/etc/netplan/60-ecsnet.yaml"
	[ -n "$b" ] && [ -f "$ours" ] || return 0
	mapfile -t ids < <(awk '/^    [A-Za-z0-9_.:-]+:[[:space:]]*$/ { s = $1; sub(/:$/, "", s); print s }' "$ours")
	mapfile -t macs < <(sed -n 's/^[[:space:]]*macaddress:[[:space:]]*"\{0,1\}\([0-9a-fA-F:]*\)"\{0,1\}[[:space:]]*$/\1/p' "$ours")
	while read -r f; do
		base="${f##*/}"
		[[ "$base" > "60-ecsnet.yaml" ]] || continue
		body="$(sed 's/#.*//' "$f")"
		hit=""
		for id in ${ids[@]+"${ids[@]}"}; do
			if printf '%s\n' "$body" | grep -Eq "(^|[[:space:]{,])${id//./\\.}[[:space:]]*:"; then hit="$id" && break; fi
		done
		if [ -z "$hit" ]; then
			for mac in ${macs[@]+"${macs[@]}"}; do
				if printf '%s\n' "$body" | grep -Fqi "$mac"; then hit="MAC $mac" && break; fi
			done
		fi
		[ -n "$hit" ] || continue
		pf_emit undo netplan "${f#"$ROOT_P"} sorts after ecsnet's /etc/netplan/60-ecsnet.yaml and sets $hit, so netplan lets it override ecsnet's settings there at every boot (netplan generate)" \
			"move its settings for $hit into a file that sorts before 60-ecsnet.yaml (or into the desired state), or remove them"
	done < <(pf_files "$ROOT_P"/etc/netplan/*.yaml "$ROOT_P"/run/netplan/*.yaml "$ROOT_P"/lib/netplan/*.yaml "$ROOT_P"/usr/lib/netplan/*.yaml)
}

# pf_nm_auto_default BUNDLE: NetworkManager creates an in-memory DHCP
# profile ("Wired connection N") for a device no profile matches, unless
# no-auto-default=* (NetworkManager.conf(5)). A hot-plugged ENI then runs
# DHCP, and may gain a default route in the main table, until ecsnet's
# keyfile for it is installed; once it is, NetworkManager prefers it, so
# the next boot keeps ecsnet's configuration: a warning. Only where
# ecsnet's keyfiles are used.
pf_nm_auto_default() {
	local b="$1" confs
	[ -n "$b" ] || return 0
	compgen -G "$b/etc/NetworkManager/system-connections/ecsnet-*.nmconnection" >/dev/null || return 0
	mapfile -t confs < <(pf_files "$ROOT_P/etc/NetworkManager/NetworkManager.conf" "$ROOT_P"/etc/NetworkManager/conf.d/*.conf \
		"$ROOT_P"/run/NetworkManager/conf.d/*.conf "$ROOT_P"/usr/lib/NetworkManager/conf.d/*.conf)
	if [ "${#confs[@]}" -gt 0 ] && grep -Eqs '^[[:space:]]*no-auto-default[[:space:]]*=[[:space:]]*([^#]*,)?[[:space:]]*\*' "${confs[@]}"; then
		return 0
	fi
	pf_emit fight networkmanager-auto-default "NetworkManager.conf has no no-auto-default=*: NetworkManager gives a newly attached ENI a DHCP profile of its own (and possibly a default route in the main table) until ecsnet configures it" \
		"add no-auto-default=* under [main] in /etc/NetworkManager/conf.d/ (e.g. 90-ecsnet-no-auto-default.conf)"
}

# pf_scan BUNDLE STACK: every finding (pf_emit's lines) for a host whose
# ecsnet bundle is in the directory BUNDLE (empty: none; the checks that
# depend on it are skipped) for STACK.
pf_scan() {
	pf_cloud_init "$1" "$2"
	pf_nm_cloud_setup
	pf_multi_nic_util "$1"
	pf_netplan_later "$1"
	pf_nm_auto_default "$1"
}

# p_adds_nothing BUNDLE: whether the bundle adds no address that this
# fleet's state record (the last run's ADDRS) does not list already: the
# run removes what the desired state dropped (an ENI moving away in a
# failover) or re-applies what is there. Refusing it protects nothing the
# host does not already depend on, and would stop a failover at its source.
p_adds_nothing() {
	local key c
	[ -f "$STATE_DIR/state" ] || return 1
	while read -r key c _; do
		grep -qxF "addr $key $c" "$STATE_DIR/state" || return 1
	done < <(pf_block "$1" ADDRS)
}

# p_preflight runs in the apply payload before it changes anything: it
# prints each finding as "ecsnet: <instance>: competing: <name>: ..." and,
# when one would undo ecsnet's configuration at the next boot, ends the run
# as refused (exit 3), unless ALLOW_COMPETING=1 (push/apply
# --allow-competing) or the run adds nothing the host did not have from
# ecsnet already (p_adds_nothing), when that is a warning.
p_preflight() {
	local sev name detail fix first=""
	while IFS=$'\t' read -r sev name detail fix; do
		[ -n "$name" ] || continue
		p_log "competing: $name: $detail; fix: $fix"
		if [ "$sev" = undo ] && [ -z "$first" ]; then
			first="$name would undo ecsnet's configuration at the next boot: $detail; fix: $fix"
		fi
	done < <(pf_scan "$WORK/new" "$STACK")
	[ -n "$first" ] || return 0
	if [ "${ALLOW_COMPETING:-0}" = 1 ]; then
		p_warn "$first; applying anyway (--allow-competing)"
		return 0
	fi
	if p_adds_nothing "$WORK/new"; then
		p_warn "$first; applying anyway: this run adds no address ecsnet has not configured here already (it removes, or re-applies)"
		return 0
	fi
	p_end 3 "refused: $first, or push --allow-competing; nothing was changed"
}
