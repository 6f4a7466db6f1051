package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedInvalidMakesNoCalls takes the two invalid inputs too large
// to commit (TestGeneratedInvalid checks what validate says of them)
// through plan and apply against the emulator: both exit 1 naming the
// file, before any API call, and apply writes no lock.
func TestGeneratedInvalidMakesNoCalls(t *testing.T) {
	c := newE2E(t, nil)
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge", "fleet.json")
	many := filepath.Join(dir, "many", "fleet.json")
	for _, p := range []string{huge, many} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	big := bytes.Repeat([]byte(" "), 2<<20)
	if err := os.WriteFile(huge, append([]byte(`{"fleet":"x"`), append(big, '}')...), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(`{"fleet":"big","region":"cn-hangzhou",
"vswitches":{"app-h":{"id":"vsw-bp1app0000h","zone":"cn-hangzhou-h","cidr":"172.16.0.0/24"}},
"securityGroups":{"web":{"id":"sg-bp1web000001"}},
"instances":{"web-1":{"id":"i-bp1web000001","type":"ecs.g7.large","os":"linux","primary":{"vswitch":"app-h","ip":"172.16.0.10"}}},
"enis":{`)
	for i := 0; i < 10000; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `"e-%05d":{"vswitch":"app-h","securityGroups":["web"],"attachTo":"web-1"}`, i)
	}
	b.WriteString("}}\n")
	if err := os.WriteFile(many, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, want string
		args       []string
	}{
		{huge, "larger than the 1 MiB cap", []string{"--max-input-size", "1048576"}},
		{many, `10001 ENIs would be attached to instance "web-1"`, nil},
	} {
		for _, cmd := range [][]string{{"plan"}, {"apply", "--auto-approve"}} {
			args := append(append(append([]string{}, cmd[1:]...), tc.args...), tc.path)
			code, _, errs := c.run(cmd[0], args...)
			if code != exitError || !strings.Contains(errs, tc.want) || !strings.Contains(errs, tc.path) {
				t.Errorf("ecsnet %s %s: exit %d, want 1 with %q naming the file; stderr (first 1000 bytes):\n%.1000s", cmd[0], strings.Join(args, " "), code, tc.want, errs)
			}
			if all := c.srv.Calls(); len(all) != 0 {
				t.Errorf("ecsnet %s on %s called the API: %v", cmd[0], tc.path, all)
				c.srv.ResetCounters()
			}
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(tc.path), "ecsnet.lock.json")); err == nil {
			t.Errorf("apply of %s wrote a lock", tc.path)
		}
	}
}
