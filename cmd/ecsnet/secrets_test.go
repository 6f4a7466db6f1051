package main

// Secrets never leave the process: every command runs with a recognisable
// access key secret and STS token in its environment, on the happy path
// and on every kind of failure, and nothing it writes (stdout, stderr,
// plans, locks, snapshots, rendered trees, imported files) contains them
// in any encoding. The emulator's own refusal of unsigned, mis-signed,
// replayed and expired requests is tested on raw HTTP in
// ecs/emulator/auth_test.go (TestAuthRejections); the ecs client's
// scrubbing of SDK errors and logs in ecs/faults_test.go
// (TestSecretsNeverLeak).

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/fixtures"
	"github.com/ecsnet/ecsnet/schema"
)

// The credentials. Each secret has an alphanumeric core that survives
// every percent-, JSON- or shell-encoding, and characters around it that
// encode differently in each (/ + = ~ *).
const (
	leakKeyID       = "STS.NLeakTestKey0001"
	leakSecret      = "ZqSecretCore91/+=~*xyz"
	leakToken       = "CAIS/ZqTokenCore42+=~*abc/def"
	leakWrongSecret = "ZqWrongCore77/+=~*uvw"
)

// leakNeedles are the strings that must appear nowhere: each secret's
// core, and every whole encoding the API, the SDK or a JSON encoder could
// produce (they all contain the core, but are listed for the report).
func leakNeedles() []string {
	var out []string
	for _, s := range []string{leakSecret, leakToken, leakWrongSecret} {
		q := url.QueryEscape(s)
		pop := strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(q) // the API's percentEncode
		out = append(out, s, q, url.QueryEscape(q), url.PathEscape(s), pop, url.QueryEscape(pop),
			base64.StdEncoding.EncodeToString([]byte(s)), base64.URLEncoding.EncodeToString([]byte(s)))
	}
	return append(out, "ZqSecretCore91", "ZqTokenCore42", "ZqWrongCore77")
}

// leakRecorder collects everything the commands write.
type leakRecorder struct {
	t    *testing.T
	mu   sync.Mutex
	seen map[string]string // where -> text
}

func (r *leakRecorder) add(where, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[where] += text
}

// check searches everything recorded, and every file under dirs.
func (r *leakRecorder) check(dirs ...string) {
	r.t.Helper()
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(p string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			r.add("file "+p, string(data))
			return nil
		})
		if err != nil {
			r.t.Fatal(err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for where, text := range r.seen {
		for _, n := range leakNeedles() {
			if i := strings.Index(text, n); i >= 0 {
				r.t.Errorf("%s contains %q: ...%s...", where, n, text[max(0, i-120):min(len(text), i+len(n)+60)])
			}
		}
	}
}

// leakEnv runs ecsnet in-process with the STS credentials (or the wrong
// secret) in its environment, and records what it prints.
type leakEnv struct {
	t    *testing.T
	rec  *leakRecorder
	home string
}

func (l *leakEnv) run(secret string, args ...string) (int, string, string) {
	l.t.Helper()
	var out, errb bytes.Buffer
	vars := map[string]string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     leakKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret,
		"ALIBABA_CLOUD_SECURITY_TOKEN":    leakToken,
		"HOME":                            l.home,
	}
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	code := run(args, e)
	what := "ecsnet " + strings.Join(args, " ")
	l.rec.add("stdout of "+what, out.String())
	l.rec.add("stderr of "+what, errb.String())
	return code, out.String(), errb.String()
}

// must runs a command with the right secret and expects exit code want.
func (l *leakEnv) must(want int, args ...string) (string, string) {
	l.t.Helper()
	code, out, errs := l.run(leakSecret, args...)
	if code != want {
		l.t.Fatalf("ecsnet %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errs)
	}
	return out, errs
}

// failing serves an API that fails: "500" answers 500 InternalError and
// "drop" closes the connection without an answer, both after reading the
// signed request. Unless every attempt should fail, only the first
// attempt of a call does, and the retries get a 400 that cannot be
// retried; both answers quote the whole signed request back, as a broken
// gateway might. (Every attempt failing costs the client's full backoff,
// about 25 s a command; ECSNET_SECRETS_FULL=1 runs that too.)
func failing(t *testing.T, mode string, every bool) string {
	var n atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		echo := fmt.Sprintf("request http://%s%s form %s", r.Host, r.URL.String(), r.Form.Encode())
		w.Header().Set("Content-Type", "application/json")
		if every || n.Add(1) == 1 {
			switch mode {
			case "500":
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprintf(w, `{"RequestId":"R-500","Code":"InternalError","Message":%q}`, "internal error; "+echo)
				return
			case "drop":
				if hj, ok := w.(http.Hijacker); ok {
					if conn, _, err := hj.Hijack(); err == nil {
						conn.Close()
						return
					}
				}
				panic(http.ErrAbortHandler)
			}
		}
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"RequestId":"R-400","Code":"InvalidParameter","Message":%q}`, "bad request; server string to sign is:"+echo)
	}))
	t.Cleanup(hs.Close)
	return hs.URL
}

// hostsPayloads applies the example from scratch with --hosts against an
// emulator that records every Cloud Assistant script it is asked to run,
// and records the scripts for the search. The exit code does not matter
// here (the emulator's hosts answer with nothing); that scripts were sent
// does.
func hostsPayloads(t *testing.T, l *leakEnv, rec *leakRecorder, w *emulator.World, fleetSrc []byte) {
	t.Helper()
	var n atomic.Int64
	srv, err := emulator.New(w, emulator.Options{AsyncDelay: time.Nanosecond, Runner: func(_ context.Context, c emulator.Command) (emulator.CommandResult, error) {
		rec.add(fmt.Sprintf("Cloud Assistant script %d for %s", n.Add(1), c.InstanceId), c.Content+"\n"+c.WorkingDir+"\n"+c.Username)
		return emulator.CommandResult{}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	dir := filepath.Join(t.TempDir(), "hosts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), fleetSrc, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := l.run(leakSecret, "apply", "--endpoint", hs.URL, "--hosts", "--auto-approve", dir)
	if strings.Contains(errs, "unknown flag: --hosts") {
		t.Logf("apply has no --hosts: no Cloud Assistant scripts to search")
		return
	}
	if n.Load() == 0 {
		t.Errorf("apply --hosts sent no script (exit %d):\n%s", code, errs)
	}
	t.Logf("apply --hosts sent %d Cloud Assistant scripts (exit %d)", n.Load(), code)
	rec.add("files of the --hosts apply", "")
	if err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rec.add("file "+p, string(data))
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSecretsNeverWritten runs validate, plan, apply, show, observe,
// import (both forms), render and apply --hosts (whose scripts reach the
// instances) with an STS key in the environment: on
// the happy path against the emulator, with a wrong secret (the emulator
// answers SignatureDoesNotMatch and quotes the string to sign), against a
// server that answers 500 and one that drops the connection (both echo
// the signed request), and against a plain-HTTP endpoint that is not
// loopback (refused before any connection). Then it searches everything
// written for the secret, the token and the wrong secret, raw and
// encoded.
func TestSecretsNeverWritten(t *testing.T) {
	w, err := exampleWorld()
	if err != nil {
		t.Fatal(err)
	}
	w.AccessKeys = []emulator.AccessKey{{AccessKeyId: leakKeyID, AccessKeySecret: leakSecret, SecurityToken: leakToken}}
	srv, err := emulator.New(w, emulator.Options{AsyncDelay: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	emu := hs.URL

	work := t.TempDir()
	dir := filepath.Join(work, "example")
	src, err := fixtures.Example.ReadFile("example/fleet.cue")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	rec := &leakRecorder{t: t, seen: map[string]string{}}
	l := &leakEnv{t: t, rec: rec, home: t.TempDir()}
	file := func(name string) string { return filepath.Join(work, name) }
	save := func(name, data string) {
		if err := os.WriteFile(file(name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The happy path, every command.
	for _, format := range []string{"text", "json", "github"} {
		l.must(exitOK, "validate", "--format", format, dir)
	}
	l.must(exitOK, "plan", "--endpoint", emu, "--save", file("plan.json"), dir)
	for _, format := range []string{"json", "markdown"} {
		out, _ := l.must(exitOK, "plan", "--endpoint", emu, "--format", format, dir)
		save("plan."+format+".out", out)
	}
	for _, format := range []string{"text", "json", "markdown"} {
		l.must(exitOK, "show", "--format", format, file("plan.json"))
	}
	l.must(exitOK, "apply", "--endpoint", emu, "--plan", file("plan.json"), "--auto-approve", dir)
	l.must(exitOK, "apply", "--endpoint", emu, "--auto-approve", dir)
	snap, _ := l.must(exitOK, "observe", "--endpoint", emu, dir)
	save("snapshot.json", snap)
	l.must(exitOK, "plan", "--observed", file("snapshot.json"), "--detailed-exitcode", dir)
	l.must(exitOK, "render", "--out", file("hosts"), dir)
	l.must(exitOK, "render", "--check", "--out", file("hosts"), dir)
	l.must(exitOK, "render", "--observed", file("snapshot.json"), "--out", file("hosts-observed"), dir)
	l.must(exitOK, "plan", "--endpoint", emu, "--rendered", file("hosts"), dir)
	snippet, _ := l.must(exitOK, "import", "--endpoint", emu, "eni-bp1podpool00000001", "--as", "pod-pool", dir)
	if err := os.WriteFile(filepath.Join(dir, "pod-pool.cue"), []byte(snippet), 0o644); err != nil {
		t.Fatal(err)
	}
	imported, _ := l.must(exitOK, "import", "--endpoint", emu, "--all", "--region", "cn-hangzhou", "--vpc", "vpc-bp1shop00000001")
	save("imported.cue", imported)
	l.must(exitOK, "apply", "--endpoint", emu, "--auto-approve", dir)
	// A stale saved plan is refused, which is an error path of its own.
	if code, _, _ := l.run(leakSecret, "apply", "--endpoint", emu, "--plan", file("plan.json"), "--auto-approve", dir); code != exitError {
		t.Errorf("a stale plan was applied: exit %d", code)
	}

	cloudCommands := func(endpoint string) [][]string {
		return [][]string{
			{"plan", "--endpoint", endpoint, dir},
			{"plan", "--endpoint", endpoint, "--format", "json", dir},
			{"apply", "--endpoint", endpoint, "--auto-approve", dir},
			{"observe", "--endpoint", endpoint, dir},
			{"import", "--endpoint", endpoint, "eni-bp1monitor00000001", "--as", "monitoring", dir},
			{"import", "--endpoint", endpoint, "--all", "--region", "cn-hangzhou", "--vpc", "vpc-bp1shop00000001"},
		}
	}
	lockBefore, err := os.ReadFile(filepath.Join(dir, schema.LockFileName))
	if err != nil {
		t.Fatal(err)
	}

	// A wrong secret: the emulator refuses the signature and quotes its
	// string to sign (which holds the token) in the message.
	for _, args := range cloudCommands(emu) {
		code, out, errs := l.run(leakWrongSecret, args...)
		if code != exitError || !strings.Contains(errs, "SignatureDoesNotMatch") {
			t.Errorf("ecsnet %s with a wrong secret: exit %d, want 1 naming SignatureDoesNotMatch\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
		}
	}

	// A 500 and a dropped connection, each echoing the signed request.
	full := os.Getenv("ECSNET_SECRETS_FULL") != ""
	for _, mode := range []string{"500", "drop"} {
		for _, args := range cloudCommands(failing(t, mode, false)) {
			code, out, errs := l.run(leakSecret, args...)
			if code != exitError || !strings.Contains(errs, "InvalidParameter") {
				t.Errorf("ecsnet %s after a %s: exit %d, want 1 naming the 400 of the retry\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), mode, code, out, errs)
			}
		}
	}
	if full {
		var wg sync.WaitGroup
		for _, tc := range []struct{ mode, want string }{{"500", "HTTP 500 InternalError"}, {"drop", "EOF"}} {
			for _, args := range cloudCommands(failing(t, tc.mode, true)) {
				wg.Go(func() {
					code, out, errs := l.run(leakSecret, args...)
					if code != exitError || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "gave up after 8 attempts") {
						t.Errorf("ecsnet %s, every attempt a %s: exit %d, want 1 with %q after 8 attempts\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), tc.mode, code, tc.want, out, errs)
					}
				})
			}
		}
		wg.Wait()
	}

	// Plain HTTP to an address that is not loopback is refused before any
	// connection: at once (a connection attempt to this unroutable
	// address would take the 5 s connect timeout, or fail with a dial
	// error), and saying why.
	for _, args := range cloudCommands("http://10.255.255.1:80") {
		start := time.Now()
		code, out, errs := l.run(leakSecret, args...)
		if took := time.Since(start); code != exitError || !strings.Contains(errs, "plain HTTP to a host that is not loopback") || took > 2*time.Second ||
			strings.Contains(errs, "dial") || strings.Contains(errs, "connect") {
			t.Errorf("ecsnet %s: exit %d in %s, want 1 at once refusing plain HTTP\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, took, out, errs)
		}
	}
	if lockAfter, _ := os.ReadFile(filepath.Join(dir, schema.LockFileName)); !bytes.Equal(lockBefore, lockAfter) {
		t.Errorf("a failed command changed the lock")
	}

	// apply --hosts sends scripts to the instances through Cloud
	// Assistant: what reaches a host must hold no secret either.
	hostsPayloads(t, l, rec, w, src)

	rec.check(work, l.home)
	if t.Failed() {
		return
	}
	t.Logf("searched %d outputs and files for %d needles", len(rec.seen), len(leakNeedles()))
}
