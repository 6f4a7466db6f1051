package main

// Soak tests: a generated fleet applied from scratch while the emulator
// throttles, fails and drops calls, re-run as a CI job would until it
// converges, and checked against the emulator's state. The checkers here
// are shared with the crash tests (crash_test.go).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/internal/testfleet"
	"github.com/ecsnet/ecsnet/internal/testfleet/testcloud"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// soakKey is the access key of soak and crash worlds.
var soakKey = emulator.AccessKey{AccessKeyId: "LTAI5tSoakKey0001", AccessKeySecret: "soak-secret-0001"}

// envInt reads a positive integer knob from the environment.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// soakFleet writes a generated fleet of n instances into dir and loads
// it, with the emulator world in which only its instances, vSwitches and
// security groups exist. With counted, the fleet asks the cloud to pick
// addresses instead of pinning them on every primary ENI and every second
// secondary ENI (the -eth2 ones): 10 secondary addresses each
// (secondaryIpCount), and the -eth2 ENIs' primary addresses too.
func soakFleet(t *testing.T, dir string, n int, counted bool) (*schema.Fleet, *emulator.World) {
	t.Helper()
	pinned, err := testcloud.Fleet(n)
	if err != nil {
		t.Fatal(err)
	}
	w, err := testcloud.World(pinned, testcloud.Bare)
	if err != nil {
		t.Fatal(err)
	}
	src := testfleet.Generate(testfleet.Options{Instances: n, Format: "json", Seed: 1})
	if counted {
		src = primaryPins.ReplaceAll(src, []byte(`$1"secondaryIpCount": 10`))
		src = eth2Pins.ReplaceAll(src, []byte(`$1"secondaryIpCount": 10`))
		if got, want := bytes.Count(src, []byte(`"secondaryIpCount"`)), 2*n; got != want {
			t.Fatalf("counted fleet: %d counts, want %d (has testfleet's layout changed?)", got, want)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.json"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := schema.Load([]string{dir}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return f, w
}

var (
	primaryPins = regexp.MustCompile(`("securityGroups": \["sg-\d+"\], )"secondaryIps": \[[^\]]*\]`)
	eth2Pins    = regexp.MustCompile(`(?s)("web-\d+-eth2": \{[^}]*?)"primaryIp": "[0-9.]+",\s*"secondaryIps": \[[^\]]*\]`)
)

// bareCloud starts an emulator on loopback for world w. The clock
// advances a millisecond on every reading, so emulator time counts
// requests; without opts.Timing, transitions (attach, delete) complete
// by the next request.
func bareCloud(t *testing.T, w *emulator.World, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	w.AccessKeys = []emulator.AccessKey{soakKey}
	var tick atomic.Int64
	start := time.Now()
	if opts.Timing == nil {
		opts.AsyncDelay = time.Millisecond
	}
	opts.Now = func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Millisecond) }
	srv, err := emulator.New(w, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

// soakClient is the client the CLI builds, but with millisecond backoff,
// so that a soak run takes seconds, and the given number of attempts per
// call (0: the production default, 8).
func soakClient(t *testing.T, url string, attempts int) *ecs.Client {
	t.Helper()
	return soakClientWait(t, url, attempts, 30*time.Second)
}

// soakClientWait is soakClient with its own wait timeout (wall time) and
// logger (nil: none).
func soakClientWait(t *testing.T, url string, attempts int, wait time.Duration, log ...*slog.Logger) *ecs.Client {
	t.Helper()
	var logger *slog.Logger
	if len(log) > 0 {
		logger = log[0]
	}
	limits := ecs.DefaultRateLimits()
	for k := range limits {
		limits[k] = ecs.RateLimit{}
	}
	cl, err := ecs.New(ecs.Config{Region: testfleet.Region, Endpoint: url,
		Credentials:  ecs.Credentials{AccessKeyID: soakKey.AccessKeyId, AccessKeySecret: soakKey.AccessKeySecret},
		Retry:        ecs.RetryPolicy{MaxAttempts: attempts, BaseDelay: time.Millisecond, MaxDelay: 8 * time.Millisecond},
		WaitInterval: time.Millisecond, WaitMaxInterval: 4 * time.Millisecond, WaitTimeout: wait,
		RateLimits: limits, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// applyOnce is one `ecsnet apply --auto-approve` as runApply does it: read
// the lock, observe, plan, apply with the lock written after every step.
// It reports whether the cloud converged, and the plan's size (-1 when
// it failed before planning).
func applyOnce(ctx context.Context, cl *ecs.Client, f *schema.Fleet, lockPath string, onFail ...func(error)) (converged bool, steps int, err error) {
	lock, err := schema.ReadLockFile(lockPath)
	if err != nil {
		return false, -1, err
	}
	obs, err := cl.Observe(ctx, f)
	if err != nil {
		return false, -1, fmt.Errorf("observe: %w", err)
	}
	p, err := plan.Compute(f, obs, lock, plan.Options{})
	if err != nil {
		return false, -1, fmt.Errorf("plan: %w", err)
	}
	rep, err := plan.Apply(ctx, cl, f, p, lock, plan.ApplyOptions{
		SaveLock: func(l *schema.Lock) error { return schema.WriteLockFile(lockPath, l) },
	})
	if err != nil {
		return false, len(p.Steps), err
	}
	for _, fl := range rep.Failed {
		for _, fn := range onFail {
			fn(fl.Err)
		}
	}
	if len(rep.Failed) > 0 {
		return false, len(p.Steps), fmt.Errorf("%d steps failed, first %s: %v", len(rep.Failed), rep.Failed[0].Step.ID, rep.Failed[0].Err)
	}
	return rep.Drift.Empty(), len(p.Steps), nil
}

// memDir returns a temporary directory in memory (/dev/shm) when there is
// one, else t.TempDir(). Apply writes the lock after every step and syncs
// it to disk, one step at a time: on a disk that costs about 5 ms a step,
// which would make the soak and crash tests measure the disk.
func memDir(t *testing.T) string {
	t.Helper()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "ecsnet-test-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// readLockStrict reads the lock file, failing the test if it is missing
// or does not parse.
func readLockStrict(t *testing.T, path string) *schema.Lock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	l, err := schema.ReadLock(bytes.NewReader(data), path)
	if err != nil {
		t.Fatalf("lock is corrupt: %v\n%.2000s", err, data)
	}
	return l
}

func addrSet(ss []string) []string {
	out := slices.Clone(ss)
	slices.SortFunc(out, func(a, b string) int { return netip.MustParseAddr(a).Compare(netip.MustParseAddr(b)) })
	return out
}

func lockedStrs(e *schema.LockedENI) []string {
	if e == nil {
		return []string{}
	}
	out := []string{}
	for _, a := range e.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// wantAddrs checks the secondary addresses an ENI holds against what the
// file asks: pinned ones must all be pinned there (and, when exact, be all
// the pins); a count must not be exceeded (and, when exact, be met).
func wantAddrs(what string, have []string, want schema.Secondaries, exact bool) []string {
	var bad []string
	if want.Counted {
		if len(have) > want.Count || exact && len(have) != want.Count {
			bad = append(bad, fmt.Sprintf("%s holds %d addresses %v, the file counts %d", what, len(have), addrSet(have), want.Count))
		}
		return bad
	}
	pins := addrStrs(want.PinnedAddrs())
	for _, a := range have {
		if !slices.Contains(pins, a) {
			bad = append(bad, fmt.Sprintf("%s holds %s, which the file does not pin there", what, a))
		}
	}
	if exact && len(have) != len(pins) {
		bad = append(bad, fmt.Sprintf("%s holds %v, the file pins %v", what, addrSet(have), addrSet(pins)))
	}
	return bad
}

// checkLocked checks a lock entry against the addresses the cloud holds:
// every recorded address is there and, when exact, nothing else is.
func checkLocked(what string, e *schema.LockedENI, id string, have []string, exact bool) []string {
	var bad []string
	if e == nil || e.ID == "" {
		if exact {
			bad = append(bad, fmt.Sprintf("lock: %s is not recorded (the cloud has %s)", what, id))
		}
		return bad
	}
	if e.ID != id {
		return append(bad, fmt.Sprintf("lock: %s is %s, the cloud's is %q", what, e.ID, id))
	}
	for _, a := range lockedStrs(e) {
		if !slices.Contains(have, a) {
			bad = append(bad, fmt.Sprintf("lock: %s records %s, which the cloud does not hold", what, a))
		}
	}
	if exact && !slices.Equal(lockedStrs(e), addrSet(have)) {
		bad = append(bad, fmt.Sprintf("lock: %s records %v, the cloud holds %v", what, lockedStrs(e), addrSet(have)))
	}
	return bad
}

// checkCloud checks the cloud and the lock of a fleet applied from a bare
// cloud. What must hold at every moment, however an apply was
// interrupted: every ENI in the cloud carries the fleet's tags and a name
// the file gives; no name has two ENIs; no ENI or instance holds an
// address the file does not pin there, or more than the file counts; and
// the lock claims nothing the cloud does not hold (its entries' IDs,
// primary addresses, attachments and secondary addresses are all in the
// cloud). When converged, also: every ENI of the file exists, InUse where
// the file attaches it, with exactly the addresses pinned or counted;
// every instance likewise; and the lock records exactly what the cloud
// holds.
func checkCloud(f *schema.Fleet, w *emulator.World, l *schema.Lock, converged bool) []string {
	var bad []string
	byName := map[string][]emulator.NetworkInterface{}
	for _, n := range w.NetworkInterfaces {
		name := tag(n, plan.TagENI)
		if tag(n, plan.TagFleet) != f.Name || f.ENI(name) == nil {
			bad = append(bad, fmt.Sprintf("ENI %s (%q, tags %v) is not one of the fleet's", n.NetworkInterfaceId, n.NetworkInterfaceName, n.Tags))
			continue
		}
		byName[name] = append(byName[name], n)
	}
	for _, x := range f.ENIs {
		ns := byName[x.Name]
		e := l.Secondary(x.Name)
		switch {
		case len(ns) > 1:
			var ids []string
			for _, n := range ns {
				ids = append(ids, n.NetworkInterfaceId)
			}
			bad = append(bad, fmt.Sprintf("eni/%s: %d ENIs in the cloud: %v", x.Name, len(ns), ids))
			continue
		case len(ns) == 0:
			if converged {
				bad = append(bad, fmt.Sprintf("eni/%s is missing", x.Name))
			}
			if e != nil && e.ID != "" {
				bad = append(bad, fmt.Sprintf("lock: eni/%s is %s, which the cloud does not have", x.Name, e.ID))
			}
			continue
		}
		n := ns[0]
		what := "eni/" + x.Name + " (" + n.NetworkInterfaceId + ")"
		bad = append(bad, wantAddrs(what, n.SecondaryPrivateIpAddresses, x.Secondaries, converged)...)
		bad = append(bad, checkLocked(what, e, n.NetworkInterfaceId, n.SecondaryPrivateIpAddresses, converged)...)
		if x.PrimaryIP.IsValid() && n.PrivateIpAddress != x.PrimaryIP.String() {
			bad = append(bad, fmt.Sprintf("%s: primary address %s, want %s", what, n.PrivateIpAddress, x.PrimaryIP))
		}
		wantInst := ""
		if x.AttachTo != "" {
			wantInst = f.Instance(x.AttachTo).ID
		}
		if n.InstanceId != "" && n.InstanceId != wantInst || converged && (n.InstanceId != wantInst || wantInst != "" && n.Status != "InUse") {
			bad = append(bad, fmt.Sprintf("%s is %s on %q, want %q", what, n.Status, n.InstanceId, wantInst))
		}
		if e != nil && e.ID == n.NetworkInterfaceId {
			if e.AttachedTo != "" && f.Instance(e.AttachedTo).ID != n.InstanceId || converged && e.AttachedTo != x.AttachTo {
				bad = append(bad, fmt.Sprintf("lock: %s attached to %q, the cloud says %q", what, e.AttachedTo, n.InstanceId))
			}
			if e.PrimaryIP.IsValid() && e.PrimaryIP.String() != n.PrivateIpAddress || converged && e.MAC != n.MacAddress {
				bad = append(bad, fmt.Sprintf("lock: %s primary %s MAC %s, the cloud's are %s and %s", what, e.PrimaryIP, e.MAC, n.PrivateIpAddress, n.MacAddress))
			}
		}
	}
	for _, in := range f.Instances {
		wi := instanceByID(w, in.ID)
		what := "instance/" + in.Name + " (" + wi.NetworkInterfaceId + ")"
		bad = append(bad, wantAddrs(what, wi.SecondaryPrivateIpAddresses, in.Primary.Secondaries, converged)...)
		bad = append(bad, checkLocked(what, l.Primary(in.Name), wi.NetworkInterfaceId, wi.SecondaryPrivateIpAddresses, converged)...)
	}
	if converged && len(l.ENIs) != len(f.ENIs)+len(f.Instances) {
		bad = append(bad, fmt.Sprintf("lock has %d entries, want %d", len(l.ENIs), len(f.ENIs)+len(f.Instances)))
	}
	slices.Sort(bad)
	return bad
}

func reportBad(t *testing.T, what string, bad []string) {
	t.Helper()
	if len(bad) == 0 {
		return
	}
	if len(bad) > 20 {
		bad = append(bad[:20], fmt.Sprintf("... and %d more", len(bad)-20))
	}
	for _, b := range bad {
		t.Errorf("%s: %s", what, b)
	}
}

// soakInstances gives a plan of 300 steps from scratch: per instance one
// assign on the primary ENI, and a create and an attach for each of its
// two secondary ENIs.
const soakInstances = 60

// TestSoakFaults applies a 300-step plan from scratch while the emulator
// answers 30 % of calls with Throttling, 5 % with a 5xx, and drops the
// answer of 5 % of the changes it commits. Each run is re-run, as a CI job
// would be, until it converges. After every run nothing is duplicated, no
// address is anywhere the file does not pin it, and the lock claims
// nothing the cloud lacks; at the end the cloud and the lock are exactly
// the desired state, and a fresh plan is empty.
//
// Odd seeds use the client's production retry bound (8 attempts a call),
// so a run rarely fails; even seeds allow 3 attempts, so that most runs
// have failed steps and skipped dependents, and the re-runs must finish
// the work from the lock and the cloud a failed run left.
// ECSNET_SOAK_RUNS sets the number of seeded runs (default 3; make soak
// runs 100).
func TestSoakFaults(t *testing.T) { soakFaults(t, soakMode{}) }

// TestSoakFaultsCounted is TestSoakFaults for a fleet whose primary ENIs
// and half of whose secondary ENIs have the cloud pick their addresses
// (secondaryIpCount). When an assign or create by count
// commits but its step fails (its answer dropped, then the retries
// throttled), the addresses the cloud picked are on the ENI but not in
// the lock; the re-run must replay the count's ClientToken (built from the
// recorded addresses) and get the same addresses back, neither leaking
// them nor refusing the ENI as over its quota.
func TestSoakFaultsCounted(t *testing.T) { soakFaults(t, soakMode{counted: true}) }

// TestSoakCloudFidelity is TestSoakFaults against a cloud that behaves
// as the real one does where it hurts (issue 14): attach, detach and
// delete take time, so two attaches to one instance meet 403
// Operation.Conflict, and so do two changes to one ENI within two
// requests; 5 % of changing calls are refused with Operation.Conflict
// besides; 5 % of attaches stick in Attaching well past
// the client's wait timeout and then fail back to Available; and
// DescribeNetworkInterfaces trails every change. Nothing may be duplicated
// or leaked, the lock may claim nothing the cloud lacks, and every run
// converges, resuming the stuck attaches the runs before left.
func TestSoakCloudFidelity(t *testing.T) { soakFaults(t, soakMode{fidelity: true}) }

// TestSoakCloudFidelityCounted is TestSoakCloudFidelity with the cloud
// picking the addresses (see TestSoakFaultsCounted).
func TestSoakCloudFidelityCounted(t *testing.T) {
	soakFaults(t, soakMode{counted: true, fidelity: true})
}

// soakMode picks a soak's fleet and cloud.
type soakMode struct {
	counted  bool // the cloud picks addresses (secondaryIpCount)
	fidelity bool // timing, conflicts, stuck attaches and read lag
}

// fidelityTiming is the soak's clock model, in emulator milliseconds,
// which bareCloud's clock counts in requests: attaches take a few
// requests, a stuck one a few hundred waits of the client (whose own
// timeout is fidelityWait, wall time) and about half a run, and reads
// trail by forty.
var fidelityTiming = emulator.Timing{
	Attach: emulator.Duration(3 * time.Millisecond), Detach: emulator.Duration(3 * time.Millisecond),
	Delete: emulator.Duration(2 * time.Millisecond), Stuck: emulator.Duration(120 * time.Millisecond),
	ReadLag: emulator.Duration(40 * time.Millisecond), Busy: emulator.Duration(2 * time.Millisecond),
}

const fidelityWait = 150 * time.Millisecond

func soakFaults(t *testing.T, mode soakMode) {
	counted := mode.counted
	runs := envInt(t, "ECSNET_SOAK_RUNS", 3)
	var reruns, maxTries, mutating, calls, conflicts, stuck atomic.Int64
	for seed := 1; seed <= runs; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			dir := memDir(t)
			f, w := soakFleet(t, dir, soakInstances, counted)
			opts := emulator.Options{Seed: int64(seed), ThrottleRate: 0.30, ServerErrorRate: 0.05, CommitThenDropRate: 0.05}
			wait := 30 * time.Second
			if mode.fidelity {
				timing := fidelityTiming
				opts.Timing = &timing
				opts.Faults = &emulator.Faults{ConflictRate: 0.05, StuckRate: 0.05}
				wait = fidelityWait
			}
			srv, url := bareCloud(t, w, opts)
			attempts, maxRuns := 0, 4
			if seed%2 == 0 {
				attempts, maxRuns = 3, 10
			}
			if mode.fidelity {
				maxRuns += 6 // a stuck attach costs a run or two
			}
			met := &faultsMet{}
			cl := soakClientWait(t, url, attempts, wait, slog.New(met))
			lockPath := filepath.Join(dir, schema.LockFileName)
			ctx := context.Background()
			tries, planned := 0, false
			for {
				tries++
				ok, steps, err := applyOnce(ctx, cl, f, lockPath, func(err error) {
					// A stuck attach ends a wait at its timeout, or, when
					// it fails back to Available first, as a failed attach.
					if _, stuck := errors.AsType[*ecs.StuckError](err); stuck || strings.Contains(err.Error(), "it is Available again") {
						met.stuck.Add(1)
					}
				})
				if !planned && steps >= 0 {
					planned = true
					if steps != 5*soakInstances {
						t.Errorf("the first plan has %d steps, want %d", steps, 5*soakInstances)
					}
				}
				if _, statErr := os.Stat(lockPath); statErr == nil {
					reportBad(t, fmt.Sprintf("after run %d", tries), checkCloud(f, srv.State(), readLockStrict(t, lockPath), false))
				}
				if ok {
					break
				}
				if testing.Verbose() {
					t.Logf("run %d did not converge: %v", tries, err)
				}
				if tries == maxRuns {
					t.Fatalf("no convergence in %d runs; the last: %v", maxRuns, err)
				}
			}
			conflicts.Add(met.conflicts.Load())
			stuck.Add(met.stuck.Load())
			mutating.Add(int64(srv.MutatingCalls()))
			for _, n := range srv.Calls() {
				calls.Add(int64(n))
			}
			reruns.Add(int64(tries - 1))
			if int64(tries) > maxTries.Load() {
				maxTries.Store(int64(tries))
			}
			srv.SetFaults(emulator.Faults{})
			reportBad(t, "converged", checkCloud(f, srv.State(), readLockStrict(t, lockPath), true))
			ok, steps, err := applyOnce(ctx, cl, f, lockPath)
			if !ok || steps != 0 || err != nil {
				t.Errorf("apply after convergence: converged %v, %d steps, %v", ok, steps, err)
			}
		})
	}
	// Which calls meet a fault depends on how the concurrent steps
	// interleave, so one seed may roll no stuck attach; the soak as a
	// whole must meet both, or it proves nothing about them.
	if mode.fidelity && !t.Failed() && (conflicts.Load() == 0 || stuck.Load() == 0) {
		t.Errorf("the cloud's faults were not met: %d conflicts retried, %d steps met a stuck attach", conflicts.Load(), stuck.Load())
	}
	t.Logf("%d runs of a %d-step plan under faults: %d re-runs in all, at most %d runs to converge; %d calls, %d of them mutating (%.2f per step); %d conflicts retried, %d steps met a stuck attach",
		runs, 5*soakInstances, reruns.Load(), maxTries.Load(), calls.Load(), mutating.Load(), float64(mutating.Load())/float64(runs*5*soakInstances),
		conflicts.Load(), stuck.Load())
}

// faultsMet is a log handler that counts the conflicts the client
// retried; the soak counts the steps that failed with a StuckError.
type faultsMet struct {
	conflicts, stuck atomic.Int64
}

func (*faultsMet) Enabled(context.Context, slog.Level) bool { return true }
func (m *faultsMet) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "error" && strings.Contains(a.Value.String(), "Operation.Conflict") {
			m.conflicts.Add(1)
		}
		return true
	})
	return nil
}
func (m *faultsMet) WithAttrs([]slog.Attr) slog.Handler { return m }
func (m *faultsMet) WithGroup(string) slog.Handler      { return m }
