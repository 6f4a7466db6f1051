package emulator

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSameCallsAnyOrder pins issue 12 item 14: a client that sends its
// creates and assigns in parallel, so in whatever order they arrive, must
// get the same cloud from the same world and the same calls. The calls are
// sent forwards to one emulator and backwards to another; every ENI (found
// by its name) must have the same ID, MAC and addresses in both. Two draws
// that hit the same free address still go to whichever call comes first
// (the cloud answers calls, it cannot know later ones), so the ENIs pick
// from a /16, where this seed's 30 draws do not collide.
func TestSameCallsAnyOrder(t *testing.T) {
	var names []string
	for i := range 6 {
		names = append(names, fmt.Sprintf("ord-%d", i))
	}
	run := func(order []string) map[string]NetworkInterface {
		w, err := ReadWorld(strings.NewReader(strings.Replace(testWorldJSON, `"172.16.1.0/24"`, `"172.16.0.0/16"`, 1)))
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, w, Options{})
		ids := map[string]string{}
		for _, n := range order {
			m := ok(t, e.cl.ecs(t, "CreateNetworkInterface",
				"VSwitchId", "vsw-o", "SecurityGroupIds.1", "sg-o", "SecondaryPrivateIpAddressCount", "3",
				"NetworkInterfaceName", n, "ClientToken", "create-"+n))
			ids[n] = str(m, "NetworkInterfaceId")
		}
		for _, n := range order {
			ok(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", ids[n],
				"SecondaryPrivateIpAddressCount", "2", "ClientToken", "assign-"+n))
		}
		got := map[string]NetworkInterface{}
		for _, n := range e.srv.State().NetworkInterfaces {
			if strings.HasPrefix(n.NetworkInterfaceName, "ord-") {
				slices.Sort(n.SecondaryPrivateIpAddresses)
				got[n.NetworkInterfaceName] = n
			}
		}
		if len(got) != len(order) {
			t.Fatalf("%d named ENIs in the emulator, want %d", len(got), len(order))
		}
		return got
	}
	forward := run(names)
	rev := slices.Clone(names)
	slices.Reverse(rev)
	backward := run(rev)
	if diff := cmp.Diff(forward, backward); diff != "" {
		t.Errorf("the same calls in another order gave another cloud (-forward +backward):\n%s", diff)
	}
}
