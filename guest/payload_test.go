package guest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// maxContent is RunCommand's CommandContent limit after Base64
// (ecs-api.md §2.12).
const maxContent = 16 << 10

// TestPayloadSizes builds every example host's apply payload, splits it
// for RunCommand and checks that every invocation fits; the sizes are
// logged (go test -v) for the delivery notes.
func TestPayloadSizes(t *testing.T) {
	for _, h := range standin.ExampleHosts(t) {
		files, err := render.ForHost(h)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Payload(h, files, PayloadApply, PayloadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		windows := h.Stack == schema.StackWindows
		inv, err := Invocations(p, windows, maxContent)
		if err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		var sizes []string
		for i, s := range inv {
			enc := base64.StdEncoding.EncodedLen(len(s))
			if enc > maxContent {
				t.Errorf("%s: invocation %d is %d bytes in Base64, over %d", h.Name, i+1, enc, maxContent)
			}
			sizes = append(sizes, fmt.Sprint(enc))
		}
		t.Logf("%-8s %-15s payload %6d bytes, %6d in Base64: %d invocation(s) of %s Base64 bytes",
			h.Name, h.Stack, len(p), base64.StdEncoding.EncodedLen(len(p)), len(inv), strings.Join(sizes, ", "))
		again, _ := Payload(h, files, PayloadApply, PayloadOptions{})
		if !bytes.Equal(p, again) {
			t.Errorf("%s: a second payload of the same bundle differs", h.Name)
		}
		inv2, _ := Invocations(again, windows, maxContent)
		if !reflect.DeepEqual(inv, inv2) {
			t.Errorf("%s: a second split differs", h.Name)
		}
	}
}

// TestArchiveDeterministic: the same files in any order give the same
// bytes, with fixed owners, times and modes and no name in the gzip
// header.
func TestArchiveDeterministic(t *testing.T) {
	files := []render.File{
		{Path: "etc/b", Mode: 0o644, Data: []byte("b\n")},
		{Path: render.ScriptName, Mode: 0o755, Data: []byte("#!/bin/bash\n")},
		{Path: "etc/a/c", Mode: 0o600, Data: []byte("c\n")},
	}
	a, err := Archive(files)
	if err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(files)
	slices.Reverse(rev)
	b, err := Archive(rev)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("the order of the files changes the archive")
	}
	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header carries name %q, time %v", zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		if hdr.Uid != 0 || hdr.Gid != 0 || !hdr.ModTime.Equal(bundleTime) {
			t.Errorf("%s: uid %d gid %d time %v", hdr.Name, hdr.Uid, hdr.Gid, hdr.ModTime)
		}
		for _, f := range files {
			if f.Path == hdr.Name && hdr.Mode != int64(f.Mode) {
				t.Errorf("%s: mode %o, want %o", hdr.Name, hdr.Mode, f.Mode)
			}
		}
	}
	if want := []string{render.ScriptName, "etc/a/c", "etc/b"}; !slices.Equal(names, want) {
		t.Errorf("archive holds %v, want %v", names, want)
	}
	if _, err := Archive([]render.File{{Path: "../x"}}); err == nil {
		t.Error("a path leaving the bundle was archived")
	}
}

// TestPayloadRefusesBadInput: a bundle without its script, a hostile
// injected reason and an unknown mode are refused.
func TestPayloadRefusesBadInput(t *testing.T) {
	h := exampleHost(t, "lb-1")
	files, _ := render.ForHost(h)
	noScript := slices.DeleteFunc(slices.Clone(files), func(f render.File) bool { return f.Path == render.ScriptName })
	if _, err := Payload(h, noScript, PayloadApply, PayloadOptions{}); err == nil {
		t.Error("a bundle without ecsnet-apply.sh was packed")
	}
	if _, err := Payload(h, files, PayloadApply, PayloadOptions{FailVerify: "x\n'; rm -rf /"}); err == nil {
		t.Error("a reason with a newline was accepted")
	}
	if _, err := Payload(h, files, "push", PayloadOptions{}); err == nil {
		t.Error("an unknown mode was accepted")
	}
	bad := *h
	bad.Fleet = "x'y"
	if _, err := Payload(&bad, files, PayloadApply, PayloadOptions{}); err == nil {
		t.Error("a hostile fleet name was accepted")
	}
	// The schema's fleet rule, dots included (render's TestFleetNameWithDots
	// holds ForHost to the same rule).
	for _, fleet := range []string{"shop..prod", "shop."} {
		bad.Fleet = fleet
		if _, err := Payload(&bad, files, PayloadApply, PayloadOptions{}); err == nil || !strings.Contains(err.Error(), "fleet name") {
			t.Errorf("Payload with fleet %q: %v, want an error about the fleet name", fleet, err)
		}
	}
}

func exampleHost(t *testing.T, name string) *render.Host {
	t.Helper()
	for _, h := range standin.ExampleHosts(t) {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("no example host %s", name)
	return nil
}

// TestPayloadScriptsParse runs bash -n and shellcheck on a Linux payload,
// its parts and the verify payload; tree-sitter-powershell on the
// Windows ones.
func TestPayloadScriptsParse(t *testing.T) {
	for _, name := range []string{"lb-1", "edge-1", "win-1"} {
		h := exampleHost(t, name)
		files, err := render.ForHost(h)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Payload(h, files, PayloadApply, PayloadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v, err := Payload(h, nil, PayloadVerify, PayloadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		windows := h.Stack == schema.StackWindows
		parts, err := Invocations(p, windows, maxContent)
		if err != nil {
			t.Fatal(err)
		}
		scripts := append([][]byte{p, v}, parts...)
		if windows {
			for _, s := range scripts {
				for i := range s {
					if s[i] >= 0x7f || s[i] < 0x20 && s[i] != '\r' && s[i] != '\n' {
						t.Fatalf("%s: byte %#x at %d is not printable ASCII", name, s[i], i)
					}
				}
			}
			hosttest.PowerShellSyntax(t, p)
			hosttest.PowerShellSyntax(t, v)
			hosttest.PowerShellSyntax(t, parts[len(parts)-1])
			continue
		}
		shellcheck := hosttest.Shellcheck(t)
		dir := t.TempDir()
		for i, s := range scripts {
			path := filepath.Join(dir, fmt.Sprintf("%s-%d.sh", name, i))
			if err := os.WriteFile(path, s, 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
				t.Errorf("bash -n %s script %d: %v\n%s", name, i, err, out)
			}
			if shellcheck != "" {
				if out, err := exec.Command(shellcheck, "-s", "bash", "-S", "info", path).CombinedOutput(); err != nil {
					t.Errorf("shellcheck %s script %d: %v\n%s", name, i, err, out)
				}
			}
		}
	}
}

// TestPayloadCarriesTheBundle extracts the bundle from a payload with the
// payload's own p_bundle function, as the host does, and compares it.
func TestPayloadCarriesTheBundle(t *testing.T) {
	h := exampleHost(t, "lb-1")
	files, _ := render.ForHost(h)
	p, err := Payload(h, files, PayloadApply, PayloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "payload.sh")
	os.WriteFile(path, p, 0o755)
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	script := `eval "$(sed -n '/^p_bundle() {$/,/^}$/p' "$1")"; p_bundle | tar -xzf - -C "$2" --no-same-owner -m`
	if msg, err := exec.Command("bash", "-c", script, "sh", path, out).CombinedOutput(); err != nil {
		t.Fatalf("extract: %v\n%s", err, msg)
	}
	for _, f := range files {
		p := filepath.Join(out, filepath.FromSlash(f.Path))
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("%s: extracted differently (%v)", f.Path, err)
			continue
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != f.Mode.Perm() {
			t.Errorf("%s: mode %v, want %v", f.Path, st.Mode().Perm(), f.Mode.Perm())
		}
	}
	if !bytes.Contains(p, []byte(render.ShellQuote(hexSHA256(mustArchive(t, files))))) {
		t.Error("the payload does not carry the archive's sha256")
	}
}

func mustArchive(t *testing.T, files []render.File) []byte {
	t.Helper()
	a, err := Archive(files)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestInvocationsRunInOrder splits a long script, runs the parts one by
// one with bash (ROOT at a scratch tree), and checks that the last part
// runs the whole script with its exit code, then cleans up; a missing
// part runs nothing.
func TestInvocationsRunInOrder(t *testing.T) {
	var b strings.Builder
	b.WriteString("#!/bin/bash\necho \"whole: $(wc -c <\"$0\")\"\nexit 7\n")
	// Padding that does not compress: the parts carry the payload gzipped.
	for i := 0; b.Len() < 40000; i++ {
		b.WriteString("# " + hexSHA256([]byte(fmt.Sprint(i))) + "\n")
	}
	payload := []byte(b.String())
	parts, err := Invocations(payload, false, maxContent)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 3 {
		t.Fatalf("%d parts for %d bytes", len(parts), len(payload))
	}
	run := func(root string, parts [][]byte) (int, string) {
		var out []byte
		code := 0
		for _, p := range parts {
			cmd := exec.Command("bash", "-c", string(p))
			cmd.Env = append(os.Environ(), "ROOT="+root)
			o, err := cmd.CombinedOutput()
			out = append(out, o...)
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
		}
		return code, string(out)
	}
	root := t.TempDir()
	code, out := run(root, parts)
	if code != 7 || !strings.Contains(out, fmt.Sprintf("whole: %d", len(payload))) {
		t.Errorf("exit %d, output %q; want 7 and the whole script", code, out)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "var/lib/ecsnet/.incoming")); len(entries) != 0 {
		t.Errorf("the parts were left behind: %v", entries)
	}
	// A retried part is harmless; a lost one stops the run.
	code, out = run(root, append([][]byte{parts[0], parts[0]}, parts[2:]...))
	if code != 1 || !strings.Contains(out, "part 2 of the payload is missing") {
		t.Errorf("with part 2 lost: exit %d, output %q", code, out)
	}
	short := []byte("#!/bin/bash\necho hi\n")
	if got, _ := Invocations(short, false, maxContent); len(got) != 1 || !bytes.Equal(got[0], short) {
		t.Error("a payload that fits was split")
	}
}

// TestWindowsRollbackRestoresDNS pins issue 12 item 30: the Windows
// payload's snapshot, which decides what a rollback restores and whether
// it succeeded, holds each interface's configured DNS servers and
// connection-specific suffix, and Restore-Live puts both back. (No
// Windows runs here: the payload is parsed by tree-sitter in
// TestPayloadScriptsParse; this pins what it does.)
func TestWindowsRollbackRestoresDNS(t *testing.T) {
	h := exampleHost(t, "win-1")
	files, err := render.ForHost(h)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Payload(h, files, PayloadApply, PayloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(p), "\r\n", "\n")
	for _, want := range []string{
		"Dns = @($dns | Sort-Object) }",
		"foreach ($kind in @('Addrs', 'Ifs', 'Routes', 'Dns')) {",
		"foreach ($line in @($Before.Dns)) {",
		"Set-DnsClientServerAddress -InterfaceIndex ([int]$f[0]) -ResetServerAddresses",
		"Set-DnsClientServerAddress -InterfaceIndex ([int]$f[0]) -ServerAddresses $f[1].Split(',')",
		"Set-DnsClient -InterfaceIndex ([int]$f[0]) -ConnectionSpecificSuffix $f[2]",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the Windows payload lacks %q", want)
		}
	}
}
