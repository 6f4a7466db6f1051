package plan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ecsnet/ecsnet/internal/plural"
)

// Mismatch compares a saved plan with the plan computed now from the
// desired state, the lock and the cloud, step for step: every field of
// every step, as the plan document writes it (the derived "destroys"
// included), and the fleet and region. It returns "" when they are equal,
// or says where they first differ, for an error message. apply --plan runs
// a saved plan only when Mismatch finds nothing: the file is a reviewed
// promise of what apply will do, not an instruction.
func Mismatch(saved, now *Plan) string {
	switch {
	case saved.Fleet != now.Fleet:
		return fmt.Sprintf("the saved plan is for fleet %q, the desired state is %q", saved.Fleet, now.Fleet)
	case saved.Region != now.Region:
		return fmt.Sprintf("the saved plan is for region %q, the desired state is in %q", saved.Region, now.Region)
	}
	byID := make(map[string]*Step, len(now.Steps))
	for _, s := range now.Steps {
		byID[s.ID] = s
	}
	var diffs []string
	for i, s := range saved.Steps {
		n := byID[s.ID]
		if n == nil {
			diffs = append(diffs, fmt.Sprintf("step %q is not in the plan made now", s.ID))
			continue
		}
		if fields := stepFieldsDiffer(s, n); len(fields) > 0 {
			diffs = append(diffs, fmt.Sprintf("step %q differs in %s", s.ID, strings.Join(fields, ", ")))
		} else if i >= len(now.Steps) || now.Steps[i].ID != s.ID {
			diffs = append(diffs, fmt.Sprintf("step %q comes at another place", s.ID))
		}
	}
	seen := make(map[string]bool, len(saved.Steps))
	for _, s := range saved.Steps {
		seen[s.ID] = true
	}
	for _, s := range now.Steps {
		if !seen[s.ID] {
			diffs = append(diffs, fmt.Sprintf("the plan made now has step %q, which the saved plan lacks", s.ID))
		}
	}
	if len(diffs) == 0 {
		return ""
	}
	const show = 3
	if len(diffs) > show {
		diffs = append(diffs[:show], "and "+plural.Count(len(diffs)-show, "more difference", "more differences"))
	}
	return strings.Join(diffs, "; ")
}

// stepFieldsDiffer returns the JSON names of the fields in which two steps'
// documents differ, sorted.
func stepFieldsDiffer(a, b *Step) []string {
	fa, fb := stepFields(a), stepFields(b)
	var out []string
	for k, v := range fa {
		if fb[k] != v {
			out = append(out, k)
		}
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// stepFields returns each field of s's document as compact JSON.
func stepFields(s *Step) map[string]string {
	data, err := json.Marshal(newStepDoc(s))
	if err != nil {
		panic(err) // strings, numbers, addresses: cannot fail
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		panic(err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		out[k] = string(v)
	}
	return out
}
