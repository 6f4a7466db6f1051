package schema

import (
	"bytes"
	_ "embed"
)

// CUESchemaFile is the file name the published CUE schema goes by in the
// README and in the `cue vet` commands its header documents.
const CUESchemaFile = "ecsnet.cue"

//go:embed ecsnet.cue
var cueSchema []byte

// CUESchema returns the published CUE schema of the desired-state format:
// one self-contained file without a package clause that defines #Fleet, with
// the built-in instance type table and the OS and network-stack enums
// generated from the Go tables. Users check a fleet with it using the cue
// command alone, e.g. `cue vet -c -d '#Fleet' ecsnet.cue fleet.json`; its
// header documents the commands. `ecsnet schema` prints it.
func CUESchema() []byte { return bytes.Clone(cueSchema) }
