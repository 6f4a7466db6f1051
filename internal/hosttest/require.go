package hosttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// StrictEnv names the environment variable that turns every skip for a
// missing tool or missing root into a failure. CI sets it to 1, so a
// real-tool test can never pass there by being skipped.
const StrictEnv = "ECSNET_REQUIRE_REAL_TOOLS"

// Strict reports whether missing tools fail tests rather than skip them.
func Strict() bool { return os.Getenv(StrictEnv) == "1" }

// Unavailable skips the test with the reason, or fails it in strict mode.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Strict() {
		t.Fatalf("%s (%s=1: a missing tool is a failure; run internal/hosttest/install.sh)", msg, StrictEnv)
	}
	t.Skipf("%s (run internal/hosttest/install.sh as root to install the real tools)", msg)
}

// RequireRoot skips (or in strict mode fails) the test unless it runs as
// root, which network and mount namespaces need.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root for network and mount namespaces")
	}
}

// sbin holds the directories a non-root PATH often lacks.
var sbin = []string{"/usr/local/sbin", "/usr/sbin", "/sbin"}

// LookTool finds a command on PATH or in the sbin directories.
func LookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range sbin {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in %v", name, sbin)
}

// RequireTool returns the path of a command, skipping (or in strict mode
// failing) the test when it is missing.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := LookTool(name)
	if err != nil {
		Unavailable(t, "needs %s: %v", name, err)
	}
	return p
}
