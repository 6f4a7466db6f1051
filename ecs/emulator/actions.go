package emulator

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// action is one API action the emulator answers.
type action struct {
	run func(*Server, *call) (any, *apiError)
	// mutating actions count in MutatingCalls.
	mutating bool
	// regionOptional: a VpcId may stand in for RegionId.
	regionOptional bool
	// regionless actions have no RegionId parameter (the endpoint names
	// the region): the official SDK sends none, the legacy one still adds
	// it, and then it must be the world's.
	regionless bool
}

// ecsActions are the ECS 2014-05-26 actions; vpcActions the VPC 2016-04-28
// ones. ECS 2014-05-26 also still lists a legacy DescribeVSwitches with
// another response shape; the emulator answers only the VPC one, which is
// the one ecsnet uses, and InvalidApi.NotFound for the legacy one.
var ecsActions, vpcActions map[string]action

func init() {
	ecsActions = map[string]action{
		"DescribeInstances":                 {run: describeInstances},
		"DescribeInstanceTypes":             {run: describeInstanceTypes, regionless: true},
		"DescribeNetworkInterfaces":         {run: describeNetworkInterfaces},
		"DescribeNetworkInterfaceAttribute": {run: describeNetworkInterfaceAttribute},
		"CreateNetworkInterface":            {run: createNetworkInterface, mutating: true},
		"AttachNetworkInterface":            {run: attachNetworkInterface, mutating: true},
		"DetachNetworkInterface":            {run: detachNetworkInterface, mutating: true},
		"DeleteNetworkInterface":            {run: deleteNetworkInterface, mutating: true},
		"ModifyNetworkInterfaceAttribute":   {run: modifyNetworkInterfaceAttribute, mutating: true},
		"AssignPrivateIpAddresses":          {run: assignPrivateIpAddresses, mutating: true},
		"UnassignPrivateIpAddresses":        {run: unassignPrivateIpAddresses, mutating: true},
		"AssignIpv6Addresses":               {run: assignIpv6Addresses, mutating: true},
		"UnassignIpv6Addresses":             {run: unassignIpv6Addresses, mutating: true},
		"TagResources":                      {run: tagResources, mutating: true},
		"UntagResources":                    {run: untagResources, mutating: true},
		"ListTagResources":                  {run: listTagResources},
		"RunCommand":                        {run: runCommand, mutating: true},
		"DescribeInvocationResults":         {run: describeInvocationResults},
		"DescribeInvocations":               {run: describeInvocations},
		"DescribeCloudAssistantStatus":      {run: describeCloudAssistantStatus},
		"StopInstance":                      {run: stopInstance, mutating: true},
		"StartInstance":                     {run: startInstance, mutating: true},
		"RebootInstance":                    {run: rebootInstance, mutating: true},
	}
	vpcActions = map[string]action{
		"DescribeVSwitches": {run: describeVSwitches, regionOptional: true},
	}
}

// requestOnly is the body of actions that answer nothing but the RequestId.
type requestOnly struct {
	RequestId string `json:"RequestId"`
}

// Idempotency (ecs-api.md §5.4): ClientToken is honoured only by the
// actions whose request has one (CreateNetworkInterface,
// AssignPrivateIpAddresses, AssignIpv6Addresses, RunCommand). The same token with the same
// business parameters answers the first success again (with a fresh
// RequestId) and changes nothing; with other parameters it is
// IdempotentParameterMismatch. Failed calls are not remembered, so a retry
// after an error runs again. The real token lifetime is undocumented
// (§8); the emulator remembers tokens for its whole life.

type tokenEntry struct {
	fingerprint string
	resp        replayable
}

// replayable is a success body that can be answered again under a new
// RequestId.
type replayable interface {
	replay(requestID string) any
}

// replayed looks the call's ClientToken up. It returns the earlier answer,
// an error, or neither when the call must run.
func (s *Server) replayed(q *call) (any, *apiError) {
	tok := q.p.get("ClientToken")
	if tok == "" {
		return nil, nil
	}
	if len(tok) > 64 || strings.IndexFunc(tok, func(r rune) bool { return r > unicode.MaxASCII || r < ' ' }) >= 0 {
		return nil, errInvalid("ClientToken", "at most 64 printable ASCII characters")
	}
	t, ok := s.tokens[q.action+"\x00"+tok]
	if !ok {
		return nil, nil
	}
	if t.fingerprint != q.p.fingerprint() {
		return nil, newErr(http.StatusBadRequest, "IdempotentParameterMismatch",
			"The specified ClientToken was used before with other parameters.")
	}
	return t.resp.replay(q.requestID), nil
}

// remember stores a success under the call's ClientToken, if it has one.
func (s *Server) remember(q *call, resp replayable) {
	if tok := q.p.get("ClientToken"); tok != "" {
		s.tokens[q.action+"\x00"+tok] = tokenEntry{fingerprint: q.p.fingerprint(), resp: resp}
	}
}

// checkName validates NetworkInterfaceName (ecs-api.md §2.2): 2-128
// characters, starting with a letter (CJK included), then letters, digits,
// ".", "_", "-" and ":", and never an http:// or https:// prefix.
func checkName(s string) *apiError {
	bad := func() *apiError {
		return newErr(http.StatusBadRequest, "InvalidNetworkInterfaceName.Malformed",
			"The specified NetworkInterfaceName %q is not valid: 2-128 characters, starting with a letter, then letters, digits, '.', '_', '-' or ':'.", s)
	}
	n := utf8.RuneCountInString(s)
	if n < 2 || n > 128 || strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return bad()
	}
	for i, r := range s {
		if i == 0 && !unicode.IsLetter(r) {
			return bad()
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-:", r) {
			return bad()
		}
	}
	return nil
}

// checkDescription validates Description: 2-256 characters, no http://
// or https:// prefix.
func checkDescription(s string) *apiError {
	n := utf8.RuneCountInString(s)
	if n < 2 || n > 256 || strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return newErr(http.StatusBadRequest, "InvalidDescription.Malformed",
			"The specified Description is not valid: 2-256 characters, not starting with http:// or https://.")
	}
	return nil
}

// checkTags validates tags to be set (ecs-api.md §2.2, §2.11): keys
// non-empty, at most 128 characters, not starting with aliyun or acs:,
// unique; values at most 128 characters.
func checkTags(tags []Tag) *apiError {
	seen := map[string]bool{}
	for _, t := range tags {
		k := t.TagKey
		if k == "" || utf8.RuneCountInString(k) > 128 || strings.HasPrefix(k, "aliyun") || strings.HasPrefix(k, "acs:") {
			return newErr(http.StatusBadRequest, "InvalidTagKey.Malformed",
				"The tag key %q is not valid: 1-128 characters, not starting with aliyun or acs:.", k)
		}
		if utf8.RuneCountInString(t.TagValue) > 128 {
			return newErr(http.StatusBadRequest, "InvalidTagValue.Malformed",
				"The value of tag %q is longer than 128 characters.", k)
		}
		if seen[k] {
			return newErr(http.StatusBadRequest, "Duplicate.TagKey", "The tag key %q is specified more than once.", k)
		}
		seen[k] = true
	}
	return nil
}
