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
// of the world's access keys exactly as the SDKs sign them, with either
// signature the gateway takes: the RPC signature (HMAC-SHA1, the legacy
// SDK's and the current SDKs' "v2"; ecs-api.md §1.3) or signature v3
// (ACS3-HMAC-SHA256, the current SDKs' default; auth_v3.go, after
// https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature).
// internal/sdkcompat drives the emulator with the official Go SDK in both.
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
// ENIs that already exist. Two instance fields are not the API's:
// EcsnetOS and EcsnetNetwork say what the guest runs, as the desired
// state's os and network fields name it (e.g. "EcsnetOS": "linux" for an
// image run with the generic iproute2 stack, "EcsnetNetwork": "networkd"
// for a Debian image on systemd-networkd); hosts mode reads them. Left
// out, the OS is guessed from OSName as ecsnet import --all guesses it
// (unknown names give "linux", or windows2022 for OSType windows) and the
// stack is the OS's default. Zero quotas take the defaults (the Default
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
// # Hosts mode
//
// With Options.Hosts (ecsnet emulator --hosts; root only) every instance
// also gets a guest, and Cloud Assistant commands reach it. What a guest
// does with a command depends on its family (EcsnetOS/EcsnetNetwork, or
// the guess from OSName):
//
//   - ifupdown (Debian 8-13, Ubuntu 14.04/16.04) and iproute2 (os
//     "linux") run for real. The guest is a network namespace whose eth0
//     is a veth with the primary ENI's MAC, holding the primary address
//     with a default route via the vSwitch gateway (protocol dhcp, as a
//     DHCP client leaves it); the veths' far ends sit in a per-guest
//     "wire" namespace, so nothing reaches the machine's network. It also
//     has its own mount and UTS namespaces: /etc and /var are overlays of
//     the machine's (read-only below, the guest's writes in its own tree),
//     /run, /tmp and /root are its own, /sys shows its interfaces, the
//     hostname is the instance name. The image's network directories
//     (/etc/network, /etc/netplan, /etc/NetworkManager, /etc/systemd/network,
//     /etc/sysconfig, /etc/wicked, /etc/cloud, /etc/ecsnet, /var/lib/ecsnet)
//     are hidden and replaced by the family's: on ifupdown an
//     /etc/network/interfaces that sources interfaces.d the way the release
//     does (source-directory on Debian 8, *.cfg on Ubuntu 14.04/16.04),
//     cloud-init's 50-cloud-init bringing eth0 up by DHCP, empty hook
//     directories, and ifupdown's state in /run/network saying lo and eth0
//     are up. Tools are the machine's (ifupdown, iproute2, bash).
//   - NetworkManager, netplan, wicked, networkd, ifcfg (initscripts) and
//     Windows need a daemon or an OS that cannot run here: their commands
//     are recorded and parse-checked (bash -n; for PowerShell a structural
//     check of brackets, strings, here-strings and comments), and answer
//     Success with an output line saying so ("recorded, not executed"),
//     or Failed with the checker's message and bash's exit code 2
//     (PowerShell: 1) when the check fails.
//
// A RunShellScript command on a real guest is saved as
// /run/ecsnet-emulator/commands/<InvokeId>.sh and run by bash as root
// (whatever Username says) in WorkingDir (default /root), with stdin from
// /dev/null, a clean environment and the command's Timeout, after which
// its whole process group is killed. stdout and stderr together are the
// Output; DescribeInvocationResults answers as for any Runner: Success or
// Failed with ExitCode and ErrorCode ExitCodeNonzero, Timeout with
// ExecutionTimeout, the last 24 KB of output with Dropped.
//
// Hardware follows the API. An ENI that completes Attaching appears as
// eth<device index> with its MAC, down (as a hot-plugged NIC does); one
// that completes Detaching vanishes, found by MAC. SetInstanceStatus to a
// status other than Running halts the guest (its processes are killed,
// its namespaces and live network state go; /etc, /var and /root stay);
// back to Running it boots: fresh /run and /tmp, eth0 by DHCP, its NICs,
// then what its configuration brings up at boot (ifup -a on ifupdown, the
// ExecStart of the units it enabled in multi-user.target.wants).
//
// Go API for tests: Server.Host(instanceID) and Server.Hosts return the
// guests (nil without hosts mode). A Host tells its family (OS, Stack,
// Runs), whether it is Up and its Netns name, the Commands it received
// with their results (Executed or only recorded), its BootLog and Err
// (failed hardware changes). Exec runs a command inside it (its
// namespaces and files) with optional stdin, and ReadFile and WriteFile
// read and change its files: that is how a test changes a host by hand
// (ip addr del, a file edited) to make drift. Links, Addrs, Rules and
// Routes(table) read its live state with ip -j.
//
// Namespaces are named ecsnet-emu-<pid>-<n>-<instance ID> (the wire ones
// end in -w; ip netns list shows them), the mount and UTS namespaces are
// kept by bind mounts under /run/ecsnet-emu, the trees live in
// <HostsConfig.Dir or TMPDIR>/ecsnet-emu-<pid>-<n>-*. Server.Close (and
// the command's shutdown on SIGINT or SIGTERM) removes them all; a new
// hosts-mode server first removes what emulators that no longer run left
// behind (a kill -9). The isolation keeps bundles away from the machine's
// files and network and from each other; it is not a security boundary
// (the scripts run as root in the machine's PID namespace).
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
