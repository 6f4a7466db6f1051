package ecs

import (
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestLeaseRecordValue: a lease tag's value round-trips, stays within the
// 128 characters a tag value may have with every field at its widest, and
// a value written by an earlier release (the expiry alone) still reads,
// with its holder's fields unknown.
func TestLeaseRecordValue(t *testing.T) {
	exp := time.Date(2026, 12, 7, 1, 23, 45, 0, time.UTC)
	r := LeaseRecord{Holder: "h-1-aa", Expires: exp, TTL: 2 * time.Minute, Since: exp.Add(-time.Hour), PID: 4194304,
		Start: 18446744073709551615, Machine: "0f1e2d3c4b5a", Renewals: 2147483647}
	v := r.String()
	if n := utf8.RuneCountInString(v); n > 128 {
		t.Errorf("value %q has %d characters, more than 128", v, n)
	}
	if got := parseLeaseRecord(LeaseTagPrefix+"h-1-aa", v); got != r {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, r)
	}
	old := parseLeaseRecord(LeaseTagPrefix+"old", "2026-12-07T01:23:45Z")
	if want := (LeaseRecord{Holder: "old", Expires: exp}); old != want {
		t.Errorf("an earlier release's value: %+v, want %+v", old, want)
	}
	if got := parseLeaseRecord(LeaseTagPrefix+"x", "edited by hand"); !got.Expires.IsZero() {
		t.Errorf("an edited value has an expiry: %+v", got)
	}
}

// TestLeaseProcess: this process is alive here; the same record with
// another start time (its process ID reused) or a process ID that does
// not exist is dead here; the same record from another machine is
// neither.
func TestLeaseProcess(t *testing.T) {
	p := thisProcess()
	if p.machine == "" {
		t.Skip("no /proc: holders are judged by TTL only")
	}
	me := LeaseRecord{PID: p.pid, Start: p.start, Machine: p.machine}
	if !p.aliveHere(me) || p.deadHere(me) {
		t.Errorf("this process: alive %v, dead %v", p.aliveHere(me), p.deadHere(me))
	}
	reused := me
	reused.Start++
	gone := me
	gone.PID = 1 << 30 // above pid_max's limit (2^22)
	for name, r := range map[string]LeaseRecord{"reused": reused, "gone": gone} {
		if !p.deadHere(r) || p.aliveHere(r) {
			t.Errorf("%s: dead %v, alive %v", name, p.deadHere(r), p.aliveHere(r))
		}
		r.Machine = strings.Repeat("0", len(p.machine))
		if p.deadHere(r) || p.aliveHere(r) {
			t.Errorf("%s on another machine: dead %v, alive %v", name, p.deadHere(r), p.aliveHere(r))
		}
	}
	if p.pid != os.Getpid() {
		t.Errorf("pid %d, want %d", p.pid, os.Getpid())
	}
}
