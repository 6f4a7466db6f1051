package schema

import (
	"fmt"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
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
