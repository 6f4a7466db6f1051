package render_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/ecsnet/ecsnet/internal/testfleet/testcloud"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// outcome is what a check says: its diff, or its error, and the review's
// hosts and pending hosts.
type outcome struct {
	diff, err string
	hosts     int
	pending   string
}

func coldCheck(dir string, f *schema.Fleet, lock *schema.Lock) outcome {
	r, err := render.ReviewFleet(f, lock)
	if err != nil {
		return outcome{err: err.Error()}
	}
	if r.Missing != nil {
		return outcome{err: r.Missing.Error()}
	}
	diff, err := r.Check(dir, f.Name)
	if err != nil {
		return outcome{err: err.Error()}
	}
	return outcome{diff: diff, hosts: len(r.Bundles), pending: pendingOf(r)}
}

func cachedCheck(dir string, f *schema.Fleet, lock *schema.Lock, c *render.HostCache) outcome {
	r, diff, err := render.ReviewCheck(dir, f, lock, c)
	if err != nil {
		return outcome{err: err.Error()}
	}
	if r.Missing != nil {
		return outcome{err: r.Missing.Error()}
	}
	return outcome{diff: diff, hosts: len(r.Bundles), pending: pendingOf(r)}
}

func pendingOf(r *render.FleetReview) string {
	if len(r.Pending) == 0 {
		return ""
	}
	return r.PendingNames()
}

// TestCachedCheckSameAsCold is issue 18's differential test: seeded random
// edits (an instance, an ENI, a vSwitch, the lock, the renderer's version,
// the render directory, the cache file itself), and after each the check
// with the cache gives what the check without it gives, byte for byte.
// ECSNET_CACHE_SOAK=1 (make soak) runs 1,000 edits at 2,000 instances.
func TestCachedCheckSameAsCold(t *testing.T) {
	n, edits, seeds := 30, 40, []uint64{1, 2}
	if os.Getenv("ECSNET_CACHE_SOAK") != "" {
		n, edits, seeds = 2000, 1000, []uint64{1}
	}
	f, err := testcloud.Fleet(n)
	if err != nil {
		t.Fatal(err)
	}
	_, _, lock, err := testcloud.Snapshot(f, testcloud.Converged)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "hosts")
	cacheFile := filepath.Join(t.TempDir(), "hosts.bin")
	key := []byte("a test key of thirty-two bytes..")
	version := []byte("v1")
	if _, _, err := render.WriteFleet(dir, f, lock); err != nil {
		t.Fatal(err)
	}
	var saved []netip.Prefix // a vSwitch block changed, to put back
	var undo []func()        // the next step's first act
	for _, seed := range seeds {
		rng := rand.New(rand.NewPCG(seed, 18))
		hits, rendered := 0, 0
		mixed := 0 // checks with a diff that took hosts from the cache
		for step := range edits {
			what := edit(t, step, rng, dir, cacheFile, f, lock, &version, &saved, &undo)
			cold := coldCheck(dir, f, lock)
			c := render.OpenHostCache(cacheFile, key, version)
			warm := cachedCheck(dir, f, lock, c)
			if !reflect.DeepEqual(warm, cold) {
				t.Fatalf("seed %d step %d (%s): the cached check differs from the cold one\ncached: %+v\ncold:   %+v", seed, step, what, brief(warm), brief(cold))
			}
			if err := c.Save(cacheFile, key); err != nil {
				t.Fatal(err)
			}
			hits += c.Hits
			rendered += c.Rendered
			if c.Hits > 0 && cold.diff != "" {
				mixed++
			}
		}
		t.Logf("seed %d: %d hosts taken from the cache, %d rendered; %d checks with a diff took hosts from the cache", seed, hits, rendered, mixed)
		if hits == 0 || mixed == 0 {
			t.Errorf("seed %d: no check (with a diff) took a host from the cache", seed)
		}
	}
}

func brief(o outcome) outcome {
	if len(o.diff) > 2000 {
		o.diff = o.diff[:2000] + "..."
	}
	return o
}

// edit makes one seeded random edit and says what it was.
func edit(t *testing.T, step int, rng *rand.Rand, dir, cacheFile string, f *schema.Fleet, lock *schema.Lock, version *[]byte, saved *[]netip.Prefix, undo *[]func()) string {
	t.Helper()
	for _, u := range *undo {
		u()
	}
	*undo = nil
	if *saved != nil {
		// A vSwitch block edited by the previous step is put back, so that
		// most steps check a fleet that renders.
		for i, v := range f.VSwitches {
			v.CIDR = (*saved)[i]
		}
		*saved = nil
	}
	in := f.Instances[rng.IntN(len(f.Instances))]
	switch k := rng.IntN(14); k {
	case 0: // an instance's address moves to one no edit used before: down from the top of its block
		if len(in.Primary.Pinned) > 0 {
			a := &in.Primary.Pinned[rng.IntN(len(in.Primary.Pinned))]
			v := f.VSwitch(in.Primary.VSwitch)
			to := v.CIDR.Masked().Addr().As4()
			to[2] |= byte(1<<(32-v.CIDR.Bits()-8) - 1)
			to[3] = byte(250 - step%200)
			a.Addr = netip.AddrFrom4(to)
			return "instance " + in.Name + " address " + a.Addr.String()
		}
	case 1: // an ENI's description
		if len(f.ENIs) > 0 {
			x := f.ENIs[rng.IntN(len(f.ENIs))]
			x.Description = "edited " + strconv.Itoa(rng.IntN(1000))
			return "ENI " + x.Name + " description"
		}
	case 2: // a vSwitch's block, put back by the next step
		for _, v := range f.VSwitches {
			*saved = append(*saved, v.CIDR)
		}
		v := f.VSwitches[rng.IntN(len(f.VSwitches))]
		v.CIDR = netip.PrefixFrom(v.CIDR.Addr(), v.CIDR.Bits()-1).Masked()
		return "vSwitch " + v.Name + " block"
	case 3: // the lock: an ENI's MAC
		e := lock.ENIs[rng.IntN(len(lock.ENIs))]
		e.MAC = fmt.Sprintf("00:16:3e:%02x:%02x:%02x", rng.IntN(256), rng.IntN(256), rng.IntN(256))
		return "lock MAC of " + e.ID
	case 4: // the renderer's version
		*version = []byte("v" + strconv.Itoa(rng.IntN(3)))
		return "renderer version " + string(*version)
	case 5, 6: // render the directory again: current
		if _, _, err := render.WriteFleet(dir, f, lock); err != nil {
			return "render failed: " + err.Error()
		}
		return "render"
	case 7: // a rendered file changed by hand
		if p := someFile(rng, dir); p != "" {
			os.WriteFile(p, []byte("edited by hand\n"), 0o644)
			return "file " + p + " changed"
		}
	case 8: // a rendered file removed, or one added
		if p := someFile(rng, dir); p != "" {
			if rng.IntN(2) == 0 {
				os.Remove(p)
				return "file " + p + " removed"
			}
			os.WriteFile(p+".extra", []byte("x\n"), 0o644)
			return "file " + p + ".extra added"
		}
	case 9: // the cache file corrupted or cut short
		data, err := os.ReadFile(cacheFile)
		if err == nil && len(data) > 0 {
			i := rng.IntN(len(data))
			if rng.IntN(2) == 0 {
				data[i] ^= 0x40
			} else {
				data = data[:i]
			}
			os.WriteFile(cacheFile, data, 0o644)
			return "cache file damaged"
		}
	case 10: // an instance's OS and stack
		oses := []schema.OS{"ubuntu22.04", "debian12", "rhel9", "centos7"}
		in.OS = oses[rng.IntN(len(oses))]
		in.Network, _ = in.OS.DefaultStack()
		return "instance " + in.Name + " os " + string(in.OS)
	case 11: // a host directory removed
		os.RemoveAll(filepath.Join(dir, in.Name))
		return "host directory " + in.Name + " removed"
	case 12: // a rendered file replaced by a link for one step: an error for both
		if p := someFile(rng, dir); p != "" {
			data, _ := os.ReadFile(p)
			os.Remove(p)
			os.Symlink("/etc/hostname", p)
			*undo = append(*undo, func() { os.Remove(p); os.WriteFile(p, data, 0o644) })
			return "file " + p + " a link"
		}
	case 13: // a host directory of no instance for one step: stale
		gone := filepath.Join(dir, "gone-"+strconv.Itoa(rng.IntN(3)))
		os.MkdirAll(gone, 0o755)
		os.WriteFile(filepath.Join(gone, "manifest.json"), []byte("{}\n"), 0o644)
		*undo = append(*undo, func() { os.RemoveAll(gone) })
		return "a stale host directory"
	}
	return "nothing"
}

// someFile is a random host file of dir.
func someFile(rng *rand.Rand, dir string) string {
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(p)) != ".ecsnet-cache" && filepath.Dir(p) != dir {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		return ""
	}
	slices.Sort(files)
	return files[rng.IntN(len(files))]
}
