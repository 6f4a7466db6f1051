package ecs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"
)

// This file says who holds a lease, in the tag's value, and judges
// whether a holder on this machine is still running.
//
// A lease tag's value is its expiry (RFC 3339, UTC) followed by fields:
//
//	2026-12-07T01:23:45Z ttl=120 since=2026-12-07T01:20:00Z pid=4242 start=2006253 m=0f1e2d3c4b5a n=3
//
// ttl is the lease's lifetime in seconds, so that a contender can measure
// it with its own clock (the expiry is the writer's clock, see
// leaseSightings); since is when the holder took the lease; pid and start
// are the holder's process ID and its start time (clock ticks after boot,
// /proc/PID/stat), which tell a dead holder from a live one and a reused
// process ID from the holder's; m identifies the machine and process ID
// namespace the pid is valid in (a hash of the boot ID and the PID
// namespace, so no host detail leaves the machine but its name, which the
// holder already carries); n counts renewals, so that every renewal
// changes the value. Releases before these fields wrote the expiry alone;
// such a value still parses, with the fields unknown. The value stays
// within the 128 characters a tag value may have.

// LeaseRecord is what a lease tag says about its holder.
type LeaseRecord struct {
	Holder string // the tag key after LeaseTagPrefix: the lease's ID
	// Expires is when the lease lapses unless renewed, by its writer's
	// clock; zero when the value is not a time (someone edited it).
	Expires time.Time
	// TTL is the lease's lifetime between renewals; 0 when not recorded.
	TTL time.Duration
	// Since is when the holder took the lease; zero when not recorded.
	Since time.Time
	// PID and Start are the holder's process ID and start time (clock
	// ticks after boot); 0 when not recorded.
	PID   int
	Start uint64
	// Machine identifies the boot and PID namespace PID belongs to; ""
	// when not recorded (for example, on a system without /proc).
	Machine string
	// Renewals counts the renewals that wrote this value.
	Renewals int
}

// String formats the record as a tag value.
func (r LeaseRecord) String() string {
	var b strings.Builder
	b.WriteString(r.Expires.UTC().Format(time.RFC3339))
	if r.TTL > 0 {
		fmt.Fprintf(&b, " ttl=%d", int64((r.TTL+time.Second-1)/time.Second))
	}
	if !r.Since.IsZero() {
		b.WriteString(" since=" + r.Since.UTC().Format(time.RFC3339))
	}
	if r.PID > 0 {
		fmt.Fprintf(&b, " pid=%d", r.PID)
	}
	if r.Start > 0 {
		fmt.Fprintf(&b, " start=%d", r.Start)
	}
	if r.Machine != "" {
		b.WriteString(" m=" + r.Machine)
	}
	fmt.Fprintf(&b, " n=%d", r.Renewals)
	return b.String()
}

// parseLeaseRecord reads a lease tag. A field it does not know is skipped,
// so that a later release may add one; a value whose first field is not a
// time leaves Expires zero.
func parseLeaseRecord(key, value string) LeaseRecord {
	r := LeaseRecord{Holder: strings.TrimPrefix(key, LeaseTagPrefix)}
	fields := strings.Fields(value)
	if len(fields) == 0 {
		return r
	}
	if t, err := time.Parse(time.RFC3339, fields[0]); err == nil {
		r.Expires = t
	}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "ttl":
			if n, err := strconv.ParseInt(v, 10, 32); err == nil && n > 0 {
				r.TTL = time.Duration(n) * time.Second
			}
		case "since":
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				r.Since = t
			}
		case "pid":
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				r.PID = n
			}
		case "start":
			if n, err := strconv.ParseUint(v, 10, 64); err == nil {
				r.Start = n
			}
		case "m":
			r.Machine = v
		case "n":
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				r.Renewals = n
			}
		}
	}
	return r
}

// Describe says who holds the lease and since when, for messages: "pid
// 4242, since 2026-12-07T01:20:00Z"; "" when the tag records neither.
func (r LeaseRecord) Describe() string {
	var parts []string
	if r.PID > 0 {
		parts = append(parts, "pid "+strconv.Itoa(r.PID))
	}
	if !r.Since.IsZero() {
		parts = append(parts, "since "+r.Since.UTC().Format(time.RFC3339))
	}
	return strings.Join(parts, ", ")
}

// process identifies this process for a lease record.
type process struct {
	pid     int
	start   uint64
	machine string
}

// thisProcess returns this process's identity. On a system without
// /proc, start and machine stay empty, and no holder is ever judged dead
// by its process (only by its lease's TTL).
func thisProcess() process {
	p := process{pid: os.Getpid()}
	start, err := procStart("self")
	if err != nil {
		return p
	}
	m, err := machineID()
	if err != nil {
		return p
	}
	p.start, p.machine = start, m
	return p
}

// machineID hashes the boot ID and the PID namespace: two processes with
// the same machineID see the same process IDs. A hash, not the boot ID
// itself, goes into the tag: it identifies nothing outside the machine.
func machineID() (string, error) {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", err
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(string(boot)) + " " + ns))
	return hex.EncodeToString(sum[:6]), nil
}

// errNoProcess says that a process is not running (or is a zombie).
var errNoProcess = errors.New("no such process")

// procStart returns a process's start time in clock ticks after boot
// (field 22 of /proc/PID/stat), or errNoProcess when it is not running.
func procStart(pid string) (uint64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, errNoProcess
	}
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces
	// and parentheses itself: the fields after it follow the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%s/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so field 22 is f[19].
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%s/stat: %d fields", pid, len(f)+2)
	}
	if f[0] == "Z" || f[0] == "X" {
		return 0, errNoProcess
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// deadHere reports whether the record's holder ran on this machine (the
// same boot and PID namespace) and is no longer running: its process ID
// is gone, or now belongs to a process started at another time. A holder
// on another machine, or one that did not record its process, is never
// judged dead here: only its lease's TTL ends it.
func (p process) deadHere(r LeaseRecord) bool {
	if p.machine == "" || r.Machine != p.machine || r.PID <= 0 || r.Start == 0 {
		return false
	}
	start, err := procStart(strconv.Itoa(r.PID))
	switch {
	case errors.Is(err, errNoProcess):
		return true
	case err != nil:
		return false // unreadable: not proven dead
	}
	return start != r.Start
}

// aliveHere reports whether the record's holder is a process running on
// this machine.
func (p process) aliveHere(r LeaseRecord) bool {
	if p.machine == "" || r.Machine != p.machine || r.PID <= 0 || r.Start == 0 {
		return false
	}
	start, err := procStart(strconv.Itoa(r.PID))
	return err == nil && start == r.Start
}
