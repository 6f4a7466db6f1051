package ecs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
)

// APIError is an error answer from the ECS or VPC API: a non-2xx status
// with the API's error code. Use errors.As to get at it. Message has been
// scrubbed of URLs, access keys and tokens.
type APIError struct {
	Action     string // e.g. "AttachNetworkInterface"
	Code       string // e.g. "InvalidOperation.InvalidEniState"; "" when the body was not the API's JSON
	Message    string
	RequestID  string
	HTTPStatus int
}

// Error renders the action, status, code, message and request ID; quote the
// request ID when asking Alibaba Cloud support about a call.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ecs %s: HTTP %d", e.Action, e.HTTPStatus)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (RequestId " + e.RequestID + ")")
	}
	return b.String()
}

// TransportKind says why a call got no usable answer.
type TransportKind string

// Transport failure kinds. All but KindRequest and KindRedirect are
// retried: the request may or may not have reached the API, and every call
// this package makes is safe to repeat.
const (
	KindConnection TransportKind = "connection" // refused, reset or closed without an answer
	KindTimeout    TransportKind = "timeout"    // connect or read timeout
	KindResponse   TransportKind = "response"   // a 2xx answer that could not be decoded
	KindRequest    TransportKind = "request"    // the request could not be built or signed
	// KindRedirect is a 3xx answer. The ECS and VPC APIs never redirect,
	// and following one would resend the signed request, security token
	// included, wherever the answer points (plain HTTP included), so it
	// is refused and not retried.
	KindRedirect TransportKind = "redirect"
)

// TransportError is a call that got no usable answer from the API. Msg has
// been scrubbed of URLs, access keys and tokens.
type TransportError struct {
	Action string
	Kind   TransportKind
	Msg    string
}

// Error renders the action, the kind of failure and the scrubbed cause.
func (e *TransportError) Error() string {
	return fmt.Sprintf("ecs %s: %s error: %s", e.Action, e.Kind, e.Msg)
}

// Timeout reports whether the call timed out.
func (e *TransportError) Timeout() bool { return e.Kind == KindTimeout }

// scrubber removes secrets from text that came from the SDK or the network
// before it enters an error or a log line.
type scrubber struct {
	secrets []string // the literal values and their URL-encoded forms, longest first
}

func newScrubber(c Credentials) *scrubber {
	s := &scrubber{}
	for _, v := range []string{c.AccessKeyID, c.AccessKeySecret, c.SecurityToken} {
		if len(v) < 4 {
			continue // too short to redact without mangling ordinary text
		}
		once := url.QueryEscape(v)
		s.secrets = append(s.secrets, v, once, url.QueryEscape(once), url.PathEscape(v),
			strings.ReplaceAll(once, "+", "%20"))
	}
	slices.SortFunc(s.secrets, func(a, b string) int { return len(b) - len(a) })
	s.secrets = slices.Compact(s.secrets)
	return s
}

var (
	// urlPattern finds absolute URLs. The SDK signs requests into the query
	// string, so a URL in an error may carry AccessKeyId, Signature and
	// SecurityToken.
	urlPattern = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>]+`)
	// paramPattern finds sensitive parameters outside a URL, plain or
	// percent-encoded (the "string to sign" the API echoes holds them
	// encoded twice).
	paramPattern = regexp.MustCompile(`(?i)(AccessKeyId|AccessKeySecret|SecurityToken|Signature|SignatureNonce|sts_token|access_key_secret)(=|%3D|%253D|"\s*:\s*")[^&\s"]*`)
	// stringToSign is where SignatureDoesNotMatch messages start quoting
	// the whole canonical request.
	stringToSign = regexp.MustCompile(`(?is)(server )?string to sign is:.*`)
)

const maxMessage = 512

// clean returns msg without URLs' query strings and fragments, without
// sensitive parameters and known secret values, and at most maxMessage
// bytes long.
func (s *scrubber) clean(msg string) string {
	msg = stringToSign.ReplaceAllString(msg, "[string to sign removed]")
	msg = urlPattern.ReplaceAllStringFunc(msg, redactURL)
	msg = paramPattern.ReplaceAllString(msg, "${1}${2}"+redacted)
	for _, v := range s.secrets {
		msg = strings.ReplaceAll(msg, v, redacted)
	}
	msg = strings.TrimSpace(msg)
	if len(msg) > maxMessage {
		cut := maxMessage
		for cut > 0 && !utf8Start(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// redactURL keeps a URL's scheme, host and path: enough to say where a call
// went, nothing of what it carried.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "[URL removed]"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// wrap turns whatever the SDK returned into *APIError or *TransportError,
// scrubbed. ctx errors pass through so errors.Is(err, context.Canceled)
// works.
func (s *scrubber) wrap(action string, err error) error {
	if err == nil {
		return nil
	}
	var own *TransportError
	var api *APIError
	if errors.As(err, &own) || errors.As(err, &api) {
		return err // made by this package, already clean
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// Only when our own context ended; an http.Client timeout also
		// wraps DeadlineExceeded but is a *url.Error with Timeout().
		var ue *url.Error
		if !errors.As(err, &ue) || !ue.Timeout() {
			return fmt.Errorf("ecs %s: %w", action, contextError(err))
		}
	}
	var re *redirectError
	if errors.As(err, &re) {
		return &TransportError{Action: action, Kind: KindRedirect, Msg: s.clean(re.Error())}
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return &APIError{
			Action:     action,
			Code:       s.clean(se.ErrorCode()),
			Message:    s.clean(se.Message()),
			RequestID:  s.clean(se.RequestId()),
			HTTPStatus: se.HttpStatus(),
		}
	}
	var ce *sdkerrors.ClientError
	if errors.As(err, &ce) {
		kind := KindRequest
		switch ce.ErrorCode() {
		case sdkerrors.JsonUnmarshalErrorCode:
			kind = KindResponse
		case sdkerrors.TimeoutErrorCode:
			kind = KindTimeout
		}
		msg := ce.ErrorCode() + ": " + ce.Message()
		if o := ce.OriginError(); o != nil {
			msg += ": " + describeCause(o)
		}
		return &TransportError{Action: action, Kind: kind, Msg: s.clean(msg)}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		kind := KindConnection
		if ue.Timeout() {
			kind = KindTimeout
		}
		// Never ue.Error(): it quotes the whole signed URL.
		msg := ue.Op + " " + redactURL(ue.URL) + ": " + describeCause(ue.Err)
		return &TransportError{Action: action, Kind: kind, Msg: s.clean(msg)}
	}
	return &TransportError{Action: action, Kind: KindRequest, Msg: s.clean(describeCause(err))}
}

// describeCause renders an underlying error without any *url.Error URL it
// may wrap.
func describeCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + " " + redactURL(ue.URL) + ": " + describeCause(ue.Err)
	}
	return err.Error()
}

func contextError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return context.Canceled
}

// Retry classification. Every action retries throttling, server errors and
// calls without a usable answer; transientCodes adds the state conflicts
// each action is known to clear by itself.
func retryable(action string, err error) bool {
	var te *TransportError
	if errors.As(err, &te) {
		return te.Kind != KindRequest && te.Kind != KindRedirect
	}
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	if ae.HTTPStatus >= 500 {
		return true
	}
	code := ae.Code
	switch {
	// HTTP 400 Throttling, Throttling.User, Throttling.Api, and the
	// Rejected.Throttling TF's NeedRetry also matches (ecs-api.md §5.1,
	// §5.3): the SDK never retries them.
	case strings.Contains(code, "Throttling"):
		return true
	case strings.HasPrefix(code, "ServiceUnavailable"), strings.HasPrefix(code, "InternalError"):
		return true
	case slices.Contains(conflictCodes, code):
		return true
	}
	return slices.Contains(transientCodes(action), code)
}

// conflictCodes say that another operation on the same ENI or instance is
// still in progress: "try again later" for every action that changes
// something. The API reference lists Operation.Conflict (403) for
// AssignPrivateIpAddresses and UnassignPrivateIpAddresses; the common
// error table has OperationConflict (409); the Terraform provider retries
// all three spellings as users met them on attach, detach, delete and
// the instance's secondary addresses (ecs-api.md §5.1-§5.3, §9). They are
// retried with the same capped, fully jittered backoff as throttling, so
// the calls that collide on one instance spread out.
var conflictCodes = []string{"Operation.Conflict", "OperationConflict", "InvalidOperation.Conflict"}

// transientCodes returns the error codes that mean "not now" rather than
// "never" for one action, from what the Terraform provider and Terway retry
// (ecs-api.md §5.3). The attempts are bounded, so a conflict that does not
// clear still ends in an error.
func transientCodes(action string) []string {
	switch action {
	case actCreateENI:
		// TF retries ENI creation while the vSwitch is being changed
		// (IncorrectVSwitchStatus). LastTokenProcessing (§5.1) means the
		// first call with this ClientToken is still running: asking again
		// with the same token returns its result.
		return []string{"IncorrectVSwitchStatus", "LastTokenProcessing"}
	case actAssign, actAssignIPv6:
		// TF (assign/unassign/modify) and Terway (Operation.Conflict): a
		// concurrent change to the same ENI or instance, or an ENI in
		// transition, clears by itself.
		return []string{"Operation.Conflict", "OperationConflict", "InvalidOperation.InvalidEcsState",
			"InvalidOperation.InvalidEniState", "LastTokenProcessing"}
	case actUnassign, actModifyENI, actUnassignIPv6:
		return []string{"Operation.Conflict", "OperationConflict", "InvalidOperation.InvalidEcsState",
			"InvalidOperation.InvalidEniState"}
	case actAttach, actDetach:
		// TF's NetworkInterfaceInvalidOperations. InvalidEniState is
		// first checked against the ENI's actual state (see
		// Client.AttachNetworkInterface): already attached is success.
		return []string{"InvalidOperation.InvalidEniState", "InvalidOperation.InvalidEcsState",
			"InvalidOperation.InvalidEniType", "InvalidOperation.HasMemberEniAttached", "OperationConflict"}
	case actDeleteENI:
		// TF's delete list, with InvalidOperation.InvalidEniType (TF PR
		// #7236) and InvalidOperation.Conflict.
		return []string{"InvalidOperation.InvalidEniState", "InvalidOperation.InvalidEcsState",
			"InvalidOperation.InvalidEniType", "InvalidOperation.Conflict", "OperationConflict"}
	case actRunCommand:
		return []string{"LastTokenProcessing"}
	}
	return nil
}

// AlreadyDone reports whether err is the cloud's way of saying that the
// change an action asks for is already in place, so a repeated call can be
// counted as a success. These are Terway's idempotent-success codes
// (ecs-api.md §5.3):
//
//   - UnassignPrivateIpAddresses: InvalidIp.IpUnassigned (the address is not
//     on the ENI) or InvalidEniId.NotFound (nor is the ENI).
//   - DetachNetworkInterface: InvalidEniId.NotFound or InvalidEcsId.NotFound.
//   - DeleteNetworkInterface: InvalidEniId.NotFound.
//
// The methods of Client already return nil in these cases; AlreadyDone is
// exported for callers that classify errors themselves. An attach that
// finds the ENI already on the same instance is recognised by
// AttachNetworkInterface itself: the error code alone cannot tell it from
// an ENI attached elsewhere.
func AlreadyDone(action string, err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch action {
	case actUnassign, actUnassignIPv6:
		return ae.Code == "InvalidIp.IpUnassigned" || ae.Code == "InvalidEniId.NotFound"
	case actDetach:
		return ae.Code == "InvalidEniId.NotFound" || ae.Code == "InvalidEcsId.NotFound"
	case actDeleteENI:
		return ae.Code == "InvalidEniId.NotFound"
	}
	return false
}

// IsCode reports whether err is an *APIError with the given code.
func IsCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// Action names, as the API spells them.
const (
	actDescribeInstances     = "DescribeInstances"
	actDescribeInstanceTypes = "DescribeInstanceTypes"
	actDescribeENIs          = "DescribeNetworkInterfaces"
	actCreateENI             = "CreateNetworkInterface"
	actAttach                = "AttachNetworkInterface"
	actDetach                = "DetachNetworkInterface"
	actDeleteENI             = "DeleteNetworkInterface"
	actModifyENI             = "ModifyNetworkInterfaceAttribute"
	actAssign                = "AssignPrivateIpAddresses"
	actUnassign              = "UnassignPrivateIpAddresses"
	actTagResources          = "TagResources"
	actDescribeVSwitches     = "DescribeVSwitches"
	actRunCommand            = "RunCommand"
	actDescribeInvocations   = "DescribeInvocationResults"
	actAssignIPv6            = "AssignIpv6Addresses"
	actUnassignIPv6          = "UnassignIpv6Addresses"
)
