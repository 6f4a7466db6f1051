package deps

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"

	_ "github.com/ecsnet/ecsnet/internal/golden"
)

const mod = "github.com/ecsnet/ecsnet"

type pkg struct {
	ImportPath string
	Deps       []string
}

func listDeps(t *testing.T) map[string][]string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Deps", mod+"/...")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	deps := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		deps[p.ImportPath] = p.Deps
	}
	return deps
}

func TestImportDirection(t *testing.T) {
	deps := listDeps(t)
	// allowed lists, for each product package, the ecsnet packages it may
	// reach (directly or not).
	allowed := map[string][]string{
		"schema": nil,
		"plan":   {"schema"},
		"render": {"schema"},
		"ecs":    {"schema", "plan"},
		// The emulator's hosts mode boots guests from the Debian root
		// internal/guestroot builds (and only reads schema's names).
		"ecs/emulator": {"schema", "internal/guestroot"},
		// guest, what runs inside an instance, wraps render's bundles
		// into plan's host payloads and judges what hosts report through
		// plan's HostRunner; it never talks to the cloud itself, and
		// nothing below cmd reaches it (plan and render may not: their
		// rules leave it out).
		"guest":    {"schema", "render", "plan"},
		"fixtures": nil,
	}
	// leaves import only the standard library, so every package may
	// import them: internal/safefile for every package that writes files
	// the user named, internal/iproute for every one that reads `ip -j`,
	// internal/plural for every one that prints a count.
	leaves := []string{"internal/safefile", "internal/iproute", "internal/levenshtein", "internal/plural"}
	for _, p := range append(slices.Sorted(maps.Keys(allowed)), leaves...) {
		if _, found := deps[mod+"/"+p]; !found {
			// A rename must not silently drop a rule: every rule names a
			// package that exists.
			t.Errorf("the rule for %s names no package of the module: update the rule with the package", p)
		}
	}
	for _, p := range leaves {
		for _, d := range deps[mod+"/"+p] {
			if strings.Contains(strings.SplitN(d, "/", 2)[0], ".") {
				t.Errorf("the leaf %s imports %s; it may import only the standard library", p, d)
			}
		}
	}
	const sdk = "github.com/aliyun/alibaba-cloud-sdk-go"
	for p, ok := range allowed {
		for _, d := range deps[mod+"/"+p] {
			if strings.HasPrefix(d, mod+"/") {
				rel := strings.TrimPrefix(d, mod+"/")
				if !slices.Contains(ok, rel) && !slices.Contains(leaves, rel) {
					t.Errorf("%s imports %s; it may reach only %v", p, rel, ok)
				}
			}
			if strings.HasPrefix(d, sdk) && p != "ecs" {
				t.Errorf("%s reaches the Alibaba SDK (%s); only package ecs may", p, d)
			}
		}
	}
	for p, ds := range deps {
		if strings.HasPrefix(p, mod+"/cmd/") {
			continue
		}
		for _, d := range ds {
			if d == "github.com/spf13/pflag" {
				t.Errorf("%s imports pflag; flags belong to cmd/ecsnet", p)
			}
		}
	}
}
