package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// Issue 14: ENIs and addresses ecsnet does not own count toward the
// per-instance ENI quota and the security group's address total. A change
// that would breach one fails at plan time, at the file position, naming
// the foreign ENIs, with exit 1 and no mutating call; a change that just
// fits applies, which shows the plan counts as the cloud does.

// posOf returns the file:line:col of the first occurrence of needle in
// the e2e fleet.
func (c *e2e) posOf(needle string) string {
	c.t.Helper()
	src, err := os.ReadFile(c.fleetPath())
	if err != nil {
		c.t.Fatal(err)
	}
	i := strings.Index(string(src), needle)
	if i < 0 {
		c.t.Fatalf("%q is not in the fleet", needle)
	}
	line := strings.Count(string(src[:i]), "\n") + 1
	col := i - strings.LastIndex(string(src[:i]), "\n")
	return fmt.Sprintf("%s:%d:%d", c.fleetPath(), line, col)
}

// refused checks that plan and apply both fail with want at pos, make no
// mutating call and write no lock.
func (c *e2e) refused(pos, want string, foreign ...string) {
	c.t.Helper()
	c.calls()
	for _, cmd := range [][]string{{"plan", c.dir}, {"apply", "--auto-approve", c.dir}} {
		code, _, errs := c.run(cmd[0], cmd[1:]...)
		if code != exitError || !strings.Contains(errs, pos+": "+want) {
			c.t.Errorf("%s: exit %d, want 1 with\n%s: %s\nstderr:\n%s", cmd[0], code, pos, want, errs)
		}
		for _, id := range foreign {
			if !strings.Contains(errs, id) {
				c.t.Errorf("%s does not name the foreign ENI %s:\n%s", cmd[0], id, errs)
			}
		}
		if !strings.Contains(errs, "hint: ") {
			c.t.Errorf("%s gives no hint:\n%s", cmd[0], errs)
		}
		c.wantCalls(nil)
	}
	if _, err := os.Stat(c.lockPath()); err == nil {
		c.t.Error("a refused apply wrote the lock")
	}
	now, err := json.Marshal(c.srv.State())
	if err != nil {
		c.t.Fatal(err)
	}
	if before, _ := json.Marshal(c.initial); string(now) != string(before) {
		c.t.Error("the cloud changed")
	}
}

// byHand returns ENIs made outside ecsnet, attached to web-1 (ecs.g7.large:
// 3 ENIs, the primary included), whose file also attaches web-1-data.
func byHand(n int) func(*emulator.World) {
	return func(w *emulator.World) {
		for i := range n {
			w.NetworkInterfaces = append(w.NetworkInterfaces, emulator.NetworkInterface{
				NetworkInterfaceId: fmt.Sprintf("eni-bp1byhand0000000%d", i+1), NetworkInterfaceName: "sidecar",
				VSwitchId: "vsw-bp1app0000h", SecurityGroupIds: []string{"sg-bp1web000001"},
				PrivateIpAddress: fmt.Sprintf("172.16.0.%d", 210+i), InstanceId: "i-bp1web000001",
				Tags: []emulator.Tag{{TagKey: "owner", TagValue: "sre"}},
			})
		}
	}
}

// TestE2EForeignENIsFillInstance: two foreign ENIs on web-1 leave no room
// for web-1-data; one does.
func TestE2EForeignENIsFillInstance(t *testing.T) {
	c := newE2E(t, byHand(2))
	c.refused(c.posOf(`"web-1": {`),
		`instances."web-1": instance web-1 (i-bp1web000001) would have 4 ENIs after this plan, the primary included; its type ecs.g7.large allows 3: 2 of them are ENIs ecsnet does not own: eni-bp1byhand00000001, eni-bp1byhand00000002`)

	c = newE2E(t, byHand(1))
	c.apply()
}

// bigPool returns a foreign ENI in the "db" group holding n addresses, in
// a vSwitch of its own.
func bigPool(n int) func(*emulator.World) {
	return func(w *emulator.World) {
		w.VSwitches = append(w.VSwitches, emulator.VSwitch{VSwitchId: "vsw-bp1pods00000h", VpcId: "vpc-bp1shop00000001",
			ZoneId: "cn-hangzhou-h", CidrBlock: "172.16.16.0/20"})
		e := emulator.NetworkInterface{NetworkInterfaceId: "eni-bp1bigpool000001", VSwitchId: "vsw-bp1pods00000h",
			SecurityGroupIds: []string{"sg-bp1db0000001"}, PrivateIpAddress: "172.16.16.1",
			Tags: []emulator.Tag{{TagKey: "creator", TagValue: "terway"}}}
		a := netip.MustParseAddr("172.16.16.1")
		for range n - 1 {
			a = a.Next()
			e.SecondaryPrivateIpAddresses = append(e.SecondaryPrivateIpAddresses, a.String())
		}
		w.NetworkInterfaces = append(w.NetworkInterfaces, e)
	}
}

// TestE2EForeignAddressesFillGroup: the example puts 13 addresses in the
// "db" group and the world's foreign ENIs hold 4 there: a foreign pool of
// 1,983 more would make 2,000 (it applies), 1,984 would make 2,001.
func TestE2EForeignAddressesFillGroup(t *testing.T) {
	c := newE2E(t, bigPool(1984))
	c.refused(c.posOf(`db:  {id:`),
		`securityGroups."db": security group "db" (sg-bp1db0000001) would hold 2001 private addresses after this plan, over its limit of 2000: 1988 of them are on 3 ENIs ecsnet does not own: eni-bp1bigpool000001 (1984), eni-bp1podpool00000001 (3), eni-bp1monitor00000001 (1)`,
		"eni-bp1bigpool000001")

	c = newE2E(t, bigPool(1983))
	c.apply()
}

// TestE2EGroupFullReplace: with the "db" group at its 2,000 after an
// apply, replacing cache-1-data (moved to another vSwitch) fits only if
// the old ENI goes before the new one is created; apply converges.
func TestE2EGroupFullReplace(t *testing.T) {
	c := newE2E(t, bigPool(1983))
	c.apply()
	c.edit(`secondaryIps: ["172.16.3.31", "172.16.3.32"]`, `secondaryIps: ["172.16.1.41", "172.16.1.42"]`)
	c.edit(`"cache-1-data": {
		vswitch:        "data-i"`, `"cache-1-data": {
		vswitch:        "app-i"`)
	c.edit("\t\tipv6IpCount: 2\n\t\tattachTo:    \"cache-1\"", "\t\tattachTo: \"cache-1\"") // app-i has no IPv6 block
	c.apply("--allow-destroy")
	c.must(exitOK, "plan", "--detailed-exitcode", c.dir)
}
