package ecs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
)

func TestEndpoints(t *testing.T) {
	hygiene(t)
	creds := Credentials{AccessKeyID: testKeyID, AccessKeySecret: testSecret}
	for _, tc := range []struct {
		endpoint string
		wantErr  string // "" = accepted
		scheme   string
		domain   string
	}{
		{"", "", "HTTPS", "ecs.cn-hangzhou.aliyuncs.com"},
		{"https://ecs.example.com", "", "HTTPS", "ecs.example.com"},
		{"https://10.1.2.3:8443/", "", "HTTPS", "10.1.2.3:8443"},
		{"http://127.0.0.1:8080", "", "HTTP", "127.0.0.1:8080"},
		{"http://127.9.9.9:1", "", "HTTP", "127.9.9.9:1"},
		{"http://localhost:9", "", "HTTP", "localhost:9"},
		{"http://[::1]:9", "", "HTTP", "[::1]:9"},
		{"HTTP://127.0.0.1:9", "", "HTTP", "127.0.0.1:9"},
		{"http://ecs.cn-hangzhou.aliyuncs.com", "plain HTTP", "", ""},
		{"http://10.0.0.1:8080", "plain HTTP", "", ""},
		{"http://[::ffff:10.0.0.1]:80", "plain HTTP", "", ""},
		{"http://localhost.evil.example", "plain HTTP", "", ""},
		{"http://127.0.0.1.nip.io", "plain HTTP", "", ""},
		{"ftp://127.0.0.1", "not http or https", "", ""},
		{"https://h/path", "nothing after the host", "", ""},
		{"https://h/?AccessKeyId=x", "nothing after the host", "", ""},
		{"https://user:pw@h", "nothing after the host", "", ""},
		{"127.0.0.1:8080", "", "", ""}, // parsed as scheme "127.0.0.1": refused below
	} {
		t.Run(tc.endpoint, func(t *testing.T) {
			c, err := New(Config{Region: testRegion, Endpoint: tc.endpoint, Credentials: creds})
			if tc.endpoint == "127.0.0.1:8080" {
				if err == nil {
					t.Error("an endpoint without a scheme was accepted")
				}
				return
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "pw") {
					t.Errorf("error quotes the user info: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// The SDK clients a call would use: scheme, domain and proxy
			// settings, without making a request.
			cn, err := c.newConn()
			if err != nil {
				t.Fatal(err)
			}
			if got := cn.ecs.GetConfig().Scheme; got != tc.scheme {
				t.Errorf("ECS scheme = %s, want %s", got, tc.scheme)
			}
			wantVPC := tc.domain // one endpoint serves both APIs
			if tc.endpoint == "" {
				wantVPC = "vpc.cn-hangzhou.aliyuncs.com"
			}
			if cn.ecs.Domain != tc.domain || cn.vpc.Domain != wantVPC {
				t.Errorf("domains = %s, %s", cn.ecs.Domain, cn.vpc.Domain)
			}
			if cn.ecs.GetConfig().AutoRetry {
				t.Error("SDK AutoRetry is on")
			}
			if tc.scheme == "HTTP" && (cn.ecs.GetNoProxy() == "" || c.base.Proxy != nil) {
				t.Error("a loopback endpoint may be proxied")
			}
		})
	}
}

// TestPlainHTTPRefusedWithoutConnecting: the refusal happens in New, before
// any client exists that could connect.
func TestPlainHTTPRefusedWithoutConnecting(t *testing.T) {
	hygiene(t)
	c, err := New(Config{Region: testRegion, Endpoint: "http://192.0.2.1:80",
		Credentials: Credentials{AccessKeyID: testKeyID, AccessKeySecret: testSecret}})
	if err == nil || c != nil {
		t.Fatal("plain HTTP to a remote host accepted")
	}
	assertClean(t, "error", err.Error())
}

func TestNewValidates(t *testing.T) {
	hygiene(t)
	ok := Credentials{AccessKeyID: testKeyID, AccessKeySecret: testSecret}
	for name, cfg := range map[string]Config{
		"no region":         {Credentials: ok},
		"bad region":        {Region: "cn hangzhou", Credentials: ok},
		"no credentials":    {Region: testRegion},
		"secret without ID": {Region: testRegion, Credentials: Credentials{AccessKeySecret: testSecret}},
		"ID without secret": {Region: testRegion, Credentials: Credentials{AccessKeyID: testKeyID}},
		"key and role":      {Region: testRegion, Credentials: ok, UseECSRAMRole: "role"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(cfg)
			if err == nil {
				t.Fatal("accepted")
			}
			assertClean(t, "error", err.Error())
		})
	}
	// The ECS RAM role is configured without contacting anything: New
	// makes no call, and only a later API call would fetch the role.
	c, err := New(Config{Region: testRegion, Endpoint: "http://127.0.0.1:1", UseECSRAMRole: "ecsnet-role"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestCredentialsNeverPrintSecrets(t *testing.T) {
	c := Credentials{AccessKeyID: stsKeyID, AccessKeySecret: stsSecret, SecurityToken: stsToken}
	cfg := Config{Region: testRegion, Credentials: c}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c), fmt.Sprintf(verb, cfg))
	}
	outputs = append(outputs, fmt.Sprint(c), fmt.Sprintln(c), c.String(), c.GoString())
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	jc, err := json.Marshal(cfg)
	if err == nil { // Config holds funcs and may not encode; if it does, it must be clean
		outputs = append(outputs, string(jc))
	}
	outputs = append(outputs, string(j))
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("creds", "c", c, "cfg", cfg)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("creds", "c", c)
	outputs = append(outputs, logs.String())
	for _, out := range outputs {
		if strings.Contains(out, stsSecret) || strings.Contains(out, stsToken) || strings.Contains(out, stsKeyID) {
			t.Errorf("printed a secret: %s", out)
		}
	}
	if s := c.String(); !strings.Contains(s, "STS.****") || !strings.Contains(s, redacted) {
		t.Errorf("String() = %s", s)
	}
	if s := (Credentials{}).String(); !strings.Contains(s, "none") {
		t.Errorf("zero String() = %s", s)
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, tc := range []struct {
		name string
		env  func(string) string
		want Credentials
		ok   bool
	}{
		{"none", env(), Credentials{}, false},
		{"sdk names", env("ALIBABA_CLOUD_ACCESS_KEY_ID", "id1", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s1"),
			Credentials{AccessKeyID: "id1", AccessKeySecret: "s1"}, true},
		{"sdk names with token", env("ALIBABA_CLOUD_ACCESS_KEY_ID", "id1", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s1",
			"ALIBABA_CLOUD_SECURITY_TOKEN", "t1"), Credentials{AccessKeyID: "id1", AccessKeySecret: "s1", SecurityToken: "t1"}, true},
		{"ALIBABACLOUD_", env("ALIBABACLOUD_ACCESS_KEY_ID", "id2", "ALIBABACLOUD_ACCESS_KEY_SECRET", "s2",
			"ALIBABACLOUD_SECURITY_TOKEN", "t2"), Credentials{AccessKeyID: "id2", AccessKeySecret: "s2", SecurityToken: "t2"}, true},
		{"ALICLOUD_ACCESS_KEY_ID", env("ALICLOUD_ACCESS_KEY_ID", "id3", "ALICLOUD_ACCESS_KEY_SECRET", "s3"),
			Credentials{AccessKeyID: "id3", AccessKeySecret: "s3"}, true},
		{"terraform names", env("ALICLOUD_ACCESS_KEY", "id4", "ALICLOUD_SECRET_KEY", "s4", "ALICLOUD_SECURITY_TOKEN", "t4"),
			Credentials{AccessKeyID: "id4", AccessKeySecret: "s4", SecurityToken: "t4"}, true},
		{"sdk names win", env("ALICLOUD_ACCESS_KEY", "id4", "ALICLOUD_SECRET_KEY", "s4",
			"ALIBABA_CLOUD_ACCESS_KEY_ID", "id1", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s1"),
			Credentials{AccessKeyID: "id1", AccessKeySecret: "s1"}, true},
		{"families never mix", env("ALIBABA_CLOUD_ACCESS_KEY_ID", "id1", "ALICLOUD_SECRET_KEY", "s4"), Credentials{}, false},
		{"half a family falls through", env("ALIBABA_CLOUD_ACCESS_KEY_ID", "id1",
			"ALICLOUD_ACCESS_KEY", "id4", "ALICLOUD_SECRET_KEY", "s4"), Credentials{AccessKeyID: "id4", AccessKeySecret: "s4"}, true},
		{"blank", env("ALIBABA_CLOUD_ACCESS_KEY_ID", " ", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s1"), Credentials{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := CredentialsFromEnv(tc.env)
			if ok != tc.ok || got != tc.want {
				t.Errorf("got %#v, %v; want %#v, %v", got.AccessKeyID+"/"+got.AccessKeySecret+"/"+got.SecurityToken, ok,
					tc.want.AccessKeyID+"/"+tc.want.AccessKeySecret+"/"+tc.want.SecurityToken, tc.ok)
			}
		})
	}
}

func TestCredentialsFromProfile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	conf := `{
	  "current": "work",
	  "meta_path": "",
	  "profiles": [
	    {"name": "default", "mode": "AK", "access_key_id": "LTAIdefault01", "access_key_secret": "` + testSecret + `",
	     "region_id": "cn-hangzhou", "output_format": "json", "language": "en", "expired_seconds": 0},
	    {"name": "work", "mode": "StsToken", "access_key_id": "STS.work0001", "access_key_secret": "` + stsSecret + `",
	     "sts_token": "` + stsToken + `", "region_id": "cn-beijing"},
	    {"name": "legacy", "access_key_id": "LTAIlegacy001", "access_key_secret": "legacy-secret"},
	    {"name": "role", "mode": "EcsRamRole", "ram_role_name": "r"},
	    {"name": "arn", "mode": "RamRoleArn", "access_key_id": "LTAIarn000001", "access_key_secret": "` + testSecret + `"},
	    {"name": "nosts", "mode": "StsToken", "access_key_id": "STS.x0000001", "access_key_secret": "` + stsSecret + `"},
	    {"name": "nosecret", "mode": "AK", "access_key_id": "LTAInosecret1"}
	  ]
	}`
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := CredentialsFromProfile(path, "")
	if err != nil || c.AccessKeyID != "STS.work0001" || c.AccessKeySecret != stsSecret || c.SecurityToken != stsToken {
		t.Fatalf("current profile: %v, %v", c, err)
	}
	c, err = CredentialsFromProfile(path, "default")
	if err != nil || c.AccessKeyID != "LTAIdefault01" || c.AccessKeySecret != testSecret || c.SecurityToken != "" {
		t.Fatalf("default profile: %v, %v", c, err)
	}
	if c, err = CredentialsFromProfile(path, "legacy"); err != nil || c.AccessKeySecret != "legacy-secret" {
		t.Fatalf("profile without a mode: %v, %v", c, err)
	}
	for name, want := range map[string]string{
		"role":     `mode "EcsRamRole" is not supported, only AK and StsToken; to use the instance's RAM role`,
		"arn":      `mode "RamRoleArn" is not supported`,
		"nosts":    "without sts_token",
		"nosecret": "without a secret",
		"missing":  `profile "missing" not found`,
	} {
		_, err := CredentialsFromProfile(path, name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", name, err, want)
			continue
		}
		assertClean(t, name, err.Error())
	}
	if _, err := CredentialsFromProfile(path, "missing"); err == nil || !strings.Contains(err.Error(), "arn, default, legacy") {
		t.Errorf("missing profile does not list the others: %v", err)
	}

	// No "current": "default" is used.
	p2 := filepath.Join(dir, "noc.json")
	if err := os.WriteFile(p2, []byte(`{"profiles":[{"name":"default","mode":"AK","access_key_id":"LTAIdefault02","access_key_secret":"x-secret"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := CredentialsFromProfile(p2, ""); err != nil || c.AccessKeyID != "LTAIdefault02" {
		t.Errorf("implicit default: %v, %v", c, err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"profiles":[{"name":"default","access_key_secret":"`+testSecret+`",}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := CredentialsFromProfile(bad, ""); err == nil || strings.Contains(err.Error(), testSecret) {
		t.Errorf("bad JSON: %v", err)
	}
	if _, err := CredentialsFromProfile(filepath.Join(dir, "none.json"), ""); err == nil {
		t.Error("missing file accepted")
	}
}

// The SDK keeps HTTP as its default scheme; the client must not inherit it.
func TestSDKDefaultSchemeIsNotInherited(t *testing.T) {
	if sdk.NewConfig().Scheme != "HTTP" {
		t.Skip("the SDK's default changed; the check below still holds")
	}
	c := newClient(t, Config{Region: testRegion, Credentials: Credentials{AccessKeyID: testKeyID, AccessKeySecret: testSecret}})
	cn, err := c.newConn()
	if err != nil {
		t.Fatal(err)
	}
	if cn.ecs.GetConfig().Scheme != "HTTPS" || cn.vpc.GetConfig().Scheme != "HTTPS" {
		t.Error("the real cloud is not called over HTTPS")
	}
}
