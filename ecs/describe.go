package ecs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	ecssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	vpcsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"

	"github.com/ecsnet/ecsnet/plan"
)

// DescribeInstances returns the instances with the given IDs, sorted by ID,
// with their primary ENI's secondary addresses (AdditionalAttributes
// NETWORK_PRIMARY_ENI_IP). It costs ceil(len(ids)/100) calls, made
// concurrently; IDs the cloud does not know are absent from the result.
func (c *Client) DescribeInstances(ctx context.Context, ids []string) ([]*plan.ObservedInstance, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	chunks := slices.Collect(slices.Chunk(ids, idsPerCall))
	results := make([][]*plan.ObservedInstance, len(chunks))
	err := c.parallel(ctx, len(chunks), func(ctx context.Context, i int) error {
		got, err := c.describeInstances(ctx, chunks[i])
		results[i] = got
		return err
	})
	if err != nil {
		return nil, err
	}
	out := slices.Concat(results...)
	slices.SortFunc(out, func(a, b *plan.ObservedInstance) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (c *Client) describeInstances(ctx context.Context, ids []string) ([]*plan.ObservedInstance, error) {
	idList, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	var out []*plan.ObservedInstance
	token := ""
	for {
		var resp *ecssdk.DescribeInstancesResponse
		err := c.run(ctx, actDescribeInstances, func(cn *conn) error {
			req := ecssdk.CreateDescribeInstancesRequest()
			// InstanceIds is a JSON array in one parameter (ecs-api.md §1.4).
			req.InstanceIds = string(idList)
			req.AdditionalAttributes = &[]string{"NETWORK_PRIMARY_ENI_IP"}
			req.MaxResults = requests.NewInteger(idsPerCall)
			req.NextToken = token
			var err error
			resp, err = cn.ecs.DescribeInstances(req)
			return err
		}, nil)
		if err != nil {
			return nil, err
		}
		for _, s := range resp.Instances.Instance {
			in, err := instanceFromSDK(s)
			if err != nil {
				return nil, err
			}
			out = append(out, in)
		}
		// With at most 100 IDs and MaxResults 100 one page holds them all;
		// follow NextToken anyway rather than lose instances.
		if resp.NextToken == "" || resp.NextToken == token || len(resp.Instances.Instance) == 0 {
			return out, nil
		}
		token = resp.NextToken
	}
}

func instanceFromSDK(s ecssdk.Instance) (*plan.ObservedInstance, error) {
	in := &plan.ObservedInstance{
		ID:             s.InstanceId,
		Name:           s.InstanceName,
		Type:           s.InstanceType,
		Status:         plan.InstanceStatus(s.Status),
		Zone:           s.ZoneId,
		VPC:            s.VpcAttributes.VpcId,
		OSType:         strings.ToLower(cmpOr(s.OSType, s.OsType)),
		OSName:         s.OSName,
		SecurityGroups: slices.Clone(s.SecurityGroupIds.SecurityGroupId),
	}
	slices.Sort(in.SecurityGroups)
	var primary *ecssdk.NetworkInterface
	for i, n := range s.NetworkInterfaces.NetworkInterface {
		if n.Type == string(plan.ENIPrimary) || (n.Type == "" && len(s.NetworkInterfaces.NetworkInterface) == 1) {
			primary = &s.NetworkInterfaces.NetworkInterface[i]
			break
		}
	}
	if primary != nil {
		in.PrimaryENI = primary.NetworkInterfaceId
		in.MAC = strings.ToLower(primary.MacAddress)
		var err error
		in.PrimaryIP, in.SecondaryIPs, err = splitIPs(primary.PrimaryIpAddress, primary.PrivateIpSets.PrivateIpSet)
		if err != nil {
			return nil, fmt.Errorf("ecs DescribeInstances: instance %s: %w", in.ID, err)
		}
		// The primary ENI's IPv6 addresses and prefixes come with its
		// secondary addresses (NETWORK_PRIMARY_ENI_IP).
		if in.IPv6, err = ipv6Of(primary.Ipv6Sets.Ipv6Set); err != nil {
			return nil, fmt.Errorf("ecs DescribeInstances: instance %s: IPv6: %w", in.ID, err)
		}
		if in.Prefixes, err = prefixesOf(primary.Ipv4PrefixSets.Ipv4PrefixSet); err != nil {
			return nil, fmt.Errorf("ecs DescribeInstances: instance %s: %w", in.ID, err)
		}
	}
	if !in.PrimaryIP.IsValid() && len(s.VpcAttributes.PrivateIpAddress.IpAddress) > 0 {
		a, err := netip.ParseAddr(s.VpcAttributes.PrivateIpAddress.IpAddress[0])
		if err != nil {
			return nil, fmt.Errorf("ecs DescribeInstances: instance %s: %w", in.ID, err)
		}
		in.PrimaryIP = a
	}
	return in, nil
}

// DescribeInstanceTypes returns the live network quotas of the named
// instance types, sorted by name. It costs ceil(len(names)/10) calls;
// names the cloud does not know are absent from the result.
func (c *Client) DescribeInstanceTypes(ctx context.Context, names []string) ([]plan.TypeQuota, error) {
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	var out []plan.TypeQuota
	for chunk := range slices.Chunk(names, typesPerCall) {
		token := ""
		for {
			var resp *ecssdk.DescribeInstanceTypesResponse
			err := c.run(ctx, actDescribeInstanceTypes, func(cn *conn) error {
				req := ecssdk.CreateDescribeInstanceTypesRequest()
				req.InstanceTypes = ptr(slices.Clone(chunk))
				req.NextToken = token
				var err error
				resp, err = cn.ecs.DescribeInstanceTypes(req)
				return err
			}, nil)
			if err != nil {
				return nil, err
			}
			for _, t := range resp.InstanceTypes.InstanceType {
				out = append(out, plan.TypeQuota{
					Name:         cmpOr(t.InstanceTypeId, t.InstanceType),
					MaxENIs:      t.EniQuantity,
					MaxIPsPerENI: t.EniPrivateIpAddressQuantity,
					// 0 where the answer has no figure: the plan then
					// takes the file's or ecsnet's table.
					MaxIPv6PerENI:   t.EniIpv6AddressQuantity,
					NetworkCards:    t.NetworkCardQuantity,
					MaxQueuesPerENI: t.MaximumQueueNumberPerEni,
				})
			}
			if resp.NextToken == "" || resp.NextToken == token || len(resp.InstanceTypes.InstanceType) == 0 {
				break
			}
			token = resp.NextToken
		}
	}
	slices.SortFunc(out, func(a, b plan.TypeQuota) int { return strings.Compare(a.Name, b.Name) })
	return slices.CompactFunc(out, func(a, b plan.TypeQuota) bool { return a.Name == b.Name }), nil
}

// VSwitchQuery selects vSwitches for DescribeVSwitches: every vSwitch of a
// VPC, or one vSwitch by ID. Set exactly one.
type VSwitchQuery struct {
	VPCID     string
	VSwitchID string
}

// DescribeVSwitches returns the vSwitches q selects, sorted by ID. It
// pages 50 at a time (the API's largest page): max(1, ceil(n/50)) calls.
func (c *Client) DescribeVSwitches(ctx context.Context, q VSwitchQuery) ([]*plan.ObservedVSwitch, error) {
	if (q.VPCID == "") == (q.VSwitchID == "") {
		return nil, errors.New("ecs DescribeVSwitches: set exactly one of VPC ID and vSwitch ID")
	}
	var out []*plan.ObservedVSwitch
	for page := 1; ; page++ {
		var resp *vpcsdk.DescribeVSwitchesResponse
		err := c.run(ctx, actDescribeVSwitches, func(cn *conn) error {
			req := vpcsdk.CreateDescribeVSwitchesRequest()
			req.VpcId = q.VPCID
			req.VSwitchId = q.VSwitchID
			req.PageSize = requests.NewInteger(vswitchPageSize)
			req.PageNumber = requests.NewInteger(page)
			var err error
			resp, err = cn.vpc.DescribeVSwitches(req)
			return err
		}, nil)
		if err != nil {
			return nil, err
		}
		for _, v := range resp.VSwitches.VSwitch {
			sw := &plan.ObservedVSwitch{ID: v.VSwitchId, VPC: v.VpcId, Zone: v.ZoneId, AvailableIPs: int(v.AvailableIpAddressCount)}
			if v.CidrBlock != "" {
				p, err := netip.ParsePrefix(v.CidrBlock)
				if err != nil {
					return nil, fmt.Errorf("ecs DescribeVSwitches: vSwitch %s: CIDR %q: %w", v.VSwitchId, v.CidrBlock, err)
				}
				sw.CIDR = p
			}
			if v.Ipv6CidrBlock != "" {
				p, err := netip.ParsePrefix(v.Ipv6CidrBlock)
				if err != nil {
					return nil, fmt.Errorf("ecs DescribeVSwitches: vSwitch %s: IPv6 block %q: %w", v.VSwitchId, v.Ipv6CidrBlock, err)
				}
				sw.IPv6CIDR = p.Masked()
			}
			out = append(out, sw)
		}
		n := len(resp.VSwitches.VSwitch)
		if n < vswitchPageSize || (resp.TotalCount > 0 && len(out) >= resp.TotalCount) {
			break
		}
	}
	slices.SortFunc(out, func(a, b *plan.ObservedVSwitch) int { return strings.Compare(a.ID, b.ID) })
	return slices.CompactFunc(out, func(a, b *plan.ObservedVSwitch) bool { return a.ID == b.ID }), nil
}

// parallel runs fn(0..n-1) on up to half of MaxConcurrency goroutines (at
// least one), and returns the first error. The other half stays free for
// calls made alongside. After an error no new index starts.
func (c *Client) parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	workers := min(n, max(1, cap(c.slots)/2))
	if workers <= 1 {
		for i := range n {
			if err := fn(ctx, i); err != nil {
				return err
			}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		next  int
		first error
		wg    sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				if first != nil || next >= n {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := fn(ctx, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
						cancel()
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
