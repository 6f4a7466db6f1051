// Package guest owns what ecsnet runs inside an instance and what it
// reads back: the Cloud Assistant payloads that install a rendered bundle
// with backup, verification and rollback (Payload), their split under
// RunCommand's size limit (Invocations), the exit codes they end with
// (Exit), and the live network state a verify payload prints (ParseLive)
// with its comparison against the desired state (Drift).
//
// Its scripts are files under scripts/, embedded with //go:embed. guest
// wraps render's bundles and never talks to the cloud: package ecs runs
// what it builds, and plan and render do not import it
// (internal/deps holds the rule).
package guest
