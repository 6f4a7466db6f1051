package schema

import (
	"strconv"
	"strings"
)

// node is a decoded input value with the position of every piece. JSON,
// YAML and CUE inputs all become node trees, so the structural and
// semantic checks run on one representation and point at the user's file.
type node struct {
	kind   kind
	pos    Pos
	str    string // string value; literal text of a number; "true"/"false"
	fields []field
	elems  []*node
}

type field struct {
	name string
	pos  Pos // position of the label
	val  *node
}

type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kObject
	kList
	kBytes // a CUE bytes literal: never valid in a fleet
)

func (n *node) lookup(name string) *field {
	for i := range n.fields {
		if n.fields[i].name == name {
			return &n.fields[i]
		}
	}
	return nil
}

// describe renders a scalar for messages, short enough for one line.
func (n *node) describe() string {
	switch n.kind {
	case kString:
		s := n.str
		if len(s) > 60 {
			s = s[:57] + "..."
		}
		return strconv.Quote(s)
	case kObject:
		return "a struct"
	case kList:
		return "a list"
	case kBytes:
		return "the bytes literal '" + n.str + "' (write strings in double quotes)"
	}
	return n.str
}

// path is a CUE-style path into the document, built as checks descend.
type path []string

func (p path) field(name string) path {
	q := make(path, len(p), len(p)+1)
	copy(q, p)
	return append(q, name)
}

func (p path) index(i int) path {
	q := make(path, len(p), len(p)+1)
	copy(q, p)
	return append(q, "["+strconv.Itoa(i)+"]")
}

// String renders the path as CUE does: identifiers bare, other labels
// quoted, list indexes in brackets.
func (p path) String() string {
	var b strings.Builder
	for i, s := range p {
		switch {
		case strings.HasPrefix(s, "["):
			b.WriteString(s)
			continue
		case i > 0:
			b.WriteByte('.')
		}
		if isIdent(s) {
			b.WriteString(s)
		} else {
			b.WriteString(strconv.Quote(s))
		}
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r == '$' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}
