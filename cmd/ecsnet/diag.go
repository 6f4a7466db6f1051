package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ecsnet/ecsnet/schema"
)

// Output formats shared by every command.
const (
	formatText   = "text"
	formatJSON   = "json"
	formatGitHub = "github"
)

func checkFormat(f string, allowed ...string) error {
	if len(allowed) == 0 {
		allowed = []string{formatText, formatJSON, formatGitHub}
	}
	for _, a := range allowed {
		if f == a {
			return nil
		}
	}
	return fmt.Errorf("--format must be one of %s, got %q", strings.Join(allowed, ", "), f)
}

// asErrors returns err as schema.Errors when it is one.
func asErrors(err error) (schema.Errors, bool) {
	var es schema.Errors
	if errors.As(err, &es) {
		return es, true
	}
	return nil, false
}

// printErrorsText writes errors as file:line:col lines with their hints,
// the form editors and terminals link.
func printErrorsText(w io.Writer, es schema.Errors) {
	for _, e := range es {
		fmt.Fprintln(w, e.Error())
		for _, r := range e.Related {
			if s := r.String(); !strings.Contains(e.Msg, s) {
				fmt.Fprintf(w, "    see also: %s\n", s)
			}
		}
		if e.Hint != "" {
			fmt.Fprintf(w, "    hint: %s\n", e.Hint)
		}
	}
	if len(es) == 1 {
		fmt.Fprintln(w, "1 error")
	} else {
		fmt.Fprintf(w, "%d errors\n", len(es))
	}
}

// jsonError is the JSON form of one schema.Error.
type jsonError struct {
	File      string    `json:"file"`
	Line      int       `json:"line"`
	Column    int       `json:"column"`
	Path      string    `json:"path,omitempty"`
	Message   string    `json:"message"`
	Hint      string    `json:"hint,omitempty"`
	Related   []jsonPos `json:"related,omitempty"`
	FleetWide bool      `json:"fleet_wide,omitempty"`
}

type jsonPos struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

func jsonErrors(es schema.Errors) []jsonError {
	out := make([]jsonError, 0, len(es))
	for _, e := range es {
		je := jsonError{File: e.Pos.File, Line: e.Pos.Line, Column: e.Pos.Col, Path: e.Path, Message: e.Msg, Hint: e.Hint, FleetWide: e.FleetWide}
		for _, r := range e.Related {
			je.Related = append(je.Related, jsonPos{File: r.File, Line: r.Line, Column: r.Col})
		}
		out = append(out, je)
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printErrorsGitHub writes workflow commands, so a pull request shows each
// error on its line. Properties and data are escaped as the runner expects
// (https://docs.github.com/actions/reference/workflow-commands-for-github-actions).
func printErrorsGitHub(w io.Writer, title string, es schema.Errors) {
	for _, e := range es {
		msg := e.Msg
		if e.Path != "" {
			msg = e.Path + ": " + msg
		}
		if e.Hint != "" {
			msg += "\nhint: " + e.Hint
		}
		props := []string{}
		if e.Pos.File != "" {
			props = append(props, "file="+ghProp(e.Pos.File))
		}
		if e.Pos.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", e.Pos.Line), fmt.Sprintf("col=%d", e.Pos.Col))
		}
		props = append(props, "title="+ghProp(title))
		fmt.Fprintf(w, "::error %s::%s\n", strings.Join(props, ","), ghData(msg))
	}
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
