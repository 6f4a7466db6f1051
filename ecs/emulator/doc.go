// Package emulator is a local ECS and VPC RPC API: the cloud that ecsnet's
// tests, its demo and users' offline rehearsals run against. No public ECS
// emulator exists, and a mock that shares Go types with the client would
// only test the client against itself; this one speaks the wire protocol
// (signed RPC requests in, the service's JSON out), so the real SDK's
// encoding, signing and error decoding are exercised, and code that passes
// against it must work against the cloud. Where the emulator cannot tell
// what the cloud does, it picks the stricter answer.
//
// # Serving
//
// A Server is an http.Handler. Serve it with httptest.NewServer in tests or
// on a loopback listener (ecsnet emulator --listen ADDR --world FILE), and
// point the SDK clients at it (client.Domain = "127.0.0.1:PORT", scheme
// HTTP). The RPC API answers GET and POST on "/": ECS actions with Version
// 2014-05-26, VPC actions with 2016-04-28. Requests must be signed with one
// of the world's access keys exactly as the SDK signs them.
//
// Admin endpoints, on the same handler, GET only and unauthenticated,
// because they exist for tests and for people watching a rehearsal:
//
//	/_emulator/calls           {"Calls":{"Action":n,…},"MutatingCalls":n}
//	/_emulator/state           the current cloud as a world file (no AccessKeys)
//	/_emulator/reset-counters  the counters as they were, then zeroes them
//
// Faults never apply to them.
//
// # World file
//
// The initial cloud is a JSON document with the API's own field names
// (ReadWorld rejects unknown keys, duplicate IDs, dangling references and
// addresses outside or reserved in their vSwitch):
//
//	{
//	  "RegionId": "cn-hangzhou",
//	  "Seed": 1,
//	  "AccessKeys": [{"AccessKeyId": "…", "AccessKeySecret": "…", "SecurityToken": "optional"}],
//	  "Quotas": {"MaxNetworkInterfaces": 100, "UnboundEniMaxSecondaryIps": 10,
//	             "SecurityGroupMaxIps": 2000, "CreateMaxSecondaryIps": 10, "MaxSecurityGroupsPerEni": 5},
//	  "InstanceTypes": [{"InstanceTypeId": "ecs.g7.large", "EniQuantity": 3,
//	                     "EniPrivateIpAddressQuantity": 6, "AttachNeedsStopped": false}],
//	  "Vpcs": [{"VpcId": "vpc-…", "CidrBlock": "10.0.0.0/16"}],
//	  "VSwitches": [{"VSwitchId": "vsw-…", "VpcId": "vpc-…", "ZoneId": "cn-hangzhou-h", "CidrBlock": "10.0.1.0/24"}],
//	  "SecurityGroups": [{"SecurityGroupId": "sg-…", "VpcId": "vpc-…"}],
//	  "Instances": [{"InstanceId": "i-…", "InstanceName": "web-1", "InstanceType": "ecs.g7.large",
//	                 "Status": "Running", "OSType": "linux", "OSName": "Ubuntu 22.04 64位",
//	                 "ZoneId": "cn-hangzhou-h", "VSwitchId": "vsw-…", "PrivateIpAddress": "10.0.1.10",
//	                 "NetworkInterfaceId": "eni-…", "MacAddress": "00:16:3e:…",
//	                 "SecurityGroupIds": ["sg-…"], "SecondaryPrivateIpAddresses": ["10.0.1.11"]}],
//	  "NetworkInterfaces": [{"NetworkInterfaceId": "eni-…", "NetworkInterfaceName": "…", "Description": "…",
//	                 "VSwitchId": "vsw-…", "SecurityGroupIds": ["sg-…"], "PrivateIpAddress": "10.0.1.20",
//	                 "SecondaryPrivateIpAddresses": [], "MacAddress": "00:16:3e:…", "Status": "InUse",
//	                 "InstanceId": "i-…", "DeviceIndex": 1, "Tags": [{"TagKey": "k", "TagValue": "v"}]}]
//	}
//
// Instances carry their primary ENI; NetworkInterfaces are the secondary
// ENIs that already exist. Zero quotas take the defaults (the Default
// constants); InstanceTypes override or extend the built-in table of
// package schema. An instance's NetworkInterfaceId, MacAddress and
// PrivateIpAddress, and an ENI's NetworkInterfaceId, MacAddress and
// PrivateIpAddress, may be left out and are then derived from the seed.
// Status defaults to Running for instances and to InUse or Available (by
// InstanceId) for ENIs. A world is taken as observed: quotas limit only the
// changes made through the API.
//
// # Time and determinism
//
// Two clocks run. The emulator clock (Options.Now) ages async transitions,
// QPS buckets and nonces and checks request Timestamps. Response
// timestamps (CreationTime, StartTime, FinishedTime) come from a logical
// clock that starts at 2024-01-01T00:00:00Z and advances one second per
// state change. IDs, MACs, auto-assigned addresses, RequestIds and fault
// rolls derive from the seed and per-purpose counters, so the same world
// and the same call sequence give the same cloud and the same bytes (given
// a fixed Options.Now, or AsyncDelay 0).
//
// # Choices where the cloud is ambiguous (ecs-api.md §8)
//
//   - Unattached ENIs carry at most 10 secondary addresses (2021 docs; now
//     49): Quotas.UnboundEniMaxSecondaryIps.
//   - EniPrivateIpAddressQuantity counts the primary address.
//   - InvalidAccessKeyId.NotFound is 404, as observed, not 400 as documented.
//   - ClientTokens are remembered for the server's life; a replay answers
//     the first body under a fresh RequestId.
//   - "2,000 addresses per security group" answers
//     SecurityGroupInstanceLimitExceed; "ENI attached to another instance"
//     on detach answers InvalidParameter; deleting a primary ENI answers
//     InvalidOperation.InvalidEniType; an unattached ENI with more
//     addresses than the target type allows per ENI cannot be attached
//     (MaxEniPrivateIpsCountExceeded).
//   - Tag-filtered DescribeNetworkInterfaces sees the first 1,000 matching
//     ENIs by ID, TotalCount included.
//   - DescribeInstances lists the primary ENI and InUse secondary ENIs; the
//     primary's secondary addresses only with NETWORK_PRIMARY_ENI_IP.
//   - Requests without Format=JSON are refused (the cloud would answer
//     XML); parameters the real API has but the emulator does not model
//     are refused with UnsupportedParameter rather than ignored.
package emulator
