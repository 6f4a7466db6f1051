package emulator

import (
	"net/http"
	"slices"
	"time"
)

// Instance power: StopInstance, StartInstance and RebootInstance
// (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-stopinstance,
// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-startinstance,
// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-rebootinstance).
// Each is asynchronous: the call answers at once and the instance passes
// through Stopping (stop), Starting (start) or Stopping then Starting
// (reboot), each for AsyncDelay of emulator-clock time, as ENI
// transitions do. A call on an instance in a state the action does not
// start from answers 403 IncorrectInstanceStatus, the instance APIs'
// code (ecs-api.md §5.2). ForceStop and StoppedMode are accepted and
// validated; the emulator has no billing and no guest to ask to shut
// down cleanly, so they change nothing else. The guest of hosts mode
// halts when its instance leaves Running (its commands end with
// InstanceNotRunning) and boots when it is Running again.

// powerStep is a pending instance transition: when due, an instance still
// in state from moves to state to.
type powerStep struct {
	due      time.Time
	seq      uint64
	instance string
	from, to string
}

// powerLog holds the pending power steps, in the order they fall due.
type powerLog struct {
	steps []powerStep
	seq   uint64
}

// startPower puts an instance in a transitional state and schedules what
// follows it.
func (s *Server) startPower(in *instance, state, next string, now time.Time) {
	s.setStatus(in, state, now)
	s.acct.power.seq++
	st := powerStep{due: now.Add(s.delay), seq: s.acct.power.seq, instance: in.id, from: state, to: next}
	i, _ := slices.BinarySearchFunc(s.acct.power.steps, st, func(a, b powerStep) int {
		if c := a.due.Compare(b.due); c != 0 {
			return c
		}
		return int(a.seq - b.seq)
	})
	s.acct.power.steps = slices.Insert(s.acct.power.steps, i, st)
}

// advancePower completes the power steps due by now, oldest first. A
// reboot's Stopping is followed by Starting, which needs a step of its
// own.
func (s *Server) advancePower(now time.Time) {
	for len(s.acct.power.steps) > 0 && !s.acct.power.steps[0].due.After(now) {
		st := s.acct.power.steps[0]
		s.acct.power.steps = s.acct.power.steps[1:]
		in := s.cloud.instances[st.instance]
		if in == nil || in.status != st.from {
			continue // overtaken (SetInstanceStatus)
		}
		if st.to == "Starting" { // a reboot halfway
			s.startPower(in, "Starting", "Running", st.due)
			continue
		}
		s.setStatus(in, st.to, st.due)
	}
}

// setStatus changes an instance's status and what follows from it: the
// commands of an instance that leaves Running end, and hosts mode's guest
// halts or boots.
func (s *Server) setStatus(in *instance, status string, now time.Time) {
	was := in.status
	in.status = status
	if was == "Running" && status != "Running" {
		s.interruptCommands(in.id, now)
	}
	if (was == "Running") != (status == "Running") {
		s.hostChanged(in)
	}
}

func errInstanceStatus(in *instance, op string) *apiError {
	return newErr(http.StatusForbidden, "IncorrectInstanceStatus",
		"The current status of the resource does not support this operation: instance %s is %s, and %s needs it %s.",
		in.id, in.status, op, map[string]string{"StopInstance": "Running", "StartInstance": "Stopped", "RebootInstance": "Running"}[op])
}

// powerTarget reads the InstanceId of a power action and refuses DryRun,
// which the emulator does not model.
func (s *Server) powerTarget(q *call) (*instance, *apiError) {
	if err := rejectDryRun(q.p); err != nil {
		return nil, err
	}
	id, err := q.p.required("InstanceId")
	if err != nil {
		return nil, err
	}
	in := s.cloud.instances[id]
	if in == nil {
		return nil, newErr(http.StatusNotFound, "InvalidInstanceId.NotFound", "The specified InstanceId %q does not exist.", id)
	}
	if _, err := q.p.boolean("ForceStop"); err != nil {
		return nil, err
	}
	return in, nil
}

var stoppedModes = []string{"StopCharging", "KeepCharging", "Not-applicable"}

func stopInstance(s *Server, q *call) (any, *apiError) {
	if err := q.p.rejectUnsupported("Hibernate"); err != nil {
		return nil, err
	}
	in, err := s.powerTarget(q)
	if err != nil {
		return nil, err
	}
	if m := q.p.get("StoppedMode"); m != "" && !slices.Contains(stoppedModes, m) {
		return nil, errInvalid("StoppedMode", "not StopCharging, KeepCharging or Not-applicable")
	}
	if _, err := q.p.boolean("ConfirmStop"); err != nil {
		return nil, err
	}
	if in.status != "Running" {
		return nil, errInstanceStatus(in, "StopInstance")
	}
	s.startPower(in, "Stopping", "Stopped", q.now)
	q.changed = true
	return requestOnly{RequestId: q.requestID}, nil
}

func startInstance(s *Server, q *call) (any, *apiError) {
	in, err := s.powerTarget(q)
	if err != nil {
		return nil, err
	}
	if _, err := q.p.boolean("InitLocalDisk"); err != nil {
		return nil, err
	}
	if in.status != "Stopped" {
		return nil, errInstanceStatus(in, "StartInstance")
	}
	s.startPower(in, "Starting", "Running", q.now)
	q.changed = true
	return requestOnly{RequestId: q.requestID}, nil
}

func rebootInstance(s *Server, q *call) (any, *apiError) {
	in, err := s.powerTarget(q)
	if err != nil {
		return nil, err
	}
	if in.status != "Running" {
		return nil, errInstanceStatus(in, "RebootInstance")
	}
	s.startPower(in, "Stopping", "Starting", q.now)
	q.changed = true
	return requestOnly{RequestId: q.requestID}, nil
}
