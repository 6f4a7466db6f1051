package ecs

import (
	"fmt"
	"io"
	"net/http"
)

// Redirects are never followed. The ECS and VPC APIs and the instance
// metadata service do not redirect; an answer that does comes from
// something else (a misconfigured proxy, a hostile endpoint), and
// following it would resend the request wherever the answer points: for
// an API call that is the signed query, security token included, possibly
// in plain HTTP to a host that is not loopback, which parseEndpoint exists
// to prevent. The SDK builds its http.Client itself and exposes no
// CheckRedirect, so the refusal sits in the transport every SDK client
// uses (ctxTransport): a 3xx answer becomes an error before the
// http.Client can see it. The clients this package builds itself use
// noRedirect as well.

// noRedirect is the CheckRedirect of every http.Client this package builds:
// the 3xx answer is returned as it is, for the caller to refuse with
// refuseRedirect.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// redirectError is a 3xx answer, refused.
type redirectError struct {
	who      string // "the endpoint", "the instance metadata service"
	status   int
	location string // scheme, host and path only (redactURL); "" when absent
}

func (e *redirectError) Error() string {
	where := "without a Location"
	if e.location != "" {
		where = "to " + e.location
	}
	return fmt.Sprintf("%s answered HTTP %d, a redirect %s; ecsnet follows no redirects (the ECS API never answers with one), "+
		"so nothing was sent there: check the endpoint and any proxy in between", e.who, e.status, where)
}

// refuseRedirect returns a *redirectError for a 3xx answer, after draining
// a little of its body and closing it, and nil for any other answer.
func refuseRedirect(resp *http.Response, who string) error {
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil
	}
	e := &redirectError{who: who, status: resp.StatusCode}
	if u, err := resp.Location(); err == nil {
		e.location = redactURL(u.String())
	} else if resp.Header.Get("Location") != "" {
		e.location = "[unparsable URL]"
	}
	// Draining a little lets the connection be reused; the rest is not
	// worth reading.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	return e
}
