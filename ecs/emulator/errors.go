package emulator

import (
	"fmt"
	"net/http"
)

// apiError is an error answer: a non-2xx status and the service's code. The
// SDK turns any non-2xx into a ServerError and never reads Code on a 2xx
// (ecs-api.md §1.6), so every failure must carry an error status.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newErr(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// errorBody is the service's error document (ecs-api.md §1.6).
type errorBody struct {
	RequestId string `json:"RequestId"`
	HostId    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Recommend string `json:"Recommend"`
}

// Common errors (ecs-api.md §5.1).

func errMissing(name string) *apiError {
	return newErr(http.StatusBadRequest, "MissingParameter",
		"The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

func errInvalid(name, why string) *apiError {
	return newErr(http.StatusBadRequest, "InvalidParameter", "The specified parameter %q is not valid: %s.", name, why)
}

func errUnsupported(name, why string) *apiError {
	return newErr(http.StatusBadRequest, "UnsupportedParameter",
		"The parameter %q is not supported by the emulator: %s.", name, why)
}

func errConflict(a, b string) *apiError {
	return newErr(http.StatusBadRequest, "InvalidParameter.Conflict",
		"The parameters %q and %q cannot be specified together.", a, b)
}

// ENI-action errors (ecs-api.md §5.2).

func errENINotFound(id string) *apiError {
	return newErr(http.StatusNotFound, "InvalidEniId.NotFound", "The specified NetworkInterfaceId %q does not exist.", id)
}

func errECSNotFound(id string) *apiError {
	return newErr(http.StatusNotFound, "InvalidEcsId.NotFound", "The specified InstanceId %q does not exist.", id)
}

func errVSwitchNotFound(id string) *apiError {
	return newErr(http.StatusNotFound, "InvalidVSwitchId.NotFound", "The specified VSwitchId %q does not exist.", id)
}

func errGroupNotFound(id string) *apiError {
	return newErr(http.StatusNotFound, "InvalidSecurityGroupId.NotFound",
		"The specified SecurityGroupId %q does not exist.", id)
}

func errENIState(e *eni, op string) *apiError {
	return newErr(http.StatusBadRequest, "InvalidOperation.InvalidEniState",
		"The ENI %s is %s; %s is not allowed in this state.", e.id, e.status, op)
}

func errECSState(in *instance, op string) *apiError {
	return newErr(http.StatusBadRequest, "InvalidOperation.InvalidEcsState",
		"The instance %s is %s; %s is not allowed in this state.", in.id, in.status, op)
}

func errIPNotEnough(v *vswitch) *apiError {
	return newErr(http.StatusForbidden, "InvalidVSwitchId.IpNotEnough",
		"The specified VSwitch %q has not enough IpAddress.", v.id)
}

func errIPInvalid(v *vswitch, a string) *apiError {
	return newErr(http.StatusForbidden, "InvalidVSwitchId.IpInvalid",
		"The private IP address %s is not usable in vSwitch %s (%s): it is outside the block or reserved.", a, v.id, v.cidr)
}

func errIPDuplicated(a string) *apiError {
	return newErr(http.StatusBadRequest, "InvalidPrivateIpAddress.Duplicated",
		"Specified private IP address is duplicated: %s is already in use.", a)
}

func errIPRepeated(a string) *apiError {
	return newErr(http.StatusForbidden, "InvalidIp.IpRepeated", "The IP address %s appears more than once in the request.", a)
}

func errIPsPerENI(e *eni, limit int, why string) *apiError {
	return newErr(http.StatusForbidden, "MaxEniPrivateIpsCountExceeded",
		"The ENI %s would carry more private IP addresses than allowed (%d, %s).", e.id, limit, why)
}

// The documentation has no code for "2,000 private addresses per security
// group"; SecurityGroupInstanceLimitExceed is the security-group capacity
// code the ENI APIs list (ecs-api.md §5.2) and the closest in meaning.
func errGroupFull(g *group, limit int) *apiError {
	return newErr(http.StatusForbidden, "SecurityGroupInstanceLimitExceed",
		"The security group %s would hold more than %d private IP addresses.", g.id, limit)
}

// Gateway errors (ecs-api.md §1.3, §5.1).

func errThrottling() *apiError {
	return newErr(http.StatusBadRequest, "Throttling", "Request was denied due to request throttling.")
}

func errThrottlingUser() *apiError {
	return newErr(http.StatusBadRequest, "Throttling.User", "Request was denied due to user flow control.")
}

func errInternal() *apiError {
	return newErr(http.StatusInternalServerError, "InternalError",
		"The request processing has failed due to some unknown error, exception or failure.")
}

func errUnavailable() *apiError {
	return newErr(http.StatusServiceUnavailable, "ServiceUnavailable",
		"The request has failed due to a temporary failure of the server.")
}
