package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/internal/levenshtein"
)

// terraformLongFlags rewrites Terraform's single-dash long flags
// (-detailed-exitcode, -out=FILE) to pflag's double-dash form before the
// command parses them. A word is rewritten only when it is unambiguous:
// the name after the dash is a long flag of the command, longer than one
// letter, and not also a cluster of the command's one-letter flags (-dv
// for -d -v). Values of flags that take one are never touched, nor is
// anything after "--". A single-dash word that is no flag at all becomes
// --word too, so that the error names it whole.
func terraformLongFlags(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		arg := args[i]
		out = append(out, arg)
		switch {
		case arg == "--":
			return append(out, args[i+1:]...)
		case strings.HasPrefix(arg, "--"):
			if f := fs.Lookup(strings.TrimPrefix(arg, "--")); f != nil && takesValue(f) && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
		case strings.HasPrefix(arg, "-") && len(arg) > 2:
			name, _, hasValue := strings.Cut(arg[1:], "=")
			f := fs.Lookup(name)
			switch {
			case f != nil && !shorthandCluster(fs, name):
				out[len(out)-1] = "-" + arg
				if !hasValue && takesValue(f) && i+1 < len(args) {
					i++
					out = append(out, args[i])
				}
			case f == nil && fs.ShorthandLookup(arg[1:2]) == nil:
				// Not a flag in either spelling: pflag would name only its
				// first letter; as --name the error (and the suggestion)
				// names the whole word.
				out[len(out)-1] = "-" + arg
			}
		case strings.HasPrefix(arg, "-") && len(arg) == 2:
			if f := fs.ShorthandLookup(arg[1:]); f != nil && takesValue(f) && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
		}
	}
	return out
}

// takesValue reports whether a flag consumes the next word when it is
// given without "=value".
func takesValue(f *pflag.Flag) bool { return f.NoOptDefVal == "" }

// shorthandCluster reports whether every letter of name is a one-letter
// flag of fs, so that -name already means something to pflag.
func shorthandCluster(fs *pflag.FlagSet, name string) bool {
	for i := range len(name) {
		if fs.ShorthandLookup(name[i:i+1]) == nil {
			return false
		}
	}
	return true
}

// suggestFlag returns the command's flag closest to the unknown one in
// err ("--format" for --formt, "--detailed-exitcode" for
// -detailed-exitcod), or "" when err is not about an unknown flag or no
// flag is close.
func suggestFlag(fs *pflag.FlagSet, err error) string {
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) {
		return ""
	}
	typed := ne.GetSpecifiedName()
	if s := ne.GetSpecifiedShortnames(); s != "" {
		typed = s // -detailed-exitcod reaches pflag as a cluster of one-letter flags
	}
	typed, _, _ = strings.Cut(strings.TrimLeft(typed, "-"), "=")
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	if best := closestWord(typed, names); best != "" {
		return "--" + best
	}
	return ""
}

// closestWord returns the candidate nearest to typed by edit distance, if
// it is near enough to be a typo (at most a third of its letters, and at
// least one, differ), or the one candidate typed is a prefix of. Ties go
// to the first candidate in order.
func closestWord(typed string, candidates []string) string {
	if typed == "" {
		return ""
	}
	best, bestDist := "", max(1, len(typed)/3)+1
	for _, c := range candidates {
		if d := levenshtein.Distance(typed, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best != "" {
		return best
	}
	var prefixed []string
	for _, c := range candidates {
		if strings.HasPrefix(c, typed) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return ""
}

// flagUsages lists a command's flags as its help shows them: a boolean
// flag as plain --name (pflag would print --name[=true|false]), a flag
// with a value as --name TYPE, then the usage and any default.
func flagUsages(fs *pflag.FlagSet) string {
	type row struct{ left, usage string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		left := "      --" + f.Name
		if f.Shorthand != "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		varname, usage := pflag.UnquoteUsage(f)
		if f.Value.Type() != "bool" && varname != "" {
			left += " " + varname
		}
		switch {
		case f.Value.Type() == "bool", f.DefValue == "", f.DefValue == "0", f.DefValue == "[]", f.DefValue == "0s":
		case f.Value.Type() == "string":
			usage += fmt.Sprintf(" (default %q)", f.DefValue)
		default:
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		width = max(width, len(left))
		rows = append(rows, row{left, usage})
	})
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s   %s\n", width, r.left, r.usage)
	}
	return b.String()
}
