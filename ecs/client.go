package ecs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	ecssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	vpcsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
)

// Config configures a Client. Region and one source of credentials are
// required; every other zero field takes the default named in its comment.
type Config struct {
	// Region is the region ID, e.g. "cn-hangzhou".
	Region string
	// Endpoint replaces the API endpoints of both ECS and VPC with one
	// base URL, scheme://host[:port], e.g. the emulator's
	// "http://127.0.0.1:8080". Plain http:// is accepted only for a
	// loopback host (127.0.0.0/8, ::1, localhost): anywhere else signed
	// requests would cross the network in clear. Default: HTTPS to
	// ecs.<region>.aliyuncs.com and vpc.<region>.aliyuncs.com.
	Endpoint string

	// Credentials is a static access key (see CredentialsFromEnv and
	// CredentialsFromProfile).
	Credentials Credentials
	// UseECSRAMRole names the RAM role of the ECS instance ecsnet runs on.
	// It is the only way this package ever contacts the instance metadata
	// service (100.100.100.200); it is never tried implicitly. Set it or
	// Credentials, not both.
	UseECSRAMRole string
	// metadataEndpoint replaces the metadata service's address
	// (scheme://host), for tests.
	metadataEndpoint string

	// ConnectTimeout bounds connection set-up (default 5 s, the SDK's).
	ConnectTimeout time.Duration
	// ReadTimeout bounds one request from start to the end of its answer
	// (default 20 s, above the SDK's largest per-API figure of 17 s).
	ReadTimeout time.Duration

	// RateLimits override DefaultRateLimits action by action.
	RateLimits map[string]RateLimit
	// Retry bounds the retries of one call.
	Retry RetryPolicy
	// MaxConcurrency caps the calls in flight at once (default 16).
	MaxConcurrency int

	// WaitTimeout bounds WaitENI (default 2 min, Terraform's attach
	// timeout). A wait that ends with the ENI still Attaching, Detaching
	// or Deleting returns a *StuckError; the next apply resumes it.
	WaitTimeout time.Duration
	// WaitInterval is WaitENI's first polling delay (default 1 s); it grows
	// by half each poll up to WaitMaxInterval (default 5 s, Terraform's
	// fixed interval).
	WaitInterval    time.Duration
	WaitMaxInterval time.Duration

	// Proxy picks the proxy for requests to a non-loopback endpoint (for
	// example http.ProxyFromEnvironment, chosen by the command). Nil means
	// no proxy. Loopback endpoints are never proxied.
	Proxy func(*http.Request) (*url.URL, error)
	// TLSConfig overrides the TLS settings (default: system roots, TLS 1.2
	// or later).
	TLSConfig *tls.Config

	// Logger receives a line per retry and per "already done" answer.
	// Nil discards them. Nothing logged contains a secret.
	Logger *slog.Logger
	// Rand returns a number in [0, 1) for backoff jitter (default
	// math/rand/v2.Float64). It may be called from several goroutines.
	Rand func() float64
	// Now and Sleep are the clock the rate limiter, retries and waits use
	// (default time.Now and a timer that also stops when ctx ends). A test
	// that replaces Sleep must also advance Now, or a rate-limited call
	// never gets its token.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// RetryPolicy bounds the retries of one call: at most MaxAttempts attempts
// in all (default 8), and before attempt n+1 a delay drawn uniformly from
// [0, min(MaxDelay, BaseDelay·2^(n-1))) ("full jitter"; defaults 500 ms and
// 20 s).
type RetryPolicy struct {
	MaxAttempts int
	BaseDelay   time.Duration
	MaxDelay    time.Duration
}

// Client calls the ECS and VPC APIs of one region. It is safe for
// concurrent use. Create it with New.
type Client struct {
	region         string
	scheme         string
	ecsDomain      string
	vpcDomain      string
	noProxy        string // set for loopback endpoints
	cred           credentials.CredentialsProvider
	base           *http.Transport
	readTimeout    time.Duration
	connectTimeout time.Duration

	slots chan struct{} // one per call in flight
	pool  chan *conn    // idle SDK clients

	limiter *limiter
	retry   RetryPolicy
	scrub   *scrubber
	log     *slog.Logger
	rand    func() float64
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error

	waitTimeout, waitInterval, waitMax time.Duration
}

// conn is one pair of SDK clients with its own http.Client. The SDK
// rewrites its http.Client's timeout on every call and has no context
// parameter, so a conn serves one call at a time (checked out of
// Client.pool) and its transport carries that call's context.
type conn struct {
	ecs *ecssdk.Client
	vpc *vpcsdk.Client
	rt  *ctxTransport
}

// New checks cfg and returns a Client. It makes no network call: a bad
// credential shows at the first call.
func New(cfg Config) (*Client, error) {
	if cfg.Region == "" {
		return nil, errors.New("ecs: no region")
	}
	if !regionPattern.MatchString(cfg.Region) {
		return nil, fmt.Errorf("ecs: region %q is not a region ID", cfg.Region)
	}
	ep, err := parseEndpoint(cfg.Region, cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	c := &Client{
		region:         cfg.Region,
		scheme:         ep.scheme,
		ecsDomain:      ep.ecs,
		vpcDomain:      ep.vpc,
		readTimeout:    orDefault(cfg.ReadTimeout, 20*time.Second),
		connectTimeout: orDefault(cfg.ConnectTimeout, 5*time.Second),
		retry: RetryPolicy{
			MaxAttempts: orDefault(cfg.Retry.MaxAttempts, 8),
			BaseDelay:   orDefault(cfg.Retry.BaseDelay, 500*time.Millisecond),
			MaxDelay:    orDefault(cfg.Retry.MaxDelay, 20*time.Second),
		},
		scrub:        newScrubber(cfg.Credentials),
		log:          cfg.Logger,
		rand:         cfg.Rand,
		now:          cfg.Now,
		sleep:        cfg.Sleep,
		waitTimeout:  orDefault(cfg.WaitTimeout, 2*time.Minute),
		waitInterval: orDefault(cfg.WaitInterval, time.Second),
		waitMax:      orDefault(cfg.WaitMaxInterval, 5*time.Second),
	}
	if ep.loopback {
		c.noProxy = regexp.QuoteMeta(ep.ecs)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.rand == nil {
		c.rand = rand.Float64
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}

	switch {
	case cfg.UseECSRAMRole != "" && !cfg.Credentials.IsZero():
		return nil, errors.New("ecs: both an access key and an ECS RAM role are configured; choose one")
	case cfg.UseECSRAMRole != "":
		p, err := newRAMRoleProvider(cfg.UseECSRAMRole, cfg.metadataEndpoint, c.now)
		if err != nil {
			return nil, err
		}
		c.cred = p
	default:
		if err := cfg.Credentials.check(); err != nil {
			return nil, fmt.Errorf("ecs: %w", err)
		}
		cr := cfg.Credentials
		if cr.SecurityToken != "" {
			c.cred = credentials.NewStaticSTSCredentialsProvider(cr.AccessKeyID, cr.AccessKeySecret, cr.SecurityToken)
		} else {
			c.cred = credentials.NewStaticAKCredentialsProvider(cr.AccessKeyID, cr.AccessKeySecret)
		}
	}

	n := orDefault(cfg.MaxConcurrency, 16)
	c.slots = make(chan struct{}, n)
	c.pool = make(chan *conn, n)
	c.limiter = newLimiter(cfg.RateLimits, c.now, c.sleep)

	dialer := &net.Dialer{Timeout: c.connectTimeout, KeepAlive: 30 * time.Second}
	tlsConf := cfg.TLSConfig
	if tlsConf == nil {
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	c.base = &http.Transport{
		DialContext:         dialer.DialContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: c.connectTimeout,
		MaxIdleConns:        2 * n,
		MaxIdleConnsPerHost: n,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	if !ep.loopback {
		c.base.Proxy = cfg.Proxy
	}
	return c, nil
}

// Close releases idle connections. The Client stays usable.
func (c *Client) Close() { c.base.CloseIdleConnections() }

// Region returns the region the client calls.
func (c *Client) Region() string { return c.region }

var regionPattern = regexp.MustCompile(`^[a-z0-9-]+$`)

type endpoint struct {
	scheme   string // "HTTPS" or "HTTP", as the SDK spells it
	ecs, vpc string // host[:port]
	loopback bool
}

func parseEndpoint(region, raw string) (endpoint, error) {
	if raw == "" {
		// The regional rule the SDK itself falls back to (ecs-api.md
		// §1.5): every region has ecs.<region> and vpc.<region> hosts.
		return endpoint{scheme: "HTTPS", ecs: "ecs." + region + ".aliyuncs.com", vpc: "vpc." + region + ".aliyuncs.com"}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, fmt.Errorf("ecs: endpoint %q is not a URL", raw)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return endpoint{}, fmt.Errorf("ecs: endpoint %q must be scheme://host[:port] with nothing after the host", redactURL(raw))
	}
	loop := isLoopback(u.Hostname())
	switch strings.ToLower(u.Scheme) {
	case "https":
		return endpoint{scheme: "HTTPS", ecs: u.Host, vpc: u.Host, loopback: loop}, nil
	case "http":
		if !loop {
			return endpoint{}, fmt.Errorf("ecs: endpoint %s uses plain HTTP to a host that is not loopback; "+
				"signed requests and security tokens would cross the network unencrypted: use https://", u.Host)
		}
		return endpoint{scheme: "HTTP", ecs: u.Host, vpc: u.Host, loopback: true}, nil
	default:
		return endpoint{}, fmt.Errorf("ecs: endpoint scheme %q is not http or https", u.Scheme)
	}
}

// isLoopback reports whether host is localhost or a loopback address. Only
// literal addresses and "localhost" count: a name that merely resolves to
// 127.0.0.1 today is not trusted with plain HTTP.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// acquire checks out an SDK client pair, creating one if fewer than
// MaxConcurrency exist.
func (c *Client) acquire(ctx context.Context) (*conn, error) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case cn := <-c.pool:
		return cn, nil
	default:
	}
	cn, err := c.newConn()
	if err != nil {
		<-c.slots
		return nil, err
	}
	return cn, nil
}

func (c *Client) release(cn *conn) {
	cn.rt.ctx = nil
	c.pool <- cn
	<-c.slots
}

func (c *Client) newConn() (*conn, error) {
	rt := &ctxTransport{base: c.base}
	mkConfig := func() *sdk.Config {
		cfg := sdk.NewConfig().WithScheme(c.scheme).WithAutoRetry(false).WithTimeout(c.readTimeout).WithUserAgent("ecsnet")
		cfg.Transport = rt
		return cfg
	}
	// Signing: this legacy SDK signs every RPC request with HMAC-SHA1,
	// SignatureVersion 1.0 (sdk/auth/rpc_signature_composer.go), and has no
	// code for signature v3 (ACS3-HMAC-SHA256), the current SDKs' default.
	// Alibaba Cloud marks that signature discontinued for new integrations
	// (https://alibabacloud.com/help/en/ram/common-parameters-2) and ended
	// support for this SDK on 2025-03-01
	// (https://www.alibabacloud.com/help/en/sdk/product-overview/2025-3-1-v1-0-golang-sdk);
	// requests it signs are still accepted. The move to v3 is planned in
	// the README ("Request signing"); the emulator verifies both.
	//
	// InitWithOptions rather than NewClientWithOptions: the latter fills
	// the service's endpoint map, a package variable of the SDK that is
	// initialised without a lock (aliyun/alibaba-cloud-sdk-go#523). The
	// Domain set below makes that map unnecessary.
	e := &ecssdk.Client{}
	if err := e.InitWithOptions(c.region, mkConfig(), c.cred); err != nil {
		return nil, c.scrub.wrap("init", err)
	}
	v := &vpcsdk.Client{}
	if err := v.InitWithOptions(c.region, mkConfig(), c.cred); err != nil {
		return nil, c.scrub.wrap("init", err)
	}
	e.Domain, v.Domain = c.ecsDomain, c.vpcDomain
	for _, s := range []*sdk.Client{&e.Client, &v.Client} {
		s.SetReadTimeout(c.readTimeout)
		s.SetConnectTimeout(c.connectTimeout)
		if c.noProxy != "" {
			// The SDK applies HTTP_PROXY even to 127.0.0.1 unless NO_PROXY
			// matches (ecs-api.md §1.5). Our transport is not an
			// *http.Transport, so the SDK cannot set a proxy on it at all;
			// this is belt and braces for loopback endpoints.
			s.SetNoProxy(c.noProxy)
		}
	}
	return &conn{ecs: e, vpc: v, rt: rt}, nil
}

// ctxTransport carries the context of the call its conn is serving into
// the request the SDK builds without one, so cancelling the context aborts
// a request in flight. The http.Client's own timeout stays in force: the
// request's context is derived from the one the http.Client set.
//
// It also refuses every 3xx answer (see redirect.go): the SDK's http.Client
// would follow it with the signed request, and has no CheckRedirect to set.
type ctxTransport struct {
	base http.RoundTripper
	ctx  context.Context // set while the conn is checked out
}

func (t *ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := t.ctx
	if ctx == nil {
		resp, err := t.base.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		if err := refuseRedirect(resp, "the endpoint"); err != nil {
			return nil, err
		}
		return resp, nil
	}
	rctx, cancel := context.WithCancelCause(req.Context())
	stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	resp, err := t.base.RoundTrip(req.WithContext(rctx))
	if err == nil {
		err = refuseRedirect(resp, "the endpoint")
	}
	if err != nil {
		stop()
		cancel(nil)
		return nil, err
	}
	resp.Body = &doneBody{ReadCloser: resp.Body, done: func() { stop(); cancel(nil) }}
	return resp, nil
}

type doneBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *doneBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

// verdict is what to do after a failed attempt.
type verdict int

const (
	verdictFail  verdict = iota // return the error
	verdictRetry                // back off and try again
	verdictDone                 // the change is in place: return nil
)

// judge decides a failed attempt's verdict. It may call the API itself
// (e.g. to look at an ENI's state); no conn is held while it runs.
type judge func(ctx context.Context, err error) verdict

// byCode is the default judge: AlreadyDone answers are success, retryable
// errors are retried.
func byCode(action string) judge {
	return func(_ context.Context, err error) verdict {
		switch {
		case AlreadyDone(action, err):
			return verdictDone
		case retryable(action, err):
			return verdictRetry
		}
		return verdictFail
	}
}

// run makes one API call with rate limiting, retries and error scrubbing.
// attempt performs a single request on a checked-out conn; it is called
// again for every retry, so it must build a fresh SDK request each time
// (the same ClientToken included).
func (c *Client) run(ctx context.Context, action string, attempt func(*conn) error, j judge) error {
	if j == nil {
		j = byCode(action)
	}
	var last error
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return stopped(action, err, last)
		}
		if err := c.limiter.wait(ctx, action); err != nil {
			return stopped(action, err, last)
		}
		cn, err := c.acquire(ctx)
		if err != nil {
			return stopped(action, err, last)
		}
		cn.rt.ctx = ctx
		err = attempt(cn)
		c.release(cn)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return stopped(action, ctx.Err(), last)
		}
		err = c.scrub.wrap(action, err)
		switch j(ctx, err) {
		case verdictDone:
			c.log.LogAttrs(ctx, slog.LevelInfo, "ecs call already done",
				slog.String("action", action), slog.String("answer", err.Error()))
			return nil
		case verdictFail:
			return err
		}
		if n >= c.retry.MaxAttempts {
			return fmt.Errorf("%w (gave up after %d attempts)", err, n)
		}
		d := c.backoff(n)
		c.log.LogAttrs(ctx, slog.LevelInfo, "ecs call retried",
			slog.String("action", action), slog.Int("attempt", n), slog.Duration("delay", d), slog.String("error", err.Error()))
		last = err
		if err := c.sleep(ctx, d); err != nil {
			return stopped(action, err, last)
		}
	}
}

// backoff returns the delay before attempt n+1: full jitter over an
// exponentially growing, capped window.
func (c *Client) backoff(n int) time.Duration {
	window := c.retry.MaxDelay
	if n-1 < 32 {
		if w := c.retry.BaseDelay << (n - 1); w > 0 && w < window {
			window = w
		}
	}
	return time.Duration(c.rand() * float64(window))
}

// stopped reports a call ended by its context, with the last failure for
// context.
func stopped(action string, ctxErr, last error) error {
	if last == nil {
		return fmt.Errorf("ecs %s: %w", action, ctxErr)
	}
	return fmt.Errorf("ecs %s: %w; last attempt: %w", action, ctxErr, last)
}
