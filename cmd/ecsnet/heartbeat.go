package main

import (
	"time"

	"github.com/ecsnet/ecsnet/ecs"
)

// tuning holds settings that main leaves at their defaults and tests
// shorten, so that a test of a slow path does not take as long as the
// path does.
type tuning struct {
	// heartbeat, if set, is the interval between "waiting" lines instead
	// of heartbeatEvery's choice.
	heartbeat time.Duration
	// client, if set, adjusts the SDK client's configuration before the
	// client is built (for example its retry jitter).
	client func(*ecs.Config)
}
