package emulator

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// tokenRE is the shape of every NextToken: standard Base64 with '+', '/'
// and '=' in it, as the real ones have (ecs-api.md §9).
var tokenRE = regexp.MustCompile(`^\+/\+/[A-Za-z0-9+/]*==$`)

// TestNextTokenShape: tokens carry '+', '/' and '=', and one that a
// client mangled on the way back (a '+' decoded as a space, the padding
// cut) is refused rather than taken for another position.
func TestNextTokenShape(t *testing.T) {
	e := newEnv(t, bigWorld(30, 3), Options{})
	m := ok(t, e.cl.ecs(t, "DescribeNetworkInterfaces", "VpcId", "vpc-big", "MaxResults", "10"))
	tok := str(m, "NextToken")
	if !tokenRE.MatchString(tok) {
		t.Fatalf("NextToken %q does not carry +, / and =", tok)
	}
	// Every ID length gives the same shape.
	for _, id := range []string{"i-1", "i-12", "i-123", "eni-bp1aaaaaaaaaaaaaaaaaaaa"} {
		if tk := nextToken(id); !tokenRE.MatchString(tk) {
			t.Errorf("nextToken(%q) = %q", id, tk)
		} else if back, ok := parseToken(tk); !ok || back != id {
			t.Errorf("parseToken(nextToken(%q)) = %q, %v", id, back, ok)
		}
	}
	ok(t, e.cl.ecs(t, "DescribeNetworkInterfaces", "VpcId", "vpc-big", "MaxResults", "10", "NextToken", tok))
	for _, bad := range []string{
		strings.ReplaceAll(tok, "+", " "),                    // '+' decoded as a space
		strings.TrimRight(tok, "="),                          // padding cut
		strings.NewReplacer("+", "-", "/", "_").Replace(tok), // the URL alphabet
	} {
		wantErr(t, e.cl.ecs(t, "DescribeNetworkInterfaces", "VpcId", "vpc-big", "MaxResults", "10", "NextToken", bad),
			400, "InvalidParameter")
	}
}

// TestPageModeToken: page mode answers a NextToken while pages remain, and
// TotalCount; token mode answers no TotalCount. Following the token from a
// page-mode call, as aliyun --pager does (it keeps PageSize in the request
// and adds NextToken), lists everything once.
func TestPageModeToken(t *testing.T) {
	const n = 37
	w := bigWorld(n, 4)
	e := newEnv(t, w, Options{})
	kv := []string{"VpcId", "vpc-big", "Type", "Secondary", "PageSize", "10"}
	seen := map[string]int{}
	for calls := 0; ; calls++ {
		if calls > n {
			t.Fatal("the pager does not end")
		}
		m := ok(t, e.cl.ecs(t, "DescribeNetworkInterfaces", kv...))
		for _, x := range list(m, "NetworkInterfaceSets", "NetworkInterfaceSet") {
			seen[str(x, "NetworkInterfaceId")]++
		}
		tok := str(m, "NextToken")
		_, hasTotal := m["TotalCount"]
		if calls == 0 {
			if !hasTotal || int(m["TotalCount"].(float64)) != n {
				t.Errorf("page mode: TotalCount %v, want %d", m["TotalCount"], n)
			}
			if !tokenRE.MatchString(tok) {
				t.Errorf("page mode, first of 4 pages: NextToken %q", tok)
			}
		} else if hasTotal {
			t.Errorf("token mode (call %d): TotalCount %v, which the API documents as invalid", calls, m["TotalCount"])
		}
		if tok == "" {
			break
		}
		kv = []string{"VpcId", "vpc-big", "Type", "Secondary", "PageSize", "10", "NextToken", tok}
	}
	if len(seen) != n {
		t.Errorf("listed %d ENIs, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s listed %d times", id, k)
		}
	}

	// The last page of page mode has no token; nor has a page past the end.
	for page, want := range map[int]bool{1: true, 3: true, 4: false, 9: false} {
		m := ok(t, e.cl.ecs(t, "DescribeNetworkInterfaces", "VpcId", "vpc-big", "Type", "Secondary",
			"PageSize", "10", "PageNumber", fmt.Sprint(page)))
		if got := str(m, "NextToken") != ""; got != want {
			t.Errorf("page %d: NextToken %q, want one: %v", page, str(m, "NextToken"), want)
		}
	}
	// DescribeInstances does the same.
	m := ok(t, e.cl.ecs(t, "DescribeInstances", "PageSize", "2"))
	if !tokenRE.MatchString(str(m, "NextToken")) || m["TotalCount"] == nil {
		t.Errorf("DescribeInstances page mode: NextToken %q, TotalCount %v", str(m, "NextToken"), m["TotalCount"])
	}
	m = ok(t, e.cl.ecs(t, "DescribeInstances", "MaxResults", "2"))
	if _, has := m["TotalCount"]; has || !tokenRE.MatchString(str(m, "NextToken")) {
		t.Errorf("DescribeInstances token mode: NextToken %q, TotalCount %v", str(m, "NextToken"), m["TotalCount"])
	}
}
