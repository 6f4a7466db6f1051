package main

import (
	"bytes"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// TestHeartbeatNamesWaits: against an emulator whose attaches and Cloud
// Assistant runs take a while, apply, push and verify each print a
// "waiting" line that names what is in flight and for how long, with the
// interval shortened (issue 12 item 26). Only that a line appeared is
// checked, never when.
func TestHeartbeatNamesWaits(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the emulator's real clock")
	}
	_, url, dir := slowCloud(t, emulator.Options{AsyncDelay: 600 * time.Millisecond})
	vars := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": soakKey.AccessKeyId, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": soakKey.AccessKeySecret}
	cli := func(args ...string) (int, string) {
		t.Helper()
		errb := &hookBuffer{hook: func(string) {}}
		e := env{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: errb, getenv: func(k string) string { return vars[k] },
			tune: tuning{heartbeat: 100 * time.Millisecond}}
		code := run(append([]string{args[0], "--endpoint", url}, append(args[1:], dir)...), e)
		return code, errb.String()
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"apply", "--auto-approve"}, `(?m)^  waiting  attach eni/\S+ to \S+ \(\d+ s\)`},
		{[]string{"push"}, `(?m)^  waiting  host-apply host/\S+ \(Cloud Assistant\) \(\d+ s\)`},
		{[]string{"verify"}, `(?m)^  waiting  ecsnet verify on \d+ Linux hosts \(Cloud Assistant\) \(\d+ s\)`},
	} {
		code, errs := cli(c.args...)
		if c.args[0] == "apply" && code != exitOK {
			t.Fatalf("apply: exit %d\n%s", code, errs)
		}
		if !regexp.MustCompile(c.want).MatchString(errs) {
			t.Errorf("%s: no heartbeat line matching %s; stderr:\n%s", c.args[0], c.want, errs)
		}
	}
}

// TestHeartbeatInterval: 30 s in a log (a buffer, a file, /dev/null), or
// what the test sets.
func TestHeartbeatInterval(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for _, w := range []io.Writer{&bytes.Buffer{}, null} {
		if got := heartbeatEvery(env{stderr: w}); got != 30*time.Second {
			t.Errorf("%T: every %s, want 30s", w, got)
		}
	}
	if got := heartbeatEvery(env{tune: tuning{heartbeat: time.Millisecond}}); got != time.Millisecond {
		t.Errorf("tuned: every %s", got)
	}
}
