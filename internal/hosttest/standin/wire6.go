package standin

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/render"
)

// Wire6 gives the vSwitches Wire made their IPv6 gateways: each IPv6
// NIC's gateway (the first of its block's reserved tail addresses, as
// render.NIC.IPv6Gateway says) on the bridge its far end is in, without
// duplicate address detection, so that a source-routed ping -6 from an
// ENI's IPv6 address to its gateway is answered as on ECS. Call Wire
// first. No router advertisements are sent: the cloud documents none,
// and the render must not need them.
func Wire6(t testing.TB, ns *hosttest.Netns, h *render.Host) {
	t.Helper()
	done := map[netip.Addr]bool{}
	for _, n := range NICs(h) {
		gw := n.IPv6Gateway()
		if !n.HasIPv6() || done[gw] {
			continue
		}
		done[gw] = true
		peer := peerOf(t, ns, n.Name())
		var links []struct {
			Master string `json:"master"`
		}
		if err := json.Unmarshal([]byte(wireIP(t, "-n", ns.Peer, "-j", "link", "show", "dev", peer)), &links); err != nil || len(links) != 1 || links[0].Master == "" {
			t.Fatalf("%s's far end %s is in no bridge (call Wire first): %v", n.Name(), peer, err)
		}
		wireIP(t, "-n", ns.Peer, "addr", "add", netip.PrefixFrom(gw, n.IPv6Bits()).String(), "dev", links[0].Master, "nodad")
	}
}
