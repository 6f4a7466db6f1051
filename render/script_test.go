package render

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/schema"
)

// linuxStacks are the stacks this package renders with bash apply scripts.
var linuxStacks = []struct {
	stack schema.Stack
	os    schema.OS
}{
	{schema.StackIfcfg, "centos7"},
	{schema.StackNetworkManager, "rocky9"},
	{schema.StackIfupdown, "debian12"},
	{schema.StackIfupdown, "debian9"},
	{schema.StackIfupdown, "ubuntu16.04"},
	{schema.StackNetplan, "ubuntu22.04"},
	{schema.StackWicked, "sles15"},
	{schema.StackNetworkd, "debian12"},
	{schema.StackIproute2, "linux"},
}

func addr(s string) netip.Addr     { return netip.MustParseAddr(s) }
func prefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// secondaryNIC returns a secondary ENI at device index d on 172.16.<d+1>.0/24.
func secondaryNIC(name string, d int, host byte, sec ...byte) NIC {
	p := prefix(fmt.Sprintf("172.16.%d.0/24", d+1))
	n := NIC{
		ENI: name, ENIID: "eni-bp1" + strings.ReplaceAll(name, "-", "") + "0000",
		MAC:         fmt.Sprintf("00:16:3e:00:0%d:%02x", d, host),
		DeviceIndex: d, Prefix: p, Gateway: addr(fmt.Sprintf("172.16.%d.253", d+1)),
		Address: addr(fmt.Sprintf("172.16.%d.%d", d+1, host)),
		Table:   RouteTableBase + d, Priority: RouteTableBase + d,
	}
	for _, s := range sec {
		n.Secondary = append(n.Secondary, addr(fmt.Sprintf("172.16.%d.%d", d+1, s)))
	}
	return n
}

// testHosts are the shapes every Linux format must handle.
func testHosts(stack schema.Stack, os schema.OS) map[string]*Host {
	base := func() *Host {
		return &Host{Name: "web-9", InstanceID: "i-bp1web000009", Fleet: "shop-prod", OS: os, Stack: stack,
			Primary: NIC{ENIID: "eni-bp1web9primary01", MAC: "00:16:3e:10:00:09", Prefix: prefix("172.16.0.0/24"),
				Gateway: addr("172.16.0.253"), Address: addr("172.16.0.10")}}
	}
	full := base()
	full.Primary.Secondary = []netip.Addr{addr("172.16.0.21"), addr("172.16.0.22")}
	a := secondaryNIC("data-a", 1, 20, 21, 22)
	a.Description = "data plane"
	full.Secondary = []NIC{a, secondaryNIC("data-b", 3, 30)}

	bare := base()

	nomac := base()
	nomac.Primary.MAC, nomac.Primary.ENIID = "", ""
	nomac.Primary.Secondary = []netip.Addr{addr("172.16.0.200")}

	wide := base()
	wide.Primary.Prefix, wide.Primary.Gateway = prefix("10.0.0.0/8"), addr("10.255.255.253")
	wide.Primary.Address = addr("10.0.0.10")
	wide.Primary.Secondary = []netip.Addr{addr("10.1.2.3"), addr("10.254.0.1")}
	return map[string]*Host{"full": full, "bare": bare, "nomac": nomac, "wide": wide}
}

func render(t testing.TB, h *Host) map[string]File {
	t.Helper()
	files, err := ForHost(h)
	if err != nil {
		t.Fatalf("render %s/%s: %v", h.Stack, h.OS, err)
	}
	out := map[string]File{}
	for _, f := range files {
		out[f.Path] = f
	}
	return out
}

// configLines returns a file's lines that are not comments or blank.
func configLines(data []byte) []string {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}

func TestEveryShapeRendersTheSameTwice(t *testing.T) {
	for _, s := range linuxStacks {
		for name, h := range testHosts(s.stack, s.os) {
			t.Run(fmt.Sprintf("%s-%s-%s", s.stack, s.os, name), func(t *testing.T) {
				a, err := ForHost(h)
				if err != nil {
					t.Fatal(err)
				}
				b, err := ForHost(h)
				if err != nil {
					t.Fatal(err)
				}
				if !sameFiles(a, b) {
					t.Fatal("two renders of the same host differ")
				}
				files := render(t, h)
				sc, ok := files[ScriptName]
				if !ok || sc.Mode != 0o755 {
					t.Fatalf("no %s with mode 0755: %+v", ScriptName, sc)
				}
				if !bytes.HasPrefix(sc.Data, []byte("#!/bin/bash\n")) || !bytes.Contains(sc.Data, []byte("\nset -euo pipefail\n")) {
					t.Error("the apply script is not bash with set -euo pipefail")
				}
				for p := range files {
					if p != ScriptName && p != ManifestName && !strings.HasPrefix(p, "etc/") {
						t.Errorf("%s is not at a guest path under etc/", p)
					}
				}
			})
		}
	}
}

// TestScriptsParse runs bash -n (and shellcheck, when installed; required
// under ECSNET_REQUIRE_REAL_TOOLS=1) on every script of every shape.
func TestScriptsParse(t *testing.T) {
	bash := lookTool(t, "bash")
	shellcheck := hosttest.Shellcheck(t)
	if shellcheck == "" {
		t.Log("shellcheck is not installed: scripts are only checked with bash -n")
	}
	dir := t.TempDir()
	for _, s := range linuxStacks {
		for name, h := range testHosts(s.stack, s.os) {
			for _, f := range render(t, h) {
				if f.Mode&0o100 == 0 {
					continue
				}
				p := filepath.Join(dir, fmt.Sprintf("%s-%s-%s-%s", s.stack, s.os, name, filepath.Base(f.Path)))
				if err := os.WriteFile(p, f.Data, 0o755); err != nil {
					t.Fatal(err)
				}
				if out, err := exec.Command(bash, "-n", p).CombinedOutput(); err != nil {
					t.Errorf("bash -n %s: %v\n%s", p, err, out)
				}
				if shellcheck != "" && name == "full" {
					if out, err := exec.Command(shellcheck, "-s", "bash", "-S", "info", p).CombinedOutput(); err != nil {
						t.Errorf("shellcheck %s: %v\n%s", p, err, out)
					}
				}
			}
		}
	}
}

func lookTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed; install it to run this check", name)
	}
	return p
}

func TestShqHostile(t *testing.T) {
	bash := lookTool(t, "bash")
	for _, s := range []string{"", "plain", "it's", "'", "''", `a"b`, "$(reboot)", "`reboot`", "${IFS}", "a\nb", "a\\", "-n", "*", "!", "\x01\x7f", "é中"} {
		out, err := exec.Command(bash, "-c", "printf %s "+shq(s)).Output()
		if err != nil {
			t.Fatalf("bash -c printf %s: %v", shq(s), err)
		}
		if string(out) != s {
			t.Errorf("shq(%q) came back from bash as %q", s, out)
		}
	}
}

func TestCommentTextHostile(t *testing.T) {
	for in, want := range map[string]string{
		"web-1 data plane":             "web-1 data plane",
		"a\nrm -rf /":                  "arm -rf /",
		"x\r\n$(reboot)`id`'\"\\":      "x(reboot)id",
		"  many   spaces\tand\ttabs  ": "many spaces and tabs",
		"\u202eevil\u2066":             "evil",
		"数据平面 ENI":                     "数据平面 ENI",
		"#not a key=value":             "not a keyvalue",
		"ADDRESS0=10.0.0.1":            "ADDRESS010.0.0.1",
		"bad\xffutf8":                  "badutf8",
	} {
		if got := commentText(in); got != want {
			t.Errorf("commentText(%q) = %q, want %q", in, got, want)
		}
	}
	if got := commentText(strings.Repeat("x", 500)); len(got) > 120 {
		t.Errorf("commentText keeps %d characters", len(got))
	}
}

// TestHostileValuesRefused builds hosts whose names, IDs and MACs carry
// shell, path and format syntax; every renderer must refuse them.
func TestHostileValuesRefused(t *testing.T) {
	mutations := map[string]func(h *Host){
		"fleet path":      func(h *Host) { h.Fleet = "../etc" },
		"fleet shell":     func(h *Host) { h.Fleet = "x$(reboot)" },
		"name shell":      func(h *Host) { h.Name = "web;reboot" },
		"name newline":    func(h *Host) { h.Name = "web\n1" },
		"instance id":     func(h *Host) { h.InstanceID = "i-x'y" },
		"primary mac":     func(h *Host) { h.Primary.MAC = "00:16:3e:00:00:01$(id)" },
		"primary eni id":  func(h *Host) { h.Primary.ENIID = "eni-a b" },
		"eni name":        func(h *Host) { h.Secondary[0].ENI = "a/../../b" },
		"eni name quote":  func(h *Host) { h.Secondary[0].ENI = "vip'" },
		"eni mac upper":   func(h *Host) { h.Secondary[0].MAC = "00:16:3E:00:00:01" },
		"eni mac missing": func(h *Host) { h.Secondary[0].MAC = "" },
		"eni id":          func(h *Host) { h.Secondary[0].ENIID = "eni-`id`" },
		"device index":    func(h *Host) { h.Secondary[0].DeviceIndex = 0 },
		"table":           func(h *Host) { h.Secondary[0].Table = 254 },
		"ipv6 address":    func(h *Host) { h.Secondary[0].Secondary = []netip.Addr{addr("::1")} },
		"outside prefix":  func(h *Host) { h.Primary.Secondary = []netip.Addr{addr("10.9.9.9")} },
		"gateway address": func(h *Host) { h.Primary.Secondary = []netip.Addr{addr("172.16.0.253")} },
		"network address": func(h *Host) { h.Primary.Secondary = []netip.Addr{addr("172.16.0.0")} },
		"unsorted":        func(h *Host) { h.Primary.Secondary = []netip.Addr{addr("172.16.0.22"), addr("172.16.0.21")} },
		"duplicate":       func(h *Host) { h.Secondary[1].Secondary = []netip.Addr{addr("172.16.0.21")} },
		"duplicate index": func(h *Host) {
			h.Secondary[1].DeviceIndex, h.Secondary[1].Table, h.Secondary[1].Priority = 1, 1001, 1001
		},
		"unmasked prefix":  func(h *Host) { h.Primary.Prefix = prefix("172.16.0.1/24") },
		"invalid prefix":   func(h *Host) { h.Primary.Prefix = netip.Prefix{} },
		"primary index":    func(h *Host) { h.Primary.DeviceIndex = 2 },
		"invalid gateway":  func(h *Host) { h.Secondary[0].Gateway = netip.Addr{} },
		"invalid address":  func(h *Host) { h.Secondary[0].Address = netip.Addr{} },
		"duplicate mac":    func(h *Host) { h.Secondary[1].MAC = h.Secondary[0].MAC },
		"primary mac dupe": func(h *Host) { h.Primary.MAC = h.Secondary[0].MAC },
	}
	for _, s := range linuxStacks {
		for name, mutate := range mutations {
			h := testHosts(s.stack, s.os)["full"]
			mutate(h)
			if _, err := ForHost(h); err == nil {
				t.Errorf("%s/%s: rendered a host with a hostile %s", s.stack, s.os, name)
			}
		}
	}
}

// TestDescriptionOnlyInComments renders hosts whose ENI descriptions are
// hostile and checks that the only lines a description changes, in every
// file, are comments.
func TestDescriptionOnlyInComments(t *testing.T) {
	for _, d := range []string{
		"x\nIPADDR=6.6.6.6", "$(reboot)", "`reboot`", "'; reboot; '", "\"\\\n\\", "a\r\nauto eth9\niface eth9 inet dhcp",
		"[ipv4]\nmethod=auto", "}\nnetwork: {}", "ADDRESS0=1.2.3.4", "\u202e\u0000\x1b[31m", strings.Repeat("long ", 100),
	} {
		for _, s := range linuxStacks {
			checkDescription(t, s.stack, s.os, d)
		}
	}
}

func checkDescription(t *testing.T, stack schema.Stack, os schema.OS, desc string) {
	t.Helper()
	plain := testHosts(stack, os)["full"]
	plain.Secondary[0].Description = ""
	hostile := testHosts(stack, os)["full"]
	// A marker makes the description findable whatever it reduces to.
	desc = "ECSNETDESC " + desc
	hostile.Secondary[0].Description = desc
	a, b := render(t, plain), render(t, hostile)
	if len(a) != len(b) {
		t.Fatalf("%s/%s: description %q changes the set of files", stack, os, desc)
	}
	clean := commentText(desc)
	for p, fb := range b {
		if p == ManifestName {
			continue // it holds the other files' hashes
		}
		fa, ok := a[p]
		if !ok {
			t.Fatalf("%s/%s: description %q adds the file %s", stack, os, desc, p)
		}
		// Apply scripts list the other files' hashes, which change with
		// their comments.
		if got, want := unhash(configLines(fb.Data)), unhash(configLines(fa.Data)); !slices.Equal(got, want) {
			t.Errorf("%s/%s %s: description %q changed configuration lines", stack, os, p, desc)
		}
		if clean != desc && bytes.Contains(fb.Data, []byte(desc)) {
			t.Errorf("%s/%s %s: the raw description %q appears", stack, os, p, desc)
		}
		for _, l := range strings.Split(string(fb.Data), "\n") {
			if strings.Contains(l, "ECSNETDESC") && !strings.HasPrefix(strings.TrimSpace(l), "#") {
				t.Errorf("%s/%s %s: the description appears outside a comment: %q", stack, os, p, l)
			}
		}
	}
}

var sha256Hex = regexp.MustCompile(`[0-9a-f]{64}`)

// cutLine is a boot reconcile's record of an ENI's block in a shared file:
// its line numbers move with the comments above it.
var cutLine = regexp.MustCompile(`( cut \S+) [0-9]+ [0-9]+ `)

func unhash(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = cutLine.ReplaceAllString(sha256Hex.ReplaceAllString(l, "HASH"), "$1 FIRST LAST ")
	}
	return out
}

// FuzzDescription renders every Linux format with a random ENI
// description: rendering must succeed, every apply script must parse
// (bash -n), and the description may change nothing but comments.
func FuzzDescription(f *testing.F) {
	for _, s := range []string{"", "web-1 data plane", "$(reboot)", "a\nb", "'", "\\", "数据"} {
		f.Add(s)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		f.Skip("bash is not installed")
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, desc string) {
		for _, s := range linuxStacks {
			checkDescription(t, s.stack, s.os, desc)
			h := testHosts(s.stack, s.os)["full"]
			h.Secondary[0].Description = desc
			sc := render(t, h)[ScriptName]
			p := filepath.Join(dir, "apply.sh")
			if err := os.WriteFile(p, sc.Data, 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bash, "-n", p).CombinedOutput(); err != nil {
				t.Fatalf("%s/%s: bash -n rejects the apply script for description %q: %v\n%s", s.stack, s.os, desc, err, out)
			}
		}
	})
}

// rePath is what validPath implements.
var rePath = regexp.MustCompile(`^(etc|usr/local)/[A-Za-z0-9._:/-]+$`)

// TestValidPath holds validPath to its regular expression on paths and
// on each of them with every byte replaced in turn. The schema's
// TestNameRules does the same for the rules of names, IDs and MACs.
func TestValidPath(t *testing.T) {
	inputs := []string{"", "etc", "etc/", "usr/local/", "usr/local", "usr/", "etc/a", "etc//", "usr/local/bin/x",
		"etc/sysconfig/network-scripts/ifcfg-eth0:21", "etc/NetworkManager/system-connections/a_b.nmconnection", "etcx/a", "/etc/a"}
	for _, s := range slices.Clone(inputs) {
		for i := 0; i < len(s); i++ {
			for _, c := range []byte{'-', ':', 'G', 'g', '.', '/', '_', ' ', '$', 0, 0xff} {
				b := []byte(s)
				b[i] = c
				inputs = append(inputs, string(b))
			}
		}
	}
	for _, s := range inputs {
		if got, want := validPath(s), rePath.MatchString(s); got != want {
			t.Errorf("validPath(%q) = %v, the regexp says %v", s, got, want)
		}
	}
}

// FuzzValidPath holds validPath to its regular expression on any input.
func FuzzValidPath(f *testing.F) {
	for _, s := range []string{"etc/a:b", "usr/local/x", "etc/", "etc/sysconfig/network-scripts/ifcfg-eth0:21"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validPath(s), rePath.MatchString(s); got != want {
			t.Errorf("validPath(%q) = %v, the regexp says %v", s, got, want)
		}
	})
}

// TestFleetNameWithDots: render refuses the fleet names the schema
// refuses, by the same rule (schema.ValidFleetName). Its own copy once
// let "shop..prod" and "shop." through to fail later, or not at all.
func TestFleetNameWithDots(t *testing.T) {
	for _, s := range fuzzStacks {
		for _, fleet := range []string{"shop..prod", "shop."} {
			h := testHosts(s.stack, s.os)["full"]
			h.Fleet = fleet
			if _, err := ForHost(h); err == nil || !strings.Contains(err.Error(), "fleet name") {
				t.Errorf("%s: ForHost with fleet %q: %v, want an error about the fleet name", s.stack, fleet, err)
			}
		}
	}
}
