package emulator

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Duration is a time.Duration that a world file writes as a Go duration
// string: "3s", "250ms", "5m".
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string like \"3s\" or \"250ms\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration like \"3s\" or \"250ms\"", s)
	}
	*d = Duration(v)
	return nil
}

// Timing is how long the cloud's asynchronous work takes and how fresh its
// reads are, in emulator-clock time. A zero field takes its value from
// RealisticTiming; Scale multiplies every duration, so that a test can run
// the realistic model a hundred times faster (Scale 0.01).
//
// With a Timing (from the world file or Options.Timing) the emulator also
// answers Operation.Conflict to an attach or detach on an instance whose
// other ENI is still Attaching or Detaching. Without one it keeps the
// simplified model of earlier releases: every transition takes
// Options.AsyncDelay and nothing conflicts.
type Timing struct {
	Attach  Duration `json:"Attach,omitzero"`  // Attaching → InUse
	Detach  Duration `json:"Detach,omitzero"`  // Detaching → Available
	Delete  Duration `json:"Delete,omitzero"`  // Deleting → gone
	Command Duration `json:"Command,omitzero"` // a Cloud Assistant invocation
	// Stuck is how long an attach or detach that the StuckRate fault
	// picked stays Attaching or Detaching. A stuck attach then fails back
	// to Available, as a failed attach does in the cloud; a stuck detach
	// then completes.
	Stuck Duration `json:"Stuck,omitzero"`
	// ReadLag is how far DescribeNetworkInterfaces trails the changes:
	// for this long after a change it still shows an ENI's status,
	// attachment and addresses as they were before it (the Terraform
	// provider polls after assign and unassign until the list matches,
	// ecs-api.md §2.6). Zero (the default) means reads are consistent.
	ReadLag Duration `json:"ReadLag,omitzero"`
	// Busy is how long an ENI just changed by a synchronous call (create,
	// assign, unassign, modify) answers Operation.Conflict to the next
	// change: the two operations "touch one ENI at once". The API
	// reference gives no figure, so the default is none.
	Busy  Duration `json:"Busy,omitzero"`
	Scale float64  `json:"Scale,omitzero"`
}

// RealisticTiming returns the durations `ecsnet emulator` uses unless the
// world or a flag says otherwise. The API reference documents attach,
// detach and delete as asynchronous but gives no duration; the figures
// follow what clients that run against the cloud wait for:
//
//   - Terway sleeps 4 s after AttachNetworkInterface before it first
//     polls ("bind status is async api, sleep for first bind status
//     inspect", AliyunContainerService/terway pkg/aliyun/ecs.go,
//     eniStateBackoff), and confirms a delete from 2 s on (ecs-api.md §3);
//   - the Terraform provider polls every 5 s with a 2-minute attach and
//     1-minute detach timeout, and users report Detaching that outlasts
//     it (terraform-provider-alicloud issue #6436, ecs-api.md §7).
//
// Stuck is 5 minutes: longer than ecsnet's own 2-minute wait, so a stuck
// transition is seen to time out.
func RealisticTiming() Timing {
	return Timing{
		Attach:  Duration(3 * time.Second),
		Detach:  Duration(3 * time.Second),
		Delete:  Duration(2 * time.Second),
		Command: Duration(2 * time.Second),
		Stuck:   Duration(5 * time.Minute),
		Scale:   1,
	}
}

// withDefaults fills zero fields from RealisticTiming.
func (t Timing) withDefaults() Timing {
	r := RealisticTiming()
	def := func(v *Duration, d Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&t.Attach, r.Attach)
	def(&t.Detach, r.Detach)
	def(&t.Delete, r.Delete)
	def(&t.Command, r.Command)
	def(&t.Stuck, r.Stuck)
	if t.Scale == 0 {
		t.Scale = 1
	}
	return t
}

func (t Timing) check() error {
	if t.Scale < 0 {
		return fmt.Errorf("Timing: Scale %g must not be negative (0 means 1)", t.Scale)
	}
	return nil
}

// timing is the server's resolved clock model.
type timing struct {
	attach, detach, delete, command, stuck, readLag, busy time.Duration
	// conflicts: an attach or detach on a busy instance is refused.
	conflicts bool
}

// resolveTiming picks the clock model: Options.Timing, else the world's,
// else the simplified model with every transition AsyncDelay long.
func resolveTiming(w *World, opts Options) (timing, error) {
	t := opts.Timing
	if t == nil {
		t = w.Timing
	}
	if t == nil {
		d := opts.AsyncDelay
		return timing{attach: d, detach: d, delete: d, command: d, stuck: d}, nil
	}
	if err := t.check(); err != nil {
		return timing{}, err
	}
	r := t.withDefaults()
	scale := func(d Duration) time.Duration { return time.Duration(float64(d) * r.Scale) }
	out := timing{attach: scale(r.Attach), detach: scale(r.Detach), delete: scale(r.Delete),
		command: scale(r.Command), stuck: scale(r.Stuck), readLag: scale(t.ReadLag), busy: scale(t.Busy), conflicts: true}
	if opts.AsyncDelay > 0 {
		// An explicit AsyncDelay still sets the transitions, as before.
		out.attach, out.detach, out.delete = opts.AsyncDelay, opts.AsyncDelay, opts.AsyncDelay
	}
	return out, nil
}

// Read lag. Describe answers show an ENI as it was readLag ago: touch
// keeps the state an ENI had before each change for that long, and
// lagged returns the oldest state still inside the window. An ENI is
// listed from its creation and not after it is gone; only its status,
// attachment and addresses trail.

// snapshot is an ENI's state before a change, visible until until.
type snapshot struct {
	until time.Time
	e     *eni
}

// touch records e's state before a change made at now.
func (s *Server) touch(e *eni, now time.Time) {
	if s.timing.readLag <= 0 {
		return
	}
	c := *e
	c.history = nil
	c.secondaries = slices.Clone(e.secondaries)
	c.ipv6 = slices.Clone(e.ipv6)
	c.prefixes = slices.Clone(e.prefixes)
	c.groups = slices.Clone(e.groups)
	c.tags = slices.Clone(e.tags)
	e.history = append(e.history, snapshot{until: now.Add(s.timing.readLag), e: &c})
}

// lagged returns the ENI as a read at now sees it.
func (s *Server) lagged(e *eni, now time.Time) *eni {
	i := 0
	for i < len(e.history) && !e.history[i].until.After(now) {
		i++
	}
	e.history = e.history[i:]
	if len(e.history) == 0 {
		e.history = nil
		return e
	}
	return e.history[0].e
}

// checkClock checks the world's Timing and Faults.
func (w *World) checkClock() error {
	if w.Timing != nil {
		if err := w.Timing.check(); err != nil {
			return err
		}
	}
	if w.Faults != nil {
		return w.Faults.Check()
	}
	return nil
}
