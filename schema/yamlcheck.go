package schema

import (
	"bytes"
	"fmt"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
	"cuelang.org/go/encoding/yaml"
)

// yamlOctals refuses integers written with a leading zero ("010"). YAML
// 1.1, which many tools still speak, reads them as octal, so
// `secondaryIpCount: 010` means 8 to the YAML decoder and 10 to a reader;
// the file is ambiguous, so it is refused. YAML 1.2's explicit 0o10 is
// not ambiguous and stays accepted. The literal is then read as the
// decimal number it looks like, so that the checks that follow do not
// complain about the octal value nobody meant.
func yamlOctals(f *ast.File, src []byte) Errors {
	var errs Errors
	ast.Walk(f, func(n ast.Node) bool {
		l, ok := n.(*ast.BasicLit)
		if !ok || l.Kind != token.INT {
			return true
		}
		off := l.Pos().Offset()
		if off < 0 || off+1 >= len(src) || src[off] != '0' || src[off+1] < '0' || src[off+1] > '9' {
			return true
		}
		text := src[off:]
		end := 1
		for end < len(text) && text[end] >= '0' && text[end] <= '9' {
			end++
		}
		digits := string(text[:end])
		l.Value = trimZeros(digits)
		p := posOf(l.Pos())
		if prev := len(errs); prev > 0 && errs[prev-1].Pos == p {
			return true // an alias repeats the anchored value's position
		}
		errs = append(errs, &Error{Pos: p, Msg: fmt.Sprintf("invalid YAML: %s has a leading zero, which YAML 1.1 reads as an octal number", digits),
			Hint: fmt.Sprintf("write the number without leading zeros (%s), or 0o%s if you mean octal", trimZeros(digits), digits[1:])})
		return true
	}, nil)
	return errs
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

// yamlDuplicates reports keys repeated in one YAML mapping, at the second
// key. dataNode does the same for plain data; a file that needs the CUE
// evaluator (a hex number is enough) would otherwise have its two
// mappings merged by unification, where other YAML tools keep one.
func yamlDuplicates(f *ast.File) Errors {
	var errs Errors
	check := func(decls []ast.Decl) {
		seen := map[string]Pos{}
		for _, d := range decls {
			fd, ok := d.(*ast.Field)
			if !ok {
				continue
			}
			name, ok := labelName(fd.Label)
			if !ok {
				continue
			}
			p := posOf(fd.Label.Pos())
			if first, dup := seen[name]; dup {
				errs = append(errs, &Error{Pos: p, Msg: fmt.Sprintf("duplicate key %q (first at %s)", name, first),
					Hint: "YAML allows a key once per mapping; remove or merge the duplicate", Related: []Pos{first}})
				continue
			}
			seen[name] = p
		}
	}
	ast.Walk(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.File:
			check(n.Decls)
		case *ast.StructLit:
			check(n.Elts)
		}
		return true
	}, nil)
	return errs
}

// yamlExpansion bounds what a YAML file's aliases expand to. Each alias is
// a copy of its anchor's value, so a few kilobytes of anchors aliased by
// anchors expand to gigabytes; the YAML decoder caps the number of nodes
// an alias may produce, but not their size (one long string aliased fifty
// thousand times). The expanded document, counted as JSON would write it,
// may be no larger than the input cap: as large as a file could be written
// out without aliases. It returns the position of the value where the
// budget ran out, and false, when the expansion is too large.
func yamlExpansion(f *ast.File, budget int64) (Pos, bool) {
	var used int64
	var at Pos
	ast.Walk(f, func(n ast.Node) bool {
		if used > budget {
			return false
		}
		switch n := n.(type) {
		case *ast.BasicLit:
			used += int64(len(n.Value)) + 1
		case *ast.Field:
			used += 4 // quotes, colon, comma around a label counted below
		case *ast.Ident:
			used += int64(len(n.Name))
		case *ast.StructLit, *ast.ListLit:
			used += 2
		}
		if used > budget {
			at = posOf(n.Pos())
			return false
		}
		return true
	}, nil)
	return at, used <= budget
}

// maxYAMLBisect bounds the input whose breaking line yamlProblemLine finds
// by bisection, which parses about 2·log2(lines) prefixes of the file: a
// quarter of a second for 256 KiB. Beyond it only the indentation scan is
// tried, which parses two prefixes.
const maxYAMLBisect = 256 << 10

// yamlProblemLine finds the line that breaks a YAML file. The YAML
// decoder reports a parse error at the start of the block it was parsing
// (a mapping that starts 13 lines above a mis-indented key), not at the
// line that broke it. That line is the first whose prefix of the file
// fails with the same error as the whole file: the lines before it parse,
// or fail differently (cut inside a value). from is the line the decoder
// reported; the search starts there. The first line whose indentation
// breaks the blocks above it is tried first; failing that, small files are
// bisected. It returns the line and the column of its first character, and
// false when it cannot tell.
func yamlProblemLine(name string, src []byte, full string, from int) (line, col int, ok bool) {
	// ends[i] is the offset just past line i+1's newline.
	var ends []int
	for i, b := range src {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(src) {
		ends = append(ends, len(src))
	}
	lineAt := func(k int) []byte {
		start := 0
		if k > 1 {
			start = ends[k-2]
		}
		return src[start:ends[k-1]]
	}
	fails := func(k int) bool { // the first k lines fail as the file does
		if k < 1 {
			return false
		}
		_, err := yaml.Extract(name, src[:ends[k-1]])
		return err != nil && err.Error() == full
	}
	at := func(k int) (int, int, bool) {
		col := 1 + len(lineAt(k)) - len(bytes.TrimLeft(lineAt(k), " "))
		return k, col, true
	}
	from = max(from, 1)
	if from > len(ends) {
		return 0, 0, false
	}
	if k := yamlIndentBreak(lineAt, from, len(ends)); k > 0 && fails(k) && !fails(k-1) {
		return at(k)
	}
	if len(src) > maxYAMLBisect || !fails(len(ends)) {
		return 0, 0, false
	}
	lo, hi := from, len(ends)
	for lo < hi {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return at(hi)
}

// yamlIndentBreak returns the first line from line from on whose
// indentation breaks the block structure above it, or 0: a tab in the
// indentation, a line indented deeper than the line before it when that
// line opens no block, or a line dedented to a column where no open block
// starts. It reads lines only, not YAML; yamlProblemLine confirms its
// answer with the parser.
func yamlIndentBreak(lineAt func(int) []byte, from, n int) int {
	var open []int // the indentation of the enclosing blocks, innermost last
	prev, opens, scalar := -1, false, false
	for k := from; k <= n; k++ {
		l := bytes.TrimRight(lineAt(k), "\r\n")
		body := bytes.TrimLeft(l, " ")
		ind := len(l) - len(body)
		if len(bytes.TrimSpace(body)) == 0 || body[0] == '#' {
			continue
		}
		if body[0] == '\t' {
			return k
		}
		if scalar && ind > prev {
			continue // the text of a block scalar (| or >)
		}
		scalar = false
		switch {
		case prev < 0:
			open = append(open, ind)
		case ind > prev && !opens:
			return k
		case ind > prev:
			open = append(open, ind)
		case ind < prev:
			for len(open) > 0 && open[len(open)-1] > ind {
				open = open[:len(open)-1]
			}
			if len(open) > 0 && open[len(open)-1] != ind {
				return k
			}
		}
		// A sequence entry's content ("- id: x") is a block one column
		// deeper than its dash.
		if bytes.HasPrefix(body, []byte("- ")) {
			inner := bytes.TrimLeft(body[2:], " ")
			if len(open) == 0 || open[len(open)-1] != ind {
				open = append(open, ind)
			}
			ind += len(body) - len(inner)
			open = append(open, ind)
			body = inner
		}
		text := body
		if i := bytes.Index(text, []byte(" #")); i >= 0 {
			text = text[:i]
		}
		text = bytes.TrimRight(text, " ")
		opens = bytes.HasSuffix(text, []byte(":")) || bytes.Equal(text, []byte("-"))
		scalar = bytes.HasSuffix(text, []byte("|")) || bytes.HasSuffix(text, []byte(">")) ||
			bytes.HasSuffix(text, []byte("|-")) || bytes.HasSuffix(text, []byte(">-"))
		prev = ind
	}
	return 0
}
