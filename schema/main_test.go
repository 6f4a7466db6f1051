package schema

import (
	"os"
	"testing"
)

// TestMain serves CUE evaluations when a test's Load re-executes this
// binary as its sandbox child (see Sandbox).
func TestMain(m *testing.M) {
	EvalChildMain()
	os.Exit(m.Run())
}
