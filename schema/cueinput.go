package schema

import (
	"bytes"
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
	// One look-up in the file's line table, not one per field.
	q := p.Position()
	return Pos{File: q.Filename, Line: q.Line, Col: q.Column}
}

// cueErrors converts CUE errors to ours, pointing at the user's files
// rather than at CUE's internals. Errors without a position in the user's
// files (an incomplete value, say) are placed with find, when given.
func cueErrors(err error, files map[string]bool, find func(path []string) Pos) Errors {
	var out Errors
	for _, e := range cueerrors.Errors(err) {
		format, args := e.Msg()
		ce := &Error{Msg: fmt.Sprintf(format, args...)}
		if ce.Msg == "" {
			ce.Msg = e.Error()
		}
		for _, p := range cueerrors.Positions(e) {
			pp := posOf(p)
			if !ce.Pos.IsValid() && files[pp.File] {
				ce.Pos = pp
			} else if pp.IsValid() && files[pp.File] {
				ce.Related = append(ce.Related, pp)
			}
		}
		var p path
		var labels []string
		for _, s := range cueerrors.Path(e) {
			if u, err := strconv.Unquote(s); err == nil {
				s = u // CUE quotes labels that are not identifiers
			}
			labels = append(labels, s)
			if n, err := strconv.Atoi(s); err == nil {
				p = p.index(n)
			} else {
				p = p.field(s)
			}
		}
		ce.Path = p.String()
		if !ce.Pos.IsValid() && find != nil {
			ce.Pos = find(labels)
		}
		ce.Hint = cueHint(ce.Msg)
		out = append(out, ce)
	}
	return out
}

// cueHint says what to do about the CUE evaluator's common complaints.
func cueHint(msg string) string {
	switch {
	case strings.Contains(msg, "conflicting values"):
		return "files and fields are combined as CUE unifies them: a value may be repeated but not changed; keep one of the two"
	case strings.Contains(msg, "not found") && strings.Contains(msg, "reference"):
		return "define the name, or quote the value if you meant a string"
	case strings.Contains(msg, "incomplete value") || strings.Contains(msg, "non-concrete"):
		return "the fleet must evaluate to data: pick one value (a disjunction, a type or a bound is not a value)"
	}
	return "the fleet must evaluate to concrete data; `cue eval FILE...` shows the same"
}

func parseCUEFile(name string, src []byte) (*ast.File, Errors) {
	f, err := parser.ParseFile(name, src, parser.ParseComments)
	if err != nil {
		es := cueErrors(err, map[string]bool{name: true}, nil)
		for _, e := range es {
			e.Msg = "invalid CUE: " + e.Msg
			e.Hint = "fix the syntax at this position (`cue fmt FILE` reports the same)"
		}
		return nil, es
	}
	// Only the standard library may be imported: an import path whose
	// first element has a dot names a module, which ecsnet never fetches.
	var es Errors
	for spec := range f.ImportSpecs() {
		ip, err := literal.Unquote(spec.Path.Value)
		if err != nil {
			continue
		}
		first, _, _ := strings.Cut(ip, "/")
		if first == "tool" {
			// The tool/ packages (exec, file, http, os, cli) are for
			// cue cmd's workflows; the evaluator cannot run them and
			// would report the failure inside CUE's own library.
			es = append(es, &Error{Pos: posOf(spec.Path.Pos()), Msg: fmt.Sprintf("import %q: the tool/ packages are not allowed in a desired state", ip),
				Hint: "a desired state is data: it cannot run commands or read files; remove the import and write the values into the fleet's files"})
			continue
		}
		if strings.Contains(first, ".") {
			es = append(es, &Error{Pos: posOf(spec.Path.Pos()), Msg: fmt.Sprintf("import %q is not from CUE's standard library", ip),
				Hint: "only standard-library packages (net, strings, list, ...) can be imported; ecsnet never fetches modules: put what you need into the fleet's own files"})
		}
	}
	if len(es) > 0 {
		return nil, es
	}
	return f, nil
}

func parseYAMLFile(name string, src []byte, maxBytes int64) (*ast.File, Errors) {
	f, err := yaml.Extract(name, src)
	if err != nil {
		// The YAML decoder's errors carry their position only in the text:
		// "file:line: message".
		msg := err.Error()
		pos := Pos{File: name, Line: 1, Col: 1}
		if rest, ok := strings.CutPrefix(msg, name+":"); ok {
			if ln, m, ok := strings.Cut(rest, ": "); ok {
				if n, err := strconv.Atoi(ln); err == nil {
					pos.Line, msg = n, m
				}
			}
		}
		hint := "fix the YAML at or just before this line (tabs may not indent YAML)"
		// The decoder's line is where the block it was parsing starts;
		// an alias expanding too far is not a syntax error and keeps it.
		if pos.Line > 0 && !strings.Contains(msg, "alias") {
			if ln, col, ok := yamlProblemLine(name, src, err.Error(), pos.Line); ok && ln != pos.Line {
				pos.Line, pos.Col = ln, col
				hint = "fix the YAML on this line"
				if strings.Contains(msg, "expected key") || strings.Contains(msg, "indentation") || strings.Contains(msg, "mapping values are not allowed") {
					hint = "fix this line's indentation: the keys of one mapping start in the same column, and tabs may not indent YAML"
				}
			}
		}
		return nil, Errors{{Pos: pos, Msg: "invalid YAML: " + msg, Hint: hint}}
	}
	for _, d := range f.Decls {
		if e, ok := d.(*ast.EmbedDecl); ok {
			if l, ok := e.Expr.(*ast.ListLit); ok {
				return nil, Errors{{Pos: Pos{File: name, Line: 1, Col: 1}, Msg: fmt.Sprintf("the YAML file holds %d documents", len(l.Elts)),
					Hint: "put the whole fleet in one YAML document (remove the --- separators), or split it into several files"}}
			}
		}
	}
	// Only an alias (*name) makes the document larger than its text.
	if bytes.IndexByte(src, '*') >= 0 {
		if at, ok := yamlExpansion(f, maxBytes); !ok {
			if !at.IsValid() {
				at = Pos{File: name, Line: 1, Col: 1}
			}
			return nil, Errors{{Pos: at, Msg: fmt.Sprintf("the YAML aliases expand to more than the %s input cap", size(maxBytes)),
				Hint: "each *alias is a full copy of its &anchor's value: write the values out, or use fewer aliases; raise the cap with --max-input-size if the fleet really is this large"}}
		}
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
			_, err := strconv.ParseFloat(strings.TrimPrefix(x.Value, yamlBigNumber), 64)
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

// The YAML decoder renders an integer too large for 64 bits as a float
// literal reading "number & 99999999999999999999"; it is still a number,
// and should reach the range check as one.
const yamlBigNumber = "number & "

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
	// at is where the conversion is, for error messages: a stack of
	// labels and list indexes (-1 for a label), made into a path only
	// when an error needs one. Building a path for every value cost two
	// allocations for each of a large fleet's 660,000 addresses.
	at []pathElem
}

type pathElem struct {
	name string
	idx  int
}

// path returns where the conversion is, with name appended.
func (c *converter) path(name string) path {
	var p path
	for _, e := range c.at {
		if e.idx >= 0 {
			p = p.index(e.idx)
		} else {
			p = p.field(e.name)
		}
	}
	return p.field(name)
}

func (c *converter) expr(x ast.Node) *node {
	switch x := x.(type) {
	case *ast.File:
		return c.fields(posOf(x.Pos()), x.Decls)
	case *ast.StructLit:
		return c.fields(posOf(x.Pos()), x.Elts)
	case *ast.ListLit:
		n := &node{kind: kList, pos: posOf(x.Pos()), elems: make([]*node, 0, len(x.Elts))}
		for i, e := range x.Elts {
			c.at = append(c.at, pathElem{idx: i})
			n.elems = append(n.elems, c.expr(e))
			c.at = c.at[:len(c.at)-1]
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
			n.str = strings.TrimPrefix(n.str, yamlBigNumber)
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
	// index keeps the merge of repeated labels linear: the instances and
	// enis structs of a large fleet have tens of thousands of fields.
	var index map[string]int
	if len(decls) > 16 {
		index = make(map[string]int, len(decls))
	}
	lookup := func(name string) *field {
		if index == nil {
			return n.lookup(name)
		}
		if i, ok := index[name]; ok {
			return &n.fields[i]
		}
		return nil
	}
	for _, d := range decls {
		f, ok := d.(*ast.Field)
		if !ok {
			continue
		}
		name, _ := labelName(f.Label)
		c.at = append(c.at, pathElem{name: name, idx: -1})
		v := c.expr(f.Value)
		c.at = c.at[:len(c.at)-1]
		lp := posOf(f.Label.Pos())
		if prev := lookup(name); prev != nil {
			if c.yaml {
				c.errs = append(c.errs, &Error{Pos: lp, Path: c.path(name).String(), Msg: fmt.Sprintf("duplicate key %q (first at %s)", name, prev.pos),
					Hint: "YAML allows a key once per mapping; remove or merge the duplicate", Related: []Pos{prev.pos}})
				continue
			}
			prev.val = unify(prev.val, v, c.path(name), &c.errs)
			continue
		}
		if index != nil {
			index[name] = len(n.fields)
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
		index := make(map[string]int, len(out.fields))
		for i, f := range out.fields {
			index[f.name] = i
		}
		for _, f := range b.fields {
			if i, ok := index[f.name]; ok {
				out.fields[i].val = unify(out.fields[i].val, f.val, p.field(f.name), errs)
				continue
			}
			index[f.name] = len(out.fields)
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

// evaluateHere runs the CUE evaluator over every input (needed as soon as
// one file is more than plain data), unifies them, and converts the result
// to a node tree of at most maxBytes (counted as JSON would write it).
func evaluateHere(inputs []*input, maxBytes int64) (*node, Errors) {
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
				return nil, cueErrors(err, files, nil)
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
		find := func(labels []string) Pos {
			sels := make([]cue.Selector, len(labels))
			for i, l := range labels {
				if n, err := strconv.Atoi(l); err == nil {
					sels[i] = cue.Index(n)
				} else {
					sels[i] = cue.Str(l)
				}
			}
			for k := len(sels); k >= 0; k-- {
				if p := posOf(v.LookupPath(cue.MakePath(sels[:k]...)).Pos()); p.IsValid() {
					return p
				}
			}
			return Pos{File: inputs[0].name}
		}
		return nil, cueErrors(err, files, find)
	}
	c := &valueConv{budget: maxBytes}
	n := c.node(v, 0)
	if c.budget < 0 {
		return nil, Errors{{Pos: c.at, Msg: fmt.Sprintf("the CUE evaluates to more than the %s input cap", size(maxBytes)),
			Hint: "a comprehension or a list here makes more data than a fleet file may hold; raise the cap with --max-input-size if the fleet really is this large"}}
	}
	return n, nil
}

// valueConv converts an evaluated value to a node tree, counting what it
// makes against a budget of bytes: a few lines of CUE can evaluate to far
// more data than any fleet file holds.
type valueConv struct {
	budget int64
	at     Pos // where the budget ran out
}

func (c *valueConv) node(v cue.Value, depth int) *node {
	if d, ok := v.Default(); ok {
		v = d // cue vet and cue export take a field's default
	}
	n := &node{pos: posOf(v.Pos())}
	if depth > maxDepth || c.budget < 0 {
		return n
	}
	c.budget -= 2
	switch v.Kind() {
	case cue.StructKind:
		n.kind = kObject
		it, _ := v.Fields()
		for it.Next() && c.budget >= 0 {
			fv := it.Value()
			name := it.Selector().Unquoted()
			c.budget -= int64(len(name)) + 4
			n.fields = append(n.fields, field{name: name, pos: posOf(fv.Pos()), val: c.node(fv, depth+1)})
		}
	case cue.ListKind:
		n.kind = kList
		it, _ := v.List()
		for it.Next() && c.budget >= 0 {
			n.elems = append(n.elems, c.node(it.Value(), depth+1))
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
		n.kind = kBytes
		b, _ := v.Bytes()
		n.str = string(b)
	default:
		n.kind = kNull
		n.str = "null"
	}
	c.budget -= int64(len(n.str))
	if c.budget < 0 && !c.at.IsValid() {
		c.at = n.pos
	}
	return n
}
