package ecs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// sink is a loopback server that only counts what reaches it: the place a
// redirect points to.
func sink(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.Close)
	return s, &hits
}

// TestAPIRedirectNotFollowed: an endpoint that answers with a redirect
// gets one request, and the signed request (security token included) is
// never resent where the redirect points: for the VPC API, the ECS API and
// Cloud Assistant alike. The call fails at once with a clear, clean error
// and is not retried.
func TestAPIRedirectNotFollowed(t *testing.T) {
	hygiene(t)
	calls := map[string]func(*Client) error{
		"vpc": func(c *Client) error {
			_, err := c.DescribeVSwitches(context.Background(), VSwitchQuery{VPCID: "vpc-main"})
			return err
		},
		"ecs": func(c *Client) error {
			_, err := c.DescribeInstances(context.Background(), []string{"i-bp1web1"})
			return err
		},
		"cloud assistant": func(c *Client) error {
			_, err := c.RunCommand(context.Background(), RunCommandInput{Type: RunShellScript, Content: []byte("true"),
				InstanceIDs: []string{"i-bp1web1"}, Name: "probe", ClientToken: "ecsnet-redirect-probe"})
			return err
		},
	}
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for api, call := range calls {
			t.Run(fmt.Sprint(api, " ", status), func(t *testing.T) {
				to, reached := sink(t)
				var asked atomic.Int64
				from := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					asked.Add(1)
					// Point the client at the other server with the signed
					// query: what a hostile endpoint would collect.
					http.Redirect(w, r, to.URL+"/collect?"+r.URL.RawQuery, status)
				}))
				t.Cleanup(from.Close)

				cfg := fastConfig(from.URL)
				cfg.Credentials = Credentials{AccessKeyID: stsKeyID, AccessKeySecret: stsSecret, SecurityToken: stsToken}
				c := newClient(t, cfg)
				err := call(c)
				if err == nil {
					t.Fatal("a redirected call succeeded")
				}
				var te *TransportError
				if !errors.As(err, &te) || te.Kind != KindRedirect {
					t.Fatalf("error %T %v, want a *TransportError of kind %s", err, err, KindRedirect)
				}
				if n := reached.Load(); n != 0 {
					t.Errorf("the redirect target got %d requests, want 0", n)
				}
				if n := asked.Load(); n != 1 {
					t.Errorf("the endpoint got %d requests, want 1 (a redirect is not retried)", n)
				}
				msg := err.Error()
				for _, want := range []string{fmt.Sprintf("HTTP %d", status), to.URL + "/collect", "follows no redirects"} {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q does not say %q", msg, want)
					}
				}
				assertClean(t, "error", msg)
			})
		}
	}
}

// imds is a fake instance metadata service for role "ecsnet-role" that
// hands out the STS key the emulator accepts (IMDSv2: a token first).
type imds struct {
	*httptest.Server
	creds atomic.Int64 // credentials documents served
	// redirect, when set, answers the request for this path with a
	// redirect to it.
	redirectPath, redirectTo string
}

func startIMDS(t *testing.T, redirectPath, redirectTo string) *imds {
	t.Helper()
	m := &imds{redirectPath: redirectPath, redirectTo: redirectTo}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == m.redirectPath {
			http.Redirect(w, r, m.redirectTo, http.StatusTemporaryRedirect)
			return
		}
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			fmt.Fprint(w, "imds-session-token")
		case r.Method == http.MethodGet && r.URL.Path == "/latest/meta-data/ram/security-credentials/ecsnet-role":
			if r.Header.Get("X-aliyun-ecs-metadata-token") != "imds-session-token" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			m.creds.Add(1)
			fmt.Fprintf(w, `{"AccessKeyId": %q, "AccessKeySecret": %q, "SecurityToken": %q, "Expiration": %q, "Code": "Success"}`,
				stsKeyID, stsSecret, stsToken, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(m.Close)
	return m
}

func ramRoleConfig(endpoint, metadata string) Config {
	cfg := fastConfig(endpoint)
	cfg.Credentials = Credentials{}
	cfg.UseECSRAMRole = "ecsnet-role"
	cfg.metadataEndpoint = metadata
	return cfg
}

// TestRAMRoleFromMetadata: with an ECS RAM role the client signs with the
// STS key the metadata service hands out, and fetches it once while it is
// valid.
func TestRAMRoleFromMetadata(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{})
	m := startIMDS(t, "", "")
	c := newClient(t, ramRoleConfig(e.URL, m.URL))
	for range 2 {
		got, err := c.DescribeVSwitches(context.Background(), VSwitchQuery{VPCID: "vpc-main"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("got %d vSwitches, want 2", len(got))
		}
	}
	if n := m.creds.Load(); n != 1 {
		t.Errorf("the key was fetched %d times, want once while it is valid", n)
	}
}

// TestRAMRoleRedirectNotFollowed: a metadata service that redirects the
// token or the credentials request is not followed: the redirect target
// sees nothing, the API is not called, and the error says why.
func TestRAMRoleRedirectNotFollowed(t *testing.T) {
	for _, path := range []string{"/latest/api/token", "/latest/meta-data/ram/security-credentials/ecsnet-role"} {
		t.Run(path, func(t *testing.T) {
			e := startEmu(t, smallWorld(), emulator.Options{})
			to, reached := sink(t)
			m := startIMDS(t, path, to.URL+"/collect")
			c := newClient(t, ramRoleConfig(e.URL, m.URL))
			_, err := c.DescribeVSwitches(context.Background(), VSwitchQuery{VPCID: "vpc-main"})
			if err == nil {
				t.Fatal("the call succeeded")
			}
			var te *TransportError
			if !errors.As(err, &te) || te.Kind != KindRedirect {
				t.Errorf("error %T %v, want a *TransportError of kind %s", err, err, KindRedirect)
			}
			if !strings.Contains(err.Error(), "metadata service answered HTTP 307") {
				t.Errorf("error %q does not name the metadata service's redirect", err)
			}
			if n := reached.Load(); n != 0 {
				t.Errorf("the redirect target got %d requests, want 0", n)
			}
			if calls := e.Calls(); len(calls) != 0 {
				t.Errorf("the API was called without credentials: %v", calls)
			}
			assertClean(t, "error", err.Error())
		})
	}
}

func TestRAMRoleNameChecked(t *testing.T) {
	for _, role := range []string{"../../latest/api/token", "a/b", "role?x=1", strings.Repeat("r", 65)} {
		if _, err := New(Config{Region: testRegion, UseECSRAMRole: role}); err == nil {
			t.Errorf("role name %q accepted", role)
		}
	}
}
