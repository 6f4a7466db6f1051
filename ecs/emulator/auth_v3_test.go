package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestSignatureV3DocVector reproduces the worked example of "V3 request
// structure and signature"
// (https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature,
// also https://help.aliyun.com/zh/model-studio/user-guide/roa-style-request-body-signature-mechanism,
// whose Authorization example carries this exact signature): secret
// YourAccessKeySecret, POST RunInstances with an empty body.
func TestSignatureV3DocVector(t *testing.T) {
	const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	h := http.Header{}
	h.Set("x-acs-action", "RunInstances")
	h.Set("x-acs-date", "2023-10-26T09:01:01Z")
	h.Set("x-acs-version", "2014-05-26")
	h.Set("x-acs-content-sha256", empty)
	h.Set("x-acs-signature-nonce", "d410180a5abf7fe235dd9b74aca91fc0")
	r := &v3Request{method: "POST", path: "/", host: "ecs.cn-shanghai.aliyuncs.com", header: h, payloadHash: empty,
		query: url.Values{"ImageId": {"win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"}, "RegionId": {"cn-shanghai"}}}
	signed := []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
	canon := canonicalRequestV3(r, signed)
	wantCanon := "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n" +
		"host:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\nx-acs-content-sha256:" + empty +
		"\nx-acs-date:2023-10-26T09:01:01Z\nx-acs-signature-nonce:d410180a5abf7fe235dd9b74aca91fc0\nx-acs-version:2014-05-26\n\n" +
		"host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n" + empty
	if canon != wantCanon {
		t.Fatalf("canonical request:\n%s\nwant\n%s", canon, wantCanon)
	}
	const want = "e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804"
	if got := signV3("YourAccessKeySecret", stringToSignV3(canon)); got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

// v3client signs the way darabonba-openapi's GetAuthorization does
// (url.QueryEscape of values, then the three replacements; every x-acs-
// header, host and content-type signed), independent of the server.
type v3client struct {
	base, id, secret, token string
	now                     func() time.Time
	hc                      *http.Client
	// edit changes the request after it is signed (a tampering proxy).
	edit func(*http.Request)
	// omit leaves a header out of SignedHeaders while still sending it.
	omit      string
	algorithm string
}

func (c *v3client) call(t *testing.T, version, action string, query url.Values, form url.Values) response {
	t.Helper()
	body := ""
	if form != nil {
		body = form.Encode()
	}
	sum := sha256.Sum256([]byte(body))
	req, err := http.NewRequest(http.MethodPost, c.base+"/?"+query.Encode(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(c.base, "http://")
	hdr := map[string]string{
		"host": host, "x-acs-action": action, "x-acs-version": version,
		"x-acs-date":            c.now().UTC().Format("2006-01-02T15:04:05Z"),
		"x-acs-signature-nonce": fmt.Sprintf("v3-%032x", nonceCounter.Add(1)),
		"x-acs-content-sha256":  hex.EncodeToString(sum[:]),
		"accept":                "application/json",
	}
	if form != nil {
		hdr["content-type"] = "application/x-www-form-urlencoded"
	}
	if c.token != "" {
		hdr["x-acs-accesskey-id"] = c.id
		hdr["x-acs-security-token"] = c.token
	}
	var names []string
	for k := range hdr {
		if (strings.HasPrefix(k, "x-acs-") || k == "host" || k == "content-type") && k != c.omit {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var canonHeaders strings.Builder
	for _, k := range names {
		canonHeaders.WriteString(k + ":" + hdr[k] + "\n")
	}
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var q []string
	for _, k := range keys {
		q = append(q, k+"="+url.QueryEscape(query.Get(k)))
	}
	canonQuery := strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(strings.Join(q, "&"))
	canon := "POST\n/\n" + canonQuery + "\n" + canonHeaders.String() + "\n" + strings.Join(names, ";") + "\n" + hdr["x-acs-content-sha256"]
	cs := sha256.Sum256([]byte(canon))
	m := hmac.New(sha256.New, []byte(c.secret))
	m.Write([]byte("ACS3-HMAC-SHA256\n" + hex.EncodeToString(cs[:])))
	alg := c.algorithm
	if alg == "" {
		alg = "ACS3-HMAC-SHA256"
	}
	for k, v := range hdr {
		if k != "host" {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("Authorization", alg+" Credential="+c.id+",SignedHeaders="+strings.Join(names, ";")+
		",Signature="+hex.EncodeToString(m.Sum(nil)))
	if c.edit != nil {
		c.edit(req)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, b}
}

func newV3(e *env) *v3client {
	return &v3client{base: e.http.URL, id: "testid", secret: "testsecret", now: e.clock.Now, hc: e.http.Client()}
}

var regionQuery = url.Values{"RegionId": {"cn-hangzhou"}}

func TestSignatureV3Accepted(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{})
	c := newV3(e)
	t.Run("query", func(t *testing.T) {
		m := ok(t, c.call(t, "2014-05-26", "DescribeInstances", url.Values{"RegionId": {"cn-hangzhou"}, "InstanceIds": {`["i-run"]`}}, nil))
		if n := len(list(m, "Instances", "Instance")); n != 1 {
			t.Errorf("%d instances, want 1 (i-run)", n)
		}
	})
	// Some VPC actions send a form body; its hash is what is signed.
	t.Run("form body", func(t *testing.T) {
		m := ok(t, c.call(t, "2016-04-28", "DescribeVSwitches", nil, url.Values{"RegionId": {"cn-hangzhou"}, "VSwitchId": {"vsw-a"}}))
		if n := len(list(m, "VSwitches", "VSwitch")); n != 1 {
			t.Errorf("%d vSwitches, want 1", n)
		}
	})
	t.Run("sts", func(t *testing.T) {
		sts := *c
		sts.id, sts.secret, sts.token = "STS.stsid", "stssecret", "tok-123"
		ok(t, sts.call(t, "2014-05-26", "DescribeInstances", regionQuery, nil))
	})
	if got := e.srv.Calls(); got["DescribeInstances"] != 2 || got["DescribeVSwitches"] != 1 {
		t.Errorf("Calls() = %v", got)
	}
}

func TestSignatureV3Rejections(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{})
	c := newV3(e)
	call := func(t *testing.T, c *v3client) response {
		t.Helper()
		return c.call(t, "2014-05-26", "DescribeInstances", regionQuery, nil)
	}
	with := func(edit func(*http.Request)) *v3client {
		d := *c
		d.edit = edit
		return &d
	}
	t.Run("no Authorization", func(t *testing.T) {
		wantErr(t, call(t, with(func(r *http.Request) { r.Header.Del("Authorization") })), 400, "IncompleteSignature")
	})
	t.Run("no Signature", func(t *testing.T) {
		r := call(t, with(func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ",Signature=")])
		}))
		wantErr(t, r, 400, "IncompleteSignature")
	})
	t.Run("algorithm", func(t *testing.T) {
		sm3 := *c
		sm3.algorithm = "ACS3-HMAC-SM3"
		wantErr(t, call(t, &sm3), 400, "InvalidSignatureMethod")
	})
	for _, h := range []string{"x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"} {
		t.Run("missing "+h, func(t *testing.T) {
			wantErr(t, call(t, with(func(r *http.Request) { r.Header.Del(h) })), 400, "MissingParameter")
		})
	}
	t.Run("missing action", func(t *testing.T) {
		wantErr(t, call(t, with(func(r *http.Request) { r.Header.Del("x-acs-action") })), 400, "MissingParameter")
	})
	t.Run("unsigned header", func(t *testing.T) {
		d := *c
		d.omit = "x-acs-signature-nonce"
		wantErr(t, call(t, &d), 400, "IncompleteSignature")
	})
	t.Run("unknown key", func(t *testing.T) {
		d := *c
		d.id = "nobody"
		wantErr(t, call(t, &d), 404, "InvalidAccessKeyId.NotFound")
	})
	t.Run("wrong secret", func(t *testing.T) {
		d := *c
		d.secret = "nope"
		r := call(t, &d)
		wantErr(t, r, 400, "SignatureDoesNotMatch")
		if msg := str(r.json(t), "Message"); !strings.Contains(msg, "server string to sign is:ACS3-HMAC-SHA256\n") {
			t.Errorf("message lacks the server string to sign: %q", msg)
		}
	})
	t.Run("tampered query", func(t *testing.T) {
		wantErr(t, call(t, with(func(r *http.Request) { r.URL.RawQuery += "&VpcId=vpc-other" })), 400, "SignatureDoesNotMatch")
	})
	t.Run("tampered body", func(t *testing.T) {
		d := with(func(r *http.Request) {
			b := "RegionId=cn-hangzhou&VSwitchId=vsw-b"
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(b)), int64(len(b))
		})
		r := d.call(t, "2016-04-28", "DescribeVSwitches", nil, url.Values{"RegionId": {"cn-hangzhou"}, "VSwitchId": {"vsw-a"}})
		wantErr(t, r, 400, "SignatureDoesNotMatch")
		if msg := str(r.json(t), "Message"); !strings.Contains(msg, "x-acs-content-sha256") {
			t.Errorf("message does not point at the body hash: %q", msg)
		}
	})
	t.Run("tampered action", func(t *testing.T) {
		wantErr(t, call(t, with(func(r *http.Request) { r.Header.Set("x-acs-action", "DescribeNetworkInterfaces") })), 400, "SignatureDoesNotMatch")
	})
	t.Run("clock", func(t *testing.T) {
		d := *c
		d.now = func() time.Time { return e.clock.Now().Add(-16 * time.Minute) }
		wantErr(t, call(t, &d), 400, "InvalidTimeStamp.Expired")
		wantErr(t, call(t, with(func(r *http.Request) { r.Header.Set("x-acs-date", "2024-01-02 03:04:05") })), 400, "InvalidTimeStamp.Format")
	})
	t.Run("replayed nonce", func(t *testing.T) {
		var saved *http.Request
		ok(t, call(t, with(func(r *http.Request) { saved = r.Clone(r.Context()) })))
		saved.Body = http.NoBody
		resp, err := e.http.Client().Do(saved)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantErr(t, response{resp.StatusCode, b}, 400, "SignatureNonceUsed")
	})
	t.Run("sts", func(t *testing.T) {
		sts := *c
		sts.id, sts.secret = "STS.stsid", "stssecret"
		wantErr(t, call(t, &sts), 400, "MissingSecurityToken")
		sts.token = "tok-wrong"
		wantErr(t, call(t, &sts), 400, "InvalidSecurityToken.Malformed")
		perm := *c
		perm.token = "tok-123"
		wantErr(t, call(t, &perm), 400, "InvalidSecurityToken.MismatchWithAccessKey")
	})
	t.Run("xml", func(t *testing.T) {
		wantErr(t, call(t, with(func(r *http.Request) { r.Header.Set("Accept", "application/xml") })), 400, "UnsupportedParameter")
	})
	if n := e.srv.Calls()["DescribeInstances"]; n != 1 {
		t.Errorf("%d requests reached DescribeInstances, want 1 (the first of the replayed pair)", n)
	}
}
