package render

import (
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// TestUnifiedDiffLikeDiff holds unifiedDiff to diff(1) itself on changes
// whose alignment is unambiguous: the same hunks, and in each changed
// block the '-' lines before the '+' lines (issue 12 item 5).
func TestUnifiedDiffLikeDiff(t *testing.T) {
	diff := lookTool(t, "diff")
	ten := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"
	for _, tt := range []struct{ name, a, b string }{
		{"one line changed", ten, strings.Replace(ten, "5\n", "five\n", 1)},
		{"two lines become three", ten, strings.Replace(ten, "4\n5\n", "four\nfive\nfive and a half\n", 1)},
		{"two hunks", ten + ten + ten, strings.Replace(strings.Replace(ten, "2\n", "two\n", 1)+ten+ten, "9\n10\n", "nine\n10\n", 2)},
		{"added at the end", ten, ten + "11\n"},
		{"removed at the start", ten, strings.TrimPrefix(ten, "1\n")},
		{"new file", "", "a\nb\n"},
		{"emptied file", "a\nb\n", ""},
		{"address replaced", "[Address]\nAddress=172.16.1.21/24\n\n[Route]\nTable=1001\n", "[Address]\nAddress=172.16.1.22/24\n\n[Route]\nTable=1001\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			pa, pb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
			if err := os.WriteFile(pa, []byte(tt.a), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(pb, []byte(tt.b), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(diff, "-u", "--label", "a/f", "--label", "b/f", pa, pb).Output()
			var ee *exec.ExitError
			if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
				t.Fatalf("diff: %v", err)
			}
			if got := unifiedDiff("a/f", "b/f", []byte(tt.a), []byte(tt.b)); got != string(out) {
				t.Errorf("unifiedDiff:\n%s\ndiff -u:\n%s", got, out)
			}
		})
	}
}

// TestCheckOrder: render --check's diff shows every host's configuration
// files first, then the apply scripts, then the manifests, and each
// changed block's '-' lines before its '+' lines (issue 12 item 5: it
// opened with kilobytes of apply script, '+' before '-').
func TestCheckOrder(t *testing.T) {
	dir := t.TempDir()
	before := map[string][]File{}
	after := map[string][]File{}
	for _, s := range []struct {
		stack schema.Stack
		os    schema.OS
		name  string
	}{{schema.StackNetworkd, "debian12", "app-1"}, {schema.StackIfcfg, "centos7", "app-2"}} {
		h := testHosts(s.stack, s.os)["full"]
		h.Name, h.OS, h.Stack = s.name, s.os, s.stack
		files, err := ForHost(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteHost(dir, h.Name, files); err != nil {
			t.Fatal(err)
		}
		before[h.Name] = files
		// One address of the first secondary ENI replaced by another.
		c := *h
		c.Secondary = append([]NIC(nil), h.Secondary...)
		c.Secondary[0].Secondary = []netip.Addr{addr("172.16.2.21"), addr("172.16.2.23")}
		if after[h.Name], err = ForHost(&c); err != nil {
			t.Fatal(err)
		}
	}
	if diff, err := Check(dir, before); err != nil || diff != "" {
		t.Fatalf("Check of the written bundles: %v\n%s", err, diff)
	}
	diff, err := Check(dir, after)
	if err != nil {
		t.Fatal(err)
	}
	var order []string // the "+++ " names, in order
	lines := strings.Split(diff, "\n")
	for i, l := range lines {
		if name, ok := strings.CutPrefix(l, "+++ b/"); ok {
			order = append(order, name)
			continue
		}
		if strings.HasPrefix(l, "+") && !strings.HasPrefix(l, "+++ ") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "-") && !strings.HasPrefix(lines[i+1], "--- ") {
			t.Errorf("a '-' line after a '+' line of the same block:\n%s\n%s", l, lines[i+1])
		}
	}
	if len(order) == 0 {
		t.Fatalf("no changed file in the diff:\n%s", diff)
	}
	last := 0
	for _, name := range order {
		_, p, _ := strings.Cut(name, "/")
		part := diffPart(p)
		if part < last {
			t.Errorf("%s comes after a file of a later part; files in order: %q", name, order)
		}
		last = part
	}
	if _, p, _ := strings.Cut(order[0], "/"); diffPart(p) != 0 {
		t.Errorf("the diff opens with %s, not a configuration file: %q", order[0], order)
	}
	for _, host := range []string{"app-1", "app-2"} {
		for _, p := range []string{ScriptName, ManifestName} {
			if !strings.Contains(diff, "+++ b/"+host+"/"+p+"\n") {
				t.Errorf("no diff of %s/%s", host, p)
			}
		}
	}
}
