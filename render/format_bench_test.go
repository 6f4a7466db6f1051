package render

import (
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// BenchmarkFormats renders the configuration files of the formats written
// with an emitter (emit.go), without the apply script that dominates
// BenchmarkRender20k/ForHost: every shape of testHosts per iteration.
func BenchmarkFormats(b *testing.B) {
	shapes := func(stack schema.Stack, os schema.OS) []*Host {
		var out []*Host
		for _, name := range []string{"bare", "full", "nomac", "wide"} {
			out = append(out, testHosts(stack, os)[name])
		}
		return out
	}
	b.Run("networkd", func(b *testing.B) {
		hosts := shapes(schema.StackNetworkd, "debian12")
		b.ReportAllocs()
		for b.Loop() {
			for _, h := range hosts {
				gen := generatedBy("# ", h)
				if len(h.Primary.Secondary) > 0 {
					networkdFile(gen, h.Primary)
				}
				for _, n := range h.Secondary {
					networkdFile(gen, n)
				}
			}
		}
	})
	b.Run("nmkeyfile", func(b *testing.B) {
		hosts := shapes(schema.StackNetworkManager, "rocky9")
		b.ReportAllocs()
		for b.Loop() {
			for _, h := range hosts {
				gen := generatedBy("# ", h)
				for _, n := range h.Secondary {
					nmConnection(h, n, gen, "d4b43cf2-2e68-5a3b-9f0e-1a2b3c4d5e6f")
				}
			}
		}
	})
	b.Run("netplan", func(b *testing.B) {
		hosts := shapes(schema.StackNetplan, "ubuntu22.04")
		b.ReportAllocs()
		for b.Loop() {
			for _, h := range hosts {
				netplanYAML(h)
			}
		}
	})
}
