package ecs

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/plan"
)

func TestDescribeVSwitches(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	ctx := context.Background()

	got, err := c.DescribeVSwitches(ctx, VSwitchQuery{VPCID: "vpc-main"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "vsw-bp1aaaa" || got[1].ID != "vsw-bp1bbbb" {
		t.Fatalf("vSwitches of vpc-main = %+v", got)
	}
	a := got[0]
	if a.VPC != "vpc-main" || a.Zone != "cn-hangzhou-h" || a.CIDR != netip.MustParsePrefix("10.0.1.0/24") {
		t.Errorf("vsw-bp1aaaa = %+v", a)
	}
	// 252 usable in a /24; web-1 (3 addresses), web-2 (1) and the VIP (3).
	if a.AvailableIPs != 252-7 {
		t.Errorf("vsw-bp1aaaa AvailableIPs = %d, want %d", a.AvailableIPs, 252-7)
	}
	one, err := c.DescribeVSwitches(ctx, VSwitchQuery{VSwitchID: "vsw-bp1bbbb"})
	if err != nil || len(one) != 1 || one[0].VPC != "vpc-main" {
		t.Fatalf("by ID: %+v, %v", one, err)
	}
	none, err := c.DescribeVSwitches(ctx, VSwitchQuery{VSwitchID: "vsw-none"})
	if err != nil || len(none) != 0 {
		t.Errorf("unknown ID: %+v, %v", none, err)
	}
	if _, err := c.DescribeVSwitches(ctx, VSwitchQuery{}); err == nil {
		t.Error("empty query accepted")
	}
}

func TestDescribeInstancesAndTypes(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	ctx := context.Background()

	got, err := c.DescribeInstances(ctx, []string{"i-bp1win1", "i-bp1web1", "i-nope", "i-bp1web1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "i-bp1web1" || got[1].ID != "i-bp1win1" {
		t.Fatalf("instances = %+v", got)
	}
	w := got[0]
	want := &plan.ObservedInstance{
		ID: "i-bp1web1", Name: "web-1", Type: "ecs.g7.large", Status: plan.InstanceRunning, Zone: "cn-hangzhou-h",
		VPC: "vpc-main", OSType: "linux", PrimaryENI: "eni-pweb1", MAC: "00:16:3e:00:00:01",
		PrimaryIP: netip.MustParseAddr("10.0.1.10"), SecondaryIPs: mustAddrs("10.0.1.11", "10.0.1.12"),
		SecurityGroups: []string{"sg-bp1web1"},
	}
	if !equalInstance(w, want) {
		t.Errorf("web-1 =\n%+v\nwant\n%+v", w, want)
	}
	if got[1].OSType != "windows" || got[1].Status != plan.InstanceStopped || !slices.Equal(got[1].SecurityGroups, []string{"sg-bp1db01", "sg-bp1web1"}) {
		t.Errorf("win-1 = %+v", got[1])
	}
	if got, err := c.DescribeInstances(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("no IDs: %v, %v", got, err)
	}

	types, err := c.DescribeInstanceTypes(ctx, []string{"ecs.g7.xlarge", "ecs.g7.large", "ecs.unknown"})
	if err != nil {
		t.Fatal(err)
	}
	// The emulator's table: ecs.g7.large has IPv6 (6 per ENI), and both
	// report one network card and no queue figure (issue 17's columns).
	if len(types) != 2 || types[0] != (plan.TypeQuota{Name: "ecs.g7.large", MaxENIs: 3, MaxIPsPerENI: 6, MaxIPv6PerENI: 6, NetworkCards: 1}) ||
		types[1] != (plan.TypeQuota{Name: "ecs.g7.xlarge", MaxENIs: 4, MaxIPsPerENI: 15, NetworkCards: 1}) {
		t.Errorf("types = %+v", types)
	}
}

func equalInstance(a, b *plan.ObservedInstance) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Type == b.Type && a.Status == b.Status && a.Zone == b.Zone &&
		a.VPC == b.VPC && a.OSType == b.OSType && a.PrimaryENI == b.PrimaryENI && a.MAC == b.MAC &&
		a.PrimaryIP == b.PrimaryIP && slices.Equal(a.SecondaryIPs, b.SecondaryIPs) &&
		slices.Equal(a.SecurityGroups, b.SecurityGroups)
}

func TestDescribeNetworkInterfaces(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	ctx := context.Background()

	all, err := c.DescribeNetworkInterfaces(ctx, ENIQuery{VPCID: "vpc-main"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range all {
		ids = append(ids, x.ID)
	}
	// Primary ENIs are listed too; vpc-else's are not.
	if got := strings.Join(ids, ","); got != "eni-pweb1,eni-pweb2,eni-pwin,eni-spare,eni-vip" {
		t.Fatalf("ENIs of vpc-main: %s", got)
	}
	vip := all[4]
	// DeviceIndex stays 0 even where the answer has Attachment.DeviceIndex
	// (a preview field): ecsnet never reads it.
	if vip.Type != plan.ENISecondary || vip.Status != plan.ENIInUse || vip.InstanceID != "i-bp1web1" || vip.DeviceIndex != 0 ||
		vip.PrimaryIP != netip.MustParseAddr("10.0.1.100") || !slices.Equal(vip.SecondaryIPs, mustAddrs("10.0.1.101", "10.0.1.102")) ||
		vip.Tags["ecsnet:name"] != "vip" || vip.Name != "vip" || vip.Description != "shop VIP" || vip.VPC != "vpc-main" ||
		vip.Zone != "cn-hangzhou-h" || vip.VSwitch != "vsw-bp1aaaa" || vip.MAC != "00:16:3e:00:01:00" {
		t.Errorf("vip = %+v", vip)
	}
	p := all[0]
	if p.Type != plan.ENIPrimary || p.DeviceIndex != 0 || p.InstanceID != "i-bp1web1" ||
		!slices.Equal(p.SecondaryIPs, mustAddrs("10.0.1.11", "10.0.1.12")) {
		t.Errorf("primary = %+v", p)
	}
	if spare := all[3]; spare.Attached() || spare.Status != plan.ENIAvailable || spare.Tags["team"] != "other" {
		t.Errorf("spare = %+v", spare)
	}

	byID, err := c.DescribeNetworkInterfaces(ctx, ENIQuery{IDs: []string{"eni-else", "eni-nope", "eni-vip"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(byID) != 2 || byID[0].ID != "eni-else" || byID[1].ID != "eni-vip" {
		t.Errorf("by ID = %+v", byID)
	}
	for _, q := range []ENIQuery{{}, {VPCID: "v", IDs: []string{"e"}}, {VPCID: "v", MaxResults: 501}} {
		if _, err := c.DescribeNetworkInterfaces(ctx, q); err == nil {
			t.Errorf("query %+v accepted", q)
		}
	}
}

func TestENILifecycle(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	ctx := context.Background()

	in := CreateENIInput{
		VSwitchID: "vsw-bp1aaaa", SecurityGroupIDs: []string{"sg-bp1web1"}, PrimaryIP: netip.MustParseAddr("10.0.1.150"),
		SecondaryIPs: mustAddrs("10.0.1.151"), Name: "data", Description: "data plane",
		Tags: map[string]string{"ecsnet:fleet": "small", "ecsnet:name": "data"}, ClientToken: "create-data-1",
	}
	eni, err := c.CreateNetworkInterface(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if eni.ID == "" || eni.Status != plan.ENIAvailable || eni.Type != plan.ENISecondary || eni.VPC != "vpc-main" ||
		eni.PrimaryIP != in.PrimaryIP || !slices.Equal(eni.SecondaryIPs, mustAddrs("10.0.1.151")) ||
		eni.Tags["ecsnet:name"] != "data" || eni.Name != "data" || eni.Description != "data plane" || eni.MAC == "" {
		t.Fatalf("created %+v", eni)
	}
	// The same token and parameters: the same ENI, nothing new.
	again, err := c.CreateNetworkInterface(ctx, in)
	if err != nil || again.ID != eni.ID {
		t.Fatalf("replay: %+v, %v", again, err)
	}
	// The same token with other parameters is refused.
	other := in
	other.Description = "something else"
	_, err = c.CreateNetworkInterface(ctx, other)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "IdempotentParameterMismatch" || ae.Action != "CreateNetworkInterface" ||
		ae.HTTPStatus != 400 || ae.RequestID == "" {
		t.Fatalf("token reuse: %v", err)
	}
	counted, err := c.CreateNetworkInterface(ctx, CreateENIInput{VSwitchID: "vsw-bp1bbbb", SecurityGroupIDs: []string{"sg-bp1db01"},
		SecondaryIPCount: 3, ClientToken: "create-counted"})
	if err != nil || len(counted.SecondaryIPs) != 3 || !counted.PrimaryIP.IsValid() {
		t.Fatalf("counted create: %+v, %v", counted, err)
	}

	// Attach, wait, attach again (already done).
	if err := c.AttachNetworkInterface(ctx, eni.ID, "i-bp1web2"); err != nil {
		t.Fatal(err)
	}
	got, err := c.WaitENI(ctx, eni.ID, plan.ENIInUse)
	if err != nil || got.InstanceID != "i-bp1web2" {
		t.Fatalf("wait InUse: %+v, %v", got, err)
	}
	if err := c.AttachNetworkInterface(ctx, eni.ID, "i-bp1web2"); err != nil {
		t.Errorf("second attach to the same instance: %v", err)
	}
	if err := c.AttachNetworkInterface(ctx, eni.ID, "i-bp1web1"); err == nil {
		t.Error("attach to another instance while InUse succeeded")
	}

	// Assign: explicit and counted, with token replay.
	ips, err := c.AssignPrivateIpAddresses(ctx, AssignInput{ENIID: eni.ID, IPs: mustAddrs("10.0.1.154", "10.0.1.153"), ClientToken: "assign-1"})
	if err != nil || !slices.Equal(ips, mustAddrs("10.0.1.153", "10.0.1.154")) {
		t.Fatalf("assign: %v, %v", ips, err)
	}
	picked, err := c.AssignPrivateIpAddresses(ctx, AssignInput{ENIID: eni.ID, Count: 2, ClientToken: "assign-2"})
	if err != nil || len(picked) != 2 {
		t.Fatalf("assign count: %v, %v", picked, err)
	}
	replay, err := c.AssignPrivateIpAddresses(ctx, AssignInput{ENIID: eni.ID, Count: 2, ClientToken: "assign-2"})
	if err != nil || !slices.Equal(replay, picked) {
		t.Fatalf("assign replay: %v, %v (first %v)", replay, err, picked)
	}
	if n := len(eniByID(t, c, eni.ID).SecondaryIPs); n != 5 {
		t.Errorf("after assigns the ENI has %d secondaries, want 5 (the g7.large cap)", n)
	}

	// Unassign, then again: InvalidIp.IpUnassigned counts as done.
	if err := c.UnassignPrivateIpAddresses(ctx, eni.ID, picked); err != nil {
		t.Fatal(err)
	}
	if err := c.UnassignPrivateIpAddresses(ctx, eni.ID, picked); err != nil {
		t.Errorf("repeated unassign: %v", err)
	}
	if n := len(eniByID(t, c, eni.ID).SecondaryIPs); n != 3 {
		t.Errorf("after unassign the ENI has %d secondaries, want 3", n)
	}

	// Modify and tag.
	if err := c.ModifyNetworkInterfaceAttribute(ctx, ModifyENIInput{ENIID: eni.ID, SecurityGroupIDs: []string{"sg-bp1web1", "sg-bp1db01"},
		Name: "data2", Description: "moved"}); err != nil {
		t.Fatal(err)
	}
	if err := c.TagResources(ctx, []string{eni.ID, counted.ID}, map[string]string{"owner": "ecsnet"}); err != nil {
		t.Fatal(err)
	}
	m := eniByID(t, c, eni.ID)
	if !slices.Equal(m.SecurityGroups, []string{"sg-bp1db01", "sg-bp1web1"}) || m.Name != "data2" || m.Description != "moved" ||
		m.Tags["owner"] != "ecsnet" || m.Tags["ecsnet:name"] != "data" {
		t.Errorf("after modify and tag: %+v", m)
	}

	// Detach, wait, detach again; delete, wait, delete again.
	if err := c.DetachNetworkInterface(ctx, eni.ID, "i-bp1web2"); err != nil {
		t.Fatal(err)
	}
	if got, err := c.WaitENI(ctx, eni.ID, plan.ENIAvailable); err != nil || got.Attached() {
		t.Fatalf("wait Available: %+v, %v", got, err)
	}
	if err := c.DetachNetworkInterface(ctx, eni.ID, "i-bp1web2"); err != nil {
		t.Errorf("repeated detach: %v", err)
	}
	if err := c.DeleteNetworkInterface(ctx, eni.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := c.WaitENI(ctx, eni.ID, ENIGone); err != nil || got != nil {
		t.Fatalf("wait gone: %+v, %v", got, err)
	}
	if err := c.DeleteNetworkInterface(ctx, eni.ID); err != nil {
		t.Errorf("repeated delete: %v", err)
	}
	if err := c.DetachNetworkInterface(ctx, eni.ID, "i-bp1web2"); err != nil {
		t.Errorf("detach of a deleted ENI: %v", err)
	}
}

func TestAPIErrors(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	ctx := context.Background()

	err := c.AttachNetworkInterface(ctx, "eni-nope", "i-bp1web1")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "InvalidEniId.NotFound" || ae.HTTPStatus != 404 || ae.Action != "AttachNetworkInterface" {
		t.Fatalf("attach unknown ENI: %#v", err)
	}
	if !strings.Contains(err.Error(), "InvalidEniId.NotFound") || !strings.Contains(err.Error(), "RequestId") {
		t.Errorf("message: %s", err)
	}
	// Not retried: it can never succeed.
	if n := e.Calls()["AttachNetworkInterface"]; n != 1 {
		t.Errorf("AttachNetworkInterface reached the API %d times, want 1", n)
	}

	// A primary ENI cannot be deleted; deleting an attached ENI fails
	// after one look at its state.
	if err := c.DeleteNetworkInterface(ctx, "eni-vip"); err == nil {
		t.Error("deleting an attached ENI succeeded")
	}
	// A primary ENI can be neither deleted nor detached: one attempt each.
	if err := c.DeleteNetworkInterface(ctx, "eni-pweb1"); err == nil {
		t.Error("deleting a primary ENI succeeded")
	}
	if err := c.DetachNetworkInterface(ctx, "eni-pweb1", "i-bp1web1"); err == nil {
		t.Error("detaching a primary ENI succeeded")
	}
	if calls := e.Calls(); calls["DeleteNetworkInterface"] != 2 || calls["DetachNetworkInterface"] != 1 {
		t.Errorf("calls = %v: a permanent refusal was retried", calls)
	}
	// Exhausted vSwitch: the real code, no retry.
	_, err = c.CreateNetworkInterface(ctx, CreateENIInput{VSwitchID: "vsw-nope", SecurityGroupIDs: []string{"sg-bp1web1"}, ClientToken: "t1"})
	if !errors.As(err, &ae) || ae.Code != "InvalidVSwitchId.NotFound" {
		t.Errorf("create in unknown vSwitch: %v", err)
	}
	// Validation before any call.
	before := e.Calls()
	for name, f := range map[string]func() error{
		"create without token": func() error {
			_, err := c.CreateNetworkInterface(ctx, CreateENIInput{VSwitchID: "vsw-bp1aaaa", SecurityGroupIDs: []string{"sg-bp1web1"}})
			return err
		},
		"create with both": func() error {
			_, err := c.CreateNetworkInterface(ctx, CreateENIInput{VSwitchID: "vsw-bp1aaaa", SecurityGroupIDs: []string{"sg-bp1web1"},
				SecondaryIPs: mustAddrs("10.0.1.9"), SecondaryIPCount: 1, ClientToken: "x"})
			return err
		},
		"assign without token": func() error {
			_, err := c.AssignPrivateIpAddresses(ctx, AssignInput{ENIID: "eni-vip", Count: 1})
			return err
		},
		"assign both": func() error {
			_, err := c.AssignPrivateIpAddresses(ctx, AssignInput{ENIID: "eni-vip", Count: 1, IPs: mustAddrs("10.0.1.9"), ClientToken: "x"})
			return err
		},
		"long token": func() error {
			_, err := c.AssignPrivateIpAddresses(ctx, AssignInput{ENIID: "eni-vip", Count: 1, ClientToken: strings.Repeat("x", 65)})
			return err
		},
		"unassign nothing": func() error { return c.UnassignPrivateIpAddresses(ctx, "eni-vip", nil) },
		"modify nothing":   func() error { return c.ModifyNetworkInterfaceAttribute(ctx, ModifyENIInput{ENIID: "eni-vip"}) },
		"too many tags": func() error {
			tags := map[string]string{}
			for i := range 21 {
				tags[string(rune('a'+i))] = "v"
			}
			return c.TagResources(ctx, []string{"eni-vip"}, tags)
		},
		"run on 51": func() error {
			_, err := c.RunCommand(ctx, RunCommandInput{Type: RunShellScript, Content: []byte("true"),
				InstanceIDs: make([]string, 51), ClientToken: "x"})
			return err
		},
	} {
		if err := f(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if after := e.Calls(); !mapsEqual(before, after) {
		t.Errorf("validation errors reached the API: %v → %v", before, after)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestRunCommand(t *testing.T) {
	e := startEmu(t, smallWorld(), emulator.Options{})
	c := newClient(t, fastConfig(e.URL))
	ctx := context.Background()

	inv, err := c.RunCommand(ctx, RunCommandInput{Type: RunShellScript, Content: []byte("ip -j addr\necho 'ok' \"$x\"\n"),
		InstanceIDs: []string{"i-bp1web1", "i-bp1web2"}, Name: "probe", ClientToken: "run-1"})
	if err != nil || inv.InvokeID == "" || inv.CommandID == "" {
		t.Fatalf("RunCommand: %+v, %v", inv, err)
	}
	again, err := c.RunCommand(ctx, RunCommandInput{Type: RunShellScript, Content: []byte("ip -j addr\necho 'ok' \"$x\"\n"),
		InstanceIDs: []string{"i-bp1web1", "i-bp1web2"}, Name: "probe", ClientToken: "run-1"})
	if err != nil || again != inv {
		t.Errorf("replayed RunCommand: %+v, %v", again, err)
	}
	var res []InvocationResult
	for range 100 {
		if res, err = c.DescribeInvocationResults(ctx, inv.InvokeID); err != nil {
			t.Fatal(err)
		}
		if len(res) == 2 && res[0].Finished() && res[1].Finished() {
			break
		}
	}
	if len(res) != 2 || res[0].InstanceID != "i-bp1web1" || res[1].InstanceID != "i-bp1web2" {
		t.Fatalf("results = %+v", res)
	}
	for _, r := range res {
		if r.InvocationStatus != "Success" || r.ExitCode != 0 {
			t.Errorf("result %+v", r)
		}
	}
}
