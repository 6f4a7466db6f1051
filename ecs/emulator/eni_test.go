package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// create makes an Available ENI in vsw-a and returns its ID.
func (e *env) create(t testing.TB, kv ...string) string {
	t.Helper()
	m := ok(t, e.cl.ecs(t, "CreateNetworkInterface", append([]string{"VSwitchId", "vsw-a", "SecurityGroupId", "sg-a"}, kv...)...))
	return str(m, "NetworkInterfaceId")
}

// attach attaches and lets the transition complete.
func (e *env) attach(t testing.TB, id, inst string) {
	t.Helper()
	ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", inst))
	e.clock.Advance(time.Hour)
}

// TestErrorPaths pins each documented failure to its code and status
// (ecs-api.md §5.1, §5.2). Each case runs on a fresh cloud.
func TestErrorPaths(t *testing.T) {
	type tc struct {
		name   string
		setup  func(t *testing.T, e *env) []string // returns the failing call: action, kv...
		status int
		code   string
	}
	call := func(action string, kv ...string) func(*testing.T, *env) []string {
		return func(*testing.T, *env) []string { return append([]string{action}, kv...) }
	}
	cases := []tc{
		// Parameters.
		{"create without vSwitch", call("CreateNetworkInterface", "SecurityGroupId", "sg-a"), 400, "MissingParameter"},
		{"create without group", call("CreateNetworkInterface", "VSwitchId", "vsw-a"), 400, "MissingParameter"},
		{"create with both group forms", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"SecurityGroupIds.1", "sg-b"), 400, "InvalidParameter.Conflict"},
		{"create with both secondary forms", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"PrivateIpAddress.1", "10.0.1.150", "SecondaryPrivateIpAddressCount", "1"), 400, "InvalidParameter.Conflict"},
		{"create count not a number", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"SecondaryPrivateIpAddressCount", "two"), 400, "InvalidParameter"},
		{"create above the create-time cap", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"SecondaryPrivateIpAddressCount", "50"), 400, "InvalidParameter"},
		{"create bad name", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"NetworkInterfaceName", "1st"), 400, "InvalidNetworkInterfaceName.Malformed"},
		{"create name with URL", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"NetworkInterfaceName", "http://x"), 400, "InvalidNetworkInterfaceName.Malformed"},
		{"create short description", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"Description", "x"), 400, "InvalidDescription.Malformed"},
		{"create reserved tag key", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"Tag.1.Key", "aliyun:x", "Tag.1.Value", "v"), 400, "InvalidTagKey.Malformed"},
		{"create duplicate tag key", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"Tag.1.Key", "k", "Tag.2.Key", "k"), 400, "Duplicate.TagKey"},
		{"create 21 tags", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"Tag.21.Key", "k"), 400, "InvalidParameter"},
		{"create malformed address", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"PrimaryIpAddress", "10.0.1"), 400, "InvalidParameter"},
		{"create IPv6 without a v6 block", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"Ipv6AddressCount", "1"), 403, "InvalidVSwitch.Ipv6NotTurnOn"},
		{"create IPv6 prefix", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"Ipv6PrefixCount", "1"), 400, "UnsupportedParameter"},
		{"bad ClientToken", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"ClientToken", string(make([]byte, 65))), 400, "InvalidParameter"},
		{"assign both forms", call("AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free",
			"PrivateIpAddress.1", "10.0.1.150", "SecondaryPrivateIpAddressCount", "1"), 400, "InvalidParameter.Conflict"},
		{"assign nothing", call("AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free"), 400, "MissingParameter"},
		{"unassign nothing", call("UnassignPrivateIpAddresses", "NetworkInterfaceId", "eni-free"), 400, "MissingParameter"},
		{"list index past 100", call("DescribeNetworkInterfaces", "NetworkInterfaceId.101", "eni-free"), 400, "InvalidParameter"},
		{"page size past 100", call("DescribeNetworkInterfaces", "PageSize", "101"), 400, "InvalidParameter"},
		{"max results past 500", call("DescribeNetworkInterfaces", "MaxResults", "501"), 400, "InvalidParameter"},
		{"instances page size past 100", call("DescribeInstances", "PageSize", "101"), 400, "InvalidParameter"},
		{"instances max results past 100", call("DescribeInstances", "MaxResults", "101"), 400, "InvalidParameter"},
		{"instance ids past 100", func(*testing.T, *env) []string {
			ids := make([]string, 101)
			for i := range ids {
				ids[i] = fmt.Sprintf("%q", fmt.Sprint("i-", i))
			}
			return []string{"DescribeInstances", "InstanceIds", "[" + joinComma(ids) + "]"}
		}, 400, "InvalidParameter"},
		{"bad next token", call("DescribeNetworkInterfaces", "NextToken", "%%%"), 400, "InvalidParameter"},

		// Not found.
		{"attach unknown ENI", call("AttachNetworkInterface", "NetworkInterfaceId", "eni-x", "InstanceId", "i-run"), 404, "InvalidEniId.NotFound"},
		{"attach unknown instance", call("AttachNetworkInterface", "NetworkInterfaceId", "eni-free", "InstanceId", "i-x"), 404, "InvalidEcsId.NotFound"},
		{"create unknown vSwitch", call("CreateNetworkInterface", "VSwitchId", "vsw-x", "SecurityGroupId", "sg-a"), 404, "InvalidVSwitchId.NotFound"},
		{"create unknown group", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-x"), 404, "InvalidSecurityGroupId.NotFound"},
		{"modify unknown group", call("ModifyNetworkInterfaceAttribute", "NetworkInterfaceId", "eni-free", "SecurityGroupId.1", "sg-x"), 404, "InvalidSecurityGroupId.NotFound"},
		{"delete unknown", call("DeleteNetworkInterface", "NetworkInterfaceId", "eni-x"), 404, "InvalidEniId.NotFound"},
		{"tag unknown", call("TagResources", "ResourceType", "eni", "ResourceId.1", "eni-x", "Tag.1.Key", "k"), 404, "InvalidResourceId.NotFound"},
		{"tag unknown type", call("TagResources", "ResourceType", "bucket", "ResourceId.1", "eni-free", "Tag.1.Key", "k"), 404, "InvalidResourceType.NotFound"},
		{"tag instance", call("TagResources", "ResourceType", "instance", "ResourceId.1", "i-run", "Tag.1.Key", "k"), 400, "UnsupportedParameter"},
		{"tag 51 resources", func(*testing.T, *env) []string {
			kv := []string{"TagResources", "ResourceType", "eni", "Tag.1.Key", "k"}
			for i := 1; i <= 51; i++ {
				kv = append(kv, fmt.Sprintf("ResourceId.%d", i), "eni-free")
			}
			return kv
		}, 400, "NumberExceed.ResourceIds"},
		{"tag 21 tags", func(*testing.T, *env) []string {
			kv := []string{"TagResources", "ResourceType", "eni", "ResourceId.1", "eni-free"}
			for i := 1; i <= 21; i++ {
				kv = append(kv, fmt.Sprintf("Tag.%d.Key", i), fmt.Sprint("k", i))
			}
			return kv
		}, 400, "NumberExceed.Tags"},
		{"tag over 20 per resource", func(t *testing.T, e *env) []string {
			kv := []string{"ResourceType", "eni", "ResourceId.1", "eni-free"}
			for i := 1; i <= 20; i++ {
				kv = append(kv, fmt.Sprintf("Tag.%d.Key", i), fmt.Sprint("k", i))
			}
			return append([]string{"TagResources"}, kv...) // eni-free already has "team"
		}, 400, "OperationDenied.QuotaExceed"},

		// ENI state.
		{"attach InUse ENI", call("AttachNetworkInterface", "NetworkInterfaceId", "eni-used", "InstanceId", "i-stop"), 400, "InvalidOperation.InvalidEniState"},
		{"attach Attaching ENI", func(t *testing.T, e *env) []string {
			ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", "eni-free", "InstanceId", "i-stop"))
			return []string{"AttachNetworkInterface", "NetworkInterfaceId", "eni-free", "InstanceId", "i-stop"}
		}, 400, "InvalidOperation.InvalidEniState"},
		{"delete InUse ENI", call("DeleteNetworkInterface", "NetworkInterfaceId", "eni-used"), 400, "InvalidOperation.InvalidEniState"},
		{"detach Available ENI", call("DetachNetworkInterface", "NetworkInterfaceId", "eni-free", "InstanceId", "i-run"), 400, "InvalidOperation.InvalidEniState"},
		{"detach from another instance", call("DetachNetworkInterface", "NetworkInterfaceId", "eni-used", "InstanceId", "i-stop"), 400, "InvalidParameter"},
		{"detach primary", call("DetachNetworkInterface", "NetworkInterfaceId", "eni-prim-run", "InstanceId", "i-run"), 400, "InvalidOperation.DetachPrimaryEniNotAllowed"},
		{"delete primary", call("DeleteNetworkInterface", "NetworkInterfaceId", "eni-prim-run"), 403, "InvalidOperation.InvalidEniType"},
		{"assign while Attaching", func(t *testing.T, e *env) []string {
			ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", "eni-free", "InstanceId", "i-stop"))
			return []string{"AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "SecondaryPrivateIpAddressCount", "1"}
		}, 400, "InvalidOperation.InvalidEniState"},
		{"delete while Deleting", func(t *testing.T, e *env) []string {
			ok(t, e.cl.ecs(t, "DeleteNetworkInterface", "NetworkInterfaceId", "eni-free"))
			return []string{"DeleteNetworkInterface", "NetworkInterfaceId", "eni-free"}
		}, 400, "InvalidOperation.InvalidEniState"},

		// Instance state.
		{"attach to Pending", call("AttachNetworkInterface", "NetworkInterfaceId", "eni-free", "InstanceId", "i-pend"), 400, "InvalidOperation.InvalidEcsState"},
		{"attach to running hot-plug-less type", call("AttachNetworkInterface", "NetworkInterfaceId", "eni-free", "InstanceId", "i-e"), 400, "InvalidOperation.InvalidEcsState"},
		{"assign on primary of Pending", call("AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-prim-pend", "SecondaryPrivateIpAddressCount", "1"), 400, "InvalidOperation.InvalidEcsState"},
		{"unassign on primary of Stopping", func(t *testing.T, e *env) []string {
			if err := e.srv.SetInstanceStatus("i-run", "Stopping"); err != nil {
				t.Fatal(err)
			}
			return []string{"UnassignPrivateIpAddresses", "NetworkInterfaceId", "eni-prim-run", "PrivateIpAddress.1", "10.0.1.11"}
		}, 400, "InvalidOperation.InvalidEcsState"},
		{"detach from Pending", func(t *testing.T, e *env) []string {
			e.attach(t, "eni-free", "i-stop")
			if err := e.srv.SetInstanceStatus("i-stop", "Starting"); err != nil {
				t.Fatal(err)
			}
			return []string{"DetachNetworkInterface", "NetworkInterfaceId", "eni-free", "InstanceId", "i-stop"}
		}, 400, "InvalidOperation.InvalidEcsState"},

		// Placement.
		{"zone mismatch", call("AttachNetworkInterface", "NetworkInterfaceId", "eni-free", "InstanceId", "i-zone"), 403, "InvalidOperation.AvailabilityZoneMismatch"},
		{"group in another VPC", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-o"), 403, "InvalidOperation.VpcMismatch"},
		{"six groups", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupIds.1", "sg-a", "SecurityGroupIds.2", "sg-b",
			"SecurityGroupIds.3", "sg-a", "SecurityGroupIds.4", "sg-a", "SecurityGroupIds.5", "sg-a", "SecurityGroupIds.6", "sg-a"), 400, "JoinedGroupLimitExceed"},

		// Quotas.
		{"ENIs per instance", func(t *testing.T, e *env) []string {
			e.attach(t, e.create(t), "i-run") // primary + eni-used + this = 3 = ecs.g7.large's EniQuantity
			return []string{"AttachNetworkInterface", "NetworkInterfaceId", "eni-free", "InstanceId", "i-run"}
		}, 403, "EniPerInstanceLimitExceeded"},
		{"IPs per attached ENI", func(t *testing.T, e *env) []string {
			// ecs.g7.large: 6 per ENI, primary included; the primary ENI of i-run has 2.
			ok(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-prim-run", "SecondaryPrivateIpAddressCount", "4"))
			return []string{"AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-prim-run", "SecondaryPrivateIpAddressCount", "1"}
		}, 403, "MaxEniPrivateIpsCountExceeded"},
		{"IPs per unattached ENI", func(t *testing.T, e *env) []string {
			// 49 by default (the current reference); eni-free has 1.
			ok(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "SecondaryPrivateIpAddressCount", "48"))
			return []string{"AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "SecondaryPrivateIpAddressCount", "1"}
		}, 403, "MaxEniPrivateIpsCountExceeded"},
		{"attach ENI with more addresses than the type allows", func(t *testing.T, e *env) []string {
			ok(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "SecondaryPrivateIpAddressCount", "9"))
			return []string{"AttachNetworkInterface", "NetworkInterfaceId", "eni-free", "InstanceId", "i-stop"}
		}, 403, "MaxEniPrivateIpsCountExceeded"},
		{"vSwitch exhausted on create", func(t *testing.T, e *env) []string {
			// A /29 has 4 usable addresses.
			ok(t, e.cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-tiny", "SecurityGroupId", "sg-a", "SecondaryPrivateIpAddressCount", "3"))
			return []string{"CreateNetworkInterface", "VSwitchId", "vsw-tiny", "SecurityGroupId", "sg-a"}
		}, 403, "InvalidVSwitchId.IpNotEnough"},
		{"vSwitch exhausted on assign", func(t *testing.T, e *env) []string {
			id := str(ok(t, e.cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-tiny", "SecurityGroupId", "sg-a", "SecondaryPrivateIpAddressCount", "2")), "NetworkInterfaceId")
			return []string{"AssignPrivateIpAddresses", "NetworkInterfaceId", id, "SecondaryPrivateIpAddressCount", "2"}
		}, 403, "QuotaExceeded.PrivateIpAddress"}, // ipquota.go
		{"account ENI quota", func(t *testing.T, e *env) []string {
			for range DefaultMaxNetworkInterfaces - 2 { // eni-free and eni-used exist
				e.create(t)
			}
			return []string{"CreateNetworkInterface", "VSwitchId", "vsw-b", "SecurityGroupId", "sg-b"}
		}, 403, "MaxEniCountExceeded"},

		// Addresses.
		{"reserved network address", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a", "PrimaryIpAddress", "10.0.1.0"), 403, "InvalidVSwitchId.IpInvalid"},
		{"reserved gateway", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a", "PrimaryIpAddress", "10.0.1.253"), 403, "InvalidVSwitchId.IpInvalid"},
		{"reserved broadcast", call("AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "PrivateIpAddress.1", "10.0.1.255"), 403, "InvalidVSwitchId.IpInvalid"},
		{"outside the block", call("AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "PrivateIpAddress.1", "10.0.2.50"), 403, "InvalidVSwitchId.IpInvalid"},
		{"create with a used address", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a", "PrimaryIpAddress", "10.0.1.10"), 400, "InvalidPrivateIpAddress.Duplicated"},
		{"assign another ENI's address", call("AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "PrivateIpAddress.1", "10.0.1.11"), 400, "InvalidPrivateIpAddress.Duplicated"},
		{"assign an address the ENI has", call("AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "PrivateIpAddress.1", "10.0.1.101"), 403, "InvalidIp.IpAssigned"},
		{"same address twice", call("AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "PrivateIpAddress.1", "10.0.1.150", "PrivateIpAddress.2", "10.0.1.150"), 403, "InvalidIp.IpRepeated"},
		{"primary repeated as secondary", call("CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"PrimaryIpAddress", "10.0.1.150", "PrivateIpAddress.1", "10.0.1.150"), 403, "InvalidIp.IpRepeated"},
		{"unassign an address not on the ENI", call("UnassignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "PrivateIpAddress.1", "10.0.1.11"), 403, "InvalidIp.IpUnassigned"},
		{"unassign the primary address", call("UnassignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "PrivateIpAddress.1", "10.0.1.100"), 400, "InvalidParameter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, testWorld(t), Options{AsyncDelay: time.Minute})
			req := c.setup(t, e)
			before := e.srv.State()
			r := e.cl.ecs(t, req[0], req[1:]...)
			wantErr(t, r, c.status, c.code)
			// A refused call changes nothing.
			if diff := stateDiff(before, e.srv.State()); diff != "" {
				t.Errorf("refused %s changed the cloud: %s", req[0], diff)
			}
		})
	}
}

func joinComma(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

// stateDiff names the first difference between two states, or "".
func stateDiff(a, b *World) string {
	ja, jb := mustJSON(a), mustJSON(b)
	if ja == jb {
		return ""
	}
	for i := range min(len(ja), len(jb)) {
		if ja[i] != jb[i] {
			lo := max(0, i-80)
			return fmt.Sprintf("…%s… vs …%s…", ja[lo:min(len(ja), i+80)], jb[lo:min(len(jb), i+80)])
		}
	}
	return "lengths differ"
}

// TestSecurityGroupQuota: 2,000 private addresses per security group,
// primary ENIs included (ecs-api.md §4).
func TestSecurityGroupQuota(t *testing.T) {
	w := testWorld(t)
	w.Quotas.SecurityGroupMaxIps = 12
	e := newEnv(t, w, Options{})
	// sg-a holds: 5 instance primaries (i-run has 2 addresses) = 6, eni-free 2, eni-used 1 = 9.
	ok(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "SecondaryPrivateIpAddressCount", "3"))
	wantErr(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "SecondaryPrivateIpAddressCount", "1"),
		403, "SecurityGroupInstanceLimitExceed")
	wantErr(t, e.cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a"),
		403, "SecurityGroupInstanceLimitExceed")
	// sg-b holds i-win (1) and eni-used (1); moving eni-free (5) in fits, a 13th address in sg-a does not.
	ok(t, e.cl.ecs(t, "ModifyNetworkInterfaceAttribute", "NetworkInterfaceId", "eni-free", "SecurityGroupId.1", "sg-b"))
	ok(t, e.cl.ecs(t, "UnassignPrivateIpAddresses", "NetworkInterfaceId", "eni-prim-run", "PrivateIpAddress.1", "10.0.1.11"))
	ok(t, e.cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a", "SecondaryPrivateIpAddressCount", "5"))
	wantErr(t, e.cl.ecs(t, "ModifyNetworkInterfaceAttribute", "NetworkInterfaceId", "eni-free", "SecurityGroupId.1", "sg-a"),
		403, "SecurityGroupInstanceLimitExceed")
}

// TestAsyncTransitions walks the ENI lifecycle on an injected clock
// (ecs-api.md §3): nothing completes before AsyncDelay, everything after.
func TestAsyncTransitions(t *testing.T) {
	// With the preview fields, to see the device index the cloud gives.
	e := newEnv(t, testWorld(t), Options{AsyncDelay: 30 * time.Second, PreviewFields: ptr(true)})
	status := func(id string) (string, string, int) {
		m := ok(t, e.cl.ecs(t, "DescribeNetworkInterfaces", "NetworkInterfaceId.1", id))
		set := list(m, "NetworkInterfaceSets", "NetworkInterfaceSet")
		if len(set) == 0 {
			return "gone", "", 0
		}
		idx, _ := dig(set[0], "Attachment", "DeviceIndex").(float64)
		return str(set[0], "Status"), str(set[0], "InstanceId"), int(idx)
	}
	expect := func(id, want, inst string, idx int) {
		t.Helper()
		s, i, d := status(id)
		if s != want || i != inst || d != idx {
			t.Fatalf("%s: %s on %q at index %d, want %s on %q at %d", id, s, i, d, want, inst, idx)
		}
	}
	id := e.create(t)
	expect(id, "Available", "", 0) // create is synchronous
	ok(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", "i-run"))
	expect(id, "Attaching", "i-run", 2)
	e.clock.Advance(29 * time.Second)
	expect(id, "Attaching", "i-run", 2)
	e.clock.Advance(time.Second)
	expect(id, "InUse", "i-run", 2)

	ok(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", "i-run"))
	expect(id, "Detaching", "i-run", 2)
	// Re-issuing detach while Detaching is accepted and changes nothing.
	ok(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", "i-run"))
	e.clock.Advance(30 * time.Second)
	expect(id, "Available", "", 0)

	// The freed device index is reused: lowest free ≥ 1.
	ok(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", "eni-used", "InstanceId", "i-run"))
	e.clock.Advance(30 * time.Second)
	e.attach(t, id, "i-run")
	expect(id, "InUse", "i-run", 1)
	ok(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", "i-run"))
	e.clock.Advance(30 * time.Second)

	before := ok(t, e.cl.vpc(t, "DescribeVSwitches", "VSwitchId", "vsw-a"))
	ok(t, e.cl.ecs(t, "DeleteNetworkInterface", "NetworkInterfaceId", id))
	expect(id, "Deleting", "", 0)
	e.clock.Advance(30 * time.Second)
	expect(id, "gone", "", 0)
	after := ok(t, e.cl.vpc(t, "DescribeVSwitches", "VSwitchId", "vsw-a"))
	count := func(m map[string]any) float64 {
		return list(m, "VSwitches", "VSwitch")[0].(map[string]any)["AvailableIpAddressCount"].(float64)
	}
	if count(after) != count(before)+1 {
		t.Errorf("delete released %v addresses, want 1", count(after)-count(before))
	}
	wantErr(t, e.cl.ecs(t, "DeleteNetworkInterface", "NetworkInterfaceId", id), 404, "InvalidEniId.NotFound")
}

// TestAttachNeedsStopped: types without NIC hot-plug attach and detach only
// while Stopped (ecs-api.md §3).
func TestAttachNeedsStopped(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{})
	wantErr(t, e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", "eni-free", "InstanceId", "i-e"), 400, "InvalidOperation.InvalidEcsState")
	if err := e.srv.SetInstanceStatus("i-e", "Stopped"); err != nil {
		t.Fatal(err)
	}
	e.attach(t, "eni-free", "i-e")
	if err := e.srv.SetInstanceStatus("i-e", "Running"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", "eni-free", "InstanceId", "i-e"), 400, "InvalidOperation.InvalidEcsState")
	if err := e.srv.SetInstanceStatus("i-e", "Gone"); err == nil {
		t.Error("SetInstanceStatus accepted an unknown status")
	}
}

// TestAssignOnPrimary: assigning to a primary ENI needs the instance
// Running or Stopped; Stopped works.
func TestAssignOnPrimary(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{})
	m := ok(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-prim-stop", "SecondaryPrivateIpAddressCount", "2"))
	got := list(m, "AssignedPrivateIpAddressesSet", "PrivateIpSet", "PrivateIpAddress")
	if len(got) != 2 {
		t.Fatalf("assigned %v", got)
	}
	var ips []string
	for _, in := range e.srv.State().Instances {
		if in.InstanceId == "i-stop" {
			ips = in.SecondaryPrivateIpAddresses
		}
	}
	for _, a := range got {
		if !slices.Contains(ips, a.(string)) {
			t.Errorf("%v not in the state's %v", a, ips)
		}
	}
	ok(t, e.cl.ecs(t, "UnassignPrivateIpAddresses", "NetworkInterfaceId", "eni-prim-stop",
		"PrivateIpAddress.1", got[0].(string), "PrivateIpAddress.2", got[1].(string)))
	wantErr(t, e.cl.ecs(t, "UnassignPrivateIpAddresses", "NetworkInterfaceId", "eni-prim-stop",
		"PrivateIpAddress.1", got[0].(string)), http.StatusForbidden, "InvalidIp.IpUnassigned")
}

// TestAutoAddressesAvoidReserved fills a vSwitch and checks that no
// reserved address was ever handed out.
func TestAutoAddressesAvoidReserved(t *testing.T) {
	w := testWorld(t)
	w.Quotas.MaxNetworkInterfaces = 1000
	w.Quotas.SecurityGroupMaxIps = 10000
	e := newEnv(t, w, Options{})
	for range 243 {
		e.create(t)
	}
	wantErr(t, e.cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a"), 403, "InvalidVSwitchId.IpNotEnough")
	seen := map[string]bool{}
	for _, n := range e.srv.State().NetworkInterfaces {
		for _, a := range append([]string{n.PrivateIpAddress}, n.SecondaryPrivateIpAddresses...) {
			switch a {
			case "10.0.1.0", "10.0.1.253", "10.0.1.254", "10.0.1.255":
				t.Errorf("reserved %s handed out to %s", a, n.NetworkInterfaceId)
			}
			if seen[a] {
				t.Errorf("%s handed out twice", a)
			}
			seen[a] = true
		}
	}
}

// TestCreatePinnedPrimaryWithCount: the addresses the emulator picks for a
// count never include the primary address the caller pinned in the same
// call (a bug once let them collide in a small vSwitch).
func TestCreatePinnedPrimaryWithCount(t *testing.T) {
	for seed := int64(1); seed <= 40; seed++ {
		e := newEnv(t, testWorld(t), Options{Seed: seed})
		id := e.create(t, "PrimaryIpAddress", "10.0.1.9", "SecondaryPrivateIpAddressCount", "10")
		st := eniState(e.srv, id)
		if slices.Contains(st.SecondaryPrivateIpAddresses, st.PrivateIpAddress) || len(st.SecondaryPrivateIpAddresses) != 10 {
			t.Fatalf("seed %d: primary %s, secondaries %v", seed, st.PrivateIpAddress, st.SecondaryPrivateIpAddresses)
		}
	}
}
