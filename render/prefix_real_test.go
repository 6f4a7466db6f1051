package render_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// TestRealPrefixOnlyChange: a vSwitch block written wrong in the file
// (/25 where the cloud's is /24) is fixed and pushed again. Only the
// prefix of the ENI's addresses changes; the apply replaces each address
// with its new prefix and must not then remove it as "no longer in the
// bundle" because the state record has it with the old prefix (it did:
// the apply failed its check, exit 4, and rolled back, so fixing the block
// never converged). Run for real in a namespace for ifupdown and iproute2:
// the /25 bundle, then the /24 one, converges, verifies, and a third apply
// changes nothing.
func TestRealPrefixOnlyChange(t *testing.T) {
	hosttest.RequireRoot(t)
	for _, stack := range []schema.Stack{schema.StackIfupdown, schema.StackIproute2} {
		t.Run(string(stack), func(t *testing.T) {
			if stack == schema.StackIfupdown {
				hosttest.RequireTool(t, "ifup")
			}
			var h *render.Host
			for _, x := range rtHosts(t, stack) {
				if len(x.Secondary) > 0 {
					h = x
					break
				}
			}
			if h == nil {
				t.Fatalf("the example has no %s host with a secondary ENI", stack)
			}
			// The ENI's secondary addresses outside the narrower block are
			// left out of both bundles: only the prefix changes.
			fixed := *h
			fixed.Secondary = slices.Clone(h.Secondary)
			narrow := netip.PrefixFrom(h.Secondary[0].Address, h.Secondary[0].Prefix.Bits()+1).Masked()
			fixed.Secondary[0].Secondary = slices.DeleteFunc(slices.Clone(h.Secondary[0].Secondary), func(a netip.Addr) bool { return !narrow.Contains(a) })
			h = &fixed
			wrong := fixed
			wrong.Secondary = slices.Clone(fixed.Secondary)
			n := &wrong.Secondary[0]
			n.Prefix = narrow
			// The vSwitch gateway of the narrower block: its last address but two.
			b := n.Prefix.Addr().As4()
			size := uint32(1) << (32 - n.Prefix.Bits())
			last := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) + size - 3
			n.Gateway = netip.AddrFrom4([4]byte{byte(last >> 24), byte(last >> 16), byte(last >> 8), byte(last)})

			ns := standin.Netns(t, h)
			standin.Prepare(t, ns, h)
			if code, out := rtApply(t, ns, rtWrite(t, &wrong, standin.Bundle(t, &wrong))); code != 0 {
				t.Fatalf("apply with %s in %s: exit %d\n%s", n.ENI, n.Prefix, code, out)
			}
			standin.Expect(t, "after the apply of the wrong block", standin.Live(t, ns), standin.Want(&wrong))

			dir := rtWrite(t, h, standin.Bundle(t, h))
			code, out := rtApply(t, ns, dir)
			t.Logf("apply of the fixed block:\n%s", out)
			if code != 0 {
				t.Fatalf("apply of the fixed block %s: exit %d\n%s", h.Secondary[0].Prefix, code, out)
			}
			if strings.Contains(out, "no longer in the bundle") && strings.Contains(out, "removed "+h.Secondary[0].Address.String()) {
				t.Errorf("the apply removed an address the bundle wants:\n%s", out)
			}
			standin.Expect(t, "after the apply of the fixed block", standin.Live(t, ns), standin.Want(h))
			standin.CheckMain(t, ns, h)
			if code, out := rtApply(t, ns, dir, "verify"); code != 0 {
				t.Errorf("verify after the fix: exit %d\n%s", code, out)
			}
			if code, out := rtApply(t, ns, dir); code != 0 || strings.Contains(out, "added ") || strings.Contains(out, "removed ") {
				t.Errorf("a second apply of the fixed block changed something: exit %d\n%s", code, out)
			}
			standin.Expect(t, "after the second apply", standin.Live(t, ns), standin.Want(h))
		})
	}
}
