package ecs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// v6World is smallWorld's main VPC with an IPv6 block on vsw-bp1aaaa and
// two instances of a type with two network cards and IPv6.
func v6World() *emulator.World {
	return &emulator.World{
		RegionId: testRegion,
		Seed:     7,
		Vpcs:     []emulator.Vpc{{VpcId: "vpc-main", CidrBlock: "10.0.0.0/16"}},
		VSwitches: []emulator.VSwitch{
			{VSwitchId: "vsw-bp1aaaa", VpcId: "vpc-main", ZoneId: "cn-hangzhou-h", CidrBlock: "10.0.0.0/23", Ipv6CidrBlock: "2408:4005:3aa:1b00::/64"},
		},
		SecurityGroups: []emulator.SecurityGroup{{SecurityGroupId: "sg-bp1web1", VpcId: "vpc-main"}},
		InstanceTypes: []emulator.InstanceType{{InstanceTypeId: "ecs.g8i.4xlarge", EniQuantity: 8, EniPrivateIpAddressQuantity: 30,
			EniIpv6AddressQuantity: 10, NetworkCardQuantity: 2, MaximumQueueNumberPerEni: 16}},
		Instances: []emulator.Instance{
			{InstanceId: "i-bp1web1", InstanceName: "web-1", InstanceType: "ecs.g8i.4xlarge", Status: "Running", OSType: "linux",
				VSwitchId: "vsw-bp1aaaa", PrivateIpAddress: "10.0.1.10", NetworkInterfaceId: "eni-pweb1", MacAddress: "00:16:3e:00:00:01",
				SecurityGroupIds: []string{"sg-bp1web1"}},
			{InstanceId: "i-bp1web2", InstanceName: "web-2", InstanceType: "ecs.g8i.4xlarge", Status: "Running", OSType: "linux",
				VSwitchId: "vsw-bp1aaaa", PrivateIpAddress: "10.0.1.20", NetworkInterfaceId: "eni-pweb2", MacAddress: "00:16:3e:00:00:02",
				SecurityGroupIds: []string{"sg-bp1web1"}},
		},
	}
}

// v6Fleet is a desired state over v6World: a dual-stack ENI (counted
// IPv6) and a primary ENI with a pinned IPv6 address, a prefix ENI with
// pinned prefixes and one with a count that takes two calls after its
// create, and an ENI on network card 1 with a queue number. extra is
// spliced into the dual ENI and pinp's prefixes can be replaced.
func v6Fleet(dualIPv6, pinnedPrefixes string) string {
	return `{
	"fleet": "six",
	"region": "cn-hangzhou",
	"vswitches": {"app": {"id": "vsw-bp1aaaa", "zone": "cn-hangzhou-h", "cidr": "10.0.0.0/23", "ipv6Cidr": "2408:4005:3aa:1b00::/64"}},
	"securityGroups": {"web": {"id": "sg-bp1web1"}},
	"limits": {"instanceTypes": {"ecs.g8i.4xlarge": {"maxEnis": 8, "maxIpsPerEni": 30, "maxIpv6PerEni": 10, "networkCards": 2, "maxQueuesPerEni": 16}}},
	"instances": {
		"web-1": {"id": "i-bp1web1", "type": "ecs.g8i.4xlarge", "os": "rocky9",
			"primary": {"vswitch": "app", "ip": "10.0.1.10", "securityGroups": ["web"], "ipv6Ips": ["2408:4005:3aa:1b00::10"]}},
		"web-2": {"id": "i-bp1web2", "type": "ecs.g8i.4xlarge", "os": "debian12",
			"primary": {"vswitch": "app", "ip": "10.0.1.20", "securityGroups": ["web"]}}
	},
	"enis": {
		"dual": {"vswitch": "app", "securityGroups": ["web"], "secondaryIpCount": 1` + dualIPv6 + `, "attachTo": "web-1"},
		"pinp": {"vswitch": "app", "securityGroups": ["web"], "ipv4Prefixes": [` + pinnedPrefixes + `], "attachTo": "web-2"},
		"pods": {"vswitch": "app", "securityGroups": ["web"], "ipv4PrefixCount": 12, "attachTo": "web-2"},
		"card1": {"vswitch": "app", "securityGroups": ["web"], "networkCard": 1, "queues": 4, "attachTo": "web-1"}
	}
}`
}

// planApply observes, plans and applies f with lock, and returns the
// plan, the report and the new lock.
func planApply(t *testing.T, c *Client, f *schema.Fleet, lock *schema.Lock) (*plan.Plan, *plan.Report) {
	t.Helper()
	ctx := context.Background()
	obs, err := c.Observe(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Compute(f, obs, lock, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := plan.Apply(ctx, c, f, p, lock, plan.ApplyOptions{AllowDestroy: true})
	if err != nil {
		t.Fatalf("apply: %v\nplan: %s", err, stepIDs(p))
	}
	if len(rep.Failed) > 0 {
		t.Fatalf("apply failed: %v", rep.Failed[0].Err)
	}
	if rep.Drift == nil || !rep.Drift.Empty() {
		t.Fatalf("not converged: %s", stepIDs(rep.Drift))
	}
	return p, rep
}

func stepIDs(p *plan.Plan) string {
	if p == nil {
		return "(no plan)"
	}
	var ids []string
	for _, s := range p.Steps {
		ids = append(ids, s.ID)
	}
	return strings.Join(ids, "; ")
}

// TestApplyIPv6PrefixesCards is issue 17's proof on the cloud side: a
// fleet with a dual-stack ENI, prefix ENIs (pinned, and counted past what
// one create takes) and an ENI on network card 1 plans and applies
// against the emulator through the SDK, the lock records the cloud's
// picks and the card, and the next plan is empty. Then the IPv6 addresses
// and a prefix are removed: unassign steps, and a plan empty again.
func TestApplyIPv6PrefixesCards(t *testing.T) {
	e := startEmu(t, v6World(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	f := loadFleet(t, v6Fleet(`, "ipv6IpCount": 2`, `"10.0.1.160/28", "10.0.1.176/28"`))

	p, rep := planApply(t, c, f, nil)
	for _, want := range []string{"assign-prefixes eni/pods", "assign-ipv6 instance/web-1", "create eni/dual", "attach eni/card1"} {
		if stepOf(p, want) == nil {
			t.Errorf("no step %q in %s", want, stepIDs(p))
		}
	}
	if s := stepOf(p, "create eni/pods"); s == nil || s.Create.PrefixCount != 10 {
		t.Errorf("create eni/pods: %+v", s)
	}
	if s := stepOf(p, "assign-prefixes eni/pods"); s == nil || s.Count != 2 || s.Calls() != 1 {
		t.Errorf("assign-prefixes eni/pods: %+v", s)
	}
	if s := stepOf(p, "create eni/dual"); s == nil || s.Create.IPv6Count != 2 {
		t.Errorf("create eni/dual: %+v", s)
	}
	if s := stepOf(p, "attach eni/card1"); s == nil || s.NetworkCard != 1 {
		t.Errorf("attach eni/card1: %+v", s)
	}
	lock := rep.Lock
	dual, pods, pinp, card := lock.Secondary("dual"), lock.Secondary("pods"), lock.Secondary("pinp"), lock.Secondary("card1")
	if len(dual.IPv6) != 2 || len(pods.Prefixes) != 12 || len(pinp.Prefixes) != 2 || card.NetworkCard != 1 {
		t.Fatalf("lock: dual IPv6 %v, pods prefixes %v, pinp %v, card1 card %d", dual.IPv6, pods.Prefixes, pinp.Prefixes, card.NetworkCard)
	}
	for _, a := range dual.IPv6 {
		if !a.Added || !netip.MustParsePrefix("2408:4005:3aa:1b00::/64").Contains(a.Addr) {
			t.Errorf("dual's IPv6 %v", a)
		}
	}
	if web1 := lock.Primary("web-1"); len(web1.IPv6) != 1 || web1.IPv6[0].Addr != netip.MustParseAddr("2408:4005:3aa:1b00::10") {
		t.Errorf("web-1's IPv6: %v", web1.IPv6)
	}
	obs, err := c.Observe(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if o := obs.ENI(card.ID); o == nil || o.QueueNumber != 4 {
		t.Errorf("card1 observed: %+v", o)
	}
	again, err := plan.Compute(f, obs, lock, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() {
		t.Fatalf("the second plan is not empty: %s", stepIDs(again))
	}

	// Removal: dual drops its IPv6 addresses, pinp one prefix.
	f2 := loadFleet(t, v6Fleet(``, `"10.0.1.160/28"`))
	p2, rep2 := planApply(t, c, f2, lock)
	un6, unp := stepOf(p2, "unassign-ipv6 eni/dual"), stepOf(p2, "unassign-prefixes eni/pinp")
	if un6 == nil || len(un6.IPs) != 2 || unp == nil || len(unp.Prefixes) != 1 || unp.Prefixes[0] != netip.MustParsePrefix("10.0.1.176/28") {
		t.Fatalf("removal plan: %s", stepIDs(p2))
	}
	if len(p2.Steps) != 2 {
		t.Errorf("removal plan has more than the two unassigns: %s", stepIDs(p2))
	}
	if l := rep2.Lock.Secondary("dual"); len(l.IPv6) != 0 {
		t.Errorf("dual's IPv6 still in the lock: %v", l.IPv6)
	}
	if l := rep2.Lock.Secondary("pinp"); len(l.Prefixes) != 1 {
		t.Errorf("pinp's prefixes in the lock: %v", l.Prefixes)
	}
}

// TestApplyCardChange: moving an attached ENI to another network card is
// a detach and an attach on the new card, and the lock records it.
func TestApplyCardChange(t *testing.T) {
	e := startEmu(t, v6World(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	src := v6Fleet(``, `"10.0.1.160/28"`)
	_, rep := planApply(t, c, loadFleet(t, strings.Replace(src, `"networkCard": 1`, `"networkCard": 0`, 1)), nil)
	p, rep2 := planApply(t, c, loadFleet(t, src), rep.Lock)
	if d, a := stepOf(p, "detach eni/card1"), stepOf(p, "attach eni/card1"); d == nil || a == nil || a.NetworkCard != 1 || !strings.Contains(d.Reason, "network card changes from 0 to 1") {
		t.Fatalf("card change plan: %s", stepIDs(p))
	}
	if l := rep2.Lock.Secondary("card1"); l.NetworkCard != 1 || l.AttachedTo != "web-1" {
		t.Errorf("lock: card %d on %q", l.NetworkCard, l.AttachedTo)
	}
}

// TestApplyFragmentedVSwitch: a vSwitch with free addresses but no free
// aligned /28 fails a prefix count with an error that says so and what to
// do, and nothing retries it.
func TestApplyFragmentedVSwitch(t *testing.T) {
	w := v6World()
	w.VSwitches[0].CidrBlock = "10.0.1.0/24"
	// One address in every /28 of 10.0.1.0/24 held by an ENI ecsnet does
	// not own: 200 addresses stay free, no prefix does.
	var held []string
	for off := 5; off < 256; off += 16 {
		if a := fmt.Sprintf("10.0.1.%d", off); a != "10.0.1.5" {
			held = append(held, a)
		}
	}
	w.NetworkInterfaces = append(w.NetworkInterfaces, emulator.NetworkInterface{NetworkInterfaceId: "eni-frag", VSwitchId: "vsw-bp1aaaa",
		SecurityGroupIds: []string{"sg-bp1web1"}, PrivateIpAddress: "10.0.1.5", SecondaryPrivateIpAddresses: held, MacAddress: "00:16:3e:00:01:09"})
	e := startEmu(t, w, emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	f := loadFleet(t, `{
	"fleet": "six", "region": "cn-hangzhou",
	"vswitches": {"app": {"id": "vsw-bp1aaaa", "zone": "cn-hangzhou-h", "cidr": "10.0.1.0/24"}},
	"securityGroups": {"web": {"id": "sg-bp1web1"}},
	"limits": {"instanceTypes": {"ecs.g8i.4xlarge": {"maxEnis": 8, "maxIpsPerEni": 30}}},
	"instances": {"web-1": {"id": "i-bp1web1", "type": "ecs.g8i.4xlarge", "os": "rocky9", "primary": {"vswitch": "app", "ip": "10.0.1.10", "securityGroups": ["web"]}}},
	"enis": {"pods": {"vswitch": "app", "securityGroups": ["web"], "primaryIp": "10.0.1.30", "ipv4PrefixCount": 2, "attachTo": "web-1"}}
}`)
	ctx := context.Background()
	obs, err := c.Observe(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Compute(f, obs, nil, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := e.Calls()["CreateNetworkInterface"]
	rep, err := plan.Apply(ctx, c, f, p, nil, plan.ApplyOptions{})
	if err != nil && rep == nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 1 {
		t.Fatalf("want the create to fail, got done %d, failed %d", len(rep.Done), len(rep.Failed))
	}
	ferr := rep.Failed[0].Err
	if !errors.Is(ferr, ErrNoFreePrefix) || !IsCode(ferr, "InvalidVSwitchId.IpNotEnough") {
		t.Fatalf("error %v", ferr)
	}
	for _, want := range []string{"no free aligned /28", "CreateVSwitchCidrReservation", "16 free, consecutive addresses"} {
		if !strings.Contains(ferr.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, ferr)
		}
	}
	if n := e.Calls()["CreateNetworkInterface"] - before; n != 1 {
		t.Errorf("%d CreateNetworkInterface calls: the failure was retried", n)
	}
}

func stepOf(p *plan.Plan, id string) *plan.Step {
	for _, s := range p.Steps {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// TestPlanIPv6BlockMismatch: the file's ipv6Cidr is compared with the
// block the cloud reports, like the IPv4 block, and a difference is
// refused at the file's line; so is a block on a vSwitch the cloud has
// none on.
func TestPlanIPv6BlockMismatch(t *testing.T) {
	for _, tc := range []struct {
		name, cloud, want string
	}{
		{"other block", "2408:4005:3aa:1b00::/64", `ipv6Cidr 2408:4005:3aa:1c00::/64 differs from the cloud's 2408:4005:3aa:1b00::/64`},
		{"no block", "", `ipv6Cidr 2408:4005:3aa:1c00::/64: vSwitch vsw-bp1aaaa has no IPv6 block in the cloud`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := v6World()
			w.VSwitches[0].Ipv6CidrBlock = tc.cloud
			e := startEmu(t, w, emulator.Options{})
			c := newClient(t, fastConfig(e.URL))
			src := strings.Replace(v6Fleet(``, `"10.0.1.160/28"`), `"ipv6Cidr": "2408:4005:3aa:1b00::/64"`, `"ipv6Cidr": "2408:4005:3aa:1c00::/64"`, 1)
			src = strings.Replace(src, `, "ipv6Ips": ["2408:4005:3aa:1b00::10"]`, ``, 1)
			f := loadFleet(t, src)
			obs, err := c.Observe(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = plan.Compute(f, obs, nil, plan.Options{})
			var es schema.Errors
			if !errors.As(err, &es) || len(es) != 1 || !strings.Contains(es[0].Msg, tc.want) || es[0].Pos.Line != 4 || es[0].Pos.Col != 105 {
				t.Fatalf("want one error at 4:105 (the ipv6Cidr value) saying %q, got %v", tc.want, err)
			}
		})
	}
}

// TestPruneIPv6AndPrefixes: an IPv6 address and a prefix assigned by hand
// to a managed ENI are listed as unrecorded and left alone, like an IPv4
// address; plan --prune unassigns them.
func TestPruneIPv6AndPrefixes(t *testing.T) {
	e := startEmu(t, v6World(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	f := loadFleet(t, v6Fleet(`, "ipv6IpCount": 1`, `"10.0.1.160/28"`))
	_, rep := planApply(t, c, f, nil)
	ctx := context.Background()
	pinp := rep.Lock.Secondary("pinp").ID
	if _, err := c.AssignIpv6Addresses(ctx, AssignIPv6Input{ENIID: rep.Lock.Secondary("dual").ID, IPs: mustAddrs("2408:4005:3aa:1b00::99"), ClientToken: "by-hand-6"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssignIpv4Prefixes(ctx, AssignPrefixesInput{ENIID: pinp, Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.1.192/28")}, ClientToken: "by-hand-p"}); err != nil {
		t.Fatal(err)
	}
	obs, err := c.Observe(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Compute(f, obs, rep.Lock, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() || len(p.Unrecorded) != 2 || p.KeptUnrecorded() != 2 {
		// KeptUnrecorded is what plan --fail-on-unrecorded counts: the
		// prefix too.
		t.Fatalf("without --prune: steps %s, unrecorded %+v (%d counted)", stepIDs(p), p.Unrecorded, p.KeptUnrecorded())
	}
	pr, err := plan.Compute(f, obs, rep.Lock, plan.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	un6, unp := stepOf(pr, "unassign-ipv6 eni/dual"), stepOf(pr, "unassign-prefixes eni/pinp")
	if len(pr.Steps) != 2 || un6 == nil || un6.IPs[0] != netip.MustParseAddr("2408:4005:3aa:1b00::99") || !un6.Drift ||
		unp == nil || unp.Prefixes[0] != netip.MustParsePrefix("10.0.1.192/28") {
		t.Fatalf("with --prune: %s", stepIDs(pr))
	}
}

// TestApplyIPv6PrefixesFaults: the same fleet converges when the cloud
// throttles, fails answers, and commits a call but fails or drops its
// answer: the retried assigns replay their ClientTokens (a prefix count
// split into calls, each with its own), so no IPv6 address or prefix is
// assigned twice, and the plan after the apply is empty.
func TestApplyIPv6PrefixesFaults(t *testing.T) {
	w := v6World()
	w.VSwitches[0].CidrBlock = "10.0.0.0/22" // room for 25 prefixes among picked addresses
	e := startEmu(t, w, emulator.Options{ThrottleRate: 0.1, ServerErrorRate: 0.05, CommitThenFailRate: 0.2, CommitThenDropRate: 0.1})
	c := newClient(t, fastConfig(e.URL))
	src := strings.Replace(v6Fleet(`, "ipv6IpCount": 2`, `"10.0.1.160/28", "10.0.1.176/28"`), `"ipv4PrefixCount": 12`, `"ipv4PrefixCount": 25`, 1)
	src = strings.Replace(src, `"cidr": "10.0.0.0/23"`, `"cidr": "10.0.0.0/22"`, 1)
	f := loadFleet(t, src)
	p, rep := planApply(t, c, f, nil)
	if s := stepOf(p, "assign-prefixes eni/pods"); s == nil || s.Calls() != 2 {
		t.Fatalf("assign-prefixes eni/pods: %+v", s)
	}
	if n := len(rep.Lock.Secondary("pods").Prefixes); n != 25 {
		t.Errorf("pods has %d prefixes in the lock, want 25", n)
	}
	obs, err := c.Observe(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	o := obs.ENI(rep.Lock.Secondary("pods").ID)
	if o == nil || len(o.Prefixes) != 25 || len(obs.ENI(rep.Lock.Secondary("dual").ID).IPv6) != 2 {
		t.Errorf("the cloud holds %d prefixes on pods (want 25) and IPv6 %v on dual", len(o.Prefixes), obs.ENI(rep.Lock.Secondary("dual").ID).IPv6)
	}
}

// TestPlanCallsFormula: the calls apply makes, as the emulator counts
// them, are the plan's call-count formula (plan.Plan.Calls): one per
// step, ⌈n/10⌉ for a prefix step of n prefixes.
func TestPlanCallsFormula(t *testing.T) {
	w := v6World()
	w.VSwitches[0].CidrBlock = "10.0.0.0/22"
	w.InstanceTypes[0].EniIpv6AddressQuantity = 20
	e := startEmu(t, w, emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	src := strings.Replace(v6Fleet(`, "ipv6IpCount": 12`, `"10.0.1.160/28", "10.0.1.176/28"`), `"ipv4PrefixCount": 12`, `"ipv4PrefixCount": 25`, 1)
	src = strings.Replace(src, `"cidr": "10.0.0.0/23"`, `"cidr": "10.0.0.0/22"`, 1)
	src = strings.Replace(src, `"maxIpv6PerEni": 10`, `"maxIpv6PerEni": 20`, 1)
	f := loadFleet(t, src)
	ctx := context.Background()
	obs, err := c.Observe(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Compute(f, obs, nil, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := p.Calls()
	if want["AssignPrivateIpAddresses"] != 2 || want["AssignIpv6Addresses"] != 2 {
		// pods: 10 prefixes on the create, 15 in 2 calls; web-1's
		// pinned IPv6 and dual's 2 beyond the create's 10.
		t.Errorf("formula %v", want)
	}
	before := e.Calls()
	rep, err := plan.Apply(ctx, c, f, p, nil, plan.ApplyOptions{Observed: obs})
	if err != nil || len(rep.Failed) > 0 {
		t.Fatalf("apply: %v %v", err, rep.Failed)
	}
	after := e.Calls()
	for action, n := range want {
		if got := after[action] - before[action]; got != n {
			t.Errorf("%s: %d calls, the formula says %d", action, got, n)
		}
	}
}

// TestWithHostsIPv6Prefixes: with --hosts, a host stops using IPv6
// addresses and prefixes before the cloud unassigns them (host-remove
// first), and is configured after the cloud assigns them (host-apply
// after).
func TestWithHostsIPv6Prefixes(t *testing.T) {
	e := startEmu(t, v6World(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	_, rep := planApply(t, c, loadFleet(t, v6Fleet(`, "ipv6IpCount": 2`, `"10.0.1.160/28", "10.0.1.176/28"`)), nil)
	f := loadFleet(t, v6Fleet(`, "ipv6IpCount": 3`, `"10.0.1.160/28"`))
	obs, err := c.Observe(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Compute(f, obs, rep.Lock, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := plan.WithHosts(p, f, obs)
	dependsOn := func(id, dep string) bool {
		s := stepOf(h, id)
		return s != nil && slices.Contains(s.DependsOn, dep)
	}
	if !dependsOn("unassign-prefixes eni/pinp", "host-remove host/web-2") {
		t.Errorf("unassign-prefixes does not wait for web-2's host-remove: %s", stepIDs(h))
	}
	if !dependsOn("host-apply host/web-1", "assign-ipv6 eni/dual") {
		t.Errorf("web-1's host-apply does not wait for assign-ipv6: %s", stepIDs(h))
	}
}

// TestPlanQueues: a queue number changes with a modify while the ENI is
// Available; on an ENI attached to a running instance the API refuses
// it, so the plan does, at the file's queues, saying what to do.
func TestPlanQueues(t *testing.T) {
	e := startEmu(t, v6World(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	src := v6Fleet(``, `"10.0.1.160/28"`)
	_, rep := planApply(t, c, loadFleet(t, src), nil)
	f := loadFleet(t, strings.Replace(src, `"queues": 4`, `"queues": 8`, 1))
	obs, err := c.Observe(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	_, err = plan.Compute(f, obs, rep.Lock, plan.Options{})
	var es schema.Errors
	if !errors.As(err, &es) || len(es) != 1 || !strings.Contains(es[0].Msg, "queue number (4 → 8) only while the ENI is Available or its instance is Stopped") ||
		es[0].Path != `enis."card1".queues` || !strings.Contains(es[0].Hint, "stop the instance yourself") {
		t.Fatalf("running: %v", err)
	}

	// Unbound, the ENI is Available: a modify, applied.
	unbound := strings.Replace(strings.Replace(src, `"queues": 4`, `"queues": 8`, 1), `"networkCard": 1, "queues": 8, "attachTo": "web-1"`, `"queues": 8`, 1)
	p, rep2 := planApply(t, c, loadFleet(t, unbound), rep.Lock)
	m := stepOf(p, "modify eni/card1")
	if m == nil || m.Modify.QueueNumber == nil || *m.Modify.QueueNumber != 8 || !slices.Contains(m.DependsOn, "detach eni/card1") {
		t.Fatalf("unbound: %s", stepIDs(p))
	}
	obs, err = c.Observe(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if o := obs.ENI(rep2.Lock.Secondary("card1").ID); o.QueueNumber != 8 || o.InstanceID != "" {
		t.Errorf("card1: queues %d on %q", o.QueueNumber, o.InstanceID)
	}
}

// TestChoosePrimaryOutsidePrefixes: the primary address ecsnet chooses
// for a new ENI (the lowest free one) is never inside a /28 the file pins
// as a prefix: the create would take an address the prefix needs.
func TestChoosePrimaryOutsidePrefixes(t *testing.T) {
	w := v6World()
	w.VSwitches[0].CidrBlock = "10.0.1.0/24"
	w.Instances[1].PrivateIpAddress = "10.0.1.40"
	var held []string
	for i := 2; i < 16; i++ {
		if i != 10 {
			held = append(held, fmt.Sprintf("10.0.1.%d", i))
		}
	}
	w.NetworkInterfaces = append(w.NetworkInterfaces, emulator.NetworkInterface{NetworkInterfaceId: "eni-hand", VSwitchId: "vsw-bp1aaaa",
		SecurityGroupIds: []string{"sg-bp1web1"}, PrivateIpAddress: "10.0.1.1", SecondaryPrivateIpAddresses: held, MacAddress: "00:16:3e:00:01:09"})
	e := startEmu(t, w, emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	f := loadFleet(t, `{
	"fleet": "six", "region": "cn-hangzhou",
	"vswitches": {"app": {"id": "vsw-bp1aaaa", "zone": "cn-hangzhou-h", "cidr": "10.0.1.0/24"}},
	"securityGroups": {"web": {"id": "sg-bp1web1"}},
	"limits": {"instanceTypes": {"ecs.g8i.4xlarge": {"maxEnis": 8, "maxIpsPerEni": 30}}},
	"instances": {"web-1": {"id": "i-bp1web1", "type": "ecs.g8i.4xlarge", "os": "rocky9", "primary": {"vswitch": "app", "ip": "10.0.1.10", "securityGroups": ["web"]}}},
	"enis": {
		"aa": {"vswitch": "app", "securityGroups": ["web"], "secondaryIps": ["10.0.1.100"], "attachTo": "web-1"},
		"pp": {"vswitch": "app", "securityGroups": ["web"], "primaryIp": "10.0.1.101", "ipv4Prefixes": ["10.0.1.16/28"], "attachTo": "web-1"}
	}
}`)
	p, _ := planApply(t, c, f, nil)
	if s := stepOf(p, "create eni/aa"); s == nil || s.Create.PrimaryIP != netip.MustParseAddr("10.0.1.32") {
		t.Fatalf("create eni/aa: %+v", s)
	}
}

// TestPlanPrefixOverlapsCloud: a pinned prefix that takes an address an
// ENI outside the file holds, and a pinned address inside a prefix the
// cloud has on such an ENI, are refused at plan time, where the file pins
// them, rather than by the cloud half-way through the apply.
func TestPlanPrefixOverlapsCloud(t *testing.T) {
	w := v6World()
	w.NetworkInterfaces = append(w.NetworkInterfaces, emulator.NetworkInterface{NetworkInterfaceId: "eni-hand", VSwitchId: "vsw-bp1aaaa",
		SecurityGroupIds: []string{"sg-bp1web1"}, PrivateIpAddress: "10.0.1.200", MacAddress: "00:16:3e:00:01:09", Ipv4Prefixes: []string{"10.0.1.224/28"}})
	e := startEmu(t, w, emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	src := strings.Replace(v6Fleet(``, `"10.0.1.192/28"`), `"secondaryIpCount": 1`, `"secondaryIps": ["10.0.1.230"]`, 1)
	f := loadFleet(t, src)
	obs, err := c.Observe(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	_, err = plan.Compute(f, obs, nil, plan.Options{})
	var es schema.Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("want two errors, got %v", err)
	}
	var msgs []string
	for _, x := range es {
		msgs = append(msgs, x.Path+": "+x.Msg)
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{`enis."pinp".ipv4Prefixes: prefix 10.0.1.192/28 takes 10.0.1.200, which is held by ENI eni-hand`,
		`enis."dual".secondaryIps: 10.0.1.230 is inside prefix 10.0.1.224/28, which is held by ENI eni-hand`} {
		if !strings.Contains(got, want) {
			t.Errorf("the errors do not say %q:\n%s", want, got)
		}
	}
}

// TestImportIPv6Prefixes: ecsnet import --all writes a region's IPv6
// blocks, the IPv6 addresses and prefixes of primary and secondary ENIs
// and the types' IPv6 figures, and the desired state it writes plans
// empty against the cloud it came from.
func TestImportIPv6Prefixes(t *testing.T) {
	w := v6World()
	w.Instances[0].Ipv6Addresses = []string{"2408:4005:3aa:1b00::10"}
	w.Instances[1].Ipv4Prefixes = []string{"10.0.1.48/28"}
	w.NetworkInterfaces = append(w.NetworkInterfaces, emulator.NetworkInterface{NetworkInterfaceId: "eni-hand", NetworkInterfaceName: "hand", VSwitchId: "vsw-bp1aaaa",
		SecurityGroupIds: []string{"sg-bp1web1"}, PrivateIpAddress: "10.0.1.200", MacAddress: "00:16:3e:00:01:09", InstanceId: "i-bp1web1", DeviceIndex: 1,
		Ipv6Addresses: []string{"2408:4005:3aa:1b00::20", "2408:4005:3aa:1b00::21"}, Ipv4Prefixes: []string{"10.0.1.224/28"}})
	e := startEmu(t, w, emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	ctx := context.Background()
	r, err := c.ObserveVPCs(ctx, []string{"vpc-main"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := plan.Import(r, "six").WriteCUE(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`ipv6Cidr: "2408:4005:3aa:1b00::/64"`, `ipv6Ips: ["2408:4005:3aa:1b00::10"]`, `ipv4Prefixes: ["10.0.1.48/28"]`,
		`"2408:4005:3aa:1b00::20", "2408:4005:3aa:1b00::21"`, `"10.0.1.224/28"`, `maxIpv6PerEni: 10`, `networkCards: 2`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the import lacks %s:\n%s", want, b.String())
		}
	}
	p := filepath.Join(t.TempDir(), "fleet.cue")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := schema.Load([]string{p}, schema.LoadOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	obs, err := c.Observe(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := plan.Compute(f, obs, nil, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !pl.Empty() || len(pl.Unrecorded) != 0 {
		t.Errorf("the imported fleet plans %s, unrecorded %+v", stepIDs(pl), pl.Unrecorded)
	}
}

// TestPlanIPv6Held: a pinned IPv6 address another ENI holds is refused at
// the file's address, with its path (a primary ENI's is
// instances."x".primary.ipv6Ips).
func TestPlanIPv6Held(t *testing.T) {
	w := v6World()
	w.NetworkInterfaces = append(w.NetworkInterfaces, emulator.NetworkInterface{NetworkInterfaceId: "eni-hand", VSwitchId: "vsw-bp1aaaa",
		SecurityGroupIds: []string{"sg-bp1web1"}, PrivateIpAddress: "10.0.1.200", MacAddress: "00:16:3e:00:01:09", Ipv6Addresses: []string{"2408:4005:3aa:1b00::10"}})
	e := startEmu(t, w, emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	f := loadFleet(t, v6Fleet(``, `"10.0.1.160/28"`))
	obs, err := c.Observe(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	_, err = plan.Compute(f, obs, nil, plan.Options{})
	var es schema.Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Path != `instances."web-1".primary.ipv6Ips` || es[0].Msg != "2408:4005:3aa:1b00::10 is held by ENI eni-hand" {
		t.Fatalf("got %v", err)
	}
}
