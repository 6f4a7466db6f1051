package emulator

import (
	"context"
)

// The far side of a host's NICs: what the vSwitch shows the guest. Each
// NIC's veth peer lives in the host's wire namespace. Called with h.mu
// held. (Issue 15: the vSwitch gateway, DHCP for the primary ENI and the
// metadata service are being built here; until then the wire side only
// carries the peers.)

// wireUpLocked prepares the wire side at boot, once the primary NIC's
// peer (peer, in the wire namespace) is up; n is the primary ENI.
func (h *Host) wireUpLocked(ctx context.Context, peer string, n hostNIC) error {
	return nil
}

// wireNICLocked connects a secondary NIC's peer once it is up.
func (h *Host) wireNICLocked(ctx context.Context, peer string, n hostNIC) error {
	return nil
}
