package render

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
)

// text builds the bytes of one file. A large fleet's render is mostly
// formatting: fmt's reflection, the growth of unsized builders and the
// copy of a strings.Builder into a []byte took most of its time at 20,000
// hosts. text appends with strconv and netip's Append methods, and bytes
// hands its buffer over without a copy. Only validated values reach it
// (see checkHost); error messages keep using fmt.
type text struct{ b []byte }

// newText returns a text with room for n bytes.
func newText(n int) *text { return &text{b: make([]byte, 0, n)} }

func (t *text) str(ss ...string) {
	for _, s := range ss {
		t.b = append(t.b, s...)
	}
}

func (t *text) byte(c byte) { t.b = append(t.b, c) }

func (t *text) int(n int) { t.b = strconv.AppendInt(t.b, int64(n), 10) }

func (t *text) uint32(n uint32) { t.b = strconv.AppendUint(t.b, uint64(n), 10) }

// addr writes a as netip.Addr.String does.
func (t *text) addr(a netip.Addr) { t.b = a.AppendTo(t.b) }

// rule writes the policy-routing selector of one address of a secondary
// NIC, "from A table T priority P": the form ip-rule(8), rule-ethN and
// wicked's ifrule files share.
func (t *text) rule(a netip.Addr, n NIC) {
	t.str("from ")
	t.addr(a)
	t.str(" table ")
	t.int(n.Table)
	t.str(" priority ")
	t.int(n.Priority)
}

// cidr writes a host address with a prefix length, as cidr does.
func (t *text) cidr(a netip.Addr, bits int) {
	t.addr(a)
	t.byte('/')
	t.int(bits)
}

func (t *text) prefix(p netip.Prefix) { t.b = p.AppendTo(t.b) }

// shq writes s quoted as one bash word, as shq does.
func (t *text) shq(s string) {
	t.byte('\'')
	t.shqText(s)
	t.byte('\'')
}

// shqText writes the texts as the inside of a single-quoted bash word,
// closing, escaping and reopening the quotes around each quote character
// as shq does. Writing a word's parts in turn between quotes gives the
// bytes of shq of their concatenation.
func (t *text) shqText(ss ...string) {
	for _, s := range ss {
		for {
			i := strings.IndexByte(s, '\'')
			if i < 0 {
				break
			}
			t.str(s[:i], `'\''`)
			s = s[i+1:]
		}
		t.str(s)
	}
}

// mode writes a file mode's permission bits as %04o does.
func (t *text) mode(m uint32) {
	m &= 0o777
	t.b = append(t.b, '0', byte('0'+m>>6), byte('0'+m>>3&7), byte('0'+m&7))
}

// jsonString writes s as a JSON string, as encoding/json does without
// HTML escaping.
func (t *text) jsonString(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			// Rare (names are validated): let encoding/json decide the
			// escapes of control characters, invalid UTF-8 and U+2028.
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(s); err != nil {
				panic(err) // a string always encodes
			}
			t.b = append(t.b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
			return
		}
	}
	t.str(`"`, s, `"`)
}

func (t *text) bytes() []byte { return t.b }

func (t *text) String() string { return string(t.b) }
