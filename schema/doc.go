// Package schema holds ecsnet's desired-state model: the published CUE
// schema, the loader that reads CUE, YAML and JSON fleet files, the typed
// Fleet that every other package consumes, and the checks that run on it.
//
// Errors carry the user's file:line:col and a path into the document, so a
// single Errors value serves the text, JSON and GitHub-annotation outputs.
//
// A Fleet is immutable once Load returns it: planners and renderers share it
// across goroutines without copying.
package schema
