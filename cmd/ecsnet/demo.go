package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/fixtures"
	"github.com/ecsnet/ecsnet/schema"
)

type demoArgs struct {
	dir  string
	keep bool
}

func demoFlags(a *demoArgs) *pflag.FlagSet {
	fs := newFlagSet("demo")
	fs.StringVar(&a.dir, "dir", "", "work in this directory instead of a temporary one")
	fs.BoolVar(&a.keep, "keep", false, "keep the temporary directory and print its path")
	return fs
}

// runDemo runs the main job on the embedded example fleet, in a temporary
// copy so that a clean checkout stays clean.
func runDemo(_ context.Context, args []string, e env) int {
	var a demoArgs
	fset := demoFlags(&a)
	if err := fset.Parse(args); err != nil {
		return flagError(fset, err, e)
	}
	dir := a.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "ecsnet-demo-")
		if err != nil {
			fmt.Fprintf(e.stderr, "ecsnet demo: %v\n", err)
			return exitError
		}
		if !a.keep {
			defer os.RemoveAll(tmp)
		}
		dir = tmp
	}
	if err := copyFS(dir, fixtures.Example, "example"); err != nil {
		fmt.Fprintf(e.stderr, "ecsnet demo: %v\n", err)
		return exitError
	}
	fleetDir := filepath.Join(dir, "example")
	fmt.Fprintf(e.stdout, "== ecsnet validate %s\n", fleetDir)
	f, err := schema.Load([]string{fleetDir}, schema.LoadOptions{})
	if code := reportLoad(e, formatText, "ecsnet demo", f, err, true); code != exitOK {
		return code
	}
	if a.keep {
		fmt.Fprintf(e.stdout, "\nThe demo's files are in %s\n", dir)
	}
	return exitOK
}

// copyFS writes the tree under root of fsys into dir.
func copyFS(dir string, fsys fs.FS, root string) error {
	return fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
}
