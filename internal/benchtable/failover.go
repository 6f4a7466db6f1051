package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/fixtures"
)

// The failover table (issue 16, "Done when": the time from `ecsnet
// failover` to the target answering on the moved address, beside the
// cloud-only bound of detach + attach + host apply).
//
// The example fleet's floating ENI "vip" (172.16.0.100, .101, .102) moves
// between the Debian/ifupdown load balancers lb-1 and lb-2, which hosts
// mode runs for real in namespaces. The emulator runs in this process with
// the CLI's default timing (emulator.RealisticTiming: attach 3 s, detach
// 3 s, a Cloud Assistant command 2 s), so that the target's wire namespace
// (its vSwitch side) can be reached; ecsnet runs as a child process, as a
// user runs it.
const (
	failoverENI  = "vip"
	failoverAddr = "172.16.0.100" // the ENI's primary address in fixtures/example/fleet.cue
	failoverPoll = 100 * time.Millisecond
)

var failoverHosts = [2]string{"lb-1", "lb-2"}

// failoverRuns is how many times each kind of move is measured; the table
// shows medians, the moves alternate between lb-2 and lb-1.
const failoverRuns = 5

// failoverTools are what hosts mode needs for the ifupdown guests, and the
// ping the poll sends.
var failoverTools = []string{"ip", "unshare", "nsenter", "bash", "ifup", "mount", "ping"}

// failoverMove is one measured `ecsnet failover --hosts`.
type failoverMove struct {
	to       string
	wall     time.Duration // the command, start to exit
	answered time.Duration // start to the first ping the target answered; 0: never
	phases   map[string]failoverPhase
}

// cloudMove is one measured cloud-only move and the host apply after it.
type cloudMove struct {
	to          string
	cloud, push time.Duration
}

func (c *config) failoverSection() *section {
	sec := &section{title: "Failover (issue 16)"}
	sec.intro = []string{
		fmt.Sprintf("The example fleet's floating ENI %q (%s and two secondary addresses) moved with `ecsnet failover %s --to TARGET --hosts DIR` "+
			"between lb-1 and lb-2 (Debian/ifupdown guests that hosts mode runs for real in namespaces), alternately, %d times; medians. "+
			"Emulator in this process on loopback with the CLI's default timing (emulator.RealisticTiming: attach 3 s, detach 3 s, Cloud Assistant command 2 s); "+
			"ecsnet a child process. T_total: from the command's start until the target answers: a ping from the target's wire namespace "+
			"(its vSwitch side, ecs/emulator Host.WireNetns) to %s, one sent every %s (each waits up to 1 s for its answer); the time is that of the first answered ping's sending. "+
			"The phases are the command's own progress lines, timestamped as they arrive. "+
			"Cloud-only bound: `ecsnet failover %s --to TARGET DIR` without --hosts (detach + attach), then `ecsnet push --instance TARGET DIR` (host apply), each timed as a whole, %d times; medians.",
			failoverENI, failoverAddr, failoverENI, failoverRuns, failoverAddr, failoverPoll, failoverENI, failoverRuns),
	}
	if os.Geteuid() != 0 {
		sec.add(check{what: "failover --hosts", size: "lb-1 ⇄ lb-2", measured: "—", goal: "—", label: "skipped",
			note: "not root: hosts mode's guests are network and mount namespaces; run make bench as root"})
		return sec
	}
	for _, t := range failoverTools {
		if _, err := exec.LookPath(t); err != nil {
			sec.add(check{what: "failover --hosts", size: "lb-1 ⇄ lb-2", measured: "—", goal: "—", label: "skipped",
				note: fmt.Sprintf("%s is not installed (hosts mode's ifupdown guests and the poll need %s)", t, strings.Join(failoverTools, ", "))})
			return sec
		}
	}
	if err := c.measureFailover(sec); err != nil {
		sec.crash("failover --hosts", "lb-1 ⇄ lb-2", err)
	}
	return sec
}

// failoverEnv is one emulator in hosts mode and the fleet directory.
type failoverEnv struct {
	c    *config
	srv  *emulator.Server
	url  string
	dir  string
	keys []string
	log  *os.File
}

func (c *config) measureFailover(sec *section) error {
	fe, closeEnv, err := c.startFailoverEnv()
	if err != nil {
		return err
	}
	defer closeEnv()
	fmt.Fprintf(c.progress, "failover: apply --hosts of the example fleet ...\n")
	if r := fe.ecsnet(context.Background(), nil, "apply", "--auto-approve", "--hosts", fe.dir); r.err != nil || (r.code != 0 && r.code != 1) {
		// Exit 1 is expected: the example's ifcfg, wicked and Windows
		// hosts (and without a guest root NetworkManager, networkd and
		// netplan) are not executed.
		return fmt.Errorf("apply --hosts: exit %d %v\n%s", r.code, r.err, r.output)
	}
	if err := fe.waitAnswer(failoverHosts[0], 10*time.Second); err != nil {
		return fmt.Errorf("before the first failover: %w", err)
	}

	var moves []failoverMove
	for i := range failoverRuns {
		to := failoverHosts[(i+1)%2]
		fmt.Fprintf(c.progress, "failover: %d of %d: failover %s --to %s --hosts ...\n", i+1, failoverRuns, failoverENI, to)
		m, err := fe.failoverHosts(to)
		if err != nil {
			return err
		}
		moves = append(moves, m)
	}
	// The cloud-only moves start where the last --hosts move left the ENI.
	at := moves[len(moves)-1].to
	var clouds []cloudMove
	for i := range failoverRuns {
		to := failoverHosts[0]
		if at == to {
			to = failoverHosts[1]
		}
		fmt.Fprintf(c.progress, "failover: %d of %d: failover %s --to %s, then push --instance %s ...\n", i+1, failoverRuns, failoverENI, to, to)
		m, err := fe.failoverCloud(at, to)
		if err != nil {
			return err
		}
		clouds = append(clouds, m)
		at = to
	}
	fe.report(sec, moves, clouds)
	return nil
}

func (c *config) startFailoverEnv() (*failoverEnv, func(), error) {
	w, err := emulator.ReadWorld(strings.NewReader(string(fixtures.ExampleWorld)))
	if err != nil {
		return nil, nil, fmt.Errorf("the example world: %w", err)
	}
	base := filepath.Join(c.work, "failover")
	dir := filepath.Join(base, "example")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	src, err := fixtures.Example.ReadFile("example/fleet.cue")
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), src, 0o644); err != nil {
		return nil, nil, err
	}
	// The hosts' log goes to a file: it is one line per NIC and boot, and
	// would bury the progress lines.
	logf, err := os.Create(filepath.Join(base, "hosts.log"))
	if err != nil {
		return nil, nil, err
	}
	timing := emulator.RealisticTiming()
	// No guest root: the NetworkManager, networkd and netplan hosts only
	// record, which keeps nspawn boots out of the measurement; lb-1 and
	// lb-2 are ifupdown hosts, which run for real either way.
	srv, err := emulator.New(w, emulator.Options{Timing: &timing, Hosts: &emulator.HostsConfig{Dir: base, Log: logf}})
	if err != nil {
		logf.Close()
		return nil, nil, fmt.Errorf("emulator in hosts mode: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		logf.Close()
		return nil, nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	fe := &failoverEnv{c: c, srv: srv, url: "http://" + ln.Addr().String(), dir: dir, log: logf,
		keys: []string{"ALIBABA_CLOUD_ACCESS_KEY_ID=" + w.AccessKeys[0].AccessKeyId, "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + w.AccessKeys[0].AccessKeySecret}}
	return fe, func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			fmt.Fprintf(c.progress, "failover: removing the emulated guests: %v\n", err)
		}
		logf.Close()
	}, nil
}

// line is one line of a command's output and when it arrived.
type line struct {
	at   time.Duration
	text string
}

type ecsnetRun struct {
	code   int
	err    error
	wall   time.Duration
	lines  []line // stdout and stderr, interleaved as they arrived
	output string
}

// ecsnet runs `ecsnet CMD --endpoint URL ARGS...`, timestamping each
// line of its output. started, if not nil, is called with the start time
// just before the process starts.
func (fe *failoverEnv) ecsnet(ctx context.Context, started func(time.Time), cmd string, args ...string) ecsnetRun {
	ctx, cancel := context.WithTimeout(ctx, fe.c.timeout+2*time.Minute)
	defer cancel()
	x := exec.CommandContext(ctx, fe.c.ecsnet, append([]string{cmd, "--endpoint", fe.url}, args...)...)
	x.Env = append(os.Environ(), fe.keys...)
	pr, pw := io.Pipe()
	x.Stdout, x.Stderr = pw, pw
	var r ecsnetRun
	var mu sync.Mutex
	var start time.Time
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			now := time.Now()
			mu.Lock()
			r.lines = append(r.lines, line{at: now.Sub(start), text: sc.Text()})
			mu.Unlock()
		}
		io.Copy(io.Discard, pr)
	}()
	mu.Lock()
	start = time.Now()
	if started != nil {
		started(start)
	}
	err := x.Start()
	mu.Unlock()
	if err != nil {
		pw.Close()
		<-done
		return ecsnetRun{code: -1, err: err}
	}
	werr := x.Wait()
	r.wall = time.Since(start)
	pw.Close()
	<-done
	r.code = x.ProcessState.ExitCode()
	if werr != nil && r.code < 0 {
		r.err = werr
	}
	var b strings.Builder
	for _, l := range r.lines {
		fmt.Fprintf(&b, "%7.2f %s\n", l.at.Seconds(), l.text)
	}
	r.output = b.String()
	return r
}

// host returns the emulated host of an instance name.
func (fe *failoverEnv) host(name string) (*emulator.Host, error) {
	for _, h := range fe.srv.Hosts() {
		if h.Hostname() == name {
			if !h.Runs() {
				return nil, fmt.Errorf("%s does not run its commands for real (stack %s)", name, h.Stack())
			}
			return h, nil
		}
	}
	return nil, fmt.Errorf("the emulator has no host %s", name)
}

// ping sends one ping to the moved address from a host's wire namespace
// and reports whether it was answered within a second.
func ping(ctx context.Context, wire string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "ip", "netns", "exec", wire, "ping", "-n", "-q", "-c", "1", "-W", "1", failoverAddr).Run() == nil
}

// poller sends a ping every failoverPoll from the target's wire namespace
// from start on, and remembers the sending time of the first answered one.
type poller struct {
	mu    sync.Mutex
	first time.Time
}

func (p *poller) run(ctx context.Context, wire string, wg *sync.WaitGroup) {
	t := time.NewTicker(failoverPoll)
	defer t.Stop()
	for {
		sent := time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ping(ctx, wire) {
				p.mu.Lock()
				if p.first.IsZero() || sent.Before(p.first) {
					p.first = sent
				}
				p.mu.Unlock()
			}
		}()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !p.answered().IsZero() {
			return
		}
	}
}

func (p *poller) answered() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.first
}

// waitAnswer waits until a host answers on the moved address.
func (fe *failoverEnv) waitAnswer(name string, limit time.Duration) error {
	h, err := fe.host(name)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if wire := h.WireNetns(); wire != "" && ping(context.Background(), wire) {
			return nil
		}
		time.Sleep(failoverPoll)
	}
	return fmt.Errorf("%s does not answer on %s from its vSwitch side after %s", name, failoverAddr, limit)
}

// failoverHosts runs one `ecsnet failover --hosts` to a target and polls
// the target from its vSwitch side meanwhile.
func (fe *failoverEnv) failoverHosts(to string) (failoverMove, error) {
	h, err := fe.host(to)
	if err != nil {
		return failoverMove{}, err
	}
	wire := h.WireNetns()
	if wire == "" {
		return failoverMove{}, fmt.Errorf("%s is not up", to)
	}
	if ping(context.Background(), wire) {
		return failoverMove{}, fmt.Errorf("%s answers on %s before the failover to it", to, failoverAddr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var p poller
	var wg sync.WaitGroup
	started := func(time.Time) { go p.run(ctx, wire, &wg) }
	r := fe.ecsnet(ctx, started, "failover", failoverENI, "--to", to, "--hosts", fe.dir)
	start := time.Now().Add(-r.wall)
	// The target normally answers before the command exits (its host
	// apply is the last step); give it a little longer if not.
	for wait := time.Now().Add(5 * time.Second); p.answered().IsZero() && time.Now().Before(wait); {
		time.Sleep(failoverPoll)
	}
	cancel()
	wg.Wait()
	if r.err != nil || r.code != 0 {
		return failoverMove{}, fmt.Errorf("failover %s --to %s --hosts: exit %d %v\n%s", failoverENI, to, r.code, r.err, r.output)
	}
	m := failoverMove{to: to, wall: r.wall, phases: phasesOf(r.lines)}
	if first := p.answered(); !first.IsZero() {
		m.answered = first.Sub(start)
	}
	return m, nil
}

// failoverCloud moves the ENI in the cloud only, then configures the
// target with push, and finally cleans the source with push (not timed).
func (fe *failoverEnv) failoverCloud(from, to string) (cloudMove, error) {
	ctx := context.Background()
	r := fe.ecsnet(ctx, nil, "failover", failoverENI, "--to", to, fe.dir)
	if r.err != nil || r.code != 0 {
		return cloudMove{}, fmt.Errorf("failover %s --to %s: exit %d %v\n%s", failoverENI, to, r.code, r.err, r.output)
	}
	p := fe.ecsnet(ctx, nil, "push", "--instance", to, fe.dir)
	if p.err != nil || p.code != 0 {
		return cloudMove{}, fmt.Errorf("push --instance %s: exit %d %v\n%s", to, p.code, p.err, p.output)
	}
	if err := fe.waitAnswer(to, 5*time.Second); err != nil {
		return cloudMove{}, fmt.Errorf("after push --instance %s: %w", to, err)
	}
	// The source still holds the addresses (nothing ran on it): push takes
	// them off, so that the next move starts clean.
	if q := fe.ecsnet(ctx, nil, "push", "--instance", from, fe.dir); q.err != nil || q.code != 0 {
		return cloudMove{}, fmt.Errorf("push --instance %s (the source, after the move): exit %d %v\n%s", from, q.code, q.err, q.output)
	}
	return cloudMove{to: to, cloud: r.wall, push: p.wall}, nil
}

// failoverPhase is one phase of a failover: when it ended, from the command's
// start, and how long it took.
type failoverPhase struct{ end, took time.Duration }

// phaseNames are the phases in the order a failover --hosts runs them.
// "edit" is the command's first line, which it prints once the file is
// edited (after the plan of the move alone, under the lease); the others
// are the progress lines apply prints as each step finishes: "done STEP
// NAME ELAPSED [i/n]".
var phaseNames = []string{"edit", "host-remove", "detach", "attach", "host-apply"}

var doneLine = regexp.MustCompile(`^\s*done\s+(host-remove|detach|attach|host-apply) \S+\s+([0-9.]+)s\s+\[`)

// phasesOf finds the phases of a failover in its timestamped output.
func phasesOf(lines []line) map[string]failoverPhase {
	out := map[string]failoverPhase{}
	for _, l := range lines {
		if _, ok := out["edit"]; !ok && strings.HasPrefix(l.text, "ecsnet failover: ") && strings.Contains(l.text, "attachTo") {
			out["edit"] = failoverPhase{end: l.at, took: l.at}
		}
		m := doneLine.FindStringSubmatch(l.text)
		if m == nil {
			continue
		}
		took, err := time.ParseDuration(m[2] + "s")
		if err != nil {
			continue
		}
		out[m[1]] = failoverPhase{end: l.at, took: took}
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func (fe *failoverEnv) report(sec *section, moves []failoverMove, clouds []cloudMove) {
	var total, wall, cloud, push, bound []time.Duration
	never := 0
	for _, m := range moves {
		wall = append(wall, m.wall)
		if m.answered == 0 {
			never++
			continue
		}
		total = append(total, m.answered)
	}
	for _, m := range clouds {
		cloud = append(cloud, m.cloud)
		push = append(push, m.push)
		bound = append(bound, m.cloud+m.push)
	}
	size := fmt.Sprintf("lb-1 ⇄ lb-2, %d runs", len(moves))
	b := median(bound)
	if never > 0 {
		sec.add(check{what: "T_total: failover --hosts until the target answers", size: size, measured: fmt.Sprintf("%d of %d runs never answered", never, len(moves)), goal: "—", broken: true,
			note: "the target did not answer on the moved address from its vSwitch side within 5 s of the command's exit"})
	}
	if len(total) > 0 {
		t := median(total)
		sec.add(check{what: "T_total: failover --hosts until the target answers", size: size, measured: secs(t),
			goal: fmt.Sprintf("cloud-only bound %s; ratio %.2f", secs(b), t.Seconds()/b.Seconds()), label: "measured"})
	}
	sec.add(check{what: "failover --hosts, the command's wall time", size: size, measured: secs(median(wall)), goal: "—", label: "measured"})
	sec.add(check{what: "cloud-only bound: failover without --hosts + push --instance TARGET", size: fmt.Sprintf("lb-1 ⇄ lb-2, %d runs", len(clouds)),
		measured: fmt.Sprintf("%s (failover %s + push %s)", secs(b), secs(median(cloud)), secs(median(push))), goal: "—", label: "measured"})
	for _, name := range phaseNames {
		var ends, took []time.Duration
		for _, m := range moves {
			if p, ok := m.phases[name]; ok {
				ends = append(ends, p.end)
				took = append(took, p.took)
			}
		}
		if len(ends) == 0 {
			sec.notef("phase %s: no progress line found in the command's output", name)
			continue
		}
		what := "phase " + name + ": took; ended at"
		if name == "edit" {
			what = "phase edit (and the plan of the move alone): ended at"
		}
		measured := fmt.Sprintf("%s; %s", secs(median(took)), secs(median(ends)))
		if name == "edit" {
			measured = secs(median(ends))
		}
		sec.add(check{what: what, size: fmt.Sprintf("%d runs", len(ends)), measured: measured, goal: "—", label: "measured"})
	}
	var each []string
	for _, m := range moves {
		each = append(each, fmt.Sprintf("to %s %s (command %s)", m.to, secs(m.answered), secs(m.wall)))
	}
	sec.notef("T_total of each run: %s.", strings.Join(each, ", "))
	sec.notef("The bound leaves out what T_total includes besides detach, attach and the host apply: the edit and plan, and the source's host-remove, which runs before the detach. " +
		"The target answers before the command exits: after its addresses are up, the payload still verifies and probes, and the command waits for Cloud Assistant's result.")
}
