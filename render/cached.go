package render

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/ecsnet/ecsnet/schema"
)

// HostCache is the review check's per-host cache (issue 18): for each
// host rendered before, keyed by a digest of the renderer's identity and
// of everything ForHost reads (the whole Host value), the sha256 of every
// file of its bundle. A check that finds a host's key in the cache reads
// the host's files in the output directory and compares their sha256s
// with the entry's, instead of rendering the host; any other outcome (no
// entry, another file set, another sum, a link, an error) renders the
// host and diffs it as a cold check does. So the cache can only say
// "current" for files whose bytes were read and hashed in this run.
//
// What it trusts is that an entry's sums are what ForHost renders for
// the key. That is why the file is authenticated: it carries an
// HMAC-SHA256 under a key that is not in the cache directory, and a file
// whose MAC does not verify (forged, corrupt, truncated, of another key,
// format or version) is ignored whole: the check runs cold.
type HostCache struct {
	version []byte
	old     map[[sha256.Size]byte][]fileSum // read and verified
	mu      sync.Mutex
	next    map[[sha256.Size]byte][]fileSum // this run's hosts
	// Hits counts the hosts taken as current from the cache; Rendered
	// those rendered (no entry, or the directory differed from it).
	Hits, Rendered int
	// Ignored says why the file was not used ("" when it was, or when
	// there was none).
	Ignored string
}

type fileSum struct {
	path string
	sum  [sha256.Size]byte
}

// hostCacheMagic opens the file; the digit is its format.
const hostCacheMagic = "ecsnet host cache 1\n"

// OpenHostCache reads the cache file at p, which must carry a valid MAC
// under key; version identifies the renderer (ecsnet's build), so that
// another build's entries never match. It never fails: a missing or
// unusable file gives an empty cache (Ignored says why).
func OpenHostCache(p string, key, version []byte) *HostCache {
	c := &HostCache{version: slices.Clone(version), old: map[[sha256.Size]byte][]fileSum{}, next: map[[sha256.Size]byte][]fileSum{}}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return c
	}
	if err != nil {
		c.Ignored = err.Error()
		return c
	}
	old, err := decodeHostCache(data, key)
	if err != nil {
		c.Ignored = fmt.Sprintf("%s: %v", p, err)
		return c
	}
	c.old = old
	return c
}

func decodeHostCache(data, key []byte) (map[[sha256.Size]byte][]fileSum, error) {
	if len(data) < len(hostCacheMagic)+sha256.Size || !bytes.HasPrefix(data, []byte(hostCacheMagic)) {
		return nil, errors.New("not a host cache of this format")
	}
	body, mac := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	m := hmac.New(sha256.New, key)
	m.Write(body)
	if !hmac.Equal(m.Sum(nil), mac) {
		return nil, errors.New("its MAC does not verify (another key, or changed)")
	}
	r := body[len(hostCacheMagic):]
	bad := errors.New("malformed entry")
	out := map[[sha256.Size]byte][]fileSum{}
	for len(r) > 0 {
		var k [sha256.Size]byte
		if len(r) < len(k) {
			return nil, bad
		}
		copy(k[:], r)
		r = r[len(k):]
		n, w := binary.Uvarint(r)
		if w <= 0 || n > uint64(len(r)) {
			return nil, bad
		}
		r = r[w:]
		files := make([]fileSum, 0, n)
		for range n {
			l, w := binary.Uvarint(r)
			if w <= 0 || l > uint64(len(r)-w) || uint64(len(r)-w)-l < sha256.Size {
				return nil, bad
			}
			r = r[w:]
			f := fileSum{path: string(r[:l])}
			r = r[l:]
			copy(f.sum[:], r)
			r = r[sha256.Size:]
			files = append(files, f)
		}
		out[k] = files
	}
	return out, nil
}

// Save writes this run's entries (the hosts of the fleet checked, so
// instances removed from the fleet drop out) to p, with a MAC under key,
// replacing the file at once.
func (c *HostCache) Save(p string, key []byte) error {
	keys := make([][sha256.Size]byte, 0, len(c.next))
	for k := range c.next {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [sha256.Size]byte) int { return bytes.Compare(a[:], b[:]) })
	b := []byte(hostCacheMagic)
	for _, k := range keys {
		b = append(b, k[:]...)
		files := c.next[k]
		b = binary.AppendUvarint(b, uint64(len(files)))
		for _, f := range files {
			b = binary.AppendUvarint(b, uint64(len(f.path)))
			b = append(b, f.path...)
			b = append(b, f.sum[:]...)
		}
	}
	m := hmac.New(sha256.New, key)
	m.Write(b)
	b = m.Sum(b)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("the host cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".host-cache-*")
	if err != nil {
		return fmt.Errorf("the host cache: %w", err)
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("the host cache: %w", err)
	}
	return nil
}

// key is the digest of the renderer's identity and the whole Host value
// ForHost renders (it reads nothing else: no environment, no disk).
// encoding/json writes every exported field, so a field added to Host or
// NIC is part of the key without a change here; TestHostCacheKeyFields
// fails on an unexported one, which JSON would leave out.
func (c *HostCache) key(h *Host) ([sha256.Size]byte, error) {
	if h.configOnly {
		return [sha256.Size]byte{}, errors.New("a configuration-only host is never cached")
	}
	d := sha256.New()
	fmt.Fprintf(d, "%s%d:%s\n", hostCacheMagic, len(c.version), c.version)
	if err := json.NewEncoder(d).Encode(h); err != nil {
		return [sha256.Size]byte{}, err
	}
	var k [sha256.Size]byte
	d.Sum(k[:0])
	return k, nil
}

func sums(files []File) []fileSum {
	out := make([]fileSum, len(files))
	for i, f := range files {
		out[i] = fileSum{path: f.Path, sum: sha256.Sum256(f.Data)}
	}
	return out
}

func (c *HostCache) keep(k [sha256.Size]byte, files []fileSum) {
	c.mu.Lock()
	c.next[k] = files
	c.mu.Unlock()
}

// ReviewCheck is what FleetReview.Check returns for a review of f and lock
// (ReviewFleet), with the hosts whose directory is current taken from the
// cache where it can: the same diff, byte for byte, and the same errors.
// The review it returns has every host in Bundles, each with a nil
// bundle: the check compares a bundle as soon as it is rendered and keeps
// only what differs.
func ReviewCheck(dir string, f *schema.Fleet, lock *schema.Lock, c *HostCache) (*FleetReview, string, error) {
	hosts, pending, err := ReviewHosts(f, lock)
	var missing MissingError
	if err != nil && !errors.As(err, &missing) {
		return nil, "", err
	}
	bundles := make(map[string][]File, len(hosts)+len(pending))
	o, err := OpenOut(dir, f.Name, false)
	if err != nil {
		// As ReviewFleet would have succeeded and Check failed here, the
		// review comes first: render every host for its errors.
		r, rerr := ReviewFleet(f, lock)
		if rerr != nil || r.Missing != nil {
			return r, "", rerr
		}
		return nil, "", err
	}
	defer o.Close()
	// Which hosts the cache and the directory agree on.
	current := make([]bool, len(hosts))
	keys := make([][sha256.Size]byte, len(hosts))
	keyed := make([]bool, len(hosts))
	_ = inParallel(len(hosts), func(i int) error {
		k, err := c.key(hosts[i])
		if err != nil {
			return nil
		}
		keys[i], keyed[i] = k, true
		if want, ok := c.old[k]; ok && o.matches(hosts[i].Name, want) {
			current[i] = true
			c.keep(k, want)
		}
		return nil
	})
	var todo []*Host
	var at []int
	for i, h := range hosts {
		if current[i] {
			bundles[h.Name] = nil
			c.Hits++
			continue
		}
		todo = append(todo, h)
		at = append(at, i)
	}
	c.Rendered = len(todo)
	// The other hosts are rendered and compared with the directory at
	// once, in parallel, keeping only what differs: Out.Check compares
	// one host after another, holding every bundle (3.8 GiB at 20,000
	// hosts). Errors are kept per host and reported in the order a cold
	// check meets them: render errors first, then the comparison's by
	// host name.
	todoRes := make([]compared, len(todo))
	if err := forHosts(f, todo, func(j int, files []File) error {
		if i := at[j]; keyed[i] {
			c.keep(keys[i], sums(files))
		}
		todoRes[j].changes, todoRes[j].err = o.Changes(todo[j].Name, files)
		return nil
	}); err != nil {
		return nil, "", err
	}
	pendRes := make([]compared, len(pending))
	if err := inParallel(len(pending), func(i int) error {
		files, err := pending[i].Render()
		if err != nil {
			return hostError(f, pending[i].Name, err)
		}
		pendRes[i].changes, pendRes[i].err = o.Changes(pending[i].Name, files)
		return nil
	}); err != nil {
		return nil, "", err
	}
	results := make(map[string]compared, len(todo)+len(pending))
	for j, h := range todo {
		bundles[h.Name] = nil
		results[h.Name] = todoRes[j]
	}
	for i, p := range pending {
		bundles[p.Name] = nil
		results[p.Name] = pendRes[i]
	}
	r := &FleetReview{Bundles: bundles, Pending: pending, Missing: missing}
	if missing != nil {
		return r, "", nil
	}
	diff, err := o.checkSome(bundles, results)
	return r, diff, err
}

// compared is one host's comparison with the output directory.
type compared struct {
	changes []Change
	err     error
}

// matches reports whether the host's directory holds exactly the files
// of want, each with want's sha256. Anything else, an error included, is
// false: the host is then rendered and compared as without a cache.
func (o *Out) matches(host string, want []fileSum) bool {
	if o.dir == nil || !validHost(host) {
		return false
	}
	root, _, err := o.dir.Sub(host, false)
	if err != nil {
		return false
	}
	t := newTree(root)
	defer t.close()
	have, err := t.files()
	if err != nil || len(have) != len(want) {
		return false
	}
	for _, f := range want {
		if !have[f.path] {
			return false
		}
		d, base, err := t.parent(f.path, false)
		if err != nil {
			return false
		}
		data, err := d.ReadFile(base)
		if err != nil || sha256.Sum256(data) != f.sum {
			return false
		}
	}
	return true
}

// checkSome is Check for hosts compared already: results has what
// differs for each host not known to be current; every host of bundles
// counts for Stale.
func (o *Out) checkSome(bundles map[string][]File, results map[string]compared) (string, error) {
	var b strings.Builder
	hosts := make([]string, 0, len(bundles))
	for h := range bundles {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	stale, err := o.Stale(hosts)
	if err != nil {
		return "", err
	}
	for _, h := range stale {
		fmt.Fprintf(&b, "Only in %s: %s (instance no longer in fleet %s; render removes it)\n", o.dir.Name(), h, o.fleet)
	}
	var parts [3]strings.Builder // by diffPart
	for _, host := range hosts {
		res, ok := results[host]
		if !ok {
			continue
		}
		if res.err != nil {
			return "", res.err
		}
		for _, c := range res.changes {
			name := path.Join(host, c.Path)
			w := &parts[diffPart(c.Path)]
			switch c.Kind {
			case '-':
				w.WriteString(unifiedDiff("a/"+name, "/dev/null", c.Old, nil))
			case '+':
				w.WriteString(unifiedDiff("/dev/null", "b/"+name, nil, c.New))
			default:
				w.WriteString(unifiedDiff("a/"+name, "b/"+name, c.Old, c.New))
			}
		}
	}
	for i := range parts {
		b.WriteString(parts[i].String())
	}
	return b.String(), nil
}
