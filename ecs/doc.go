// Package ecs is ecsnet's client for the Alibaba Cloud ECS (2014-05-26) and
// VPC (2016-04-28) APIs, built on github.com/aliyun/alibaba-cloud-sdk-go.
// It makes only the calls ecsnet needs, and adds what the SDK leaves out:
//
//   - HTTPS to the real cloud (the SDK defaults to plain HTTP); plain HTTP is
//     accepted only for a loopback endpoint such as the emulator.
//   - No redirect is ever followed, for API calls or for the ECS RAM role's
//     key from the metadata service: a 3xx answer is an error of kind
//     KindRedirect, so a signed request never travels anywhere but the
//     endpoint configured.
//   - Retries with exponential backoff and full jitter for throttling, server
//     errors, lost connections, timeouts and the transient state conflicts
//     each action is known for (the SDK retries none of these by default, and
//     never HTTP 400 Throttling). Waits honour the context.
//   - A client-side token bucket per action, so a large apply stays inside
//     the account's API budget instead of being throttled by it.
//   - Idempotence: CreateNetworkInterface, AssignPrivateIpAddresses and
//     RunCommand take the caller's ClientToken and send the same one on every
//     retry; the calls without a token treat the cloud's "already done"
//     answers as success (see AlreadyDone).
//   - Typed errors (*APIError, *TransportError) from which signed URLs,
//     access keys, secrets and security tokens have been scrubbed.
//   - Context cancellation of requests in flight (the SDK has no context).
//
// Observe reads the part of a region a fleet touches into a plan.Observed
// with a known number of calls. Client is the concrete cloud that plan's
// executor drives: the executor declares the small interface it needs, and
// Client satisfies it.
//
// The package reads no environment variables and no files on its own:
// credentials come from Config, which the command fills with
// CredentialsFromEnv or CredentialsFromProfile. The instance metadata
// address is contacted only when Config.UseECSRAMRole names a role. One
// hidden input remains in the SDK itself: DEBUG=sdk in the environment at
// start-up makes it print signed request URLs to standard output.
package ecs
