package plan

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/ecsnet/ecsnet/internal/plural"
)

// DefaultMarkdownMaxLen is the length WriteMarkdown stays within unless
// told otherwise: under GitHub's limit of 65,535 characters for a comment
// body, with room for a wrapper's own lines.
const DefaultMarkdownMaxLen = 65000

// MarkdownOptions adjust WriteMarkdown. The zero value suits a GitHub
// pull-request comment.
type MarkdownOptions struct {
	// MaxLen caps the comment's length in bytes (so also in characters);
	// 0 means DefaultMarkdownMaxLen.
	MaxLen int
	// ArtifactURL, if set (http or https), is linked wherever the comment
	// leaves something out.
	ArtifactURL string
}

// WriteMarkdown writes p as a pull-request comment: a title with the
// summary, a table of counts, how many steps undo drift (when some do),
// the ENIs the plan destroys, then one
// collapsible <details> per instance (an ENI belongs to the instance it is
// attached or attaching to; removals and ENIs without an instance have
// groups of their own) holding the text view's blocks in a diff fence and
// the group's steps, then what the plan leaves alone. It renders from the
// plan document that WriteJSON writes.
//
// The comment stays within opts.MaxLen: when the full rendering is longer,
// it leaves out the steps, then shows each group as one line, then lists
// only the groups that fit and says how many more there are. Every
// user-controlled string is escaped, and none can close a code fence or a
// <details> block.
func WriteMarkdown(w io.Writer, p *Plan, opts MarkdownOptions) error {
	_, err := io.WriteString(w, newPlanDoc(p).markdown(opts))
	return err
}

// mdLevel is how much detail the comment shows.
type mdLevel int

const (
	mdFull    mdLevel = iota // blocks and steps per group
	mdNoSteps                // blocks per group
	mdOneLine                // a line per group; sections capped
)

// mdSectionCap is how many items of each section a shortened comment lists.
const mdSectionCap = 20

// mdGroup is the changes shown under one <details>.
type mdGroup struct {
	label    string // plain text, escaped on output
	instance bool
	changes  []*changeDoc
	counts   summaryDoc
}

func (d *planDoc) markdown(opts MarkdownOptions) string {
	limit := opts.MaxLen
	if limit <= 0 {
		limit = DefaultMarkdownMaxLen
	}
	groups := d.mdGroups()
	for _, lv := range []mdLevel{mdFull, mdNoSteps, mdOneLine} {
		head, parts, tail := d.mdParts(groups, lv, opts)
		n := len(head) + len(tail)
		for _, p := range parts {
			n += len(p)
		}
		if n <= limit {
			return head + strings.Join(parts, "") + tail
		}
	}
	// Only some groups fit: list as many as do, then say how many more.
	head, parts, tail := d.mdParts(groups, mdOneLine, opts)
	// instancesFrom[i] reports whether groups[i:] are all instances.
	instancesFrom := make([]bool, len(groups)+1)
	instancesFrom[len(groups)] = true
	for i := len(groups) - 1; i >= 0; i-- {
		instancesFrom[i] = groups[i].instance && instancesFrom[i+1]
	}
	more := func(i int) string { return mdMoreLine(len(groups)-i, instancesFrom[i], opts) }
	var b strings.Builder
	b.WriteString(head)
	for i, p := range parts {
		if b.Len()+len(p)+len(more(i+1))+len(tail) > limit {
			b.WriteString(more(i))
			break
		}
		b.WriteString(p)
	}
	b.WriteString(tail)
	if b.Len() <= limit {
		return b.String()
	}
	// Even the head and the capped sections are too long (a tiny MaxLen):
	// cut at a line boundary. This level has no fences or <details> to
	// leave open.
	notice := "\n… cut to fit; " + artifactRef(opts) + ".\n"
	s := b.String()[:max(0, limit-len(notice))]
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[:i+1]
	} else {
		s = ""
	}
	if len(s)+len(notice) > limit {
		return ""
	}
	return s + notice
}

func mdMoreLine(n int, instances bool, opts MarkdownOptions) string {
	if n == 0 {
		return ""
	}
	what := "groups"
	if instances {
		what = "instances"
	}
	if n == 1 {
		what = strings.TrimSuffix(what, "s")
	}
	return fmt.Sprintf("- … %d more %s; %s\n", n, what, artifactRef(opts))
}

// mdGroups groups the resource changes: removals first (they matter most
// and must survive shortening), then ENIs without an instance, then one
// group per instance by name.
func (d *planDoc) mdGroups() []mdGroup {
	removals := mdGroup{label: "Removed ENIs"}
	other := mdGroup{label: "Other ENIs (unbound, or on an instance the steps do not name)"}
	byInst := map[string]*mdGroup{}
	for i := range d.ResourceChanges {
		c := &d.ResourceChanges[i]
		var g *mdGroup
		name, id := c.Instance, c.InstanceID
		if name == "" && id == "" {
			name, id = c.PreviousInstance, c.PreviousInstanceID
		}
		switch {
		case changeSymbol(c) == symDelete:
			g = &removals
		case name == "" && id == "":
			g = &other
		default:
			label := instanceLabel(name, id)
			if g = byInst[label]; g == nil {
				g = &mdGroup{label: label, instance: true}
				byInst[label] = g
			}
		}
		g.changes = append(g.changes, c)
		g.counts = g.counts.add(summaryOf([]changeDoc{*c}, len(c.Steps)))
	}
	var out []mdGroup
	for _, g := range []mdGroup{removals, other} {
		if len(g.changes) > 0 {
			out = append(out, g)
		}
	}
	labels := make([]string, 0, len(byInst))
	for l := range byInst {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	for _, l := range labels {
		out = append(out, *byInst[l])
	}
	return out
}

func (s summaryDoc) add(t summaryDoc) summaryDoc {
	return summaryDoc{Create: s.Create + t.Create, Change: s.Change + t.Change, Destroy: s.Destroy + t.Destroy, Steps: s.Steps + t.Steps}
}

// counts is the short summary of a group: only the parts that are not 0.
func (s summaryDoc) counts() string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{s.Create, "to create"}, {s.Change, "to change"}, {s.Destroy, "to destroy"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	return strings.Join(parts, ", ")
}

// mdParts renders the comment at a level: the head (title, counts,
// destroys), one part per group, and the tail (sections, fingerprint).
func (d *planDoc) mdParts(groups []mdGroup, lv mdLevel, opts MarkdownOptions) (string, []string, string) {
	return d.mdHead(lv, opts), d.mdGroupParts(groups, lv), d.mdTail(lv, opts)
}

// mdHead is the comment's title, summary table, drift and destroy lines,
// and what was left out to fit.
func (d *planDoc) mdHead(lv mdLevel, opts MarkdownOptions) string {
	var h bytes.Buffer
	title := fmt.Sprintf("ecsnet plan for %s (%s)", displayIdent(d.Fleet), displayIdent(d.Region))
	if len(d.Steps) == 0 {
		fmt.Fprintf(&h, "### %s: no changes\n\n%s\n", mdText(title), d.summaryLine())
	} else {
		fmt.Fprintf(&h, "### %s: %d to create, %d to change, %d to destroy\n\n", mdText(title), d.Summary.Create, d.Summary.Change, d.Summary.Destroy)
		unrecorded := 0
		for _, u := range d.Unrecorded {
			unrecorded += len(u.IPs) + len(u.Prefixes)
		}
		h.WriteString("| Create | Change | Destroy | Steps | Unmanaged ENIs | Unrecorded addresses |\n")
		h.WriteString("|---:|---:|---:|---:|---:|---:|\n")
		fmt.Fprintf(&h, "| %d | %d | %d | %d | %d | %d |\n", d.Summary.Create, d.Summary.Change, d.Summary.Destroy, d.Summary.Steps, len(d.Unmanaged), unrecorded)
		var destroys []string
		for i := range d.ResourceChanges {
			c := &d.ResourceChanges[i]
			switch changeSymbol(c) {
			case symDelete:
				destroys = append(destroys, mdText(displayIdent(c.Address)))
			case symReplace:
				destroys = append(destroys, mdText(displayIdent(c.Address)+" ("+displayIdent(c.ENIID)+", replaced)"))
			}
		}
		if l := d.driftLine(); l != "" {
			fmt.Fprintf(&h, "\n**%s**\n", mdText(l))
		}
		if len(destroys) > 0 {
			const show = 10
			list := strings.Join(destroys[:min(len(destroys), show)], ", ")
			if len(destroys) > show {
				list += fmt.Sprintf(" and %d more", len(destroys)-show)
			}
			fmt.Fprintf(&h, "\n**Destroys %s** (apply needs `--allow-destroy`): %s\n", plural.Count(len(destroys), "ENI", "ENIs"), list)
		}
		switch lv {
		case mdNoSteps:
			fmt.Fprintf(&h, "\nThe steps are left out to fit a comment; %s.\n", artifactRef(opts))
		case mdOneLine:
			fmt.Fprintf(&h, "\nOne line per instance to fit a comment; %s.\n\n", artifactRef(opts))
		}
	}
	return h.String()
}

// mdGroupParts renders each group of changes: a collapsed diff and, in full,
// its steps; one line per group at mdOneLine.
func (d *planDoc) mdGroupParts(groups []mdGroup, lv mdLevel) []string {
	parts := make([]string, 0, len(groups))
	pos := d.stepIndex()
	byID := d.stepsByID()
	for _, g := range groups {
		label := mdText(g.label)
		if lv == mdOneLine {
			parts = append(parts, fmt.Sprintf("- **%s**: %s\n", label, g.counts.counts()))
			continue
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "\n<details><summary><b>%s</b>: %s</summary>\n\n", label, g.counts.counts())
		var diff []string
		var idx []int
		for i, c := range g.changes {
			if i > 0 {
				diff = append(diff, "")
			}
			diff = append(diff, d.block(c, byID).lines(false, true)...)
			for _, id := range c.Steps {
				idx = append(idx, pos[id])
			}
		}
		b.WriteString(mdFence("diff", diff))
		if lv == mdFull {
			slices.Sort(idx)
			b.WriteString("\nSteps, in order:\n\n")
			b.WriteString(mdFence("text", d.stepLines(idx, false)))
		}
		b.WriteString("\n</details>\n")
		parts = append(parts, b.String())
	}
	return parts
}

// mdTail is the comment's sections (unmanaged ENIs, unrecorded addresses,
// notes), capped to fit, and the fingerprint line.
func (d *planDoc) mdTail(lv mdLevel, opts MarkdownOptions) string {
	var t bytes.Buffer
	for _, sec := range d.sections() {
		fmt.Fprintf(&t, "\n#### %s\n\n", mdText(sec.title))
		items := sec.items
		if lv >= mdOneLine && len(items) > mdSectionCap {
			items = items[:mdSectionCap]
		}
		for _, item := range items {
			fmt.Fprintf(&t, "- %s\n", mdText(item))
		}
		if n := len(sec.items) - len(items); n > 0 {
			fmt.Fprintf(&t, "- … %d more; %s\n", n, artifactRef(opts))
		}
	}
	fmt.Fprintf(&t, "\n<sub>Fingerprint %s over %s; plan format_version %s.</sub>\n",
		mdText(displayIdent(d.Fingerprint)), plural.Count(d.TouchedCount, "observed resource", "observed resources"), mdText(d.FormatVersion))
	return t.String()
}

func (d *planDoc) stepIndex() map[string]int {
	m := make(map[string]int, len(d.Steps))
	for i := range d.Steps {
		m[d.Steps[i].ID] = i
	}
	return m
}

// mdFence wraps lines in a code fence longer than any run of backticks in
// them, so no content can close it (CommonMark: a closing fence is at
// least as long as the opening one). The lines are already one-line each
// (displayIdent, displayLine, strconv.Quote), so nothing can start a new
// block either.
func mdFence(lang string, lines []string) string {
	body := strings.Join(lines, "\n") + "\n"
	run, longest := 0, 0
	for _, r := range body {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	return fence + lang + "\n" + body + fence + "\n"
}

// mdEscapes turns the characters that mean something in markdown or HTML
// into numeric character references, which both read as the character
// itself: in a table cell, a list item or a <summary>.
var mdEscapes = func() *strings.Replacer {
	var pairs []string
	for _, c := range "&<>|`*_[]\\~" {
		pairs = append(pairs, string(c), "&#"+strconv.Itoa(int(c))+";")
	}
	return strings.NewReplacer(pairs...)
}()

// mdText makes text safe outside code: one line, no markup, no HTML.
func mdText(s string) string { return mdEscapes.Replace(displayLine(s)) }

// artifactRef is the pointer to the full plan, linked when the caller gave
// a usable URL.
func artifactRef(opts MarkdownOptions) string {
	u := opts.ArtifactURL
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return "see the full plan artifact"
	}
	var b strings.Builder
	for _, c := range []byte(u) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>\"'`[]\\|", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return "see [the full plan artifact](" + b.String() + ")"
}
