package plan

import "os"

func readExample() (string, error) {
	b, err := os.ReadFile("../fixtures/example/fleet.cue")
	return string(b), err
}

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o644) }
