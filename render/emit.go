package render

import "net/netip"

// The emitters write the syntax of a format, so that a renderer reads as
// the file it makes: one call per line, the structure (sections, nesting,
// list items) named rather than spelled in string literals. They append
// to a text, whose methods format values without fmt or an intermediate
// string. Per file they cost somewhat more than literal byte appends
// (BenchmarkFormats), too little for a whole render to show
// (BenchmarkRender20k/ForHost, where the apply script dominates).

// keyed writes "key<sep>value" lines at an indentation: the part of a
// line every emitter shares.
type keyed struct {
	text
	indent string // written before each key
	sep    string // between a key and its value: "=" or ": "
	inline bool   // the next key follows a YAML list item's "- " on its line
}

// lead starts a line: its indentation, unless a list item's "- " did.
func (e *keyed) lead() {
	if e.inline {
		e.inline = false
	} else if e.indent != "" {
		e.b = append(e.b, e.indent...)
	}
}

func (e *keyed) key(k string) {
	e.lead()
	e.b = append(e.b, k...)
	e.b = append(e.b, e.sep...)
}

// set writes a key whose value is the concatenation of v.
func (e *keyed) set(k string, v ...string) {
	e.key(k)
	e.str(v...)
	e.byte('\n')
}

func (e *keyed) setInt(k string, n int) {
	e.key(k)
	e.int(n)
	e.byte('\n')
}

func (e *keyed) setAddr(k string, a netip.Addr) {
	e.key(k)
	e.addr(a)
	e.byte('\n')
}

func (e *keyed) setPrefix(k string, p netip.Prefix) {
	e.key(k)
	e.prefix(p)
	e.byte('\n')
}

func (e *keyed) setCIDR(k string, a netip.Addr, bits int) {
	e.key(k)
	e.cidr(a, bits)
	e.byte('\n')
}

// ini writes the syntax systemd.syntax(7) and NetworkManager's keyfiles
// share: "[Section]" headers, a blank line before every section but the
// first, and "Key=value" lines. A value made of several parts (a
// NetworkManager route) is written between key and end with text's
// methods.
type ini struct {
	keyed
	sections int
}

func newINI(size int) *ini { return &ini{keyed: keyed{text: text{b: make([]byte, 0, size)}, sep: "="}} }

func (w *ini) section(name string) {
	if w.sections > 0 {
		w.byte('\n')
	}
	w.sections++
	w.b = append(w.b, '[')
	w.b = append(w.b, name...)
	w.b = append(w.b, "]\n"...)
}

// keyN starts the line of a numbered key (address1=, routing-rule2=).
func (w *ini) keyN(k string, n int) {
	w.str(k)
	w.int(n)
	w.byte('=')
}

// end ends a line started with key or keyN.
func (w *ini) end() { w.byte('\n') }

// yaml writes block-style YAML: mappings opened under a key and closed
// when done, lists of scalars or of mappings, and comments at the current
// indentation, two spaces a level. Values are plain scalars: only
// addresses, numbers and validated names reach it (see checkHost); a MAC
// is quoted by the caller, as netplan's documentation writes it.
type yaml struct {
	keyed
	depth int
}

func newYAML(size int) *yaml {
	return &yaml{keyed: keyed{text: text{b: make([]byte, 0, size)}, sep: ": "}}
}

// spaces holds the indentation of the deepest level a renderer may use
// (eight; netplan's drop-in goes five deep).
const spaces = "                "

func (y *yaml) setDepth(d int) {
	y.depth = d
	y.indent = spaces[:2*d]
}

// open writes "key:" and nests what follows under it, until close.
func (y *yaml) open(k string) {
	y.lead()
	y.str(k, ":\n")
	y.setDepth(y.depth + 1)
}

func (y *yaml) close() { y.setDepth(y.depth - 1) }

// comment writes one comment line, the concatenation of parts, at the
// current indentation.
func (y *yaml) comment(parts ...string) {
	y.str(y.indent, "# ")
	y.str(parts...)
	y.byte('\n')
}

// item starts a list entry that is a mapping: its first key follows the
// "- " and the others align with it, until close.
func (y *yaml) item() {
	y.str(y.indent, "- ")
	y.inline = true
	y.setDepth(y.depth + 1)
}

// itemCIDR writes a list entry that is an address with its prefix length.
func (y *yaml) itemCIDR(a netip.Addr, bits int) {
	y.str(y.indent, "- ")
	y.cidr(a, bits)
	y.byte('\n')
}
