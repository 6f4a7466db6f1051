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
//	  "PreviewFields": false,
//	  "Quotas": {"MaxNetworkInterfaces": 100, "UnboundEniMaxSecondaryIps": 49,
//	             "SecurityGroupMaxIps": 2000, "CreateMaxSecondaryIps": 49, "MaxSecurityGroupsPerEni": 5},
//	  "InstanceTypes": [{"InstanceTypeId": "ecs.g7.large", "EniQuantity": 3,
//	                     "EniPrivateIpAddressQuantity": 6, "AttachNeedsStopped": false,
//	                     "EniIpv6AddressQuantity": 6, "NetworkCardQuantity": 1, "MaximumQueueNumberPerEni": 2}],
//	  "Vpcs": [{"VpcId": "vpc-…", "CidrBlock": "10.0.0.0/16"}],
//	  "VSwitches": [{"VSwitchId": "vsw-…", "VpcId": "vpc-…", "ZoneId": "cn-hangzhou-h", "CidrBlock": "10.0.1.0/24",
//	                 "Ipv6CidrBlock": "2408:4005:3aa:1b00::/64"}],
//	  "SecurityGroups": [{"SecurityGroupId": "sg-…", "VpcId": "vpc-…"}],
//	  "Instances": [{"InstanceId": "i-…", "InstanceName": "web-1", "InstanceType": "ecs.g7.large",
//	                 "Status": "Running", "OSType": "linux", "OSName": "Ubuntu 22.04 64位",
//	                 "ZoneId": "cn-hangzhou-h", "VSwitchId": "vsw-…", "PrivateIpAddress": "10.0.1.10",
//	                 "NetworkInterfaceId": "eni-…", "MacAddress": "00:16:3e:…",
//	                 "SecurityGroupIds": ["sg-…"], "SecondaryPrivateIpAddresses": ["10.0.1.11"],
//	                 "Ipv6Addresses": ["2408:4005:3aa:1b00::10"], "Ipv4Prefixes": ["10.0.1.16/28"],
//	                 "EcsnetAgent": "Running"}],
//	  "NetworkInterfaces": [{"NetworkInterfaceId": "eni-…", "NetworkInterfaceName": "…", "Description": "…",
//	                 "VSwitchId": "vsw-…", "SecurityGroupIds": ["sg-…"], "PrivateIpAddress": "10.0.1.20",
//	                 "SecondaryPrivateIpAddresses": [], "MacAddress": "00:16:3e:…", "Status": "InUse",
//	                 "InstanceId": "i-…", "DeviceIndex": 1, "Tags": [{"TagKey": "k", "TagValue": "v"}],
//	                 "Ipv6Addresses": [], "Ipv4Prefixes": [], "NetworkCardIndex": 0, "QueueNumber": 0}]
//	}
//
// Instances carry their primary ENI; NetworkInterfaces are the secondary
// ENIs that already exist. PreviewFields shows the API's
// invitational-preview fields (see Account below). EcsnetAgent is not an
// API field: the instance's Cloud Assistant agent is Running (the
// default), NotInstalled, Stopped or Hung. Two more instance fields are
// not the API's:
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
// Without Options.Runner or hosts mode (ecsnet emulator without --hosts),
// every Cloud Assistant command ends Success with exit code 0, as the
// API answers, and the one line of output "ecsnet emulator: not
// executed: start the emulator with --hosts to run scripts": no script
// ran, and ecsnet reports the host as not executed, never configured.
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
//   - NetworkManager, networkd and netplan run for real when there is a
//     guest root (HostsConfig.GuestRoot; ecsnet emulator --guest-root,
//     by default the one `ecsnet emulator --build-guest-root` or `make
//     guest-root` caches): a Debian 12 root (internal/guestroot) booted by
//     systemd-nspawn in the guest's network namespace (the NICs as above),
//     with the stack's daemon enabled as the distribution enables it
//     (NetworkManager.service; systemd-networkd, netplan's generator at
//     boot), under an overlay whose upper layer is the guest's own: /etc
//     and /var persist across Stop/Start/Reboot, /run is the guest's
//     tmpfs and is lost. Before every boot the emulator replays
//     cloud-init's per-boot network render for the primary ENI (cloud-init
//     devel net-convert on the machine: netplan 50-cloud-init.yaml,
//     networkd 10-cloud-init-eth0.network, NetworkManager
//     cloud-init-eth0.nmconnection; ifupdown hosts get interfaces.d's
//     50-cloud-init the same way), and when the wire side serves DHCP
//     (dnsmasq installed) the guest's own stack takes the primary ENI by
//     DHCP; otherwise its address is set with ip before boot, as for the
//     namespace guests. A boot ends when the guest's systemd has started
//     every unit (running or degraded), NetworkManager its startup, and
//     eth0 has its address; its time is logged (Host.BootTimes). Commands
//     enter the guest's PID 1's namespaces with nsenter; what the
//     rehearsal changes from a real host is guestroot.Rewrites. Without a
//     guest root these hosts are recorded as below, with a reason that
//     says how to get one.
//   - wicked, ifcfg (initscripts) and Windows need a daemon or an OS that
//     cannot run here: their commands are recorded and parse-checked (bash -n; for PowerShell a structural
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
// ExecStart of the units it enabled in multi-user.target.wants; a booted
// guest's systemd starts its units itself). A booted guest is powered off
// first (SIGTERM to systemd-nspawn, which asks its systemd to shut down;
// killed after 30 s). The API call that completes the transition waits
// for the boot.
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
// # Account
//
// What a real account sees beyond the world's resources:
//
//   - Preview fields. The API reference marks Attachment (DeviceIndex,
//     InstanceId, NetworkCardIndex) in DescribeNetworkInterfaces and in
//     DescribeNetworkInterfaceAttribute as an invitational preview,
//     unavailable for general users. World PreviewFields,
//     Options.PreviewFields or ecsnet emulator --preview-fields shows them;
//     DefaultPreviewFields is what a world that does not say gets.
//     DescribeNetworkInterfaceAttribute's NetworkCardIndex, documented for
//     every account, is shown to every account when the attach gave a card.
//   - Cloud Assistant agents (EcsnetAgent, Server.SetAgent). A command to
//     an agent that is not installed or stopped ends Aborted with
//     ClientNotRunning; to a hung agent, it stays Running until its
//     Timeout and ends Timeout with ClientNotResponse. Neither reports an
//     ExitCode. DescribeCloudAssistantStatus says "false" for the first
//     two and for an instance that is not Running, "true" for a hung
//     agent (its heartbeat goes on).
//   - Instance power. StopInstance, StartInstance and RebootInstance pass
//     through Stopping and Starting for AsyncDelay each; a command on an
//     instance that is not Running is refused (InvalidInstance.NotMatch),
//     and one running when its instance stops ends with
//     InstanceNotRunning. SetInstanceStatus changes the status at once,
//     as a console would.
//
// # API reference
//
// Each action follows its page of the current API reference (parameters,
// response fields, error codes), ecs-api.md where it records what the SDK
// sends, and the choices below where the pages are silent:
//
//   - ECS 2014-05-26, https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-<action>
//     for <action> (lower case) in describeinstances, describeinstancetypes,
//     describenetworkinterfaces, describenetworkinterfaceattribute,
//     createnetworkinterface, attachnetworkinterface, detachnetworkinterface,
//     deletenetworkinterface, modifynetworkinterfaceattribute,
//     assignprivateipaddresses, unassignprivateipaddresses,
//     assignipv6addresses, unassignipv6addresses, tagresources,
//     untagresources, listtagresources, runcommand,
//     describeinvocationresults, describeinvocations,
//     describecloudassistantstatus, stopinstance, startinstance,
//     rebootinstance.
//   - VPC 2016-04-28 DescribeVSwitches,
//     https://www.alibabacloud.com/help/en/vpc/developer-reference/api-vpc-2016-04-28-describevswitches
//   - Signatures: https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature
//     (v3) and https://www.alibabacloud.com/help/doc-detail/42775.htm
//     (RPC, HMAC-SHA1, ecs-api.md §1.3).
//   - Idempotence: https://www.alibabacloud.com/help/en/ecs/developer-reference/how-to-ensure-idempotence
//   - Limits: https://www.alibabacloud.com/help/en/ecs/user-guide/overview-of-instance-families
//     (per-type ENI quotas, in package schema's table).
//   - IP prefixes: https://www.alibabacloud.com/help/en/ecs/user-guide/ip-prefix
//     (/28, aligned, one slot of the per-ENI quota each; ipv6.go has the
//     rest, with the 2021 reference's error tables where the current pages
//     list none).
//
// # Choices where the cloud is ambiguous (ecs-api.md §8)
//
//   - Unattached ENIs carry at most 49 secondary addresses, and
//     CreateNetworkInterface takes at most 49, as the current reference
//     (assignprivateipaddresses, createnetworkinterface) says; the 2021
//     documentation and user guide said 10, which a world sets in
//     Quotas.UnboundEniMaxSecondaryIps and CreateMaxSecondaryIps. ecsnet's
//     validator defaults to 49 too (limits.unboundEniMaxSecondaryIps).
//   - NextToken is opaque standard Base64 that always holds '+', '/' and
//     '=' (the real ones do; a client that fails to encode them is caught),
//     and page mode answers one too, as aliyun --pager expects. TotalCount
//     is left out in token mode, where the pages call it invalid.
//   - A vSwitch out of addresses answers QuotaExceeded.PrivateIpAddress to
//     AssignPrivateIpAddresses by count and InvalidVSwitchId.IpNotEnough
//     to CreateNetworkInterface: the cloud answers both for the same
//     exhaustion and publishes no rule (Terway PR #720; ipquota.go).
//   - RunCommand refuses the whole call (403 InvalidInstance.NotMatch)
//     when one instance is not Running or its OS does not suit the script
//     type: the code's documented advice is to check the instance's
//     status. InvokeRecordStatus is the task's aggregate (Finished,
//     Failed, PartialFailed) on every row.
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
//   - IPv6 and IPv4 prefixes (ipv6.go): a vSwitch's IPv6 block is a /64 of
//     which the network address and the last nine are reserved; a /28
//     prefix takes 16 addresses of its vSwitch and one slot of the ENI's
//     EniPrivateIpAddressQuantity; a call never carries addresses and
//     prefixes together (InvalidParameter.Conflict, as Terway says ECS
//     refuses); a vSwitch with free addresses but no free aligned /28
//     answers InvalidVSwitchId.IpNotEnough and says so; prefixes come from
//     the whole block (vSwitch CIDR reservations are not modelled) and do
//     not count towards the 2,000 addresses of a security group;
//     Ipv6Prefix.N and Ipv6PrefixCount are not modelled. Ipv6Sets and
//     Ipv4PrefixSets are left out when empty, QueueNumber when never set
//     (the emulator does not know the type's default queue count).
//   - NetworkCardIndex is 0 to the type's NetworkCardQuantity-1, else
//     InvalidParameter; it shows only in the preview Attachment.
//     QueueNumber changes only on a secondary ENI that is Available or on
//     a Stopped instance, up to MaximumQueueNumberPerEni (checked on
//     attach too); TotalEniQueueQuantity is not modelled.
//   - Requests without Format=JSON are refused (the cloud would answer
//     XML); parameters the real API has but the emulator does not model
//     are refused with UnsupportedParameter rather than ignored.
package emulator
