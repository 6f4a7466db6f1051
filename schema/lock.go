package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ecsnet/ecsnet/internal/safefile"
)

// LockVersion is the lock file's format version.
const LockVersion = 2

// maxLockBytes caps what ReadLock reads. The lock is indented for review,
// about 1.1 KiB per instance of three ENIs with eleven addresses each, so a
// 20,000-instance fleet's lock is some 22 MiB; the cap leaves room for
// many times that while still refusing an endless stream.
const maxLockBytes = 512 << 20

// Lock records what the cloud decided for a fleet: ENI IDs and MACs, device
// indexes, and every secondary address, including those the cloud picked
// for a count. Apply writes it after every step; plan reads it to know
// which addresses ecsnet manages (an address on an ENI that the lock does
// not list was added by hand, and is removed only with --prune); render
// reads it to configure hosts offline. It is sorted and stable, so a
// reviewer sees exactly which addresses the cloud picked.
type Lock struct {
	Fleet string
	// VSwitches records the block of each of the fleet's vSwitches, by ID,
	// as the cloud reported it when apply last observed it. Render works
	// offline and refuses a desired state whose cidr disagrees: a wrong
	// block puts a wrong gateway on the host. Locks written before ecsnet
	// recorded blocks have none, and nothing is checked against them.
	VSwitches map[string]netip.Prefix
	// ENIs holds the fleet's ENIs, primary ones included, sorted by Key.
	ENIs []*LockedENI
}

// LockedENI is one ENI as the lock records it.
type LockedENI struct {
	// Instance is set for an instance's primary ENI; Name for a secondary
	// ENI of the enis section. Exactly one of them is set.
	Instance    string
	Name        string
	ID          string
	MAC         string
	AttachedTo  string // instance name, for a bound secondary ENI
	DeviceIndex int    // ecsnet's slot for a secondary ENI (plan/slot.go), kept while detached; 0 for a primary ENI
	PrimaryIP   netip.Addr
	Secondary   []LockedAddr // sorted by address
	// IPv6 holds the ENI's IPv6 addresses, sorted, including those the
	// cloud picked for ipv6IpCount; Prefixes its /28 IPv4 prefixes, sorted,
	// including those the cloud picked for ipv4PrefixCount. Added has the
	// meaning it has for Secondary. Locks written before ecsnet knew them
	// have neither.
	IPv6     []LockedAddr
	Prefixes []LockedPrefix
	// NetworkCard is the card the ENI was attached to (0 unless the file
	// asked for another).
	NetworkCard int
	// Generation grows every time ecsnet changes the ENI. ClientTokens are
	// derived from it, so a retry or a re-run after a crash sends the same
	// token (and the cloud does the work once), while a later change, or an
	// ENI deleted and created again, never reuses an old token.
	Generation int
	// Adopted marks an ENI that ecsnet did not create but took over
	// (ecsnet import). ecsnet never deletes it, even when the file drops it.
	Adopted bool
	// Failover records that ecsnet failover moved this secondary ENI, so
	// that a reviewer sees it in the lock's diff; nil otherwise. It is a
	// copy of the tag the command writes on the ENI (plan.TagFailover),
	// which is what apply's failback guard reads: a lock is a file anyone
	// with write access can edit, and it never authorises a move.
	Failover *LockedFailover
}

// LockedFailover is a failover the lock records: the instance the ENI was
// moved to, and when.
type LockedFailover struct {
	To string    // the instance's name in the desired state
	At time.Time // UTC, whole seconds
}

// MaxGeneration is the largest generation a lock may record: 2^53-1, the
// largest integer every JSON reader holds exactly. Apply saturates there
// rather than overflow, and ReadLock refuses more.
const MaxGeneration = 1<<53 - 1

// LockedAddr is a secondary address and whether ecsnet assigned it (rather
// than finding it already there).
type LockedAddr struct {
	Addr  netip.Addr
	Added bool
}

// LockedPrefix is an IPv4 prefix of an ENI and whether ecsnet assigned it.
type LockedPrefix struct {
	Prefix netip.Prefix
	Added  bool
}

// Key identifies a locked ENI: "instance/<name>" for a primary ENI,
// "eni/<name>" for a secondary one.
func (e *LockedENI) Key() string {
	if e.Instance != "" {
		return "instance/" + e.Instance
	}
	return "eni/" + e.Name
}

// Has reports whether the lock records a as a secondary address.
func (e *LockedENI) Has(a netip.Addr) bool {
	_, ok := slices.BinarySearchFunc(e.Secondary, a, func(x LockedAddr, a netip.Addr) int { return x.Addr.Compare(a) })
	return ok
}

// Addrs returns the recorded secondary addresses.
func (e *LockedENI) Addrs() []netip.Addr {
	out := make([]netip.Addr, len(e.Secondary))
	for i, s := range e.Secondary {
		out[i] = s.Addr
	}
	return out
}

// Primary returns the locked primary ENI of an instance, or nil.
func (l *Lock) Primary(instance string) *LockedENI { return l.find("instance/" + instance) }

// Secondary returns the locked secondary ENI called name, or nil.
func (l *Lock) Secondary(name string) *LockedENI { return l.find("eni/" + name) }

func (l *Lock) find(key string) *LockedENI {
	if l == nil {
		return nil
	}
	i, ok := slices.BinarySearchFunc(l.ENIs, key, func(e *LockedENI, k string) int { return strings.Compare(e.Key(), k) })
	if !ok {
		return nil
	}
	return l.ENIs[i]
}

// Put adds or replaces an entry, keeping the lock sorted.
func (l *Lock) Put(e *LockedENI) {
	slices.SortFunc(e.Secondary, func(a, b LockedAddr) int { return a.Addr.Compare(b.Addr) })
	slices.SortFunc(e.IPv6, func(a, b LockedAddr) int { return a.Addr.Compare(b.Addr) })
	slices.SortFunc(e.Prefixes, func(a, b LockedPrefix) int { return comparePrefix(a.Prefix, b.Prefix) })
	i, ok := slices.BinarySearchFunc(l.ENIs, e.Key(), func(x *LockedENI, k string) int { return strings.Compare(x.Key(), k) })
	if ok {
		l.ENIs[i] = e
		return
	}
	l.ENIs = slices.Insert(l.ENIs, i, e)
}

// Clone returns a deep copy, so that an apply can update its own lock while
// planners read the old one.
func (l *Lock) Clone() *Lock {
	if l == nil {
		return &Lock{}
	}
	c := &Lock{Fleet: l.Fleet, VSwitches: maps.Clone(l.VSwitches), ENIs: make([]*LockedENI, len(l.ENIs))}
	for i, e := range l.ENIs {
		x := *e
		x.Secondary = slices.Clone(e.Secondary)
		x.IPv6 = slices.Clone(e.IPv6)
		x.Prefixes = slices.Clone(e.Prefixes)
		if e.Failover != nil {
			fo := *e.Failover
			x.Failover = &fo
		}
		c.ENIs[i] = &x
	}
	return c
}

// The lock's JSON form. Field names are snake_case and stable; lists are
// sorted; there are no timestamps, so an unchanged cloud gives an unchanged
// file. Version 2 lists addresses as plain strings, one per line (version 1
// spent an object of four lines on each): a 20,000-instance fleet's lock
// is a third of the size, quicker to read, and a changed address is a
// one-line diff.
//
// vswitches was added within version 2: it is left out when empty, so a
// lock with nothing to record is written byte for byte as before, and a
// lock without it reads as before. No version bump: an older ecsnet
// refuses the field (its reader is strict) rather than misreading it.
type lockJSON struct {
	FormatVersion int               `json:"format_version"`
	Fleet         string            `json:"fleet"`
	VSwitches     map[string]string `json:"vswitches,omitempty"` // vSwitch ID -> CIDR; encoding/json sorts the keys
	ENIs          []lockENIJSON     `json:"enis"`
}

type lockENIJSON struct {
	Instance    string   `json:"instance,omitempty"`
	Name        string   `json:"name,omitempty"`
	ID          string   `json:"id"`
	MAC         string   `json:"mac,omitempty"`
	AttachedTo  string   `json:"attached_to,omitempty"`
	DeviceIndex int      `json:"device_index"`
	PrimaryIP   string   `json:"primary_ip,omitempty"`
	Secondary   addrList `json:"secondary_ips"`
	// Found lists the secondary addresses ecsnet found assigned (an
	// adopted ENI's) rather than assigned itself; each is also in
	// secondary_ips.
	Found      *addrList `json:"found_ips,omitempty"`
	Generation int       `json:"generation"`
	Adopted    bool      `json:"adopted,omitempty"`
	// Failover was added within version 2, as vswitches was: it is left
	// out unless ecsnet failover moved the ENI, so every other lock is
	// written byte for byte as before, and older locks read as before.
	Failover *lockFailoverJSON `json:"failover,omitempty"`
	// The IPv6 addresses, /28 IPv4 prefixes and network card of issue 17,
	// added within version 2 the same way: each is left out when empty
	// (card 0), so locks without them are written and read as before.
	// found_ipv6 and found_prefixes list those ecsnet found rather than
	// assigned, as found_ips does.
	IPv6          []string `json:"ipv6_ips,omitempty"`
	FoundIPv6     []string `json:"found_ipv6_ips,omitempty"`
	Prefixes      []string `json:"ipv4_prefixes,omitempty"`
	FoundPrefixes []string `json:"found_ipv4_prefixes,omitempty"`
	NetworkCard   int      `json:"network_card,omitempty"`
}

type lockFailoverJSON struct {
	To string `json:"to"`
	At string `json:"at"` // RFC 3339, UTC
}

// addrList is a lock's list of addresses. It reads both forms: strings
// (version 2) and version 1's {"ip": ..., "added_by_ecsnet": ...} objects,
// whose flag it keeps in found.
type addrList struct {
	addrs   []netip.Addr
	found   []netip.Addr // version 1 only
	objects bool         // written in version 1's form
	err     error        // the first bad entry, reported with the ENI's key
}

func (l addrList) MarshalJSON() ([]byte, error) {
	if l.addrs == nil {
		return []byte("[]"), nil
	}
	b := []byte{'['}
	for i, a := range l.addrs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = a.AppendTo(b)
		b = append(b, '"')
	}
	return append(b, ']'), nil
}

// UnmarshalJSON reads the list by hand: a lock holds hundreds of thousands
// of addresses, and going through encoding/json's reflection for each
// string, then netip.ParseAddr, took most of a large lock's read time.
func (l *addrList) UnmarshalJSON(data []byte) error {
	*l = addrList{addrs: []netip.Addr{}}
	s := bytes.TrimSpace(data)
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return fmt.Errorf("want a list of addresses, got %.40s", s)
	}
	s = bytes.TrimSpace(s[1 : len(s)-1])
	if len(s) == 0 {
		return nil
	}
	if s[0] == '{' {
		var v1 []struct {
			IP    string `json:"ip"`
			Added bool   `json:"added_by_ecsnet"`
		}
		if err := strictJSON(data, &v1); err != nil {
			return err
		}
		l.objects = true
		for _, x := range v1 {
			a, err := netip.ParseAddr(x.IP)
			if err != nil || !a.Is4() {
				l.setErr(x.IP)
				continue
			}
			l.addrs = append(l.addrs, a)
			if !x.Added {
				l.found = append(l.found, a)
			}
		}
		return nil
	}
	l.addrs = make([]netip.Addr, 0, bytes.Count(s, []byte{','})+1)
	for len(s) > 0 {
		if s[0] != '"' {
			return fmt.Errorf("want a quoted address, got %.40s", s)
		}
		end := bytes.IndexByte(s[1:], '"')
		if end < 0 {
			return fmt.Errorf("unterminated string %.40s", s)
		}
		str := s[1 : 1+end]
		a, err := netip.ParseAddr(string(str))
		if err != nil || !a.Is4() || bytes.IndexByte(str, '\\') >= 0 {
			l.setErr(string(str))
		} else {
			l.addrs = append(l.addrs, a)
		}
		s = bytes.TrimSpace(s[end+2:])
		if len(s) == 0 {
			break
		}
		if s[0] != ',' {
			return fmt.Errorf("want , between addresses, got %.40s", s)
		}
		s = bytes.TrimSpace(s[1:])
		if len(s) == 0 {
			return errors.New("trailing comma in a list of addresses")
		}
	}
	return nil
}

func (l *addrList) setErr(s string) {
	if l.err == nil {
		l.err = fmt.Errorf("bad address %q", s)
	}
}

func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// MarshalLock returns the lock's stable JSON bytes.
func MarshalLock(l *Lock) []byte {
	doc := lockJSON{FormatVersion: LockVersion, Fleet: l.Fleet, ENIs: make([]lockENIJSON, 0, len(l.ENIs))}
	if len(l.VSwitches) > 0 {
		doc.VSwitches = make(map[string]string, len(l.VSwitches))
		for id, p := range l.VSwitches {
			doc.VSwitches[id] = p.String()
		}
	}
	enis := slices.Clone(l.ENIs)
	slices.SortFunc(enis, func(a, b *LockedENI) int { return strings.Compare(a.Key(), b.Key()) })
	for _, e := range enis {
		j := lockENIJSON{Instance: e.Instance, Name: e.Name, ID: e.ID, MAC: strings.ToLower(e.MAC), AttachedTo: e.AttachedTo,
			DeviceIndex: e.DeviceIndex, Generation: e.Generation, Adopted: e.Adopted}
		if e.PrimaryIP.IsValid() {
			j.PrimaryIP = e.PrimaryIP.String()
		}
		if e.Failover != nil {
			j.Failover = &lockFailoverJSON{To: e.Failover.To, At: e.Failover.At.UTC().Format(time.RFC3339)}
		}
		j.IPv6, j.FoundIPv6, j.Prefixes, j.FoundPrefixes, j.NetworkCard = marshalIssue17(e)
		sec := slices.Clone(e.Secondary)
		slices.SortFunc(sec, func(a, b LockedAddr) int { return a.Addr.Compare(b.Addr) })
		j.Secondary.addrs = make([]netip.Addr, 0, len(sec))
		for _, s := range sec {
			j.Secondary.addrs = append(j.Secondary.addrs, s.Addr)
			if !s.Added {
				if j.Found == nil {
					j.Found = &addrList{}
				}
				j.Found.addrs = append(j.Found.addrs, s.Addr)
			}
		}
		doc.ENIs = append(doc.ENIs, j)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		panic(err) // only strings, ints, bools and addresses: cannot fail
	}
	return b.Bytes()
}

// ReadLock parses a lock file strictly: unknown fields, a newer format,
// bad addresses and duplicate entries are errors, so a damaged lock is never
// half-trusted. It reads format versions 1 and 2.
func ReadLock(r io.Reader, name string) (*Lock, error) {
	src, err := io.ReadAll(io.LimitReader(r, maxLockBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read lock %s: %w", name, err)
	}
	if len(src) > maxLockBytes {
		return nil, fmt.Errorf("lock %s is larger than %s", name, size(maxLockBytes))
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.DisallowUnknownFields()
	var doc lockJSON
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("lock %s is not a valid lock file: %w (delete it and run ecsnet apply or observe again)", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("lock %s has data after the JSON document", name)
	}
	if doc.FormatVersion != LockVersion && doc.FormatVersion != 1 {
		return nil, fmt.Errorf("lock %s has format_version %d; this ecsnet reads versions 1 and %d", name, doc.FormatVersion, LockVersion)
	}
	l := &Lock{Fleet: doc.Fleet, ENIs: make([]*LockedENI, 0, len(doc.ENIs))}
	if len(doc.VSwitches) > 0 {
		l.VSwitches = make(map[string]netip.Prefix, len(doc.VSwitches))
		for _, id := range slices.Sorted(maps.Keys(doc.VSwitches)) { // the first bad entry, always the same one
			s := doc.VSwitches[id]
			p, err := netip.ParsePrefix(s)
			if id == "" || err != nil || !p.Addr().Is4() || p != p.Masked() {
				return nil, fmt.Errorf("lock %s: vswitches: %q: %q is not a vSwitch ID and an IPv4 block like \"172.16.1.0/24\"; restore the lock from version control, or delete the entry and run ecsnet apply", name, id, s)
			}
			l.VSwitches[id] = p
		}
	}
	sorted := true
	for i, j := range doc.ENIs {
		e := &LockedENI{Instance: j.Instance, Name: j.Name, ID: j.ID, MAC: strings.ToLower(j.MAC), AttachedTo: j.AttachedTo,
			DeviceIndex: j.DeviceIndex, Generation: j.Generation, Adopted: j.Adopted}
		if (e.Instance == "") == (e.Name == "") {
			return nil, fmt.Errorf("lock %s: enis[%d] must have exactly one of instance and name", name, i)
		}
		if j.PrimaryIP != "" {
			a, err := netip.ParseAddr(j.PrimaryIP)
			if err != nil || !a.Is4() {
				return nil, fmt.Errorf("lock %s: %s: bad primary_ip %q", name, e.Key(), j.PrimaryIP)
			}
			e.PrimaryIP = a
		}
		if j.Secondary.err != nil {
			return nil, fmt.Errorf("lock %s: %s: %w in secondary_ips", name, e.Key(), j.Secondary.err)
		}
		if j.Failover != nil {
			at, err := time.Parse(time.RFC3339, j.Failover.At)
			if e.Name == "" || doc.FormatVersion == 1 || j.Failover.To == "" || err != nil {
				return nil, fmt.Errorf("lock %s: %s: failover must name the instance (to) and the time (at, RFC 3339), on a secondary ENI, in format_version 2; restore the lock from version control, or delete the entry's failover and run ecsnet apply", name, e.Key())
			}
			e.Failover = &LockedFailover{To: j.Failover.To, At: at.UTC()}
		}
		found := j.Secondary.found
		if j.Found != nil {
			if doc.FormatVersion == 1 || j.Found.objects {
				return nil, fmt.Errorf("lock %s: %s: found_ips must be a list of addresses (format_version 2)", name, e.Key())
			}
			if j.Found.err != nil {
				return nil, fmt.Errorf("lock %s: %s: %w in found_ips", name, e.Key(), j.Found.err)
			}
			found = j.Found.addrs
		}
		if doc.FormatVersion != 1 && j.Secondary.objects {
			return nil, fmt.Errorf("lock %s: %s: secondary_ips must be a list of address strings in format_version %d", name, e.Key(), doc.FormatVersion)
		}
		e.Secondary = make([]LockedAddr, len(j.Secondary.addrs))
		for k, a := range j.Secondary.addrs {
			e.Secondary[k] = LockedAddr{Addr: a, Added: true}
		}
		slices.SortFunc(e.Secondary, func(a, b LockedAddr) int { return a.Addr.Compare(b.Addr) })
		for k := 1; k < len(e.Secondary); k++ {
			if e.Secondary[k].Addr == e.Secondary[k-1].Addr {
				return nil, fmt.Errorf("lock %s: %s: %s is listed twice in secondary_ips", name, e.Key(), e.Secondary[k].Addr)
			}
		}
		for _, a := range found {
			k, ok := slices.BinarySearchFunc(e.Secondary, a, func(x LockedAddr, a netip.Addr) int { return x.Addr.Compare(a) })
			if !ok {
				return nil, fmt.Errorf("lock %s: %s: found_ips lists %s, which secondary_ips does not", name, e.Key(), a)
			}
			e.Secondary[k].Added = false
		}
		if err := readIssue17(e, j, doc.FormatVersion); err != nil {
			return nil, fmt.Errorf("lock %s: %s: %w; restore the lock from version control, or delete the entry and run ecsnet apply", name, e.Key(), err)
		}
		if j.Generation < 0 || j.DeviceIndex < 0 {
			return nil, fmt.Errorf("lock %s: %s: negative generation or device index", name, e.Key())
		}
		if j.Generation > MaxGeneration {
			return nil, fmt.Errorf("lock %s: %s: generation %d is above %d, more changes than any ENI ever sees (was the lock edited?); restore it from version control, or delete the entry and run ecsnet apply",
				name, e.Key(), j.Generation, MaxGeneration)
		}
		if n := len(l.ENIs); n > 0 && l.ENIs[n-1].Key() >= e.Key() {
			sorted = false
		}
		l.ENIs = append(l.ENIs, e)
	}
	// Locks ecsnet writes are sorted; sort any other once rather than
	// inserting entry by entry.
	if !sorted {
		slices.SortStableFunc(l.ENIs, func(a, b *LockedENI) int { return strings.Compare(a.Key(), b.Key()) })
	}
	for i := 1; i < len(l.ENIs); i++ {
		if l.ENIs[i].Key() == l.ENIs[i-1].Key() {
			return nil, fmt.Errorf("lock %s: %s is listed twice", name, l.ENIs[i].Key())
		}
	}
	return l, nil
}

// ReadLockFile reads a lock file; a missing file is an empty lock.
func ReadLockFile(path string) (*Lock, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return &Lock{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	defer f.Close()
	return ReadLock(f, path)
}

// WriteLockFile writes the lock atomically: a temporary file with a
// random name in the same directory, created exclusively (a link planted
// at a predictable name cannot redirect it), synced, then renamed over the
// old one, so a crash leaves either the old lock or the new one, never
// half of either, and no link's target is ever written. A killed write
// may leave a ".ecsnet.lock.json.*.tmp" file behind; it is never read.
func WriteLockFile(path string, l *Lock) error {
	if err := safefile.WriteFile(path, MarshalLock(l), 0o644); err != nil {
		return fmt.Errorf("write lock: %w", err)
	}
	return nil
}

// LockPath returns where the lock of a desired state lives: beside the
// first input (in it, when the input is a directory).
func LockPath(paths []string) string {
	if len(paths) == 0 || paths[0] == "-" {
		return LockFileName
	}
	if st, err := os.Stat(paths[0]); err == nil && st.IsDir() {
		return filepath.Join(paths[0], LockFileName)
	}
	return filepath.Join(filepath.Dir(paths[0]), LockFileName)
}
