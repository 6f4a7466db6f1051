package emulator

import (
	"errors"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	ecssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	vpcsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"

	"github.com/ecsnet/ecsnet/internal/golden"
)

// v6World is the test world with what issue 17 needs: vsw-a has an IPv6
// /64; vsw-frag is a /26 whose two usable /28s each hold one address (a
// fragmented block: free addresses, no free aligned /28); ecs.g7.large
// takes 3 IPv6 addresses per ENI and 4 queues; ecs.test.dual has two
// network cards; ecs.test.nov6 has no IPv6.
func v6World(t testing.TB) *World {
	t.Helper()
	w := testWorld(t)
	w.VSwitches[0].Ipv6CidrBlock = "2408:4005:3aa:1b00::/64"
	w.VSwitches = append(w.VSwitches, VSwitch{VSwitchId: "vsw-frag", VpcId: "vpc-test", ZoneId: "cn-hangzhou-h",
		CidrBlock: "10.0.4.0/26"})
	w.InstanceTypes = append(w.InstanceTypes,
		InstanceType{InstanceTypeId: "ecs.g7.large", EniIpv6AddressQuantity: 3, MaximumQueueNumberPerEni: 4},
		InstanceType{InstanceTypeId: "ecs.test.dual", EniQuantity: 4, EniPrivateIpAddressQuantity: 10,
			EniIpv6AddressQuantity: 10, NetworkCardQuantity: 2},
		InstanceType{InstanceTypeId: "ecs.test.nov6", EniQuantity: 3, EniPrivateIpAddressQuantity: 6})
	w.Instances = append(w.Instances,
		Instance{InstanceId: "i-dual", InstanceType: "ecs.test.dual", VSwitchId: "vsw-a", PrivateIpAddress: "10.0.1.60",
			NetworkInterfaceId: "eni-prim-dual", MacAddress: "00:16:3e:00:00:07", SecurityGroupIds: []string{"sg-a"},
			Ipv6Addresses: []string{"2408:4005:3aa:1b00::60"}},
		Instance{InstanceId: "i-nov6", InstanceType: "ecs.test.nov6", VSwitchId: "vsw-a", PrivateIpAddress: "10.0.1.70",
			NetworkInterfaceId: "eni-prim-nov6", MacAddress: "00:16:3e:00:00:08", SecurityGroupIds: []string{"sg-a"}})
	w.NetworkInterfaces = append(w.NetworkInterfaces,
		NetworkInterface{NetworkInterfaceId: "eni-frag", VSwitchId: "vsw-frag", SecurityGroupIds: []string{"sg-a"},
			PrivateIpAddress: "10.0.4.20", SecondaryPrivateIpAddresses: []string{"10.0.4.40"}},
		NetworkInterface{NetworkInterfaceId: "eni-pfx", VSwitchId: "vsw-a", SecurityGroupIds: []string{"sg-a"},
			PrivateIpAddress: "10.0.1.120", Ipv4Prefixes: []string{"10.0.1.128/28"},
			Ipv6Addresses: []string{"2408:4005:3aa:1b00::120"}, QueueNumber: 2})
	return w
}

// sdkEnv is the emulator on wall-clock time (the SDK signs with the
// machine's clock) with the official SDK's ECS and VPC clients pointed at
// it over real HTTP.
type sdkEnv struct {
	srv *Server
	ecs *ecssdk.Client
	vpc *vpcsdk.Client
}

func newSDKEnv(t *testing.T, w *World, opts Options) *sdkEnv {
	t.Helper()
	opts.Now = time.Now
	srv, err := New(w, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	host := strings.TrimPrefix(hs.URL, "http://")
	cred := credentials.NewAccessKeyCredential("testid", "testsecret")
	cfg := func() *sdk.Config { return sdk.NewConfig().WithScheme("HTTP").WithAutoRetry(false) }
	e := &ecssdk.Client{}
	if err := e.InitWithOptions("cn-hangzhou", cfg(), cred); err != nil {
		t.Fatal(err)
	}
	v := &vpcsdk.Client{}
	if err := v.InitWithOptions("cn-hangzhou", cfg(), cred); err != nil {
		t.Fatal(err)
	}
	e.Domain, v.Domain = host, host
	e.SetNoProxy("127.0.0.1")
	v.SetNoProxy("127.0.0.1")
	return &sdkEnv{srv: srv, ecs: e, vpc: v}
}

// wantCode fails unless err is a server error with the code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if se.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, se.ErrorCode(), se.Message())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (s *sdkEnv) createENI(t *testing.T, vsw string, set func(*ecssdk.CreateNetworkInterfaceRequest)) *ecssdk.CreateNetworkInterfaceResponse {
	t.Helper()
	req := ecssdk.CreateCreateNetworkInterfaceRequest()
	req.VSwitchId, req.SecurityGroupId = vsw, "sg-a"
	if set != nil {
		set(req)
	}
	resp, err := s.ecs.CreateNetworkInterface(req)
	must(t, err)
	return resp
}

func (s *sdkEnv) describeENI(t *testing.T, id string) ecssdk.NetworkInterfaceSet {
	t.Helper()
	req := ecssdk.CreateDescribeNetworkInterfacesRequest()
	req.NetworkInterfaceId = &[]string{id}
	resp, err := s.ecs.DescribeNetworkInterfaces(req)
	must(t, err)
	if n := len(resp.NetworkInterfaceSets.NetworkInterfaceSet); n != 1 {
		t.Fatalf("DescribeNetworkInterfaces %s: %d sets", id, n)
	}
	return resp.NetworkInterfaceSets.NetworkInterfaceSet[0]
}

func (s *sdkEnv) attach(t *testing.T, id, inst string, card int) error {
	t.Helper()
	req := ecssdk.CreateAttachNetworkInterfaceRequest()
	req.NetworkInterfaceId, req.InstanceId = id, inst
	if card >= 0 {
		req.NetworkCardIndex = requests.NewInteger(card)
	}
	_, err := s.ecs.AttachNetworkInterface(req)
	if err == nil {
		s.describeENI(t, id) // the transition completes on the next request
	}
	return err
}

func (s *sdkEnv) assign6(set func(*ecssdk.AssignIpv6AddressesRequest)) (*ecssdk.AssignIpv6AddressesResponse, error) {
	req := ecssdk.CreateAssignIpv6AddressesRequest()
	set(req)
	return s.ecs.AssignIpv6Addresses(req)
}

func v6Of(n ecssdk.NetworkInterfaceSet) []string {
	var out []string
	for _, s := range n.Ipv6Sets.Ipv6Set {
		out = append(out, s.Ipv6Address)
	}
	return out
}

func prefixesOf(n ecssdk.NetworkInterfaceSet) []string {
	var out []string
	for _, s := range n.Ipv4PrefixSets.Ipv4PrefixSet {
		out = append(out, s.Ipv4Prefix)
	}
	return out
}

var v6Block = netip.MustParsePrefix("2408:4005:3aa:1b00::/64")

// TestIPv6Addresses drives AssignIpv6Addresses and UnassignIpv6Addresses
// (and IPv6 on CreateNetworkInterface) through the official SDK: counts
// and pinned addresses, ClientToken replays, the vSwitch's IPv6 block, the
// per-type quota, the unattached cap, states and the documented codes.
func TestIPv6Addresses(t *testing.T) {
	s := newSDKEnv(t, v6World(t), Options{})

	created := s.createENI(t, "vsw-a", func(r *ecssdk.CreateNetworkInterfaceRequest) {
		r.Ipv6AddressCount = requests.NewInteger(2)
	})
	id := created.NetworkInterfaceId
	if n := len(created.Ipv6Sets.Ipv6Set); n != 2 {
		t.Fatalf("create with Ipv6AddressCount 2 answered %d IPv6 addresses", n)
	}
	for _, x := range created.Ipv6Sets.Ipv6Set {
		if a := netip.MustParseAddr(x.Ipv6Address); !v6Block.Contains(a) {
			t.Errorf("created IPv6 %s is outside %s", a, v6Block)
		}
	}

	// A count, with a ClientToken: the retry answers the same addresses
	// and changes nothing; other parameters under the token are refused.
	byCount := func(r *ecssdk.AssignIpv6AddressesRequest) {
		r.NetworkInterfaceId, r.Ipv6AddressCount, r.ClientToken = id, requests.NewInteger(2), "v6-1"
	}
	first, err := s.assign6(byCount)
	must(t, err)
	again, err := s.assign6(byCount)
	must(t, err)
	if first.NetworkInterfaceId != id || len(first.Ipv6Sets.Ipv6Address) != 2 ||
		!slices.Equal(first.Ipv6Sets.Ipv6Address, again.Ipv6Sets.Ipv6Address) {
		t.Fatalf("assign by count %v, replayed %v", first.Ipv6Sets.Ipv6Address, again.Ipv6Sets.Ipv6Address)
	}
	if got := v6Of(s.describeENI(t, id)); len(got) != 4 {
		t.Fatalf("after create (2) and assign (2, replayed once): %v", got)
	}
	_, err = s.assign6(func(r *ecssdk.AssignIpv6AddressesRequest) {
		r.NetworkInterfaceId, r.Ipv6AddressCount, r.ClientToken = id, requests.NewInteger(1), "v6-1"
	})
	wantCode(t, err, "IdempotentParameterMismatch")

	pin := func(addrs ...string) func(*ecssdk.AssignIpv6AddressesRequest) {
		return func(r *ecssdk.AssignIpv6AddressesRequest) { r.NetworkInterfaceId, r.Ipv6Address = id, &addrs }
	}
	for _, c := range []struct {
		name string
		set  func(*ecssdk.AssignIpv6AddressesRequest)
		code string
	}{
		{"outside the block", pin("2408:4005:3aa:1c00::5"), "InvalidIp.Address"},
		{"the network address", pin("2408:4005:3aa:1b00::"), "InvalidIp.Address"},
		{"reserved at the end", pin("2408:4005:3aa:1b00:ffff:ffff:ffff:fff7"), "InvalidIp.Address"},
		{"not IPv6", pin("10.0.1.5"), "InvalidIp.Address"},
		{"twice in the call", pin("2408:4005:3aa:1b00::7", "2408:4005:3aa:1b00::7"), "InvalidIp.IpRepeated"},
		{"another ENI's", pin("2408:4005:3aa:1b00::120"), "InvalidIp.IpAssigned"},
		{"both forms", func(r *ecssdk.AssignIpv6AddressesRequest) {
			r.NetworkInterfaceId, r.Ipv6Address, r.Ipv6AddressCount = id, &[]string{"2408:4005:3aa:1b00::7"}, requests.NewInteger(1)
		}, "InvalidParameter.Conflict"},
		{"count above 10", func(r *ecssdk.AssignIpv6AddressesRequest) {
			r.NetworkInterfaceId, r.Ipv6AddressCount = id, requests.NewInteger(11)
		}, "InvalidParameter"},
		{"neither", func(r *ecssdk.AssignIpv6AddressesRequest) { r.NetworkInterfaceId = id }, "MissingParameter"},
		{"unattached cap of 10", func(r *ecssdk.AssignIpv6AddressesRequest) {
			r.NetworkInterfaceId, r.Ipv6AddressCount = id, requests.NewInteger(7)
		}, "InvalidOperation.Ipv6CountExceeded"},
		{"prefixes are not modelled", func(r *ecssdk.AssignIpv6AddressesRequest) {
			r.NetworkInterfaceId, r.Ipv6PrefixCount = id, requests.NewInteger(1)
		}, "UnsupportedParameter"},
		{"vSwitch without IPv6", func(r *ecssdk.AssignIpv6AddressesRequest) {
			r.NetworkInterfaceId, r.Ipv6AddressCount = "eni-frag", requests.NewInteger(1)
		}, "InvalidVSwitch.Ipv6NotTurnOn"},
		{"primary ENI of a Pending instance", func(r *ecssdk.AssignIpv6AddressesRequest) {
			r.NetworkInterfaceId, r.Ipv6AddressCount = "eni-prim-pend", requests.NewInteger(1)
		}, "InvalidOperation.InvalidEcsState"},
		{"type with 3, ENI at 1", func(r *ecssdk.AssignIpv6AddressesRequest) {
			r.NetworkInterfaceId, r.Ipv6AddressCount = "eni-prim-run", requests.NewInteger(4)
		}, "InvalidOperation.Ipv6CountExceeded"},
		{"type without IPv6", func(r *ecssdk.AssignIpv6AddressesRequest) {
			r.NetworkInterfaceId, r.Ipv6AddressCount = "eni-prim-nov6", requests.NewInteger(1)
		}, "InvalidOperation.Ipv6NotSupport"},
		{"no such ENI", func(r *ecssdk.AssignIpv6AddressesRequest) {
			r.NetworkInterfaceId, r.Ipv6AddressCount = "eni-nope", requests.NewInteger(1)
		}, "InvalidEniId.NotFound"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := s.srv.State()
			_, err := s.assign6(c.set)
			wantCode(t, err, c.code)
			if d := stateDiff(before, s.srv.State()); d != "" {
				t.Errorf("a refused call changed the cloud:\n%s", d)
			}
		})
	}

	// A pinned address; then an attach to a type that allows 3 fails
	// while the ENI holds 5.
	_, err = s.assign6(pin("2408:4005:3aa:1b00::7"))
	must(t, err)
	have := v6Of(s.describeENI(t, id))
	if len(have) != 5 || !slices.Contains(have, "2408:4005:3aa:1b00::7") {
		t.Fatalf("after the pinned assign: %v", have)
	}
	wantCode(t, s.attach(t, id, "i-run", -1), "InvalidOperation.Ipv6CountExceeded")

	// Unassign: an address the ENI does not hold is IpUnassigned; two go.
	un := func(addrs ...string) error {
		req := ecssdk.CreateUnassignIpv6AddressesRequest()
		req.NetworkInterfaceId, req.Ipv6Address = id, &addrs
		_, err := s.ecs.UnassignIpv6Addresses(req)
		return err
	}
	wantCode(t, un("2408:4005:3aa:1b00::8"), "InvalidIp.IpUnassigned")
	other := have[slices.Index(have, "2408:4005:3aa:1b00::7")^1] // any other one
	wantCode(t, un(other, other), "InvalidIp.IpRepeated")
	must(t, un(other, "2408:4005:3aa:1b00::7"))
	after := v6Of(s.describeENI(t, id))
	if len(after) != 3 || slices.Contains(after, other) || slices.Contains(after, "2408:4005:3aa:1b00::7") {
		t.Fatalf("after unassigning two of %v: %v", have, after)
	}
	// Now 3: the attach fits, and the type's quota holds the ENI there.
	must(t, s.attach(t, id, "i-run", -1))
	_, err = s.assign6(func(r *ecssdk.AssignIpv6AddressesRequest) {
		r.NetworkInterfaceId, r.Ipv6AddressCount = id, requests.NewInteger(1)
	})
	wantCode(t, err, "InvalidOperation.Ipv6CountExceeded")
	// The released address can be taken again.
	_, err = s.assign6(func(r *ecssdk.AssignIpv6AddressesRequest) {
		r.NetworkInterfaceId, r.Ipv6Address = "eni-pfx", &[]string{"2408:4005:3aa:1b00::7"}
	})
	must(t, err)
}

// TestIPv4Prefixes drives Ipv4Prefix.N and Ipv4PrefixCount on
// CreateNetworkInterface, AssignPrivateIpAddresses and
// UnassignPrivateIpAddresses through the official SDK: alignment, the
// vSwitch's capacity (16 addresses a prefix), overlaps, a prefix counting
// as one address of the ENI quota, the fragmented vSwitch, and calls that
// mix addresses and prefixes.
func TestIPv4Prefixes(t *testing.T) {
	s := newSDKEnv(t, v6World(t), Options{})
	free := func() int64 {
		req := vpcsdk.CreateDescribeVSwitchesRequest()
		req.VSwitchId = "vsw-a"
		resp, err := s.vpc.DescribeVSwitches(req)
		must(t, err)
		return resp.VSwitches.VSwitch[0].AvailableIpAddressCount
	}
	before := free()
	created := s.createENI(t, "vsw-a", func(r *ecssdk.CreateNetworkInterfaceRequest) {
		r.Ipv4PrefixCount = requests.NewInteger(2)
	})
	id := created.NetworkInterfaceId
	if n := len(created.Ipv4PrefixSets.Ipv4PrefixSet); n != 2 {
		t.Fatalf("create with Ipv4PrefixCount 2 answered %d prefixes", n)
	}
	vsw := netip.MustParsePrefix("10.0.1.0/24")
	for _, x := range created.Ipv4PrefixSets.Ipv4PrefixSet {
		p := netip.MustParsePrefix(x.Ipv4Prefix)
		if p.Bits() != 28 || p.Masked() != p || !vsw.Contains(p.Addr()) {
			t.Errorf("created prefix %s is not an aligned /28 of %s", p, vsw)
		}
	}
	if got := free(); got != before-1-32 {
		t.Errorf("AvailableIpAddressCount %d after an ENI with two prefixes, want %d", got, before-33)
	}

	assign := func(set func(*ecssdk.AssignPrivateIpAddressesRequest)) (*ecssdk.AssignPrivateIpAddressesResponse, error) {
		req := ecssdk.CreateAssignPrivateIpAddressesRequest()
		req.NetworkInterfaceId = id
		set(req)
		return s.ecs.AssignPrivateIpAddresses(req)
	}
	pin := func(ps ...string) func(*ecssdk.AssignPrivateIpAddressesRequest) {
		return func(r *ecssdk.AssignPrivateIpAddressesRequest) { r.Ipv4Prefix = &ps }
	}
	for _, c := range []struct {
		name string
		set  func(*ecssdk.AssignPrivateIpAddressesRequest)
		code string
	}{
		{"not aligned", pin("10.0.1.40/28"), "InvalidParameter"},
		{"not a /28", pin("10.0.1.64/27"), "InvalidParameter"},
		{"not IPv4", pin("2408:4005:3aa:1b00::/124"), "InvalidParameter"},
		{"outside the vSwitch", pin("10.0.2.16/28"), "InvalidVSwitchId.IpInvalid"},
		{"holds the network address", pin("10.0.1.0/28"), "InvalidVSwitchId.IpInvalid"},
		{"holds the last three", pin("10.0.1.240/28"), "InvalidVSwitchId.IpInvalid"},
		{"overlaps an address", pin("10.0.1.96/28"), "InvalidPrivateIpAddress.Duplicated"}, // eni-free's .100
		{"overlaps a prefix", pin("10.0.1.128/28"), "InvalidPrivateIpAddress.Duplicated"},  // eni-pfx's
		{"twice", pin("10.0.1.160/28", "10.0.1.160/28"), "InvalidIp.IpRepeated"},
		{"both forms", func(r *ecssdk.AssignPrivateIpAddressesRequest) {
			r.Ipv4Prefix, r.Ipv4PrefixCount = &[]string{"10.0.1.160/28"}, requests.NewInteger(1)
		}, "InvalidParameter.Conflict"},
		{"with addresses", func(r *ecssdk.AssignPrivateIpAddressesRequest) {
			r.Ipv4PrefixCount, r.SecondaryPrivateIpAddressCount = requests.NewInteger(1), requests.NewInteger(1)
		}, "InvalidParameter.Conflict"},
		{"count above 10", func(r *ecssdk.AssignPrivateIpAddressesRequest) {
			r.Ipv4PrefixCount = requests.NewInteger(11)
		}, "InvalidParameter"},
		{"fragmented vSwitch", func(r *ecssdk.AssignPrivateIpAddressesRequest) {
			r.NetworkInterfaceId, r.Ipv4PrefixCount = "eni-frag", requests.NewInteger(1)
		}, "InvalidVSwitchId.IpNotEnough"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := s.srv.State()
			_, err := assign(c.set)
			wantCode(t, err, c.code)
			if d := stateDiff(before, s.srv.State()); d != "" {
				t.Errorf("a refused call changed the cloud:\n%s", d)
			}
		})
	}
	// The fragmented vSwitch still has free addresses: only prefixes fail.
	req := ecssdk.CreateAssignPrivateIpAddressesRequest()
	req.NetworkInterfaceId, req.SecondaryPrivateIpAddressCount = "eni-frag", requests.NewInteger(1)
	_, err := s.ecs.AssignPrivateIpAddresses(req)
	must(t, err)
	cr := ecssdk.CreateCreateNetworkInterfaceRequest()
	cr.VSwitchId, cr.SecurityGroupId, cr.Ipv4PrefixCount = "vsw-frag", "sg-a", requests.NewInteger(1)
	_, err = s.ecs.CreateNetworkInterface(cr)
	wantCode(t, err, "InvalidVSwitchId.IpNotEnough")

	// A pinned prefix with a ClientToken, answered in Ipv4PrefixSet: the
	// first block the cloud left free.
	var pinned netip.Prefix
	for off := 16; off < 240 && !pinned.IsValid(); off += 16 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 1, byte(off)}), 28)
		if s.srv.cloud.vswitches["vsw-a"].prefixFree(uint32(off)) {
			pinned = p
		}
	}
	// A create whose pinned primary address is inside its pinned prefix.
	cr = ecssdk.CreateCreateNetworkInterfaceRequest()
	cr.VSwitchId, cr.SecurityGroupId = "vsw-a", "sg-a"
	cr.PrimaryIpAddress, cr.Ipv4Prefix = pinned.Addr().Next().String(), &[]string{pinned.String()}
	_, err = s.ecs.CreateNetworkInterface(cr)
	wantCode(t, err, "InvalidPrivateIpAddress.Duplicated")
	tok := func(r *ecssdk.AssignPrivateIpAddressesRequest) {
		r.Ipv4Prefix, r.ClientToken = &[]string{pinned.String()}, "pfx-1"
	}
	got, err := assign(tok)
	must(t, err)
	replay, err := assign(tok)
	must(t, err)
	if !slices.Equal(got.AssignedPrivateIpAddressesSet.Ipv4PrefixSet.Ipv4Prefixes, []string{pinned.String()}) ||
		len(got.AssignedPrivateIpAddressesSet.PrivateIpSet.PrivateIpAddress) != 0 ||
		!slices.Equal(replay.AssignedPrivateIpAddressesSet.Ipv4PrefixSet.Ipv4Prefixes, []string{pinned.String()}) {
		t.Fatalf("pinned prefix answered %+v, replay %+v", got.AssignedPrivateIpAddressesSet, replay.AssignedPrivateIpAddressesSet)
	}
	// An address inside a prefix is taken.
	inside := pinned.Addr().Next().Next()
	_, err = assign(func(r *ecssdk.AssignPrivateIpAddressesRequest) { r.PrivateIpAddress = &[]string{inside.String()} })
	wantCode(t, err, "InvalidPrivateIpAddress.Duplicated")

	// Attached to ecs.g7.large (6 per ENI, primary included): the primary
	// and 3 prefixes are 4 slots, 2 more prefixes fit, a third does not,
	// nor does an address.
	must(t, s.attach(t, id, "i-run", -1))
	_, err = assign(func(r *ecssdk.AssignPrivateIpAddressesRequest) { r.Ipv4PrefixCount = requests.NewInteger(2) })
	must(t, err)
	_, err = assign(func(r *ecssdk.AssignPrivateIpAddressesRequest) { r.Ipv4PrefixCount = requests.NewInteger(1) })
	wantCode(t, err, "MaxEniPrivateIpsCountExceeded")
	_, err = assign(func(r *ecssdk.AssignPrivateIpAddressesRequest) {
		r.SecondaryPrivateIpAddressCount = requests.NewInteger(1)
	})
	wantCode(t, err, "MaxEniPrivateIpsCountExceeded")
	have := prefixesOf(s.describeENI(t, id))
	if len(have) != 5 || !slices.IsSortedFunc(have, func(a, b string) int {
		return comparePrefix(netip.MustParsePrefix(a), netip.MustParsePrefix(b))
	}) {
		t.Fatalf("DescribeNetworkInterfaces lists %v, want 5 prefixes in order", have)
	}

	// Unassign: not with addresses, not a prefix it lacks; then two go
	// and their blocks are free again.
	unassign := func(set func(*ecssdk.UnassignPrivateIpAddressesRequest)) error {
		req := ecssdk.CreateUnassignPrivateIpAddressesRequest()
		req.NetworkInterfaceId = id
		set(req)
		_, err := s.ecs.UnassignPrivateIpAddresses(req)
		return err
	}
	wantCode(t, unassign(func(r *ecssdk.UnassignPrivateIpAddressesRequest) {
		r.Ipv4Prefix, r.PrivateIpAddress = &[]string{have[0]}, &[]string{created.PrivateIpAddress}
	}), "InvalidParameter.Conflict")
	wantCode(t, unassign(func(r *ecssdk.UnassignPrivateIpAddressesRequest) {
		r.Ipv4Prefix = &[]string{"10.0.1.128/28"}
	}), "InvalidIp.IpUnassigned")
	must(t, unassign(func(r *ecssdk.UnassignPrivateIpAddressesRequest) { r.Ipv4Prefix = &[]string{have[0], have[1]} }))
	if left := prefixesOf(s.describeENI(t, id)); !slices.Equal(left, have[2:]) {
		t.Fatalf("after unassigning %v: %v", have[:2], left)
	}
	_, err = assign(func(r *ecssdk.AssignPrivateIpAddressesRequest) { r.Ipv4Prefix = &[]string{have[0]} })
	must(t, err)
}

// TestFragmentedMessage: the refusal says why (no aligned /28, although
// addresses are free), so that a user knows what to do.
func TestFragmentedMessage(t *testing.T) {
	e := newEnv(t, v6World(t), Options{})
	r := e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-frag", "Ipv4PrefixCount", "1")
	wantErr(t, r, 403, "InvalidVSwitchId.IpNotEnough")
	msg := str(r.json(t), "Message")
	for _, want := range []string{"vsw-frag", "0 free aligned /28", "58 free addresses"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

// TestCardsAndQueues: NetworkCardIndex on attach within the type's cards,
// QueueNumber on create and modify with their ranges, the type's queue
// limit and the modify preconditions (a secondary ENI, Available or on a
// Stopped instance).
func TestCardsAndQueues(t *testing.T) {
	s := newSDKEnv(t, v6World(t), Options{PreviewFields: new(true)})
	id := s.createENI(t, "vsw-a", nil).NetworkInterfaceId
	wantCode(t, s.attach(t, id, "i-run", 1), "InvalidParameter")  // one card
	wantCode(t, s.attach(t, id, "i-dual", 2), "InvalidParameter") // two cards: 0 and 1
	must(t, s.attach(t, id, "i-dual", 1))
	n := s.describeENI(t, id)
	if n.Status != stInUse || n.Attachment.NetworkCardIndex != 1 || n.Attachment.InstanceId != "i-dual" {
		t.Fatalf("attached on card 1: status %s, attachment %+v", n.Status, n.Attachment)
	}

	bad := func(q string) {
		t.Helper()
		req := ecssdk.CreateCreateNetworkInterfaceRequest()
		req.VSwitchId, req.SecurityGroupId, req.QueueNumber = "vsw-a", "sg-a", requests.Integer(q)
		_, err := s.ecs.CreateNetworkInterface(req)
		wantCode(t, err, "InvalidParameter.InvalidEniQueueNumber")
	}
	bad("0")
	bad("2049")
	q8 := s.createENI(t, "vsw-a", func(r *ecssdk.CreateNetworkInterfaceRequest) { r.QueueNumber = requests.NewInteger(8) })
	if got := s.describeENI(t, q8.NetworkInterfaceId).QueueNumber; got != 8 {
		t.Fatalf("QueueNumber %d, want 8", got)
	}
	wantCode(t, s.attach(t, q8.NetworkInterfaceId, "i-run", -1), "InvalidOperation.MaxEniQueueNumberExceeded")

	modify := func(id string, q int) error {
		req := ecssdk.CreateModifyNetworkInterfaceAttributeRequest()
		req.NetworkInterfaceId, req.QueueNumber = id, requests.NewInteger(q)
		_, err := s.ecs.ModifyNetworkInterfaceAttribute(req)
		return err
	}
	must(t, modify(q8.NetworkInterfaceId, 4)) // Available
	must(t, s.attach(t, q8.NetworkInterfaceId, "i-run", -1))
	wantCode(t, modify(q8.NetworkInterfaceId, 2), "InvalidOperation.InvalidEcsState") // InUse, Running
	wantCode(t, modify("eni-prim-stop", 2), "InvalidOperation.InvalidEniType")
	must(t, s.srv.SetInstanceStatus("i-run", "Stopped"))
	wantCode(t, modify(q8.NetworkInterfaceId, 5), "InvalidOperation.MaxEniQueueNumberExceeded")
	must(t, modify(q8.NetworkInterfaceId, 2))
	if got := s.describeENI(t, q8.NetworkInterfaceId).QueueNumber; got != 2 {
		t.Fatalf("QueueNumber %d after modify, want 2", got)
	}
}

// TestDescribeIPv6Shapes reads the new fields with the SDK's structs:
// DescribeVSwitches Ipv6CidrBlock (and the EnableIpv6 filter),
// DescribeInstanceTypes' IPv6, card and queue columns, DescribeInstances'
// primary ENI sets, and the world's own IPv6 and prefixes in
// DescribeNetworkInterfaces.
func TestDescribeIPv6Shapes(t *testing.T) {
	s := newSDKEnv(t, v6World(t), Options{})
	vr := vpcsdk.CreateDescribeVSwitchesRequest()
	vr.VpcId, vr.EnableIpv6 = "vpc-test", requests.NewBoolean(true)
	vs, err := s.vpc.DescribeVSwitches(vr)
	must(t, err)
	if len(vs.VSwitches.VSwitch) != 1 || vs.VSwitches.VSwitch[0].VSwitchId != "vsw-a" ||
		vs.VSwitches.VSwitch[0].Ipv6CidrBlock != v6Block.String() {
		t.Fatalf("DescribeVSwitches EnableIpv6=true: %+v", vs.VSwitches.VSwitch)
	}

	tr := ecssdk.CreateDescribeInstanceTypesRequest()
	tr.InstanceTypes = &[]string{"ecs.test.dual", "ecs.g7.large"}
	ts, err := s.ecs.DescribeInstanceTypes(tr)
	must(t, err)
	byID := map[string]ecssdk.InstanceType{}
	for _, x := range ts.InstanceTypes.InstanceType {
		byID[x.InstanceTypeId] = x
	}
	dual, g7 := byID["ecs.test.dual"], byID["ecs.g7.large"]
	if dual.EniIpv6AddressQuantity != 10 || dual.NetworkCardQuantity != 2 || len(dual.NetworkCards.NetworkCardInfo) != 2 ||
		dual.NetworkCards.NetworkCardInfo[1].NetworkCardIndex != 1 {
		t.Errorf("ecs.test.dual: %+v", dual)
	}
	if g7.EniIpv6AddressQuantity != 3 || g7.MaximumQueueNumberPerEni != 4 || g7.NetworkCardQuantity != 1 {
		t.Errorf("ecs.g7.large: %+v", g7)
	}

	ir := ecssdk.CreateDescribeInstancesRequest()
	ir.InstanceIds = `["i-dual"]`
	ir.AdditionalAttributes = &[]string{"NETWORK_PRIMARY_ENI_IP"}
	is, err := s.ecs.DescribeInstances(ir)
	must(t, err)
	nics := is.Instances.Instance[0].NetworkInterfaces.NetworkInterface
	if len(nics) != 1 || len(nics[0].Ipv6Sets.Ipv6Set) != 1 || nics[0].Ipv6Sets.Ipv6Set[0].Ipv6Address != "2408:4005:3aa:1b00::60" {
		t.Fatalf("DescribeInstances primary ENI: %+v", nics)
	}

	n := s.describeENI(t, "eni-pfx")
	if !slices.Equal(prefixesOf(n), []string{"10.0.1.128/28"}) || !slices.Equal(v6Of(n), []string{"2408:4005:3aa:1b00::120"}) ||
		n.QueueNumber != 2 {
		t.Fatalf("eni-pfx: prefixes %v, IPv6 %v, queues %d", prefixesOf(n), v6Of(n), n.QueueNumber)
	}
	// The filter on IPv6 addresses.
	fr := ecssdk.CreateDescribeNetworkInterfacesRequest()
	fr.Ipv6Address = &[]string{"2408:4005:3aa:1b00::120"}
	fs, err := s.ecs.DescribeNetworkInterfaces(fr)
	must(t, err)
	if len(fs.NetworkInterfaceSets.NetworkInterfaceSet) != 1 || fs.NetworkInterfaceSets.NetworkInterfaceSet[0].NetworkInterfaceId != "eni-pfx" {
		t.Fatalf("Ipv6Address.1 filter: %+v", fs.NetworkInterfaceSets.NetworkInterfaceSet)
	}
}

// TestWorldIPv6 checks the world file's new fields: they survive State and
// ReadWorld, and bad ones are refused with the entry named.
func TestWorldIPv6(t *testing.T) {
	srv, err := New(v6World(t), Options{})
	must(t, err)
	st := srv.State()
	var pfx *NetworkInterface
	for i := range st.NetworkInterfaces {
		if st.NetworkInterfaces[i].NetworkInterfaceId == "eni-pfx" {
			pfx = &st.NetworkInterfaces[i]
		}
	}
	if pfx == nil || !slices.Equal(pfx.Ipv4Prefixes, []string{"10.0.1.128/28"}) || pfx.QueueNumber != 2 ||
		!slices.Equal(pfx.Ipv6Addresses, []string{"2408:4005:3aa:1b00::120"}) {
		t.Fatalf("State's eni-pfx: %+v", pfx)
	}
	withKeys := *st
	withKeys.AccessKeys = v6World(t).AccessKeys
	again, err := ReadWorld(strings.NewReader(mustJSON(&withKeys)))
	must(t, err)
	srv2, err := New(again, Options{})
	must(t, err)
	if d := stateDiff(st, srv2.State()); d != "" {
		t.Fatalf("State → ReadWorld → State differs:\n%s", d)
	}

	for _, c := range []struct {
		name string
		edit func(w *World)
		want string
	}{
		{"v6 block not /64", func(w *World) { w.VSwitches[1].Ipv6CidrBlock = "2408:4005:3aa:1c00::/56" }, "a vSwitch's IPv6 block is a /64"},
		{"v6 block twice", func(w *World) { w.VSwitches[1].Ipv6CidrBlock = "2408:4005:3aa:1b00::/64" }, "is vSwitch vsw-a's too"},
		{"v6 without block", func(w *World) { w.NetworkInterfaces[2].Ipv6Addresses = []string{"2408:4005:3aa:1b00::9"} }, "vSwitch vsw-frag has no Ipv6CidrBlock"},
		{"v6 twice", func(w *World) {
			w.NetworkInterfaces[0].Ipv6Addresses = []string{"2408:4005:3aa:1b00::120"}
		}, "already held by"},
		{"prefix misaligned", func(w *World) { w.NetworkInterfaces[3].Ipv4Prefixes = []string{"10.0.1.136/28"} }, "is not aligned"},
		// The message names the address and its holder, so the author knows what to move.
		{"prefix over an address", func(w *World) { w.NetworkInterfaces[3].Ipv4Prefixes = []string{"10.0.1.96/28"} }, "Ipv4Prefixes: 10.0.1.96/28 holds 10.0.1.100, which eni-free holds already"},
		{"prefix over its own primary", func(w *World) { w.NetworkInterfaces[3].Ipv4Prefixes = []string{"10.0.1.112/28"} }, "Ipv4Prefixes: 10.0.1.112/28 holds 10.0.1.120, which eni-pfx holds already"},
		{"prefix over a reserved address", func(w *World) { w.NetworkInterfaces[3].Ipv4Prefixes = []string{"10.0.1.240/28"} }, "Ipv4Prefixes: 10.0.1.240/28 holds 10.0.1.253, which vSwitch vsw-a (10.0.1.0/24) reserves"},
		{"card without instance", func(w *World) { w.NetworkInterfaces[0].NetworkCardIndex = 1 }, "needs an InstanceId"},
		{"card beyond the type", func(w *World) { w.NetworkInterfaces[1].NetworkCardIndex = 1 }, "has 1 network card(s)"},
		{"queues", func(w *World) { w.NetworkInterfaces[0].QueueNumber = 4096 }, "QueueNumber 4096"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := v6World(t)
			c.edit(w)
			_, err := New(w, Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}

	// A wrong IPv6 block is one error: the vSwitch still exists for the
	// instances and ENIs in it, which are not reported as naming an
	// unknown vSwitch or as holding IPv6 on a vSwitch without a block.
	bad := v6World(t)
	bad.VSwitches[0].Ipv6CidrBlock = "2408:4005:3aa:1b00::/56"
	_, err = New(bad, Options{})
	if err == nil || !strings.Contains(err.Error(), "a vSwitch's IPv6 block is a /64") {
		t.Fatalf("got %v, want the /56 refused", err)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 1 {
		t.Fatalf("got %d errors, want only the block's:\n%v", n, err)
	}
}

// TestIPv6Goldens pins the new answers byte for byte (the SDK ignores
// unknown and missing keys, so only a golden notices a wrong nesting).
func TestIPv6Goldens(t *testing.T) {
	e := newEnv(t, v6World(t), Options{AsyncDelay: 10 * time.Second, PreviewFields: new(true)})
	cl := e.cl
	check := func(name string, r response) map[string]any {
		t.Helper()
		golden.Check(t, filepath.Join("testdata", name+".golden"), goldenBytes(r))
		return r.json(t)
	}
	m := check("create_network_interface_dual", cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-a",
		"SecurityGroupId", "sg-a", "Ipv6AddressCount", "1", "Ipv4PrefixCount", "1", "QueueNumber", "2", "ClientToken", "dual-1"))
	id := str(m, "NetworkInterfaceId")
	check("assign_ipv6_addresses", cl.ecs(t, "AssignIpv6Addresses", "NetworkInterfaceId", id,
		"Ipv6Address.1", "2408:4005:3aa:1b00::a", "ClientToken", "v6-a"))
	check("assign_private_ip_addresses_prefix", cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", id,
		"Ipv4Prefix.1", "10.0.1.192/28"))
	check("attach_network_interface_card", cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", id,
		"InstanceId", "i-dual", "NetworkCardIndex", "1"))
	e.clock.Advance(10 * time.Second)
	check("describe_network_interfaces_dual", cl.ecs(t, "DescribeNetworkInterfaces", "NetworkInterfaceId.1", id))
	check("unassign_ipv6_addresses", cl.ecs(t, "UnassignIpv6Addresses", "NetworkInterfaceId", id,
		"Ipv6Address.1", "2408:4005:3aa:1b00::a"))
	check("unassign_private_ip_addresses_prefix", cl.ecs(t, "UnassignPrivateIpAddresses", "NetworkInterfaceId", id,
		"Ipv4Prefix.1", "10.0.1.192/28"))
	check("describe_vswitches_ipv6", cl.vpc(t, "DescribeVSwitches", "VpcId", "vpc-test", "EnableIpv6", "true"))
	check("describe_instance_types_cards", cl.ecs(t, "DescribeInstanceTypes", "InstanceTypes.1", "ecs.test.dual"))
	check("describe_instances_ipv6", cl.ecs(t, "DescribeInstances", "InstanceIds", `["i-dual"]`,
		"AdditionalAttributes.1", "NETWORK_PRIMARY_ENI_IP"))
	check("error_ipv6_not_turn_on", cl.ecs(t, "AssignIpv6Addresses", "NetworkInterfaceId", "eni-frag", "Ipv6AddressCount", "1"))
}
