package ecs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	ecssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecsnet/ecsnet/plan"
)

// The calls of issue 17: IPv6 addresses (AssignIpv6Addresses,
// UnassignIpv6Addresses:
// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-assignipv6addresses)
// and /28 IPv4 prefixes, which travel on AssignPrivateIpAddresses and
// UnassignPrivateIpAddresses as Ipv4Prefix.N / Ipv4PrefixCount, 1 to 10
// per call (ecs-api.md §9;
// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-assignprivateipaddresses).
// One call carries addresses or prefixes, never both.

// AssignIPv6Input adds IPv6 addresses to an ENI: either the addresses
// given, or Count addresses the cloud picks from the vSwitch's IPv6 block.
type AssignIPv6Input struct {
	ENIID string
	IPs   []netip.Addr
	Count int
	// ClientToken is required and sent unchanged on every retry.
	ClientToken string
}

// AssignIpv6Addresses assigns IPv6 addresses and returns the ones
// assigned, sorted.
func (c *Client) AssignIpv6Addresses(ctx context.Context, in AssignIPv6Input) ([]netip.Addr, error) {
	if err := checkToken(actAssignIPv6, in.ClientToken); err != nil {
		return nil, err
	}
	switch {
	case in.ENIID == "":
		return nil, errors.New("ecs AssignIpv6Addresses: no ENI ID")
	case (len(in.IPs) > 0) == (in.Count > 0):
		return nil, errors.New("ecs AssignIpv6Addresses: set exactly one of addresses and count")
	}
	var resp *ecssdk.AssignIpv6AddressesResponse
	err := c.run(ctx, actAssignIPv6, func(cn *conn) error {
		req := ecssdk.CreateAssignIpv6AddressesRequest()
		req.NetworkInterfaceId = in.ENIID
		if len(in.IPs) > 0 {
			req.Ipv6Address = ptr(addrStrings(in.IPs))
		} else {
			req.Ipv6AddressCount = requests.NewInteger(in.Count)
		}
		req.ClientToken = in.ClientToken
		var err error
		resp, err = cn.ecs.AssignIpv6Addresses(req)
		return err
	}, nil)
	if err != nil {
		return nil, err
	}
	got, err := parseAddrs(resp.Ipv6Sets.Ipv6Address)
	if err != nil {
		return nil, fmt.Errorf("ecs AssignIpv6Addresses: ENI %s: %w", in.ENIID, err)
	}
	if len(got) == 0 && len(in.IPs) > 0 {
		got = slices.Clone(in.IPs)
	}
	if in.Count > 0 && len(got) != in.Count {
		return nil, fmt.Errorf("ecs AssignIpv6Addresses: ENI %s: asked for %d addresses, the answer lists %d", in.ENIID, in.Count, len(got))
	}
	slices.SortFunc(got, netip.Addr.Compare)
	return got, nil
}

// UnassignIpv6Addresses removes IPv6 addresses from an ENI. An address no
// longer on the ENI, or an ENI that is gone, counts as done.
func (c *Client) UnassignIpv6Addresses(ctx context.Context, eniID string, ips []netip.Addr) error {
	if eniID == "" || len(ips) == 0 {
		return errors.New("ecs UnassignIpv6Addresses: ENI ID and addresses are required")
	}
	return c.run(ctx, actUnassignIPv6, func(cn *conn) error {
		req := ecssdk.CreateUnassignIpv6AddressesRequest()
		req.NetworkInterfaceId = eniID
		req.Ipv6Address = ptr(addrStrings(ips))
		_, err := cn.ecs.UnassignIpv6Addresses(req)
		return err
	}, nil)
}

// AssignPrefixesInput adds /28 IPv4 prefixes to an ENI: the prefixes
// given, or Count prefixes the cloud picks from the vSwitch's block.
type AssignPrefixesInput struct {
	ENIID    string
	Prefixes []netip.Prefix
	Count    int
	// ClientToken is required. A request of more than ten prefixes is
	// split into calls of at most ten; the first call sends the token,
	// call k (from 2) the token with "-k" appended, so that each call of
	// a retried or replayed step is idempotent on its own.
	ClientToken string
}

// ErrNoFreePrefix is wrapped by AssignIpv4Prefixes when the vSwitch has
// no free aligned /28 block left: the fragmented-vSwitch failure.
var ErrNoFreePrefix = errors.New("the vSwitch has no free aligned /28 block for an IPv4 prefix")

// AssignIpv4Prefixes assigns prefixes, ten at most per call, and returns
// the ones assigned, sorted. It costs ceil(n/10) calls (plan.Step.Calls).
// When a call fails, the prefixes of the calls before it stay assigned:
// the error says how many; the lock records none of them, and the
// re-plan's same tokens get them back.
func (c *Client) AssignIpv4Prefixes(ctx context.Context, in AssignPrefixesInput) ([]netip.Prefix, error) {
	if err := checkToken(actAssign, in.ClientToken); err != nil {
		return nil, err
	}
	switch {
	case in.ENIID == "":
		return nil, errors.New("ecs AssignPrivateIpAddresses: no ENI ID")
	case (len(in.Prefixes) > 0) == (in.Count > 0):
		return nil, errors.New("ecs AssignPrivateIpAddresses: set exactly one of prefixes and prefix count")
	case len(in.ClientToken)+4 > 64 && len(in.Prefixes)+in.Count > plan.PrefixesPerCall:
		return nil, fmt.Errorf("ecs AssignPrivateIpAddresses: ClientToken is %d characters, too long to number the calls of a split", len(in.ClientToken))
	}
	type call struct {
		prefixes []netip.Prefix
		count    int
	}
	var calls []call
	if in.Count > 0 {
		for left := in.Count; left > 0; left -= plan.PrefixesPerCall {
			calls = append(calls, call{count: min(left, plan.PrefixesPerCall)})
		}
	} else {
		for chunk := range slices.Chunk(in.Prefixes, plan.PrefixesPerCall) {
			calls = append(calls, call{prefixes: chunk})
		}
	}
	var got []netip.Prefix
	for k, cl := range calls {
		token := in.ClientToken
		if k > 0 {
			token += "-" + strconv.Itoa(k+1)
		}
		var resp *ecssdk.AssignPrivateIpAddressesResponse
		err := c.run(ctx, actAssign, func(cn *conn) error {
			req := ecssdk.CreateAssignPrivateIpAddressesRequest()
			req.NetworkInterfaceId = in.ENIID
			if len(cl.prefixes) > 0 {
				req.Ipv4Prefix = ptr(prefixStrings(cl.prefixes))
			} else {
				req.Ipv4PrefixCount = requests.NewInteger(cl.count)
			}
			req.ClientToken = token
			var err error
			resp, err = cn.ecs.AssignPrivateIpAddresses(req)
			return err
		}, nil)
		if err != nil {
			err = noFreePrefix(in.ENIID, err)
			if k > 0 {
				return nil, fmt.Errorf("call %d of %d (the %d before it assigned %s): %w", k+1, len(calls), k, prefixList(got), err)
			}
			return nil, err
		}
		these, err := parsePrefixes(resp.AssignedPrivateIpAddressesSet.Ipv4PrefixSet.Ipv4Prefixes)
		if err != nil {
			return nil, fmt.Errorf("ecs AssignPrivateIpAddresses: ENI %s: %w", in.ENIID, err)
		}
		if len(these) == 0 && len(cl.prefixes) > 0 {
			these = slices.Clone(cl.prefixes)
		}
		if cl.count > 0 && len(these) != cl.count {
			return nil, fmt.Errorf("ecs AssignPrivateIpAddresses: ENI %s: asked for %d prefixes, the answer lists %d", in.ENIID, cl.count, len(these))
		}
		got = append(got, these...)
	}
	slices.SortFunc(got, comparePrefix)
	return got, nil
}

// noFreePrefix explains the cloud's answer when a vSwitch with free
// addresses has no free aligned /28 left (the AWS CNI's
// InsufficientCidrBlocks story): the API reports it as the vSwitch being
// out of addresses (InvalidVSwitchId.IpNotEnough, or
// QuotaExceeded.PrivateIpAddress as Terway met it).
func noFreePrefix(eniID string, err error) error {
	if !IsCode(err, "InvalidVSwitchId.IpNotEnough") && !IsCode(err, "QuotaExceeded.PrivateIpAddress") {
		return err
	}
	return fmt.Errorf("ENI %s: %w: a /28 prefix needs 16 free, consecutive addresses starting at a multiple of 16, and addresses scattered across the block leave none even when many are free. "+
		"Reserve room for prefixes with a vSwitch CIDR reservation of type Prefix (VPC CreateVSwitchCidrReservation) and pin prefixes from it with ipv4Prefixes, "+
		"free the addresses that split the block, or put the ENI in a vSwitch with room: %w", eniID, ErrNoFreePrefix, err)
}

// UnassignIpv4Prefixes removes prefixes from an ENI, ten at most per
// call. A prefix no longer on the ENI, or an ENI that is gone, counts as
// done.
func (c *Client) UnassignIpv4Prefixes(ctx context.Context, eniID string, prefixes []netip.Prefix) error {
	if eniID == "" || len(prefixes) == 0 {
		return errors.New("ecs UnassignPrivateIpAddresses: ENI ID and prefixes are required")
	}
	for chunk := range slices.Chunk(prefixes, plan.PrefixesPerCall) {
		err := c.run(ctx, actUnassign, func(cn *conn) error {
			req := ecssdk.CreateUnassignPrivateIpAddressesRequest()
			req.NetworkInterfaceId = eniID
			req.Ipv4Prefix = ptr(prefixStrings(chunk))
			_, err := cn.ecs.UnassignPrivateIpAddresses(req)
			return err
		}, nil)
		if err != nil {
			return err
		}
	}
	return nil
}

func parseAddrs(ss []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range ss {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", s, err)
		}
		out = append(out, a)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out), nil
}

func parsePrefixes(ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("prefix %q: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	slices.SortFunc(out, comparePrefix)
	return slices.Compact(out), nil
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func prefixList(ps []netip.Prefix) string {
	if len(ps) == 0 {
		return "nothing"
	}
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ", "
		}
		s += p.String()
	}
	return s
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// ipv6Of reads an Ipv6Sets list.
func ipv6Of(sets []ecssdk.Ipv6Set) ([]netip.Addr, error) {
	ss := make([]string, len(sets))
	for i, s := range sets {
		ss[i] = s.Ipv6Address
	}
	return parseAddrs(ss)
}

// prefixesOf reads an Ipv4PrefixSets list.
func prefixesOf(sets []ecssdk.Ipv4PrefixSet) ([]netip.Prefix, error) {
	ss := make([]string, len(sets))
	for i, s := range sets {
		ss[i] = s.Ipv4Prefix
	}
	return parsePrefixes(ss)
}
