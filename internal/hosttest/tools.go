package hosttest

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// Sandbox runs args in a throwaway network namespace with the private
// mounts of a Netns (a fresh /run, overlays over /etc and /var), for tools
// that might write logs or state, such as cloud-init. It needs root.
func Sandbox(t testing.TB, stdin []byte, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	RequireRoot(t)
	unshare := RequireTool(t, "unshare")
	root, err := os.MkdirTemp("", "ecsnet-sandbox-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	for _, d := range []string{"etc.up", "etc.work", "var.up", "var.work", "run/lock", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return run(privateCommand(root, []string{unshare, "--net", "--"}, args), stdin)
}

// NetplanGenerate runs `netplan generate --root-dir root` (root holds
// etc/netplan/*.yaml) and returns the files it generated under root/run,
// by path relative to root, and what it printed on stderr (warnings such
// as "Permissions ... are too open"). A failure fails the test.
func NetplanGenerate(t testing.TB, root string) (files map[string]string, warnings string) {
	t.Helper()
	netplan := RequireTool(t, "netplan")
	out, errOut, err := run(exec.Command(netplan, "generate", "--root-dir", root), nil)
	if err != nil {
		t.Fatalf("netplan generate rejected the configuration: %v\n%s%s", err, out, errOut)
	}
	return readTree(t, root, "run"), errOut
}

// readTree returns the files under root/sub by path relative to root.
func readTree(t testing.TB, root, sub string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(filepath.Join(root, sub), func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil || d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// NMOfflineRoundTrip passes a keyfile through NetworkManager's own
// reader and writer (`nmcli --offline connection modify`, no daemon) and
// returns the normalised keyfile. nmcli rejects an invalid profile (the
// test fails) but silently drops invalid addresses and unknown keys:
// compare input and output with NMLost.
func NMOfflineRoundTrip(t testing.TB, keyfile []byte) []byte {
	t.Helper()
	nmcli := RequireTool(t, "nmcli")
	id := NMKeyfile(keyfile)["connection"]["id"]
	if id == "" {
		t.Fatalf("keyfile has no [connection] id:\n%s", keyfile)
	}
	out, errOut, err := run(exec.Command(nmcli, "--offline", "connection", "modify", "connection.id", id), keyfile)
	if err != nil {
		t.Fatalf("nmcli --offline rejected the keyfile: %v\n%s\n--- keyfile:\n%s", err, errOut, keyfile)
	}
	return []byte(out)
}

// NMKeyfile parses a keyfile into section -> key -> value. Comments and
// blank lines are dropped.
func NMKeyfile(data []byte) map[string]map[string]string {
	out := map[string]map[string]string{}
	sec := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			sec = line[1 : len(line)-1]
			if out[sec] == nil {
				out[sec] = map[string]string{}
			}
		default:
			k, v, _ := strings.Cut(line, "=")
			if out[sec] == nil {
				out[sec] = map[string]string{}
			}
			out[sec][strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// numbered matches the keys NetworkManager numbers and may renumber:
// address1, route2, route2_options, routing-rule3, dns-search...
var numbered = regexp.MustCompile(`^(address|route|routing-rule)(\d+)(_options)?$`)

// NMLost lists every setting of in that out lacks or changed: addresses,
// routes (with their options) and routing rules compared as sets whatever
// their numbering, other keys one by one. nmcli normalises some values
// (MAC case, "/32" on a rule's host source), which do not count as
// changes.
func NMLost(in, out []byte) []string {
	a, b := NMKeyfile(in), NMKeyfile(out)
	var lost []string
	for _, sec := range slices.Sorted(maps.Keys(a)) {
		setA, setB := nmSets(a[sec]), nmSets(b[sec])
		for _, v := range slices.Sorted(maps.Keys(setA)) {
			if !setB[v] {
				lost = append(lost, fmt.Sprintf("[%s] %s", sec, v))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(a[sec])) {
			if numbered.MatchString(k) {
				continue
			}
			va, ok := b[sec][k]
			switch {
			case !ok:
				lost = append(lost, fmt.Sprintf("[%s] %s=%s: dropped", sec, k, a[sec][k]))
			case nmNorm(k, va) != nmNorm(k, a[sec][k]):
				lost = append(lost, fmt.Sprintf("[%s] %s=%s: became %s", sec, k, a[sec][k], va))
			}
		}
	}
	return lost
}

// nmSets returns a section's numbered values as a set of "kind value"
// strings, routes joined with their options.
func nmSets(sec map[string]string) map[string]bool {
	set := map[string]bool{}
	for k, v := range sec {
		m := numbered.FindStringSubmatch(k)
		if m == nil || m[3] != "" {
			continue
		}
		s := m[1] + " " + nmNorm(k, v)
		if m[1] == "route" {
			if o := sec[k+"_options"]; o != "" {
				s += " " + o
			}
		}
		set[s] = true
	}
	return set
}

var hostSource = regexp.MustCompile(`(from|to) (\d+\.\d+\.\d+\.\d+)/32\b`)

func nmNorm(key, v string) string {
	switch {
	case key == "mac-address" || key == "cloned-mac-address":
		return strings.ToUpper(v)
	case strings.HasPrefix(key, "routing-rule"):
		return hostSource.ReplaceAllString(v, "$1 $2")
	}
	return v
}

// SourceIfcfg sources an ifcfg-style file with bash, as initscripts do,
// and returns the variables it sets. Anything on stderr (such as
// "IPADDR: command not found" from `IPADDR = x`, host-config.md E1) and a
// non-zero status fail the test. bash runs with an empty environment and a
// PATH that holds no command, and as root inside a Sandbox, so a broken
// file cannot run anything.
func SourceIfcfg(t testing.TB, path string) map[string]string {
	t.Helper()
	bash := RequireTool(t, "bash")
	const script = `before=$'\n'"$(compgen -v)"$'\n'
. "$1" || exit 1
for ecsnet_v in $(compgen -v); do
	case "$before" in *$'\n'"$ecsnet_v"$'\n'*) continue ;; esac
	case $ecsnet_v in before|ecsnet_v|PIPESTATUS|BASH_*|_) continue ;; esac
	printf '%s=%s\0' "$ecsnet_v" "${!ecsnet_v}"
done`
	args := []string{"/usr/bin/env", "-i", "PATH=/nonexistent-ecsnet", bash, "--noprofile", "--norc", "-c", script, "bash", path}
	var out, errOut string
	var err error
	if os.Geteuid() == 0 {
		if _, lerr := LookTool("unshare"); lerr == nil {
			out, errOut, err = Sandbox(t, nil, args...)
		} else {
			out, errOut, err = run(exec.Command(args[0], args[1:]...), nil)
		}
	} else {
		out, errOut, err = run(exec.Command(args[0], args[1:]...), nil)
	}
	if err != nil || errOut != "" {
		t.Fatalf("bash could not source %s cleanly: %v\n%s", path, err, errOut)
	}
	vars := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSuffix(out, "\x00"), "\x00") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	return vars
}

// ReadWickedSysconfig reads a SUSE sysconfig file (ifcfg-*, ifroute-*) the
// way wicked does (openSUSE/wicked src/sysconfig.c __ni_sysconfig_read and
// unquote): leading blanks skipped, '#' lines are comments, a variable is
// a letter then [A-Za-z0-9_]* then '=' at once; the value is either
// unquoted up to the first blank, or in '...' or "..." (no escapes, ends at
// the next quote of the same kind; an unterminated quote drops the line).
// Any other non-blank line is silently ignored by wicked: those lines are
// returned in ignored, so a test can insist that there are none.
func ReadWickedSysconfig(data []byte) (vars map[string]string, ignored []string) {
	vars = map[string]string{}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		s := strings.TrimLeftFunc(line, unicode.IsSpace)
		if s == "" || s[0] == '#' {
			continue
		}
		name, value, ok := wickedLine(s)
		if !ok {
			ignored = append(ignored, strings.TrimRight(line, "\n"))
			continue
		}
		vars[name] = value
	}
	return vars, ignored
}

func wickedLine(s string) (name, value string, ok bool) {
	if !isASCIILetter(s[0]) {
		return "", "", false
	}
	i := 1
	for i < len(s) && (isASCIILetter(s[i]) || s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
		i++
	}
	if i == len(s) || s[i] != '=' {
		return "", "", false
	}
	name, rest := s[:i], s[i+1:]
	var q byte
	if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
		q, rest = rest[0], rest[1:]
	}
	var b strings.Builder
	for j := 0; ; j++ {
		if j == len(rest) {
			// wicked reads with fgets: an unquoted value needs the
			// line's newline (a blank) to end; a quoted one its quote.
			return "", "", false
		}
		c := rest[j]
		if q == 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
			break
		}
		if q != 0 && c == q {
			break
		}
		b.WriteByte(c)
	}
	return name, b.String(), true
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// NetConvert renders network-config v2 YAML with cloud-init's own
// renderers (`cloud-init devel net-convert`, host-config.md §7c) for a
// distro (debian, rhel, sles, ubuntu) and a kind (eni, sysconfig, netplan,
// networkd, network-manager), and returns the files by path relative to
// the output directory. It runs in a Sandbox, so cloud-init's logs and
// state never reach the machine. A failure of cloud-init fails the test;
// TryNetConvert returns it instead.
func NetConvert(t testing.TB, v2 []byte, distro, kind string) map[string]string {
	t.Helper()
	files, err := TryNetConvert(t, v2, distro, kind)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TryNetConvert is NetConvert that returns cloud-init's failure (with the
// last line it printed, such as a Python exception) as an error.
func TryNetConvert(t testing.TB, v2 []byte, distro, kind string) (map[string]string, error) {
	t.Helper()
	ci := RequireTool(t, "cloud-init")
	dir := t.TempDir()
	in := filepath.Join(dir, "network-config.yaml")
	if err := os.WriteFile(in, v2, 0o600); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(dir, "out")
	out, errOut, err := Sandbox(t, nil, ci, "devel", "net-convert", "-p", in, "-k", "yaml", "-D", distro, "-O", kind, "-d", outDir)
	if err != nil {
		lines := strings.Split(strings.TrimSpace(out+errOut), "\n")
		return nil, fmt.Errorf("cloud-init devel net-convert -D %s -O %s: %w: %s", distro, kind, err, lines[len(lines)-1])
	}
	return readTree(t, outDir, "."), nil
}

// CloudInitVersion returns the installed cloud-init's version, such as
// "22.4.2".
func CloudInitVersion(t testing.TB) string {
	t.Helper()
	ci := RequireTool(t, "cloud-init")
	out, errOut, err := run(exec.Command(ci, "--version"), nil)
	if err != nil {
		t.Fatalf("cloud-init --version: %v: %s", err, errOut)
	}
	f := strings.Fields(out + errOut)
	return f[len(f)-1]
}
