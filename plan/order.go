package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// order sorts steps so that each comes after the steps it depends on. Among
// steps whose dependencies are met, it takes the shallowest first, then by
// action and target, so the same steps always come out in the same order
// and a reader sees removals before additions.
func order(steps map[string]*Step) []*Step {
	depth := map[string]int{}
	var visit func(id string, seen map[string]bool) int
	visit = func(id string, seen map[string]bool) int {
		if d, ok := depth[id]; ok {
			return d
		}
		if seen[id] {
			panic(fmt.Sprintf("plan: dependency cycle through %s", id))
		}
		seen[id] = true
		d := 0
		for _, dep := range steps[id].DependsOn {
			if _, ok := steps[dep]; !ok {
				panic(fmt.Sprintf("plan: %s depends on unknown step %s", id, dep))
			}
			d = max(d, visit(dep, seen)+1)
		}
		delete(seen, id)
		depth[id] = d
		return d
	}
	// Sort by keys computed once: a map look-up per comparison dominated
	// planning a large fleet.
	type keyed struct {
		s      *Step
		depth  int
		target string // as the plan spells it
	}
	ks := make([]keyed, 0, len(steps))
	for id, s := range steps {
		ks = append(ks, keyed{s, visit(id, map[string]bool{}), s.Target.String()})
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.depth, b.depth), cmp.Compare(a.s.Action.rank(), b.s.Action.rank()),
			strings.Compare(a.target, b.target), strings.Compare(a.s.ID, b.s.ID))
	})
	out := make([]*Step, len(ks))
	for i, k := range ks {
		out[i] = k.s
	}
	return out
}
