package emulator

import (
	"fmt"
	"hash/fnv"
	"net/netip"
)

// Everything the emulator makes up (IDs, MACs, auto-assigned addresses,
// RequestIds, fault rolls) is a pure function of the seed, a stream name and
// that stream's counter. Streams are independent, so turning faults on does
// not change which IDs a sequence of successful calls produces, and the same
// world plus the same calls gives the same cloud, byte for byte.
//
// What a call creates is drawn from a stream named after the call's content
// (its parameters, ClientToken included), not from a global counter: a
// client that sends its calls in parallel, in whatever order they happen to
// arrive, gets the same ENI IDs, MACs and picked addresses on every run. Only
// two calls whose draws collide (the same ID, MAC or address) still depend on
// which arrives first; the second draws again from its own stream.
type generator struct {
	seed     uint64
	counters map[string]uint64
}

func newGenerator(seed int64) *generator {
	return &generator{seed: uint64(seed), counters: map[string]uint64{}}
}

// splitmix64 is a small, well-mixed 64-bit hash step.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func streamKey(stream string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(stream))
	return h.Sum64()
}

// at returns the i-th 64-bit word of draw n of a stream.
func (g *generator) at(stream string, n uint64, i uint64) uint64 {
	return splitmix64(g.seed ^ splitmix64(streamKey(stream)^splitmix64(n*4+i)))
}

// next advances a stream and returns its draw number.
func (g *generator) next(stream string) uint64 {
	n := g.counters[stream]
	g.counters[stream] = n + 1
	return n
}

const alnum = "0123456789abcdefghijklmnopqrstuvwxyz"

// id returns prefix plus 20 lowercase alphanumerics, the shape of real ENI
// IDs (eni-bp1...), from the stream prefix+key (key "" for the world
// file's own sequence; a call's content fingerprint for what a call
// creates). taken reports collisions with IDs already in use.
func (g *generator) id(prefix, key string, taken func(string) bool) string {
	stream := prefix + key
	for {
		n := g.next(stream)
		b := make([]byte, 0, len(prefix)+20)
		b = append(b, prefix...)
		for w := uint64(0); w < 2; w++ {
			x := g.at(stream, n, w)
			for range 10 {
				b = append(b, alnum[x%36])
				x /= 36
			}
		}
		if s := string(b); !taken(s) {
			return s
		}
	}
}

// mac returns a MAC address in Alibaba Cloud's OUI 00:16:3e, from the
// stream of key (the ENI's ID; "" for the world file's sequence).
func (g *generator) mac(key string, taken func(string) bool) string {
	stream := "mac" + key
	for {
		x := g.at(stream, g.next(stream), 0)
		s := fmt.Sprintf("00:16:3e:%02x:%02x:%02x", byte(x>>16), byte(x>>8), byte(x))
		if !taken(s) {
			return s
		}
	}
}

// requestID returns a RequestId shaped like the service's (an upper-case
// UUID).
func (g *generator) requestID(n uint64) string {
	a, b := g.at("request", n, 0), g.at("request", n, 1)
	return fmt.Sprintf("%08X-%04X-4%03X-%04X-%012X",
		uint32(a>>32), uint16(a>>16), uint16(a)&0xfff, uint16(b>>48)&0x3fff|0x8000, b&0xffffffffffff)
}

// roll returns a number in [0,1) for fault kind on request n.
func (g *generator) roll(kind string, n uint64) float64 {
	return float64(g.at("fault/"+kind, n, 0)>>11) / (1 << 53)
}

// pick returns a pseudo-random offset below size for the next address
// auto-assigned to the ENI eniID: each ENI draws from its own stream, so
// what it gets does not depend on other ENIs' calls in between.
func (g *generator) pick(eniID string, size uint64) uint64 {
	stream := "ip/" + eniID
	return g.at(stream, g.next(stream), 0) % size
}

// addrToU32 and u32ToAddr convert IPv4 addresses for block arithmetic.
func addrToU32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func u32ToAddr(n uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}
