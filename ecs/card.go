package ecs

import (
	"context"
	"fmt"

	ecssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecsnet/ecsnet/plan"
)

const actDescribeENIAttribute = "DescribeNetworkInterfaceAttribute"

// NetworkCardIndex returns the network card ENI id is attached to, as
// DescribeNetworkInterfaceAttribute reports it in Attachment.NetworkCardIndex:
// unlike DescribeNetworkInterfaces' Attachment, an invitational preview,
// the field is documented for every account there ("Network card index
// overview", https://help.aliyun.com/en/ecs/user-guide/network-card-mapping;
// the SDK model marks DeviceIndex and InstanceId of that Attachment as a
// preview, NetworkCardIndex not). It has a value only when the attach gave
// one; 0 is returned for "no value" as for card 0, which the plan reads
// alike (plan.cardOf).
func (c *Client) NetworkCardIndex(ctx context.Context, id string) (int, error) {
	var resp *ecssdk.DescribeNetworkInterfaceAttributeResponse
	err := c.run(ctx, actDescribeENIAttribute, func(cn *conn) error {
		req := ecssdk.CreateDescribeNetworkInterfaceAttributeRequest()
		req.NetworkInterfaceId = id
		var err error
		resp, err = cn.ecs.DescribeNetworkInterfaceAttribute(req)
		return err
	}, nil)
	if err != nil {
		return 0, err
	}
	return resp.Attachment.NetworkCardIndex, nil
}

// multiCardENIs returns the bound secondary ENIs whose card the listing
// did not report and whose instance, one of instances, has a type with
// more than one network card: the ENIs Observe asks for their card one by
// one. An ENI on a type with one card is on card 0; asking for every ENI
// would cost a call per ENI on every plan.
func multiCardENIs(enis []*plan.ObservedENI, instances []*plan.ObservedInstance, types []plan.TypeQuota) []*plan.ObservedENI {
	cards := make(map[string]int, len(types))
	for _, t := range types {
		cards[t.Name] = t.NetworkCards
	}
	multi := map[string]bool{}
	for _, in := range instances {
		if cards[in.Type] > 1 {
			multi[in.ID] = true
		}
	}
	var out []*plan.ObservedENI
	for _, e := range enis {
		if e.Type == plan.ENISecondary && e.NetworkCard == 0 && multi[e.InstanceID] {
			out = append(out, e)
		}
	}
	return out
}

// readCards fills in the network card of each ENI of multiCardENIs.
func (c *Client) readCards(ctx context.Context, enis []*plan.ObservedENI) error {
	for _, e := range enis {
		n, err := c.NetworkCardIndex(ctx, e.ID)
		if err != nil {
			return fmt.Errorf("the network card of ENI %s: %w", e.ID, err)
		}
		e.NetworkCard = n
	}
	return nil
}
