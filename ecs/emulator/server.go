package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. The zero value is a well-behaved cloud: no
// faults, wall-clock time, transitions that complete on the next request.
type Options struct {
	// Seed overrides World.Seed when non-zero. IDs, MACs, auto-assigned
	// addresses, RequestIds and fault rolls derive from it.
	Seed int64
	// AsyncDelay is how much emulator-clock time Attaching→InUse,
	// Detaching→Available, Deleting→gone and a command invocation take
	// when neither Options nor the world has a Timing (the simplified
	// model: nothing conflicts, reads are consistent). With a Timing, a
	// non-zero AsyncDelay still sets attach, detach and delete.
	AsyncDelay time.Duration
	// Now is the emulator clock: it ages async transitions, QPS buckets and
	// SignatureNonces, and is the reference for the 15-minute Timestamp
	// window. Default time.Now. Response timestamps never come from it.
	Now func() time.Time
	// Runner executes Cloud Assistant commands; nil finishes every
	// invocation with exit code 0 and one line of output saying that
	// nothing ran (plainNotExecuted).
	Runner Runner
	// Hosts turns on hosts mode: every instance gets an emulated guest
	// (network and mount namespaces for the families that run for real)
	// that runs or records the commands; it replaces Runner, and needs
	// root. Close ends it. See the package documentation.
	Hosts *HostsConfig

	// Latency is added to every API request (wall time; never to admin
	// endpoints).
	Latency time.Duration
	// ThrottleRate is the share of requests answered 400 Throttling.
	ThrottleRate float64
	// ServerErrorRate is the share answered 500 InternalError or 503
	// ServiceUnavailable before anything happens. Options.Faults has the
	// other kinds (drops before the change, Throttling.User, conflicts,
	// stuck transitions) and per-action rates.
	ServerErrorRate float64
	// CommitThenFailRate is the share of state-changing calls whose change
	// is made but whose answer is a 5xx.
	CommitThenFailRate float64
	// CommitThenDropRate is the share of state-changing calls whose change
	// is made but whose connection is closed without an answer.
	CommitThenDropRate float64
	// ActionQPS limits actions by name (token bucket on the emulator
	// clock, burst = max(1, QPS)); excess calls get 400 Throttling.User.
	ActionQPS map[string]float64
	// Faults, when set, replaces World.Faults; the fault fields above,
	// where non-zero, override it field by field (faults.go).
	Faults *Faults
	// Timing, when set, replaces World.Timing: realistic durations, read
	// lag and conflicts instead of AsyncDelay (timing.go).
	Timing *Timing
	// PreviewFields, when set, overrides World.PreviewFields: whether
	// responses carry the API's invitational-preview fields (account.go).
	PreviewFields *bool
}

// Server is the emulated ECS and VPC API. It is an http.Handler: serve it
// with httptest.NewServer or on a loopback listener.
type Server struct {
	mu       sync.Mutex
	now      func() time.Time
	delay    time.Duration
	runner   Runner
	seed     int64
	faults   Faults
	cloud    *cloud
	nonces   nonces
	calls    map[string]int
	reqNo    uint64
	tokens   map[string]tokenEntry
	pending  transitions
	buckets  map[string]*bucket
	commands commandLog
	hosts    *hostSet // nil without hosts mode
	timing   timing   // timing.go
	acct     account  // account.go
}

// New starts a server on a copy of w; later changes to w do not reach it.
func New(w *World, opts Options) (*Server, error) {
	if w == nil {
		return nil, errors.New("emulator: nil world")
	}
	seed := w.Seed
	if opts.Seed != 0 {
		seed = opts.Seed
	}
	c, err := build(w.clone(), seed)
	if err != nil {
		return nil, err
	}
	if len(c.keys) == 0 {
		return nil, errors.New("world: AccessKeys is empty, so no request could authenticate")
	}
	tm, err := resolveTiming(w, opts)
	if err != nil {
		return nil, err
	}
	faults := mergeFaults(w, opts)
	if err := faults.Check(); err != nil {
		return nil, err
	}
	s := &Server{
		now:    opts.Now,
		delay:  tm.command,
		timing: tm,
		runner: opts.Runner,
		seed:   seed,
		cloud:  c,
		nonces: nonces{used: map[string]bool{}},
		calls:  map[string]int{},
		tokens: map[string]tokenEntry{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.initAccount(w, opts); err != nil {
		return nil, err
	}
	s.setFaults(faults)
	if opts.Hosts != nil {
		if opts.Runner != nil {
			return nil, errors.New("emulator: Options.Runner and Options.Hosts exclude each other (hosts mode runs the commands)")
		}
		if err := s.startHosts(*opts.Hosts); err != nil {
			return nil, err
		}
	}
	// Transitional states in the world complete like fresh ones.
	now := s.now()
	for _, e := range c.eniList {
		switch e.status {
		case stAttaching, stDetaching, stDeleting:
			s.schedule(e, now, false)
		}
	}
	return s, nil
}

// SetFaults replaces the fault settings; QPS buckets start full again.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setFaults(f)
}

func (s *Server) setFaults(f Faults) {
	s.faults = f.clone()
	s.buckets = map[string]*bucket{}
}

// Calls returns how many requests reached each action (authenticated and
// routed), faulted and failed ones included.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// MutatingCalls returns how many requests reached an action that changes
// state (create, attach, detach, delete, modify, assign, unassign, tag,
// untag, RunCommand), whether or not it succeeded: the number a converged
// apply must keep at zero.
func (s *Server) MutatingCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mutatingCalls()
}

func (s *Server) mutatingCalls() int {
	n := 0
	for name, c := range s.calls {
		if a := ecsActions[name]; a.mutating {
			n += c
		}
	}
	return n
}

// ResetCounters zeroes the call counters.
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
}

// State returns a deep copy of the current cloud in world-file shape, with
// due transitions applied. It leaves out AccessKeys.
func (s *Server) State() *World {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.now())
	w := s.cloud.toWorld(s.seed)
	s.fillWorld(w)
	return w
}

// SetInstanceStatus sets an instance's status (Running, Stopped, …), as
// starting or stopping it in the console would; the emulator has no
// instance lifecycle API.
func (s *Server) SetInstanceStatus(instanceID, status string) error {
	if !slices.Contains(instanceStatuses, status) {
		return fmt.Errorf("emulator: status %q is not one of %s", status, strings.Join(instanceStatuses, ", "))
	}
	s.mu.Lock()
	in := s.cloud.instances[instanceID]
	if in == nil {
		s.mu.Unlock()
		return fmt.Errorf("emulator: no instance %s", instanceID)
	}
	in.status = status
	if s.hosts == nil {
		s.mu.Unlock()
		return nil
	}
	// The guest boots or halts outside the lock: a boot replays its
	// configuration, which takes a while.
	hw := s.hostSnapshot(in)
	s.mu.Unlock()
	if h := s.hosts.hosts[instanceID]; h != nil {
		h.apply(hw)
	}
	return nil
}

// call is one routed API request.
type call struct {
	action    string
	p         params
	now       time.Time
	requestID string
	n         uint64 // request number, for fault rolls
	changed   bool   // the action changed state
}

// outcome is what the handler writes once the lock is released.
type outcome struct {
	status int
	body   any
	drop   bool
}

// ServeHTTP answers the RPC API on "/" and the admin endpoints under
// "/_emulator/".
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_emulator" || strings.HasPrefix(r.URL.Path, "/_emulator/") {
		s.serveAdmin(w, r)
		return
	}
	o := s.serveAPI(r)
	if o.drop {
		// A dropped connection (before or after the change commits):
		// the client sees it die with no answer, as after a gateway
		// timeout.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	writeJSON(w, o.status, o.body)
}

func (s *Server) serveAPI(r *http.Request) outcome {
	// Latency is applied before the lock so that slow requests overlap.
	s.mu.Lock()
	latency := s.faults.Latency
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	p, perr := readParams(r) // auth_v3.go: query, form body, v3 headers

	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.reqNo
	s.reqNo++
	q := &call{p: p, now: s.now(), requestID: s.cloud.gen.requestID(n), n: n}
	host := "ecs.aliyuncs.com"
	fail := func(e *apiError) outcome {
		return outcome{status: e.status, body: errorBody{RequestId: q.requestID, HostId: host, Code: e.code,
			Message: e.message, Recommend: recommend(e.code, host)}}
	}
	s.advance(q.now)

	switch {
	case r.URL.Path != "/":
		return fail(newErr(http.StatusNotFound, "InvalidApi.NotFound", "Specified api is not found: the RPC API lives at path /."))
	case r.Method != http.MethodGet && r.Method != http.MethodPost:
		return fail(newErr(http.StatusMethodNotAllowed, "UnsupportedHTTPMethod", "The RPC API accepts GET and POST only."))
	case perr != nil:
		return fail(errInvalid("query", perr.Error()))
	}
	if q.p.get("Action") == "" {
		return fail(errMissing("Action"))
	}
	if q.p.get("Version") == "" {
		return fail(errMissing("Version"))
	}
	var table map[string]action
	switch q.p.get("Version") {
	case "2014-05-26":
		table = ecsActions
	case "2016-04-28":
		table, host = vpcActions, "vpc.aliyuncs.com"
	default:
		return fail(newErr(http.StatusBadRequest, "InvalidVersion", "Specified parameter Version %q is not valid.", q.p.get("Version")))
	}
	q.action = q.p.get("Action")
	act, ok := table[q.action]
	if !ok {
		return fail(newErr(http.StatusNotFound, "InvalidApi.NotFound",
			"Specified api %q is not found in version %s, please check your url and method.", q.action, q.p.get("Version")))
	}
	// The real API answers XML when Format is absent; the emulator speaks
	// JSON only, so it insists on the Format the SDK sends.
	if f := q.p.format(); !strings.EqualFold(f, "JSON") {
		return fail(errUnsupported("Format", "the emulator answers Format=JSON only (the real API defaults to XML)"))
	}
	if e := s.authenticate(r.Method, q.p, q.now); e != nil {
		return fail(e)
	}
	s.calls[q.action]++

	if e := s.checkRegion(q.p, act); e != nil {
		return fail(e)
	}
	rates := s.faults.forAction(q.action)
	if r := rates.DropRate; r > 0 && s.cloud.gen.roll("drop-before", n) < r {
		return outcome{drop: true}
	}
	if e := s.injectBefore(q, rates, act.mutating); e != nil {
		return fail(e)
	}
	body, e := act.run(s, q)
	if e != nil {
		return fail(e)
	}
	if q.changed {
		if r := rates.CommitThenDropRate; r > 0 && s.cloud.gen.roll("drop", n) < r {
			return outcome{drop: true}
		}
		if r := rates.CommitThenFailRate; r > 0 && s.cloud.gen.roll("commit-fail", n) < r {
			return fail(s.serverError(n))
		}
	}
	return outcome{status: http.StatusOK, body: body}
}

// checkRegion enforces that the request is for the world's region. The
// legacy SDK always sends RegionId (ecs-api.md §1.2); DescribeVSwitches
// accepts a VpcId instead, and DescribeInstanceTypes has no RegionId.
func (s *Server) checkRegion(p params, act action) *apiError {
	r := p.get("RegionId")
	if r == "" {
		if act.regionless || act.regionOptional && p.has("VpcId") {
			return nil
		}
		return errMissing("RegionId")
	}
	if r != s.cloud.region {
		return newErr(http.StatusNotFound, "InvalidRegionId.NotFound",
			"The specified RegionId %q does not exist here: this emulator serves %s only.", r, s.cloud.region)
	}
	return nil
}

// injectBefore applies the faults that stop a request before it runs.
func (s *Server) injectBefore(q *call, rates FaultRates, mutating bool) *apiError {
	if qps, ok := s.faults.ActionQPS[q.action]; ok && qps > 0 {
		b := s.buckets[q.action]
		burst := max(1, qps)
		if b == nil {
			b = &bucket{tokens: burst, last: q.now}
			s.buckets[q.action] = b
		}
		if el := q.now.Sub(b.last); el > 0 {
			b.tokens = min(burst, b.tokens+el.Seconds()*qps)
			b.last = q.now
		}
		if b.tokens < 1 {
			return errThrottlingUser()
		}
		b.tokens--
	}
	if r := rates.ThrottleRate; r > 0 && s.cloud.gen.roll("throttle", q.n) < r {
		return errThrottling()
	}
	if r := rates.ThrottleUserRate; r > 0 && s.cloud.gen.roll("throttle-user", q.n) < r {
		return errThrottlingUser()
	}
	if r := rates.ServerErrorRate; r > 0 && s.cloud.gen.roll("5xx", q.n) < r {
		return s.serverError(q.n)
	}
	if r := rates.ConflictRate; r > 0 && mutating && s.cloud.gen.roll("conflict", q.n) < r {
		return errOperationConflict("the resource")
	}
	return nil
}

// serverError picks 500 InternalError or 503 ServiceUnavailable.
func (s *Server) serverError(n uint64) *apiError {
	if s.cloud.gen.roll("5xx-kind", n) < 0.5 {
		return errInternal()
	}
	return errUnavailable()
}

type bucket struct {
	tokens float64
	last   time.Time
}

func recommend(code, host string) string {
	product := "Ecs"
	if strings.HasPrefix(host, "vpc") {
		product = "Vpc"
	}
	return "https://api.aliyun.com/troubleshoot?q=" + code + "&product=" + product
}

// writeJSON writes v as the service does: compact JSON, no HTML escaping.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// serveAdmin answers the unauthenticated, read-mostly admin endpoints.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"Error": "admin endpoints accept GET only"})
		return
	}
	switch r.URL.Path {
	case "/_emulator/calls":
		s.mu.Lock()
		body := adminCalls{Calls: maps.Clone(s.calls), MutatingCalls: s.mutatingCalls()}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, body)
	case "/_emulator/reset-counters":
		s.mu.Lock()
		body := adminCalls{Calls: s.calls, MutatingCalls: s.mutatingCalls()}
		s.calls = map[string]int{}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, body)
	case "/_emulator/state":
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s.State()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.Write(buf.Bytes())
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{
			"Error": "unknown admin endpoint; try /_emulator/calls, /_emulator/state or /_emulator/reset-counters"})
	}
}

// adminCalls is the body of /_emulator/calls: counters by action name.
type adminCalls struct {
	Calls         map[string]int `json:"Calls"`
	MutatingCalls int            `json:"MutatingCalls"`
}
