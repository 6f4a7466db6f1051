//go:build linux

package emulator

import (
	"context"
	"strings"
	"testing"
)

// TestHostsWireBootedDNS: a booted guest of each stack resolves the
// Cloud Assistant server's name through the VPC's resolvers and opens TCP
// 443 at its address, and resolves no other name: NetworkManager from its
// own DHCP lease, networkd and netplan through the resolv.conf standing in
// for systemd-resolved (which survives systemd-nspawn's copy of the
// machine's file at boot).
func TestHostsWireBootedDNS(t *testing.T) {
	e := newGuestsEnv(t)
	if _, err := lookTool("dnsmasq"); err != nil {
		hostsUnavailable(t, "the vSwitch side's DNS needs dnsmasq: %v", err)
	}
	ctx := context.Background()
	name := cloudAssistantHost(e.srv.cloud.region)
	for id, st := range bootedGuests {
		h := e.srv.Host(id)
		sh := func(script string) (string, error) {
			out, errOut, err := h.Exec(ctx, nil, "/bin/bash", "-c", script)
			return out + errOut, err
		}
		if out, err := sh("timeout 5 getent ahostsv4 " + name); err != nil || !strings.HasPrefix(out, cloudAssistantAddr+" ") {
			rc, _ := sh("ls -l /etc/resolv.conf; cat /etc/resolv.conf")
			t.Errorf("%s (%s): getent ahostsv4 %s: %v\n%s\nwant %s; /etc/resolv.conf:\n%s", h.Hostname(), st, name, err, out, cloudAssistantAddr, rc)
			continue
		}
		if out, err := sh("timeout 3 bash -c 'exec 3<>/dev/tcp/" + cloudAssistantAddr + "/443'"); err != nil {
			t.Errorf("%s (%s): TCP connect to %s:443: %v\n%s", h.Hostname(), st, name, err, out)
		}
		if out, err := sh("timeout 5 getent ahostsv4 example.com"); err == nil {
			t.Errorf("%s (%s): example.com resolved:\n%s", h.Hostname(), st, out)
		}
	}
}
