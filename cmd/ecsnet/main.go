// Command ecsnet compiles one reviewed desired-state file into an Alibaba
// Cloud ECS change plan and per-host network configuration. Run
// `ecsnet help` for the commands.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], newEnv())) }
