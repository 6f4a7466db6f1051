package ecs

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/internal/testfleet"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

func snapshotBytes(t testing.TB, o *plan.Observed) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := o.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkCalls compares the emulator's counters with the formula.
func checkCalls(t testing.TB, got map[string]int, s ObserveSizes) {
	t.Helper()
	want := ObserveCalls(s)
	for k, v := range want {
		if v == 0 {
			delete(want, k)
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("Observe made %v calls, the formula says %v (sizes %+v)", got, want, s)
	}
}

func TestObserveSmall(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	f := loadFleet(t, smallFleet)

	o, err := c.Observe(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	// vpc-main is in scope, with 2 vSwitches and 5 ENIs; vsw-bp1gone is
	// missing; 4 instances asked for; types g7.large, g6.large and
	// c7.large from the fleet, g7.xlarge from the cloud (win-1's real type).
	checkCalls(t, e.Calls(), ObserveSizes{MissingVSwitches: 1, VSwitchesPerVPC: []int{2}, ENIsPerVPC: []int{5}, Instances: 4, InstanceTypes: 4})

	if o.Instance("i-bp1ghost") != nil || o.ENI("eni-else") != nil || o.VSwitch("vsw-bp1else") != nil || o.VSwitch("vsw-bp1gone") != nil {
		t.Error("observed something outside the fleet's VPCs")
	}
	if len(o.Instances) != 3 || len(o.ENIs) != 5 || len(o.VSwitches) != 2 || len(o.InstanceTypes) != 4 {
		t.Errorf("sizes: %d instances, %d ENIs, %d vSwitches, %d types", len(o.Instances), len(o.ENIs), len(o.VSwitches), len(o.InstanceTypes))
	}
	if on := o.ENIsOf("i-bp1web1"); len(on) != 2 || on[0].ID != "eni-pweb1" || on[1].ID != "eni-vip" {
		t.Errorf("ENIs of web-1: %v", on)
	}
	got := snapshotBytes(t, o)
	golden.Check(t, "testdata/observe_small.golden", got)

	// Same cloud, same bytes; and the snapshot reads back to the same.
	e.ResetCounters()
	o2, err := c.Observe(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if b := snapshotBytes(t, o2); !bytes.Equal(b, got) {
		t.Error("a second Observe gave different bytes")
	}
	back, err := plan.ReadSnapshot(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if b := snapshotBytes(t, back); !bytes.Equal(b, got) {
		t.Error("the snapshot does not read back to itself")
	}
}

func TestObserveRejectsOtherRegion(t *testing.T) {
	hygiene(t)
	cfg := fastConfig("http://127.0.0.1:1")
	cfg.Region = "cn-beijing"
	c := newClient(t, cfg)
	if _, err := c.Observe(context.Background(), loadFleet(t, smallFleet)); err == nil || !strings.Contains(err.Error(), "region") {
		t.Errorf("err = %v", err)
	}
}

// worldFromFleet builds a cloud in which fleet f's instances exist, with
// the first `secondaries` of its ENIs (by name) already created and
// attached as the fleet says.
func worldFromFleet(f *schema.Fleet, secondaries int) *emulator.World {
	const vpc = "vpc-fleet"
	w := &emulator.World{
		RegionId: f.Region,
		Seed:     1,
		Vpcs:     []emulator.Vpc{{VpcId: vpc, CidrBlock: "10.0.0.0/8"}},
	}
	for _, v := range f.VSwitches {
		w.VSwitches = append(w.VSwitches, emulator.VSwitch{VSwitchId: v.ID, VpcId: vpc, ZoneId: v.Zone, CidrBlock: v.CIDR.String()})
	}
	for _, g := range f.SecurityGroups {
		w.SecurityGroups = append(w.SecurityGroups, emulator.SecurityGroup{SecurityGroupId: g.ID, VpcId: vpc})
	}
	groups := func(names []string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = f.SecurityGroup(n).ID
		}
		return out
	}
	strs := func(as []netip.Addr) []string {
		out := make([]string, len(as))
		for i, a := range as {
			out[i] = a.String()
		}
		return out
	}
	for _, in := range f.Instances {
		os := "linux"
		if in.OS.Windows() {
			os = "windows"
		}
		w.Instances = append(w.Instances, emulator.Instance{
			InstanceId: in.ID, InstanceName: in.Name, InstanceType: in.Type, OSType: os,
			VSwitchId: f.VSwitch(in.Primary.VSwitch).ID, PrivateIpAddress: in.Primary.IP.String(),
			SecurityGroupIds: groups(in.Primary.SecurityGroups), SecondaryPrivateIpAddresses: strs(in.Primary.PinnedAddrs()),
		})
	}
	for _, e := range f.ENIs[:secondaries] {
		ni := emulator.NetworkInterface{
			NetworkInterfaceName: e.Name, Description: e.Description, VSwitchId: f.VSwitch(e.VSwitch).ID,
			SecurityGroupIds: groups(e.SecurityGroups), SecondaryPrivateIpAddresses: strs(e.PinnedAddrs()),
			Tags: []emulator.Tag{{TagKey: "ecsnet:fleet", TagValue: f.Name}, {TagKey: "ecsnet:name", TagValue: e.Name}},
		}
		if e.PrimaryIP.IsValid() {
			ni.PrivateIpAddress = e.PrimaryIP.String()
		}
		if e.AttachTo != "" {
			ni.InstanceId = f.Instance(e.AttachTo).ID
		}
		w.NetworkInterfaces = append(w.NetworkInterfaces, ni)
	}
	return w
}

func genFleet(t testing.TB, instances int) *schema.Fleet {
	t.Helper()
	return loadFleet(t, string(testfleet.Generate(testfleet.Options{Instances: instances, Format: "json", Seed: 1})))
}

// TestObserveCallsEqualFormula checks the call count at ENI totals around
// page boundaries: 400 instances (4 DescribeInstances calls, 4 vSwitches)
// and 499, 500, 501 and 1,001 ENIs, primaries included.
func TestObserveCallsEqualFormula(t *testing.T) {
	f := genFleet(t, 400)
	for _, total := range []int{400, 499, 500, 501, 1001} {
		t.Run(fmt.Sprint(total), func(t *testing.T) {
			e := startEmu(t, worldFromFleet(f, total-400), emulator.Options{})
			c := newClient(t, fastConfig(e.URL))
			o, err := c.Observe(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.ENIs) != total || len(o.Instances) != 400 || len(o.VSwitches) != 4 {
				t.Fatalf("observed %d ENIs, %d instances, %d vSwitches", len(o.ENIs), len(o.Instances), len(o.VSwitches))
			}
			checkCalls(t, e.Calls(), ObserveSizes{VSwitchesPerVPC: []int{4}, ENIsPerVPC: []int{total}, Instances: 400, InstanceTypes: 1})
		})
	}
}

func TestObserveCallsFormula(t *testing.T) {
	got := ObserveCalls(ObserveSizes{MissingVSwitches: 2, VSwitchesPerVPC: []int{0, 50, 51}, ENIsPerVPC: []int{0, 500, 20000},
		Instances: 7000, InstanceTypes: 11})
	want := map[string]int{
		"DescribeVSwitches":         3 + 2 + 1 + 1 + 2,
		"DescribeNetworkInterfaces": 1 + 1 + 40,
		"DescribeInstances":         70,
		"DescribeInstanceTypes":     2,
	}
	if !maps.Equal(got, want) {
		t.Errorf("ObserveCalls = %v, want %v", got, want)
	}
}

func TestPagination(t *testing.T) {
	w := smallWorld()
	for i := range 20 {
		w.NetworkInterfaces = append(w.NetworkInterfaces, emulator.NetworkInterface{
			NetworkInterfaceId: fmt.Sprintf("eni-extra%02d", i), VSwitchId: "vsw-bp1bbbb", SecurityGroupIds: []string{"sg-bp1db01"},
			PrivateIpAddress: fmt.Sprintf("10.0.2.%d", 100+i)})
	}
	for i := range 120 {
		w.VSwitches = append(w.VSwitches, emulator.VSwitch{VSwitchId: fmt.Sprintf("vsw-many%03d", i), VpcId: "vpc-else",
			ZoneId: "cn-hangzhou-i", CidrBlock: fmt.Sprintf("172.16.%d.%d/28", 10+i/16, (i%16)*16)})
	}
	e := startEmu(t, w, emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	ctx := context.Background()

	const enis = 25 // 3 primaries, the VIP, the spare and 20 extra
	var first string
	for _, size := range []int{1, 4, 5, 24, 25, 26, 500} {
		e.ResetCounters()
		got, err := c.DescribeNetworkInterfaces(ctx, ENIQuery{VPCID: "vpc-main", MaxResults: size})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, x := range got {
			ids = append(ids, x.ID)
		}
		if len(ids) != enis {
			t.Fatalf("page size %d: %d ENIs, want %d", size, len(ids), enis)
		}
		if s := strings.Join(ids, ","); first == "" {
			first = s
		} else if s != first {
			t.Errorf("page size %d lists other ENIs", size)
		}
		if n, want := e.Calls()["DescribeNetworkInterfaces"], max(1, ceilDiv(enis, size)); n != want {
			t.Errorf("page size %d: %d calls, want %d", size, n, want)
		}
	}

	// By ID: 100 a call.
	ids := []string{"eni-vip"}
	for i := range 249 {
		ids = append(ids, fmt.Sprintf("eni-nope%03d", i))
	}
	e.ResetCounters()
	got, err := c.DescribeNetworkInterfaces(ctx, ENIQuery{IDs: ids})
	if err != nil || len(got) != 1 {
		t.Fatalf("by 250 IDs: %v, %v", got, err)
	}
	if n := e.Calls()["DescribeNetworkInterfaces"]; n != 3 {
		t.Errorf("250 IDs took %d calls, want 3", n)
	}

	// vSwitches 50 a page: 121 in vpc-else.
	e.ResetCounters()
	vs, err := c.DescribeVSwitches(ctx, VSwitchQuery{VPCID: "vpc-else"})
	if err != nil || len(vs) != 121 {
		t.Fatalf("vSwitches of vpc-else: %d, %v", len(vs), err)
	}
	if n := e.Calls()["DescribeVSwitches"]; n != 3 {
		t.Errorf("121 vSwitches took %d calls, want 3", n)
	}

	// Instances 100 a call; types 10 a call.
	e.ResetCounters()
	many := []string{"i-bp1web1", "i-bp1web2"}
	for i := range 199 {
		many = append(many, fmt.Sprintf("i-nope%03d", i))
	}
	if got, err := c.DescribeInstances(ctx, many); err != nil || len(got) != 2 {
		t.Fatalf("201 instance IDs: %v, %v", got, err)
	}
	var types []string
	for _, t := range schema.BuiltinInstanceTypes()[:21] {
		types = append(types, t.Name)
	}
	if got, err := c.DescribeInstanceTypes(ctx, types); err != nil || len(got) != 21 {
		t.Fatalf("21 types: %d, %v", len(got), err)
	}
	if calls := e.Calls(); calls["DescribeInstances"] != 3 || calls["DescribeInstanceTypes"] != 3 {
		t.Errorf("calls = %v, want 3 DescribeInstances and 3 DescribeInstanceTypes", calls)
	}
}

// BenchmarkObserve20k observes 20,000 ENIs (7,000 primary, 13,000
// secondary, 11 addresses each) on 7,000 instances from the emulator over
// loopback HTTP, and reports the calls made next to the formula.
func BenchmarkObserve20k(b *testing.B) {
	const instances, enis = 7000, 20000
	f := genFleet(b, instances)
	e := startEmu(b, worldFromFleet(f, enis-instances), emulator.Options{})
	c := newClient(b, fastConfig(e.URL))
	sizes := ObserveSizes{VSwitchesPerVPC: []int{len(f.VSwitches)}, ENIsPerVPC: []int{enis}, Instances: instances, InstanceTypes: 1}
	formula := 0
	for _, n := range ObserveCalls(sizes) {
		formula += n
	}
	e.ResetCounters()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		o, err := c.Observe(context.Background(), f)
		if err != nil {
			b.Fatal(err)
		}
		if len(o.ENIs) != enis {
			b.Fatalf("observed %d ENIs", len(o.ENIs))
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	calls := 0
	for _, n := range e.Calls() {
		calls += n
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	b.ReportMetric(float64(formula), "formula-calls/op")
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/observe")
	if calls != formula*b.N {
		b.Errorf("%d calls for %d observes, the formula says %d each", calls, b.N, formula)
	}
}
