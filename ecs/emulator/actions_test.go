package emulator

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/internal/golden"
)

// TestActionGoldens walks every action's happy path once and pins each
// response byte for byte: the SDK ignores unknown and missing keys, so only
// a golden file notices a renamed or mis-nested key (ecs-api.md §2).
func TestActionGoldens(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{AsyncDelay: 10 * time.Second})
	cl := e.cl
	check := func(name string, r response) map[string]any {
		t.Helper()
		golden.Check(t, filepath.Join("testdata", name+".golden"), goldenBytes(r))
		return r.json(t)
	}

	check("describe_instances", cl.ecs(t, "DescribeInstances", "InstanceIds", `["i-run","i-win"]`,
		"AdditionalAttributes.1", "NETWORK_PRIMARY_ENI_IP"))
	check("describe_instances_plain", cl.ecs(t, "DescribeInstances", "InstanceIds", `["i-run"]`))
	check("describe_instance_types", cl.ecs(t, "DescribeInstanceTypes",
		"InstanceTypes.1", "ecs.g7.large", "InstanceTypes.2", "ecs.e-c1m2.large"))
	check("describe_vswitches", cl.vpc(t, "DescribeVSwitches", "VpcId", "vpc-test"))

	m := check("create_network_interface", cl.ecs(t, "CreateNetworkInterface",
		"VSwitchId", "vsw-a", "SecurityGroupIds.1", "sg-a", "SecondaryPrivateIpAddressCount", "2",
		"NetworkInterfaceName", "shop-vip", "Description", "the shop VIP",
		"Tag.1.Key", "ecsnet:fleet", "Tag.1.Value", "shop", "Tag.2.Key", "ecsnet:eni", "Tag.2.Value", "vip",
		"ClientToken", "create-vip-1"))
	id := str(m, "NetworkInterfaceId")
	if !strings.HasPrefix(id, "eni-") || len(id) != 24 {
		t.Errorf("NetworkInterfaceId %q is not shaped like eni- plus 20 characters", id)
	}

	check("attach_network_interface", cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", "i-run"))
	check("describe_network_interfaces_attaching", cl.ecs(t, "DescribeNetworkInterfaces", "NetworkInterfaceId.1", id))
	e.clock.Advance(10 * time.Second)
	check("describe_network_interfaces", cl.ecs(t, "DescribeNetworkInterfaces", "InstanceId", "i-run",
		"MaxResults", "500"))
	check("describe_network_interfaces_tagged", cl.ecs(t, "DescribeNetworkInterfaces", "VpcId", "vpc-test",
		"Tag.1.Key", "team", "PageSize", "100"))

	check("assign_private_ip_addresses", cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", id,
		"PrivateIpAddress.1", "10.0.1.201", "PrivateIpAddress.2", "10.0.1.200", "ClientToken", "assign-1"))
	check("unassign_private_ip_addresses", cl.ecs(t, "UnassignPrivateIpAddresses", "NetworkInterfaceId", id,
		"PrivateIpAddress.1", "10.0.1.200"))
	check("modify_network_interface_attribute", cl.ecs(t, "ModifyNetworkInterfaceAttribute", "NetworkInterfaceId", id,
		"SecurityGroupId.1", "sg-a", "SecurityGroupId.2", "sg-b", "Description", "the shop VIP, moved"))
	check("tag_resources", cl.ecs(t, "TagResources", "ResourceType", "eni", "ResourceId.1", id, "ResourceId.2", "eni-free",
		"Tag.1.Key", "owner", "Tag.1.Value", "ops"))
	check("list_tag_resources", cl.ecs(t, "ListTagResources", "ResourceType", "eni", "Tag.1.Key", "owner"))
	check("untag_resources", cl.ecs(t, "UntagResources", "ResourceType", "eni", "ResourceId.1", id, "TagKey.1", "owner"))

	check("detach_network_interface", cl.ecs(t, "DetachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", "i-run"))
	e.clock.Advance(10 * time.Second)
	check("delete_network_interface", cl.ecs(t, "DeleteNetworkInterface", "NetworkInterfaceId", id))
	check("describe_network_interfaces_deleting", cl.ecs(t, "DescribeNetworkInterfaces", "NetworkInterfaceId.1", id))

	m = check("run_command", cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "ip -br addr",
		"InstanceId.1", "i-run", "InstanceId.2", "i-e", "Timeout", "30", "ClientToken", "run-1"))
	inv := str(m, "InvokeId")
	check("describe_invocation_results_running", cl.ecs(t, "DescribeInvocationResults", "InvokeId", inv))
	e.clock.Advance(10 * time.Second)
	check("describe_invocation_results", cl.ecs(t, "DescribeInvocationResults", "InvokeId", inv))

	check("error_not_found", cl.ecs(t, "DeleteNetworkInterface", "NetworkInterfaceId", "eni-nope"))
	check("error_vpc", cl.vpc(t, "DescribeVSwitches", "PageSize", "51"))
	check("describe_invocations", cl.ecs(t, "DescribeInvocations", "InvokeId", inv, "IncludeOutput", "true"))
	check("describe_cloud_assistant_status", cl.ecs(t, "DescribeCloudAssistantStatus",
		"InstanceId.1", "i-run", "InstanceId.2", "i-stop"))
	check("stop_instance", cl.ecs(t, "StopInstance", "InstanceId", "i-e", "StoppedMode", "StopCharging"))
}

// TestDescribeInstancesPrimaryIPs: the primary ENI's secondary addresses
// show only with NETWORK_PRIMARY_ENI_IP.
func TestDescribeInstancesPrimaryIPs(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{})
	sets := func(kv ...string) []string {
		m := ok(t, e.cl.ecs(t, "DescribeInstances", append([]string{"InstanceIds", `["i-run"]`}, kv...)...))
		inst := list(m, "Instances", "Instance")[0]
		var ips []string
		for _, n := range list(inst, "NetworkInterfaces", "NetworkInterface") {
			if str(n, "Type") != "Primary" {
				continue
			}
			for _, s := range list(n, "PrivateIpSets", "PrivateIpSet") {
				ips = append(ips, str(s, "PrivateIpAddress"))
			}
		}
		return ips
	}
	if got := sets(); !slices.Equal(got, []string{"10.0.1.10"}) {
		t.Errorf("without the attribute: %v", got)
	}
	if got := sets("AdditionalAttributes.1", "NETWORK_PRIMARY_ENI_IP"); !slices.Equal(got, []string{"10.0.1.10", "10.0.1.11"}) {
		t.Errorf("with NETWORK_PRIMARY_ENI_IP: %v", got)
	}
}

func TestDescribeFilters(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{})
	count := func(r response, path ...string) int {
		t.Helper()
		return len(list(ok(t, r), path...))
	}
	enis := func(kv ...string) int {
		t.Helper()
		return count(e.cl.ecs(t, "DescribeNetworkInterfaces", append(kv, "PageSize", "100")...),
			"NetworkInterfaceSets", "NetworkInterfaceSet")
	}
	insts := func(kv ...string) int {
		t.Helper()
		return count(e.cl.ecs(t, "DescribeInstances", append(kv, "PageSize", "100")...), "Instances", "Instance")
	}
	for _, c := range []struct {
		name string
		got  int
		want int
	}{
		{"all ENIs", enis(), 8},
		{"VPC", enis("VpcId", "vpc-test"), 8},
		{"other VPC", enis("VpcId", "vpc-other"), 0},
		{"unknown VPC", enis("VpcId", "vpc-nope"), 0},
		{"vSwitch", enis("VSwitchId", "vsw-b"), 1},
		{"instance", enis("InstanceId", "i-run"), 2},
		{"Secondary", enis("Type", "Secondary"), 2},
		{"Primary", enis("Type", "Primary"), 6},
		{"Available", enis("Status", "Available"), 1},
		{"ids", enis("NetworkInterfaceId.1", "eni-free", "NetworkInterfaceId.2", "eni-used", "NetworkInterfaceId.3", "eni-x"), 2},
		{"tag key", enis("Tag.1.Key", "team"), 1},
		{"tag value", enis("Tag.1.Key", "team", "Tag.1.Value", "db"), 1},
		{"tag wrong value", enis("Tag.1.Key", "team", "Tag.1.Value", "web"), 0},
		{"secondary address", enis("PrivateIpAddress.1", "10.0.1.101"), 1},
		{"primary address", enis("PrimaryIpAddress", "10.0.1.100"), 1},
		{"group", enis("SecurityGroupId", "sg-b"), 2},
		{"name", enis("NetworkInterfaceName", "legacy"), 1},
		{"service managed", enis("ServiceManaged", "true"), 0},
		{"instances", insts(), 6},
		{"instance ids", insts("InstanceIds", `["i-run","i-nope","i-run"]`), 1},
		{"instance zone", insts("ZoneId", "cn-hangzhou-i"), 1},
		{"instance status", insts("Status", "Stopped"), 1},
		{"instance vpc", insts("VpcId", "vpc-test"), 6},
		{"instance type family", insts("InstanceTypeFamily", "ecs.e"), 1},
		{"instance address", insts("PrivateIpAddresses", `["10.0.1.20"]`), 1},
		{"instance group", insts("SecurityGroupId", "sg-b"), 1},
		{"instance name", insts("InstanceName", "web-1"), 1},
		{"types", count(e.cl.ecs(t, "DescribeInstanceTypes"), "InstanceTypes", "InstanceType"), len(allTypes(e))},
		{"type family", count(e.cl.ecs(t, "DescribeInstanceTypes", "InstanceTypeFamily", "ecs.g7"), "InstanceTypes", "InstanceType"), 9},
		{"vswitches zone", count(e.cl.vpc(t, "DescribeVSwitches", "ZoneId", "cn-hangzhou-h"), "VSwitches", "VSwitch"), 3},
		{"vswitches default", count(e.cl.vpc(t, "DescribeVSwitches", "IsDefault", "true"), "VSwitches", "VSwitch"), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d results, want %d", c.name, c.got, c.want)
		}
	}
	// Filters the emulator does not model are refused, not ignored.
	wantErr(t, e.cl.ecs(t, "DescribeInstances", "Tag.1.Key", "x"), 400, "UnsupportedParameter")
	wantErr(t, e.cl.ecs(t, "DescribeNetworkInterfaces", "ResourceGroupId", "rg-1"), 400, "UnsupportedParameter")
	wantErr(t, e.cl.ecs(t, "DescribeInstanceTypes", "MinimumEniQuantity", "3"), 400, "UnsupportedParameter")
	wantErr(t, e.cl.ecs(t, "DescribeInstances", "InstanceIds", `i-run`), 400, "InvalidParameter")
	wantErr(t, e.cl.ecs(t, "DescribeNetworkInterfaces", "Status", "Broken"), 400, "InvalidParameter")
}

func allTypes(e *env) []string {
	e.srv.mu.Lock()
	defer e.srv.mu.Unlock()
	var out []string
	for id := range e.srv.cloud.types {
		out = append(out, id)
	}
	return out
}

// TestAvailableIpAddressCount: a /24 has 252 usable addresses (the first
// and the last three are reserved, ecs-api.md §4); the count drops with
// every address held and rises when one is released.
func TestAvailableIpAddressCount(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{})
	avail := func(id string) int {
		m := ok(t, e.cl.vpc(t, "DescribeVSwitches", "VSwitchId", id))
		n, _ := list(m, "VSwitches", "VSwitch")[0].(map[string]any)["AvailableIpAddressCount"].(float64)
		return int(n)
	}
	if got := avail("vsw-b"); got != 251 {
		t.Errorf("vsw-b (one instance): %d available, want 251", got)
	}
	// vsw-a holds 6 instance addresses... count them from the world.
	used := 0
	for _, in := range e.srv.State().Instances {
		if in.VSwitchId == "vsw-a" {
			used += 1 + len(in.SecondaryPrivateIpAddresses)
		}
	}
	used += 3 // eni-free (2) and eni-used (1)
	if got := avail("vsw-a"); got != 252-used {
		t.Errorf("vsw-a: %d available, want %d", got, 252-used)
	}
	if got := avail("vsw-tiny"); got != 4 {
		t.Errorf("/29: %d available, want 4", got)
	}
	ok(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "SecondaryPrivateIpAddressCount", "3"))
	if got := avail("vsw-a"); got != 252-used-3 {
		t.Errorf("after assigning 3: %d available, want %d", got, 252-used-3)
	}
}

// TestRunCommandRunner: the Runner seam receives the decoded script and its
// result comes back through DescribeInvocationResults.
func TestRunCommandRunner(t *testing.T) {
	w := testWorld(t)
	got := make(chan Command, 2)
	runner := func(_ context.Context, c Command) (CommandResult, error) {
		got <- c
		if c.InstanceId == "i-stop" {
			return CommandResult{}, nil
		}
		return CommandResult{ExitCode: 3, Output: []byte("hello\n")}, nil
	}
	e := newEnv(t, w, Options{Runner: runner})
	m := ok(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "ContentEncoding", "Base64",
		"CommandContent", "ZWNobyBoZWxsbw==", "InstanceId.1", "i-run", "Username", "admin"))
	c := <-got
	if c.Content != "echo hello" || c.InstanceId != "i-run" || c.Username != "admin" || c.Timeout != time.Minute {
		t.Errorf("runner got %+v", c)
	}
	inv := str(m, "InvokeId")
	var res map[string]any
	for range 1000 {
		r := ok(t, e.cl.ecs(t, "DescribeInvocationResults", "InvokeId", inv, "ContentEncoding", "PlainText"))
		res = list(r, "Invocation", "InvocationResults", "InvocationResult")[0].(map[string]any)
		if str(res, "InvokeRecordStatus") != "Running" {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// A non-zero exit is a failure in every field a client may read
	// (issue 14: the CLI saw success).
	if str(res, "InvocationStatus") != "Failed" || str(res, "InvokeRecordStatus") != "Failed" ||
		str(res, "ErrorCode") != "ExitCodeNonzero" ||
		res["ExitCode"].(float64) != 3 || str(res, "Output") != "hello\n" || str(res, "Username") != "admin" {
		t.Errorf("result: %v", res)
	}
	// RunCommand's documented codes (api-ecs-2014-05-26-runcommand).
	wantErr(t, e.cl.ecs(t, "RunCommand", "Type", "RunPowerShellScript", "CommandContent", "dir",
		"InstanceId.1", "i-run"), 403, "InvalidInstance.NotMatch")
	wantErr(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "true",
		"InstanceId.1", "i-stop"), 403, "InvalidInstance.NotMatch")
	wantErr(t, e.cl.ecs(t, "RunCommand", "Type", "Shell", "CommandContent", "true",
		"InstanceId.1", "i-run"), 403, "InvalidCmdType.NotFound")
	many := []string{"Type", "RunShellScript", "CommandContent", "true"}
	for i := range 51 {
		many = append(many, fmt.Sprintf("InstanceId.%d", i+1), fmt.Sprintf("i-%03d", i))
	}
	wantErr(t, e.cl.ecs(t, "RunCommand", many...), 403, "InstanceIds.ExceedLimit")
	wantErr(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "true",
		"InstanceId.1", "i-nope"), 404, "InvalidInstance.NotFound")
	wantErr(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "true",
		"InstanceId.1", "i-run", "RepeatMode", "Period"), 400, "UnsupportedParameter")
	wantErr(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "InstanceId.1", "i-run"), 400, "MissingParameter")
}
