package schema

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"cuelang.org/go/cue/ast"
)

// The evaluation sandbox's defaults. The memory cap is on the child's
// address space (RLIMIT_AS), which for a Go process runs a few hundred
// MiB above its heap. Measured (cue-notes.md §5): a 5,000-instance fleet
// evaluated by CUE as one value takes 14 s and 1.6 GB; a fleet that needs
// more is better written as plain data, which never reaches the sandbox
// and loads 20,000 instances in about a second.
const (
	DefaultMaxEvalMemory = 4 << 30
	DefaultMaxEvalTime   = 60 * time.Second
)

// EvalChildEnv marks a process started by Load to evaluate CUE; its value
// is the address-space cap in bytes. A program that passes a Sandbox to
// Load must call EvalChildMain first thing in main (and in TestMain, when
// its tests load CUE through the sandbox).
const EvalChildEnv = "ECSNET_CUE_EVAL_CHILD"

// Sandbox is where Load runs the CUE evaluator: a child process with
// capped memory and time, killed when the load's context is done.
type Sandbox struct {
	// Command is the child's program and arguments; empty means this
	// program (os.Executable) without arguments. The program must call
	// EvalChildMain.
	Command []string
	// MaxMemory caps the child's address space in bytes; 0 means
	// DefaultMaxEvalMemory.
	MaxMemory int64
	// MaxTime caps the evaluation's wall time; 0 means
	// DefaultMaxEvalTime.
	MaxTime time.Duration
}

// EvalChildMain returns at once unless this process is an evaluation
// child (EvalChildEnv is set). A child reads one request from standard
// input, evaluates it under its memory cap, writes the result to standard
// output and exits.
func EvalChildMain() {
	v, ok := os.LookupEnv(EvalChildEnv)
	if !ok {
		return
	}
	limit, err := strconv.ParseInt(v, 10, 64)
	if err != nil || limit <= 0 {
		fmt.Fprintf(os.Stderr, "ecsnet: %s=%q is not a memory cap in bytes\n", EvalChildEnv, v)
		os.Exit(1)
	}
	// The hard cap first, before anything is read. The soft limit below
	// it makes the collector work harder before the hard cap is met, so
	// an evaluation that fits does not fail on garbage.
	if err := limitMemory(uint64(limit)); err != nil {
		fmt.Fprintf(os.Stderr, "ecsnet: cannot cap the evaluation's memory: %v\n", err)
		os.Exit(1)
	}
	debug.SetMemoryLimit(limit / 4 * 3)
	if err := serveEval(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "ecsnet: evaluation child: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// evalRequest is what the parent sends the child: the inputs as read (the
// child parses them again, which costs little next to evaluating them).
type evalRequest struct {
	Inputs   []evalInput
	MaxBytes int64
}

type evalInput struct {
	Name string
	Src  []byte
	Syn  syntax
}

// evalResponse is the child's answer: the evaluated tree or the errors.
type evalResponse struct {
	Files []string // the tree's positions index these, from 1
	Root  []byte   // the tree, encoded by treeEncoder
	Errs  Errors
}

func serveEval(r io.Reader, w io.Writer) error {
	var req evalRequest
	if err := gob.NewDecoder(r).Decode(&req); err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	inputs := make([]*input, len(req.Inputs))
	var errs Errors
	for i, ri := range req.Inputs {
		in := &input{name: ri.Name, src: ri.Src, syn: ri.Syn}
		var f *ast.File
		var es Errors
		switch in.syn {
		case syntaxYAML:
			f, es = parseYAMLFile(in.name, in.src, req.MaxBytes)
		case syntaxCUE:
			f, es = parseCUEFile(in.name, in.src)
		}
		in.file = f
		errs = append(errs, es...)
		inputs[i] = in
	}
	resp := evalResponse{Errs: errs}
	if len(errs) == 0 {
		root, es := evaluateHere(inputs, req.MaxBytes)
		resp.Errs = es
		if root != nil {
			w := &treeEncoder{files: map[string]uint64{}}
			w.node(root)
			resp.Root, resp.Files = w.buf, w.names
		}
	}
	for _, e := range resp.Errs {
		e.truncate()
	}
	if err := gob.NewEncoder(w).Encode(&resp); err != nil {
		return fmt.Errorf("writing the result: %w", err)
	}
	return nil
}

// treeEncoder writes a node tree in preorder as varints and bytes: kind,
// position (file index from 1, line, column), string, then the fields
// (count, and each one's name, position and value) or the elements (count
// and each one). A large fleet's tree has a million nodes; gob's
// reflection over a recursive struct cost more than the rest of the
// sandbox together.
type treeEncoder struct {
	buf   []byte
	files map[string]uint64
	names []string
}

func (w *treeEncoder) uint(n uint64) { w.buf = binary.AppendUvarint(w.buf, n) }

func (w *treeEncoder) str(s string) {
	w.uint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}

func (w *treeEncoder) pos(p Pos) {
	if p.File == "" {
		w.uint(0)
		return
	}
	f, ok := w.files[p.File]
	if !ok {
		w.names = append(w.names, p.File)
		f = uint64(len(w.names))
		w.files[p.File] = f
	}
	w.uint(f)
	w.uint(uint64(p.Line))
	w.uint(uint64(p.Col))
}

func (w *treeEncoder) node(n *node) {
	w.buf = append(w.buf, byte(n.kind))
	w.pos(n.pos)
	w.str(n.str)
	switch n.kind {
	case kObject:
		w.uint(uint64(len(n.fields)))
		for _, f := range n.fields {
			w.str(f.name)
			w.pos(f.pos)
			w.node(f.val)
		}
	case kList:
		w.uint(uint64(len(n.elems)))
		for _, e := range n.elems {
			w.node(e)
		}
	}
}

// treeDecoder reads what treeEncoder wrote; a malformed encoding sets err.
type treeDecoder struct {
	buf   []byte
	files []string
	err   error
}

func (r *treeDecoder) uint() uint64 {
	n, k := binary.Uvarint(r.buf)
	if k <= 0 {
		r.fail()
		return 0
	}
	r.buf = r.buf[k:]
	return n
}

func (r *treeDecoder) fail() {
	if r.err == nil {
		r.err = errors.New("malformed tree")
	}
	r.buf = nil
}

func (r *treeDecoder) str() string {
	n := r.uint()
	if n > uint64(len(r.buf)) {
		r.fail()
		return ""
	}
	s := string(r.buf[:n])
	r.buf = r.buf[n:]
	return s
}

func (r *treeDecoder) pos() Pos {
	f := r.uint()
	if f == 0 {
		return Pos{}
	}
	line, col := r.uint(), r.uint()
	if f > uint64(len(r.files)) {
		r.fail()
		return Pos{}
	}
	return Pos{File: r.files[f-1], Line: int(line), Col: int(col)}
}

func (r *treeDecoder) node(depth int) *node {
	if len(r.buf) == 0 || depth > maxDepth+1 {
		r.fail()
		return &node{}
	}
	n := &node{kind: kind(r.buf[0])}
	r.buf = r.buf[1:]
	n.pos = r.pos()
	n.str = r.str()
	switch n.kind {
	case kObject:
		count := r.uint()
		if count > uint64(len(r.buf)) {
			r.fail()
			return n
		}
		n.fields = make([]field, count)
		for i := range n.fields {
			n.fields[i].name = r.str()
			n.fields[i].pos = r.pos()
			n.fields[i].val = r.node(depth + 1)
		}
	case kList:
		count := r.uint()
		if count > uint64(len(r.buf)) {
			r.fail()
			return n
		}
		n.elems = make([]*node, count)
		for i := range n.elems {
			n.elems[i] = r.node(depth + 1)
		}
	}
	return n
}

// evaluate evaluates the inputs: in a sandbox when opts has one,
// otherwise in this process.
func evaluate(ctx context.Context, inputs []*input, opts LoadOptions) (*node, Errors) {
	if opts.Sandbox == nil {
		return evaluateHere(inputs, maxInput(opts))
	}
	return opts.Sandbox.evaluate(ctx, inputs, maxInput(opts))
}

// evaluate runs the evaluation in a child process. When ctx is done the
// child is killed and evaluate returns no errors: the caller reports
// ctx's cause.
func (s *Sandbox) evaluate(ctx context.Context, inputs []*input, maxBytes int64) (*node, Errors) {
	mem, limit := s.MaxMemory, s.MaxTime
	if mem <= 0 {
		mem = DefaultMaxEvalMemory
	}
	if limit <= 0 {
		limit = DefaultMaxEvalTime
	}
	argv := s.Command
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, Errors{{Pos: evalPos(inputs), Msg: fmt.Sprintf("cannot start the CUE evaluation: %v", err)}}
		}
		argv = []string{exe}
	}
	req := evalRequest{MaxBytes: maxBytes}
	for _, in := range inputs {
		req.Inputs = append(req.Inputs, evalInput{Name: in.name, Src: in.src, Syn: in.syn})
	}
	var stdin bytes.Buffer
	if err := gob.NewEncoder(&stdin).Encode(&req); err != nil {
		return nil, Errors{{Pos: evalPos(inputs), Msg: fmt.Sprintf("cannot start the CUE evaluation: %v", err)}}
	}

	tctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(tctx, argv[0], argv[1:]...)
	// Nothing of the parent's environment (credentials least of all)
	// reaches the child; CUE's own settings do.
	cmd.Env = []string{EvalChildEnv + "=" + strconv.FormatInt(mem, 10)}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CUE_") || strings.HasPrefix(kv, "GORACE=") || strings.HasPrefix(kv, "GOCOVERDIR=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdin = &stdin
	var stdout bytes.Buffer
	stderr := &clipBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	cmd.SysProcAttr = childAttr()
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return nil, nil
	case tctx.Err() != nil:
		return nil, Errors{{Pos: evalPos(inputs), Msg: fmt.Sprintf("evaluating the CUE took longer than the %s cap", limit),
			Hint: "an expression here grows out of proportion (a disjunction of disjunctions, a comprehension over a long list): simplify it, or raise the cap with --eval-time if the fleet really needs it"}}
	case err != nil:
		out := stderr.String()
		if strings.Contains(out, "out of memory") || strings.Contains(out, "cannot allocate memory") {
			return nil, Errors{{Pos: evalPos(inputs), Msg: fmt.Sprintf("evaluating the CUE needed more than the %s memory cap", memSize(mem)),
				Hint: "an expression here grows out of proportion (a comprehension over a long range, a disjunction of disjunctions): simplify it, or raise the cap with --eval-memory if the fleet really needs it"}}
		}
		return nil, Errors{{Pos: evalPos(inputs), Msg: fmt.Sprintf("the CUE evaluation failed: %v: %s", err, firstLine(out))}}
	}
	var resp evalResponse
	if err := gob.NewDecoder(&stdout).Decode(&resp); err != nil {
		return nil, Errors{{Pos: evalPos(inputs), Msg: fmt.Sprintf("the CUE evaluation answered nonsense: %v", err)}}
	}
	if resp.Root == nil {
		if len(resp.Errs) == 0 {
			return nil, Errors{{Pos: evalPos(inputs), Msg: "the CUE evaluation answered neither a value nor errors"}}
		}
		return nil, resp.Errs
	}
	r := &treeDecoder{buf: resp.Root, files: resp.Files}
	root := r.node(0)
	if r.err != nil {
		return nil, Errors{{Pos: evalPos(inputs), Msg: fmt.Sprintf("the CUE evaluation answered nonsense: %v", r.err)}}
	}
	return root, resp.Errs
}

// evalPos is where an evaluation that failed as a whole is reported: the
// first declaration that made the evaluator necessary.
func evalPos(inputs []*input) Pos {
	for _, in := range inputs {
		if in.file == nil {
			continue
		}
		for _, d := range in.file.Decls {
			switch d := d.(type) {
			case *ast.Package, *ast.CommentGroup, *ast.Attribute, *ast.ImportDecl:
				continue
			case *ast.Field:
				if plainField(d) {
					continue
				}
			}
			if p := posOf(d.Pos()); p.IsValid() {
				return p
			}
			return Pos{File: in.name, Line: 1, Col: 1}
		}
	}
	if len(inputs) > 0 {
		return Pos{File: inputs[0].name, Line: 1, Col: 1}
	}
	return Pos{}
}

func memSize(n int64) string {
	if n%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", n>>30)
	}
	return size(n)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	s, _, _ = strings.Cut(s, "\n")
	if s == "" {
		return "no message"
	}
	return s
}

// clipBuffer keeps the first and the last max bytes written to it: a
// crashing Go program's stderr says why first ("fatal error: runtime: out
// of memory"), then goes on for pages of goroutine stacks.
type clipBuffer struct {
	max        int
	head, tail []byte
}

func (c *clipBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := c.max - len(c.head); room > 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	c.tail = append(c.tail, p...)
	if len(c.tail) > c.max {
		c.tail = append(c.tail[:0], c.tail[len(c.tail)-c.max:]...)
	}
	return n, nil
}

func (c *clipBuffer) String() string { return string(c.head) + string(c.tail) }
