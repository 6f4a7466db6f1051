package schema

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Pos is a position in a user's input file. Line and Col are 1-based; the
// zero Pos means "no position known".
type Pos struct {
	File string
	Line int
	Col  int
}

// IsValid reports whether p names a place in a file.
func (p Pos) IsValid() bool { return p.File != "" && p.Line > 0 }

// String formats p as file:line:col, the form editors and CI annotators
// understand.
func (p Pos) String() string {
	if !p.IsValid() {
		if p.File != "" {
			return p.File
		}
		return "-"
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Compare orders positions by file, line and column.
func (p Pos) Compare(q Pos) int {
	return cmp.Or(cmp.Compare(p.File, q.File), cmp.Compare(p.Line, q.Line), cmp.Compare(p.Col, q.Col))
}

// Error is one problem found in the desired state: where it is, which value
// it concerns, what is wrong and how to fix it.
type Error struct {
	Pos     Pos    // the user's file:line:col
	Path    string // CUE-style path, e.g. instances."web-1".primary.secondaryIps[2]
	Msg     string // what is wrong, lower case, no trailing period
	Hint    string // what to do about it; may be empty
	Related []Pos  // other positions involved (the first duplicate, the other side of a conflict)
	// FleetWide marks rules that span the fleet (duplicates, quotas summed
	// over many ENIs, capacity). They are Go-only; everything else is also
	// expressed by the published CUE schema.
	FleetWide bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is a list of problems. Load returns every problem it finds in one
// run, sorted by position.
type Errors []*Error

func (es Errors) Error() string {
	switch len(es) {
	case 0:
		return "no errors"
	case 1:
		return es[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", es[0].Error(), len(es)-1)
}

// Err returns es as an error, or nil when es is empty.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Sort orders es by file, line, column, path and message, and drops exact
// repeats, so output is stable whatever order the checks ran in.
func (es Errors) Sort() Errors {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(a.Pos.Compare(b.Pos), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Msg, b.Msg))
	})
	return slices.CompactFunc(es, func(a, b *Error) bool {
		return a.Pos == b.Pos && a.Path == b.Path && a.Msg == b.Msg
	})
}

// maxMsgBytes caps one error's message. Messages quote the user's values,
// and a value can be megabytes long (a 60 MiB fleet name, a CUE error
// that prints a whole evaluated list): the message keeps its start and
// says how much was cut.
const maxMsgBytes = 1 << 10

// truncate shortens e's path, message and hint to maxMsgBytes each.
func (e *Error) truncate() {
	e.Path = truncateText(e.Path)
	e.Msg = truncateText(e.Msg)
	e.Hint = truncateText(e.Hint)
}

func truncateText(s string) string {
	if len(s) <= maxMsgBytes {
		return s
	}
	cut := maxMsgBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut-- // never split a UTF-8 sequence
	}
	return fmt.Sprintf("%s... (%d bytes cut)", s[:cut], len(s)-cut)
}
