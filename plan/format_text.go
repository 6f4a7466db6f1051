package plan

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ecsnet/ecsnet/internal/plural"
)

// TextOptions adjust WriteText. The zero value writes plain text.
type TextOptions struct {
	// Color adds ANSI colours to symbols and headings. The caller decides
	// (a terminal, no NO_COLOR); WriteText never looks.
	Color bool
}

// WriteText writes p for a person, in the style Terraform users know: a
// block per resource with a symbol (+ create, ~ update in place, ↔ move to
// another instance, - destroy, -/+ replace), the addresses added and
// removed one per line (a changed attribute as old → new), the ordered
// steps with their dependencies, what the plan leaves alone, and the
// summary line "Plan: N to create, N to change, N to destroy." (or "No
// changes. ..."). Steps that undo changes made outside ecsnet are marked
// [drift], their blocks say what drifted, and a line counts them. It
// renders from the plan document that WriteJSON writes, so the two cannot
// disagree.
func WriteText(w io.Writer, p *Plan, opts TextOptions) error {
	var b bytes.Buffer
	newPlanDoc(p).text(&b, opts.Color)
	_, err := w.Write(b.Bytes())
	return err
}

// Symbols of resource changes, Terraform's where it has one.
const (
	symCreate  = "+"
	symUpdate  = "~"
	symMove    = "↔"
	symDelete  = "-"
	symReplace = "-/+"
)

var symbolLegend = []struct{ sym, text string }{
	{symCreate, "create"},
	{symUpdate, "update in place"},
	{symMove, "move to another instance"},
	{symDelete, "destroy"},
	{symReplace, "destroy and then create a replacement"},
}

func (d *planDoc) text(b *bytes.Buffer, color bool) {
	pt := painter(color)
	fmt.Fprintf(b, "ecsnet plan for fleet %s in %s\n", displayIdent(d.Fleet), displayIdent(d.Region))
	if len(d.Steps) > 0 {
		used := map[string]bool{}
		byID := d.stepsByID()
		blocks := make([]textBlock, len(d.ResourceChanges))
		for i := range d.ResourceChanges {
			blocks[i] = d.block(&d.ResourceChanges[i], byID)
			used[blocks[i].sym] = true
		}
		b.WriteString("\nResource actions are indicated with the following symbols:\n")
		for _, l := range symbolLegend {
			if used[l.sym] {
				fmt.Fprintf(b, "%s %s\n", pt.symbol(padSym(l.sym, 3)), l.text)
			}
		}
		b.WriteString("\necsnet will perform the following actions:\n")
		for _, bl := range blocks {
			b.WriteString("\n")
			for _, l := range bl.lines(pt, false) {
				b.WriteString(l)
				b.WriteString("\n")
			}
		}
		b.WriteString("\nSteps, in order:\n")
		for _, l := range d.stepLines(allIndexes(len(d.Steps)), pt) {
			b.WriteString(l)
			b.WriteString("\n")
		}
	}
	for _, sec := range d.sections() {
		fmt.Fprintf(b, "\n%s:\n", pt.bold(sec.title))
		for _, item := range sec.items {
			if sec.bullets {
				item = "- " + item
			}
			fmt.Fprintf(b, "  %s\n", item)
		}
	}
	if l := d.driftLine(); l != "" {
		fmt.Fprintf(b, "\n%s\n", pt.bold(l))
	}
	fmt.Fprintf(b, "\nFingerprint %s over %s.\n", displayIdent(d.Fingerprint), plural.Count(d.TouchedCount, "observed resource", "observed resources"))
	fmt.Fprintf(b, "\n%s\n", pt.bold(d.summaryLine()))
	if l := d.hostLine(); l != "" {
		fmt.Fprintf(b, "%s\n", pt.bold(l))
	}
}

// hostLine counts the host steps: "Hosts: 2 to reconfigure with Cloud
// Assistant (1 before the cloud steps, 2 after)."; "" without any.
func (d *planDoc) hostLine() string {
	hosts := map[string]bool{}
	before, after := 0, 0
	for _, s := range d.Steps {
		switch s.Action {
		case HostRemove.String():
			before++
		case HostApply.String():
			after++
		default:
			continue
		}
		hosts[s.Target] = true
	}
	if len(hosts) == 0 {
		return ""
	}
	return fmt.Sprintf("Hosts: %s to reconfigure with Cloud Assistant (%d before the cloud steps, %d after).",
		plural.Count(len(hosts), "instance", "instances"), before, after)
}

// driftLine counts the steps that undo changes made outside ecsnet:
// "Drift: 2 steps (marked [drift]) put back what the lock records, after
// changes made outside ecsnet."; "" without any.
func (d *planDoc) driftLine() string {
	n := 0
	for _, s := range d.Steps {
		if s.Drift {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	verb := "put"
	if n == 1 {
		verb = "puts"
	}
	return fmt.Sprintf("Drift: %s (marked [drift]) %s back what the lock records, after changes made outside ecsnet.", plural.Count(n, "step", "steps"), verb)
}

// summaryLine is the summary line of the text and markdown views. Without
// a step, addresses the lock does not record are still news: "the cloud
// matches the desired state" alone would hide them from a reviewer (and
// contradict plan --fail-on-unrecorded's exit code).
func (d *planDoc) summaryLine() string {
	if d.Summary.Steps > 0 {
		return d.Summary.line()
	}
	n := 0
	for _, u := range d.Unrecorded {
		if !u.Pruned {
			n += len(u.IPs)
		}
	}
	if n == 0 {
		return d.Summary.line()
	}
	return fmt.Sprintf("No changes. The cloud holds what the desired state asks for, and %s the lock does not record (kept; plan --prune removes them).",
		plural.Count(n, "address", "addresses"))
}

// line is the summary line of the text view.
func (s summaryDoc) line() string {
	if s.Steps == 0 {
		return "No changes. The cloud matches the desired state."
	}
	return fmt.Sprintf("Plan: %d to create, %d to change, %d to destroy.", s.Create, s.Change, s.Destroy)
}

// textBlock is one resource change as the text and markdown views show it.
type textBlock struct {
	sym      string
	title    string
	comments []string
	attrs    []textAttr
}

// textAttr is one line inside a block: an attribute (key = value) or, with
// no key, an address.
type textAttr struct {
	sym, key, value string
}

func changeSymbol(c *changeDoc) string {
	switch strings.Join(c.Actions, ",") {
	case changeCreate:
		return symCreate
	case changeDelete:
		return symDelete
	case changeDelete + "," + changeCreate:
		return symReplace
	case changeMove:
		return symMove
	}
	return symUpdate
}

func (d *planDoc) block(c *changeDoc, byID map[string]*stepDoc) textBlock {
	b := textBlock{sym: changeSymbol(c), title: displayIdent(c.Address)}
	if c.ENIID != "" && !strings.HasSuffix(c.Address, "@"+c.ENIID) {
		b.title += " (" + displayIdent(c.ENIID) + ")"
	}
	b.comments = changeComments(c, b.sym, byID)
	b.attrs = changeAttrs(c, b.sym)
	return b
}

// changeComments says what happens to the change's resource, and why,
// from its steps' reasons.
func changeComments(c *changeDoc, sym string, byID map[string]*stepDoc) []string {
	var comments []string
	addr := displayIdent(c.Address)
	var reasons func(s *stepDoc) bool
	switch sym {
	case symCreate:
		comments = []string{addr + " will be created"}
	case symDelete:
		comments = []string{addr + " will be destroyed"}
		reasons = func(s *stepDoc) bool { return s.Destroys }
	case symReplace:
		comments = []string{addr + " must be replaced"}
		reasons = func(s *stepDoc) bool { return s.Destroys }
	case symMove:
		comments = []string{fmt.Sprintf("%s will move from %s to %s", addr,
			instanceLabel(c.PreviousInstance, c.PreviousInstanceID), instanceLabel(c.Instance, c.InstanceID))}
		if c.PreviousInstanceID == c.InstanceID {
			// A change of network card: only an attach sets it.
			comments = []string{fmt.Sprintf("%s will be detached from %s and attached again, on network card %d", addr,
				instanceLabel(c.Instance, c.InstanceID), c.NetworkCard)}
		}
		reasons = movesNothing
	default:
		comments = []string{addr + " will be updated in place"}
		reasons = movesNothing
	}
	// A step that undoes drift always says what changed outside ecsnet;
	// the others as the symbol asks.
	seen := map[string]bool{}
	for _, id := range c.Steps {
		s := byID[id]
		if s == nil || s.Reason == "" || seen[s.Reason] || !(s.Drift || reasons != nil && reasons(s)) {
			continue
		}
		seen[s.Reason] = true
		if s.Drift {
			comments = append(comments, "(drift: "+displayLine(s.Reason)+")")
		} else {
			comments = append(comments, "("+displayLine(s.Reason)+")")
		}
	}
	return comments
}

// changeAttrs lists the change's attributes: what a create sets, what a
// modify changes, where the resource moves, and its addresses.
func changeAttrs(c *changeDoc, sym string) []textAttr {
	var attrs []textAttr
	if cr := c.Create; cr != nil {
		primary := "(picked by the cloud)"
		if cr.PrimaryIP.IsValid() {
			primary = cr.PrimaryIP.String()
		}
		attrs = append(attrs,
			textAttr{symCreate, "vswitch_id", displayIdent(cr.VSwitchID)},
			textAttr{symCreate, "security_group_ids", displayList(cr.SecurityGroupIDs)},
			textAttr{symCreate, "primary_ip", primary},
			textAttr{symCreate, "name", strconv.Quote(cr.Name)})
		if cr.Description != "" {
			attrs = append(attrs, textAttr{symCreate, "description", strconv.Quote(cr.Description)})
		}
		attrs = append(attrs, textAttr{symCreate, "instance", instanceLabel(c.Instance, c.InstanceID)})
		if cr.QueueNumber > 0 {
			attrs = append(attrs, textAttr{symCreate, "queues", strconv.Itoa(cr.QueueNumber)})
		}
	}
	if c.NetworkCard > 0 {
		attrs = append(attrs, textAttr{symCreate, "network_card", strconv.Itoa(c.NetworkCard)})
	}
	if m := c.Modify; m != nil {
		// Old → new, as the instance line shows a move; a plan saved
		// before the old values were recorded shows the new ones only.
		if m.SecurityGroupIDs != nil {
			v := displayList(m.SecurityGroupIDs)
			if m.OldSecurityGroupIDs != nil {
				v = displayList(m.OldSecurityGroupIDs) + " → " + v
			}
			attrs = append(attrs, textAttr{symUpdate, "security_group_ids", v})
		}
		if m.Name != nil {
			attrs = append(attrs, textAttr{symUpdate, "name", oldNew(m.OldName, *m.Name)})
		}
		if m.Description != nil {
			attrs = append(attrs, textAttr{symUpdate, "description", oldNew(m.OldDescription, *m.Description)})
		}
		if m.QueueNumber != nil {
			v := strconv.Itoa(*m.QueueNumber)
			if m.OldQueueNumber != nil {
				v = strconv.Itoa(*m.OldQueueNumber) + " → " + v
			}
			attrs = append(attrs, textAttr{symUpdate, "queues", v})
		}
	}
	switch {
	case sym == symDelete:
		if c.PreviousInstance != "" || c.PreviousInstanceID != "" {
			attrs = append(attrs, textAttr{symDelete, "instance", instanceLabel(c.PreviousInstance, c.PreviousInstanceID)})
		}
	case c.Create == nil && (c.Instance != c.PreviousInstance || c.InstanceID != c.PreviousInstanceID):
		attrs = append(attrs, textAttr{symUpdate, "instance",
			instanceLabel(c.PreviousInstance, c.PreviousInstanceID) + " → " + instanceLabel(c.Instance, c.InstanceID)})
	}
	for _, a := range c.IPsAdded {
		attrs = append(attrs, textAttr{sym: symCreate, value: a.String()})
	}
	if c.CountAdded > 0 {
		attrs = append(attrs, textAttr{sym: symCreate, value: "(" + plural.Count(c.CountAdded, "address", "addresses") + " picked by the cloud)"})
	}
	if c.IPv6CountAdded > 0 {
		attrs = append(attrs, textAttr{sym: symCreate, value: "(" + plural.Count(c.IPv6CountAdded, "IPv6 address", "IPv6 addresses") + " picked by the cloud)"})
	}
	for _, p := range c.PrefixesAdded {
		attrs = append(attrs, textAttr{sym: symCreate, value: "prefix " + p.String()})
	}
	if c.PrefixCountAdded > 0 {
		attrs = append(attrs, textAttr{sym: symCreate, value: "(" + plural.Count(c.PrefixCountAdded, "/28 prefix", "/28 prefixes") + " picked by the cloud)"})
	}
	for _, a := range c.IPsRemoved {
		attrs = append(attrs, textAttr{sym: symDelete, value: a.String()})
	}
	for _, p := range c.PrefixesRemoved {
		attrs = append(attrs, textAttr{sym: symDelete, value: "prefix " + p.String()})
	}
	return attrs
}

// oldNew shows a changed string attribute, quoted: "old" → "new", or
// only the new value when the old one is not known.
func oldNew(old *string, new string) string {
	if old == nil {
		return strconv.Quote(new)
	}
	return strconv.Quote(*old) + " → " + strconv.Quote(new)
}

// movesNothing reports whether s neither attaches nor detaches: the
// reason of those is the block's instance line already.
func movesNothing(s *stepDoc) bool {
	return s.Action != AttachENI.String() && s.Action != DetachENI.String()
}

// lines renders the block. In diff form (for a markdown ```diff fence) the
// symbol moves to the first column, as GitHub colours lines by it: "+" and
// "-" keep theirs, every other change becomes "!".
func (b textBlock) lines(pt painter, diff bool) []string {
	width := 0
	for _, a := range b.attrs {
		width = max(width, utf8.RuneCountInString(a.key))
	}
	out := make([]string, 0, len(b.comments)+len(b.attrs)+2)
	for i, c := range b.comments {
		if i == 0 {
			c = pt.bold(c)
		}
		out = append(out, "  # "+c)
	}
	line := func(col int, sym, rest string) string {
		if diff {
			d := sym
			if d != symCreate && d != symDelete {
				d = "!"
			}
			return d + strings.Repeat(" ", col-1) + " " + rest
		}
		return pt.symbol(padSym(sym, col)) + " " + rest
	}
	out = append(out, line(3, b.sym, b.title+" {"))
	for _, a := range b.attrs {
		rest := a.value
		if a.key != "" {
			rest = a.key + strings.Repeat(" ", width-utf8.RuneCountInString(a.key)) + " = " + a.value
		}
		out = append(out, line(7, a.sym, rest))
	}
	return append(out, "    }")
}

// stepLines lists the steps at idx (indexes into d.Steps, in order),
// numbered by their place in the whole plan, with what each waits for.
func (d *planDoc) stepLines(idx []int, pt painter) []string {
	width := len(strconv.Itoa(len(d.Steps)))
	out := make([]string, 0, len(idx))
	for _, i := range idx {
		s := &d.Steps[i]
		head := fmt.Sprintf("  %*d. ", width, i+1)
		l := head + displayIdent(s.ID)
		if s.Destroys {
			l += " " + pt.red("[destroys]")
		}
		if s.Drift {
			l += " " + pt.paint("33", "[drift]")
		}
		if s.Reason != "" {
			l += ": " + displayLine(s.Reason)
		}
		out = append(out, l)
		if len(s.DependsOn) > 0 {
			deps := make([]string, len(s.DependsOn))
			for j, dep := range s.DependsOn {
				deps[j] = displayIdent(dep)
			}
			out = append(out, strings.Repeat(" ", len(head))+"after: "+strings.Join(deps, ", "))
		}
	}
	return out
}

func allIndexes(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

func (d *planDoc) stepsByID() map[string]*stepDoc {
	m := make(map[string]*stepDoc, len(d.Steps))
	for i := range d.Steps {
		m[d.Steps[i].ID] = &d.Steps[i]
	}
	return m
}

// textSection is a list the plan reports beside its changes. Items are
// plain text, already made safe with displayIdent and displayLine.
type textSection struct {
	title   string
	items   []string
	bullets bool
}

func (d *planDoc) sections() []textSection {
	var out []textSection
	if len(d.Unmanaged) > 0 {
		sec := textSection{title: "ENIs left alone: not created by ecsnet"}
		for _, u := range d.Unmanaged {
			item := displayIdent(u.ENIID)
			if u.Name != "" {
				item += " " + strconv.Quote(u.Name)
			}
			if u.InstanceID != "" {
				item += ", attached to " + displayIdent(u.InstanceID)
			} else {
				item += ", unbound"
			}
			sec.items = append(sec.items, item+": "+addrList(u.IPs))
		}
		out = append(out, sec)
	}
	kept := textSection{title: "Addresses not in the lock: kept; plan --prune removes them"}
	pruned := textSection{title: "Addresses not in the lock: pruned by this plan"}
	for _, u := range d.Unrecorded {
		item := displayIdent(u.Target)
		if u.ENIID != "" && !strings.HasSuffix(u.Target, "@"+u.ENIID) {
			item += " (" + displayIdent(u.ENIID) + ")"
		}
		switch {
		case len(u.Prefixes) == 0:
			item += ": " + addrList(u.IPs)
		case len(u.IPs) == 0:
			item += ": prefixes " + prefixList(u.Prefixes)
		default:
			item += ": " + addrList(u.IPs) + "; prefixes " + prefixList(u.Prefixes)
		}
		if u.Pruned {
			pruned.items = append(pruned.items, item)
		} else {
			kept.items = append(kept.items, item)
		}
	}
	for _, sec := range []textSection{kept, pruned} {
		if len(sec.items) > 0 {
			out = append(out, sec)
		}
	}
	var hostSec textSection
	for _, s := range d.Steps {
		if !isHostAction(s.Action) {
			continue
		}
		when := "after the cloud steps"
		if s.Action == HostRemove.String() {
			when = "before the cloud steps"
		}
		hostSec.items = append(hostSec.items, fmt.Sprintf("%s (%s), %s: %s", displayIdent(s.Target), displayIdent(s.InstanceID), when, displayLine(s.Reason)))
	}
	if len(hostSec.items) > 0 {
		hostSec.title = "Hosts reconfigured through Cloud Assistant (each backs up, applies, verifies, and rolls itself back on failure)"
		out = append(out, hostSec)
	}
	if len(d.Notes) > 0 {
		sec := textSection{title: "Notes", bullets: true}
		for _, n := range d.Notes {
			sec.items = append(sec.items, displayLine(n))
		}
		out = append(out, sec)
	}
	return out
}

func addrList(as []netip.Addr) string {
	if len(as) == 0 {
		return "(none)"
	}
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// prefixList lists prefixes for a reader, as addrList does addresses
// (prefixesString, without spaces, is for tokens and must not change).
func prefixList(ps []netip.Prefix) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ", ")
}

func displayList(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = displayIdent(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func instanceLabel(name, id string) string {
	switch {
	case name != "" && id != "":
		return displayIdent(name) + " (" + displayIdent(id) + ")"
	case name != "":
		return displayIdent(name)
	case id != "":
		return displayIdent(id)
	}
	return "(unbound)"
}

func padSym(sym string, col int) string {
	return strings.Repeat(" ", max(0, col-utf8.RuneCountInString(sym))) + sym
}

// displayIdent shows a name, ID or address as it is when it is plain
// printable text (inner ASCII spaces allowed, as in step IDs), and
// Go-quoted otherwise, so that no value
// (they may come from a hand-edited saved plan, or from the cloud) can
// start a line or pass for something else.
func displayIdent(s string) string {
	if s != "" && s == strings.TrimSpace(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == '"' }) {
		return s
	}
	return strconv.Quote(s)
}

// displayLine keeps free text (a reason, a note) on one line: anything
// unprintable, newlines included, is shown as a Go escape.
func displayLine(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == utf8.RuneError }) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// painter adds ANSI colours when true.
type painter bool

func (p painter) paint(code, s string) string {
	if !p || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p painter) bold(s string) string { return p.paint("1", s) }
func (p painter) red(s string) string  { return p.paint("31", s) }

// symbol colours a (padded) change symbol: green to create, yellow to
// update, cyan to move, red to destroy, red and green to replace.
func (p painter) symbol(s string) string {
	pad := s[:len(s)-len(strings.TrimLeft(s, " "))]
	switch strings.TrimLeft(s, " ") {
	case symCreate:
		return pad + p.paint("32", symCreate)
	case symUpdate:
		return pad + p.paint("33", symUpdate)
	case symMove:
		return pad + p.paint("36", symMove)
	case symDelete:
		return pad + p.paint("31", symDelete)
	case symReplace:
		return pad + p.paint("31", "-") + "/" + p.paint("32", "+")
	}
	return s
}
