package ecs

import (
	"context"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// TestObserveCardWithoutPreview: an account without the preview fields
// sees the network card of an ENI attached to an instance of a type with
// two cards through DescribeNetworkInterfaceAttribute, one call per such
// ENI; an ENI on a one-card type costs no call. The plan of a file that
// wants the ENI on card 0, with a lock that says 0, then sees the card
// changed by hand and attaches it again (before, it trusted the lock);
// import --all writes the card.
func TestObserveCardWithoutPreview(t *testing.T) {
	w := v6World()
	off := false
	w.PreviewFields = &off
	w.InstanceTypes = append(w.InstanceTypes, emulator.InstanceType{InstanceTypeId: "ecs.g7.large", EniQuantity: 3, EniPrivateIpAddressQuantity: 6})
	w.Instances[1].InstanceType = "ecs.g7.large"
	w.NetworkInterfaces = append(w.NetworkInterfaces,
		emulator.NetworkInterface{NetworkInterfaceId: "eni-card1", VSwitchId: "vsw-bp1aaaa", SecurityGroupIds: []string{"sg-bp1web1"},
			PrivateIpAddress: "10.0.1.200", MacAddress: "00:16:3e:00:01:09", InstanceId: "i-bp1web1", DeviceIndex: 1, NetworkCardIndex: 1},
		emulator.NetworkInterface{NetworkInterfaceId: "eni-card0", VSwitchId: "vsw-bp1aaaa", SecurityGroupIds: []string{"sg-bp1web1"},
			PrivateIpAddress: "10.0.1.201", MacAddress: "00:16:3e:00:01:0a", InstanceId: "i-bp1web1", DeviceIndex: 2},
		emulator.NetworkInterface{NetworkInterfaceId: "eni-small", VSwitchId: "vsw-bp1aaaa", SecurityGroupIds: []string{"sg-bp1web1"},
			PrivateIpAddress: "10.0.1.202", MacAddress: "00:16:3e:00:01:0b", InstanceId: "i-bp1web2", DeviceIndex: 1})
	e := startEmu(t, w, emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	f := loadFleet(t, `{
	"fleet": "six",
	"region": "cn-hangzhou",
	"vswitches": {"app": {"id": "vsw-bp1aaaa", "zone": "cn-hangzhou-h", "cidr": "10.0.0.0/23"}},
	"securityGroups": {"web": {"id": "sg-bp1web1"}},
	"limits": {"instanceTypes": {"ecs.g8i.4xlarge": {"maxEnis": 8, "maxIpsPerEni": 30, "networkCards": 2}}},
	"instances": {
		"web-1": {"id": "i-bp1web1", "type": "ecs.g8i.4xlarge", "os": "rocky9", "primary": {"vswitch": "app", "ip": "10.0.1.10", "securityGroups": ["web"]}},
		"web-2": {"id": "i-bp1web2", "type": "ecs.g7.large", "os": "rocky9", "primary": {"vswitch": "app", "ip": "10.0.1.20", "securityGroups": ["web"]}}
	},
	"enis": {"moved": {"id": "eni-card1", "vswitch": "app", "securityGroups": ["web"], "primaryIp": "10.0.1.200", "attachTo": "web-1"}}
}`)
	o, err := c.Observe(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if x := o.ENI("eni-card1"); x == nil || x.NetworkCard != 1 {
		t.Fatalf("eni-card1: %+v, want card 1", x)
	}
	if x := o.ENI("eni-card0"); x == nil || x.NetworkCard != 0 {
		t.Fatalf("eni-card0: %+v, want card 0", x)
	}
	// eni-card1 and eni-card0 are on web-1's two-card type; eni-small on
	// web-2's one-card type is not asked.
	checkCalls(t, e.Calls(), ObserveSizes{VSwitchesPerVPC: []int{1}, ENIsPerVPC: []int{7}, Instances: 2, InstanceTypes: 2, MultiCardENIs: 2})

	// ecsnet import --all reads it the same way.
	r, err := c.ObserveVPCs(context.Background(), []string{"vpc-main"})
	if err != nil {
		t.Fatal(err)
	}
	var imp strings.Builder
	if err := plan.Import(r, "six").WriteCUE(&imp); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.Join(strings.Fields(imp.String()), " "), "networkCard: 1"); n != 1 {
		t.Errorf("import --all writes networkCard: 1 %d times, want once (eni-card1):\n%s", n, imp.String())
	}

	lock := &schema.Lock{}
	lock.Put(&schema.LockedENI{Name: "moved", ID: "eni-card1", MAC: "00:16:3e:00:01:09", AttachedTo: "web-1", DeviceIndex: 1, PrimaryIP: o.ENI("eni-card1").PrimaryIP})
	p, err := plan.Compute(f, o, lock, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	plan.WriteText(&b, p, plan.TextOptions{})
	if !strings.Contains(b.String(), "its network card changes from 1 to 0") {
		t.Errorf("the plan does not see the card changed by hand:\n%s", b.String())
	}
}
