package guest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// payloadFunc returns the text of one bash function of the payload's
// code (scripts/payload.sh), from "NAME() {" to its closing brace.
func payloadFunc(t *testing.T, name string) string {
	t.Helper()
	i := strings.Index(shPayloadLib, "\n"+name+"() {")
	if i < 0 {
		t.Fatalf("payload.sh has no %s", name)
	}
	j := strings.Index(shPayloadLib[i:], "\n}\n")
	if j < 0 {
		t.Fatalf("payload.sh: %s does not end", name)
	}
	return shPayloadLib[i+1 : i+j+3]
}

// TestPayloadLockTakeover: a payload lock left by a run that died is
// taken over by exactly one of the runs waiting for it. Several runs
// that find the same dead holder at once must not each remove the lock:
// the second removal would take away the lock the first had just made
// (a lock broken wrongly), and two payloads would change the host at
// once. Each run here holds the lock for a moment and fails when it
// finds another inside.
func TestPayloadLockTakeover(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := `set -u
STATE_DIR="$1"
HELD=""
p_end() { echo "end: $2"; exit "$1"; }
` + payloadFunc(t, "p_lock") + `
p_lock
if ! mkdir "$STATE_DIR/inside" 2>/dev/null; then echo "two payloads hold the lock"; exit 9; fi
sleep 0.05
rmdir "$STATE_DIR/inside"
rm -rf "$HELD"
`
	// A process ID that is no longer running: a child that has exited.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := strconv.Itoa(dead.ProcessState.Pid())
	for round := range 15 {
		dir := t.TempDir()
		lock := filepath.Join(dir, "payload.lock")
		if err := os.Mkdir(lock, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(lock, "pid"), []byte(deadPID+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var bad []string
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var out bytes.Buffer
				cmd := exec.Command(bash, "-c", script, "lock-test", dir)
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Run(); err != nil {
					mu.Lock()
					bad = append(bad, err.Error()+": "+out.String())
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(bad) > 0 {
			t.Fatalf("round %d: %d of 8 runs failed:\n%s", round, len(bad), strings.Join(bad, "\n"))
		}
	}
}
