package emulator

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Hosts mode needs root and the real tools. Its tests skip without them,
// with the reason, unless ECSNET_REQUIRE_REAL_TOOLS=1 (CI): then they fail.

func hostsUnavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("ECSNET_REQUIRE_REAL_TOOLS") == "1" {
		t.Fatalf("%s (ECSNET_REQUIRE_REAL_TOOLS=1: a missing tool is a failure; run internal/hosttest/install.sh as root)", msg)
	}
	t.Skipf("%s (run as root with internal/hosttest/install.sh's tools to test hosts mode)", msg)
}

func requireHostsMode(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		hostsUnavailable(t, "hosts mode needs root for network and mount namespaces")
	}
	for _, tool := range []string{"ip", "nsenter", "unshare", "bash", "ifup", "mount"} {
		if _, err := lookTool(tool); err != nil {
			hostsUnavailable(t, "hosts mode needs %s: %v", tool, err)
		}
	}
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func exampleWorld(t testing.TB) *World {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "world", "example.json"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := ReadWorld(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// newHostsEnv starts a server in hosts mode; the test's end closes it and
// checks that nothing of it is left.
func newHostsEnv(t *testing.T, w *World) *env {
	t.Helper()
	return newHostsEnvConfig(t, w, HostsConfig{Log: logWriter{t}})
}

// newHostsEnvConfig is newHostsEnv with a configuration.
func newHostsEnvConfig(t *testing.T, w *World, cfg HostsConfig) *env {
	t.Helper()
	requireHostsMode(t)
	e := newEnv(t, w, Options{Hosts: &cfg})
	e.cl.id, e.cl.secret = w.AccessKeys[0].AccessKeyId, w.AccessKeys[0].AccessKeySecret
	dir := e.srv.hosts.dir
	tag := e.srv.hosts.tag
	t.Cleanup(func() {
		if err := e.srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if left := leftovers(tag); len(left) > 0 {
			t.Errorf("after Close, left behind: %v", left)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("after Close, the hosts' directory %s is still there (%v)", dir, err)
		}
	})
	return e
}

// leftovers lists the namespaces and namespace files whose names start
// with prefix.
func leftovers(prefix string) []string {
	var out []string
	for _, d := range []string{"/run/netns", nsDir} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), prefix) {
				out = append(out, filepath.Join(d, e.Name()))
			}
		}
	}
	return out
}

// machine is what the tests check the hosts never touch: files of the
// machine's /etc, its root network namespace, its hostname.
type machine struct {
	interfaces, hosts, hostname string
	etc                         []string
	links, rules, routes        string
}

func snapshotMachine(t testing.TB) machine {
	t.Helper()
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	ip := func(args ...string) string {
		out, err := exec.Command("ip", args...).Output()
		if err != nil {
			t.Fatalf("ip %v: %v", args, err)
		}
		// Counters and timers move; keep names, addresses and flags.
		var links []map[string]any
		if json.Unmarshal(out, &links) == nil {
			for _, l := range links {
				delete(l, "stats64")
			}
			out, _ = json.Marshal(links)
		}
		return string(out)
	}
	hn, _ := os.Hostname()
	entries, _ := os.ReadDir("/etc")
	var etc []string
	for _, e := range entries {
		etc = append(etc, e.Name())
	}
	return machine{interfaces: read("/etc/network/interfaces"), hosts: read("/etc/hosts"), hostname: hn, etc: etc,
		links: ip("-j", "-br", "link"), rules: ip("-j", "rule"), routes: ip("-j", "route", "show", "table", "all")}
}

func (m machine) diff(o machine) string {
	var d []string
	if m.interfaces != o.interfaces {
		d = append(d, "/etc/network/interfaces changed")
	}
	if m.hosts != o.hosts {
		d = append(d, "/etc/hosts changed")
	}
	if m.hostname != o.hostname {
		d = append(d, "hostname changed: "+m.hostname+" -> "+o.hostname)
	}
	if !slices.Equal(m.etc, o.etc) {
		d = append(d, fmt.Sprintf("/etc entries changed: %v -> %v", m.etc, o.etc))
	}
	if m.links != o.links {
		d = append(d, "root namespace links changed:\n"+m.links+"\n"+o.links)
	}
	if m.rules != o.rules {
		d = append(d, "root namespace rules changed")
	}
	if m.routes != o.routes {
		d = append(d, "root namespace routes changed")
	}
	return strings.Join(d, "\n")
}

// invoke runs a script through RunCommand and waits for its result.
func (e *env) invoke(t testing.TB, typ, script string, instances ...string) []map[string]any {
	t.Helper()
	kv := []string{"Type", typ, "ContentEncoding", "Base64", "CommandContent", base64.StdEncoding.EncodeToString([]byte(script))}
	for i, id := range instances {
		kv = append(kv, fmt.Sprintf("InstanceId.%d", i+1), id)
	}
	inv := str(ok(t, e.cl.ecs(t, "RunCommand", kv...)), "InvokeId")
	deadline := time.Now().Add(time.Minute)
	for {
		r := ok(t, e.cl.ecs(t, "DescribeInvocationResults", "InvokeId", inv, "ContentEncoding", "PlainText"))
		var res []map[string]any
		done := true
		for _, x := range list(r, "Invocation", "InvocationResults", "InvocationResult") {
			m := x.(map[string]any)
			res = append(res, m)
			done = done && str(m, "InvokeRecordStatus") != "Running"
		}
		if done && len(res) == len(instances) {
			return res
		}
		if time.Now().After(deadline) {
			t.Fatalf("invocation %s still running after a minute: %v", inv, res)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitENI polls DescribeNetworkInterfaces until the ENI has the status.
func (e *env) waitENI(t testing.TB, id, status string) {
	t.Helper()
	for range 500 {
		r := ok(t, e.cl.ecs(t, "DescribeNetworkInterfaces", "NetworkInterfaceId.1", id))
		sets := list(r, "NetworkInterfaceSets", "NetworkInterfaceSet")
		if len(sets) == 1 && str(sets[0], "Status") == status {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("ENI %s never became %s", id, status)
}

func links(t testing.TB, h *Host) map[string]HostLink {
	t.Helper()
	ls, err := h.Links(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]HostLink{}
	for _, l := range ls {
		m[l.Name] = l
	}
	return m
}

// TestHostsExampleWorld runs the example world in hosts mode: the Debian
// (ifupdown) and generic Linux hosts are namespaces with eth0 as DHCP
// left it; an attached ENI appears and a detached one vanishes; commands
// run there and their results come back in the API's shape; the other
// families record and parse-check; the machine is never touched; Close
// leaves nothing behind.
func TestHostsExampleWorld(t *testing.T) {
	before := snapshotMachine(t)
	e := newHostsEnv(t, exampleWorld(t))
	ctx := context.Background()

	real := map[string]bool{"i-bp1lb0000001": true, "i-bp1lb0000002": true, "i-bp1edge00001": true}
	w := exampleWorld(t)
	for _, in := range w.Instances {
		h := e.srv.Host(in.InstanceId)
		if h == nil {
			t.Fatalf("no host for %s", in.InstanceId)
		}
		if h.Runs() != real[in.InstanceId] || h.Up() != real[in.InstanceId] {
			t.Errorf("%s (%s, %s): Runs %v, Up %v; want %v", in.InstanceName, h.OS(), h.Stack(), h.Runs(), h.Up(), real[in.InstanceId])
		}
		if !h.Runs() {
			if h.Netns() != "" {
				t.Errorf("%s records commands but has namespace %s", in.InstanceName, h.Netns())
			}
			continue
		}
		ls := links(t, h)
		if len(ls) != 1 || ls["eth0"].MAC != in.MacAddress || !ls["eth0"].Up {
			t.Errorf("%s: links %v, want eth0 up with %s only", in.InstanceName, ls, in.MacAddress)
		}
		addrs, err := h.Addrs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := "eth0 " + in.PrivateIpAddress + "/24"; len(addrs) != 1 || addrs[0].String() != want {
			t.Errorf("%s: addresses %v, want [%s]", in.InstanceName, addrs, want)
		}
		routes, err := h.Routes(ctx, "main")
		if err != nil {
			t.Fatal(err)
		}
		gw := netip.MustParseAddr(strings.Join(strings.Split(in.PrivateIpAddress, ".")[:3], ".") + ".253")
		if len(routes) == 0 || routes[0].Dst != "default" || routes[0].Gateway != gw || routes[0].Protocol != "dhcp" {
			t.Errorf("%s: main table %v, want the DHCP default route via %s first", in.InstanceName, routes, gw)
		}
		rules, err := h.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			if !r.Default() {
				t.Errorf("%s: unexpected rule %s", in.InstanceName, r)
			}
		}
		if hn, _, err := h.Exec(ctx, nil, "hostname"); err != nil || strings.TrimSpace(hn) != in.InstanceName {
			t.Errorf("%s: hostname %q, %v", in.InstanceName, hn, err)
		}
	}
	lb1 := e.srv.Host("i-bp1lb0000001")
	if lb1.Stack() != "ifupdown" || lb1.OS() != "debian12" {
		t.Errorf("lb-1 is %s on %s, want ifupdown on debian12", lb1.Stack(), lb1.OS())
	}
	if e.srv.Host("i-bp1edge00001").Stack() != "iproute2" || e.srv.Host("i-bp1cache0001").Stack() != "networkd" {
		t.Errorf("edge-1 %s, cache-1 %s: the world's EcsnetOS and EcsnetNetwork were not used",
			e.srv.Host("i-bp1edge00001").Stack(), e.srv.Host("i-bp1cache0001").Stack())
	}

	// Attach the legacy NFS ENI to lb-1: eth1 appears with its MAC, down.
	ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", "eni-bp1legacynfs000001", "InstanceId", "i-bp1lb0000001"))
	e.waitENI(t, "eni-bp1legacynfs000001", "InUse")
	ls := links(t, e.srv.Host("i-bp1lb0000001"))
	if l, ok := ls["eth1"]; !ok || l.MAC != "00:16:3e:20:00:01" || l.Up {
		t.Errorf("after attach, lb-1 has %v; want eth1 (down) with 00:16:3e:20:00:01", ls)
	}

	// A script that prints ip -j addr, on both kinds of real host.
	for _, r := range e.invoke(t, "RunShellScript", "ip -j addr\necho done >&2", "i-bp1lb0000001", "i-bp1edge00001") {
		if str(r, "InvocationStatus") != "Success" || r["ExitCode"].(float64) != 0 || str(r, "ErrorCode") != "" {
			t.Errorf("ip -j addr on %s: %v", str(r, "InstanceId"), r)
		}
		out := str(r, "Output")
		js, _, _ := strings.Cut(out, "\ndone")
		addrs, err := parseAddrs([]byte(js))
		if err != nil || !strings.HasSuffix(out, "done\n") {
			t.Fatalf("output of ip -j addr on %s: %v\n%s", str(r, "InstanceId"), err, out)
		}
		if len(addrs) == 0 || addrs[0].Dev != "eth0" {
			t.Errorf("%s: ip -j addr says %v", str(r, "InstanceId"), addrs)
		}
	}
	// A failing one.
	r := e.invoke(t, "RunShellScript", "echo about to fail\nexit 3", "i-bp1lb0000002")[0]
	if str(r, "InvocationStatus") != "Failed" || str(r, "ErrorCode") != "ExitCodeNonzero" || r["ExitCode"].(float64) != 3 ||
		str(r, "Output") != "about to fail\n" {
		t.Errorf("failing script: %v", r)
	}
	// Output in Base64 unless PlainText, as the API answers.
	inv := str(ok(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "printf 'x%.0s' $(seq 30000); pwd",
		"InstanceId.1", "i-bp1edge00001", "WorkingDir", "/etc/network")), "InvokeId")
	for range 3000 {
		r = list(ok(t, e.cl.ecs(t, "DescribeInvocationResults", "InvokeId", inv)), "Invocation", "InvocationResults", "InvocationResult")[0].(map[string]any)
		if str(r, "InvokeRecordStatus") != "Running" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	out, err := base64.StdEncoding.DecodeString(str(r, "Output"))
	if err != nil || len(out) != 24<<10 || !strings.HasSuffix(string(out), "x/etc/network\n") || r["Dropped"].(float64) != float64(30000+len("/etc/network\n")-24<<10) {
		t.Errorf("long output: %d bytes, Dropped %v, ends %q (%v)", len(out), r["Dropped"], out[max(0, len(out)-20):], err)
	}

	// Families that cannot run here record and parse-check.
	for _, c := range []struct{ id, typ, script, status string }{
		{"i-bp1web000001", "RunShellScript", "echo hello\n", "Success"},
		{"i-bp1cache0001", "RunShellScript", "if true; then echo\n", "Failed"},
		{"i-bp1win000001", "RunPowerShellScript", "$x = @{ A = 'b' }\nif ($x) { Write-Output \"$($x.A) done\" }\n", "Success"},
		{"i-bp1win000001", "RunPowerShellScript", "function f {\n  Write-Output 'x'\n", "Failed"},
	} {
		r := e.invoke(t, c.typ, c.script, c.id)[0]
		if str(r, "InvocationStatus") != c.status || !strings.Contains(str(r, "Output"), "recorded, not executed") {
			t.Errorf("%s %q: %v", c.id, c.script, r)
		}
	}
	cmds := e.srv.Host("i-bp1win000001").Commands()
	if len(cmds) != 2 || cmds[0].Executed || cmds[0].Type != "RunPowerShellScript" || !strings.Contains(cmds[0].Content, "Write-Output") {
		t.Errorf("win-1 recorded %+v", cmds)
	}
	if cmds := e.srv.Host("i-bp1lb0000002").Commands(); len(cmds) != 1 || !cmds[0].Executed || cmds[0].Result.ExitCode != 3 {
		t.Errorf("lb-2 recorded %+v", cmds)
	}

	// A script that tries to change the machine changes only its host.
	vandal := `set -e
echo canary >/etc/ecsnet-canary
echo "# vandal" >>/etc/network/interfaces
echo 127.0.0.9 vandal >>/etc/hosts
mkdir -p /var/lib/ecsnet && echo x >/var/lib/ecsnet/canary
echo x >/root/canary; echo x >/tmp/canary
hostname vandal
ip link add hand0 type veth peer name hand1
ip rule add from 10.9.9.9 table 999
cat /etc/ecsnet-canary`
	if r := e.invoke(t, "RunShellScript", vandal, "i-bp1lb0000001")[0]; str(r, "InvocationStatus") != "Success" || str(r, "Output") != "canary\n" {
		t.Fatalf("vandal script: %v", r)
	}
	if d := before.diff(snapshotMachine(t)); d != "" {
		t.Errorf("a host's script reached the machine:\n%s", d)
	}
	for _, p := range []string{"/etc/ecsnet-canary", "/var/lib/ecsnet/canary"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s exists on the machine", p)
		}
	}
	lb2 := e.srv.Host("i-bp1lb0000002")
	if out, _, err := lb2.Exec(ctx, nil, "sh", "-c", "cat /etc/ecsnet-canary /var/lib/ecsnet/canary /root/canary /tmp/canary 2>/dev/null; hostname; grep -c vandal /etc/network/interfaces"); strings.TrimSpace(out) != "lb-2\n0" {
		t.Errorf("lb-2 sees lb-1's changes: %q %v", out, err)
	}
	if data, err := lb1.ReadFile(ctx, "/etc/ecsnet-canary"); err != nil || string(data) != "canary\n" {
		t.Errorf("lb-1 lost its own file: %q %v", data, err)
	}

	// Detach: eth1 vanishes.
	ok(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", "eni-bp1legacynfs000001", "InstanceId", "i-bp1lb0000001"))
	e.waitENI(t, "eni-bp1legacynfs000001", "Available")
	if ls := links(t, lb1); len(ls) != 3 || ls["eth0"].Name == "" || ls["hand0"].Name == "" {
		t.Errorf("after detach, lb-1 has %v; want eth0 and the veths made by hand", ls)
	}
	if err := lb1.Err(); err != nil {
		t.Errorf("lb-1: %v", err)
	}
}

// TestHostsTimeout: a command that outlives its Timeout is killed with
// everything it started, and the invocation says ExecutionTimeout.
func TestHostsTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 10 s (the API's shortest Timeout)")
	}
	e := newHostsEnv(t, exampleWorld(t))
	inv := str(ok(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "echo start; (sleep 300 &); sleep 300",
		"InstanceId.1", "i-bp1lb0000001", "Timeout", "10")), "InvokeId")
	start := time.Now()
	var r map[string]any
	for time.Since(start) < time.Minute {
		r = list(ok(t, e.cl.ecs(t, "DescribeInvocationResults", "InvokeId", inv, "ContentEncoding", "PlainText")),
			"Invocation", "InvocationResults", "InvocationResult")[0].(map[string]any)
		if str(r, "InvokeRecordStatus") != "Running" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if str(r, "InvocationStatus") != "Timeout" || str(r, "ErrorCode") != "ExecutionTimeout" || str(r, "Output") != "start\n" {
		t.Errorf("timed-out command: %v", r)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("the command took %v to be stopped", el)
	}
	h := e.srv.Host("i-bp1lb0000001")
	if pids := e.srv.hosts.t.pids(h.Netns()); len(pids) > 0 {
		t.Errorf("processes left in %s after the timeout: %v", h.Netns(), pids)
	}
}

// TestHostsReboot: stopping an instance halts its host (namespaces gone);
// starting it boots again, replaying what its configuration brings up.
func TestHostsReboot(t *testing.T) {
	e := newHostsEnv(t, exampleWorld(t))
	ctx := context.Background()
	h := e.srv.Host("i-bp1lb0000001")
	stanza := "auto eth0:31\niface eth0:31 inet static\n    address 172.16.0.31/24\n"
	if err := h.WriteFile(ctx, "/etc/network/interfaces.d/60-test", []byte(stanza), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.SetInstanceStatus("i-bp1lb0000001", "Stopped"); err != nil {
		t.Fatal(err)
	}
	if h.Up() || h.Netns() != "" {
		t.Fatal("a stopped instance's host is still up")
	}
	if _, _, err := h.Exec(ctx, nil, "true"); err == nil {
		t.Error("Exec works on a stopped host")
	}
	// A stopped instance takes no command: the call is refused.
	wantErr(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "true",
		"InstanceId.1", "i-bp1lb0000001"), 403, "InvalidInstance.NotMatch")
	if err := e.srv.SetInstanceStatus("i-bp1lb0000001", "Running"); err != nil {
		t.Fatal(err)
	}
	addrs, err := h.Addrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range addrs {
		got = append(got, a.String()+" "+a.Label)
	}
	if want := []string{"eth0 172.16.0.12/24 eth0", "eth0 172.16.0.31/24 eth0:31"}; !slices.Equal(got, want) {
		t.Errorf("after reboot: %v, want %v\nboot log:\n%s", got, want, h.BootLog())
	}
	if !regexp.MustCompile(`(?m)^\$ ifup -a`).MatchString(h.BootLog()) {
		t.Errorf("boot log: %q", h.BootLog())
	}
}

func TestPowerShellStructure(t *testing.T) {
	good := []string{
		"Write-Output 'it''s'\n",
		"$a = \"x `\" $($b.C(\"d\")) y\"\n",
		"$h = @\"\nline with ) and \" quote\n\"@\n$x = (1)\n",
		"$h = @'\n{ not code\n'@\n",
		"<# block ( comment #>\nif ($true) { 'a' } # trailing {\n",
		"Get-X `\n  -Y 1\n",
	}
	for _, s := range good {
		if err := psStructure(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	bad := map[string]string{
		"if ($a) {\n":          "never closed",
		"$a = (1]\n":           "where ')' was expected",
		"Write-Output 'open\n": "string ' never ends",
		"$h = @\"\nno end\n":   "here-string",
		"<# open comment\n":    "block comment",
		"}\n":                  "unexpected '}'",
		"$a = \"$(b\"\n":       "never",
		"function f { ( } )\n": "expected",
	}
	for s, want := range bad {
		err := psStructure(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error with %q", s, err, want)
		}
	}
	// The golden Windows render passes.
	data, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "example", "want", "hosts", "win-1", "ecsnet-apply.ps1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := psStructure(string(data)); err != nil {
		t.Errorf("win-1's golden render: %v", err)
	}
}

func TestOSFromName(t *testing.T) {
	for name, want := range map[string]string{
		"Debian 12.5 64 bit":                    "debian12",
		"Ubuntu 16.04 64位":                      "ubuntu16.04",
		"Alibaba Cloud Linux 3.2104 LTS 64 bit": "alinux3",
		"CentOS 7.9 64 bit":                     "centos7",
		"Windows Server 2019 Datacenter":        "windows2019",
		"Gentoo":                                "linux",
		"":                                      "linux",
	} {
		if got := osFromName(name, "linux"); string(got) != want {
			t.Errorf("%q: %s, want %s", name, got, want)
		}
	}
	if msg := checkFamily("debian12", "networkd", "linux"); msg != "" {
		t.Error(msg)
	}
	for _, c := range [][3]string{{"debian99", "", "linux"}, {"windows2022", "", "linux"}, {"", "ifconfig", "linux"}, {"", "ifupdown", "windows"}} {
		if checkFamily(c[0], c[1], c[2]) == "" {
			t.Errorf("%v accepted", c)
		}
	}
}

// TestHostsNeedRoot: hosts mode refuses clearly without root.
func TestHostsNeedRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("runs as root")
	}
	if _, err := New(testWorld(t), Options{Hosts: &HostsConfig{}}); err != ErrHostsNeedRoot {
		t.Errorf("New without root: %v", err)
	}
}

// TestHostsSweepStale: what an emulator killed with SIGKILL left behind
// (namespaces, namespace files, trees) goes when the next one starts.
func TestHostsSweepStale(t *testing.T) {
	if os.Getenv("ECSNET_EMU_HOSTS_HELPER") == "1" {
		srv, err := New(testWorld(t), Options{Hosts: &HostsConfig{Dir: os.Getenv("ECSNET_EMU_HOSTS_DIR")}})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("ready", srv.hosts.tag, srv.hosts.dir)
		time.Sleep(time.Hour)
		return
	}
	requireHostsMode(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostsSweepStale$")
	cmd.Env = append(os.Environ(), "ECSNET_EMU_HOSTS_HELPER=1", "ECSNET_EMU_HOSTS_DIR="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 4096)
	n, _ := stdout.Read(line)
	f := strings.Fields(string(line[:n]))
	if len(f) != 3 || f[0] != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %q", line[:n])
	}
	tag, tree := f[1], f[2]
	if len(leftovers(tag)) == 0 {
		t.Errorf("the helper made no namespaces named %s*", tag)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if len(leftovers(tag)) == 0 {
		t.Fatal("a killed emulator's namespaces went by themselves: nothing to sweep")
	}
	srv, err := New(testWorld(t), Options{Hosts: &HostsConfig{Dir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if left := leftovers(tag); len(left) > 0 {
		t.Errorf("a new emulator left the dead one's %v", left)
	}
	if _, err := os.Stat(tree); !os.IsNotExist(err) {
		t.Errorf("the dead emulator's tree %s is still there (%v)", tree, err)
	}
}

// TestHostsPowerActions: StopInstance halts the guest, which then takes no
// command; StartInstance boots it and commands run again; RebootInstance
// comes back up.
func TestHostsPowerActions(t *testing.T) {
	e := newHostsEnv(t, exampleWorld(t))
	const id = "i-bp1lb0000001"
	h := e.srv.Host(id)
	ok(t, e.cl.ecs(t, "StopInstance", "InstanceId", id))
	if h.Up() {
		t.Fatal("the guest runs after StopInstance")
	}
	wantErr(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "true", "InstanceId.1", id),
		403, "InvalidInstance.NotMatch")
	ok(t, e.cl.ecs(t, "StartInstance", "InstanceId", id))
	if got := e.instStatus(t, id); got != "Running" || !h.Up() {
		t.Fatalf("after StartInstance: %s, up %v", got, h.Up())
	}
	if r := e.invoke(t, "RunShellScript", "echo up", id)[0]; str(r, "InvocationStatus") != "Success" || str(r, "Output") != "up\n" {
		t.Errorf("a command after the start: %v", r)
	}
	ok(t, e.cl.ecs(t, "RebootInstance", "InstanceId", id))
	if got := e.instStatus(t, id); got != "Running" || !h.Up() {
		t.Fatalf("after RebootInstance: %s, up %v\nboot log:\n%s", got, h.Up(), h.BootLog())
	}
}
