package schema

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
	cuejson "cuelang.org/go/encoding/json"
	"cuelang.org/go/encoding/yaml"
)

// Splice is an edit of one literal in one desired-state file: the bytes
// the literal takes in Src are replaced by the new literal, and every
// other byte (comments, layout, the other fields, the file's format) stays
// as it was. ecsnet failover uses it to move an ENI in the file that says
// where it goes.
type Splice struct {
	File string // the input file, as the fleet names it (Fleet.Files)
	Src  []byte // the file's bytes when the splice was made
	Out  []byte // the file's bytes with the new literal
	Pos  Pos    // where the old literal starts
	Path string // the field, e.g. enis."vip".attachTo
	Old  string // the value the literal spells now
	New  string // the value the new literal spells
}

// SpliceAttachTo returns the edit that sets ENI eni's attachTo to
// instance in the file and at the position where the loader found the
// value (ENI.AttachToPos). It reads that file again and refuses, with an
// *Error at the field's file:line:col, unless the value there is one
// literal of the ENI's own field: enis: NAME: attachTo: "lb-1" in CUE,
// JSON or YAML (any nesting of plain fields), written nowhere else in the
// file. A reference, an expression, a default (*"lb-1" | ...), a YAML
// anchor or alias, or a value that only a definition or a comprehension
// supplies is refused: changing what the position holds would change
// more than this ENI, or nothing at all. The new value is not checked
// here: reload the edited bytes (LoadSpliced) before writing them.
func SpliceAttachTo(f *Fleet, eni, instance string) (*Splice, error) {
	x := f.ENI(eni)
	if x == nil {
		return nil, fmt.Errorf("the desired state has no ENI %q (it has %s)", eni, strings.Join(eniNames(f), ", "))
	}
	path := fmt.Sprintf("enis.%q.attachTo", eni)
	// spell writes the name unescaped: only a DNS label is safe to.
	if !ValidName(instance) {
		return nil, fmt.Errorf("%q is not an instance name (a DNS label), so ENI %s cannot be attached to it", instance, eni)
	}
	if !x.Bound() {
		return nil, Errors{{Pos: x.Pos, Path: fmt.Sprintf("enis.%q", eni), Msg: "the ENI has no attachTo: it is unbound, so there is nothing to fail over",
			Hint: fmt.Sprintf("to attach it, add attachTo: %q to the ENI in the file and run ecsnet apply", instance)}}
	}
	pos := x.AttachToPos
	refuse := func(msg string) error {
		return Errors{{Pos: pos, Path: path, Msg: msg,
			Hint: fmt.Sprintf("write the instance's name as one literal in the ENI's own field, attachTo: %q, commit it, and fail over again; or edit the file by hand and run ecsnet apply", x.AttachTo)}}
	}
	if !pos.IsValid() || pos.File == "-" || !slices.Contains(f.Files, pos.File) {
		return nil, refuse("the value's position is not in a file ecsnet can edit (standard input, or a value the evaluator made)")
	}
	src, err := os.ReadFile(pos.File)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", pos.File, unwrapPathErr(err))
	}
	syn, _ := syntaxOf(pos.File)
	lits, err := literalsAt(pos, src, syn)
	if err != nil {
		return nil, refuse(fmt.Sprintf("the file no longer parses (%v); was it changed since it was loaded?", err))
	}
	want := []string{"enis", eni, "attachTo"}
	switch {
	case len(lits) == 0:
		return nil, refuse(fmt.Sprintf("attachTo is not one literal here (a reference, an expression or a default): the value %q comes from elsewhere", x.AttachTo))
	case len(lits) > 1:
		return nil, refuse("this literal is used in more than one place (a YAML anchor and its aliases, or a merge key), so changing it would move more than this ENI")
	case !slices.Equal(lits[0].path, want):
		from := "field " + strings.Join(lits[0].path, ".")
		if slices.Contains(lits[0].path, "\x00") {
			from = "a definition, a pattern, a comprehension or an embedded value"
		}
		return nil, refuse(fmt.Sprintf("attachTo is not one literal in the ENI's own field: its value %q comes from %s, which may set more than this ENI", x.AttachTo, from))
	case lits[0].value != x.AttachTo:
		return nil, refuse(fmt.Sprintf("the file now says %q here, not %q; was it changed since it was loaded?", lits[0].value, x.AttachTo))
	}
	start := lits[0].offset
	end, style, ok := literalEnd(src, start, x.AttachTo, syn)
	if !ok {
		return nil, refuse(fmt.Sprintf("the literal is not written as plain %q (escapes, a raw or multi-line string)", x.AttachTo))
	}
	var out bytes.Buffer
	out.Grow(len(src) + len(instance))
	out.Write(src[:start])
	out.WriteString(spell(instance, style))
	out.Write(src[end:])
	return &Splice{File: pos.File, Src: src, Out: out.Bytes(), Pos: pos, Path: path, Old: x.AttachTo, New: instance}, nil
}

func eniNames(f *Fleet) []string {
	names := make([]string, len(f.ENIs))
	for i, e := range f.ENIs {
		names[i] = e.Name
	}
	return names
}

// A literal found at a position: its byte offset, the labels of the
// plain fields that lead to it ("\x00" stands for anything that is not a
// plain field: a definition, a comprehension, an embedding, a pattern),
// and its value.
type literalAt struct {
	offset int
	path   []string
	value  string
}

// literalsAt parses src and returns every string literal that is a
// field's whole value and starts at pos, or whose field's label does. A YAML alias repeats its anchor's
// nodes, so a literal reached through one is found twice.
func literalsAt(pos Pos, src []byte, syn syntax) ([]literalAt, error) {
	var root ast.Node
	switch syn {
	case syntaxJSON:
		x, err := cuejson.Extract(pos.File, src)
		if err != nil {
			return nil, err
		}
		root = x
	case syntaxYAML:
		f, err := yaml.Extract(pos.File, src)
		if err != nil {
			return nil, err
		}
		root = f
	default:
		f, err := parser.ParseFile(pos.File, src)
		if err != nil {
			return nil, err
		}
		root = f
	}
	var out []literalAt
	var stack []ast.Node
	at := func(p token.Pos) bool {
		q := p.Position()
		return q.Line == pos.Line && q.Column == pos.Col
	}
	ast.Walk(root, func(n ast.Node) bool {
		stack = append(stack, n)
		// The position is the literal's where the file is plain data,
		// and may be its field's label where the evaluator ran.
		lit, ok := n.(*ast.BasicLit)
		path := stack
		if f, isField := n.(*ast.Field); isField && at(f.Label.Pos()) {
			lit, ok = f.Value.(*ast.BasicLit)
			path = append(slices.Clip(stack), f.Value)
		} else if ok && !at(lit.Pos()) {
			return true
		}
		if !ok || lit.Kind != token.STRING {
			return true
		}
		labels, isValue := fieldPath(path)
		if !isValue {
			return true // a label, or part of an expression: no field's whole value
		}
		v, err := literal.Unquote(lit.Value)
		if err != nil {
			return true
		}
		out = append(out, literalAt{offset: lit.Pos().Offset(), path: labels, value: v})
		return true
	}, func(ast.Node) { stack = stack[:len(stack)-1] })
	return out, nil
}

// fieldPath returns the labels that lead from the root to the last node
// of stack, and whether that node is a field's whole value. Only plain
// fields and their struct values keep the path plain: any other node on
// the way (a definition or hidden field, an alias, a comprehension, an
// embedded value, a let, a pattern constraint, an optional field) puts
// "\x00" into it.
func fieldPath(stack []ast.Node) ([]string, bool) {
	if len(stack) < 2 {
		return nil, false
	}
	leaf := stack[len(stack)-1]
	if parent, ok := stack[len(stack)-2].(*ast.Field); !ok || parent.Value != leaf {
		return nil, false
	}
	var path []string
	for i, n := range stack[:len(stack)-1] {
		switch n := n.(type) {
		case *ast.File:
		case *ast.StructLit:
			if i == 0 {
				break // a JSON document's root
			}
			if f, ok := stack[i-1].(*ast.Field); !ok || f.Value != n {
				path = append(path, "\x00")
			}
		case *ast.Field:
			name, _, err := ast.LabelName(n.Label)
			_, aliased := n.Label.(*ast.Alias)
			if err != nil || name == "" || aliased || n.Alias != nil || n.Constraint != token.ILLEGAL ||
				strings.HasPrefix(name, "#") || strings.HasPrefix(name, "_") {
				name = "\x00"
			}
			path = append(path, name)
		default:
			path = append(path, "\x00")
		}
	}
	return path, true
}

// Literal styles: how the old literal was spelt, so the new one is spelt
// the same way.
const (
	styleDouble = iota // "lb-1": CUE, JSON, YAML
	styleSingle        // 'lb-1': YAML
	stylePlain         // lb-1: YAML
)

// literalEnd returns where the literal spelling value at src[start:]
// ends, and its style. It accepts only the plain spellings of value (no
// escapes, no raw or multi-line strings), so that the span is exactly the
// literal.
func literalEnd(src []byte, start int, value string, syn syntax) (end, style int, ok bool) {
	rest := src[start:]
	if q := `"` + value + `"`; bytes.HasPrefix(rest, []byte(q)) {
		return start + len(q), styleDouble, true
	}
	if syn != syntaxYAML {
		return 0, 0, false
	}
	if q := `'` + value + `'`; bytes.HasPrefix(rest, []byte(q)) {
		return start + len(q), styleSingle, true
	}
	if !bytes.HasPrefix(rest, []byte(value)) {
		return 0, 0, false
	}
	// A plain scalar ends at the end of the line, at " #" (a comment),
	// or at a flow collection's , ] }; trailing blanks are not part of it.
	after := rest[len(value):]
	trimmed := bytes.TrimLeft(after, " \t")
	switch {
	case len(trimmed) == 0, trimmed[0] == '\n', trimmed[0] == '\r':
	case trimmed[0] == '#' && len(trimmed) < len(after):
	case len(trimmed) == len(after) && strings.IndexByte(",]}", after[0]) >= 0:
	default:
		return 0, 0, false
	}
	return start + len(value), stylePlain, true
}

// yamlNotPlain lists the plain YAML scalars (case-insensitive) that some
// YAML reader takes for a boolean or null rather than a string (YAML 1.1
// and 1.2 both): a name spelt like one is double-quoted.
var yamlNotPlain = []string{"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"}

// spell writes value as a literal in style. Names are DNS labels, so
// quoting never needs an escape.
func spell(value string, style int) string {
	switch style {
	case styleSingle:
		return `'` + value + `'`
	case stylePlain:
		if !slices.Contains(yamlNotPlain, strings.ToLower(value)) {
			return value
		}
	}
	return `"` + value + `"`
}

// LoadSpliced loads the desired state from paths as LoadContext does,
// with s applied to its file: the edited bytes are checked exactly as
// the file would be, before anything is written. The file must still
// hold s.Src.
func LoadSpliced(ctx context.Context, paths []string, opts LoadOptions, s *Splice) (*Fleet, error) {
	inputs, errs := read(ctx, paths, opts)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("loading the desired state: %w", context.Cause(ctx))
	}
	if len(errs) > 0 {
		return nil, errs.Sort()
	}
	found := false
	for _, in := range inputs {
		if in.name != s.File {
			continue
		}
		if !bytes.Equal(in.src, s.Src) {
			return nil, fmt.Errorf("%s changed while ecsnet was editing it; run the command again", s.File)
		}
		in.src = s.Out
		found = true
	}
	if !found {
		return nil, fmt.Errorf("%s is not one of the desired state's files", s.File)
	}
	return loadInputs(ctx, inputs, opts)
}
