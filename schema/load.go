package schema

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// DefaultMaxInputBytes caps the total size of the inputs. A fleet of
// 20,000 instances is about 25 MiB of JSON; anything far larger is more
// likely a mistake (or an attack) than a fleet.
const DefaultMaxInputBytes = 64 << 20

// LockFileName is the lock file ecsnet keeps beside the desired state. Load
// skips it when reading a directory.
const LockFileName = "ecsnet.lock.json"

// LoadOptions adjust Load. The zero value is ready to use.
type LoadOptions struct {
	// MaxInputBytes caps the total size of all inputs; 0 means
	// DefaultMaxInputBytes.
	MaxInputBytes int64
	// Stdin is read for the path "-"; its syntax is taken from StdinSyntax
	// ("cue", "json" or "yaml"; default "cue", which also reads JSON).
	Stdin       io.Reader
	StdinSyntax string
	// Sandbox, when set, evaluates inputs that need the CUE evaluator in
	// a child process under a memory and a time cap. CUE's evaluator
	// takes no context and no budget, so a hostile input (an exponential
	// disjunction, a comprehension over a huge range) can only be stopped
	// from outside the process. Plain data never needs the evaluator and
	// is always loaded in process.
	Sandbox *Sandbox
}

// Load reads the desired state from files and directories, combines them
// as CUE unification would, and checks it. A directory contributes its
// *.cue, *.json, *.yaml and *.yml files (not recursively, skipping names
// that start with "." or "_" and the lock file). The error, if any, is an
// Errors listing every problem found, sorted by position.
func Load(paths []string, opts LoadOptions) (*Fleet, error) {
	return LoadContext(context.Background(), paths, opts)
}

// LoadContext is Load, stopping early when ctx is done: between files,
// and by killing the CUE evaluation's child process (with a Sandbox). The
// error is then ctx's error, not Errors.
func LoadContext(ctx context.Context, paths []string, opts LoadOptions) (*Fleet, error) {
	inputs, errs := read(ctx, paths, opts)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("loading the desired state: %w", context.Cause(ctx))
	}
	if len(errs) > 0 {
		return nil, errs.Sort()
	}
	return loadInputs(ctx, inputs, opts)
}

func loadInputs(ctx context.Context, inputs []*input, opts LoadOptions) (*Fleet, error) {
	f, errs := loadAll(ctx, inputs, opts)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("loading the desired state: %w", context.Cause(ctx))
	}
	for _, e := range errs {
		e.truncate()
	}
	// Every error names a place in the user's files: one the checks could
	// not place (an empty YAML document has no node to point at) points at
	// the start of the first input.
	for _, e := range errs {
		if !e.Pos.IsValid() && len(inputs) > 0 {
			file := e.Pos.File
			if file == "" {
				file = inputs[0].name
			}
			e.Pos = Pos{File: file, Line: 1, Col: 1}
		}
	}
	if len(errs) > 0 {
		return nil, errs.Sort()
	}
	return f, nil
}

func loadAll(ctx context.Context, inputs []*input, opts LoadOptions) (*Fleet, Errors) {
	var errs Errors
	plain := true
	for _, in := range inputs {
		if ctx.Err() != nil {
			return nil, nil
		}
		switch in.syn {
		case syntaxJSON:
			n, es := parseJSON(in.name, in.src)
			errs = append(errs, es...)
			in.data = n
		case syntaxYAML:
			f, es := parseYAMLFile(in.name, in.src, maxInput(opts))
			errs = append(errs, es...)
			if f != nil {
				in.file = f
				// Octal-looking numbers are refused whichever way the
				// file is decoded, and so are duplicate keys: dataNode
				// reports them for plain data, yamlDuplicates for a file
				// the evaluator would otherwise merge them in.
				errs = append(errs, yamlOctals(f, in.src)...)
				if plainData(f) {
					n, es := dataNode(f, true)
					errs = append(errs, es...)
					in.data = n
				} else {
					errs = append(errs, yamlDuplicates(f)...)
					plain = false
				}
			}
		default:
			f, es := parseCUEFile(in.name, in.src)
			errs = append(errs, es...)
			if f != nil {
				in.file = f
				if plainData(f) {
					n, es := dataNode(f, false)
					errs = append(errs, es...)
					in.data = n
				} else {
					plain = false
				}
			}
		}
	}
	// Duplicate keys are reported but do not stop the run: the first value
	// is kept, so the rest of the document is still checked. Syntax errors
	// leave no tree to check.
	for _, in := range inputs {
		if in.data == nil && in.file == nil {
			return nil, errs
		}
	}
	var root *node
	if plain {
		for _, in := range inputs {
			if root == nil {
				root = in.data
			} else {
				root = unify(root, in.data, nil, &errs)
			}
		}
	} else {
		var es Errors
		root, es = evaluate(ctx, inputs, opts)
		errs = append(errs, es...)
	}
	if root == nil {
		return nil, errs
	}
	d := &decoder{}
	f := d.decode(root)
	f.Files = make([]string, len(inputs))
	for i, in := range inputs {
		f.Files[i] = in.name
	}
	errs = append(errs, d.errs...)
	errs = append(errs, check(f)...)
	return f, errs
}

// read gathers the input files, enforcing the size cap before reading.
// Only regular files are read: a named pipe or a device given as a fleet
// file would block the read forever, or never end.
func read(ctx context.Context, paths []string, opts LoadOptions) ([]*input, Errors) {
	limit := maxInput(opts)
	if len(paths) == 0 {
		return nil, Errors{{Msg: "no input files", Hint: "name the desired-state files or directory, e.g. ecsnet validate fleet.cue"}}
	}
	var files []string
	var errs Errors
	for _, p := range paths {
		if p == "-" {
			files = append(files, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, &Error{Pos: Pos{File: p}, Msg: fmt.Sprintf("cannot read input: %v", unwrapPathErr(err)), Hint: "check the path"})
			continue
		}
		if !st.IsDir() {
			if e := notRegular(p, st.Mode()); e != nil {
				errs = append(errs, e)
				continue
			}
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			errs = append(errs, &Error{Pos: Pos{File: p}, Msg: fmt.Sprintf("cannot read directory: %v", unwrapPathErr(err))})
			continue
		}
		n, before := 0, len(errs)
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == LockFileName {
				continue
			}
			if _, ok := syntaxOf(name); !ok {
				continue
			}
			full := filepath.Join(p, name)
			// The entry's type is the Lstat type; a symbolic link is
			// followed, but only to a regular file.
			mode := e.Type()
			if mode&fs.ModeSymlink != 0 {
				st, err := os.Stat(full)
				if err != nil {
					errs = append(errs, &Error{Pos: Pos{File: full}, Msg: fmt.Sprintf("cannot read input: %v", unwrapPathErr(err)), Hint: "remove the broken symbolic link, or rename it to start with '_' so that it is skipped"})
					continue
				}
				mode = st.Mode()
			}
			if e := notRegular(full, mode); e != nil {
				errs = append(errs, e)
				continue
			}
			files = append(files, full)
			n++
		}
		if n == 0 && len(errs) == before {
			errs = append(errs, &Error{Pos: Pos{File: p}, Msg: "directory holds no .cue, .json, .yaml or .yml files"})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var total int64
	inputs := make([]*input, 0, len(files))
	for _, name := range files {
		if ctx.Err() != nil {
			return nil, nil
		}
		in := &input{name: name}
		var r io.Reader
		if name == "-" {
			if opts.Stdin == nil {
				return nil, Errors{{Pos: Pos{File: "-"}, Msg: "standard input is not available"}}
			}
			r = opts.Stdin
			switch opts.StdinSyntax {
			case "json":
				in.syn = syntaxJSON
			case "yaml":
				in.syn = syntaxYAML
			}
		} else {
			syn, ok := syntaxOf(name)
			if !ok {
				return nil, Errors{{Pos: Pos{File: name}, Msg: "unknown file type", Hint: "name desired-state files *.cue, *.json, *.yaml or *.yml"}}
			}
			in.syn = syn
			fh, err := openRegular(name)
			if err != nil {
				var e *Error
				if errors.As(err, &e) {
					return nil, Errors{e}
				}
				return nil, Errors{{Pos: Pos{File: name}, Msg: fmt.Sprintf("cannot read input: %v", unwrapPathErr(err))}}
			}
			defer fh.Close()
			r = fh
		}
		// Read at most one byte past the remaining budget, so an oversized
		// input (or an endless stdin) is refused without reading it whole.
		src, err := io.ReadAll(io.LimitReader(r, limit-total+1))
		if err != nil {
			return nil, Errors{{Pos: Pos{File: name}, Msg: fmt.Sprintf("cannot read input: %v", unwrapPathErr(err))}}
		}
		total += int64(len(src))
		if total > limit {
			return nil, Errors{{Pos: Pos{File: name}, Msg: fmt.Sprintf("the inputs are larger than the %s cap", size(limit)),
				Hint: "check that this is the file you meant; raise the cap with --max-input-size if the fleet really is this large"}}
		}
		in.src = src
		inputs = append(inputs, in)
	}
	return inputs, nil
}

func maxInput(opts LoadOptions) int64 {
	if opts.MaxInputBytes <= 0 {
		return DefaultMaxInputBytes
	}
	return opts.MaxInputBytes
}

// notRegular returns the error for an input that is not a regular file,
// or nil.
func notRegular(name string, mode fs.FileMode) *Error {
	if mode.IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch {
	case mode&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO), not a regular file"
	case mode&fs.ModeSocket != 0:
		what = "a socket, not a regular file"
	case mode&fs.ModeDevice != 0:
		what = "a device, not a regular file"
	}
	return &Error{Pos: Pos{File: name}, Msg: "input is " + what,
		Hint: "only regular files are read as desired state: remove it from the fleet directory, or rename it to start with '_' so that it is skipped"}
}

// openRegular opens name for reading without blocking on a named pipe
// (which the file could have become since it was examined) and refuses
// anything but a regular file.
func openRegular(name string) (*os.File, error) {
	fh, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	if e := notRegular(name, st.Mode()); e != nil {
		fh.Close()
		return nil, e
	}
	return fh, nil
}

func syntaxOf(name string) (syntax, bool) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".cue":
		return syntaxCUE, true
	case ".json":
		return syntaxJSON, true
	case ".yaml", ".yml":
		return syntaxYAML, true
	}
	return 0, false
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func size(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
