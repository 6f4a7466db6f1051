package guest

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
)

// pfFiles are files of a host's tree, by path under its root; a value
// that starts with "-> " is a symbolic link to the rest.
type pfFiles map[string]string

// pfTree writes files under a new root.
func pfTree(t *testing.T, files pfFiles) string {
	t.Helper()
	root := t.TempDir()
	for p, data := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(data, "-> "); ok {
			err = os.Symlink(target, full)
		} else {
			err = os.WriteFile(full, []byte(data), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// pfBundle writes h's bundle into a directory, as the payload extracts
// it, and returns the directory.
func pfBundle(t *testing.T, h *render.Host) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range standin.Bundle(t, h) {
		full := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, f.Data, f.Mode.Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// pfScan runs preflight.sh's pf_scan with real bash on the tree at root
// for a host whose bundle is in bundle ("" for none).
func pfScan(t *testing.T, root, bundle, stack string) []Competing {
	t.Helper()
	cmd := exec.Command("bash", "-c", `set -uo pipefail; export LC_ALL=C; ROOT_P="${ROOT%/}"; . scripts/preflight.sh; pf_scan "$1" "$2"`, "pf", bundle, stack)
	cmd.Env = append(os.Environ(), "ROOT="+root)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pf_scan: %v\n%s", err, out)
	}
	var cs []Competing
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		c, err := parseCompeting(line)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	return cs
}

// pfNames is "name" for a fight and "name!" for one that undoes ecsnet.
func pfNames(cs []Competing) []string {
	var out []string
	for _, c := range cs {
		n := c.Name
		if c.Undo {
			n += "!"
		}
		out = append(out, n)
	}
	return out
}

// cloud-init as an Alibaba Cloud image has it: installed, its AliYun
// datasource found at boot (cloud-id), a version from its package.
func pfCloudInit(version string) pfFiles {
	return pfFiles{
		"etc/cloud/cloud.cfg":                                "datasource_list: [ AliYun ]\nnetwork:\n  renderers: ['netplan', 'eni', 'sysconfig']\n",
		"run/cloud-init/cloud-id":                            "aliyun\n",
		"usr/lib/python3/dist-packages/cloudinit/version.py": "# Copyright\n\n__VERSION__ = \"" + version + "\"\n_PACKAGED_VERSION = \"@@PACKAGED_VERSION@@\"\n",
	}
}

func pfWith(base pfFiles, extra pfFiles) pfFiles {
	out := pfFiles{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// TestPreflightFindings runs the preflight's checks (real bash, on a
// prepared tree under ROOT) for each competing network manager: found
// where it is, not where it is disabled, and judged as undoing ecsnet at
// the next boot or only fighting it.
func TestPreflightFindings(t *testing.T) {
	nm := exampleHost(t, "db-2") // NetworkManager, primary ENI's secondary addresses, no secondary ENI
	// db-2 has had a prefix ENI since issue 17's example (d942e5e); the
	// cases here are about a host without one.
	nm.Secondary = nil
	nmKeyfiles := exampleHost(t, "api-1") // NetworkManager with ecsnet's keyfiles
	wicked := exampleHost(t, "db-1")
	ifupdown := exampleHost(t, "lb-1") // a secondary ENI (the VIP's)
	netplan := exampleHost(t, "app-1")
	secondaryMAC := netplan.Secondary[0].MAC
	// noBoot and boot mark the cases whose bundle has no unit that
	// re-applies the primary ENI's addresses at boot after cloud-init,
	// and one that has it (render installs it on NetworkManager and wicked
	// hosts whose primary ENI has secondary addresses).
	const noBoot, boot = "no boot unit", "boot unit"
	units := map[string]string{
		"cloud-init NM":                          noBoot,
		"cloud-init wicked":                      noBoot,
		"cloud-init NM re-applied at boot":       boot,
		"cloud-init wicked re-applied at boot":   boot,
		"cloud-init version unknown":             noBoot,
		"cloud-init datasource of the last boot": noBoot,
	}
	for _, c := range []struct {
		name  string
		h     *render.Host
		files pfFiles
		want  []string
	}{
		{"nothing", ifupdown, pfFiles{"etc/hostname": "lb-1\n"}, nil},

		// cloud-init 23.4+ with AliYun renders at every boot: it undoes
		// the NM profile and wicked's ifcfg-eth0 that hold the primary
		// ENI's secondary addresses; elsewhere it fights.
		{"cloud-init NM", nm, pfCloudInit("23.4.1"), []string{"cloud-init!"}},
		{"cloud-init wicked", wicked, pfCloudInit("24.1.7"), []string{"cloud-init!"}},
		{"cloud-init NM re-applied at boot", nm, pfCloudInit("23.4.1"), []string{"cloud-init"}},
		{"cloud-init wicked re-applied at boot", wicked, pfCloudInit("24.1.7"), []string{"cloud-init"}},
		{"cloud-init ifupdown", ifupdown, pfCloudInit("24.1.7"), []string{"cloud-init"}},
		{"cloud-init before 23.4", nm, pfCloudInit("22.4.2"), nil},
		{"cloud-init version unknown", nm, pfWith(pfCloudInit("x"), pfFiles{"usr/lib/python3/dist-packages/cloudinit/version.py": "VERSION = 3\n"}), []string{"cloud-init!"}},
		{"cloud-init network disabled (block)", nm, pfWith(pfCloudInit("23.4.1"), pfFiles{
			"etc/cloud/cloud.cfg.d/99-disable-network-config.cfg": "# Alibaba Cloud's advice\nnetwork:\n  config: disabled\n"}), nil},
		{"cloud-init network disabled (flow)", nm, pfWith(pfCloudInit("23.4.1"), pfFiles{
			"etc/cloud/cloud.cfg.d/99-disable-network-config.cfg": "network: {config: disabled}\n"}), nil},
		{"cloud-init disabled", nm, pfWith(pfCloudInit("23.4.1"), pfFiles{"etc/cloud/cloud-init.disabled": ""}), nil},
		{"cloud-init another datasource", nm, pfWith(pfCloudInit("23.4.1"), pfFiles{
			"run/cloud-init/cloud-id": "nocloud\n", "etc/cloud/cloud.cfg": "datasource_list: [ NoCloud ]\n"}), nil},
		{"cloud-init datasource of the last boot", nm, pfWith(pfCloudInit("23.4.1"), pfFiles{
			"run/cloud-init/cloud-id": "", "etc/cloud/cloud.cfg": "users: [default]\n",
			"var/lib/cloud/instance/datasource": "DataSourceAliYun: DataSourceAliYun\n"}), []string{"cloud-init!"}},

		// nm-cloud-setup with its Aliyun provider: runtime only.
		{"nm-cloud-setup", nm, pfFiles{
			"etc/systemd/system/timers.target.wants/nm-cloud-setup.timer": "-> /usr/lib/systemd/system/nm-cloud-setup.timer",
			"etc/systemd/system/nm-cloud-setup.service.d/override.conf":   "[Service]\nEnvironment=NM_CLOUD_SETUP_ALIYUN=yes\n",
		}, []string{"nm-cloud-setup"}},
		{"nm-cloud-setup without Aliyun", nm, pfFiles{
			"etc/systemd/system/NetworkManager.service.wants/nm-cloud-setup.service": "-> /usr/lib/systemd/system/nm-cloud-setup.service",
			"etc/systemd/system/nm-cloud-setup.service.d/override.conf":              "[Service]\nEnvironment=NM_CLOUD_SETUP_EC2=yes\n",
		}, nil},
		{"nm-cloud-setup not enabled", nm, pfFiles{
			"etc/systemd/system/nm-cloud-setup.service.d/override.conf": "[Service]\nEnvironment=NM_CLOUD_SETUP_ALIYUN=yes\n",
		}, nil},

		// multi-nic-util takes over secondary ENIs.
		{"multi-nic-util", ifupdown, pfFiles{"etc/udev/rules.d/99-eni.rules": "SUBSYSTEM==\"net\", ACTION==\"add\"\n"}, []string{"multi-nic-util!"}},
		{"multi-nic-util, no secondary ENI", nm, pfFiles{"etc/systemd/system/multi-user.target.wants/eni.service": "-> /usr/lib/systemd/system/eni.service"}, []string{"multi-nic-util"}},

		// A netplan file after ecsnet's that names its IDs or MACs.
		{"netplan later by ID", netplan, pfFiles{"etc/netplan/99-custom.yaml": "network:\n  ethernets:\n    eth1:\n      mtu: 9000\n"}, []string{"netplan!"}},
		{"netplan later by MAC", netplan, pfFiles{"etc/netplan/70-x.yaml": "network: {ethernets: {data: {match: {macaddress: \"" + strings.ToUpper(secondaryMAC) + "\"}, dhcp4: true}}}\n"}, []string{"netplan!"}},
		{"netplan later in /run", netplan, pfFiles{"run/netplan/90-y.yaml": "network:\n  ethernets:\n    eth0: {dhcp4: true}\n"}, []string{"netplan!"}},
		{"netplan earlier", netplan, pfFiles{"etc/netplan/50-cloud-init.yaml": "network:\n  ethernets:\n    eth0: {dhcp4: true}\n    eth1: {dhcp4: true}\n"}, nil},
		{"netplan later, other interfaces", netplan, pfFiles{"etc/netplan/99-vpn.yaml": "network:\n  ethernets:\n    eth9: {dhcp4: true}\n  # eth1: commented out\n"}, nil},
		{"netplan later on a host without netplan", ifupdown, pfFiles{"etc/netplan/99-custom.yaml": "network:\n  ethernets:\n    eth1: {}\n"}, nil},

		// NetworkManager's automatic DHCP profiles, where ecsnet's
		// keyfiles are used.
		{"NM auto-default", nmKeyfiles, pfFiles{"etc/NetworkManager/NetworkManager.conf": "[main]\nplugins=keyfile\n"}, []string{"networkmanager-auto-default"}},
		{"NM no-auto-default", nmKeyfiles, pfFiles{"etc/NetworkManager/NetworkManager.conf": "[main]\nplugins=keyfile\n",
			"etc/NetworkManager/conf.d/90-no-auto-default.conf": "[main]\nno-auto-default=*\n"}, nil},
		{"NM auto-default, no keyfiles", nm, pfFiles{"etc/NetworkManager/NetworkManager.conf": "[main]\n"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := pfTree(t, c.files)
			bundle := pfBundle(t, c.h)
			unit := filepath.Join(bundle, "etc/systemd/system/ecsnet-"+c.h.Fleet+".service")
			switch units[c.name] {
			case noBoot:
				if err := os.RemoveAll(unit); err != nil {
					t.Fatal(err)
				}
			case boot:
				if _, err := os.Stat(unit); err != nil {
					os.MkdirAll(filepath.Dir(unit), 0o755)
					if err := os.WriteFile(unit, []byte("[Unit]\nAfter=cloud-init.service cloud-config.service NetworkManager.service\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			got := pfScan(t, root, bundle, string(c.h.Stack))
			if names := pfNames(got); !slices.Equal(names, c.want) {
				t.Fatalf("findings %q, want %q:\n%v", names, c.want, got)
			}
			for _, f := range got {
				if f.Detail == "" || f.Fix == "" || strings.Contains(f.Detail, root) || strings.Contains(f.Fix, root) {
					t.Errorf("finding %+v: want a detail and a fix that name the host's paths, not the tree's", f)
				}
			}
		})
	}
}

// TestPreflightNoBundle: verify scans a host that has no bundle kept (never
// pushed): the checks that need none still run.
func TestPreflightNoBundle(t *testing.T) {
	root := pfTree(t, pfWith(pfCloudInit("24.1.7"), pfFiles{"etc/udev/rules.d/99-eni.rules": "x\n"}))
	if got := pfNames(pfScan(t, root, "", "")); !slices.Equal(got, []string{"cloud-init", "multi-nic-util"}) {
		t.Errorf("findings %q, want cloud-init and multi-nic-util, both fights", got)
	}
}

// TestCompetingLines reads the apply payload's findings from its output.
func TestCompetingLines(t *testing.T) {
	out := "ecsnet: lb-1: competing: multi-nic-util: it configures ENIs; fix: uninstall it\n" +
		"ecsnet: lb-1: warning: multi-nic-util would undo ecsnet's configuration at the next boot: x; fix: y; applying anyway (--allow-competing)\n" +
		"ecsnet: lb-1: competing: cloud-init: every boot; fix: disable it\r\n" +
		"ecsnet: lb-1: result: applied and verified\n"
	want := []string{"multi-nic-util: it configures ENIs; fix: uninstall it", "cloud-init: every boot; fix: disable it"}
	if got := CompetingLines(out); !slices.Equal(got, want) {
		t.Errorf("CompetingLines = %q, want %q", got, want)
	}
}

// TestVerifyPayloadReportsCompeting runs the real verify payload (bash,
// read-only) with ROOT on a tree where lb-1's bundle was applied
// (/var/lib/ecsnet/<fleet>/current, as the apply payload keeps it) and
// multi-nic-util and cloud-init are installed: its report carries the
// same findings preflight makes, and ParseLive reads them back.
func TestVerifyPayloadReportsCompeting(t *testing.T) {
	h := exampleHost(t, "lb-1")
	root := pfTree(t, pfWith(pfCloudInit("24.1.7"), pfFiles{"etc/udev/rules.d/99-eni.rules": "x\n"}))
	current := filepath.Join(root, "var/lib/ecsnet", h.Fleet, "current")
	if err := os.MkdirAll(filepath.Dir(current), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(pfBundle(t, h), current); err != nil {
		t.Fatal(err)
	}
	payload, err := Payload(h, nil, PayloadVerify, PayloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if script := shVerifyScript(); strings.Contains(script, strings.TrimSpace(preflightMarker)) || !strings.Contains(script, "pf_scan() {") {
		t.Fatal("the verify script does not carry preflight.sh's functions")
	}
	if n := base64.StdEncoding.EncodedLen(len(payload)); n > maxContent {
		t.Errorf("the verify payload is %d bytes in Base64, more than one RunCommand call takes (%d)", n, maxContent)
	}
	cmd := exec.Command("bash", "-s")
	cmd.Stdin = strings.NewReader(string(payload))
	cmd.Env = append(os.Environ(), "ROOT="+root)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("verify payload: %v\n%s", err, out)
	}
	l, err := ParseLive(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !l.CompetingKnown || !slices.Equal(pfNames(l.Competing), []string{"cloud-init", "multi-nic-util!"}) {
		t.Fatalf("competing %v (known %t), want cloud-init and multi-nic-util (undo)\n%s", l.Competing, l.CompetingKnown, out)
	}
	want := pfScan(t, root, current, string(h.Stack))
	if !slices.Equal(l.Competing, want) {
		t.Errorf("verify reports\n%v\npreflight finds\n%v", l.Competing, want)
	}
}

// TestParseLiveCompeting reads the findings from both of the Linux verify
// payload's forms (ip's JSON and, where ip has none, its text), quotes and
// backslashes included, and refuses a line that is not one.
func TestParseLiveCompeting(t *testing.T) {
	h := exampleHost(t, "lb-1")
	lines := []string{"undo\tnetplan\t/etc/netplan/99-a \"b\" c\\d.yaml sorts after\tmove it", "fight\tcloud-init\tevery boot\tdisable it"}
	want := []Competing{{Name: "netplan", Detail: `/etc/netplan/99-a "b" c\d.yaml sorts after`, Fix: "move it", Undo: true}, {Name: "cloud-init", Detail: "every boot", Fix: "disable it"}}
	quoted, _ := json.Marshal(lines)
	for name, doc := range map[string]string{
		"json": strings.TrimSuffix(string(ipJSON(h)), "}") + `,"competing":` + string(quoted) + "}",
		"text": string(ipText(h)) + "#competing\n" + strings.Join(lines, "\n") + "\n",
	} {
		l, err := ParseLive(liveOutput([]byte(doc), true))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !l.CompetingKnown || !slices.Equal(l.Competing, want) {
			t.Errorf("%s: competing %+v (known %t), want %+v", name, l.Competing, l.CompetingKnown, want)
		}
		// A host in sync with competing managers is in sync, with them.
		c := judge(h, "", &plan.HostResult{Status: "Success", Output: string(liveOutput([]byte(doc), true))})
		if c.Verdict != InSync || !slices.Equal(c.Competing, want) {
			t.Errorf("%s: judge: %v, competing %v; want in sync with the findings", name, c.Verdict, c.Competing)
		}
	}
	l, err := ParseLive(liveOutput(ipJSON(h), true))
	if err != nil || l.CompetingKnown {
		t.Errorf("an older payload's report: known %t, err %v; want not known", l.CompetingKnown, err)
	}
	bad := strings.TrimSuffix(string(ipJSON(h)), "}") + `,"competing":["maybe\tx\ty\tz"]}`
	if _, err := ParseLive(liveOutput([]byte(bad), true)); err == nil {
		t.Error("ParseLive took a finding of an unknown severity")
	}
}

// TestPreflightRefusesInNamespace delivers lb-1's real apply payload to a
// namespace standing in for it, on which Alibaba Cloud's multi-nic-util
// is installed (it would take over the VIP's ENI at the next boot): the
// host refuses (exit 3) before it changes anything, naming the finding
// and the fix; with AllowCompeting it applies, converges and warns. A
// later run that only removes goes ahead with the warning; one that adds
// addresses is refused again.
func TestPreflightRefusesInNamespace(t *testing.T) {
	h := exampleHost(t, "lb-1")
	hosttest.RequireTool(t, "ifup")
	ns := standin.Netns(t, h)
	standin.Wire(t, ns, h) // the gateways answer the payload's probes
	standin.Prepare(t, ns, h)
	ns.WriteFile(t, "/etc/udev/rules.d/99-eni.rules", []byte("# multi-nic-util (test stand-in)\nSUBSYSTEM==\"net\", ACTION==\"add\", RUN+=\"/bin/true\"\n"), 0o644)
	files := standin.Bundle(t, h)
	before := standin.Live(t, ns)
	payload := func(opts PayloadOptions) []byte {
		p, err := Payload(h, files, PayloadApply, opts)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	code, out := rtPayload(t, ns, payload(PayloadOptions{}))
	result, _ := PayloadResult(out)
	if code != int(Refused) || !strings.HasPrefix(result, "refused: multi-nic-util would undo ecsnet's configuration at the next boot: ") ||
		!strings.Contains(result, "fix: uninstall multi-nic-util") || !strings.HasSuffix(result, ", or push --allow-competing; nothing was changed") {
		t.Fatalf("exit %d, result %q; want %d and a refusal naming multi-nic-util and its fix\n%s", code, result, Refused, out)
	}
	if !strings.Contains(out, "ecsnet: lb-1: competing: multi-nic-util: ") {
		t.Errorf("no competing line:\n%s", out)
	}
	standin.Expect(t, "after the refusal", standin.Live(t, ns), before)
	for _, f := range rtEtcPaths(files) {
		if _, ok := ns.ReadFile(t, "/"+f); ok {
			t.Errorf("the refused payload installed /%s", f)
		}
	}

	code, out = rtPayload(t, ns, payload(PayloadOptions{AllowCompeting: true}))
	if result, _ := PayloadResult(out); code != 0 || !strings.HasPrefix(result, "applied and verified") {
		t.Fatalf("with AllowCompeting: exit %d, result %q\n%s", code, result, out)
	}
	if !strings.Contains(out, "ecsnet: lb-1: competing: multi-nic-util: ") || !strings.Contains(out, "ecsnet: lb-1: warning: multi-nic-util would undo ecsnet's configuration at the next boot: ") {
		t.Errorf("with AllowCompeting: no finding or warning:\n%s", out)
	}
	if d := rtDrift(t, ns, h); len(d) > 0 {
		t.Errorf("drift after the apply:\n%s", strings.Join(d, "\n"))
	}

	// A run that only removes (the desired state dropped addresses, as
	// a failover's source host does) goes ahead, with the warning: it
	// adds nothing the finding could take away.
	small := standin.Drop(h)
	p, err := Payload(small, standin.Bundle(t, small), PayloadApply, PayloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code, out = rtPayload(t, ns, p)
	if result, _ := PayloadResult(out); code != 0 || !strings.HasPrefix(result, "applied and verified") || !strings.Contains(out, "applying anyway: this run adds no address ecsnet has not configured here already") {
		t.Fatalf("a run that only removes: exit %d, result %q; want it applied, with the warning\n%s", code, result, out)
	}
	// Adding the dropped addresses back is new: refused again, with
	// nothing changed.
	before = standin.Live(t, ns)
	code, out = rtPayload(t, ns, payload(PayloadOptions{}))
	if result, _ := PayloadResult(out); code != int(Refused) || !strings.HasPrefix(result, "refused: multi-nic-util would undo") {
		t.Fatalf("a run that adds addresses back: exit %d, result %q; want refused\n%s", code, result, out)
	}
	standin.Expect(t, "after the second refusal", standin.Live(t, ns), before)
}

// TestVerifyScriptParses runs bash -n and shellcheck on the verify script
// the wrapper carries (verify.sh with preflight.sh): TestPayloadScriptsParse
// sees only the wrapper.
func TestVerifyScriptParses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verify.sh")
	if err := os.WriteFile(path, []byte(shVerifyScript()), 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	if sc := hosttest.Shellcheck(t); sc != "" {
		if out, err := exec.Command(sc, "-s", "bash", "-S", "info", path).CombinedOutput(); err != nil {
			t.Errorf("shellcheck: %v\n%s", err, out)
		}
	}
}
