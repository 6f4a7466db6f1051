package emulator

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"github.com/ecsnet/ecsnet/schema"
)

// A host's family decides what hosts mode does with the commands it gets:
// the ifupdown and iproute2 stacks need nothing but ip(8), bash and (for
// ifupdown) ifup, so their commands run for real in the host's
// namespaces; the others need a daemon that cannot run here, so their
// commands are recorded and parse-checked.

// hostFamily is what an instance runs, as hosts mode sees it.
type hostFamily struct {
	os    schema.OS
	stack schema.Stack
	// daemon is why commands are recorded rather than run ("" when they
	// run).
	daemon string
	// nspawn: the host is a guest root booted by systemd-nspawn
	// (hosts_nspawn.go), not namespaces around the machine's own tools.
	nspawn bool
}

func (f hostFamily) runs() bool { return f.daemon == "" }

// recordedStacks names, for each stack whose commands are always
// recorded, what it needs that hosts mode cannot give it: a SUSE or RHEL
// userland, or Windows.
var recordedStacks = map[schema.Stack]string{
	schema.StackIfcfg:   "the initscripts network service",
	schema.StackWicked:  "the wickedd daemons",
	schema.StackWindows: "Windows",
}

// bootedStacks are the stacks whose hosts boot the guest root
// (HostsConfig.GuestRoot) with systemd-nspawn; without a guest root they
// are recorded.
var bootedStacks = []schema.Stack{schema.StackNetworkManager, schema.StackNetworkd, schema.StackNetplan}

// RealHostStacks lists the stacks whose commands hosts mode runs for
// real: ifupdown and iproute2 in namespaces around the machine's tools,
// NetworkManager, networkd and netplan in a booted guest when
// HostsConfig.GuestRoot is set (else they are recorded).
func RealHostStacks() []schema.Stack {
	return append([]schema.Stack{schema.StackIfupdown, schema.StackIproute2}, bootedStacks...)
}

// familyOf decides an instance's family: EcsnetOS and EcsnetNetwork when
// the world gives them, else the OS guessed from OSName (generic "linux"
// or windows2022 when the name says nothing known). Booted stacks run
// when there is a guest root.
func familyOf(in *instance, guestRoot bool) hostFamily {
	os := schema.OS(in.ecsnetOS)
	if os == "" {
		os = osFromName(in.osName, in.osType)
	}
	st := schema.Stack(in.ecsnetNetwork)
	if st == "" {
		st, _ = os.DefaultStack()
	}
	f := hostFamily{os: os, stack: st, daemon: recordedStacks[st]}
	if slices.Contains(bootedStacks, st) {
		f.nspawn = guestRoot
		if !guestRoot {
			f.daemon = noGuestRootReason(st)
		}
	}
	return f
}

// osFromName is the OS guessed from an image name: schema's guess, sure
// or not, since hosts mode needs some family for every instance.
func osFromName(osName, osType string) schema.OS {
	os, _ := schema.OSFromImage(osName, osType)
	return os
}

// checkFamily validates the world's EcsnetOS and EcsnetNetwork of an
// instance; "" when they are fine.
func checkFamily(ecsnetOS, network, osType string) string {
	os := schema.OS(ecsnetOS)
	if ecsnetOS != "" {
		if _, ok := os.DefaultStack(); !ok {
			return fmt.Sprintf("EcsnetOS %q is not an OS ecsnet knows", ecsnetOS)
		}
		if os.Windows() != (osType == "windows") {
			return fmt.Sprintf("EcsnetOS %s does not match OSType %s", ecsnetOS, osType)
		}
	}
	if network != "" {
		st := schema.Stack(network)
		if !st.Valid() {
			return fmt.Sprintf("EcsnetNetwork %q is not a stack ecsnet renders", network)
		}
		if (st == schema.StackWindows) != (osType == "windows") {
			return fmt.Sprintf("EcsnetNetwork %s does not match OSType %s", network, osType)
		}
	}
	return ""
}

// seed is what a freshly booted image of the family holds before ecsnet
// ever ran on it: paths relative to the host's root, under etc/ and var/.
// Directories listed in opaque hide the machine's own directory of that
// name (its files never show through the overlay).
type hostSeed struct {
	files  map[string]string
	opaque []string
}

// hiddenDirs are the machine's network configuration directories that no
// emulated host sees: each host starts with its family's own.
var hiddenDirs = []string{
	"etc/network", "etc/netplan", "etc/NetworkManager", "etc/systemd/network", "etc/sysconfig",
	"etc/wicked", "etc/cloud", "etc/ecsnet", "var/lib/ecsnet",
}

func familySeed(f hostFamily, hostname string) hostSeed {
	s := hostSeed{files: map[string]string{"etc/hostname": hostname + "\n"}, opaque: hiddenDirs}
	if f.stack != schema.StackIfupdown {
		return s
	}
	// The image's /etc/network/interfaces sources interfaces.d the way
	// its release does, and cloud-init's 50-cloud-init brings the
	// primary ENI up by DHCP (rewritten at each boot by
	// writeCloudInitLocked when cloud-init is installed here).
	source, cloudInit := "source /etc/network/interfaces.d/*", ifupdownCloudInit(f.os)
	switch f.os {
	case "debian8":
		source = "source-directory /etc/network/interfaces.d"
	case "ubuntu14.04", "ubuntu16.04":
		source = "source /etc/network/interfaces.d/*.cfg"
	}
	s.files["etc/network/interfaces"] = "# interfaces(5) file used by ifup(8) and ifdown(8)\n" +
		"# Include files from /etc/network/interfaces.d:\n" + source + "\n"
	s.files[cloudInit] = "# written by cloud-init at first boot (ecsnet emulator stand-in)\n" +
		"auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n"
	for _, d := range []string{"if-up.d", "if-down.d", "if-pre-up.d", "if-post-down.d"} {
		s.files["etc/network/"+d+"/"] = ""
	}
	return s
}

// ifupdownCloudInit is where cloud-init writes the primary ENI's stanza
// on an ifupdown release, relative to /: a name the release's
// interfaces sources.
func ifupdownCloudInit(os schema.OS) string {
	switch os {
	case "ubuntu14.04", "ubuntu16.04":
		return "etc/network/interfaces.d/50-cloud-init.cfg"
	}
	return "etc/network/interfaces.d/50-cloud-init"
}

// runSeed is what the family's /run holds after boot: ifupdown's record
// of the interfaces boot brought up.
func runSeed(f hostFamily) map[string]string {
	m := map[string]string{"lock/": "", "ecsnet-emulator/commands/": ""}
	if f.stack == schema.StackIfupdown {
		m["network/ifstate"] = "lo=lo\neth0=eth0\n"
		m["network/ifstate.lo"] = "lo\n"
		m["network/ifstate.eth0"] = "eth0\n"
	}
	return m
}

// parseCheck checks a recorded command the cheap way: bash -n for shell
// scripts, a structural scan for PowerShell. It returns the exit code a
// real run would most likely have had on a syntax error (0 when the
// check passed) and the checker's message.
func parseCheck(ctx context.Context, typ, content string) (code int, msg string) {
	switch typ {
	case "RunShellScript":
		cmd := exec.CommandContext(ctx, "bash", "-n")
		cmd.Stdin = strings.NewReader(content)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
		err := cmd.Run()
		if err == nil {
			return 0, "passed bash -n"
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), strings.TrimSpace(out.String())
		}
		return 0, "not parse-checked: " + err.Error()
	case "RunPowerShellScript":
		if err := psStructure(content); err != nil {
			return 1, err.Error()
		}
		return 0, "passed a structural PowerShell check (brackets, quotes, here-strings, comments)"
	}
	return 0, "not parse-checked (" + typ + ")"
}

// psStructure is a cheap structural check of a PowerShell script: every
// bracket closes in order, and every string, here-string and block comment
// ends. It is no parser; a script it accepts may still not parse.
func psStructure(src string) error {
	type frame struct {
		kind  byte // 'c' code, '"' and '\'' strings, 'H' and 'h' here-strings, '#' block comment
		close []byte
		line  int
	}
	stack := []frame{{kind: 'c'}}
	line := 1
	lineStart := true // only blanks since the start of the line
	n := len(src)
	for i := 0; i < n; i++ {
		ch := src[i]
		top := &stack[len(stack)-1]
		atStart := lineStart
		if ch == '\n' {
			line++
			lineStart = true
		} else if ch != ' ' && ch != '\t' && ch != '\r' {
			lineStart = false
		}
		switch top.kind {
		case '#':
			if ch == '#' && i+1 < n && src[i+1] == '>' {
				stack = stack[:len(stack)-1]
				i++
			}
		case '\'':
			if ch == '\'' {
				if i+1 < n && src[i+1] == '\'' {
					i++
					continue
				}
				stack = stack[:len(stack)-1]
			}
		case 'h', 'H':
			end := byte('\'')
			if top.kind == 'H' {
				end = '"'
			}
			if atStart && ch == end && i+1 < n && src[i+1] == '@' {
				stack = stack[:len(stack)-1]
				i++
				lineStart = false
			} else if top.kind == 'H' && ch == '$' && i+1 < n && src[i+1] == '(' {
				stack = append(stack, frame{kind: 'c', close: []byte{')'}, line: line})
				i++
			} else if top.kind == 'H' && ch == '`' {
				i++
			}
		case '"':
			switch {
			case ch == '`':
				if i+1 < n && src[i+1] == '\n' {
					line++
				}
				i++
			case ch == '"':
				if i+1 < n && src[i+1] == '"' {
					i++
					continue
				}
				stack = stack[:len(stack)-1]
			case ch == '$' && i+1 < n && src[i+1] == '(':
				stack = append(stack, frame{kind: 'c', close: []byte{')'}, line: line})
				i++
			}
		case 'c':
			switch ch {
			case '`':
				if i+1 < n && src[i+1] == '\n' {
					line++
					lineStart = true
				}
				i++
			case '#':
				j := strings.IndexByte(src[i:], '\n')
				if j < 0 {
					i = n
				} else {
					i += j - 1
				}
			case '<':
				if i+1 < n && src[i+1] == '#' {
					stack = append(stack, frame{kind: '#', line: line})
					i++
				}
			case '\'':
				stack = append(stack, frame{kind: '\'', line: line})
			case '"':
				stack = append(stack, frame{kind: '"', line: line})
			case '@':
				if i+1 < n && (src[i+1] == '"' || src[i+1] == '\'') {
					// A here-string's opening quote ends its line.
					rest := src[i+2:]
					eol := strings.IndexByte(rest, '\n')
					if eol >= 0 && strings.TrimSpace(rest[:eol]) == "" {
						kind := byte('h')
						if src[i+1] == '"' {
							kind = 'H'
						}
						stack = append(stack, frame{kind: kind, line: line})
						i += 2 + eol
						line++
						lineStart = true
					}
				}
			case '(', '{', '[':
				closing := map[byte]byte{'(': ')', '{': '}', '[': ']'}[ch]
				top.close = append(top.close, closing)
			case ')', '}', ']':
				if len(top.close) == 0 {
					return fmt.Errorf("line %d: unexpected %q", line, ch)
				}
				if want := top.close[len(top.close)-1]; want != ch {
					return fmt.Errorf("line %d: %q where %q was expected", line, ch, want)
				}
				top.close = top.close[:len(top.close)-1]
				if len(top.close) == 0 && len(stack) > 1 {
					stack = stack[:len(stack)-1] // the end of a $( ) inside a string
				}
			}
		}
	}
	top := stack[len(stack)-1]
	switch {
	case len(stack) > 1 && top.kind != 'c':
		what := map[byte]string{'#': "block comment <#", '\'': "string '", '"': `string "`, 'h': "here-string @'", 'H': `here-string @"`}[top.kind]
		return fmt.Errorf("line %d: the %s never ends", top.line, what)
	case len(top.close) > 0 || len(stack) > 1:
		return fmt.Errorf("end of script: %d bracket(s) never closed (the last expects %q)", len(top.close)+len(stack)-1, lastOr(top.close, ')'))
	}
	return nil
}

func lastOr(b []byte, def byte) byte {
	if len(b) == 0 {
		return def
	}
	return b[len(b)-1]
}

// noGuestRootReason is why a booted family's commands are recorded: what
// it needs. It is on every output of every such host, so how to get a
// guest root is left to the emulator's startup line and the demo, which
// say it once.
func noGuestRootReason(stack schema.Stack) string {
	return daemonOf(stack) + " under systemd in a booted guest, and the emulator has no guest root (see the emulator's startup line)"
}

// reason says why the family's commands are recorded ("" when they run).
func (f hostFamily) reason() string {
	switch {
	case f.daemon == "":
		return ""
	case slices.Contains(bootedStacks, f.stack):
		return "it needs " + f.daemon
	}
	return "it needs " + f.daemon + ", which the emulator cannot run"
}

func daemonOf(stack schema.Stack) string {
	switch stack {
	case schema.StackNetworkManager:
		return "the NetworkManager daemon"
	case schema.StackNetplan:
		return "netplan with systemd-networkd"
	default:
		return "systemd-networkd"
	}
}
