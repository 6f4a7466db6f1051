// Command ecsnet compiles one reviewed desired-state file into an Alibaba
// Cloud ECS change plan and per-host network configuration. Run
// `ecsnet help` for the commands.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

func main() {
	// ECSNET_CPUPROFILE=FILE writes a CPU profile of the whole command:
	// performance work on large fleets starts from a profile of the real
	// binary, not of a benchmark's idea of it.
	stop := func() {}
	if p := os.Getenv("ECSNET_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "ecsnet: ECSNET_CPUPROFILE: %v\n", err)
			os.Exit(1)
		}
		stop = func() { pprof.StopCPUProfile(); f.Close() }
	}
	code := run(os.Args[1:], newEnv())
	stop()
	os.Exit(code)
}
