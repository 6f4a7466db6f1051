package ecs

import (
	"context"
	"maps"
	"sync"
	"time"
)

// RateLimit is a client-side token bucket for one action: PerMinute calls
// a minute on average, with bursts of up to Burst calls. PerMinute <= 0
// means no limit. Burst <= 0 means Burst = PerMinute, as Terway does.
type RateLimit struct {
	PerMinute int
	Burst     int
}

// DefaultRateLimits returns the per-action limits a Client uses unless
// Config.RateLimits overrides them. The figures are Terway's field-tested
// per-minute defaults (AliyunContainerService/terway
// pkg/aliyun/client/ratelimit.go; anchors.md §2), not official quotas.
// Actions Terway has no figure for take its fallback of 500 a minute
// (DescribeInstances, ModifyNetworkInterfaceAttribute, TagResources, and
// RunCommand / DescribeInvocationResults, whose Cloud Assistant budget is
// separate and generous).
func DefaultRateLimits() map[string]RateLimit {
	return map[string]RateLimit{
		actCreateENI:             {PerMinute: 500},
		actAttach:                {PerMinute: 500},
		actDeleteENI:             {PerMinute: 500},
		actDetach:                {PerMinute: 400},
		actAssign:                {PerMinute: 400},
		actUnassign:              {PerMinute: 400},
		actAssignIPv6:            {PerMinute: 400}, // as AssignPrivateIpAddresses: Terway has no figure of its own
		actUnassignIPv6:          {PerMinute: 400},
		actDescribeENIs:          {PerMinute: 800},
		actDescribeInstanceTypes: {PerMinute: 400},
		actDescribeVSwitches:     {PerMinute: 300},
		actDescribeInstances:     {PerMinute: defaultPerMinute},
		actModifyENI:             {PerMinute: defaultPerMinute},
		actTagResources:          {PerMinute: defaultPerMinute},
		actRunCommand:            {PerMinute: defaultPerMinute},
		actDescribeInvocations:   {PerMinute: defaultPerMinute},
		actDescribeENIAttribute:  {PerMinute: defaultPerMinute},
	}
}

// defaultPerMinute is Terway's fallback for actions without a figure.
const defaultPerMinute = 500

// limiter holds one token bucket per action. The map is built once in New
// and only read afterwards; each bucket locks itself.
type limiter struct {
	buckets map[string]*bucket
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
}

type bucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

func newLimiter(overrides map[string]RateLimit, now func() time.Time, sleep func(context.Context, time.Duration) error) *limiter {
	limits := DefaultRateLimits()
	maps.Copy(limits, overrides)
	l := &limiter{buckets: make(map[string]*bucket, len(limits)), now: now, sleep: sleep}
	start := now()
	for action, rl := range limits {
		if rl.PerMinute <= 0 {
			continue
		}
		burst := rl.Burst
		if burst <= 0 {
			burst = rl.PerMinute
		}
		l.buckets[action] = &bucket{rate: float64(rl.PerMinute) / 60, burst: float64(burst), tokens: float64(burst), last: start}
	}
	return l
}

// wait takes a token for action, waiting while the bucket is empty. It
// returns early with the context's error.
func (l *limiter) wait(ctx context.Context, action string) error {
	b := l.buckets[action]
	if b == nil {
		return ctx.Err()
	}
	for {
		d := b.take(l.now())
		if d <= 0 {
			return nil
		}
		if err := l.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// take removes a token if there is one and returns 0, or returns how long
// until there will be one.
func (b *bucket) take(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.burst, b.tokens+el.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return max(time.Millisecond, time.Duration((1-b.tokens)/b.rate*float64(time.Second)))
}
