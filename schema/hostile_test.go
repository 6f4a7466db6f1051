package schema

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// baseCUE is a minimal valid fleet in CUE; the hostile cases append to it.
const baseCUE = `fleet:  "shop-test"
region: "cn-hangzhou"
vswitches: "app-h": {id: "vsw-bp1app0000h", zone: "cn-hangzhou-h", cidr: "172.16.0.0/24"}
securityGroups: web: {id: "sg-bp1web000001"}
instances: "web-1": {
	id:   "i-bp1web000001"
	type: "ecs.g7.large"
	os:   "centos7"
	primary: {vswitch: "app-h", ip: "172.16.0.10", securityGroups: ["web"]}
}
`

// baseYAML is the same fleet in YAML.
const baseYAML = `fleet: shop-test
region: cn-hangzhou
vswitches:
  app-h: {id: vsw-bp1app0000h, zone: cn-hangzhou-h, cidr: 172.16.0.0/24}
securityGroups:
  web: {id: sg-bp1web000001}
instances:
  web-1:
    id: i-bp1web000001
    type: ecs.g7.large
    os: centos7
    primary: {vswitch: app-h, ip: 172.16.0.10, securityGroups: [web]}
`

// The hostile inputs of issue 11, made small; FuzzLoad seeds its corpus
// with them too.

// yamlAliasBomb aliases one string of size bytes n times: n*size bytes
// expanded from a few bytes per alias. The YAML decoder caps the number of
// nodes aliases make (50,000), not their size.
func yamlAliasBomb(n, size int) string {
	var b strings.Builder
	b.WriteString(baseYAML)
	b.WriteString("x: &big \"" + strings.Repeat("a", size) + "\"\ny: [")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*big")
	}
	b.WriteString("]\n")
	return b.String()
}

// cueDisjunctions unifies n two-way disjunctions of structs: the
// evaluator tries 2^n combinations.
func cueDisjunctions(n int) string {
	var b strings.Builder
	b.WriteString(baseCUE)
	for i := range n {
		fmt.Fprintf(&b, "_d%d: {a%d: 1} | {b%d: 1}\n", i, i, i)
	}
	b.WriteString("_all: _d0")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, " & _d%d", i)
	}
	b.WriteString("\n_all: zz: 1\nz: len([for k, _ in _all {k}])\n")
	return b.String()
}

// cueHugeRange builds a list of 10^8 structs: gigabytes.
func cueHugeRange() string {
	return "import \"list\"\n" + baseCUE + "_x: [for i in list.Range(0, 100000000, 1) {a: i, b: \"\\(i)\"}]\nz: len(_x)\n"
}

// cueDoubling doubles a 10-byte string n times and puts it in conflict, so
// that the error message quotes 10*2^n bytes.
func cueDoubling(n int) string {
	var b strings.Builder
	b.WriteString(baseCUE + "_s0: \"0123456789\"\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "_s%d: _s%d + _s%d\n", i, i-1, i-1)
	}
	fmt.Fprintf(&b, "x: _s%d\nx: \"c\"\n", n)
	return b.String()
}

func writeFile(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testSandbox runs evaluations in this test binary (TestMain serves them)
// with small caps.
func testSandbox(mem int64, d time.Duration) *Sandbox {
	return &Sandbox{Command: []string{os.Args[0]}, MaxMemory: mem, MaxTime: d}
}

// loadErr loads paths and returns the single error it must fail with,
// checking that it names a position in a file and how long it took.
func loadErr(t *testing.T, opts LoadOptions, within time.Duration, paths ...string) *Error {
	t.Helper()
	start := time.Now()
	_, err := LoadContext(context.Background(), paths, opts)
	if took := time.Since(start); took > within {
		t.Errorf("Load took %v, want under %v", took, within)
	}
	var es Errors
	if !errors.As(err, &es) || len(es) == 0 {
		t.Fatalf("Load = %v, want schema errors", err)
	}
	e := es[0]
	if !e.Pos.IsValid() && e.Pos.File == "" {
		t.Errorf("error %q has no file:line:col", e)
	}
	return e
}

func TestLoadRefusesNamedPipe(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "fleet.cue", baseCUE)
	fifo := filepath.Join(dir, "extra.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, paths := range [][]string{{dir}, {fifo}} {
		e := loadErr(t, LoadOptions{}, 5*time.Second, paths...)
		if e.Pos.File != fifo || !strings.Contains(e.Msg, "named pipe") {
			t.Errorf("%v: error %v, want one naming the pipe %s", paths, e, fifo)
		}
	}
}

func TestYAMLAliasExpansionCapped(t *testing.T) {
	// 2 MiB expanded from 11 KiB.
	p := writeFile(t, t.TempDir(), "fleet.yaml", yamlAliasBomb(2000, 1024))
	e := loadErr(t, LoadOptions{MaxInputBytes: 1 << 20}, 5*time.Second, p)
	if !strings.Contains(e.Msg, "aliases expand to more than the 1 MiB input cap") || e.Pos.Line != 13 {
		t.Errorf("error %v, want the alias cap at the anchor, line 13", e)
	}
}

func TestCUEEvalTimeCapped(t *testing.T) {
	p := writeFile(t, t.TempDir(), "fleet.cue", cueDisjunctions(16))
	e := loadErr(t, LoadOptions{Sandbox: testSandbox(0, time.Second)}, 10*time.Second, p)
	if !strings.Contains(e.Msg, "took longer than the 1s cap") || e.Pos.Line != 11 || !strings.Contains(e.Hint, "--eval-time") {
		t.Errorf("error %v (hint %q), want the time cap at the first evaluated line, 11", e, e.Hint)
	}
}

func TestCUEEvalMemoryCapped(t *testing.T) {
	p := writeFile(t, t.TempDir(), "fleet.cue", cueHugeRange())
	e := loadErr(t, LoadOptions{Sandbox: testSandbox(1<<30, time.Minute)}, time.Minute, p)
	if !strings.Contains(e.Msg, "needed more than the 1 GiB memory cap") || e.Pos.Line != 12 || !strings.Contains(e.Hint, "--eval-memory") {
		t.Errorf("error %v (hint %q), want the memory cap at line 12", e, e.Hint)
	}
}

func TestCUEEvaluatedSizeCapped(t *testing.T) {
	src := "import \"list\"\n" + baseCUE + "x: [for i in list.Range(0, 10000, 1) {\"item-\\(i)\"}]\n"
	p := writeFile(t, t.TempDir(), "fleet.cue", src)
	for _, sb := range []*Sandbox{nil, testSandbox(0, time.Minute)} {
		e := loadErr(t, LoadOptions{MaxInputBytes: 64 << 10, Sandbox: sb}, 30*time.Second, p)
		if !strings.Contains(e.Msg, "evaluates to more than the 65536 bytes input cap") || e.Pos.File != p {
			t.Errorf("sandbox %v: error %v, want the size cap in %s", sb != nil, e, p)
		}
	}
}

func TestHugeValuesTruncatedInErrors(t *testing.T) {
	dir := t.TempDir()
	name := strings.Repeat("X", 4<<20)
	json := writeFile(t, dir, "fleet.json", `{"fleet": "`+name+`", "region": "cn-hangzhou", "vswitches": {}, "instances": {}}`)
	// A CUE conflict prints both values: here 2.6 MB of string.
	cue := writeFile(t, dir, "big.cue", cueDoubling(18))
	for _, p := range []string{json, cue} {
		_, err := Load([]string{p}, LoadOptions{Sandbox: testSandbox(0, time.Minute)})
		var es Errors
		if !errors.As(err, &es) {
			t.Fatalf("%s: %v", p, err)
		}
		for _, e := range es {
			if n := len(e.Error()) + len(e.Hint); n > 3*maxMsgBytes {
				t.Errorf("%s: an error of %d bytes: %.200s...", p, n, e.Error())
			}
		}
		if !strings.Contains(es[0].Msg, "bytes cut)") {
			t.Errorf("%s: %.200s does not say it was cut", p, es[0].Msg)
		}
	}
}

func TestYAMLDuplicateKeysOnEveryPath(t *testing.T) {
	// The hex number sends the file to the CUE evaluator, which merges
	// the two instances: mappings unless refused.
	src := baseYAML + "limits: {securityGroupMaxIps: 0x7d0}\ninstances:\n  web-2: {id: i-bp1web000002, type: ecs.g7.large, os: centos7, primary: {vswitch: app-h, ip: 172.16.0.11}}\n"
	p := writeFile(t, t.TempDir(), "fleet.yaml", src)
	e := loadErr(t, LoadOptions{}, 10*time.Second, p)
	if !strings.Contains(e.Msg, `duplicate key "instances"`) || e.Pos.Line != 14 {
		t.Errorf("error %v, want the duplicate instances: key at line 14", e)
	}
}

func TestYAMLOctalLookingNumbersRefused(t *testing.T) {
	src := strings.Replace(baseYAML, "securityGroups: [web]}", "securityGroups: [web], secondaryIpCount: 04}", 1)
	p := writeFile(t, t.TempDir(), "fleet.yaml", src)
	_, err := Load([]string{p}, LoadOptions{})
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("Load = %v, want one error: the number is read as 4 after it", err)
	}
	e := es[0]
	if !strings.Contains(e.Msg, "04 has a leading zero") || e.Pos.Line != 12 || !strings.Contains(e.Hint, "(4)") {
		t.Errorf("error %v (hint %q), want the leading zero at line 12", e, e.Hint)
	}
}

func TestCUEToolImportRefusedAtTheImport(t *testing.T) {
	src := "import \"tool/exec\"\n" + baseCUE + "x: exec.Run & {cmd: \"true\"}\n"
	p := writeFile(t, t.TempDir(), "fleet.cue", src)
	e := loadErr(t, LoadOptions{}, 10*time.Second, p)
	if e.Pos != (Pos{File: p, Line: 1, Col: 8}) || !strings.Contains(e.Msg, "tool/ packages are not allowed") {
		t.Errorf("error %v, want the import at %s:1:8", e, p)
	}
}

func TestFleetNamesRenderRefusesAreRefused(t *testing.T) {
	for _, name := range []string{"shop..prod", "shop.", "a.", "x..", "shop-prod."} {
		src := strings.Replace(baseCUE, `"shop-test"`, fmt.Sprintf("%q", name), 1)
		p := writeFile(t, t.TempDir(), "fleet.cue", src)
		e := loadErr(t, LoadOptions{}, 10*time.Second, p)
		if e.Pos.Line != 1 || !strings.Contains(e.Msg, "is not tag-safe") {
			t.Errorf("%q: error %v, want the fleet name refused", name, e)
		}
	}
	for _, name := range []string{"shop.prod", "a", "shop_prod-1", "1.2.3"} {
		if !ValidFleetName(name) {
			t.Errorf("ValidFleetName(%q) = false", name)
		}
	}
}

func TestLoadStopsWhenContextIsDone(t *testing.T) {
	p := writeFile(t, t.TempDir(), "fleet.cue", cueDisjunctions(24))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := LoadContext(ctx, []string{p}, LoadOptions{Sandbox: testSandbox(0, time.Minute)})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Load took %v after its context ended", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Load = %v, want the context's error", err)
	}
}
