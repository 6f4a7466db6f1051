package emulator

import (
	"cmp"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
)

// cloud is the emulator's live state. Every map has a sorted ID slice beside
// it, because every Describe pages in ID order and must find a page start in
// O(log n) at 20,000 ENIs.
type cloud struct {
	region    string
	quotas    Quotas
	overrides []InstanceType // as the world gave them, for State
	types     map[string]instanceType
	keys      map[string]AccessKey

	vpcs      map[string]*vpc
	vpcIDs    []string
	vswitches map[string]*vswitch
	vswIDs    []string
	groups    map[string]*group
	groupIDs  []string
	instances map[string]*instance
	instList  []*instance // sorted by ID
	enis      map[string]*eni
	eniList   []*eni // sorted by ID
	macs      map[string]bool
	// secondaries counts the secondary ENIs that exist (Deleting ones
	// included) for the account ENI quota.
	secondaries int

	gen  *generator
	tick int64 // logical clock for response timestamps
}

type instanceType struct {
	id           string
	maxENIs      int // EniQuantity, primary included
	maxIPs       int // EniPrivateIpAddressQuantity, primary address included
	maxIPv6      int // EniIpv6AddressQuantity; 0: the type has no IPv6
	cards        int // NetworkCardQuantity; 0 or 1: one card
	maxQueues    int // MaximumQueueNumberPerEni; 0: unknown, not checked
	needsStopped bool
	cpu          int
	mem          float64
}

// networkCards returns how many network cards the type has: at least one.
func (t instanceType) networkCards() int { return max(1, t.cards) }

type vpc struct {
	id, name string
	cidr     netip.Prefix
	enis     []*eni // sorted by ID
}

type vswitch struct {
	id, name, vpcID, zone string
	cidr                  netip.Prefix
	ipv6                  netip.Prefix // Ipv6CidrBlock; zero: no IPv6 block
	base                  uint32       // network address
	size                  uint32       // addresses in the block
	// used holds the IPv4 addresses ENIs hold, by offset, each ENI's
	// /28 prefixes included address by address (a prefix takes its 16
	// addresses out of AvailableIpAddressCount; ipv6.go).
	used  map[uint32]string
	used6 map[netip.Addr]string // IPv6 addresses held, by ENI ID
	enis  []*eni                // sorted by ID
}

type group struct {
	id, name, vpcID string
	ips             int // private addresses of member ENIs
}

type instance struct {
	id, name, typ, status     string
	osType, osName, zone, vsw string
	ecsnetOS, ecsnetNetwork   string // world-only: what the guest runs, for hosts mode
	primary                   *eni
	enis                      []*eni // bound ENIs, primary included, sorted by ID
	created                   string
}

type eni struct {
	id, name, desc   string
	vsw, vpcID, zone string
	primary          bool // Type Primary: the instance's own, never detached
	groups           []string
	ip               netip.Addr
	secondaries      []netip.Addr   // sorted
	ipv6             []netip.Addr   // sorted
	prefixes         []netip.Prefix // /28 IPv4 prefixes, sorted
	networkCard      int            // NetworkCardIndex of the attachment
	queues           int            // QueueNumber; 0: the type's default
	mac, status      string
	instanceID       string
	deviceIndex      int
	tags             []Tag // sorted by key
	created          string
	transition       uint64     // sequence of the pending transition, 0 if none
	history          []snapshot // states reads still see, oldest first (timing.go)
	busyUntil        time.Time  // a change before then is Operation.Conflict (faults.go)
}

// ENI states (ecs-api.md §3).
const (
	stAvailable = "Available"
	stAttaching = "Attaching"
	stInUse     = "InUse"
	stDetaching = "Detaching"
	stDeleting  = "Deleting"
)

var instanceStatuses = []string{"Pending", "Running", "Starting", "Stopping", "Stopped"}

// epoch is the logical clock's zero. Response timestamps count seconds of
// logical time from it, one per state change, never wall time.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const timeLayout = "2006-01-02T15:04:05Z"

// stamp returns the next logical timestamp.
func (c *cloud) stamp() string {
	c.tick++
	return epoch.Add(time.Duration(c.tick) * time.Second).Format(timeLayout)
}

// usable reports whether a is an address ENIs may hold: inside the block
// and not one of the four the cloud reserves (the network address and the
// last three, ecs-api.md §4).
func (v *vswitch) usable(a netip.Addr) bool {
	if !a.Is4() || !v.cidr.Contains(a) {
		return false
	}
	off := addrToU32(a) - v.base
	return off != 0 && off < v.size-3
}

// reserved reports whether a is inside the block but kept by the cloud.
func (v *vswitch) reserved(a netip.Addr) bool {
	return a.Is4() && v.cidr.Contains(a) && !v.usable(a)
}

func (v *vswitch) free() int { return int(v.size) - 4 - len(v.used) }

func (v *vswitch) inUse(a netip.Addr) bool {
	_, ok := v.used[addrToU32(a)]
	return ok
}

// allocate picks n free addresses for eniID, as the cloud hands them out
// in no particular order: each a seeded random draw of the ENI's own
// stream, drawn again when taken, and searched linearly from the last
// draw once a few draws have missed (a nearly full block). The caller has
// checked that n are free.
func (c *cloud) allocate(v *vswitch, n int, eniID string) []netip.Addr {
	out := make([]netip.Addr, 0, n)
	for range n {
		off := uint32(c.gen.pick(eniID, uint64(v.size)))
		for tries := 1; tries < 8; tries++ {
			if a := u32ToAddr(v.base + off); v.usable(a) && !v.inUse(a) {
				break
			}
			off = uint32(c.gen.pick(eniID, uint64(v.size)))
		}
		for {
			a := u32ToAddr(v.base + off)
			if v.usable(a) && !v.inUse(a) {
				v.used[addrToU32(a)] = eniID
				out = append(out, a)
				break
			}
			off = (off + 1) % v.size
		}
	}
	return out
}

func (v *vswitch) take(a netip.Addr, eniID string) { v.used[addrToU32(a)] = eniID }
func (v *vswitch) release(a netip.Addr)            { delete(v.used, addrToU32(a)) }

// addrs returns the ENI's addresses, primary first.
func (e *eni) addrs() []netip.Addr {
	return append([]netip.Addr{e.ip}, e.secondaries...)
}

func (e *eni) ipCount() int { return 1 + len(e.secondaries) }

// slots is what the ENI takes of EniPrivateIpAddressQuantity: its
// addresses and one per /28 prefix (ipv6.go).
func (e *eni) slots() int { return 1 + len(e.secondaries) + len(e.prefixes) }

func (e *eni) typ() string {
	if e.primary {
		return "Primary"
	}
	return "Secondary"
}

// bound reports whether the ENI is on an instance (attaching, attached or
// detaching): it then holds a device index and counts towards the type's
// ENI quota.
func (e *eni) bound() bool { return e.instanceID != "" }

func (e *eni) hasAddr(a netip.Addr) bool {
	if a == e.ip {
		return true
	}
	_, ok := slices.BinarySearchFunc(e.secondaries, a, netip.Addr.Compare)
	return ok
}

// keyed values sit in indexes sorted by ID.
type keyed interface{ key() string }

func (e *eni) key() string       { return e.id }
func (in *instance) key() string { return in.id }

func byKey[T keyed](x T, id string) int { return strings.Compare(x.key(), id) }

// insertByID and removeByID keep a pointer index sorted by ID.
func insertByID[T keyed](s []T, x T) []T {
	i, found := slices.BinarySearchFunc(s, x.key(), byKey[T])
	if found {
		return s
	}
	return slices.Insert(s, i, x)
}

func removeByID[T keyed](s []T, id string) []T {
	i, found := slices.BinarySearchFunc(s, id, byKey[T])
	if !found {
		return s
	}
	return slices.Delete(s, i, i+1)
}

func insertSorted(s []string, id string) []string {
	i, found := slices.BinarySearch(s, id)
	if found {
		return s
	}
	return slices.Insert(s, i, id)
}

// addENI registers a new ENI in every index and charges its addresses to
// its vSwitch and security groups.
func (c *cloud) addENI(e *eni) {
	c.enis[e.id] = e
	c.eniList = insertByID(c.eniList, e)
	v := c.vswitches[e.vsw]
	v.enis = insertByID(v.enis, e)
	p := c.vpcs[e.vpcID]
	p.enis = insertByID(p.enis, e)
	for _, a := range e.addrs() {
		v.take(a, e.id)
	}
	for _, a := range e.ipv6 {
		v.used6[a] = e.id
	}
	for _, p := range e.prefixes {
		v.takePrefix(p, e.id)
	}
	for _, g := range e.groups {
		c.groups[g].ips += e.ipCount()
	}
	c.macs[e.mac] = true
	if e.instanceID != "" {
		in := c.instances[e.instanceID]
		in.enis = insertByID(in.enis, e)
	}
	if !e.primary {
		c.secondaries++
	}
}

// removeENI is addENI undone: a deleted ENI releases its addresses and
// leaves its security groups (ecs-api.md §2.5).
func (c *cloud) removeENI(e *eni) {
	delete(c.enis, e.id)
	c.eniList = removeByID(c.eniList, e.id)
	v := c.vswitches[e.vsw]
	v.enis = removeByID(v.enis, e.id)
	p := c.vpcs[e.vpcID]
	p.enis = removeByID(p.enis, e.id)
	for _, a := range e.addrs() {
		v.release(a)
	}
	for _, a := range e.ipv6 {
		delete(v.used6, a)
	}
	for _, p := range e.prefixes {
		v.releasePrefix(p)
	}
	for _, g := range e.groups {
		c.groups[g].ips -= e.ipCount()
	}
	delete(c.macs, e.mac)
	if e.instanceID != "" {
		in := c.instances[e.instanceID]
		in.enis = removeByID(in.enis, e.id)
	}
	if !e.primary {
		c.secondaries--
	}
}

// freeDeviceIndex returns the lowest device index ≥ 1 no ENI bound to the
// instance holds.
func (c *cloud) freeDeviceIndex(in *instance) int {
	used := map[int]bool{}
	for _, e := range in.enis {
		used[e.deviceIndex] = true
	}
	for i := 1; ; i++ {
		if !used[i] {
			return i
		}
	}
}

// instanceType returns the limits of a type: the world's override merged
// over the built-in row.
func (c *cloud) instanceType(name string) (instanceType, bool) {
	t, ok := c.types[name]
	return t, ok
}

// typeFamily returns the InstanceTypeFamily of a type name: ecs.g7.large is
// in ecs.g7, ecs.e-c1m2.large in ecs.e.
func typeFamily(name string) string {
	parts := strings.SplitN(name, ".", 3)
	if len(parts) < 2 {
		return name
	}
	fam, _, _ := strings.Cut(parts[1], "-")
	return parts[0] + "." + fam
}

var ratioRE = regexp.MustCompile(`-c(\d+)m(\d+)$`)

// typeSize guesses vCPUs and memory (GiB) from a type name. Only
// DescribeInstances' Cpu/Memory and DescribeInstanceTypes' CpuCoreCount/
// MemorySize show them, and ecsnet reads neither; a world may set them.
func typeSize(name string) (int, float64) {
	parts := strings.SplitN(name, ".", 3)
	if len(parts) < 3 {
		return 2, 8
	}
	cpu := 2
	switch size := parts[2]; {
	case size == "small" || size == "medium":
		cpu = 1
	case size == "large":
		cpu = 2
	case size == "xlarge":
		cpu = 4
	case strings.HasSuffix(size, "xlarge"):
		n := 0
		for _, r := range strings.TrimSuffix(size, "xlarge") {
			if r < '0' || r > '9' {
				n = 1
				break
			}
			n = n*10 + int(r-'0')
		}
		cpu = 4 * max(n, 1)
	}
	ratio := 4.0
	if m := ratioRE.FindStringSubmatch(parts[1]); m != nil {
		c, mem := atoiSafe(m[1]), atoiSafe(m[2])
		if c > 0 {
			ratio = float64(mem) / float64(c)
		}
	} else if fam := parts[1]; fam != "" {
		switch fam[0] {
		case 'c':
			ratio = 2
		case 'r':
			ratio = 8
		}
	}
	return cpu, float64(cpu) * ratio
}

func atoiSafe(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// sortTags orders tags by key, the order every response lists them in.
func sortTags(tags []Tag) {
	slices.SortFunc(tags, func(a, b Tag) int { return cmp.Compare(a.TagKey, b.TagKey) })
}
