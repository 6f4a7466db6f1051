package render

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// fuzzStacks are every stack ForHost renders, with an OS of each.
var fuzzStacks = append(append([]struct {
	stack schema.Stack
	os    schema.OS
}{}, linuxStacks...), struct {
	stack schema.Stack
	os    schema.OS
}{schema.StackWindows, "windows2022"})

// fuzzHost builds a valid-looking host of the given stack from fuzzed
// parts: the names, IDs and description are taken as they come (hostile
// or not); the addresses are derived so that they sit in their vSwitch
// block, as the loader guarantees.
func fuzzHost(stack schema.Stack, os schema.OS, name, fleet, inst, eni, desc, eniID string, bits, nsec uint8, seed uint32) *Host {
	h := testHosts(stack, os)["full"]
	h.Name, h.Fleet, h.InstanceID = name, fleet, inst
	b := 16 + int(bits%13) // /16 to /28
	p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(seed >> 24), byte(seed >> 16), byte(seed >> 8)}), b).Masked()
	size := uint32(1) << (32 - b)
	at := func(i uint32) netip.Addr {
		base := p.Addr().As4()
		v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
		v += 1 + i%(size-4) // neither the network address nor the top three
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	n := &h.Secondary[0]
	n.ENI, n.Description, n.ENIID = eni, desc, eniID
	n.Prefix = p
	bc := p.Addr().As4()
	last := uint32(bc[0])<<24 | uint32(bc[1])<<16 | uint32(bc[2])<<8 | uint32(bc[3]) + size - 1
	n.Gateway = netip.AddrFrom4([4]byte{byte((last - 2) >> 24), byte((last - 2) >> 16), byte((last - 2) >> 8), byte(last - 2)})
	n.Address = at(seed)
	n.Secondary = nil
	seen := map[netip.Addr]bool{n.Address: true}
	for i := uint32(0); i < uint32(nsec%16); i++ {
		a := at(seed + 7919*(i+1))
		if !seen[a] {
			seen[a] = true
			n.Secondary = append(n.Secondary, a)
		}
	}
	sortAddrs(n.Secondary)
	return h
}

func sortAddrs(as []netip.Addr) {
	for i := 1; i < len(as); i++ {
		for j := i; j > 0 && as[j].Less(as[j-1]); j-- {
			as[j], as[j-1] = as[j-1], as[j]
		}
	}
}

// shellContext reports, for every byte of a shell file, whether it is in
// a comment or inside single quotes, where nothing expands.
func shellContext(src []byte) []bool {
	inert := make([]bool, len(src))
	const (
		plain = iota
		single
		double
		comment
	)
	st := plain
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch st {
		case plain:
			switch {
			case c == '\\':
				i++
			case c == '\'':
				st = single
			case c == '"':
				st = double
			case c == '#' && (i == 0 || strings.IndexByte(" \t\n;(", src[i-1]) >= 0):
				st = comment
				inert[i] = true
			}
		case single:
			if c == '\'' {
				st = plain
			} else {
				inert[i] = true
			}
		case double:
			switch c {
			case '\\':
				i++
			case '"':
				st = plain
			}
		case comment:
			if c == '\n' {
				st = plain
			} else {
				inert[i] = true
			}
		}
	}
	return inert
}

// exposed returns where v appears in a shell file outside a comment or
// single quotes. Only values that could expand are looked for.
func exposed(src []byte, v string) []int {
	if len(v) < 2 || !strings.ContainsAny(v, "$`") {
		return nil
	}
	return outside(src, shellContext(src), v)
}

// outside returns the offsets of v in src that are not wholly inert.
func outside(src []byte, inert []bool, v string) []int {
	var out []int
	for off := 0; ; {
		i := bytes.Index(src[off:], []byte(v))
		if i < 0 {
			return out
		}
		i += off
		for j := i; j < i+len(v); j++ {
			if !inert[j] {
				out = append(out, i)
				break
			}
		}
		off = i + 1
	}
}

// exposedPS is exposed for PowerShell: outside comments (# to the end of
// the line, <# to #>) and single-quoted strings (” is a quote inside
// one), a value with $ or a backtick could expand.
func exposedPS(src []byte, v string) []int {
	if len(v) < 2 || !strings.ContainsAny(v, "$`") {
		return nil
	}
	inert := make([]bool, len(src))
	const (
		plain = iota
		single
		double
		line
		block
	)
	st := plain
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch st {
		case plain:
			switch {
			case c == '`':
				i++
			case c == '\'':
				st = single
			case c == '"':
				st = double
			case c == '<' && i+1 < len(src) && src[i+1] == '#':
				st = block
				inert[i] = true
			case c == '#':
				st = line
				inert[i] = true
			}
		case single:
			switch {
			case c == '\'' && i+1 < len(src) && src[i+1] == '\'':
				inert[i], inert[i+1] = true, true
				i++
			case c == '\'':
				st = plain
			default:
				inert[i] = true
			}
		case double:
			switch c {
			case '`':
				i++
			case '"':
				st = plain
			}
		case line:
			if c == '\n' {
				st = plain
			} else {
				inert[i] = true
			}
		case block:
			inert[i] = true
			if c == '>' && i > 0 && src[i-1] == '#' {
				st = plain
			}
		}
	}
	return outside(src, inert, v)
}

// isShell reports whether a bundle file is read by a shell: the apply
// script, and the KEY=value files of ifcfg and wicked, which
// network-scripts and wicked source.
func isShell(f File) bool {
	base := filepath.Base(f.Path)
	return f.Path == ScriptName || strings.HasPrefix(base, "ifcfg-") && strings.Contains(f.Path, "sysconfig/network")
}

// FuzzForHost renders a valid-looking host of every stack with fuzzed
// names, IDs and description (hostile or not), vSwitch block and
// addresses. It must never panic; a render either fails with an error or
// is deterministic; every shell file parses (bash -n); no fuzzed value
// that could expand appears in a shell or PowerShell file outside a
// comment or single quotes; and running the top level of each shell file (its data and
// definitions: the apply script with a command it does not know, the
// ifcfg files sourced) in an empty directory, with only dirname on the
// PATH, creates nothing there. The seeds' payloads create files in the
// working directory if they ever run.
func FuzzForHost(f *testing.F) {
	for _, s := range []string{"web-1", "$(:>pwned-dollar)", "`:>pwned-tick`", "';:>pwned-quote;'", "\";:>pwned-dq;\"",
		"a\n:>pwned-newline", "x\\';:>pwned-bs;'", "${IFS}:>pwned-ifs", "数据 ‮evil", "-rf", "--help", "$'\\x41'"} {
		f.Add(s, "shop-prod", "i-bp1web000009", "data-a", "data plane", "eni-bp1data0001", uint8(8), uint8(3), uint32(0x10203))
		f.Add("web-1", s, s, "data-a", "", "eni-bp1data0001", uint8(12), uint8(0), uint32(0xfffffff0))
		f.Add("web-1", "shop-prod", "i-bp1web000009", "data-a", s, "eni-bp1data0001", uint8(4), uint8(9), uint32(0xa0b0c0d))
		f.Add("web-1", "shop-prod", "i-bp1web000009", s, "", s, uint8(0), uint8(15), uint32(7))
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		f.Skip("bash is not installed")
	}
	dirname, err := exec.LookPath("dirname")
	if err != nil {
		f.Skip("dirname is not installed")
	}
	work := f.TempDir()
	bin := filepath.Join(work, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink(dirname, filepath.Join(bin, "dirname")); err != nil {
		f.Fatal(err)
	}
	baseline := map[schema.Stack]map[string][]byte{}
	for _, s := range fuzzStacks {
		files, err := ForHost(testHosts(s.stack, s.os)["full"])
		if err != nil {
			f.Fatal(err)
		}
		baseline[s.stack] = map[string][]byte{}
		for _, fl := range files {
			baseline[s.stack][fl.Path] = fl.Data
		}
	}
	f.Fuzz(func(t *testing.T, name, fleet, inst, eni, desc, eniID string, bits, nsec uint8, seed uint32) {
		values := []string{name, fleet, inst, eni, desc, eniID}
		for _, s := range fuzzStacks {
			h := fuzzHost(s.stack, s.os, name, fleet, inst, eni, desc, eniID, bits, nsec, seed)
			files, err := ForHost(h)
			if err != nil {
				continue // refusing a host is fine; panicking is not
			}
			again, err := ForHost(h)
			if err != nil || !sameFiles(files, again) {
				t.Fatalf("%s: two renders of the same host differ (%v)", s.stack, err)
			}
			for _, fl := range files {
				// A value that could expand may appear in live code no more
				// often than the same text appears in the code of a host
				// without fuzzed values (where it is the script's own, such
				// as $Address for a value "$A").
				scan := exposed
				if strings.HasSuffix(fl.Path, ".ps1") {
					scan = exposedPS
				} else if !isShell(fl) {
					continue
				}
				for _, v := range values {
					if got, base := scan(fl.Data, v), scan(baseline[s.stack][fl.Path], v); len(got) > len(base) {
						i := got[0]
						t.Fatalf("%s %s: %q appears outside quotes or comments %d times (%d in a host without fuzzed values), first at byte %d:\n%s",
							s.stack, fl.Path, v, len(got), len(base), i, fl.Data[max(0, i-200):min(len(fl.Data), i+200)])
					}
				}
				if !isShell(fl) {
					continue
				}
				// bash is slow next to rendering: run it when a fuzzed value
				// with a character special to the shell reached the file,
				// and on one input in 16 otherwise.
				if risky(fl.Data, values) || seed%16 == 0 {
					checkShellInert(t, bash, bin, work, s.stack, fl)
				}
			}
		}
	})
}

// risky reports whether any value with a character the shell treats
// specially appears in data.
func risky(data []byte, values []string) bool {
	for _, v := range values {
		if v != "" && strings.ContainsAny(v, "$`'\"\\;|&<>(){}*?[]~!#\n\r\t ") && bytes.Contains(data, []byte(v)) {
			return true
		}
	}
	return false
}

// checkShellInert parses a shell file with bash -n, then runs its top
// level in an empty directory and checks that nothing appeared there.
func checkShellInert(t *testing.T, bash, bin, work string, stack schema.Stack, fl File) {
	t.Helper()
	p := filepath.Join(work, "file.sh")
	if err := os.WriteFile(p, fl.Data, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", p).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: bash -n: %v\n%s\n%s", stack, fl.Path, err, out, fl.Data)
	}
	cwd, err := os.MkdirTemp(work, "cwd")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(cwd)
	var cmd *exec.Cmd
	if fl.Path == ScriptName {
		cmd = exec.Command(bash, p, "ecsnet-fuzz-no-such-command")
	} else {
		cmd = exec.Command(bash, "-c", `. "$1"`, "sh", p)
	}
	cmd.Dir = cwd
	cmd.Env = []string{"PATH=" + bin, "ROOT=" + filepath.Join(cwd, "root")}
	out, _ := cmd.CombinedOutput()
	ents, err := os.ReadDir(cwd)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) > 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("%s %s: running its top level created %v (output: %s)", stack, fl.Path, names, out)
	}
	if fl.Path == ScriptName && !bytes.Contains(out, []byte("usage:")) {
		t.Fatalf("%s %s: the top level did not reach the command switch:\n%s", stack, fl.Path, out)
	}
}

// TestShellContext pins the quoting scanners the fuzzer relies on.
func TestShellContext(t *testing.T) {
	for _, tt := range []struct {
		src, v string
		want   bool // exposed
	}{
		{`X='$(a)'`, "$(a)", false},
		{`X="$(a)"`, "$(a)", true},
		{`X=$(a)`, "$(a)", true},
		{"# $(a)\nY=1", "$(a)", false},
		{"Y=1 # $(a)", "$(a)", false},
		{"Y=1#$(a)", "$(a)", true},
		{`X='a'\''$(a)'`, "$(a)", false},
		{`X='a'$(a)'b'`, "$(a)", true},
		{"X='`a`'", "`a`", false},
		{"X=`a`", "`a`", true},
	} {
		if got := len(exposed([]byte(tt.src), tt.v)) > 0; got != tt.want {
			t.Errorf("exposed(%q, %q) = %v, want %v", tt.src, tt.v, got, tt.want)
		}
	}
	for _, tt := range []struct {
		src, v string
		want   bool
	}{
		{`$x = '$(a)'`, "$(a)", false},
		{`$x = 'it''s $(a)'`, "$(a)", false},
		{`$x = "$(a)"`, "$(a)", true},
		{"# $(a)\n$y = 1", "$(a)", false},
		{"<# $(a)\n #> $y", "$(a)", false},
		{"<# x #> $(a)", "$(a)", true},
	} {
		if got := len(exposedPS([]byte(tt.src), tt.v)) > 0; got != tt.want {
			t.Errorf("exposedPS(%q, %q) = %v, want %v", tt.src, tt.v, got, tt.want)
		}
	}
}
