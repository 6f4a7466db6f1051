package emulator

// Signature v3 (ACS3-HMAC-SHA256), the default of the current Alibaba Cloud
// SDKs (github.com/alibabacloud-go/darabonba-openapi/v2: every RPC action
// goes through DoRequest unless the client asks for SignatureAlgorithm
// "v2"). The rules are those of "V3 request structure and signature":
//
//	https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature
//	https://help.aliyun.com/zh/resource-management/common-parameters (the same page in Chinese)
//
// The action and version travel in the x-acs-action and x-acs-version
// headers, the business parameters in the query (the ECS and VPC SDKs put
// every parameter there) or in a form body, whose SHA-256 the signature
// covers through x-acs-content-sha256. The page's worked example (secret
// YourAccessKeySecret, RunInstances, x-acs-date 2023-10-26T09:01:01Z)
// reproduces byte for byte here: see TestSignatureV3DocVector.
//
// The error codes are the gateway's common ones, shared with the RPC
// signature (https://help.aliyun.com/document_detail/53438.html):
// IncompleteSignature, InvalidSignatureMethod, SignatureDoesNotMatch,
// SignatureNonceUsed, InvalidTimeStamp.Format/.Expired,
// InvalidAccessKeyId.NotFound and the SecurityToken codes of checkToken.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// v3Algorithm is the one v3 algorithm the emulator verifies. The SDKs also
// know ACS3-HMAC-SM3 and ACS3-RSA-SHA256, which nothing in ecsnet's world
// uses.
const v3Algorithm = "ACS3-HMAC-SHA256"

// maxBody bounds a request body, as net/http's ParseForm does.
const maxBody = 10 << 20

// v3Request is what a v3 signature covers, kept from the HTTP request.
type v3Request struct {
	method, path, host string
	query              url.Values // the query alone: a form body is covered by its hash
	header             http.Header
	payloadHash        string // hex SHA-256 of the body as it arrived
}

// readParams reads one request's parameters: the query and a form body,
// and for a v3 request the action and version from their headers. The
// body is read here, once, because a v3 signature covers its hash.
func readParams(r *http.Request) (params, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return params{}, err
		}
		if len(b) > maxBody {
			return params{}, errors.New("request body too large")
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if err := r.ParseForm(); err != nil {
		return params{}, err
	}
	p := params{v: r.Form}
	if !isV3(r) {
		return p, nil
	}
	sum := sha256.Sum256(body)
	p.v3 = &v3Request{
		method: r.Method, path: r.URL.Path, host: r.Host,
		query: r.URL.Query(), header: r.Header, payloadHash: hex.EncodeToString(sum[:]),
	}
	// The rest of the server reads Action and Version as parameters.
	if a := r.Header.Get("x-acs-action"); a != "" {
		p.v.Set("Action", a)
	}
	if v := r.Header.Get("x-acs-version"); v != "" {
		p.v.Set("Version", v)
	}
	return p, nil
}

// isV3 tells a v3 request from an RPC-signed one. The legacy SDK sends
// x-acs-action and x-acs-version on RPC requests too, so those headers
// prove nothing; an Authorization header does, and so does a v3 nonce on
// a request that carries no RPC Signature (a v3 client that forgot to
// sign).
func isV3(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	return r.Header.Get("x-acs-signature-nonce") != "" && r.Form.Get("Signature") == ""
}

// v3Auth is a parsed Authorization header:
// ACS3-HMAC-SHA256 Credential=ID,SignedHeaders=a;b,Signature=hex.
type v3Auth struct {
	algorithm, credential, signature string
	signedHeaders                    []string
}

func parseV3Auth(h string) (v3Auth, *apiError) {
	incomplete := func(why string) (v3Auth, *apiError) {
		return v3Auth{}, newErr(http.StatusBadRequest, "IncompleteSignature",
			"The request signature does not conform to Aliyun standards: %s.", why)
	}
	if h == "" {
		return incomplete("the Authorization header is missing")
	}
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	a := v3Auth{algorithm: alg}
	var haveHeaders bool
	for _, f := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			a.credential = v
		case "SignedHeaders":
			haveHeaders = true
			if v != "" {
				a.signedHeaders = strings.Split(v, ";")
			}
		case "Signature":
			a.signature = v
		}
	}
	switch {
	case a.algorithm != v3Algorithm:
		return a, newErr(http.StatusBadRequest, "InvalidSignatureMethod",
			"Specified signature method %q is not supported: the emulator verifies %s and the RPC HMAC-SHA1.", a.algorithm, v3Algorithm)
	case a.credential == "":
		return incomplete("Credential is missing from the Authorization header")
	case !haveHeaders:
		return incomplete("SignedHeaders is missing from the Authorization header")
	case a.signature == "":
		return incomplete("Signature is missing from the Authorization header")
	}
	return a, nil
}

// authenticateV3 checks a v3 request in the order the RPC check uses:
// missing pieces, the key, the clock, the signature, the STS token, the
// nonce (so that a request with a bad signature does not spend its
// nonce).
func (s *Server) authenticateV3(r *v3Request, now time.Time) *apiError {
	a, e := parseV3Auth(r.header.Get("Authorization"))
	if e != nil {
		return e
	}
	for _, h := range []string{"x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"} {
		if r.header.Get(h) == "" {
			return errMissing(h)
		}
	}
	// "Every common request header except Authorization must be signed
	// when present" (the page's Authorization row); the SDKs sign host,
	// content-type and every x-acs- header.
	signed := map[string]bool{}
	for _, h := range a.signedHeaders {
		signed[h] = true
	}
	need := []string{"host"}
	for h := range r.header {
		if l := strings.ToLower(h); strings.HasPrefix(l, "x-acs-") {
			need = append(need, l)
		}
	}
	slices.Sort(need)
	for _, h := range need {
		if !signed[h] {
			return newErr(http.StatusBadRequest, "IncompleteSignature",
				"The request signature does not conform to Aliyun standards: header %q is present but not in SignedHeaders.", h)
		}
	}
	key, ok := s.cloud.keys[a.credential]
	if !ok {
		return newErr(http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	ts, err := time.Parse(timeLayout, r.header.Get("x-acs-date"))
	if err != nil {
		return newErr(http.StatusBadRequest, "InvalidTimeStamp.Format",
			"Specified time stamp or date value is not well formatted: x-acs-date wants UTC 2006-01-02T15:04:05Z.")
	}
	if d := now.Sub(ts); d > nonceWindow || d < -nonceWindow {
		return newErr(http.StatusBadRequest, "InvalidTimeStamp.Expired",
			"Specified time stamp or date value is expired: more than 15 minutes from the server's clock.")
	}
	canon := canonicalRequestV3(r, a.signedHeaders)
	sts := stringToSignV3(canon)
	want := signV3(key.AccessKeySecret, sts)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(a.signature))) != 1 {
		hint := ""
		if r.header.Get("x-acs-content-sha256") != r.payloadHash {
			hint = " (x-acs-content-sha256 is not the SHA-256 of the body that arrived)"
		}
		return newErr(http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature does not match our calculation%s. server string to sign is:%s", hint, sts)
	}
	if e := s.checkToken(key, r.header.Get("x-acs-security-token")); e != nil {
		return e
	}
	if !s.nonces.spend(key.AccessKeyId, r.header.Get("x-acs-signature-nonce"), now) {
		return newErr(http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	return nil
}

// canonicalRequestV3 is the page's CanonicalRequest: method, URI, query,
// headers, signed header names, payload hash, one per line. The payload
// hash is the server's own, so a body changed on the way fails the
// signature whatever x-acs-content-sha256 claims.
func canonicalRequestV3(r *v3Request, signedHeaders []string) string {
	names := slices.Clone(signedHeaders)
	slices.Sort(names)
	var b strings.Builder
	b.WriteString(r.method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.path))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.query, ""))
	b.WriteByte('\n')
	for _, h := range names {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(names, ";"))
	b.WriteByte('\n')
	b.WriteString(r.payloadHash)
	return b.String()
}

// canonicalURI encodes each /-separated segment of the path (RPC actions
// use "/").
func canonicalURI(path string) string {
	if path == "" {
		return "/"
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = percentEncode(s)
	}
	return strings.Join(segs, "/")
}

// canonicalQuery sorts the query by name and encodes names and values as
// the RPC signature does; a parameter without a value is "name=". The
// parameter named skip (the RPC signature's own Signature) is left out.
func canonicalQuery(q url.Values, skip string) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != skip || skip == "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(percentEncode(k))
			b.WriteByte('=')
			b.WriteString(percentEncode(v))
		}
	}
	return b.String()
}

// headerValue is a signed header's canonical value: trimmed, several
// values sorted and joined with commas. Go keeps Host apart from the other
// headers.
func headerValue(r *v3Request, name string) string {
	if name == "host" {
		return strings.TrimSpace(r.host)
	}
	vs := slices.Clone(r.header.Values(name))
	for i := range vs {
		vs[i] = strings.TrimSpace(vs[i])
	}
	slices.Sort(vs)
	return strings.Join(vs, ",")
}

// stringToSignV3 is the algorithm and the hex SHA-256 of the canonical
// request.
func stringToSignV3(canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return v3Algorithm + "\n" + hex.EncodeToString(sum[:])
}

// signV3 is hex(HMAC-SHA256(secret, stringToSign)); unlike the RPC
// signature, the key is the secret alone, without a trailing "&".
func signV3(secret, sts string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(sts))
	return hex.EncodeToString(m.Sum(nil))
}
