package sdkcompat

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	ecs "github.com/alibabacloud-go/ecs-20140526/v7/client"
	"github.com/alibabacloud-go/tea/dara"
	vpc "github.com/alibabacloud-go/vpc-20160428/v6/client"

	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// TestIPv6AndPrefixes calls the issue-17 actions once with the official
// SDK, in each signing mode: the vSwitch's IPv6 block and the type's IPv6
// quota, AssignIpv6Addresses by count (replayed under its ClientToken),
// AssignPrivateIpAddresses by Ipv4PrefixCount, both read back with
// DescribeNetworkInterfaces, then UnassignIpv6Addresses and
// UnassignPrivateIpAddresses with Ipv4Prefix.N.
func TestIPv6AndPrefixes(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv, endpoint := newV6Server(t)
			ec, vc := clients(t, endpoint, m)
			region := dara.String("cn-hangzhou")
			block := netip.MustParsePrefix("2408:4005:3aa:1b00::/64")

			vsw := must[*vpc.DescribeVSwitchesResponse](t, "DescribeVSwitches")(vc.DescribeVSwitches(&vpc.DescribeVSwitchesRequest{
				RegionId: region, VSwitchId: dara.String("vsw-compat")}))
			if vs := vsw.Body.VSwitches.VSwitch; len(vs) != 1 || dara.StringValue(vs[0].Ipv6CidrBlock) != block.String() {
				t.Fatalf("DescribeVSwitches: %s", dara.Prettify(vsw.Body))
			}
			types := must[*ecs.DescribeInstanceTypesResponse](t, "DescribeInstanceTypes")(ec.DescribeInstanceTypes(&ecs.DescribeInstanceTypesRequest{
				InstanceTypes: []*string{dara.String("ecs.g7.large")}}))
			if ts := types.Body.InstanceTypes.InstanceType; len(ts) != 1 || dara.Int32Value(ts[0].EniIpv6AddressQuantity) != 6 ||
				dara.Int32Value(ts[0].NetworkCardQuantity) != 1 {
				t.Fatalf("DescribeInstanceTypes: %s", dara.Prettify(types.Body))
			}

			cr := must[*ecs.CreateNetworkInterfaceResponse](t, "CreateNetworkInterface")(ec.CreateNetworkInterface(&ecs.CreateNetworkInterfaceRequest{
				RegionId: region, VSwitchId: dara.String("vsw-compat"), SecurityGroupIds: []*string{dara.String("sg-compat")}}))
			eni := cr.Body.NetworkInterfaceId

			req := &ecs.AssignIpv6AddressesRequest{RegionId: region, NetworkInterfaceId: eni, Ipv6AddressCount: dara.Int32(2),
				ClientToken: dara.String("compat-v6-" + m.name)}
			v6 := must[*ecs.AssignIpv6AddressesResponse](t, "AssignIpv6Addresses")(ec.AssignIpv6Addresses(req))
			again := must[*ecs.AssignIpv6AddressesResponse](t, "AssignIpv6Addresses again")(ec.AssignIpv6Addresses(req))
			got := dara.StringSliceValue(v6.Body.Ipv6Sets.Ipv6Address)
			if len(got) != 2 || !slices.Equal(got, dara.StringSliceValue(again.Body.Ipv6Sets.Ipv6Address)) {
				t.Fatalf("AssignIpv6Addresses: %s, replayed %s", dara.Prettify(v6.Body), dara.Prettify(again.Body))
			}
			for _, s := range got {
				if !block.Contains(netip.MustParseAddr(s)) {
					t.Errorf("IPv6 %s is outside %s", s, block)
				}
			}

			pf := must[*ecs.AssignPrivateIpAddressesResponse](t, "AssignPrivateIpAddresses")(ec.AssignPrivateIpAddresses(&ecs.AssignPrivateIpAddressesRequest{
				RegionId: region, NetworkInterfaceId: eni, Ipv4PrefixCount: dara.Int32(1)}))
			prefixes := dara.StringSliceValue(pf.Body.AssignedPrivateIpAddressesSet.Ipv4PrefixSet.Ipv4Prefixes)
			if len(prefixes) != 1 || netip.MustParsePrefix(prefixes[0]).Bits() != 28 {
				t.Fatalf("AssignPrivateIpAddresses Ipv4PrefixCount 1: %s", dara.Prettify(pf.Body))
			}

			d := describe(t, ec, dara.StringValue(eni))
			var seen6, seenP []string
			if d.Ipv6Sets != nil {
				for _, x := range d.Ipv6Sets.Ipv6Set {
					seen6 = append(seen6, dara.StringValue(x.Ipv6Address))
				}
			}
			if d.Ipv4PrefixSets != nil {
				for _, x := range d.Ipv4PrefixSets.Ipv4PrefixSet {
					seenP = append(seenP, dara.StringValue(x.Ipv4Prefix))
				}
			}
			if !slices.Equal(seen6, sortedAddrs(got)) || !slices.Equal(seenP, prefixes) {
				t.Fatalf("DescribeNetworkInterfaces: IPv6 %v (want %v), prefixes %v (want %v)", seen6, got, seenP, prefixes)
			}

			must[*ecs.UnassignIpv6AddressesResponse](t, "UnassignIpv6Addresses")(ec.UnassignIpv6Addresses(&ecs.UnassignIpv6AddressesRequest{
				RegionId: region, NetworkInterfaceId: eni, Ipv6Address: []*string{dara.String(got[0])}}))
			must[*ecs.UnassignPrivateIpAddressesResponse](t, "UnassignPrivateIpAddresses")(ec.UnassignPrivateIpAddresses(&ecs.UnassignPrivateIpAddressesRequest{
				RegionId: region, NetworkInterfaceId: eni, Ipv4Prefix: []*string{dara.String(prefixes[0])}}))
			d = describe(t, ec, dara.StringValue(eni))
			if d.Ipv4PrefixSets != nil && len(d.Ipv4PrefixSets.Ipv4PrefixSet) > 0 || d.Ipv6Sets == nil || len(d.Ipv6Sets.Ipv6Set) != 1 {
				t.Fatalf("after unassigning: %s", dara.Prettify(d))
			}

			// A refusal decodes as the service's code.
			_, err := ec.AssignIpv6Addresses(&ecs.AssignIpv6AddressesRequest{RegionId: region, NetworkInterfaceId: eni,
				Ipv6Address: []*string{dara.String("2408:4005:3aa:1c00::5")}})
			if c := code(err); c != "InvalidIp.Address" {
				t.Errorf("an address outside the block: %q (%v)", c, err)
			}
			calls := srv.Calls()
			for _, a := range []string{"AssignIpv6Addresses", "UnassignIpv6Addresses", "AssignPrivateIpAddresses", "UnassignPrivateIpAddresses"} {
				if calls[a] == 0 {
					t.Errorf("%s never reached the emulator: %v", a, calls)
				}
			}
		})
	}
}

// newV6Server is newServer's world with an IPv6 block on the vSwitch and
// 6 IPv6 addresses per ENI for the type.
func newV6Server(t *testing.T) (*emulator.Server, string) {
	t.Helper()
	w, err := emulator.ReadWorld(strings.NewReader(world))
	if err != nil {
		t.Fatal(err)
	}
	w.VSwitches[0].Ipv6CidrBlock = "2408:4005:3aa:1b00::/64"
	w.InstanceTypes[0].EniIpv6AddressQuantity = 6
	return serve(t, w)
}

func sortedAddrs(ss []string) []string {
	out := slices.Clone(ss)
	slices.SortFunc(out, func(a, b string) int { return netip.MustParseAddr(a).Compare(netip.MustParseAddr(b)) })
	return out
}
