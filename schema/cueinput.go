package schema

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
	cuejson "cuelang.org/go/encoding/json"
	"cuelang.org/go/encoding/yaml"
)

// An input file, parsed. Plain data (every JSON file, nearly every YAML
// file, and CUE files without references, comprehensions or imports) is
// converted straight to a node tree; anything else is evaluated by CUE.
type input struct {
	name string
	src  []byte
	syn  syntax
	file *ast.File // CUE and YAML
	data *node     // set when the input is plain data
}

type syntax int

const (
	syntaxCUE syntax = iota
	syntaxJSON
	syntaxYAML
)

func posOf(p token.Pos) Pos {
	if !p.IsValid() {
		return Pos{}
	}
	return Pos{File: p.Filename(), Line: p.Line(), Col: p.Column()}
}

// cueErrors converts CUE errors to ours, pointing at the user's files
// rather than at CUE's internals.
func cueErrors(err error, files map[string]bool) Errors {
	var out Errors
	for _, e := range cueerrors.Errors(err) {
		format, args := e.Msg()
		ce := &Error{Msg: fmt.Sprintf(format, args...)}
		for _, p := range cueerrors.Positions(e) {
			pp := posOf(p)
			if !ce.Pos.IsValid() && files[pp.File] {
				ce.Pos = pp
			} else if pp.IsValid() {
				ce.Related = append(ce.Related, pp)
			}
		}
		if !ce.Pos.IsValid() && len(ce.Related) > 0 {
			ce.Pos, ce.Related = ce.Related[0], ce.Related[1:]
		}
		var p path
		for _, s := range cueerrors.Path(e) {
			if _, err := strconv.Atoi(s); err == nil {
				p = p.index(mustAtoi(s))
			} else {
				p = p.field(s)
			}
		}
		ce.Path = p.String()
		out = append(out, ce)
	}
	return out
}

func mustAtoi(s string) int { n, _ := strconv.Atoi(s); return n }

func parseCUEFile(name string, src []byte) (*ast.File, Errors) {
	f, err := parser.ParseFile(name, src, parser.ParseComments)
	if err != nil {
		es := cueErrors(err, map[string]bool{name: true})
		for _, e := range es {
			e.Msg = "invalid CUE: " + e.Msg
			e.Hint = "fix the syntax at this position (`cue fmt FILE` reports the same)"
		}
		return nil, es
	}
	return f, nil
}

func parseYAMLFile(name string, src []byte) (*ast.File, Errors) {
	f, err := yaml.Extract(name, src)
	if err != nil {
		es := cueErrors(err, map[string]bool{name: true})
		for _, e := range es {
			if !e.Pos.IsValid() {
				e.Pos = Pos{File: name}
			}
			e.Msg = "invalid YAML: " + e.Msg
			e.Hint = "fix the syntax at this position"
		}
		return nil, es
	}
	return f, nil
}

// plainData reports whether a CUE or YAML file is literal data: structs,
// lists, strings, decimal numbers, booleans and null, with no references,
// imports, comprehensions, constraints or interpolations. Such files are
// decoded without running the CUE evaluator, which is what keeps large
// fleets fast (cue-notes.md §5).
func plainData(f *ast.File) bool {
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.Package, *ast.CommentGroup, *ast.Attribute:
		case *ast.Field:
			if !plainField(d) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func plainField(f *ast.Field) bool {
	if f.Constraint != token.ILLEGAL {
		return false
	}
	if _, ok := labelName(f.Label); !ok {
		return false
	}
	return plainExpr(f.Value)
}

func plainExpr(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.StructLit:
		for _, d := range x.Elts {
			switch d := d.(type) {
			case *ast.Field:
				if !plainField(d) {
					return false
				}
			case *ast.CommentGroup, *ast.Attribute:
			default:
				return false
			}
		}
		return true
	case *ast.ListLit:
		for _, e := range x.Elts {
			if !plainExpr(e) {
				return false
			}
		}
		return true
	case *ast.BasicLit:
		switch x.Kind {
		case token.STRING:
			return !strings.HasPrefix(x.Value, "'") // bytes literals need evaluation
		case token.INT:
			return isDecimal(x.Value)
		case token.FLOAT:
			_, err := strconv.ParseFloat(x.Value, 64)
			return err == nil
		case token.TRUE, token.FALSE, token.NULL:
			return true
		}
		return false
	case *ast.UnaryExpr:
		b, ok := x.X.(*ast.BasicLit)
		return ok && x.Op == token.SUB && (b.Kind == token.INT && isDecimal(b.Value) || b.Kind == token.FLOAT)
	}
	return false
}

func isDecimal(s string) bool {
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func labelName(l ast.Label) (string, bool) {
	switch l := l.(type) {
	case *ast.Ident:
		if strings.HasPrefix(l.Name, "#") || strings.HasPrefix(l.Name, "_") {
			return "", false // definitions and hidden fields: evaluate
		}
		return l.Name, true
	case *ast.BasicLit:
		if l.Kind != token.STRING {
			return "", false
		}
		s, err := literal.Unquote(l.Value)
		return s, err == nil
	}
	return "", false
}

// dataNode converts plain data to a node tree. In YAML a repeated key is an
// error; in CUE it is unification, so the two values are merged.
func dataNode(x ast.Node, yamlKeys bool) (*node, Errors) {
	c := &converter{yaml: yamlKeys}
	n := c.expr(x)
	return n, c.errs
}

type converter struct {
	yaml bool
	errs Errors
}

func (c *converter) expr(x ast.Node) *node {
	switch x := x.(type) {
	case *ast.File:
		return c.fields(posOf(x.Pos()), x.Decls)
	case *ast.StructLit:
		return c.fields(posOf(x.Pos()), x.Elts)
	case *ast.ListLit:
		n := &node{kind: kList, pos: posOf(x.Pos())}
		for _, e := range x.Elts {
			n.elems = append(n.elems, c.expr(e))
		}
		return n
	case *ast.BasicLit:
		n := &node{pos: posOf(x.Pos()), str: x.Value}
		switch x.Kind {
		case token.STRING:
			n.kind = kString
			s, err := literal.Unquote(x.Value)
			if err != nil {
				c.errs = append(c.errs, &Error{Pos: n.pos, Msg: "invalid string: " + err.Error()})
			}
			n.str = s
		case token.INT, token.FLOAT:
			n.kind = kNumber
		case token.TRUE, token.FALSE:
			n.kind = kBool
		default:
			n.kind = kNull
		}
		return n
	case *ast.UnaryExpr:
		n := c.expr(x.X)
		n.pos = posOf(x.Pos())
		n.str = "-" + n.str
		return n
	}
	return &node{kind: kNull, pos: posOf(x.Pos())}
}

func (c *converter) fields(pos Pos, decls []ast.Decl) *node {
	n := &node{kind: kObject, pos: pos}
	for _, d := range decls {
		f, ok := d.(*ast.Field)
		if !ok {
			continue
		}
		name, _ := labelName(f.Label)
		v := c.expr(f.Value)
		lp := posOf(f.Label.Pos())
		if prev := n.lookup(name); prev != nil {
			if c.yaml {
				c.errs = append(c.errs, &Error{Pos: lp, Msg: fmt.Sprintf("duplicate key %q (first at %s)", name, prev.pos),
					Hint: "YAML allows a key once per mapping; remove or merge the duplicate", Related: []Pos{prev.pos}})
				continue
			}
			prev.val = unify(prev.val, v, nil, &c.errs)
			continue
		}
		n.fields = append(n.fields, field{name: name, pos: lp, val: v})
	}
	return n
}

// unify merges two plain-data trees as CUE unification would: structs merge
// field by field, lists element by element, and scalars must be equal. A
// conflict reports both positions.
func unify(a, b *node, p path, errs *Errors) *node {
	switch {
	case a.kind == kObject && b.kind == kObject:
		out := &node{kind: kObject, pos: a.pos, fields: append([]field(nil), a.fields...)}
		for _, f := range b.fields {
			if prev := out.lookup(f.name); prev != nil {
				prev.val = unify(prev.val, f.val, p.field(f.name), errs)
				continue
			}
			out.fields = append(out.fields, f)
		}
		return out
	case a.kind == kList && b.kind == kList && len(a.elems) == len(b.elems):
		out := &node{kind: kList, pos: a.pos, elems: make([]*node, len(a.elems))}
		for i := range a.elems {
			out.elems[i] = unify(a.elems[i], b.elems[i], p.index(i), errs)
		}
		return out
	case a.kind == b.kind && a.kind != kObject && a.kind != kList && sameScalar(a, b):
		return a
	}
	what := fmt.Sprintf("conflicting values %s and %s", a.describe(), b.describe())
	if a.kind == kList && b.kind == kList {
		what = fmt.Sprintf("conflicting lists of %d and %d elements", len(a.elems), len(b.elems))
	}
	*errs = append(*errs, &Error{Pos: b.pos, Path: p.String(), Msg: fmt.Sprintf("%s (the other is at %s)", what, a.pos),
		Hint: "files are combined as CUE unifies them: a value may be repeated but not changed; keep one of the two", Related: []Pos{a.pos}})
	return a
}

func sameScalar(a, b *node) bool {
	if a.kind != kNumber {
		return a.str == b.str
	}
	x, ok1 := new(big.Float).SetString(a.str)
	y, ok2 := new(big.Float).SetString(b.str)
	return ok1 && ok2 && x.Cmp(y) == 0 || a.str == b.str
}

// evaluate runs the CUE evaluator over every input (needed as soon as one
// file is more than plain data), unifies them, and converts the result to a
// node tree.
func evaluate(inputs []*input) (*node, Errors) {
	ctx := cuecontext.New()
	files := map[string]bool{}
	var v cue.Value
	for i, in := range inputs {
		files[in.name] = true
		var iv cue.Value
		switch in.syn {
		case syntaxJSON:
			expr, err := cuejson.Extract(in.name, in.src)
			if err != nil {
				return nil, cueErrors(err, files)
			}
			iv = ctx.BuildExpr(expr)
		default:
			iv = ctx.BuildFile(in.file)
		}
		if i == 0 {
			v = iv
		} else {
			v = v.Unify(iv)
		}
	}
	if err := v.Validate(cue.Concrete(true)); err != nil {
		es := cueErrors(err, files)
		for _, e := range es {
			if e.Hint == "" {
				e.Hint = "the file must evaluate to concrete data; `cue eval FILE...` shows the same"
			}
		}
		return nil, es
	}
	return valueNode(v, 0), nil
}

func valueNode(v cue.Value, depth int) *node {
	n := &node{pos: posOf(v.Pos())}
	if depth > maxDepth {
		return n
	}
	switch v.Kind() {
	case cue.StructKind:
		n.kind = kObject
		it, _ := v.Fields()
		for it.Next() {
			fv := it.Value()
			n.fields = append(n.fields, field{name: it.Selector().Unquoted(), pos: posOf(fv.Pos()), val: valueNode(fv, depth+1)})
		}
	case cue.ListKind:
		n.kind = kList
		it, _ := v.List()
		for it.Next() {
			n.elems = append(n.elems, valueNode(it.Value(), depth+1))
		}
	case cue.StringKind:
		n.kind = kString
		n.str, _ = v.String()
	case cue.IntKind:
		n.kind = kNumber
		i, _ := v.Int(nil)
		n.str = i.String()
	case cue.FloatKind, cue.NumberKind:
		n.kind = kNumber
		f, _ := v.Float64()
		n.str = strconv.FormatFloat(f, 'g', -1, 64)
	case cue.BoolKind:
		n.kind = kBool
		b, _ := v.Bool()
		n.str = strconv.FormatBool(b)
	case cue.BytesKind:
		n.kind = kString
		b, _ := v.Bytes()
		n.str = string(b)
	default:
		n.kind = kNull
		n.str = "null"
	}
	return n
}
