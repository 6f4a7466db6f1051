package ecs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/plan"
)

// TestSecretsNeverLeak forces every kind of failure with a recognisable
// secret and STS token and checks that neither reaches an error message or
// a log line. Several of the servers echo the signed request back, as a
// broken proxy or gateway might.
func TestSecretsNeverLeak(t *testing.T) {
	hygiene(t)
	sts := Credentials{AccessKeyID: stsKeyID, AccessKeySecret: stsSecret, SecurityToken: stsToken}
	echo := func(status int, body func(r *http.Request) string) string {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Echo", r.URL.RawQuery)
			w.WriteHeader(status)
			fmt.Fprint(w, body(r))
		}))
		t.Cleanup(hs.Close)
		return hs.URL
	}
	jsonEcho := func(code string) func(r *http.Request) string {
		return func(r *http.Request) string {
			return fmt.Sprintf(`{"RequestId":"R1","Code":%q,"Message":"bad request %s full=%s string to sign is:POST&%%2F&%s"}`,
				code, r.URL.RawQuery, "http://"+r.Host+r.URL.String(), r.URL.RawQuery)
		}
	}
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}()
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })

	e := startEmu(t, smallWorld(), emulator.Options{})

	for _, tc := range []struct {
		name     string
		endpoint string
		creds    Credentials
		check    func(t *testing.T, err error)
	}{
		{"signature mismatch from the emulator", e.URL,
			Credentials{AccessKeyID: stsKeyID, AccessKeySecret: "wrong-" + stsSecret, SecurityToken: stsToken},
			func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || ae.Code != "SignatureDoesNotMatch" {
					t.Errorf("want SignatureDoesNotMatch, got %v", err)
				}
			}},
		{"server error echoing the request", echo(500, jsonEcho("InternalError")), sts,
			func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || ae.HTTPStatus != 500 || ae.Code != "InternalError" {
					t.Errorf("want a 500 InternalError, got %v", err)
				}
			}},
		{"client error echoing the request", echo(400, jsonEcho("InvalidParameter")), sts,
			func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || ae.HTTPStatus != 400 {
					t.Errorf("want a 400, got %v", err)
				}
			}},
		{"non-JSON error body", echo(503, func(r *http.Request) string { return "<html>gateway " + r.URL.String() + "</html>" }), sts,
			func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || ae.HTTPStatus != 503 || ae.Code != "" {
					t.Errorf("want a 503 without code, got %v", err)
				}
			}},
		{"connection refused", closed, sts,
			func(t *testing.T, err error) {
				var te *TransportError
				if !errors.As(err, &te) || te.Kind != KindConnection {
					t.Errorf("want a connection error, got %v", err)
				}
			}},
		{"timeout", hang.URL, sts,
			func(t *testing.T, err error) {
				var te *TransportError
				if !errors.As(err, &te) || !te.Timeout() {
					t.Errorf("want a timeout, got %v", err)
				}
			}},
		{"bad JSON", echo(200, func(r *http.Request) string { return `{"RequestId": ` + r.URL.RawQuery }), sts,
			func(t *testing.T, err error) {
				var te *TransportError
				if !errors.As(err, &te) || te.Kind != KindResponse {
					t.Errorf("want a response error, got %v", err)
				}
			}},
		{"long-term key, server error", echo(500, jsonEcho("InternalError")),
			Credentials{AccessKeyID: testKeyID, AccessKeySecret: testSecret},
			func(t *testing.T, err error) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			cfg := fastConfig(tc.endpoint)
			cfg.Credentials = tc.creds
			cfg.Logger = logs.logger()
			cfg.Retry.MaxAttempts = 2
			cfg.ReadTimeout = 300 * time.Millisecond
			c := newClient(t, cfg)
			_, err := c.DescribeNetworkInterfaces(context.Background(), ENIQuery{IDs: []string{"eni-vip"}})
			if err == nil {
				t.Fatal("no error")
			}
			tc.check(t, err)
			assertClean(t, "error", err.Error())
			assertClean(t, "error %+v", fmt.Sprintf("%+v", err))
			assertClean(t, "log", logs.String())
			if strings.Contains(err.Error(), "string to sign is:") || strings.Contains(err.Error(), "RespHeaders") {
				t.Errorf("error quotes SDK internals: %s", err)
			}
		})
	}
}

func TestScrubber(t *testing.T) {
	s := newScrubber(Credentials{AccessKeyID: stsKeyID, AccessKeySecret: stsSecret, SecurityToken: stsToken})
	for _, in := range []string{
		"Post \"https://ecs.cn-hangzhou.aliyuncs.com/?AccessKeyId=" + stsKeyID + "&SecurityToken=x&Signature=abc%3D\": EOF",
		"token " + stsToken + " secret " + stsSecret,
		"encoded SecurityToken%3D" + strings.ReplaceAll(stsToken, "/", "%252F"),
		`{"access_key_secret": "` + stsSecret + `"}`,
		"server string to sign is:POST&%2F&AccessKeyId%3D" + stsKeyID,
	} {
		out := s.clean(in)
		assertClean(t, "clean("+in+")", out)
		if strings.Contains(out, stsKeyID) {
			t.Errorf("clean(%q) = %q keeps the key ID", in, out)
		}
	}
	if got := s.clean("Post \"https://h.example/p?a=1#f\": EOF"); got != `Post "https://h.example/p": EOF` {
		t.Errorf("URL kept as %q", got)
	}
	if got := s.clean(strings.Repeat("é", 600)); len(got) > maxMessage+len("…") {
		t.Errorf("not truncated: %d bytes", len(got))
	}
}

func TestThrottlingAndServerErrorsAreRetried(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{Seed: 11, ThrottleRate: 0.25, ServerErrorRate: 0.1})
	c := newClient(t, fastConfig(e.URL))
	ctx := context.Background()
	for i := range 20 {
		got, err := c.DescribeNetworkInterfaces(ctx, ENIQuery{VPCID: "vpc-main"})
		if err != nil || len(got) != 5 {
			t.Fatalf("describe %d: %d ENIs, %v", i, len(got), err)
		}
	}
	if n := e.Calls()["DescribeNetworkInterfaces"]; n <= 20 {
		t.Errorf("only %d calls for 20 describes: no faults were injected", n)
	}
}

// TestCommitThenFailCreatesNothingTwice runs whole ENI lifecycles against a
// cloud that makes the change and then fails the answer (a 5xx or a dropped
// connection): the ClientToken of create and assign and the "already done"
// handling of the other calls must make every step happen exactly once.
func TestCommitThenFailCreatesNothingTwice(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{Seed: 5, CommitThenFailRate: 0.3, CommitThenDropRate: 0.2, ThrottleRate: 0.1})
	c := newClient(t, fastConfig(e.URL))
	ctx := context.Background()
	const n = 12
	secondaries := func() int {
		k := 0
		for _, x := range e.State().NetworkInterfaces {
			if strings.HasPrefix(x.NetworkInterfaceName, "cycle-") {
				k++
			}
		}
		return k
	}
	for i := range n {
		eni, err := c.CreateNetworkInterface(ctx, CreateENIInput{VSwitchID: "vsw-bp1aaaa", SecurityGroupIDs: []string{"sg-bp1web1"},
			Name: fmt.Sprintf("cycle-%d", i), ClientToken: fmt.Sprintf("create-%d", i)})
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		if k := secondaries(); k != 1 {
			t.Fatalf("after create %d the cloud has %d cycle ENIs, want 1", i, k)
		}
		if err := c.AttachNetworkInterface(ctx, eni.ID, "i-bp1web2"); err != nil {
			t.Fatalf("attach %d: %v", i, err)
		}
		if _, err := c.WaitENI(ctx, eni.ID, plan.ENIInUse); err != nil {
			t.Fatalf("wait attach %d: %v", i, err)
		}
		ips, err := c.AssignPrivateIpAddresses(ctx, AssignInput{ENIID: eni.ID, Count: 2, ClientToken: fmt.Sprintf("assign-%d", i)})
		if err != nil {
			t.Fatalf("assign %d: %v", i, err)
		}
		if got := eniByID(t, c, eni.ID); len(got.SecondaryIPs) != 2 || !slices.Equal(got.SecondaryIPs, ips) {
			t.Fatalf("assign %d: ENI has %v, call returned %v", i, got.SecondaryIPs, ips)
		}
		if err := c.UnassignPrivateIpAddresses(ctx, eni.ID, ips[:1]); err != nil {
			t.Fatalf("unassign %d: %v", i, err)
		}
		if err := c.ModifyNetworkInterfaceAttribute(ctx, ModifyENIInput{ENIID: eni.ID, Description: "cycled"}); err != nil {
			t.Fatalf("modify %d: %v", i, err)
		}
		if err := c.TagResources(ctx, []string{eni.ID}, map[string]string{"cycle": "yes"}); err != nil {
			t.Fatalf("tag %d: %v", i, err)
		}
		if err := c.DetachNetworkInterface(ctx, eni.ID, "i-bp1web2"); err != nil {
			t.Fatalf("detach %d: %v", i, err)
		}
		if _, err := c.WaitENI(ctx, eni.ID, plan.ENIAvailable); err != nil {
			t.Fatalf("wait detach %d: %v", i, err)
		}
		if err := c.DeleteNetworkInterface(ctx, eni.ID); err != nil {
			t.Fatalf("delete %d: %v", i, err)
		}
		if _, err := c.WaitENI(ctx, eni.ID, ENIGone); err != nil {
			t.Fatalf("wait delete %d: %v", i, err)
		}
	}
	if k := secondaries(); k != 0 {
		t.Errorf("%d cycle ENIs left", k)
	}
	calls := e.Calls()
	if calls["CreateNetworkInterface"] <= n || calls["AttachNetworkInterface"] <= n {
		t.Errorf("too few faults to prove anything: %v", calls)
	}
	t.Logf("calls for %d lifecycles under faults: %v", n, calls)
}

// TestRetryBoundAndJitter pins the retry schedule: full jitter over an
// exponential window, capped, at most MaxAttempts attempts.
func TestRetryBoundAndJitter(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{ServerErrorRate: 1})
	clock := newFakeClock()
	cfg := fastConfig(e.URL)
	cfg.Retry = RetryPolicy{MaxAttempts: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: 250 * time.Millisecond}
	cfg.Rand = func() float64 { return 0.5 }
	cfg.Now, cfg.Sleep = clock.Now, clock.Sleep
	c := newClient(t, cfg)
	_, err := c.DescribeVSwitches(context.Background(), VSwitchQuery{VPCID: "vpc-main"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.HTTPStatus < 500 || !strings.Contains(err.Error(), "gave up after 5 attempts") {
		t.Fatalf("err = %v", err)
	}
	if n := e.Calls()["DescribeVSwitches"]; n != 5 {
		t.Errorf("%d attempts, want 5", n)
	}
	want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 125 * time.Millisecond, 125 * time.Millisecond}
	if got := clock.Sleeps(); !slices.Equal(got, want) {
		t.Errorf("sleeps = %v, want %v", got, want)
	}
}

// TestThrottledByQPSRecovers runs the emulator's per-action QPS limit and
// the client's backoff on one fake clock: every call gets through.
func TestThrottledByQPSRecovers(t *testing.T) {
	clock := newFakeClock()
	e := startEmu(t, smallWorld(), emulator.Options{Now: clock.Now, ActionQPS: map[string]float64{"DescribeInstances": 2}})
	cfg := fastConfig(e.URL)
	cfg.Now, cfg.Sleep = clock.Now, clock.Sleep
	cfg.Rand = func() float64 { return 1 }
	cfg.Retry = RetryPolicy{MaxAttempts: 6, BaseDelay: 300 * time.Millisecond, MaxDelay: 2 * time.Second}
	c := newClient(t, cfg)
	for i := range 10 {
		if _, err := c.DescribeInstances(context.Background(), []string{"i-bp1web1"}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := e.Calls()["DescribeInstances"]; n <= 10 {
		t.Errorf("no throttling seen (%d calls)", n)
	}
}

func TestNonRetryableIsNotRetried(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	_, err := c.AssignPrivateIpAddresses(context.Background(), AssignInput{ENIID: "eni-vip", IPs: mustAddrs("10.0.2.9"), ClientToken: "x"})
	if !IsCode(err, "InvalidVSwitchId.IpInvalid") {
		t.Fatalf("assigning an address of another vSwitch: %v", err)
	}
	if n := e.Calls()["AssignPrivateIpAddresses"]; n != 1 {
		t.Errorf("%d attempts for a permanent error (%v)", n, err)
	}
}

func TestContextEndsRetries(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{ServerErrorRate: 1})
	cfg := fastConfig(e.URL)
	cfg.Retry = RetryPolicy{MaxAttempts: 100, BaseDelay: time.Hour, MaxDelay: time.Hour}
	cfg.Rand = func() float64 { return 1 }
	c := newClient(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.DescribeVSwitches(ctx, VSwitchQuery{VPCID: "vpc-main"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Errorf("the last attempt's error is lost: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
	if n := e.Calls()["DescribeVSwitches"]; n != 1 {
		t.Errorf("%d attempts after the context ended", n)
	}
	// A context that has already ended makes no call at all.
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := c.DescribeVSwitches(done, VSwitchQuery{VPCID: "vpc-main"}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if n := e.Calls()["DescribeVSwitches"]; n != 1 {
		t.Errorf("a cancelled context still called the API (%d calls)", n)
	}
}

func TestContextCancelsRequestInFlight(t *testing.T) {
	hygiene(t)
	arrived := make(chan struct{}, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer hs.Close()
	cfg := fastConfig(hs.URL)
	cfg.ReadTimeout = time.Minute
	c := newClient(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	start := time.Now()
	_, err := c.DescribeInstances(ctx, []string{"i-1"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancel took %s", d)
	}
}

func TestRateLimiter(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(map[string]RateLimit{"A": {PerMinute: 60, Burst: 2}, "B": {}}, clock.Now, clock.Sleep)
	ctx := context.Background()
	for range 5 {
		if err := l.wait(ctx, "A"); err != nil {
			t.Fatal(err)
		}
	}
	var total time.Duration
	for _, d := range clock.Sleeps() {
		total += d
	}
	// Two from the burst, then one a second.
	if total < 2900*time.Millisecond || total > 3100*time.Millisecond {
		t.Errorf("5 calls at 60/min with burst 2 waited %s, want 3s", total)
	}
	before := len(clock.Sleeps())
	for range 1000 {
		if err := l.wait(ctx, "B"); err != nil { // unlimited
			t.Fatal(err)
		}
		if err := l.wait(ctx, "unknown"); err != nil {
			t.Fatal(err)
		}
	}
	if len(clock.Sleeps()) != before {
		t.Error("an unlimited action waited")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.wait(cctx, "A"); !errors.Is(err, context.Canceled) {
		t.Errorf("wait with an ended context: %v", err)
	}

	def := DefaultRateLimits()
	for action, want := range map[string]int{"CreateNetworkInterface": 500, "AttachNetworkInterface": 500, "DeleteNetworkInterface": 500,
		"AssignPrivateIpAddresses": 400, "UnassignPrivateIpAddresses": 400, "DetachNetworkInterface": 400,
		"DescribeNetworkInterfaces": 800, "DescribeInstanceTypes": 400, "DescribeVSwitches": 300, "DescribeInstances": 500} {
		if def[action].PerMinute != want {
			t.Errorf("default for %s = %d, want %d", action, def[action].PerMinute, want)
		}
	}
}

func TestRateLimitThroughClient(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{})
	clock := newFakeClock()
	cfg := fastConfig(e.URL)
	cfg.Now, cfg.Sleep = clock.Now, clock.Sleep
	cfg.RateLimits = map[string]RateLimit{"DescribeVSwitches": {PerMinute: 30, Burst: 1}}
	c := newClient(t, cfg)
	for range 3 {
		if _, err := c.DescribeVSwitches(context.Background(), VSwitchQuery{VPCID: "vpc-main"}); err != nil {
			t.Fatal(err)
		}
	}
	var total time.Duration
	for _, d := range clock.Sleeps() {
		total += d
	}
	if total < 3900*time.Millisecond || total > 4100*time.Millisecond {
		t.Errorf("3 calls at 30/min with burst 1 waited %s, want 4s", total)
	}
}

func TestWaitENITimesOut(t *testing.T) {
	emuClock := newFakeClock() // never advanced: Attaching never completes
	e := startEmu(t, smallWorld(), emulator.Options{Now: emuClock.Now, AsyncDelay: time.Hour})
	clock := newFakeClock()
	cfg := fastConfig(e.URL)
	cfg.Now, cfg.Sleep = clock.Now, clock.Sleep
	cfg.WaitTimeout, cfg.WaitInterval, cfg.WaitMaxInterval = 30*time.Second, time.Second, 4*time.Second
	c := newClient(t, cfg)
	ctx := context.Background()
	if err := c.AttachNetworkInterface(ctx, "eni-spare", "i-bp1web2"); err == nil {
		t.Fatal("attaching across zones succeeded")
	}
	eni, err := c.CreateNetworkInterface(ctx, CreateENIInput{VSwitchID: "vsw-bp1aaaa", SecurityGroupIDs: []string{"sg-bp1web1"}, ClientToken: "w"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AttachNetworkInterface(ctx, eni.ID, "i-bp1web2"); err != nil {
		t.Fatal(err)
	}
	got, err := c.WaitENI(ctx, eni.ID, plan.ENIInUse)
	if !errors.Is(err, ErrWaitTimeout) || got == nil || got.Status != plan.ENIAttaching {
		t.Fatalf("WaitENI = %+v, %v", got, err)
	}
	// 1, 1.5, 2.25, 3.375, then 4 s a poll until 30 s.
	sleeps := clock.Sleeps()
	if len(sleeps) < 5 || sleeps[0] != time.Second || sleeps[1] != 1500*time.Millisecond || slices.Max(sleeps) != 4*time.Second {
		t.Errorf("poll delays = %v", sleeps)
	}
	// An ENI not listed (yet: reads may trail a create) is waited for
	// until the timeout, like one that has not settled.
	if _, err := c.WaitENI(ctx, "eni-nope", plan.ENIInUse); !errors.Is(err, ErrWaitTimeout) || !strings.Contains(err.Error(), "still not seen") {
		t.Errorf("waiting for an unknown ENI: %v", err)
	}
}

// TestTransientStatesAreRetried shares one fake clock between the client's
// backoff and the emulator's asynchronous transitions: a call made while
// the ENI is still Attaching or Detaching meets InvalidEniState, looks at
// the ENI, backs off (which moves the clock) and succeeds once the
// transition completes, without the caller waiting first.
func TestTransientStatesAreRetried(t *testing.T) {
	clock := newFakeClock()
	e := startEmu(t, smallWorld(), emulator.Options{Now: clock.Now, AsyncDelay: 5 * time.Second})
	cfg := fastConfig(e.URL)
	cfg.Now, cfg.Sleep = clock.Now, clock.Sleep
	cfg.Rand = func() float64 { return 1 }
	cfg.Retry = RetryPolicy{MaxAttempts: 8, BaseDelay: time.Second, MaxDelay: 4 * time.Second}
	c := newClient(t, cfg)
	ctx := context.Background()

	eni, err := c.CreateNetworkInterface(ctx, CreateENIInput{VSwitchID: "vsw-bp1aaaa", SecurityGroupIDs: []string{"sg-bp1web1"}, ClientToken: "tr"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AttachNetworkInterface(ctx, eni.ID, "i-bp1web2"); err != nil {
		t.Fatal(err)
	}
	if got := eniByID(t, c, eni.ID); got.Status != plan.ENIAttaching {
		t.Fatalf("status right after attach: %s", got.Status)
	}
	// Detach while Attaching, then delete while Detaching.
	if err := c.DetachNetworkInterface(ctx, eni.ID, "i-bp1web2"); err != nil {
		t.Fatalf("detach while attaching: %v", err)
	}
	if err := c.DeleteNetworkInterface(ctx, eni.ID); err != nil {
		t.Fatalf("delete while detaching: %v", err)
	}
	if _, err := c.WaitENI(ctx, eni.ID, ENIGone); err != nil {
		t.Fatal(err)
	}
	calls := e.Calls()
	if calls["DetachNetworkInterface"] < 2 || calls["DeleteNetworkInterface"] < 2 {
		t.Errorf("no transient state was met: %v", calls)
	}
	if len(clock.Sleeps()) == 0 {
		t.Error("no backoff")
	}
}
