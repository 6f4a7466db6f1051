package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"time"

	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// floorMain is the render floor, run as a child process
// (`benchtable floor -fleet F -lock L -out DIR`): it renders every host of
// the fleet into memory first, untimed, then writes the same bytes to the
// same tree as plainly as Go can (os.MkdirAll once per directory,
// os.WriteFile per file, in ecsnet render's order) and reports the time
// the writing took as JSON on stdout. `ecsnet render` is held to a
// multiple of it; benchtable checks afterwards that both trees hold the
// same bytes.
func floorMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchtable floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fleet := fs.String("fleet", "", "desired-state file")
	lockPath := fs.String("lock", "", "lock file")
	out := fs.String("out", "", "directory to write (must not exist)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	res, err := floor(*fleet, *lockPath, *out)
	if err != nil {
		fmt.Fprintf(stderr, "benchtable floor: %v\n", err)
		return 1
	}
	json.NewEncoder(stdout).Encode(res)
	return 0
}

type floorResult struct {
	Seconds float64
	Files   int
	Bytes   int64
}

type floorFile struct {
	path string // slash-separated, relative to the output directory
	mode os.FileMode
	data []byte
}

func floor(fleetPath, lockPath, out string) (floorResult, error) {
	f, err := schema.Load([]string{fleetPath}, schema.LoadOptions{})
	if err != nil {
		return floorResult{}, err
	}
	lock, err := schema.ReadLockFile(lockPath)
	if err != nil {
		return floorResult{}, err
	}
	hosts, err := render.Hosts(f, lock)
	if err != nil {
		return floorResult{}, err
	}
	// ecsnet render writes hosts in name order, each host's files in
	// bundle order.
	var files []floorFile
	var res floorResult
	for _, h := range hosts {
		bundle, err := render.ForHost(h)
		if err != nil {
			return floorResult{}, err
		}
		for _, b := range bundle {
			files = append(files, floorFile{path: path.Join(h.Name, b.Path), mode: b.Mode.Perm(), data: b.Data})
			res.Bytes += int64(len(b.Data))
		}
	}
	res.Files = len(files)
	f, lock, hosts = nil, nil, nil
	runtime.GC()

	start := time.Now()
	made := map[string]bool{}
	for _, x := range files {
		p := filepath.Join(out, filepath.FromSlash(x.path))
		if d := filepath.Dir(p); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return floorResult{}, err
			}
			made[d] = true
		}
		if err := os.WriteFile(p, x.data, x.mode); err != nil {
			return floorResult{}, err
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}
