package render

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io/fs"
	"slices"
	"sync"

	"github.com/ecsnet/ecsnet/internal/safefile"
)

// StatCacheName is the file in an output directory where render keeps,
// per host, the stat of every file it wrote or read back and found
// current, as git's index does: a later render takes a file whose lstat
// still matches exactly as current without reading it. It is only ever a
// shortcut: missing, corrupt or from another directory, it is ignored and
// every file is read back and compared. render --check never uses it.
//
// It lives in a directory of its own with a .gitignore that ignores it
// all (as pytest's and mypy's caches do): an output directory is often
// committed, for render --check to guard, and a cache of this machine's
// inodes must not be.
const StatCacheName = cacheDir + "/render-stat"

const (
	cacheDir       = ".ecsnet-cache"
	cacheGitignore = "# Written by ecsnet render: a cache of this machine's file stats, never\n# to be committed; removing it only makes the next render read every file.\n*\n"
)

// statMagic opens the cache; a file that does not start with it is not
// one (or is of another version) and is ignored.
const statMagic = "ecsnet render stat cache 2\n"

// stamp is what a file's lstat must still say for the file to be taken
// as the one render verified. ctime and the inode change on any write,
// rename or chmod and cannot be set back by hand (a restored mtime can),
// so a same-size edit is still seen.
type stamp struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // ns since the epoch
	mode         uint32
}

// fileStat is one file of a host: its path in the bundle and its stamp.
type fileStat struct {
	path string
	st   stamp
}

// hostStat is what the cache holds for one host: the bundle its files
// were verified against, in the bundle's order their stamps, and the
// stamps of every directory of the host's tree ("." is the host's), which
// change when a name in them is added, removed or renamed.
type hostStat struct {
	bundle [sha256.Size]byte
	files  []fileStat
	dirs   []fileStat
}

// bundleSum identifies a bundle: the sha256 of its manifest.json, which
// lists every other file's path, mode, size and sha256 (ForHost). A
// bundle without one is never taken from the cache.
func bundleSum(files []File) ([sha256.Size]byte, bool) {
	for i := len(files) - 1; i >= 0; i-- { // ForHost puts it last
		if files[i].Path == ManifestName {
			return sha256.Sum256(files[i].Data), true
		}
	}
	return [sha256.Size]byte{}, false
}

// statCache is an output directory's StatCacheName, read when the first
// host is updated and written back by Out.Close when anything in it
// changed. Hosts not updated keep their entries as they were read.
type statCache struct {
	dir  *safefile.Dir
	load sync.Once

	mu    sync.Mutex
	off   bool                 // no stamps on this system, or the directory cannot be described
	id    stamp                // the output directory itself (dev, inode)
	since int64                // the read cache's mtime; 0 if none was read
	raw   map[string][]byte    // host -> its encoded record, as read
	hosts map[string]*hostStat // set by this run; nil: dropped
	dirty bool
}

func newStatCache(dir *safefile.Dir) *statCache {
	return &statCache{dir: dir}
}

// ready reads the cache once; it reports false when none can be used.
func (c *statCache) ready() bool {
	c.load.Do(c.read)
	return !c.off
}

func (c *statCache) read() {
	c.raw = map[string][]byte{}
	c.hosts = map[string]*hostStat{}
	fi, err := c.dir.Stat()
	if err != nil {
		c.off = true
		return
	}
	id, ok := stampOf(fi)
	if !ok {
		c.off = true // Windows: no inode or ctime; every file is read back
		return
	}
	c.id = stamp{dev: id.dev, ino: id.ino}
	data, st, err := c.dir.ReadFileInfo(StatCacheName)
	if err != nil {
		return // missing, a link or unreadable: start afresh
	}
	raw, ok := decodeStatCache(data, c.id)
	if !ok {
		return // corrupt, truncated or another directory's
	}
	c.raw = raw
	// Racy git: a file changed after render took its stamp but within the
	// same tick of the file system's clock keeps that stamp. Such a file
	// has an mtime or ctime at or after the cache's own write time, so
	// only stamps older than the cache are trusted; the others are read
	// back and, current, stamped again when the cache is next written.
	c.since = st.ModTime().UnixNano()
}

// get returns the host's entry, nil if there is none (or it is damaged).
func (c *statCache) get(host string) *hostStat {
	c.mu.Lock()
	hs, set := c.hosts[host]
	raw := c.raw[host]
	c.mu.Unlock()
	if set {
		return hs
	}
	if raw == nil {
		return nil
	}
	hs, ok := decodeHost(raw)
	if !ok {
		return nil
	}
	return hs
}

// put sets the host's entry (nil drops it) for the next write.
func (c *statCache) put(host string, hs *hostStat) {
	if !c.ready() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if hs == nil && c.raw[host] == nil && c.hosts[host] == nil {
		return
	}
	c.hosts[host] = hs
	c.dirty = true
}

// settled reports whether a file with stamp s may be taken from the
// cache: its times are older than the cache's write time (see read).
func (c *statCache) settled(s stamp) bool {
	return s.mtime < c.since && s.ctime < c.since
}

// allSettled reports whether every stamp of hs is settled.
func (c *statCache) allSettled(hs *hostStat) bool {
	for _, l := range [][]fileStat{hs.files, hs.dirs} {
		for _, f := range l {
			if !c.settled(f.st) {
				return false
			}
		}
	}
	return true
}

// write saves the cache if anything changed. A cache is never synced:
// after a crash it is whole (rename) or fails its checksum and is ignored.
func (c *statCache) write() error {
	if !c.ready() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty {
		return nil
	}
	names := make([]string, 0, len(c.raw)+len(c.hosts))
	for h := range c.raw {
		names = append(names, h)
	}
	for h := range c.hosts {
		if c.raw[h] == nil {
			names = append(names, h)
		}
	}
	slices.Sort(names)
	b := make([]byte, 0, 64+len(names)*1024)
	b = append(b, statMagic...)
	b = binary.AppendUvarint(b, c.id.dev)
	b = binary.AppendUvarint(b, c.id.ino)
	var rec []byte
	for _, h := range names {
		hs, set := c.hosts[h]
		switch {
		case !set:
			// Kept as read, unless a stamp in it was not settled then:
			// written now, the cache's newer time would settle it
			// unchecked.
			rec = c.raw[h]
			if old, ok := decodeHost(rec); !ok || !c.allSettled(old) {
				continue
			}
		case hs == nil:
			continue
		default:
			rec = encodeHost(rec[:0:0], hs)
		}
		b = binary.AppendUvarint(b, uint64(len(h)))
		b = append(b, h...)
		b = binary.AppendUvarint(b, uint64(len(rec)))
		b = append(b, rec...)
	}
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	ignore := cacheDir + "/.gitignore"
	if _, err := c.dir.Lstat(ignore); errors.Is(err, fs.ErrNotExist) {
		if err := c.dir.Replace(ignore, []byte(cacheGitignore), 0o644, false); err != nil {
			return err
		}
	}
	if err := c.dir.Replace(StatCacheName, b, 0o644, false); err != nil {
		return err
	}
	c.dirty = false
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli) // read-only once made

func encodeHost(b []byte, hs *hostStat) []byte {
	b = append(b, hs.bundle[:]...)
	b = encodeStats(b, hs.files)
	return encodeStats(b, hs.dirs)
}

func encodeStats(b []byte, fs []fileStat) []byte {
	b = binary.AppendUvarint(b, uint64(len(fs)))
	for _, f := range fs {
		b = binary.AppendUvarint(b, uint64(len(f.path)))
		b = append(b, f.path...)
		b = binary.AppendUvarint(b, f.st.dev)
		b = binary.AppendUvarint(b, f.st.ino)
		b = binary.AppendVarint(b, f.st.size)
		b = binary.AppendVarint(b, f.st.mtime)
		b = binary.AppendVarint(b, f.st.ctime)
		b = binary.AppendUvarint(b, uint64(f.st.mode))
	}
	return b
}

// decoder reads the cache's varints and strings; any overrun sets bad.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.bad, d.b = true, nil
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// decodeStatCache checks the cache's magic, checksum and directory and
// splits it into each host's encoded record (decoded when it is needed).
func decodeStatCache(data []byte, dir stamp) (map[string][]byte, bool) {
	if len(data) < len(statMagic)+4 || string(data[:len(statMagic)]) != statMagic {
		return nil, false
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, false
	}
	d := &decoder{b: body[len(statMagic):]}
	if d.uvarint() != dir.dev || d.uvarint() != dir.ino || d.bad {
		return nil, false // copied from, or left by, another directory
	}
	raw := map[string][]byte{}
	for len(d.b) > 0 {
		h := string(d.bytes(d.uvarint()))
		rec := d.bytes(d.uvarint())
		if d.bad || !validHost(h) {
			return nil, false
		}
		raw[h] = rec
	}
	return raw, true
}

func decodeHost(rec []byte) (*hostStat, bool) {
	d := &decoder{b: rec}
	hs := &hostStat{}
	copy(hs.bundle[:], d.bytes(sha256.Size))
	hs.files = d.stats()
	hs.dirs = d.stats()
	if d.bad || len(d.b) != 0 {
		return nil, false
	}
	return hs, true
}

func (d *decoder) stats() []fileStat {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	out := make([]fileStat, 0, n)
	for range n {
		var f fileStat
		f.path = string(d.bytes(d.uvarint()))
		f.st.dev = d.uvarint()
		f.st.ino = d.uvarint()
		f.st.size = d.varint()
		f.st.mtime = d.varint()
		f.st.ctime = d.varint()
		f.st.mode = uint32(d.uvarint())
		if d.bad || !fs.ValidPath(f.path) {
			return nil
		}
		out = append(out, f)
	}
	return out
}

// stampFile returns the stamp of the file base in d (an lstat: a link
// is described, never followed); false when there is none.
func stampFile(d *safefile.Dir, base string) (stamp, bool) {
	fi, err := d.Lstat(base)
	if err != nil {
		return stamp{}, false
	}
	return stampOf(fi)
}
