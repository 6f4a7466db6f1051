package emulator

// WireNetns returns the name of the host's wire namespace, the vSwitch
// side of its NICs (for ip -n and ip netns exec), "" when the host is not
// up. A command run there sees the host's ENIs as the vSwitch does: a
// ping to an ENI's address is answered only when the guest holds it,
// which is how a bench times a failover from outside the guest.
func (h *Host) WireNetns() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.up {
		return ""
	}
	return h.ns.wire
}
