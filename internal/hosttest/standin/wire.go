package standin

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/render"
)

// MetadataAddr is the instance metadata service's address on ECS.
const MetadataAddr = "100.100.100.200"

// Wire makes the far side of a stand-in's NICs (the namespace's Peer)
// act as the vSwitches of h, the cloud's truth: per vSwitch block a
// bridge that holds the block's gateway, with the far ends of the NICs on
// that block in it. A ping from an ENI's address to its gateway is then
// answered, as on ECS, and an address outside the block (a render's
// wrong gateway) is not. The primary ENI's bridge also holds the metadata
// service's address, so Metadata can listen there.
func Wire(t testing.TB, ns *hosttest.Netns, h *render.Host) {
	t.Helper()
	bridges := map[netip.Prefix]string{}
	for _, n := range NICs(h) {
		br, ok := bridges[n.Prefix]
		if !ok {
			br = fmt.Sprintf("vsw%d", len(bridges))
			bridges[n.Prefix] = br
			wireIP(t, "-n", ns.Peer, "link", "add", br, "type", "bridge")
			wireIP(t, "-n", ns.Peer, "addr", "add", netip.PrefixFrom(n.Gateway, n.Bits()).String(), "dev", br)
			wireIP(t, "-n", ns.Peer, "link", "set", br, "up")
		}
		wireIP(t, "-n", ns.Peer, "link", "set", peerOf(t, ns, n.Name()), "master", br)
	}
	wireIP(t, "-n", ns.Peer, "addr", "add", MetadataAddr+"/32", "dev", "lo")
}

// peerOf names the far end, in ns.Peer, of the namespace's interface dev.
func peerOf(t testing.TB, ns *hosttest.Netns, dev string) string {
	t.Helper()
	var links []struct {
		Index     int    `json:"ifindex"`
		Name      string `json:"ifname"`
		LinkIndex int    `json:"link_index"`
	}
	for _, side := range []string{ns.Name, ns.Peer} {
		var got []struct {
			Index     int    `json:"ifindex"`
			Name      string `json:"ifname"`
			LinkIndex int    `json:"link_index"`
		}
		out := wireIP(t, "-n", side, "-j", "link", "show")
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("ip -j link show in %s: %v", side, err)
		}
		if side == ns.Name {
			for _, l := range got {
				if l.Name == dev {
					links = append(links, l)
				}
			}
			if len(links) != 1 || links[0].LinkIndex == 0 {
				t.Fatalf("%s in %s: no veth peer found", dev, ns.Name)
			}
			continue
		}
		for _, l := range got {
			if l.Index == links[0].LinkIndex {
				return l.Name
			}
		}
	}
	t.Fatalf("%s in %s: its peer (ifindex %d) is not in %s", dev, ns.Name, links[0].LinkIndex, ns.Peer)
	return ""
}

// Metadata listens on the metadata service's address, port 80, in the
// stand-in's wire (Wire first), answering every request 404: reachable,
// as the payload's probe wants, and naming no region. It stops when the
// test ends.
func Metadata(t testing.TB, ns *hosttest.Netns) {
	t.Helper()
	l, err := listenIn(ns.Peer, MetadataAddr+":80")
	if err != nil {
		t.Fatalf("listen on the metadata address in %s: %v", ns.Peer, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.Write([]byte("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
			}()
		}
	}()
}

func wireIP(t testing.TB, args ...string) string {
	t.Helper()
	ip := hosttest.RequireTool(t, "ip")
	out, err := exec.Command(ip, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// listenIn opens a TCP listener in the named network namespace: on a
// thread of its own, switched into the namespace and never switched back
// (it ends with its goroutine, so no other goroutine runs there). A
// socket keeps the namespace it was made in.
func listenIn(netns, addr string) (net.Listener, error) {
	type result struct {
		l   net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		l, err := listenInNetns(netns, addr)
		ch <- result{l, err}
	}()
	r := <-ch
	return r.l, r.err
}
