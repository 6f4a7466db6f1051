// Package testfleet generates large, valid desired-state fleets for tests
// and benchmarks. It is a test and bench helper, not product API: the
// shape is fixed by what the benchmarks measure, and it may change with
// them.
//
// A generated fleet of N instances has this shape (cue-notes.md §5, and the
// 20,000-instance figure of the scale issue: 60,000 ENIs, 660,000
// addresses):
//
//   - Every instance is an ecs.g7.xlarge (4 ENIs, 15 private addresses per
//     ENI), with its primary ENI and two secondary ENIs bound to it (3 ENIs
//     per instance, so len(Fleet.ENIs) is 2N).
//   - Every ENI has a pinned primary address and 10 pinned secondary
//     addresses: 11 per ENI, 33 per instance.
//   - The OS cycles over one release of every family, by instance index:
//     centos7, rocky9, alinux3, debian12, ubuntu22.04, ubuntu24.04, sles15,
//     sles16, windows2022, linux (ifcfg, NetworkManager, ifupdown, netplan,
//     wicked and Windows stacks, and the generic iproute2 one).
//   - Instances come in blocks of 120. Each block has its own /20 vSwitch,
//     carved from 10.0.0.0/8 in order, holding 120 × 33 = 3,960 of the
//     4,092 usable addresses (the first address and the last three are
//     reserved). The blocks' zones cycle over cn-hangzhou-h, -i, -j and -k,
//     and all three ENIs of an instance sit in its block's vSwitch, so they
//     are in the instance's zone.
//   - Every 60 instances share one security group, which all their ENIs
//     (the primary included) name: 60 × 33 = 1,980 addresses per group,
//     under the 2,000 default.
//   - Names are fixed-width DNS labels: instances web-000000, ENIs
//     web-000000-eth1 and -eth2, vSwitches net-0000, groups sg-0000. IDs look
//     like the cloud's (i-bp1…, vsw-bp1…, sg-bp1…) and are unique because
//     they end in the index in base 36; the rest is derived from the seed.
//
// With Options.DualStack (issue 17's bench shape) the fleet also has:
//
//   - an IPv6 /64 on every vSwitch (2408:4005:3aa:<0x1000+v>::/64 for
//     vSwitch v);
//   - a tenth of the ENIs dual-stack (ENI k of the fleet, counting the
//     primary ENIs, with k%10 == 3): every other one pins two IPv6
//     addresses, the rest ask for two with ipv6IpCount;
//   - another tenth (k%10 == 7) carrying one pinned /28 IPv4 prefix,
//     placed after the block's addresses, on top of its 11 addresses;
//   - InstancesPerVSwitchDualStack (100) instances per vSwitch, not 120,
//     so that the prefixes fit: 3,300 addresses and 30 prefixes of 16
//     in a /20;
//   - a limits row for ecs.g7.xlarge with maxIpv6PerEni 15, as ecsnet's
//     table does not give that type IPv6 addresses.
//
// Output is deterministic: the same Options give the same bytes. Maps are
// written in sorted key order, and CUE output is plain data in the layout
// cue fmt produces, so the loader takes its fast path for literal data.
package testfleet

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// Options choose the fleet to generate.
type Options struct {
	// Instances is the number of instances, from 1 to MaxInstances.
	Instances int
	// Format is "cue" (the default when empty), "json" or "yaml".
	Format string
	// Seed varies the IDs only. Names, addresses and layout depend on
	// Instances (and DualStack) alone, so fleets generated with two seeds
	// differ only in their id fields.
	Seed int64
	// DualStack adds issue 17's IPv6 addresses and IPv4 prefixes to a
	// tenth of the ENIs each (see the package comment).
	DualStack bool
}

// The fixed shape of every instance.
const (
	InstanceType         = "ecs.g7.xlarge"
	ENIsPerInstance      = 3  // the primary and two secondary ENIs
	SecondaryIPsPerENI   = 10 // pinned, besides the ENI's primary address
	AddressesPerENI      = 1 + SecondaryIPsPerENI
	AddressesPerInstance = ENIsPerInstance * AddressesPerENI // 33
	InstancesPerVSwitch  = 120
	// InstancesPerVSwitchDualStack is the block's share with DualStack.
	InstancesPerVSwitchDualStack = 100
	// ipv6PerENI is the maxIpv6PerEni of the limits row DualStack adds
	// (the built-in table gives ecs.g7.xlarge no IPv6 addresses).
	ipv6PerENI               = 15
	InstancesPerGroup        = 60
	MaxInstances             = vswitchesIn10 * InstancesPerVSwitch // 491,520
	vswitchesIn10            = 1 << (20 - 8)                       // /20 blocks in 10.0.0.0/8
	namePrefix               = "web-"
	Region                   = "cn-hangzhou"
	FleetName                = "testfleet"
	secondaryENIsPerInstance = ENIsPerInstance - 1
)

// OSMix is the OS of instance i: OSMix[i%len(OSMix)].
var OSMix = []string{
	"centos7", "rocky9", "alinux3", "debian12", "ubuntu22.04",
	"ubuntu24.04", "sles15", "sles16", "windows2022", "linux",
}

// Zones are the zones of the vSwitches, cycling by block.
var Zones = []string{"cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"}

// Generate returns the fleet that opts describe. It panics on invalid
// Options, which is a bug in the calling test; programs use Write.
func Generate(opts Options) []byte {
	var b bytes.Buffer
	b.Grow(opts.Instances * 1300)
	if err := Write(&b, opts); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// Write writes the fleet that opts describe to w.
func Write(w io.Writer, opts Options) error {
	limit := MaxInstances
	if opts.DualStack {
		limit = vswitchesIn10 * InstancesPerVSwitchDualStack
	}
	if opts.Instances < 1 || opts.Instances > limit {
		return fmt.Errorf("instances must be from 1 to %d, got %d", limit, opts.Instances)
	}
	format := opts.Format
	if format == "" {
		format = "cue"
	}
	st, ok := styles[format]
	if !ok {
		return fmt.Errorf("format must be cue, json or yaml, got %q", opts.Format)
	}
	g := &gen{n: opts.Instances, seed: uint64(opts.Seed), per: InstancesPerVSwitch, dual: opts.DualStack}
	if opts.DualStack {
		g.per = InstancesPerVSwitchDualStack
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	g.write(bw, &st)
	return bw.Flush()
}

type gen struct {
	n    int
	seed uint64
	per  int  // instances per vSwitch
	dual bool // Options.DualStack
}

func (g *gen) vswitches() int { return (g.n + g.per - 1) / g.per }
func (g *gen) groups() int    { return (g.n + InstancesPerGroup - 1) / InstancesPerGroup }

// splitmix64 is a small, well-mixed hash; it turns (seed, kind, index) into
// the random-looking part of an ID.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

const alnum = "0123456789abcdefghijklmnopqrstuvwxyz"

// appendID appends prefix + "bp1" + 11 seed-derived characters + the index
// in 6 base-36 digits: unique per (prefix, index), like the cloud's IDs in
// shape.
func (g *gen) appendID(b []byte, prefix string, kind uint64, i int) []byte {
	b = append(b, prefix...)
	b = append(b, "bp1"...)
	h := splitmix64(g.seed ^ splitmix64(kind<<40|uint64(i)))
	for range 11 {
		b = append(b, alnum[h%36])
		h /= 36
	}
	var d [6]byte
	for k, v := 5, uint64(i); k >= 0; k-- {
		d[k] = alnum[v%36]
		v /= 36
	}
	return append(b, d[:]...)
}

func appendPadded(b []byte, v, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(v), 10)
	for range width - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

func (g *gen) appendInstanceName(b []byte, i int) []byte {
	return appendPadded(append(b, namePrefix...), i, 6)
}

func appendVSwitchName(b []byte, v int) []byte { return appendPadded(append(b, "net-"...), v, 4) }
func appendGroupName(b []byte, s int) []byte   { return appendPadded(append(b, "sg-"...), s, 4) }

// block returns the base address (as a uint32) of vSwitch v's /20.
func block(v int) uint32 { return 10<<24 | uint32(v)<<12 }

func appendIPv4(b []byte, a uint32) []byte {
	b = strconv.AppendUint(b, uint64(a>>24), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(a>>16&0xff), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(a>>8&0xff), 10)
	b = append(b, '.')
	return strconv.AppendUint(b, uint64(a&0xff), 10)
}

func appendCIDR(b []byte, v int) []byte {
	return append(appendIPv4(b, block(v)), "/20"...)
}

// addr returns address k (0 to 32) of instance i. Within its block, the
// instance owns 33 consecutive addresses starting at the block's second
// address, so the reserved first address and last three stay free.
func (g *gen) addr(i, k int) uint32 {
	return block(i/g.per) + 1 + uint32(i%g.per*AddressesPerInstance+k)
}

// eniAddrs returns the first address of ENI e (0: primary, 1 and 2:
// secondary) of instance i.
func (g *gen) eniAddr(i, e int) uint32 { return g.addr(i, e*AddressesPerENI) }

// What DualStack adds to ENI e of instance i: its number in the fleet
// decides.
func (g *gen) dualStack(i, e int) bool { return g.dual && (i*ENIsPerInstance+e)%10 == 3 }
func (g *gen) prefixed(i, e int) bool  { return g.dual && (i*ENIsPerInstance+e)%10 == 7 }

// pinnedV6 reports whether a dual-stack ENI pins its addresses (every
// other one) rather than counting them.
func pinnedV6(i, e int) bool { return (i*ENIsPerInstance+e)/10%2 == 0 }

// prefixBase is where a block's prefixes start: the first multiple of 16
// after its instances' addresses.
func (g *gen) prefixBase(v int) uint32 {
	used := uint32(1 + g.per*AddressesPerInstance)
	return block(v) + (used+15)/16*16
}

// prefix returns the /28 of ENI e of instance i (one that prefixed holds):
// the block's prefixes are numbered by the ENI's place in the block.
func (g *gen) prefix(i, e int) uint32 {
	local := (i%g.per*ENIsPerInstance + e) / 10
	return g.prefixBase(i/g.per) + uint32(16*local)
}

// appendIPv6Block appends vSwitch v's IPv6 /64 without the length.
func appendIPv6Block(b []byte, v int) []byte {
	b = append(b, "2408:4005:3aa:"...)
	return strconv.AppendUint(b, uint64(0x1000+v), 16)
}

// appendIPv6 appends address id (an interface identifier below 2^16) of
// vSwitch v's block.
func appendIPv6(b []byte, v int, id int) []byte {
	b = appendIPv6Block(b, v)
	b = append(b, "::"...)
	return strconv.AppendUint(b, uint64(id), 16)
}

// style is what differs between the three syntaxes. The document's
// structure is written once, in write.
type style struct {
	comment string // header comment marker; empty: no comment (JSON)
	indent  string
	json    bool // quote every key, separate members with commas, wrap in { }
	yaml    bool // block structs by indentation, without braces
	align   bool // pad consecutive scalar fields to a common column (cue fmt)
}

var styles = map[string]style{
	"cue":  {comment: "//", indent: "\t", align: true},
	"json": {indent: "\t", json: true},
	"yaml": {comment: "#", indent: "  ", yaml: true},
}

// line holds the bytes of the line (or record) being built; every method
// appends to it.
type line struct {
	b  []byte
	st *style
}

func (l *line) str(s string) { l.b = append(l.b, s...) }

func (l *line) indent(depth int) {
	if l.st.json {
		depth++ // inside the document's outer braces
	}
	for range depth {
		l.b = append(l.b, l.st.indent...)
	}
}

// key writes an identifier-like key (fleet, id, secondaryIps, ...).
func (l *line) key(k string) {
	if l.st.json {
		l.b = append(l.b, '"')
		l.b = append(l.b, k...)
		l.b = append(l.b, '"')
	} else {
		l.b = append(l.b, k...)
	}
}

// nameKey writes a key that is a name with '-' in it, which CUE must quote.
func (l *line) nameKey(name []byte) {
	if l.st.yaml {
		l.b = append(l.b, name...)
		return
	}
	l.b = append(l.b, '"')
	l.b = append(l.b, name...)
	l.b = append(l.b, '"')
}

// field starts a scalar field at depth, padded to a run of keys whose
// longest is width bytes when the style aligns.
func (l *line) field(depth int, k string, width int) {
	l.indent(depth)
	l.key(k)
	l.b = append(l.b, ':', ' ')
	if l.st.align {
		for range width - len(k) {
			l.b = append(l.b, ' ')
		}
	}
}

// end ends a member of a block struct; last is whether it is the last
// member, which matters for JSON's commas.
func (l *line) end(last bool) {
	if l.st.json && !last {
		l.b = append(l.b, ',')
	}
	l.b = append(l.b, '\n')
}

// open starts a block struct whose key is k (or the name, when k is empty).
func (l *line) open(depth int, k string, name []byte) {
	l.indent(depth)
	if k != "" {
		l.key(k)
	} else {
		l.nameKey(name)
	}
	if l.st.yaml {
		l.str(":\n")
	} else {
		l.str(": {\n")
	}
}

// close ends a block struct opened at depth.
func (l *line) close(depth int, last bool) {
	if l.st.yaml {
		return
	}
	l.indent(depth)
	l.b = append(l.b, '}')
	l.end(last)
}

// inline writes the ", key: " between members of an inline struct; first
// writes "{key: " instead.
func (l *line) inline(k string, first bool) {
	if first {
		l.b = append(l.b, '{')
	} else {
		l.b = append(l.b, ',', ' ')
	}
	l.key(k)
	l.b = append(l.b, ':', ' ')
}

func (l *line) quoted(s []byte) {
	l.b = append(l.b, '"')
	l.b = append(l.b, s...)
	l.b = append(l.b, '"')
}

func (l *line) ip(a uint32) {
	l.b = append(l.b, '"')
	l.b = appendIPv4(l.b, a)
	l.b = append(l.b, '"')
}

// secondaries writes the list of the 10 addresses after first.
func (l *line) secondaries(first uint32) {
	l.b = append(l.b, '[')
	for k := range SecondaryIPsPerENI {
		if k > 0 {
			l.b = append(l.b, ", "...)
		}
		l.ip(first + 1 + uint32(k))
	}
	l.b = append(l.b, ']')
}

func (l *line) groups(s int) {
	l.b = append(l.b, '[', '"')
	l.b = appendGroupName(l.b, s)
	l.b = append(l.b, '"', ']')
}

func (l *line) flush(w *bufio.Writer) {
	w.Write(l.b)
	l.b = l.b[:0]
}

func (g *gen) write(w *bufio.Writer, st *style) {
	l := &line{b: make([]byte, 0, 4096), st: st}
	var name, scratch []byte
	if st.comment != "" {
		fmt.Fprintf(w, "%s Generated by internal/testfleet: %d instances, seed %d. Do not edit.\n", st.comment, g.n, int64(g.seed))
	}
	if st.json {
		l.str("{\n")
	}
	l.field(0, "fleet", 6)
	l.str(`"` + FleetName + `"`)
	l.end(false)
	l.field(0, "region", 6)
	l.str(`"` + Region + `"`)
	l.end(false)
	blank := func() {
		if !st.json {
			l.str("\n")
		}
	}

	blank()
	l.open(0, "vswitches", nil)
	nv := g.vswitches()
	for v := range nv {
		name = appendVSwitchName(name[:0], v)
		l.indent(1)
		l.nameKey(name)
		l.str(": ")
		l.inline("id", true)
		l.quoted(g.appendID(scratch[:0], "vsw-", 1, v))
		l.inline("zone", false)
		l.str(`"` + Zones[v%len(Zones)] + `"`)
		l.inline("cidr", false)
		scratch = appendCIDR(scratch[:0], v)
		l.quoted(scratch)
		if g.dual {
			l.inline("ipv6Cidr", false)
			scratch = append(appendIPv6Block(scratch[:0], v), "::/64"...)
			l.quoted(scratch)
		}
		l.str("}")
		l.end(v == nv-1)
		l.flush(w)
	}
	l.close(0, false)

	blank()
	l.open(0, "securityGroups", nil)
	ng := g.groups()
	for s := range ng {
		name = appendGroupName(name[:0], s)
		l.indent(1)
		l.nameKey(name)
		l.str(": ")
		l.inline("id", true)
		scratch = g.appendID(scratch[:0], "sg-", 2, s)
		l.quoted(scratch)
		l.str("}")
		l.end(s == ng-1)
		l.flush(w)
	}
	l.close(0, false)

	blank()
	l.open(0, "instances", nil)
	for i := range g.n {
		name = g.appendInstanceName(name[:0], i)
		vsw := i / g.per
		l.open(1, "", name)
		l.field(2, "id", 4)
		scratch = g.appendID(scratch[:0], "i-", 3, i)
		l.quoted(scratch)
		l.end(false)
		l.field(2, "type", 4)
		l.str(`"` + InstanceType + `"`)
		l.end(false)
		l.field(2, "os", 4)
		l.str(`"` + OSMix[i%len(OSMix)] + `"`)
		l.end(false)
		l.field(2, "primary", 0)
		l.inline("vswitch", true)
		l.quoted(appendVSwitchName(scratch[:0], vsw))
		l.inline("ip", false)
		l.ip(g.eniAddr(i, 0))
		l.inline("securityGroups", false)
		l.groups(i / InstancesPerGroup)
		l.inline("secondaryIps", false)
		l.secondaries(g.eniAddr(i, 0))
		g.issue17(l, i, 0, true)
		l.str("}")
		l.end(true)
		l.close(1, i == g.n-1)
		l.flush(w)
	}
	l.close(0, false)

	blank()
	l.open(0, "enis", nil)
	for i := range g.n {
		vsw := i / g.per
		for e := 1; e <= secondaryENIsPerInstance; e++ {
			name = g.appendInstanceName(name[:0], i)
			name = append(name, "-eth"...)
			name = strconv.AppendInt(name, int64(e), 10)
			l.open(1, "", name)
			// cue fmt aligns the values of consecutive fields, but a
			// field whose value is a list ends the run; hence the order.
			l.field(2, "securityGroups", 0)
			l.groups(i / InstancesPerGroup)
			l.end(false)
			l.field(2, "vswitch", 11)
			l.quoted(appendVSwitchName(scratch[:0], vsw))
			l.end(false)
			l.field(2, "description", 11)
			scratch = append(scratch[:0], "data ENI "...)
			scratch = strconv.AppendInt(scratch, int64(e), 10)
			scratch = append(scratch, " of "...)
			scratch = g.appendInstanceName(scratch, i)
			l.quoted(scratch)
			l.end(false)
			l.field(2, "attachTo", 11)
			l.quoted(g.appendInstanceName(scratch[:0], i))
			l.end(false)
			l.field(2, "primaryIp", 11)
			l.ip(g.eniAddr(i, e))
			l.end(false)
			l.field(2, "secondaryIps", 0)
			l.secondaries(g.eniAddr(i, e))
			if g.dualStack(i, e) || g.prefixed(i, e) {
				l.end(false)
				l.indent(2)
				g.issue17(l, i, e, false)
			}
			l.end(true)
			l.close(1, i == g.n-1 && e == secondaryENIsPerInstance)
			l.flush(w)
		}
	}
	l.close(0, !g.dual)
	if g.dual {
		// limits: instanceTypes: "ecs.g7.xlarge": {...}, with IPv6.
		blank()
		l.open(0, "limits", nil)
		l.open(1, "instanceTypes", nil)
		l.indent(2)
		l.nameKey([]byte(InstanceType))
		l.str(": ")
		l.inline("maxEnis", true)
		l.str("4")
		l.inline("maxIpsPerEni", false)
		l.str("15")
		l.inline("maxIpv6PerEni", false)
		l.str(strconv.Itoa(ipv6PerENI))
		l.str("}")
		l.end(true)
		l.close(1, true)
		l.close(0, true)
	}
	if st.json {
		l.str("}\n")
	}
	l.flush(w)
}

// issue17 writes what DualStack adds to ENI e of instance i, if anything:
// inline as more members of the primary ENI's struct, or as one field of a
// secondary ENI's block (the caller has indented it). Each ENI gets one
// field at most, a list or a lone number, so no alignment run changes.
func (g *gen) issue17(l *line, i, e int, inline bool) {
	start := func(k string) {
		if inline {
			l.inline(k, false)
			return
		}
		l.key(k)
		l.str(": ")
	}
	v := i / g.per
	switch {
	case g.dualStack(i, e) && pinnedV6(i, e):
		start("ipv6Ips")
		id := 0x100 + (i%g.per*ENIsPerInstance+e)*2
		l.str(`["`)
		l.b = appendIPv6(l.b, v, id)
		l.str(`", "`)
		l.b = appendIPv6(l.b, v, id+1)
		l.str(`"]`)
	case g.dualStack(i, e):
		start("ipv6IpCount")
		l.str("2")
	case g.prefixed(i, e):
		start("ipv4Prefixes")
		l.str(`["`)
		l.b = appendIPv4(l.b, g.prefix(i, e))
		l.str(`/28"]`)
	}
}
