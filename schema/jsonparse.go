package schema

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 200

// parseJSON decodes strict JSON into a node tree, keeping the line and
// column of every value and rejecting duplicate keys, which encoding/json
// silently accepts (the last one wins).
func parseJSON(file string, src []byte) (*node, Errors) {
	p := &jsonParser{file: file, src: src, line: 1, lineStart: 0}
	if len(src) >= 3 && src[0] == 0xef && src[1] == 0xbb && src[2] == 0xbf {
		return nil, Errors{{Pos: p.pos(), Msg: "invalid JSON: the file starts with a byte-order mark",
			Hint: "save the file as UTF-8 without a byte-order mark (BOM)"}}
	}
	p.skipSpace()
	n := p.value(0)
	if p.err == nil {
		p.skipSpace()
		if p.off < len(p.src) {
			p.fail("unexpected %s after the top-level value", p.tokenDesc())
		}
	}
	if p.err != nil {
		return nil, Errors{p.err}
	}
	return n, p.dups
}

type jsonParser struct {
	file      string
	src       []byte
	off       int
	line      int
	lineStart int
	err       *Error
	dups      Errors
	// stack leads from the root to the value being parsed, for the path of
	// a duplicate key: a key, or a list whose next index is being parsed.
	stack []frame
}

type frame struct {
	key  string
	list *node
}

func (p *jsonParser) path() path {
	var out path
	for _, f := range p.stack {
		if f.list != nil {
			out = out.index(len(f.list.elems))
		} else {
			out = out.field(f.key)
		}
	}
	return out
}

func (p *jsonParser) pos() Pos {
	return Pos{File: p.file, Line: p.line, Col: p.off - p.lineStart + 1}
}

func (p *jsonParser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = &Error{Pos: p.pos(), Msg: "invalid JSON: " + fmt.Sprintf(format, args...),
			Hint: "fix the syntax at this position (a JSON validator such as `jq . FILE` shows the same spot)"}
	}
}

func (p *jsonParser) tokenDesc() string {
	if p.off >= len(p.src) {
		return "end of file"
	}
	r, _ := utf8.DecodeRune(p.src[p.off:])
	return strconv.QuoteRune(r)
}

func (p *jsonParser) skipSpace() {
	for p.off < len(p.src) {
		switch p.src[p.off] {
		case '\n':
			p.off++
			p.line++
			p.lineStart = p.off
		case ' ', '\t', '\r':
			p.off++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) *node {
	if depth > maxDepth {
		p.fail("nesting deeper than %d levels", maxDepth)
		return nil
	}
	if p.off >= len(p.src) {
		p.fail("unexpected end of file, expected a value")
		return nil
	}
	start := p.pos()
	switch c := p.src[p.off]; {
	case c == '{':
		return p.object(depth, start)
	case c == '[':
		return p.list(depth, start)
	case c == '"':
		s, ok := p.str()
		if !ok {
			return nil
		}
		return &node{kind: kString, pos: start, str: s}
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(start)
	default:
		for _, lit := range []struct {
			text string
			k    kind
		}{{"true", kBool}, {"false", kBool}, {"null", kNull}} {
			if strings.HasPrefix(string(p.src[p.off:min(len(p.src), p.off+5)]), lit.text) {
				p.off += len(lit.text)
				return &node{kind: lit.k, pos: start, str: lit.text}
			}
		}
		p.fail("unexpected %s, expected a value", p.tokenDesc())
		return nil
	}
}

func (p *jsonParser) object(depth int, start Pos) *node {
	n := &node{kind: kObject, pos: start}
	p.off++ // {
	p.skipSpace()
	if p.off < len(p.src) && p.src[p.off] == '}' {
		p.off++
		return n
	}
	seen := map[string]Pos{}
	for {
		p.skipSpace()
		if p.off >= len(p.src) || p.src[p.off] != '"' {
			p.fail("unexpected %s, expected a quoted key", p.tokenDesc())
			return nil
		}
		kpos := p.pos()
		key, ok := p.str()
		if !ok {
			return nil
		}
		p.skipSpace()
		if p.off >= len(p.src) || p.src[p.off] != ':' {
			p.fail("unexpected %s, expected ':' after key %q", p.tokenDesc(), key)
			return nil
		}
		p.off++
		p.skipSpace()
		p.stack = append(p.stack, frame{key: key})
		v := p.value(depth + 1)
		p.stack = p.stack[:len(p.stack)-1]
		if v == nil {
			return nil
		}
		if first, dup := seen[key]; dup {
			p.dups = append(p.dups, &Error{Pos: kpos, Path: p.path().field(key).String(), Msg: fmt.Sprintf("duplicate key %q (first at %s)", key, first),
				Hint: "JSON keeps only one of them silently; remove or merge the duplicate", Related: []Pos{first}})
		} else {
			seen[key] = kpos
			n.fields = append(n.fields, field{name: key, pos: kpos, val: v})
		}
		p.skipSpace()
		if p.off >= len(p.src) {
			p.fail("unexpected end of file, expected ',' or '}'")
			return nil
		}
		switch p.src[p.off] {
		case ',':
			p.off++
		case '}':
			p.off++
			return n
		default:
			p.fail("unexpected %s, expected ',' or '}'", p.tokenDesc())
			return nil
		}
	}
}

func (p *jsonParser) list(depth int, start Pos) *node {
	n := &node{kind: kList, pos: start}
	p.off++ // [
	p.skipSpace()
	if p.off < len(p.src) && p.src[p.off] == ']' {
		p.off++
		return n
	}
	for {
		p.skipSpace()
		p.stack = append(p.stack, frame{list: n})
		v := p.value(depth + 1)
		p.stack = p.stack[:len(p.stack)-1]
		if v == nil {
			return nil
		}
		n.elems = append(n.elems, v)
		p.skipSpace()
		if p.off >= len(p.src) {
			p.fail("unexpected end of file, expected ',' or ']'")
			return nil
		}
		switch p.src[p.off] {
		case ',':
			p.off++
		case ']':
			p.off++
			return n
		default:
			p.fail("unexpected %s, expected ',' or ']'", p.tokenDesc())
			return nil
		}
	}
}

func (p *jsonParser) number(start Pos) *node {
	begin := p.off
	if p.src[p.off] == '-' {
		p.off++
	}
	digits := func() int {
		s := p.off
		for p.off < len(p.src) && p.src[p.off] >= '0' && p.src[p.off] <= '9' {
			p.off++
		}
		return p.off - s
	}
	intStart := p.off
	if digits() == 0 {
		p.fail("invalid number")
		return nil
	}
	if p.src[intStart] == '0' && p.off-intStart > 1 {
		p.off = intStart
		p.fail("number with a leading zero")
		return nil
	}
	if p.off < len(p.src) && p.src[p.off] == '.' {
		p.off++
		if digits() == 0 {
			p.fail("invalid number: digits expected after '.'")
			return nil
		}
	}
	if p.off < len(p.src) && (p.src[p.off] == 'e' || p.src[p.off] == 'E') {
		p.off++
		if p.off < len(p.src) && (p.src[p.off] == '+' || p.src[p.off] == '-') {
			p.off++
		}
		if digits() == 0 {
			p.fail("invalid number: digits expected in the exponent")
			return nil
		}
	}
	return &node{kind: kNumber, pos: start, str: string(p.src[begin:p.off])}
}

// str reads a JSON string starting at the opening quote.
func (p *jsonParser) str() (string, bool) {
	p.off++ // opening quote
	// Fast path: most strings (names, addresses, IDs) are plain ASCII with
	// no escapes, and become one allocation instead of a growing buffer.
	for i := p.off; i < len(p.src); i++ {
		c := p.src[i]
		if c == '"' {
			s := string(p.src[p.off:i])
			p.off = i + 1
			return s, true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	var b []byte
	for {
		if p.off >= len(p.src) {
			p.fail("unterminated string")
			return "", false
		}
		c := p.src[p.off]
		switch {
		case c == '"':
			p.off++
			return string(b), true
		case c == '\\':
			if p.off+1 >= len(p.src) {
				p.fail("unterminated string")
				return "", false
			}
			e := p.src[p.off+1]
			p.off += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", false
				}
				if utf16.IsSurrogate(r) {
					if p.off+1 < len(p.src) && p.src[p.off] == '\\' && p.src[p.off+1] == 'u' {
						p.off += 2
						r2, ok := p.hex4()
						if !ok {
							return "", false
						}
						r = utf16.DecodeRune(r, r2)
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				p.off -= 2
				p.fail("invalid escape \\%c in string", e)
				return "", false
			}
		case c < 0x20:
			p.fail("control character in string (escape it, e.g. \\n)")
			return "", false
		case c < utf8.RuneSelf:
			b = append(b, c)
			p.off++
		default:
			r, size := utf8.DecodeRune(p.src[p.off:])
			if r == utf8.RuneError && size == 1 {
				p.fail("invalid UTF-8 in string")
				return "", false
			}
			b = append(b, p.src[p.off:p.off+size]...)
			p.off += size
		}
	}
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.off+4 > len(p.src) {
		p.fail("invalid \\u escape")
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.src[p.off:p.off+4]), 16, 32)
	if err != nil {
		p.fail("invalid \\u escape")
		return 0, false
	}
	p.off += 4
	return rune(v), true
}
