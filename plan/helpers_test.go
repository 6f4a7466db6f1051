package plan

import "os"

func readExample() (string, error) {
	b, err := os.ReadFile("../fixtures/example/fleet.cue")
	return string(b), err
}

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o644) }

// Step returns the step with the given ID, or nil. Only the tests look
// steps up by ID.
func (p *Plan) Step(id string) *Step {
	for _, s := range p.Steps {
		if s.ID == id {
			return s
		}
	}
	return nil
}
