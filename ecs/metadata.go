package ecs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
)

// metadataEndpoint is the ECS instance metadata service (ecs-api.md §6).
const metadataEndpoint = "http://100.100.100.200"

// ramRoleProvider fetches the STS key of an ECS instance's RAM role from the
// instance metadata service, and fetches it again 180 s before it expires,
// as the SDK's own provider does (ecs-api.md §6). ecsnet has its own
// provider rather than the SDK's because the SDK's builds its http.Client
// on each fetch, out of reach: it follows redirects (the credentials
// answer could be fetched from wherever a redirect points, and the
// metadata token sent there), uses HTTP_PROXY for the link-local metadata
// address, and quotes the answer's body in its errors. This one follows
// no redirect, never uses a proxy, and its errors quote nothing the
// service sent. It is safe for concurrent use: the SDK asks for
// credentials on every call.
type ramRoleProvider struct {
	role   string
	base   string // scheme://host of the metadata service
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	cur     *credentials.Credentials
	expires time.Time
}

// ramRoleRefresh is how long before expiry a key is fetched again.
const ramRoleRefresh = 180 * time.Second

// maxMetadataAnswer caps what is read of one metadata answer: a
// credentials document is about 1 KiB.
const maxMetadataAnswer = 64 << 10

func newRAMRoleProvider(role, base string, now func() time.Time) (*ramRoleProvider, error) {
	if !validRoleName(role) {
		return nil, fmt.Errorf("ecs: RAM role name %q: use the role's name as the console shows it (letters, digits, '.', '_' and '-', at most 64)", role)
	}
	if base == "" {
		base = metadataEndpoint
	}
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	return &ramRoleProvider{
		role: role,
		base: strings.TrimSuffix(base, "/"),
		client: &http.Client{
			// No Proxy: the metadata address is link-local to the
			// instance, and a proxy would see the role's key.
			Transport:     &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true},
			CheckRedirect: noRedirect,
			Timeout:       5 * time.Second,
		},
		now: now,
	}, nil
}

// validRoleName accepts RAM role names: 1 to 64 letters, digits, '.', '_'
// and '-'. The name becomes a path segment of the metadata URL.
func validRoleName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return s != "." && s != ".."
}

// GetProviderName implements credentials.CredentialsProvider.
func (p *ramRoleProvider) GetProviderName() string { return "ecs_ram_role" }

// GetCredentials implements credentials.CredentialsProvider: the cached
// key, or a fresh one when it expires within ramRoleRefresh.
func (p *ramRoleProvider) GetCredentials() (*credentials.Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil && p.now().Before(p.expires.Add(-ramRoleRefresh)) {
		c := *p.cur
		return &c, nil
	}
	// The SDK asks without a context; the http.Client's timeout (5 s)
	// bounds the wait.
	c, exp, err := p.fetch(context.Background())
	if err != nil {
		return nil, fmt.Errorf("ECS RAM role %s: %w", p.role, err)
	}
	p.cur, p.expires = c, exp
	out := *c
	return &out, nil
}

// roleAnswer is the metadata service's credentials document.
type roleAnswer struct {
	Code            string
	AccessKeyId     string
	AccessKeySecret string
	SecurityToken   string
	Expiration      string
}

func (p *ramRoleProvider) fetch(ctx context.Context) (*credentials.Credentials, time.Time, error) {
	token, err := p.token(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/latest/meta-data/ram/security-credentials/"+url.PathEscape(p.role), nil)
	if err != nil {
		return nil, time.Time{}, err
	}
	if token != "" {
		req.Header.Set("X-aliyun-ecs-metadata-token", token)
	}
	body, err := p.do(req)
	if err != nil {
		return nil, time.Time{}, err
	}
	var a roleAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		// The decoder's message can quote the answer: say only where.
		return nil, time.Time{}, errors.New("the metadata service's answer is not a credentials document")
	}
	if a.Code != "Success" || a.AccessKeyId == "" || a.AccessKeySecret == "" || a.SecurityToken == "" {
		return nil, time.Time{}, errors.New("the metadata service returned no key for the role (is the role attached to this instance?)")
	}
	exp, err := time.Parse(time.RFC3339, a.Expiration)
	if err != nil {
		return nil, time.Time{}, errors.New("the metadata service's key has no valid Expiration")
	}
	return &credentials.Credentials{AccessKeyId: a.AccessKeyId, AccessKeySecret: a.AccessKeySecret,
		SecurityToken: a.SecurityToken, ProviderName: p.GetProviderName()}, exp, nil
}

// token asks for an IMDSv2 session token. A service that does not issue
// them (an HTTP error answer) gets the request without one, as the SDK
// does by default; a redirect or a network failure is an error.
func (p *ramRoleProvider) token(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, p.base+"/latest/api/token", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("X-aliyun-ecs-metadata-token-ttl-seconds", "21600")
	body, err := p.do(req)
	var se *metadataStatusError
	if errors.As(err, &se) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(body)), nil
}

// metadataStatusError is a non-2xx, non-3xx answer of the metadata service.
type metadataStatusError struct {
	path   string
	status int
}

func (e *metadataStatusError) Error() string {
	return fmt.Sprintf("the metadata service answered %s with HTTP %d", e.path, e.status)
}

// do sends req and returns the body of a 2xx answer. Errors name the path
// and the status, never the body or a header.
func (p *ramRoleProvider) do(req *http.Request) ([]byte, error) {
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("%s %s: %s", ue.Op, redactURL(ue.URL), describeCause(ue.Err))
		}
		return nil, err
	}
	if err := refuseRedirect(resp, "the instance metadata service"); err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &metadataStatusError{path: req.URL.Path, status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("read the metadata service's answer: %w", err)
	}
	if len(body) > maxMetadataAnswer {
		return nil, fmt.Errorf("the metadata service's answer to %s is larger than %d bytes", req.URL.Path, maxMetadataAnswer)
	}
	return body, nil
}
