package render

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

// libFunc returns the text of one bash function of the script library's
// base (scripts/lib-base.sh), from "NAME() {" to its closing brace.
func libFunc(t *testing.T, name string) string {
	t.Helper()
	i := strings.Index(scriptLibBase, "\n"+name+"() {")
	if i < 0 {
		t.Fatalf("lib-base.sh has no %s", name)
	}
	j := strings.Index(scriptLibBase[i:], "\n}\n")
	if j < 0 {
		t.Fatalf("lib-base.sh: %s does not end", name)
	}
	return scriptLibBase[i+1 : i+j+3]
}

// TestLockTakeover: an apply lock left by a run that died is taken over
// by exactly one of the runs waiting for it. Several runs (apply, the
// boot scripts, the reconcile) that find the same dead holder at once
// must not each remove the lock: the second removal would take away the
// lock the first had just made, and two runs would change the host at
// once. Each run here, under the scripts' own set -euo pipefail, holds
// the lock for a moment and fails when it finds another inside.
func TestLockTakeover(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := `set -euo pipefail
STATE_DIR="$1"
ecsnet_die() { echo "die: $*"; exit 1; }
` + libFunc(t, "ecsnet_lock") + `
ecsnet_lock
if ! mkdir "$STATE_DIR/inside" 2>/dev/null; then echo "two runs hold the lock"; exit 9; fi
sleep 0.05
rmdir "$STATE_DIR/inside"
`
	// A process ID that is no longer running: a child that has exited.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := strconv.Itoa(dead.ProcessState.Pid())
	// Five rounds: the race shows in the first round without the takeover
	// directory; each round costs about 4 s of the lock's half-second waits.
	for round := range 5 {
		dir := t.TempDir()
		lock := filepath.Join(dir, "lock")
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
		if _, err := os.Stat(lock); !os.IsNotExist(err) {
			t.Fatalf("round %d: the lock is still there after every run ended (%v)", round, err)
		}
	}
}
