package emulator

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClock is an injectable emulator clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testWorldJSON is a small cloud with one of everything the tests need.
const testWorldJSON = `{
  "RegionId": "cn-hangzhou",
  "Seed": 7,
  "AccessKeys": [
    {"AccessKeyId": "testid", "AccessKeySecret": "testsecret"},
    {"AccessKeyId": "STS.stsid", "AccessKeySecret": "stssecret", "SecurityToken": "tok-123"}
  ],
  "Vpcs": [
    {"VpcId": "vpc-test", "CidrBlock": "10.0.0.0/16"},
    {"VpcId": "vpc-other", "CidrBlock": "172.16.0.0/16"}
  ],
  "VSwitches": [
    {"VSwitchId": "vsw-a", "VpcId": "vpc-test", "ZoneId": "cn-hangzhou-h", "CidrBlock": "10.0.1.0/24", "VSwitchName": "a"},
    {"VSwitchId": "vsw-b", "VpcId": "vpc-test", "ZoneId": "cn-hangzhou-i", "CidrBlock": "10.0.2.0/24"},
    {"VSwitchId": "vsw-tiny", "VpcId": "vpc-test", "ZoneId": "cn-hangzhou-h", "CidrBlock": "10.0.3.0/29"},
    {"VSwitchId": "vsw-o", "VpcId": "vpc-other", "ZoneId": "cn-hangzhou-h", "CidrBlock": "172.16.1.0/24"}
  ],
  "SecurityGroups": [
    {"SecurityGroupId": "sg-a", "VpcId": "vpc-test"},
    {"SecurityGroupId": "sg-b", "VpcId": "vpc-test"},
    {"SecurityGroupId": "sg-o", "VpcId": "vpc-other"}
  ],
  "Instances": [
    {"InstanceId": "i-run", "InstanceName": "web-1", "InstanceType": "ecs.g7.large", "Status": "Running",
     "OSType": "linux", "OSName": "Ubuntu 22.04 64 bit", "VSwitchId": "vsw-a", "PrivateIpAddress": "10.0.1.10",
     "NetworkInterfaceId": "eni-prim-run", "MacAddress": "00:16:3e:00:00:01", "SecurityGroupIds": ["sg-a"],
     "SecondaryPrivateIpAddresses": ["10.0.1.11"]},
    {"InstanceId": "i-stop", "InstanceName": "web-2", "InstanceType": "ecs.g7.large", "Status": "Stopped",
     "OSType": "linux", "OSName": "CentOS 7.9 64 bit", "VSwitchId": "vsw-a", "PrivateIpAddress": "10.0.1.20",
     "NetworkInterfaceId": "eni-prim-stop", "MacAddress": "00:16:3e:00:00:02", "SecurityGroupIds": ["sg-a"]},
    {"InstanceId": "i-e", "InstanceName": "small", "InstanceType": "ecs.e-c1m2.large", "Status": "Running",
     "OSType": "linux", "VSwitchId": "vsw-a", "PrivateIpAddress": "10.0.1.30",
     "NetworkInterfaceId": "eni-prim-e", "MacAddress": "00:16:3e:00:00:03", "SecurityGroupIds": ["sg-a"]},
    {"InstanceId": "i-zone", "InstanceName": "far", "InstanceType": "ecs.g7.large", "Status": "Running",
     "OSType": "linux", "VSwitchId": "vsw-b", "PrivateIpAddress": "10.0.2.10",
     "NetworkInterfaceId": "eni-prim-zone", "MacAddress": "00:16:3e:00:00:04", "SecurityGroupIds": ["sg-a"]},
    {"InstanceId": "i-pend", "InstanceName": "booting", "InstanceType": "ecs.g7.large", "Status": "Pending",
     "OSType": "linux", "VSwitchId": "vsw-a", "PrivateIpAddress": "10.0.1.40",
     "NetworkInterfaceId": "eni-prim-pend", "MacAddress": "00:16:3e:00:00:05", "SecurityGroupIds": ["sg-a"]},
    {"InstanceId": "i-win", "InstanceName": "win", "InstanceType": "ecs.g7.large", "Status": "Running",
     "OSType": "windows", "OSName": "Windows Server 2022", "VSwitchId": "vsw-a", "PrivateIpAddress": "10.0.1.50",
     "NetworkInterfaceId": "eni-prim-win", "MacAddress": "00:16:3e:00:00:06", "SecurityGroupIds": ["sg-b"]}
  ],
  "NetworkInterfaces": [
    {"NetworkInterfaceId": "eni-free", "NetworkInterfaceName": "legacy", "Description": "not ours",
     "VSwitchId": "vsw-a", "SecurityGroupIds": ["sg-a"], "PrivateIpAddress": "10.0.1.100",
     "SecondaryPrivateIpAddresses": ["10.0.1.101"], "MacAddress": "00:16:3e:00:01:01",
     "Tags": [{"TagKey": "team", "TagValue": "db"}]},
    {"NetworkInterfaceId": "eni-used", "VSwitchId": "vsw-a", "SecurityGroupIds": ["sg-a", "sg-b"],
     "PrivateIpAddress": "10.0.1.110", "MacAddress": "00:16:3e:00:01:02", "InstanceId": "i-run"}
  ]
}`

func testWorld(t testing.TB) *World {
	t.Helper()
	w, err := ReadWorld(strings.NewReader(testWorldJSON))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// env is a server on loopback with a raw client.
type env struct {
	t     testing.TB
	srv   *Server
	http  *httptest.Server
	clock *testClock
	cl    *client
}

func newEnv(t testing.TB, w *World, opts Options) *env {
	t.Helper()
	clock := newClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	srv, err := New(w, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &env{t: t, srv: srv, http: hs, clock: clock,
		cl: &client{base: hs.URL, id: "testid", secret: "testsecret", now: clock.Now, hc: hs.Client()}}
}

// client signs requests with its own implementation of the RPC signature,
// written the way the SDK builds it (url.Values.Encode, then the three
// replacements of ecs-api.md §1.3), independent of the server's.
type client struct {
	base, id, secret, token string
	now                     func() time.Time
	hc                      *http.Client
	method                  string // default POST
}

// nonces are unique across every client of a test binary.
var nonceCounter atomic.Int64

type response struct {
	status int
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, r.body)
	}
	return m
}

func (r response) code(t testing.TB) string {
	t.Helper()
	c, _ := r.json(t)["Code"].(string)
	return c
}

func sdkEncode(s string) string {
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(s))
}

func clientSign(method, secret string, v url.Values) string {
	canon := strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(v.Encode())
	sts := method + "&%2F&" + url.QueryEscape(canon)
	sts = strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(sts)
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// signed returns the common parameters plus kv, signed.
func (c *client) signed(version, action string, kv []string) url.Values {
	n := nonceCounter.Add(1)
	v := url.Values{
		"AccessKeyId":      {c.id},
		"Action":           {action},
		"Format":           {"JSON"},
		"RegionId":         {"cn-hangzhou"},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {fmt.Sprintf("%032x", n)},
		"SignatureType":    {""},
		"SignatureVersion": {"1.0"},
		"Timestamp":        {c.now().UTC().Format("2006-01-02T15:04:05Z")},
		"Version":          {version},
	}
	if c.token != "" {
		v.Set("SecurityToken", c.token)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "\x00" {
			v.Del(kv[i])
			continue
		}
		v.Set(kv[i], kv[i+1])
	}
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	v.Set("Signature", clientSign(method, c.secret, v))
	return v
}

func (c *client) send(t testing.TB, v url.Values) response {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, c.base+"/?"+v.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", v.Get("Action"), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, body}
}

// ecs calls an ECS action with kv as name/value pairs ("\x00" deletes a
// common parameter).
func (c *client) ecs(t testing.TB, action string, kv ...string) response {
	t.Helper()
	return c.send(t, c.signed("2014-05-26", action, kv))
}

func (c *client) vpc(t testing.TB, action string, kv ...string) response {
	t.Helper()
	return c.send(t, c.signed("2016-04-28", action, kv))
}

// ok fails unless the response is 200 and returns its JSON.
func ok(t testing.TB, r response) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	return r.json(t)
}

// wantErr fails unless the response is the given status and code.
func wantErr(t testing.TB, r response, status int, code string) {
	t.Helper()
	if r.status != status || r.code(t) != code {
		t.Fatalf("got %d %s, want %d %s: %s", r.status, r.code(t), status, code, r.body)
	}
	m := r.json(t)
	for _, k := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
		if s, _ := m[k].(string); s == "" {
			t.Errorf("error body lacks %s: %s", k, r.body)
		}
	}
}

// goldenBytes renders a response for a golden file: the status line, then the
// body indented. Indentation keeps key order, so the file still pins every
// key, its nesting and its order.
func goldenBytes(r response) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "HTTP %d\n", r.status)
	if err := json.Indent(&buf, r.body, "", "  "); err != nil {
		buf.Write(r.body)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// str digs a string out of decoded JSON by path.
func dig(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[p]
	}
	return m
}

func str(m any, path ...string) string {
	s, _ := dig(m, path...).(string)
	return s
}

func list(m any, path ...string) []any {
	l, _ := dig(m, path...).([]any)
	return l
}

// eniState returns the world entry of a secondary ENI, or nil.
func eniState(s *Server, id string) *NetworkInterface {
	for _, n := range s.State().NetworkInterfaces {
		if n.NetworkInterfaceId == id {
			return &n
		}
	}
	return nil
}

func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
