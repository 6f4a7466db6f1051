package sdkcompat

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	ecs "github.com/alibabacloud-go/ecs-20140526/v7/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	vpc "github.com/alibabacloud-go/vpc-20160428/v6/client"

	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// world is a small cloud: one running Linux instance with room for
// secondary ENIs, its vSwitch and security group, a long-term key and an
// STS key.
const world = `{
  "RegionId": "cn-hangzhou",
  "Seed": 14,
  "AccessKeys": [
    {"AccessKeyId": "compat-id", "AccessKeySecret": "compat-secret"},
    {"AccessKeyId": "STS.compat", "AccessKeySecret": "sts-secret", "SecurityToken": "sts-token"}
  ],
  "InstanceTypes": [{"InstanceTypeId": "ecs.g7.large", "EniQuantity": 3, "EniPrivateIpAddressQuantity": 6}],
  "Vpcs": [{"VpcId": "vpc-compat", "CidrBlock": "10.0.0.0/16"}],
  "VSwitches": [{"VSwitchId": "vsw-compat", "VpcId": "vpc-compat", "ZoneId": "cn-hangzhou-h", "CidrBlock": "10.0.1.0/24"}],
  "SecurityGroups": [{"SecurityGroupId": "sg-compat", "VpcId": "vpc-compat"}],
  "Instances": [{"InstanceId": "i-compat", "InstanceName": "web-1", "InstanceType": "ecs.g7.large",
                 "Status": "Running", "OSType": "linux", "OSName": "Ubuntu 22.04 64 bit",
                 "ZoneId": "cn-hangzhou-h", "VSwitchId": "vsw-compat", "PrivateIpAddress": "10.0.1.10",
                 "SecurityGroupIds": ["sg-compat"]}]
}`

// mode is one way the official SDK signs.
type mode struct {
	name string
	// algorithm is Config.SignatureAlgorithm: nil is the SDK's default,
	// ACS3-HMAC-SHA256 (signature v3); "v2" is the RPC HMAC-SHA1.
	algorithm *string
}

var modes = []mode{{"v3 (default)", nil}, {"v2", dara.String("v2")}}

// newServer serves a fresh emulator on loopback. The SDK stamps requests
// with the wall clock, so the emulator keeps it too; transitions take
// 50 ms, so that waiting for InUse is a real wait.
func newServer(t *testing.T) (*emulator.Server, string) {
	t.Helper()
	w, err := emulator.ReadWorld(strings.NewReader(world))
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, w)
}

// serve serves an emulator of w on loopback.
func serve(t *testing.T, w *emulator.World) (*emulator.Server, string) {
	t.Helper()
	runner := func(_ context.Context, c emulator.Command) (emulator.CommandResult, error) {
		return emulator.CommandResult{Output: []byte("ran on " + c.InstanceId + ": " + c.Content)}, nil
	}
	srv, err := emulator.New(w, emulator.Options{AsyncDelay: 50 * time.Millisecond, Runner: runner})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	u, err := url.Parse(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	return srv, u.Host
}

func config(endpoint string, m mode, id, secret, token string) *openapiutil.Config {
	c := &openapiutil.Config{
		AccessKeyId:        dara.String(id),
		AccessKeySecret:    dara.String(secret),
		RegionId:           dara.String("cn-hangzhou"),
		Endpoint:           dara.String(endpoint),
		Protocol:           dara.String("http"),
		SignatureAlgorithm: m.algorithm,
		ReadTimeout:        dara.Int(10000),
		ConnectTimeout:     dara.Int(5000),
	}
	if token != "" {
		c.SecurityToken = dara.String(token)
	}
	return c
}

func clients(t *testing.T, endpoint string, m mode) (*ecs.Client, *vpc.Client) {
	t.Helper()
	e, err := ecs.NewClient(config(endpoint, m, "compat-id", "compat-secret", ""))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vpc.NewClient(config(endpoint, m, "compat-id", "compat-secret", ""))
	if err != nil {
		t.Fatal(err)
	}
	return e, v
}

// code is the service error code the SDK decoded, or "".
func code(err error) string {
	var se *tea.SDKError
	if errors.As(err, &se) {
		return dara.StringValue(se.Code)
	}
	return ""
}

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// TestLifecycle drives the ENI lifecycle ecsnet uses with the official
// SDK, in each signing mode: read the instance, its type and its vSwitch;
// create ENIs with tags and addresses; page through them; assign and
// unassign addresses; tag; attach and wait for InUse; run a command and
// read its result; detach, wait for Available, delete.
func TestLifecycle(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv, endpoint := newServer(t)
			ec, vc := clients(t, endpoint, m)
			region := dara.String("cn-hangzhou")

			inst := must[*ecs.DescribeInstancesResponse](t, "DescribeInstances")(ec.DescribeInstances(&ecs.DescribeInstancesRequest{
				RegionId: region, InstanceIds: dara.String(`["i-compat"]`)}))
			is := inst.Body.Instances.Instance
			if len(is) != 1 || dara.StringValue(is[0].Status) != "Running" || dara.StringValue(is[0].InstanceType) != "ecs.g7.large" {
				t.Fatalf("DescribeInstances: %s", dara.Prettify(inst.Body))
			}

			types := must[*ecs.DescribeInstanceTypesResponse](t, "DescribeInstanceTypes")(ec.DescribeInstanceTypes(&ecs.DescribeInstanceTypesRequest{
				InstanceTypes: []*string{dara.String("ecs.g7.large")}}))
			ts := types.Body.InstanceTypes.InstanceType
			if len(ts) != 1 || dara.Int32Value(ts[0].EniQuantity) != 3 || dara.Int32Value(ts[0].EniPrivateIpAddressQuantity) != 6 {
				t.Fatalf("DescribeInstanceTypes: %s", dara.Prettify(types.Body))
			}

			vsw := must[*vpc.DescribeVSwitchesResponse](t, "DescribeVSwitches")(vc.DescribeVSwitches(&vpc.DescribeVSwitchesRequest{
				RegionId: region, VSwitchId: dara.String("vsw-compat")}))
			vs := vsw.Body.VSwitches.VSwitch
			if len(vs) != 1 || dara.StringValue(vs[0].CidrBlock) != "10.0.1.0/24" || dara.Int64Value(vs[0].AvailableIpAddressCount) == 0 {
				t.Fatalf("DescribeVSwitches: %s", dara.Prettify(vsw.Body))
			}

			// Three ENIs, so that paging by two takes two pages. The
			// ClientToken makes a retried create idempotent.
			var ids []string
			for i := range 3 {
				req := &ecs.CreateNetworkInterfaceRequest{
					RegionId: region, VSwitchId: dara.String("vsw-compat"),
					SecurityGroupIds:               []*string{dara.String("sg-compat")},
					NetworkInterfaceName:           dara.String(fmt.Sprintf("compat-%d", i)),
					SecondaryPrivateIpAddressCount: dara.Int32(1),
					ClientToken:                    dara.String(fmt.Sprintf("compat-%s-%d", m.name, i)),
					Tag:                            []*ecs.CreateNetworkInterfaceRequestTag{{Key: dara.String("managed-by"), Value: dara.String("ecsnet test")}},
				}
				cr := must[*ecs.CreateNetworkInterfaceResponse](t, "CreateNetworkInterface")(ec.CreateNetworkInterface(req))
				id := dara.StringValue(cr.Body.NetworkInterfaceId)
				if !strings.HasPrefix(id, "eni-") {
					t.Fatalf("CreateNetworkInterface: %s", dara.Prettify(cr.Body))
				}
				again := must[*ecs.CreateNetworkInterfaceResponse](t, "CreateNetworkInterface again")(ec.CreateNetworkInterface(req))
				if got := dara.StringValue(again.Body.NetworkInterfaceId); got != id {
					t.Fatalf("the same ClientToken created %s and then %s", id, got)
				}
				ids = append(ids, id)
			}

			// Token paging, as ecsnet reads the fleet's ENIs.
			var seen []string
			var next *string
			for pages := 0; ; pages++ {
				if pages > 3 {
					t.Fatal("DescribeNetworkInterfaces: NextToken never ran out")
				}
				page := must[*ecs.DescribeNetworkInterfacesResponse](t, "DescribeNetworkInterfaces")(ec.DescribeNetworkInterfaces(
					&ecs.DescribeNetworkInterfacesRequest{RegionId: region, Type: dara.String("Secondary"),
						MaxResults: dara.Int32(2), NextToken: next,
						Tag: []*ecs.DescribeNetworkInterfacesRequestTag{{Key: dara.String("managed-by"), Value: dara.String("ecsnet test")}}}))
				for _, e := range page.Body.NetworkInterfaceSets.NetworkInterfaceSet {
					seen = append(seen, dara.StringValue(e.NetworkInterfaceId))
					if n := len(e.PrivateIpSets.PrivateIpSet); n != 2 {
						t.Errorf("%s has %d addresses, want a primary and 1 secondary", dara.StringValue(e.NetworkInterfaceId), n)
					}
				}
				next = page.Body.NextToken
				if dara.StringValue(next) == "" {
					break
				}
			}
			slices.Sort(seen)
			want := slices.Sorted(slices.Values(ids))
			if !slices.Equal(seen, want) {
				t.Fatalf("paged ENIs %v, want %v", seen, want)
			}
			// Page mode too, as aliyun --pager and older clients use it.
			pg := must[*ecs.DescribeNetworkInterfacesResponse](t, "DescribeNetworkInterfaces by page")(ec.DescribeNetworkInterfaces(
				&ecs.DescribeNetworkInterfacesRequest{RegionId: region, Type: dara.String("Secondary"), PageNumber: dara.Int32(2), PageSize: dara.Int32(2)}))
			if n := len(pg.Body.NetworkInterfaceSets.NetworkInterfaceSet); n != 1 || dara.Int32Value(pg.Body.TotalCount) != 3 {
				t.Errorf("page 2 of 2: %d ENIs of %d, want 1 of 3", n, dara.Int32Value(pg.Body.TotalCount))
			}

			eni := ids[0]
			as := must[*ecs.AssignPrivateIpAddressesResponse](t, "AssignPrivateIpAddresses")(ec.AssignPrivateIpAddresses(&ecs.AssignPrivateIpAddressesRequest{
				RegionId: region, NetworkInterfaceId: dara.String(eni),
				PrivateIpAddress: []*string{dara.String("10.0.1.200"), dara.String("10.0.1.201")}}))
			if got := as.Body.AssignedPrivateIpAddressesSet.PrivateIpSet.PrivateIpAddress; len(got) != 2 {
				t.Errorf("AssignPrivateIpAddresses assigned %v", dara.StringSliceValue(got))
			}
			must[*ecs.UnassignPrivateIpAddressesResponse](t, "UnassignPrivateIpAddresses")(ec.UnassignPrivateIpAddresses(&ecs.UnassignPrivateIpAddressesRequest{
				RegionId: region, NetworkInterfaceId: dara.String(eni), PrivateIpAddress: []*string{dara.String("10.0.1.201")}}))
			must[*ecs.TagResourcesResponse](t, "TagResources")(ec.TagResources(&ecs.TagResourcesRequest{
				RegionId: region, ResourceType: dara.String("eni"), ResourceId: []*string{dara.String(eni)},
				Tag: []*ecs.TagResourcesRequestTag{{Key: dara.String("ecsnet:slot"), Value: dara.String("1")}}}))
			got := describe(t, ec, eni)
			addrs := []string{}
			for _, a := range got.PrivateIpSets.PrivateIpSet {
				addrs = append(addrs, dara.StringValue(a.PrivateIpAddress))
			}
			if !slices.Contains(addrs, "10.0.1.200") || slices.Contains(addrs, "10.0.1.201") || len(addrs) != 3 {
				t.Errorf("after assign and unassign the ENI holds %v", addrs)
			}
			tags := map[string]string{}
			for _, tg := range got.Tags.Tag {
				tags[dara.StringValue(tg.TagKey)] = dara.StringValue(tg.TagValue)
			}
			if tags["ecsnet:slot"] != "1" || tags["managed-by"] != "ecsnet test" {
				t.Errorf("tags %v", tags)
			}
			if got.MacAddress == nil || dara.StringValue(got.MacAddress) == "" {
				t.Error("no MacAddress: ecsnet identifies interfaces by it")
			}

			must[*ecs.AttachNetworkInterfaceResponse](t, "AttachNetworkInterface")(ec.AttachNetworkInterface(&ecs.AttachNetworkInterfaceRequest{
				RegionId: region, NetworkInterfaceId: dara.String(eni), InstanceId: dara.String("i-compat")}))
			waitStatus(t, ec, eni, "InUse")
			if id := dara.StringValue(describe(t, ec, eni).InstanceId); id != "i-compat" {
				t.Errorf("InUse ENI has InstanceId %q", id)
			}

			script := "ip -br link"
			run := must[*ecs.RunCommandResponse](t, "RunCommand")(ec.RunCommand(&ecs.RunCommandRequest{
				RegionId: region, Type: dara.String("RunShellScript"), InstanceId: []*string{dara.String("i-compat")},
				CommandContent: dara.String(base64.StdEncoding.EncodeToString([]byte(script))), ContentEncoding: dara.String("Base64"),
				Timeout: dara.Int64(60)}))
			invoke := dara.StringValue(run.Body.InvokeId)
			if invoke == "" {
				t.Fatalf("RunCommand: %s", dara.Prettify(run.Body))
			}
			out := waitInvocation(t, ec, invoke)
			if want := "ran on i-compat: " + script; out != want {
				t.Errorf("command output %q, want %q", out, want)
			}

			must[*ecs.DetachNetworkInterfaceResponse](t, "DetachNetworkInterface")(ec.DetachNetworkInterface(&ecs.DetachNetworkInterfaceRequest{
				RegionId: region, NetworkInterfaceId: dara.String(eni), InstanceId: dara.String("i-compat")}))
			waitStatus(t, ec, eni, "Available")
			for _, id := range ids {
				must[*ecs.DeleteNetworkInterfaceResponse](t, "DeleteNetworkInterface")(ec.DeleteNetworkInterface(&ecs.DeleteNetworkInterfaceRequest{
					RegionId: region, NetworkInterfaceId: dara.String(id)}))
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				left := must[*ecs.DescribeNetworkInterfacesResponse](t, "DescribeNetworkInterfaces")(ec.DescribeNetworkInterfaces(
					&ecs.DescribeNetworkInterfacesRequest{RegionId: region, Type: dara.String("Secondary"), MaxResults: dara.Int32(10)}))
				if len(left.Body.NetworkInterfaceSets.NetworkInterfaceSet) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("ENIs still there after delete: %s", dara.Prettify(left.Body))
				}
				time.Sleep(20 * time.Millisecond)
			}

			// Every request above passed the gateway and reached its
			// action: nothing was refused for its signature or shape.
			calls := srv.Calls()
			for _, a := range []string{"DescribeInstances", "DescribeInstanceTypes", "DescribeVSwitches", "CreateNetworkInterface",
				"DescribeNetworkInterfaces", "AssignPrivateIpAddresses", "UnassignPrivateIpAddresses", "TagResources",
				"AttachNetworkInterface", "RunCommand", "DescribeInvocationResults", "DetachNetworkInterface", "DeleteNetworkInterface"} {
				if calls[a] == 0 {
					t.Errorf("%s never reached the emulator: %v", a, calls)
				}
			}
		})
	}
}

func describe(t *testing.T, ec *ecs.Client, id string) *ecs.DescribeNetworkInterfacesResponseBodyNetworkInterfaceSetsNetworkInterfaceSet {
	t.Helper()
	r := must[*ecs.DescribeNetworkInterfacesResponse](t, "DescribeNetworkInterfaces")(ec.DescribeNetworkInterfaces(&ecs.DescribeNetworkInterfacesRequest{
		RegionId: dara.String("cn-hangzhou"), NetworkInterfaceId: []*string{dara.String(id)}}))
	s := r.Body.NetworkInterfaceSets.NetworkInterfaceSet
	if len(s) != 1 {
		t.Fatalf("DescribeNetworkInterfaces %s: %s", id, dara.Prettify(r.Body))
	}
	return s[0]
}

func waitStatus(t *testing.T, ec *ecs.Client, id, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := dara.StringValue(describe(t, ec, id).Status)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %s after 10 s, want %s", id, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitInvocation polls DescribeInvocationResults until the invocation
// finishes and returns its decoded output.
func waitInvocation(t *testing.T, ec *ecs.Client, invoke string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := must[*ecs.DescribeInvocationResultsResponse](t, "DescribeInvocationResults")(ec.DescribeInvocationResults(&ecs.DescribeInvocationResultsRequest{
			RegionId: dara.String("cn-hangzhou"), InvokeId: dara.String(invoke), ContentEncoding: dara.String("PlainText")}))
		rs := r.Body.Invocation.InvocationResults.InvocationResult
		if len(rs) == 1 && dara.StringValue(rs[0].InvocationStatus) == "Success" {
			if c := dara.Int64Value(rs[0].ExitCode); c != 0 {
				t.Errorf("exit code %d", c)
			}
			return dara.StringValue(rs[0].Output)
		}
		if len(rs) == 1 && dara.StringValue(rs[0].InvokeRecordStatus) == "Finished" {
			t.Fatalf("invocation finished without success: %s", dara.Prettify(r.Body))
		}
		if time.Now().After(deadline) {
			t.Fatalf("invocation %s not done after 10 s: %s", invoke, dara.Prettify(r.Body))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCredentials: the SDK's STS credentials work in both modes, and the
// SDK decodes the gateway's refusals into their codes.
func TestCredentials(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			_, endpoint := newServer(t)
			call := func(id, secret, token string) error {
				ec, err := ecs.NewClient(config(endpoint, m, id, secret, token))
				if err != nil {
					t.Fatal(err)
				}
				_, err = ec.DescribeInstances(&ecs.DescribeInstancesRequest{RegionId: dara.String("cn-hangzhou")})
				return err
			}
			if err := call("STS.compat", "sts-secret", "sts-token"); err != nil {
				t.Errorf("STS key with its token: %v", err)
			}
			for _, c := range []struct {
				id, secret, token, want string
			}{
				{"compat-id", "wrong", "", "SignatureDoesNotMatch"},
				{"nobody", "compat-secret", "", "InvalidAccessKeyId.NotFound"},
				{"compat-id", "compat-secret", "sts-token", "InvalidSecurityToken.MismatchWithAccessKey"},
				{"STS.compat", "sts-secret", "other", "InvalidSecurityToken.Malformed"},
			} {
				if got := code(call(c.id, c.secret, c.token)); got != c.want {
					t.Errorf("key %s with token %q: code %q, want %q", c.id, c.token, got, c.want)
				}
			}
		})
	}
}
