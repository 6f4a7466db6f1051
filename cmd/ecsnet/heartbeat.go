package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/plan"
)

// tuning holds settings that main leaves at their defaults and tests
// shorten, so that a test of a slow path does not take as long as the
// path does.
type tuning struct {
	// heartbeat, if set, is the interval between "waiting" lines instead
	// of heartbeatEvery's choice.
	heartbeat time.Duration
	// client, if set, adjusts the SDK client's configuration before the
	// client is built (for example its retry jitter).
	client func(*ecs.Config)
}

// heartbeatEvery is the longest a command stays silent while it waits
// for the cloud: 5 s when stderr is a terminal someone watches, 30 s in a
// log, where a line every few seconds would drown the rest.
func heartbeatEvery(e env) time.Duration {
	if e.tune.heartbeat > 0 {
		return e.tune.heartbeat
	}
	if f, ok := e.stderr.(*os.File); ok && isTerminal(f) {
		return 5 * time.Second
	}
	return 30 * time.Second
}

// heartbeatShown is how many waits a heartbeat line names; the rest are
// counted.
const heartbeatShown = 3

// heartbeat prints what a command is waiting for, and for how long,
// whenever nothing was printed for its interval while something is in
// flight: an attach until the ENI is InUse, a Cloud Assistant run until
// the hosts report. Everything else the command prints during the wait
// goes through it (it is an io.Writer), so that the heartbeat knows when
// the last line was, and lines never interleave. The library packages
// print nothing; they report through plan.Event, and commands call
// begin and end around waits of their own.
type heartbeat struct {
	w     io.Writer
	every time.Duration
	kick  chan struct{} // something started while nothing was in flight
	stop  chan struct{}
	done  chan struct{}

	mu    sync.Mutex
	last  time.Time // the last line written
	since time.Time // when the current spell of waiting began
	waits map[string]waiting
}

type waiting struct {
	what  string
	start time.Time
}

// startHeartbeat starts the heartbeat on w; Stop ends it.
func startHeartbeat(w io.Writer, every time.Duration) *heartbeat {
	h := &heartbeat{w: w, every: every, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		last: time.Now(), waits: map[string]waiting{}}
	go h.run()
	return h
}

// Write writes p to the underlying writer, noting the time of its last
// line.
func (h *heartbeat) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if bytes.IndexByte(p, '\n') >= 0 {
		h.last = time.Now()
	}
	return h.w.Write(p)
}

// begin notes that what (a short description; key identifies it) is
// now being waited for.
func (h *heartbeat) begin(key, what string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if len(h.waits) == 0 {
		h.since = now
		select {
		case h.kick <- struct{}{}:
		default:
		}
	}
	h.waits[key] = waiting{what: what, start: now}
}

// end notes that the wait begun under key is over.
func (h *heartbeat) end(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.waits, key)
}

// Stop ends the heartbeat; no line is printed after it returns.
func (h *heartbeat) Stop() {
	close(h.stop)
	<-h.done
}

// track wraps a progress function: a step that starts is waited for
// until it ends.
func (h *heartbeat) track(next func(plan.Event)) func(plan.Event) {
	return func(ev plan.Event) {
		if ev.Phase == plan.Started {
			h.begin(ev.Step.ID, waitingFor(ev.Step))
		} else {
			h.end(ev.Step.ID)
		}
		if next != nil {
			next(ev)
		}
	}
}

// waitingFor says what a step in flight waits for.
func waitingFor(s *plan.Step) string {
	switch {
	case s.Action == plan.AttachENI && s.Instance != "":
		return s.ID + " to " + s.Instance
	case s.Action == plan.DetachENI && s.Instance != "":
		return s.ID + " from " + s.Instance
	case s.Action.Host():
		return s.ID + " (Cloud Assistant)"
	}
	return s.ID
}

func (h *heartbeat) run() {
	defer close(h.done)
	t := time.NewTimer(h.every)
	defer t.Stop()
	for {
		h.mu.Lock()
		var wake <-chan time.Time // nil: nothing in flight, wait for a kick
		if len(h.waits) > 0 {
			now := time.Now()
			due := h.last
			if h.since.After(due) {
				due = h.since
			}
			due = due.Add(h.every)
			if !now.Before(due) {
				h.print(now)
				due = now.Add(h.every)
			}
			t.Reset(due.Sub(now))
			wake = t.C
		}
		h.mu.Unlock()
		select {
		case <-h.stop:
			return
		case <-h.kick:
		case <-wake:
		}
	}
}

// print writes one heartbeat line, the longest waits first; h.mu is held.
func (h *heartbeat) print(now time.Time) {
	ws := make([]waiting, 0, len(h.waits))
	for _, w := range h.waits {
		ws = append(ws, w)
	}
	slices.SortFunc(ws, func(a, b waiting) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return strings.Compare(a.what, b.what)
	})
	var parts []string
	for _, w := range ws[:min(len(ws), heartbeatShown)] {
		parts = append(parts, fmt.Sprintf("%s (%d s)", w.what, int(now.Sub(w.start).Seconds())))
	}
	line := strings.Join(parts, ", ")
	if more := len(ws) - heartbeatShown; more > 0 {
		line += fmt.Sprintf(" and %d more", more)
	}
	fmt.Fprintf(h.w, "  waiting  %s\n", line)
	h.last = now
}
