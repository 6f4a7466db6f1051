package emulator

import (
	"container/heap"
	"time"
)

// Attach, detach and delete are asynchronous in the real API: the call
// returns at once and the ENI passes through Attaching, Detaching or
// Deleting first (ecs-api.md §2.3-§2.5, §3). The emulator completes each
// transition its duration of emulator-clock time after the call (Timing,
// or AsyncDelay in the simplified model), when a later request (or State)
// observes that the time has come. With a zero duration the next request
// already sees the final state. A stuck transition (the StuckRate fault)
// takes Timing.Stuck instead, and a stuck attach then fails: the ENI is
// Available again, as the API reference says of a failed attach
// (ecs-api.md §2.3).

type transition struct {
	due  time.Time
	seq  uint64
	eni  string
	from string // the state being left; a stale entry no longer matches
	fail bool   // the transition fails instead of completing (a stuck attach)
}

type transitions struct {
	h   []transition
	seq uint64
}

func (t *transitions) Len() int { return len(t.h) }
func (t *transitions) Less(i, j int) bool {
	if !t.h[i].due.Equal(t.h[j].due) {
		return t.h[i].due.Before(t.h[j].due)
	}
	return t.h[i].seq < t.h[j].seq
}
func (t *transitions) Swap(i, j int) { t.h[i], t.h[j] = t.h[j], t.h[i] }
func (t *transitions) Push(x any)    { t.h = append(t.h, x.(transition)) }
func (t *transitions) Pop() any {
	x := t.h[len(t.h)-1]
	t.h = t.h[:len(t.h)-1]
	return x
}

// schedule queues the completion of the transitional state e is in; a
// stuck one takes Timing.Stuck, and a stuck attach then fails.
func (s *Server) schedule(e *eni, now time.Time, stuck bool) {
	d := s.timing.attach
	switch e.status {
	case stDetaching:
		d = s.timing.detach
	case stDeleting:
		d = s.timing.delete
	}
	if stuck {
		d = s.timing.stuck
	}
	s.pending.seq++
	e.transition = s.pending.seq
	heap.Push(&s.pending, transition{due: now.Add(d), seq: s.pending.seq, eni: e.id, from: e.status,
		fail: stuck && e.status == stAttaching})
}

// advance completes every transition due by now, oldest first, and
// finishes due command invocations.
func (s *Server) advance(now time.Time) {
	for s.pending.Len() > 0 && !s.pending.h[0].due.After(now) {
		t := heap.Pop(&s.pending).(transition)
		e := s.cloud.enis[t.eni]
		if e == nil || e.transition != t.seq || e.status != t.from {
			continue
		}
		s.touch(e, t.due)
		s.complete(e, t.fail)
	}
	s.advanceCommands(now)
}

func (s *Server) complete(e *eni, fail bool) {
	c := s.cloud
	e.transition = 0
	switch e.status {
	case stAttaching:
		if fail {
			in := c.instances[e.instanceID]
			in.enis = removeByID(in.enis, e.id)
			e.status, e.instanceID, e.deviceIndex, e.networkCard = stAvailable, "", 0, 0
			return
		}
		e.status = stInUse
		s.hostChanged(c.instances[e.instanceID]) // the NIC appears in the guest
	case stDetaching:
		in := c.instances[e.instanceID]
		in.enis = removeByID(in.enis, e.id)
		e.status, e.instanceID, e.deviceIndex, e.networkCard = stAvailable, "", 0, 0
		s.hostChanged(in) // and vanishes
	case stDeleting:
		c.removeENI(e)
	}
}
