package ecs

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	_ "github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// Recognisable credentials: the secrets tests look for these strings in
// every error and log line.
const (
	testKeyID     = "LTAI5tTestKeyId0001"
	testSecret    = "S3cr3t-sentinel-Value/+=xyz"
	stsKeyID      = "STS.NTestStsKeyId0002"
	stsSecret     = "STS-s3cr3t-sentinel/Value+2"
	stsToken      = "CAIS-token-sentinel/+=Tok3n"
	testRegion    = "cn-hangzhou"
	wrongSecretID = "LTAI5tWrongSecret003"
)

// hygiene keeps the SDK's own credential chain out of every test, as belt
// and braces: every client is built with explicit credentials, and nothing
// may probe the developer's profile or the metadata address.
func hygiene(t testing.TB) {
	t.Setenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
}

// emu serves an emulator on loopback.
type emu struct {
	*emulator.Server
	URL string
}

func startEmu(t testing.TB, w *emulator.World, opts emulator.Options) *emu {
	t.Helper()
	hygiene(t)
	if len(w.AccessKeys) == 0 {
		w.AccessKeys = []emulator.AccessKey{
			{AccessKeyId: testKeyID, AccessKeySecret: testSecret},
			{AccessKeyId: stsKeyID, AccessKeySecret: stsSecret, SecurityToken: stsToken},
			{AccessKeyId: wrongSecretID, AccessKeySecret: "the-right-one"},
		}
	}
	s, err := emulator.New(w, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return &emu{Server: s, URL: hs.URL}
}

// fastConfig is a Config for tests: loopback endpoint, explicit
// credentials, tiny backoff, no rate limits worth waiting for.
func fastConfig(url string) Config {
	return Config{
		Region:      testRegion,
		Endpoint:    url,
		Credentials: Credentials{AccessKeyID: testKeyID, AccessKeySecret: testSecret},
		Retry:       RetryPolicy{MaxAttempts: 10, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond},
		ReadTimeout: 10 * time.Second, WaitInterval: time.Millisecond, WaitMaxInterval: 5 * time.Millisecond,
		WaitTimeout: 10 * time.Second,
		RateLimits:  unlimited(),
	}
}

func unlimited() map[string]RateLimit {
	m := DefaultRateLimits()
	for k := range m {
		m[k] = RateLimit{}
	}
	return m
}

func newClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// fakeClock is a clock whose Sleep advances Now instead of waiting, and
// records every sleep.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// smallWorld is a cloud with two VPCs, a few instances and ENIs.
func smallWorld() *emulator.World {
	return &emulator.World{
		RegionId: testRegion,
		Seed:     3,
		Vpcs: []emulator.Vpc{
			{VpcId: "vpc-main", CidrBlock: "10.0.0.0/16"},
			{VpcId: "vpc-else", CidrBlock: "172.16.0.0/16"},
		},
		VSwitches: []emulator.VSwitch{
			{VSwitchId: "vsw-bp1aaaa", VpcId: "vpc-main", ZoneId: "cn-hangzhou-h", CidrBlock: "10.0.1.0/24"},
			{VSwitchId: "vsw-bp1bbbb", VpcId: "vpc-main", ZoneId: "cn-hangzhou-i", CidrBlock: "10.0.2.0/24"},
			{VSwitchId: "vsw-bp1else", VpcId: "vpc-else", ZoneId: "cn-hangzhou-h", CidrBlock: "172.16.1.0/24"},
		},
		SecurityGroups: []emulator.SecurityGroup{
			{SecurityGroupId: "sg-bp1web1", VpcId: "vpc-main"},
			{SecurityGroupId: "sg-bp1db01", VpcId: "vpc-main"},
			{SecurityGroupId: "sg-bp1else", VpcId: "vpc-else"},
		},
		Instances: []emulator.Instance{
			{InstanceId: "i-bp1web1", InstanceName: "web-1", InstanceType: "ecs.g7.large", Status: "Running", OSType: "linux",
				VSwitchId: "vsw-bp1aaaa", PrivateIpAddress: "10.0.1.10", NetworkInterfaceId: "eni-pweb1", MacAddress: "00:16:3e:00:00:01",
				SecurityGroupIds: []string{"sg-bp1web1"}, SecondaryPrivateIpAddresses: []string{"10.0.1.12", "10.0.1.11"}},
			{InstanceId: "i-bp1web2", InstanceName: "web-2", InstanceType: "ecs.g7.large", Status: "Running", OSType: "linux",
				VSwitchId: "vsw-bp1aaaa", PrivateIpAddress: "10.0.1.20", NetworkInterfaceId: "eni-pweb2", MacAddress: "00:16:3e:00:00:02",
				SecurityGroupIds: []string{"sg-bp1web1"}},
			{InstanceId: "i-bp1win1", InstanceName: "win-1", InstanceType: "ecs.g7.xlarge", Status: "Stopped", OSType: "windows",
				VSwitchId: "vsw-bp1bbbb", PrivateIpAddress: "10.0.2.10", NetworkInterfaceId: "eni-pwin", MacAddress: "00:16:3e:00:00:03",
				SecurityGroupIds: []string{"sg-bp1db01", "sg-bp1web1"}},
			{InstanceId: "i-bp1else", InstanceName: "other", InstanceType: "ecs.g7.large", Status: "Running", OSType: "linux",
				VSwitchId: "vsw-bp1else", PrivateIpAddress: "172.16.1.10", NetworkInterfaceId: "eni-pelse", MacAddress: "00:16:3e:00:00:04",
				SecurityGroupIds: []string{"sg-bp1else"}},
		},
		NetworkInterfaces: []emulator.NetworkInterface{
			{NetworkInterfaceId: "eni-vip", NetworkInterfaceName: "vip", Description: "shop VIP", VSwitchId: "vsw-bp1aaaa",
				SecurityGroupIds: []string{"sg-bp1web1"}, PrivateIpAddress: "10.0.1.100", SecondaryPrivateIpAddresses: []string{"10.0.1.102", "10.0.1.101"},
				MacAddress: "00:16:3e:00:01:00", InstanceId: "i-bp1web1", DeviceIndex: 1,
				Tags: []emulator.Tag{{TagKey: "ecsnet:fleet", TagValue: "small"}, {TagKey: "ecsnet:name", TagValue: "vip"}}},
			{NetworkInterfaceId: "eni-spare", NetworkInterfaceName: "spare", VSwitchId: "vsw-bp1bbbb",
				SecurityGroupIds: []string{"sg-bp1db01"}, PrivateIpAddress: "10.0.2.50", MacAddress: "00:16:3e:00:01:01",
				Tags: []emulator.Tag{{TagKey: "team", TagValue: "other"}}},
			{NetworkInterfaceId: "eni-else", VSwitchId: "vsw-bp1else", SecurityGroupIds: []string{"sg-bp1else"},
				PrivateIpAddress: "172.16.1.50", MacAddress: "00:16:3e:00:01:02"},
		},
	}
}

// smallFleet is a desired state over smallWorld. It names i-bp1web1, i-bp1web2,
// i-bp1win1 and one instance the cloud does not have, and a vSwitch the cloud
// does not have.
const smallFleet = `{
	"fleet": "small",
	"region": "cn-hangzhou",
	"vswitches": {
		"app-h": {"id": "vsw-bp1aaaa", "zone": "cn-hangzhou-h", "cidr": "10.0.1.0/24"},
		"app-i": {"id": "vsw-bp1bbbb", "zone": "cn-hangzhou-i", "cidr": "10.0.2.0/24"},
		"gone": {"id": "vsw-bp1gone", "zone": "cn-hangzhou-h", "cidr": "10.0.9.0/24"}
	},
	"securityGroups": {"web": {"id": "sg-bp1web1"}, "db": {"id": "sg-bp1db01"}},
	"instances": {
		"web-1": {"id": "i-bp1web1", "type": "ecs.g7.large", "os": "rocky9",
			"primary": {"vswitch": "app-h", "ip": "10.0.1.10", "securityGroups": ["web"], "secondaryIps": ["10.0.1.11", "10.0.1.12"]}},
		"web-2": {"id": "i-bp1web2", "type": "ecs.g7.large", "os": "debian12",
			"primary": {"vswitch": "app-h", "ip": "10.0.1.20", "securityGroups": ["web"]}},
		"win-1": {"id": "i-bp1win1", "type": "ecs.g6.large", "os": "windows2022",
			"primary": {"vswitch": "app-i", "ip": "10.0.2.10", "securityGroups": ["web"]}},
		"ghost": {"id": "i-bp1ghost", "type": "ecs.c7.large", "os": "linux",
			"primary": {"vswitch": "gone", "ip": "10.0.9.10", "securityGroups": ["web"]}}
	},
	"enis": {
		"vip": {"vswitch": "app-h", "securityGroups": ["web"], "primaryIp": "10.0.1.100",
			"secondaryIps": ["10.0.1.101", "10.0.1.102"], "attachTo": "web-1"}
	}
}`

func loadFleet(t testing.TB, src string) *schema.Fleet {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fleet.json")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := schema.Load([]string{p}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustAddrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func eniByID(t testing.TB, c *Client, id string) *plan.ObservedENI {
	t.Helper()
	got, err := c.DescribeNetworkInterfaces(context.Background(), ENIQuery{IDs: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		return nil
	}
	return got[0]
}

// signedParam finds a signing parameter with a value that is not redacted.
var signedParam = regexp.MustCompile(`(Signature|SecurityToken|AccessKeyId)(=|%3D|%253D)([^\[&\s"]|$)`)

// assertClean fails if text holds any secret, token, key ID or signature.
func assertClean(t testing.TB, where, text string) {
	t.Helper()
	for _, s := range []string{testSecret, stsSecret, stsToken, testKeyID, stsKeyID,
		url.QueryEscape(testSecret), url.QueryEscape(stsSecret), url.QueryEscape(stsToken)} {
		if strings.Contains(text, s) {
			t.Errorf("%s contains %q:\n%s", where, s, text)
		}
	}
	if m := signedParam.FindString(text); m != "" {
		t.Errorf("%s contains a signing parameter (%s):\n%s", where, m, text)
	}
}
