package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanCheckCacheSameAsCold: plan --rendered DIR --check with --cache
// prints and exits as with --cache off, byte for byte: on a clean tree
// (the second run takes every host from the cache), after a change to
// the desired state, after a rendered file edited by hand, and with the
// cache file damaged or written under another key (ignored). A cache
// directory inside the desired state's directory or DIR is refused.
func TestPlanCheckCacheSameAsCold(t *testing.T) {
	c := appliedE2E(t, nil)
	out := filepath.Join(t.TempDir(), "rendered")
	if code, so, se := runCLI(t, "render", "--out", out, c.dir); code != exitOK {
		t.Fatalf("render: exit %d\n%s\n%s", code, so, se)
	}
	cache := filepath.Join(t.TempDir(), "cache")
	home := t.TempDir()
	runKey := func(key string, args ...string) (int, string, string) {
		var so, se bytes.Buffer
		vars := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": c.keyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": c.secret, "HOME": home, cacheKeyEnv: key}
		e := env{stdin: strings.NewReader(""), stdout: &so, stderr: &se, getenv: func(k string) string { return vars[k] }}
		code := run(append([]string{"plan", "--endpoint", c.url, "--detailed-exitcode", "--rendered", out, "--check"}, args...), e)
		return code, so.String(), se.String()
	}
	same := func(what, key string) {
		t.Helper()
		cc, cout, cerr := runKey(key, "--cache", "off", c.dir)
		wc, wout, werr := runKey(key, "--cache", cache, c.dir)
		if wc != cc || wout != cout || werr != cerr {
			t.Errorf("%s: with the cache exit %d\n%s\n%s\nwithout: exit %d\n%s\n%s", what, wc, wout, werr, cc, cout, cerr)
		}
		if _, err := os.Stat(filepath.Join(cache, hostCacheFile)); err != nil {
			t.Errorf("%s: no cache written: %v", what, err)
		}
	}
	const key = "the cache key of this test, 32 bytes+"
	same("clean, cache empty", key)
	same("clean, cache full", key)
	c.edit(`	"db-1-repl": {`, `	"lb-2-data": {
		vswitch:          "data-h"
		securityGroups:   ["web"]
		secondaryIpCount: 3
		attachTo:         "lb-2"
	}
	"db-1-repl": {`)
	same("a new ENI", key)
	files, _ := filepath.Glob(filepath.Join(out, "lb-1", "*"))
	if len(files) == 0 {
		t.Fatal("no rendered files for lb-1")
	}
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && !st.IsDir() {
			os.WriteFile(f, []byte("edited by hand\n"), 0o644)
			break
		}
	}
	same("a rendered file edited by hand", key)
	same("another key", "another key, also more than 32 bytes")
	data, err := os.ReadFile(filepath.Join(cache, hostCacheFile))
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	os.WriteFile(filepath.Join(cache, hostCacheFile), data, 0o600)
	same("the cache file damaged", key)

	// Refused before anything is planned.
	for _, dir := range []string{filepath.Join(c.dir, ".ecsnet-cache"), filepath.Join(out, "cache"), filepath.Dir(c.dir)} {
		code, so, se := runKey(key, "--cache", dir, c.dir)
		if code != exitError || so != "" || !strings.Contains(se, "--cache "+dir) {
			t.Errorf("--cache %s: exit %d, want 1 with the refusal\n%s\n%s", dir, code, so, se)
		}
	}
}
