package main

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// The pull-request job's cache (issue 18): `ecsnet plan --rendered DIR
// --check --cache CDIR` keeps, per host, the sha256 of every file a render
// of it writes, keyed by ecsnet's build and the host's whole rendered
// input (render.HostCache). A host whose directory in DIR still holds
// exactly those bytes is current without rendering it; every other host is
// rendered and diffed as without the cache, so the output is the same.
// Only this check reads the cache: apply, push and render never do.

// cacheOff turns the cache off: --cache off.
const cacheOff = "off"

// hostCacheFile is the cache's file in --cache DIR.
const hostCacheFile = "hosts.bin"

// cacheKeyEnv names a secret key for the cache's MAC, for CI, where the
// cache directory is restored from another run: without the same key every
// entry is ignored. Without it the key is a random one kept in the user's
// configuration directory (never in the cache directory).
const cacheKeyEnv = "ECSNET_CACHE_KEY"

func addCacheFlag(fs *pflag.FlagSet, dir *string) {
	fs.StringVar(dir, "cache", "", "with --rendered DIR --check: keep what the check learnt about each host in this directory, so that the next check renders only the hosts whose input changed (default: ecsnet/ under the user cache directory; \"off\": no cache). Never inside the desired state's or DIR's directory")
}

// defaultCacheDir is os.UserCacheDir()/ecsnet, from e's environment (so
// that a test's empty environment has none).
func defaultCacheDir(e env) string {
	switch runtime.GOOS {
	case "windows":
		if d := e.getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "ecsnet")
		}
		return ""
	case "darwin", "ios":
		if h := e.getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Caches", "ecsnet")
		}
		return ""
	}
	if d := e.getenv("XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "ecsnet")
	}
	if h := e.getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "ecsnet")
	}
	return ""
}

// defaultKeyFile is where the cache's MAC key lives without
// ECSNET_CACHE_KEY: os.UserConfigDir()/ecsnet/cache-key.
func defaultKeyFile(e env) string {
	switch runtime.GOOS {
	case "windows":
		if d := e.getenv("AppData"); d != "" {
			return filepath.Join(d, "ecsnet", "cache-key")
		}
		return ""
	case "darwin", "ios":
		if h := e.getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Application Support", "ecsnet", "cache-key")
		}
		return ""
	}
	if d := e.getenv("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "ecsnet", "cache-key")
	}
	if h := e.getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "ecsnet", "cache-key")
	}
	return ""
}

// checkCacheDir refuses a cache directory inside (or holding) the desired
// state's directory or the render directory: the cache is this machine's,
// and a desired state must not carry, or be read with, what a run left.
func checkCacheDir(dir string, paths []string, rendered string) error {
	abs, err := realPath(dir)
	if err != nil {
		return fmt.Errorf("--cache %s: %w", dir, err)
	}
	var holders []string
	for _, p := range paths {
		if p == "-" {
			continue
		}
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			p = filepath.Dir(p)
		}
		holders = append(holders, p)
	}
	for _, h := range append(holders, rendered) {
		ah, err := realPath(h)
		if err != nil {
			continue
		}
		if within(abs, ah) || within(ah, abs) {
			what := "the desired state's directory"
			if h == rendered {
				what = "the render directory"
			}
			return fmt.Errorf("--cache %s is inside or holds %s %s: name a directory outside it (the default is under the user cache directory), or --cache off", dir, what, h)
		}
	}
	return nil
}

// realPath is p absolute with its links resolved, as far as it exists.
func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for {
		if r, err := filepath.EvalSymlinks(abs); err == nil {
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return filepath.Join(abs, rest), nil
		}
		rest = filepath.Join(filepath.Base(abs), rest)
		abs = parent
	}
}

func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// checkCache is the cache of one check: nil when there is none.
type checkCache struct {
	file string
	key  []byte
	c    *render.HostCache
}

// openCheckCache opens the cache of plan --check: a, the default
// directory, or none ("off", or no user cache directory). An error is the
// directory's refusal only; an unreadable cache is an empty one.
func openCheckCache(e env, a *planArgs) (*checkCache, error) {
	dir := a.cache
	if dir == "" {
		dir = defaultCacheDir(e)
	}
	if dir == "" || dir == cacheOff {
		return nil, nil
	}
	if err := checkCacheDir(dir, a.paths, a.rendered); err != nil {
		return nil, err
	}
	key, err := cacheKey(e)
	if err != nil || key == nil {
		return nil, nil // no key: no cache, the check runs cold
	}
	version, err := buildID()
	if err != nil {
		return nil, nil
	}
	file := filepath.Join(dir, hostCacheFile)
	return &checkCache{file: file, key: key, c: render.OpenHostCache(file, key, version)}, nil
}

// cacheKey is ECSNET_CACHE_KEY, else the key file, made when missing.
func cacheKey(e env) ([]byte, error) {
	if k := e.getenv(cacheKeyEnv); k != "" {
		return []byte(k), nil
	}
	p := defaultKeyFile(e)
	if p == "" {
		return nil, nil
	}
	if k, err := os.ReadFile(p); err == nil && len(k) >= 32 {
		return k, nil
	}
	k := make([]byte, 32)
	rand.Read(k)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another run made it first: use that one.
		if k, err := os.ReadFile(p); err == nil && len(k) >= 32 {
			return k, nil
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	_, err = f.Write(k)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return k, err
}

// buildID identifies the renderer: the sha256 of the running executable,
// so that any other build of ecsnet (another version, another commit, a
// local change to a template) never matches this one's entries.
func buildID() ([]byte, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(exe)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// save writes the cache back; failing costs the next check only time.
func (c *checkCache) save() {
	if c != nil {
		c.c.Save(c.file, c.key)
	}
}

// reviewCheck is render --check's review and diff of out: with a cache,
// from render.ReviewCheck, which gives the same review and diff.
func reviewCheck(out string, f *schema.Fleet, lock *schema.Lock, c *render.HostCache) (*render.FleetReview, string, error) {
	if c != nil {
		r, diff, err := render.ReviewCheck(out, f, lock, c)
		if err != nil {
			return nil, "", err
		}
		if r.Missing != nil {
			return nil, "", r.Missing
		}
		return r, diff, nil
	}
	r, err := render.ReviewFleet(f, lock)
	if err != nil {
		return nil, "", err
	}
	if r.Missing != nil {
		return nil, "", r.Missing
	}
	// What a render would remove comes first, then the file diffs.
	diff, err := r.Check(out, f.Name)
	if err != nil {
		return nil, "", err
	}
	return r, diff, nil
}
