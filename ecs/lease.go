package ecs

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	ecssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecsnet/ecsnet/schema"
)

// Leases keep two applies of one fleet from interleaving their changes.
// ECS has no compare-and-swap, so a lease is built from tags on a resource
// every fleet has: the primary ENI of the fleet's first instance by name.
// Each contender writes its own tag, LeaseTagPrefix+holder, whose value is
// the lease's expiry, and then reads the tags back: it holds the lease only
// if no other unexpired lease tag is there. Two contenders that write at
// the same time both see each other and both back off (the caller retries
// after a random delay), but two can never both win: each reads after it
// writes, so the later reader always sees the earlier writer's tag.
//
// A holder that dies keeps its tag until the expiry passes; the next
// contender then removes it. A live holder renews well before expiry. A
// holder that died on the contender's own machine is known dead at once
// (the tag records its process: leaseholder.go) and its tag is removed
// without waiting for the expiry.
//
// The expiry is written with the writer's clock and read with the
// reader's. A writer whose clock is ahead would write an expiry that,
// read with the reader's clock, lies further out than the TTL: a lease
// "expiring" 10 minutes out with a TTL of 2. So the reader caps the expiry
// at the TTL (recorded in the tag) measured with its own clock from when
// it first saw the tag's current value (leaseSightings): a holder that
// stops renewing loses the lease at most one TTL after a contender starts
// watching, whatever the clocks say. A writer whose clock is behind by
// more than the time between its renewals (a third of the TTL with the
// CLI's schedule) could still lose a live lease to a contender; its next
// renewal then finds its tag gone and it stops (ErrLeaseLost).

// LeaseTagPrefix begins the tag key of every lease. The key ends with the
// holder; the value is the expiry, RFC 3339 in UTC.
const LeaseTagPrefix = "ecsnet:lease:"

// actUntagResources is the API action that removes tags.
const actUntagResources = "UntagResources"

// Lease is the right to change one fleet until Expires, held by Holder.
// It is not safe for concurrent use.
type Lease struct {
	c        *Client
	fleet    string
	eniID    string
	key      string
	ttl      time.Duration
	since    time.Time
	renewals int
	proc     process
	Holder   string
	Expires  time.Time
	// Cleared lists the leases of other holders that taking this one
	// removed: dead on this machine, or expired.
	Cleared []ClearedLease
}

// ClearedLease is another holder's lease that AcquireLease removed.
type ClearedLease struct {
	LeaseRecord
	// Dead is set when the holder ran on this machine and its process is
	// gone; otherwise its lease had expired.
	Dead bool
}

// LeaseHeldError says that another holder has the fleet's lease.
type LeaseHeldError struct {
	Fleet  string
	ENIID  string // the ENI that carries the lease tag
	Holder string
	// Expires is when the holder's lease lapses unless renewed, by this
	// machine's clock (at most its TTL after the tag's value was first
	// seen); zero when the tag's value is not a time (someone edited it:
	// it never lapses).
	Expires time.Time
	// Record is what the tag says about the holder.
	Record LeaseRecord
	// Here is set when the holder is a process running on this machine.
	Here bool
	// Ahead is how much further out the tag's expiry lies than its TTL
	// allows, by this machine's clock: the holder's clock is that far
	// ahead (or the tag was edited). 0 when it is not.
	Ahead time.Duration
}

func (e *LeaseHeldError) Error() string {
	who := e.Holder
	if d := e.Record.Describe(); d != "" {
		where := ""
		if e.Here {
			where = " on this machine"
		}
		who += " (" + d + where + ")"
	}
	until := "with an unreadable expiry; if no apply is running, break it with ecsnet unlock " + e.Holder + " PATH..."
	if !e.Expires.IsZero() {
		until = "until " + e.Expires.UTC().Format(time.RFC3339) + " unless renewed (a crashed holder's lease lapses then)"
		if e.Ahead > 0 {
			until += "; its tag says " + e.Record.Expires.UTC().Format(time.RFC3339) +
				", " + e.Ahead.Round(time.Second).String() + " beyond its TTL: the holder's clock is ahead of this machine's"
		}
	}
	return fmt.Sprintf("fleet %s is being changed by %s: it holds the lease on ENI %s %s", e.Fleet, who, e.ENIID, until)
}

// ErrLeaseLost is returned by Renew when the lease expired or another
// contender removed it.
var ErrLeaseLost = errors.New("the lease was lost")

// ErrNoLeaseResource is returned by AcquireLease when the fleet names no
// instance that exists, so there is nothing to hold a lease on.
var ErrNoLeaseResource = errors.New("no resource to hold the lease on")

var holderPattern = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,100}$`)

// AcquireLease takes the fleet's lease for holder, valid for ttl. When
// another unexpired holder has it, the error is a *LeaseHeldError; the
// caller may wait and try again. Expired leases of other holders are
// removed on the way. It costs one DescribeInstances, two
// DescribeNetworkInterfaces and one TagResources call (plus an
// UntagResources to clear expired leases or to back off).
func (c *Client) AcquireLease(ctx context.Context, f *schema.Fleet, holder string, ttl time.Duration) (*Lease, error) {
	return c.acquireLease(ctx, f, holder, ttl, leaseSightings{})
}

// acquireLease is AcquireLease for a contender that has been watching the
// lease tags (seen) since an earlier attempt.
func (c *Client) acquireLease(ctx context.Context, f *schema.Fleet, holder string, ttl time.Duration, seen leaseSightings) (*Lease, error) {
	if !holderPattern.MatchString(holder) {
		return nil, fmt.Errorf("ecs lease: holder %q must be 1-100 letters, digits and ._@-", holder)
	}
	if ttl < time.Second {
		return nil, fmt.Errorf("ecs lease: TTL %s is shorter than a second", ttl)
	}
	eniID, err := c.leaseENI(ctx, f)
	if err != nil {
		return nil, err
	}
	l := &Lease{c: c, fleet: f.Name, eniID: eniID, key: LeaseTagPrefix + holder, ttl: ttl, Holder: holder,
		since: c.now().UTC().Truncate(time.Second), proc: thisProcess()}

	leases, err := c.readLeases(ctx, eniID)
	if err != nil {
		return nil, err
	}
	now := c.now()
	var stale []ClearedLease
	if held := l.other(leases, now, seen, &stale); held != nil {
		return nil, held
	}
	if err := c.removeStale(ctx, eniID, stale); err != nil {
		return nil, err
	}
	l.Cleared = stale
	if err := l.write(ctx); err != nil {
		return nil, err
	}
	// Read back: if another contender wrote meanwhile, both back off.
	leases, err = c.readLeases(ctx, eniID)
	if err != nil {
		l.Release(context.WithoutCancel(ctx))
		return nil, err
	}
	if held := l.other(leases, c.now(), seen, nil); held != nil {
		if err := l.Release(context.WithoutCancel(ctx)); err != nil {
			return nil, fmt.Errorf("%w; and removing our own lease tag failed: %w", held, err)
		}
		return nil, held
	}
	if _, ok := leases[l.key]; !ok {
		return nil, fmt.Errorf("ecs lease: the lease tag written on %s is not there when read back", eniID)
	}
	return l, nil
}

// Renew extends the lease by its TTL from now. It returns an error
// wrapping ErrLeaseLost if the lease's tag is gone or its expiry has
// passed: another apply may have taken the fleet, and the caller must
// stop changing it.
func (l *Lease) Renew(ctx context.Context) error {
	leases, err := l.c.readLeases(ctx, l.eniID)
	if err != nil {
		return err
	}
	v, ok := leases[l.key]
	if !ok {
		return fmt.Errorf("ecs lease: %w: the tag %s is gone from %s", ErrLeaseLost, l.key, l.eniID)
	}
	// Our own tag, so our own clock: the expiry is what write computed.
	if exp := parseLeaseRecord(l.key, v).Expires; exp.IsZero() || !l.c.now().Before(exp) {
		return fmt.Errorf("ecs lease: %w: it expired at %s before it was renewed", ErrLeaseLost, v)
	}
	l.renewals++
	return l.write(ctx)
}

// Release removes the lease's tag. Releasing twice is harmless.
func (l *Lease) Release(ctx context.Context) error {
	if err := l.c.UntagResources(ctx, []string{l.eniID}, []string{l.key}); err != nil {
		return fmt.Errorf("ecs lease: release: %w", err)
	}
	return nil
}

// ENIID returns the ID of the ENI that carries the lease's tag.
func (l *Lease) ENIID() string { return l.eniID }

// write sets the lease's tag to an expiry TTL from now, rounded up to the
// second, with who holds it (leaseholder.go).
func (l *Lease) write(ctx context.Context) error {
	exp := l.c.now().Add(l.ttl).UTC().Truncate(time.Second).Add(time.Second)
	r := LeaseRecord{Expires: exp, TTL: l.ttl, Since: l.since, PID: l.proc.pid, Start: l.proc.start,
		Machine: l.proc.machine, Renewals: l.renewals}
	if err := l.c.TagResources(ctx, []string{l.eniID}, map[string]string{l.key: r.String()}); err != nil {
		if IsCode(err, "OperationDenied.QuotaExceed") {
			return fmt.Errorf("ecs lease: ENI %s carries too many tags to take a lease tag: %w", l.eniID, err)
		}
		return fmt.Errorf("ecs lease: %w", err)
	}
	l.Expires = exp
	return nil
}

// other returns the live lease of another holder (the one with the
// latest expiry, then the first by name), or nil. Expired ones, and those
// of holders dead on this machine, are added to stale, if it is not nil.
func (l *Lease) other(leases map[string]string, now time.Time, seen leaseSightings, stale *[]ClearedLease) *LeaseHeldError {
	return judgeLeases(l.fleet, l.eniID, l.key, l.proc, leases, now, seen, stale)
}

// judgeLeases is Lease.other for any contender: self is its own tag key
// ("" for none), proc its process.
func judgeLeases(fleet, eniID, self string, proc process, leases map[string]string, now time.Time, seen leaseSightings, stale *[]ClearedLease) *LeaseHeldError {
	var held *LeaseHeldError
	keys := make([]string, 0, len(leases))
	for k := range leases {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == self {
			continue
		}
		r := parseLeaseRecord(k, leases[k])
		if proc.deadHere(r) {
			if stale != nil {
				*stale = append(*stale, ClearedLease{LeaseRecord: r, Dead: true})
			}
			continue
		}
		exp, ahead := seen.expiry(k, leases[k], r, now)
		if !exp.IsZero() && !now.Before(exp) {
			if stale != nil {
				*stale = append(*stale, ClearedLease{LeaseRecord: r})
			}
			continue
		}
		h := &LeaseHeldError{Fleet: fleet, ENIID: eniID, Holder: r.Holder, Expires: exp, Record: r,
			Here: proc.aliveHere(r), Ahead: ahead}
		if held == nil || (!held.Expires.IsZero() && (h.Expires.IsZero() || h.Expires.After(held.Expires))) {
			held = h
		}
	}
	return held
}

// leaseSightings remembers when one contender first saw each lease tag's
// current value, by its own clock. A holder rewrites its value at every
// renewal, so a value seen unchanged for its TTL belongs to a holder that
// stopped renewing, whatever the expiry in it says.
type leaseSightings map[string]sighting

type sighting struct {
	value string
	at    time.Time
}

// expiry returns when the lease of tag key (value, parsed as r) lapses by
// this contender's clock: its expiry, but no later than its TTL (plus the
// second write rounds up by) after the value was first seen. ahead is how
// much later the written expiry was; 0 when it was not.
func (s leaseSightings) expiry(key, value string, r LeaseRecord, now time.Time) (exp time.Time, ahead time.Duration) {
	if r.Expires.IsZero() || r.TTL <= 0 {
		return r.Expires, 0
	}
	first, ok := s[key]
	if !ok || first.value != value {
		first = sighting{value: value, at: now}
		s[key] = first
	}
	limit := first.at.Add(r.TTL + time.Second)
	if !r.Expires.After(limit) {
		return r.Expires, 0
	}
	// A second or two is a read that lagged or clocks a little apart:
	// capped, but not worth a word about clocks.
	if d := r.Expires.Sub(limit); d > 2*time.Second {
		ahead = d
	}
	return limit, ahead
}

// removeStale removes the tags of leases that are not held (their
// holder died on this machine, or they expired) from the ENI that carries
// them; with none, it makes no call.
func (c *Client) removeStale(ctx context.Context, eniID string, stale []ClearedLease) error {
	if len(stale) == 0 {
		return nil
	}
	keys := make([]string, len(stale))
	for i, s := range stale {
		keys[i] = LeaseTagPrefix + s.Holder
	}
	if err := c.UntagResources(ctx, []string{eniID}, keys); err != nil {
		return fmt.Errorf("ecs lease: remove the leases of holders that are gone: %w", err)
	}
	return nil
}

// leaseENI returns the primary ENI of the fleet's first instance by name.
func (c *Client) leaseENI(ctx context.Context, f *schema.Fleet) (string, error) {
	if f == nil || len(f.Instances) == 0 {
		return "", fmt.Errorf("ecs lease: %w: the fleet names no instance", ErrNoLeaseResource)
	}
	first := f.Instances[0]
	for _, in := range f.Instances[1:] {
		if in.Name < first.Name {
			first = in
		}
	}
	got, err := c.DescribeInstances(ctx, []string{first.ID})
	if err != nil {
		return "", fmt.Errorf("ecs lease: %w", err)
	}
	if len(got) != 1 || got[0].PrimaryENI == "" {
		return "", fmt.Errorf("ecs lease: %w: instance %s (%s) was not found", ErrNoLeaseResource, first.ID, first.Name)
	}
	return got[0].PrimaryENI, nil
}

// readLeases returns the lease tags on an ENI, key to value.
func (c *Client) readLeases(ctx context.Context, eniID string) (map[string]string, error) {
	got, err := c.DescribeNetworkInterfaces(ctx, ENIQuery{IDs: []string{eniID}})
	if err != nil {
		return nil, fmt.Errorf("ecs lease: %w", err)
	}
	if len(got) != 1 {
		return nil, fmt.Errorf("ecs lease: %w: ENI %s is gone", ErrNoLeaseResource, eniID)
	}
	out := map[string]string{}
	for k, v := range got[0].Tags {
		if strings.HasPrefix(k, LeaseTagPrefix) {
			out[k] = v
		}
	}
	return out, nil
}

// UntagResources removes tags, by key, from ENIs, 50 ENIs a call. A key
// the ENI does not carry is no error, so removing twice is harmless.
func (c *Client) UntagResources(ctx context.Context, eniIDs []string, keys []string) error {
	switch {
	case len(eniIDs) == 0 || len(keys) == 0:
		return errors.New("ecs UntagResources: ENI IDs and tag keys are required")
	case len(keys) > tagsPerCall:
		return fmt.Errorf("ecs UntagResources: %d tag keys, the API takes at most %d", len(keys), tagsPerCall)
	}
	for chunk := range slices.Chunk(eniIDs, resourcesPerTag) {
		err := c.run(ctx, actUntagResources, func(cn *conn) error {
			req := ecssdk.CreateUntagResourcesRequest()
			req.ResourceType = "eni"
			req.ResourceId = ptr(slices.Clone(chunk))
			req.TagKey = ptr(slices.Clone(keys))
			_, err := cn.ecs.UntagResources(req)
			return err
		}, nil)
		if err != nil {
			return err
		}
	}
	return nil
}
