package main

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ecsnet/ecsnet/render"
)

// The pull-request job in one process (issue 18): `ecsnet plan --rendered
// DIR --check PATH...` does what `ecsnet validate`, `ecsnet plan` and
// `ecsnet render --check --out DIR` do one after the other, loading the
// fleet and the lock once. Its output is theirs: the plan, then what
// render --check prints; its exit code is 1 for any error, else 2 when the
// plan has changes (with --detailed-exitcode) or DIR is out of date, else 0.

// checkPlanCheckFlags refuses --check where it cannot mean what it says.
// A JSON plan is one document on stdout, with no room for a diff after it.
func checkPlanCheckFlags(a *planArgs, e env) error {
	switch {
	case a.rendered == "":
		return errors.New("--check checks the render directory of --rendered DIR: add --rendered DIR")
	case a.format == formatJSON:
		return errors.New("--check prints the render diff after the plan, which a JSON document has no room for: use --format text, markdown or github, or run ecsnet render --check --out DIR beside ecsnet plan --format json")
	}
	// Refused as render --check refuses it, before the plan is made: the
	// directory holds the inputs, or is /, $HOME or a repository root.
	var inputs []render.Input
	for _, p := range a.paths {
		inputs = append(inputs, render.Input{What: "the desired state", Path: p})
	}
	inputs = append(inputs, render.Input{What: "the lock", Path: a.cloud.lockFile(a.paths)}, render.Input{What: "the snapshot", Path: a.cloud.observed})
	if err := render.CheckOutDir(a.rendered, inputs, homeDir(e)); err != nil {
		return err
	}
	// The cache directory is refused before the plan is made too.
	if dir := a.cache; dir != cacheOff {
		if dir == "" {
			dir = defaultCacheDir(e)
		}
		if dir != "" {
			return checkCacheDir(dir, a.paths, a.rendered) // cachedcheck.go
		}
	}
	return nil
}

// planRenderCheck checks a.rendered against a render of the fleet and the
// lock the plan was made from, as render --check does (the lock file as it
// is: like render, the check does not fold in what plan observed), and
// returns its exit code.
func planRenderCheck(e env, a *planArgs, m *madePlan) (int, error) {
	if err := m.lock.CheckVSwitches(m.fleet).Err(); err != nil {
		return 0, err
	}
	// The verdict is plan's, and its commands carry plan's paths and
	// flags: the render reads the lock only, the apply the cloud too.
	lock := &cloudArgs{lockPath: a.cloud.lockPath}
	fix := renderFix{
		who:   "ecsnet plan",
		apply: ecsnetCommand(&a.cloud, []string{"apply"}, a.paths),
		after: ecsnetCommand(lock, []string{"render", "--out", a.rendered}, a.paths),
	}
	fix.render = fix.after
	cache, err := openCheckCache(e, a) // cachedcheck.go
	if err != nil {
		return 0, err
	}
	if cache != nil {
		fix.cache = cache.c
		defer cache.save()
	}
	if a.format != formatMarkdown {
		return checkRender(e, fix, a.rendered, m.fleet, m.lock)
	}
	// In a pull-request comment the diff goes in a fence of its own.
	var b bytes.Buffer
	md := e
	md.stdout = &b
	code, err := checkRender(md, fix, a.rendered, m.fleet, m.lock)
	if err != nil || b.Len() == 0 {
		return code, err
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
		b.WriteByte('\n')
	}
	fence := "```"
	for bytes.Contains(b.Bytes(), []byte(fence)) {
		fence += "`"
	}
	fmt.Fprintf(e.stdout, "\n#### Rendered host files (%s): out of date\n\n%sdiff\n%s%s\n", a.rendered, fence, b.Bytes(), fence)
	return code, nil
}
