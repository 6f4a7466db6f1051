package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// The access key the benchmarks' emulators accept. It is not a secret:
// the emulator runs in this process, on loopback.
const (
	benchKeyID     = "LTAI5tBenchtableKey01"
	benchKeySecret = "benchtable-emulator-only"
)

// emu is an emulator served on loopback by this process.
type emu struct {
	*emulator.Server
	url   string
	close func()
}

func startEmulator(w *emulator.World, opts emulator.Options) (*emu, error) {
	w.AccessKeys = []emulator.AccessKey{{AccessKeyId: benchKeyID, AccessKeySecret: benchKeySecret}}
	s, err := emulator.New(w, opts)
	if err != nil {
		return nil, err
	}
	hs := httptest.NewServer(s)
	return &emu{Server: s, url: hs.URL, close: hs.Close}, nil
}

// clientEnv is the environment a child ecsnet needs to call the emulator,
// and nothing of the developer's own configuration.
func clientEnv() []string {
	return []string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + benchKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + benchKeySecret,
		"ALIBABA_CLOUD_SECURITY_TOKEN=",
		"ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true",
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED=true",
	}
}

func benchCredentials() ecs.Credentials {
	return ecs.Credentials{AccessKeyID: benchKeyID, AccessKeySecret: benchKeySecret}
}

// retries counts the client's retries by action and cause, from the
// client's log: every retried call logs "ecs call retried".
type retries struct {
	mu        sync.Mutex
	byAction  map[string]int
	throttled map[string]int
}

func newRetries() *retries {
	return &retries{byAction: map[string]int{}, throttled: map[string]int{}}
}

func (r *retries) logger() *slog.Logger { return slog.New(r) }

func (r *retries) Enabled(context.Context, slog.Level) bool { return true }
func (r *retries) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *retries) WithGroup(string) slog.Handler            { return r }

func (r *retries) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message != "ecs call retried" {
		return nil
	}
	var action, text string
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "action":
			action = a.Value.String()
		case "error":
			text = a.Value.String()
		}
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byAction[action]++
	if strings.Contains(text, "Throttling") {
		r.throttled[action]++
	}
	return nil
}

func (r *retries) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.byAction) == 0 {
		return "none"
	}
	var parts []string
	for _, a := range slices.Sorted(maps.Keys(r.byAction)) {
		parts = append(parts, fmt.Sprintf("%s %d (%d throttled)", a, r.byAction[a], r.throttled[a]))
	}
	return strings.Join(parts, ", ")
}

func (r *retries) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.byAction {
		n += v
	}
	return n
}

// callsString prints per-action counters in a stable order.
func callsString(m map[string]int) string {
	var parts []string
	for _, a := range slices.Sorted(maps.Keys(m)) {
		if m[a] != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", a, m[a]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
