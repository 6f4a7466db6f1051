package emulator

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The test vector of ecs-api.md §1.3, reproduced byte for byte from SDK
// output.
var vectorParams = url.Values{
	"AccessKeyId": {"testid"}, "Action": {"DescribeNetworkInterfaces"}, "Format": {"JSON"},
	"NetworkInterfaceId.1": {"eni-abc"}, "RegionId": {"cn-hangzhou"}, "SignatureMethod": {"HMAC-SHA1"},
	"SignatureNonce": {"0123456789abcdef0123456789abcdef"}, "SignatureType": {""}, "SignatureVersion": {"1.0"},
	"Tag.1.Key": {"k*1"}, "Tag.1.Value": {"v 1~"}, "Timestamp": {"2024-01-02T03:04:05Z"}, "Version": {"2014-05-26"},
}

const (
	vectorSTS = "POST&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeNetworkInterfaces%26Format%3DJSON%26NetworkInterfaceId.1%3Deni-abc%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D0123456789abcdef0123456789abcdef%26SignatureType%3D%26SignatureVersion%3D1.0%26Tag.1.Key%3Dk%252A1%26Tag.1.Value%3Dv%25201~%26Timestamp%3D2024-01-02T03%253A04%253A05Z%26Version%3D2014-05-26"
	vectorSig = "XBiMQ/puqbzUF+z4nBMOKDTSaig="
)

func TestSignatureVector(t *testing.T) {
	if got := stringToSign("POST", vectorParams); got != vectorSTS {
		t.Errorf("string to sign:\n got %s\nwant %s", got, vectorSTS)
	}
	if got := sign("testsecret", vectorSTS); got != vectorSig {
		t.Errorf("server signature %s, want %s", got, vectorSig)
	}
	if got := clientSign("POST", "testsecret", vectorParams); got != vectorSig {
		t.Errorf("test client signature %s, want %s", got, vectorSig)
	}
}

// TestSignatureVectorOverHTTP sends the vector's exact request to a server
// whose clock is the vector's Timestamp: it must be accepted.
func TestSignatureVectorOverHTTP(t *testing.T) {
	w := testWorld(t)
	clock := newClock()
	clock.t = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	e := newEnv(t, w, Options{Now: clock.Now})
	v := url.Values{}
	for k, vs := range vectorParams {
		v[k] = vs
	}
	v.Set("Signature", vectorSig)
	r := e.cl.send(t, v)
	m := ok(t, r)
	if n := len(list(m, "NetworkInterfaceSets", "NetworkInterfaceSet")); n != 0 {
		t.Errorf("eni-abc does not exist but %d ENIs came back", n)
	}
}

func TestPercentEncode(t *testing.T) {
	for in, want := range map[string]string{
		"a-_.~Z9": "a-_.~Z9", "a b": "a%20b", "*": "%2A", "=&/": "%3D%26%2F", "é": "%C3%A9", "+": "%2B",
	} {
		if got := percentEncode(in); got != want {
			t.Errorf("percentEncode(%q) = %q, want %q", in, got, want)
		}
		if got := sdkEncode(in); got != want {
			t.Errorf("test encoder(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAuthRejections(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{})
	cl := e.cl
	call := func(kv ...string) response {
		return cl.ecs(t, "DescribeInstances", kv...)
	}
	t.Run("good", func(t *testing.T) { ok(t, call()) })
	t.Run("unsigned", func(t *testing.T) {
		v := cl.signed("2014-05-26", "DescribeInstances", nil)
		v.Del("Signature")
		wantErr(t, cl.send(t, v), 400, "IncompleteSignature")
	})
	for _, p := range []string{"AccessKeyId", "SignatureNonce", "Timestamp", "SignatureMethod", "SignatureVersion"} {
		t.Run("missing "+p, func(t *testing.T) {
			wantErr(t, call(p, "\x00"), 400, "MissingParameter")
		})
	}
	t.Run("mis-signed", func(t *testing.T) {
		v := cl.signed("2014-05-26", "DescribeInstances", nil)
		v.Set("Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
		r := cl.send(t, v)
		wantErr(t, r, 400, "SignatureDoesNotMatch")
		msg := str(r.json(t), "Message")
		if !strings.Contains(msg, "server string to sign is:POST&%2F&AccessKeyId%3Dtestid") {
			t.Errorf("message lacks the server string to sign: %s", msg)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		bad := *cl
		bad.secret = "nope"
		wantErr(t, bad.ecs(t, "DescribeInstances"), 400, "SignatureDoesNotMatch")
	})
	t.Run("tampered parameter", func(t *testing.T) {
		v := cl.signed("2014-05-26", "DescribeInstances", []string{"VpcId", "vpc-test"})
		v.Set("VpcId", "vpc-other")
		wantErr(t, cl.send(t, v), 400, "SignatureDoesNotMatch")
	})
	t.Run("replayed nonce", func(t *testing.T) {
		v := cl.signed("2014-05-26", "DescribeInstances", nil)
		ok(t, cl.send(t, v))
		wantErr(t, cl.send(t, v), 400, "SignatureNonceUsed")
	})
	t.Run("expired", func(t *testing.T) {
		old := *cl
		old.now = func() time.Time { return e.clock.Now().Add(-16 * time.Minute) }
		wantErr(t, old.ecs(t, "DescribeInstances"), 400, "InvalidTimeStamp.Expired")
		future := *cl
		future.now = func() time.Time { return e.clock.Now().Add(16 * time.Minute) }
		wantErr(t, future.ecs(t, "DescribeInstances"), 400, "InvalidTimeStamp.Expired")
		near := *cl
		near.now = func() time.Time { return e.clock.Now().Add(-14 * time.Minute) }
		ok(t, near.ecs(t, "DescribeInstances"))
	})
	t.Run("signature method", func(t *testing.T) {
		wantErr(t, call("SignatureMethod", "HMAC-SHA256"), 400, "InvalidSignatureMethod")
	})
	t.Run("bad timestamp", func(t *testing.T) {
		wantErr(t, call("Timestamp", "2024-01-02 03:04:05"), 400, "InvalidTimeStamp.Format")
	})
	t.Run("unknown key", func(t *testing.T) {
		stranger := *cl
		stranger.id = "nobody"
		wantErr(t, stranger.ecs(t, "DescribeInstances"), 404, "InvalidAccessKeyId.NotFound")
	})
	t.Run("sts token", func(t *testing.T) {
		sts := *cl
		sts.id, sts.secret = "STS.stsid", "stssecret"
		wantErr(t, sts.ecs(t, "DescribeInstances"), 400, "MissingSecurityToken")
		sts.token = "tok-wrong"
		wantErr(t, sts.ecs(t, "DescribeInstances"), 400, "InvalidSecurityToken.Malformed")
		sts.token = "tok-123"
		ok(t, sts.ecs(t, "DescribeInstances"))
	})
	// A long-term key has no token: the cloud refuses one sent with it
	// (issue 14), whether it is garbage or another key's token.
	t.Run("token with a permanent key", func(t *testing.T) {
		perm := *cl
		perm.token = "tok-123"
		wantErr(t, perm.ecs(t, "DescribeInstances"), 400, "InvalidSecurityToken.MismatchWithAccessKey")
		perm.token = "made-up"
		wantErr(t, perm.ecs(t, "DescribeInstances"), 400, "InvalidSecurityToken.Malformed")
	})
	t.Run("unknown action", func(t *testing.T) {
		wantErr(t, cl.ecs(t, "DescribeNothing"), 404, "InvalidApi.NotFound")
		// The legacy ECS DescribeVSwitches is deliberately absent.
		wantErr(t, cl.ecs(t, "DescribeVSwitches"), 404, "InvalidApi.NotFound")
		wantErr(t, cl.vpc(t, "DescribeInstances"), 404, "InvalidApi.NotFound")
	})
	t.Run("unknown version", func(t *testing.T) {
		wantErr(t, cl.send(t, cl.signed("2099-01-01", "DescribeInstances", nil)), 400, "InvalidVersion")
	})
	t.Run("missing action", func(t *testing.T) {
		wantErr(t, call("Action", "\x00"), 400, "MissingParameter")
	})
	t.Run("format", func(t *testing.T) {
		wantErr(t, call("Format", "XML"), 400, "UnsupportedParameter")
		wantErr(t, call("Format", "\x00"), 400, "UnsupportedParameter")
	})
	t.Run("region", func(t *testing.T) {
		wantErr(t, call("RegionId", "cn-beijing"), 404, "InvalidRegionId.NotFound")
		wantErr(t, call("RegionId", "\x00"), 400, "MissingParameter")
	})
	t.Run("GET", func(t *testing.T) {
		get := *cl
		get.method = http.MethodGet
		ok(t, get.ecs(t, "DescribeInstances"))
	})
	t.Run("form body", func(t *testing.T) {
		v := cl.signed("2014-05-26", "DescribeInstances", []string{"VpcId", "vpc-test"})
		req, err := http.NewRequest(http.MethodPost, e.http.URL+"/", strings.NewReader(v.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("form-body request: status %d: %s", resp.StatusCode, body)
		}
	})
	t.Run("method", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPut, e.http.URL+"/", nil)
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("PUT: status %d, want 405", resp.StatusCode)
		}
	})
}

// TestRejectedRequestsAreNotCounted: only requests that pass the gateway
// reach an action.
func TestRejectedRequestsAreNotCounted(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{})
	bad := *e.cl
	bad.secret = "nope"
	wantErr(t, bad.ecs(t, "DescribeInstances"), 400, "SignatureDoesNotMatch")
	ok(t, e.cl.ecs(t, "DescribeInstances"))
	wantErr(t, e.cl.ecs(t, "AttachNetworkInterface"), 400, "MissingParameter")
	got := e.srv.Calls()
	if got["DescribeInstances"] != 1 || got["AttachNetworkInterface"] != 1 || len(got) != 2 {
		t.Errorf("Calls() = %v", got)
	}
	if n := e.srv.MutatingCalls(); n != 1 {
		t.Errorf("MutatingCalls() = %d, want 1 (the failed attach reached its action)", n)
	}
}
