package plan

import (
	"slices"
	"strings"
)

// resumePrefix starts the Reason of an attach step that resumes an attach
// the cloud is still performing (computer.attachment).
const resumePrefix = "resume: "

// Resumes reports whether s only resumes an attach already in progress:
// the ENI is Attaching to the instance the file wants, and the step sends
// the attach again (answered as in progress) and waits for it. Such a step
// changes nothing the plan does not already intend, and it leaves the
// plan as soon as the cloud finishes the attach.
func (s *Step) Resumes() bool {
	return s.Action == AttachENI && strings.HasPrefix(s.Reason, resumePrefix)
}

// withoutFinishedResumes returns confirmed without the resume steps that
// now lacks, and without the dependencies on them: the attaches they
// waited for finished while apply waited for the fleet's lease (a killed
// apply leaves its attaches in flight). confirmed is returned as is when
// there are none.
func withoutFinishedResumes(confirmed, now *Plan) *Plan {
	inNow := make(map[string]bool, len(now.Steps))
	for _, s := range now.Steps {
		inNow[s.ID] = true
	}
	gone := map[string]bool{}
	for _, s := range confirmed.Steps {
		if s.Resumes() && !inNow[s.ID] {
			gone[s.ID] = true
		}
	}
	if len(gone) == 0 {
		return confirmed
	}
	p := *confirmed
	rest := make(map[string]*Step, len(confirmed.Steps))
	for _, s := range confirmed.Steps {
		if gone[s.ID] {
			continue
		}
		c := *s
		c.DependsOn = slices.DeleteFunc(slices.Clone(s.DependsOn), func(id string) bool { return gone[id] })
		rest[c.ID] = &c
	}
	// Ordered again, as Compute orders a plan: a step that waited on a
	// finished resume is shallower now, and comes among the independent
	// steps where the plan made now puts it. Only the same steps with the
	// same dependencies then compare equal, in the same order.
	p.Steps = order(rest)
	return &p
}
