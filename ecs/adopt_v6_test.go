package ecs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// TestAdoptIPv6Prefixes: ecsnet import ENI --as NAME of an ENI with IPv6
// addresses and a prefix, attached on network card 1, writes them and the
// card into the entry and the lock, and the plan right after is empty: no
// detach to attach it again on card 0, nothing unrecorded. Without the
// preview fields the card is read from DescribeNetworkInterfaceAttribute
// (card.go), and it is the same.
func TestAdoptIPv6Prefixes(t *testing.T) {
	const fleetSrc = `fleet: "six"
region: "cn-hangzhou"
vswitches: app: {id: "vsw-bp1aaaa", zone: "cn-hangzhou-h", cidr: "10.0.0.0/23", ipv6Cidr: "2408:4005:3aa:1b00::/64"}
securityGroups: web: {id: "sg-bp1web1"}
limits: instanceTypes: "ecs.g8i.4xlarge": {maxEnis: 8, maxIpsPerEni: 30, maxIpv6PerEni: 10, networkCards: 2, maxQueuesPerEni: 16}
instances: "web-1": {id: "i-bp1web1", type: "ecs.g8i.4xlarge", os: "rocky9", primary: {vswitch: "app", ip: "10.0.1.10", securityGroups: ["web"]}}
instances: "web-2": {id: "i-bp1web2", type: "ecs.g8i.4xlarge", os: "debian12", primary: {vswitch: "app", ip: "10.0.1.20", securityGroups: ["web"]}}
`
	for _, preview := range []bool{true, false} {
		t.Run(map[bool]string{true: "preview", false: "no-preview"}[preview], func(t *testing.T) {
			w := v6World()
			w.PreviewFields = &preview
			w.NetworkInterfaces = append(w.NetworkInterfaces, emulator.NetworkInterface{NetworkInterfaceId: "eni-hand", NetworkInterfaceName: "hand",
				VSwitchId: "vsw-bp1aaaa", SecurityGroupIds: []string{"sg-bp1web1"}, PrivateIpAddress: "10.0.1.200", MacAddress: "00:16:3e:00:01:09",
				InstanceId: "i-bp1web1", DeviceIndex: 1, NetworkCardIndex: 1, QueueNumber: 4,
				Ipv6Addresses: []string{"2408:4005:3aa:1b00::20", "2408:4005:3aa:1b00::21"}, Ipv4Prefixes: []string{"10.0.1.48/28"}})
			e := startEmu(t, w, emulator.Options{})
			c := newClient(t, fastConfig(e.URL))
			ctx := context.Background()

			dir := t.TempDir()
			fleetPath := filepath.Join(dir, "fleet.cue")
			if err := os.WriteFile(fleetPath, []byte(fleetSrc), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := schema.Load([]string{fleetPath}, schema.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			obs, err := c.Observe(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			ad, err := plan.Adopt(f, obs, "eni-hand", "pods")
			if err != nil {
				t.Fatal(err)
			}
			lock := &schema.Lock{}
			ad.Record(lock)
			entry := ad.Entry.FormatCUE()
			wants := []string{`ipv6Ips: ["2408:4005:3aa:1b00::20", "2408:4005:3aa:1b00::21"]`, `ipv4Prefixes: ["10.0.1.48/28"]`, `networkCard: 1`}
			flat := strings.Join(strings.Fields(entry), " ")
			for _, want := range wants {
				if !strings.Contains(flat, want) {
					t.Errorf("the entry lacks %s:\n%s", want, entry)
				}
			}
			l := lock.Secondary("pods")
			if l == nil || len(l.IPv6) != 2 || len(l.Prefixes) != 1 || l.Prefixes[0].Prefix.String() != "10.0.1.48/28" || l.Prefixes[0].Added ||
				l.IPv6[0].Added || l.NetworkCard != 1 {
				t.Fatalf("the lock records %+v", l)
			}

			if err := os.WriteFile(filepath.Join(dir, "pods.cue"), []byte(entry), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err = schema.Load([]string{fleetPath, filepath.Join(dir, "pods.cue")}, schema.LoadOptions{})
			if err != nil {
				t.Fatalf("%v\n%s", err, entry)
			}
			obs, err = c.Observe(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := plan.Compute(f, obs, lock, plan.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !p.Empty() || len(p.Unrecorded) != 0 {
				var b strings.Builder
				plan.WriteText(&b, p, plan.TextOptions{})
				t.Errorf("the plan after the import is not empty:\n%s", b.String())
			}
		})
	}
}
