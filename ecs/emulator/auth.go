package emulator

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// percentEncode is RFC 3986 encoding as the RPC signature uses it: only
// A-Z a-z 0-9 - _ . ~ stay literal, space is %20, hex is upper case
// (ecs-api.md §1.3 step 2).
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// stringToSign builds the canonical string of ecs-api.md §1.3 steps 1-4:
// every parameter but Signature, empty ones included, sorted by key.
func stringToSign(method string, v url.Values) string {
	return method + "&" + percentEncode("/") + "&" + percentEncode(canonicalQuery(v, "Signature"))
}

// sign is step 5: Base64(HMAC-SHA1(secret + "&", stringToSign)).
func sign(secret, sts string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// nonceWindow is how long a SignatureNonce stays spent. A request older
// than the timestamp window is refused anyway, so remembering nonces for
// longer would only cost memory.
const nonceWindow = 15 * time.Minute

type nonceEntry struct {
	key  string
	seen time.Time
}

// nonces remembers recently used SignatureNonces per access key.
type nonces struct {
	used  map[string]bool
	order []nonceEntry
}

// spend records a nonce and reports whether it was fresh.
func (n *nonces) spend(akID, nonce string, now time.Time) bool {
	for len(n.order) > 0 && now.Sub(n.order[0].seen) > nonceWindow {
		delete(n.used, n.order[0].key)
		n.order = n.order[1:]
	}
	k := akID + "\x00" + nonce
	if n.used[k] {
		return false
	}
	n.used[k] = true
	n.order = append(n.order, nonceEntry{k, now})
	return true
}

// authenticate checks a request the way the POP gateway does (ecs-api.md
// §1.3, §5.1). The order matters only for which error a doubly-broken
// request gets: missing pieces, then the key, then the clock, then the
// signature, then the STS token, then the nonce, so that a request with a
// bad signature does not spend its nonce.
func (s *Server) authenticate(method string, p params, now time.Time) *apiError {
	if p.v3 != nil {
		return s.authenticateV3(p.v3, now)
	}
	for _, name := range []string{"AccessKeyId", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"} {
		if !p.has(name) {
			return errMissing(name)
		}
	}
	if !p.has("Signature") {
		return newErr(http.StatusBadRequest, "IncompleteSignature",
			"The request signature does not conform to Aliyun standards: the Signature parameter is missing.")
	}
	if m := p.get("SignatureMethod"); m != "HMAC-SHA1" {
		// The gateway's common code (https://help.aliyun.com/document_detail/53438.html).
		return newErr(http.StatusBadRequest, "InvalidSignatureMethod",
			"Specified signature method %q is not supported: the RPC signature is HMAC-SHA1.", m)
	}
	if v := p.get("SignatureVersion"); v != "1.0" {
		return errInvalid("SignatureVersion", "only 1.0 is supported, not "+v)
	}
	key, ok := s.cloud.keys[p.get("AccessKeyId")]
	if !ok {
		// The documentation says 400, real responses carry 404 (ecs-api.md
		// §5.1, §8); the emulator follows the wire.
		return newErr(http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	ts, err := time.Parse(timeLayout, p.get("Timestamp"))
	if err != nil {
		return newErr(http.StatusBadRequest, "InvalidTimeStamp.Format",
			"Specified time stamp or date value is not well formatted: want UTC 2006-01-02T15:04:05Z.")
	}
	if d := now.Sub(ts); d > nonceWindow || d < -nonceWindow {
		return newErr(http.StatusBadRequest, "InvalidTimeStamp.Expired",
			"Specified time stamp or date value is expired: more than 15 minutes from the server's clock.")
	}
	sts := stringToSign(method, p.v)
	want := sign(key.AccessKeySecret, sts)
	if subtle.ConstantTimeCompare([]byte(want), []byte(p.get("Signature"))) != 1 {
		// The SDK reads the suffix to tell a wrong secret from a signing bug.
		return newErr(http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:%s", sts)
	}
	if e := s.checkToken(key, p.get("SecurityToken")); e != nil {
		return e
	}
	if !s.nonces.spend(key.AccessKeyId, p.get("SignatureNonce"), now) {
		return newErr(http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	return nil
}

// checkToken compares the STS token a request carries with its key's. The
// codes are the gateway's common ones
// (https://help.aliyun.com/document_detail/53438.html; the STS FAQ
// https://www.alibabacloud.com/help/doc-detail/42775.htm for
// MissingSecurityToken). A long-term key has no token, so one sent with it
// is refused too: a client that mixes credentials up must fail here as it
// would against the cloud. A token the emulator has never issued is
// malformed; another key's token does not match this key.
func (s *Server) checkToken(key AccessKey, token string) *apiError {
	switch {
	case token == key.SecurityToken:
		return nil
	case token == "":
		return newErr(http.StatusBadRequest, "MissingSecurityToken", "SecurityToken is mandatory for this action.")
	}
	for _, k := range s.cloud.keys {
		if k.SecurityToken != "" && k.SecurityToken == token {
			return newErr(http.StatusBadRequest, "InvalidSecurityToken.MismatchWithAccessKey",
				"Specified SecurityToken mismatch with the AccessKey.")
		}
	}
	return newErr(http.StatusBadRequest, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")
}
