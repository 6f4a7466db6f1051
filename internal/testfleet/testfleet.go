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
	// Instances alone, so fleets generated with two seeds differ only in
	// their id fields.
	Seed int64
}

// The fixed shape of every instance.
const (
	InstanceType             = "ecs.g7.xlarge"
	ENIsPerInstance          = 3  // the primary and two secondary ENIs
	SecondaryIPsPerENI       = 10 // pinned, besides the ENI's primary address
	AddressesPerENI          = 1 + SecondaryIPsPerENI
	AddressesPerInstance     = ENIsPerInstance * AddressesPerENI // 33
	InstancesPerVSwitch      = 120
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
	if opts.Instances < 1 || opts.Instances > MaxInstances {
		return fmt.Errorf("instances must be from 1 to %d, got %d", MaxInstances, opts.Instances)
	}
	format := opts.Format
	if format == "" {
		format = "cue"
	}
	st, ok := styles[format]
	if !ok {
		return fmt.Errorf("format must be cue, json or yaml, got %q", opts.Format)
	}
	g := &gen{n: opts.Instances, seed: uint64(opts.Seed)}
	bw := bufio.NewWriterSize(w, 1<<16)
	g.write(bw, &st)
	return bw.Flush()
}

type gen struct {
	n    int
	seed uint64
}

func (g *gen) vswitches() int { return (g.n + InstancesPerVSwitch - 1) / InstancesPerVSwitch }
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
func addr(i, k int) uint32 {
	return block(i/InstancesPerVSwitch) + 1 + uint32(i%InstancesPerVSwitch*AddressesPerInstance+k)
}

// eniAddrs returns the first address of ENI e (0: primary, 1 and 2:
// secondary) of instance i.
func eniAddr(i, e int) uint32 { return addr(i, e*AddressesPerENI) }

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
		vsw := i / InstancesPerVSwitch
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
		l.ip(eniAddr(i, 0))
		l.inline("securityGroups", false)
		l.groups(i / InstancesPerGroup)
		l.inline("secondaryIps", false)
		l.secondaries(eniAddr(i, 0))
		l.str("}")
		l.end(true)
		l.close(1, i == g.n-1)
		l.flush(w)
	}
	l.close(0, false)

	blank()
	l.open(0, "enis", nil)
	for i := range g.n {
		vsw := i / InstancesPerVSwitch
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
			l.ip(eniAddr(i, e))
			l.end(false)
			l.field(2, "secondaryIps", 0)
			l.secondaries(eniAddr(i, e))
			l.end(true)
			l.close(1, i == g.n-1 && e == secondaryENIsPerInstance)
			l.flush(w)
		}
	}
	l.close(0, true)
	if st.json {
		l.str("}\n")
	}
	l.flush(w)
}
