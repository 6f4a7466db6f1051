package emulator

import (
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// params reads one request's parameters. The SDK puts every parameter in
// the query string, but the API also accepts a form body, so they arrive
// merged (ecs-api.md §1.1, §1.9). A signature-v3 request brings its action
// and version in headers, which readParams copies in as Action and
// Version, and keeps what its signature covers in v3.
type params struct {
	v  url.Values
	v3 *v3Request // nil for an RPC-signed request
}

// format is the answer format the request asks for. An RPC request names it
// in Format (the real API defaults to XML); a v3 request may too, and
// otherwise asks with Accept, where the SDKs send application/json and the
// gateway answers JSON by default.
func (p params) format() string {
	if f := p.v.Get("Format"); f != "" || p.v3 == nil {
		return f
	}
	accept := strings.ToLower(p.v3.header.Get("Accept"))
	if accept == "" || strings.Contains(accept, "json") || strings.Contains(accept, "*/*") {
		return "JSON"
	}
	return accept
}

func (p params) get(name string) string { return p.v.Get(name) }

func (p params) has(name string) bool { return p.v.Get(name) != "" }

// required returns a non-empty parameter or MissingParameter.
func (p params) required(name string) (string, *apiError) {
	s := p.v.Get(name)
	if s == "" {
		return "", errMissing(name)
	}
	return s, nil
}

// integer parses an optional integer parameter within [lo, hi]; absent
// gives def.
func (p params) integer(name string, def, lo, hi int) (int, *apiError) {
	s := p.v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errInvalid(name, "not an integer")
	}
	if n < lo || n > hi {
		return 0, errInvalid(name, "must be between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
	}
	return n, nil
}

// boolean parses an optional true/false parameter.
func (p params) boolean(name string) (bool, *apiError) {
	switch strings.ToLower(p.v.Get(name)) {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errInvalid(name, "not true or false")
}

// indexed returns the values of name.N (N = 1, 2, …) in N order, with
// suffix selecting a field of a repeated struct (Tag.N.Key). N above max is
// InvalidParameter, as the API bounds every repeated list.
func (p params) indexed(name, suffix string, max int) (map[int]string, *apiError) {
	out := map[int]string{}
	prefix := name + "."
	for k, vs := range p.v {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		num, ok := strings.CutSuffix(rest, suffix)
		if !ok || num == "" || strings.Trim(num, "0123456789") != "" {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 {
			return nil, errInvalid(k, "the index must be 1 or more")
		}
		if n > max {
			return nil, errInvalid(k, "at most "+strconv.Itoa(max)+" values are allowed")
		}
		out[n] = vs[0]
	}
	return out, nil
}

// list returns name.1 … name.N, skipping empty values, in N order.
func (p params) list(name string, max int) ([]string, *apiError) {
	m, err := p.indexed(name, "", max)
	if err != nil {
		return nil, err
	}
	idx := make([]int, 0, len(m))
	for n, v := range m {
		if v != "" {
			idx = append(idx, n)
		}
	}
	slices.Sort(idx)
	out := make([]string, len(idx))
	for i, n := range idx {
		out[i] = m[n]
	}
	return out, nil
}

// tagParams returns Tag.N.Key / Tag.N.Value pairs in N order. A value
// without a key is InvalidParameter.
func (p params) tagParams(name string, max int) ([]Tag, *apiError) {
	keys, err := p.indexed(name, ".Key", max)
	if err != nil {
		return nil, err
	}
	vals, err := p.indexed(name, ".Value", max)
	if err != nil {
		return nil, err
	}
	idx := make([]int, 0, len(keys))
	for n := range keys {
		idx = append(idx, n)
	}
	for n := range vals {
		if _, ok := keys[n]; !ok {
			return nil, errInvalid(name+"."+strconv.Itoa(n)+".Key", "a tag value needs its key")
		}
	}
	slices.Sort(idx)
	out := make([]Tag, len(idx))
	for i, n := range idx {
		out[i] = Tag{TagKey: keys[n], TagValue: vals[n]}
	}
	return out, nil
}

// addrList parses name.N as IPv4 addresses.
func (p params) addrList(name string, max int) ([]netip.Addr, *apiError) {
	ss, err := p.list(name, max)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		a, perr := netip.ParseAddr(s)
		if perr != nil || !a.Is4() {
			return nil, errInvalid(name, s+" is not an IPv4 address")
		}
		out[i] = a
	}
	return out, nil
}

// rejectUnsupported answers UnsupportedParameter for parameters the real
// API has but the emulator does not model: ignoring a filter would return
// more than the cloud would, ignoring a setting would claim a change that
// never happened, and code that passes here must work there. A name ending
// in "." or "*" is a prefix.
func (p params) rejectUnsupported(names ...string) *apiError {
	for _, n := range names {
		if prefix, ok := strings.CutSuffix(n, "*"); ok || strings.HasSuffix(n, ".") {
			if !ok {
				prefix = n
			}
			for k := range p.v {
				if strings.HasPrefix(k, prefix) && p.v.Get(k) != "" {
					return errUnsupported(k, "the emulator does not model it")
				}
			}
			continue
		}
		if p.has(n) {
			return errUnsupported(n, "the emulator does not model it")
		}
	}
	return nil
}

// commonParams are the gateway's parameters; every other parameter is the
// action's business, which ClientToken fingerprints compare.
var commonParams = map[string]bool{
	"Action": true, "Version": true, "Format": true, "AccessKeyId": true, "Signature": true,
	"SignatureMethod": true, "SignatureVersion": true, "SignatureNonce": true, "SignatureType": true,
	"Timestamp": true, "SecurityToken": true, "ClientToken": true,
}

// fingerprint returns the action's business parameters in a canonical
// form.
func (p params) fingerprint() string {
	keys := make([]string, 0, len(p.v))
	for k := range p.v {
		if !commonParams[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range p.v[k] {
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
			b.WriteByte('&')
		}
	}
	return b.String()
}
