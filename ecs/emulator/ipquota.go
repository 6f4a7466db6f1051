package emulator

import "net/http"

// A vSwitch out of addresses. The API reference lists 403
// InvalidVSwitchId.IpNotEnough for CreateNetworkInterface and
// AssignPrivateIpAddresses, and ECS also answers 403
// QuotaExceeded.PrivateIpAddress for the same exhaustion: Terway, which
// assigns secondary addresses by count, had to accept both ("ECS
// typically returns InvalidVSwitchId.IpNotEnough but occasionally the
// error is QuotaExceeded.PrivateIpAddress",
// https://github.com/AliyunContainerService/terway/pull/720). No rule for
// the choice is published. The emulator makes it deterministic, so that
// a client meets both codes in a rehearsal: AssignPrivateIpAddresses with
// SecondaryPrivateIpAddressCount (automatic assignment, the path of that
// report) answers QuotaExceeded.PrivateIpAddress; CreateNetworkInterface
// answers InvalidVSwitchId.IpNotEnough.
func errIPQuotaExceeded(v *vswitch) *apiError {
	return newErr(http.StatusForbidden, "QuotaExceeded.PrivateIpAddress",
		"The private IP addresses of VSwitch %q are used up: it has %d free.", v.id, v.free())
}
