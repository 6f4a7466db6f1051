// Package guest owns what ecsnet runs inside an instance and what it
// reads back: the Cloud Assistant payloads that install a rendered bundle
// with backup, verification and rollback (Payload, HostPayload), their
// split under RunCommand's size limit (Invocations), the exit codes they
// end with (Exit), the rule that decides what may be pushed to a host
// given the lock (Pushable, LockedPayloads), and verify: the live network
// state a verify payload prints (ParseLive), its comparison against the
// desired state (Drift), and each host's verdict as a typed report
// (Verify, Report), and each host step's outcome as every report of
// push and apply --hosts prints it (Outcome, OutcomeOf): decided from the
// payload's own result line, so that a host whose script did not run is
// "not executed", never applied (NotExecuted).
//
// Its scripts are files under scripts/, embedded with //go:embed. guest
// wraps render's bundles into plan's host payloads and never talks to the
// cloud: package ecs runs what it builds (through plan.HostRunner), and
// plan and render do not import it (internal/deps holds the rule).
package guest
