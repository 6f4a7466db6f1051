package emulator

import (
	"container/heap"
	"time"
)

// Attach, detach and delete are asynchronous in the real API: the call
// returns at once and the ENI passes through Attaching, Detaching or
// Deleting first (ecs-api.md §2.3-§2.5, §3). The emulator completes each
// transition AsyncDelay of emulator-clock time after the call, when a later
// request (or State) observes that the time has come. With AsyncDelay zero
// the next request already sees the final state.

type transition struct {
	due  time.Time
	seq  uint64
	eni  string
	from string // the state being left; a stale entry no longer matches
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

// schedule queues the completion of the transitional state e is in.
func (s *Server) schedule(e *eni, now time.Time) {
	s.pending.seq++
	e.transition = s.pending.seq
	heap.Push(&s.pending, transition{due: now.Add(s.delay), seq: s.pending.seq, eni: e.id, from: e.status})
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
		s.complete(e)
	}
	s.advanceCommands(now)
}

func (s *Server) complete(e *eni) {
	c := s.cloud
	e.transition = 0
	switch e.status {
	case stAttaching:
		e.status = stInUse
		s.hostChanged(c.instances[e.instanceID]) // the NIC appears in the guest
	case stDetaching:
		in := c.instances[e.instanceID]
		in.enis = removeByID(in.enis, e.id)
		e.status, e.instanceID, e.deviceIndex = stAvailable, "", 0
		s.hostChanged(in) // and vanishes
	case stDeleting:
		c.removeENI(e)
	}
}
