package main

// commandDoc returns the examples and the exit codes `ecsnet help NAME`
// shows for a command. They live beside each other in one switch, so a
// new command is hard to add without them (TestHelpEveryCommand checks).
func commandDoc(name string) (examples, exits string) {
	switch name {
	case "validate":
		return `  ecsnet validate fleet/
  ecsnet validate --format github fleet/   # annotations on a pull request's lines
`, `  0  the input is valid
  1  it is not, or an error
`
	case "plan":
		return `  ecsnet plan fleet/
  ecsnet plan --detailed-exitcode --save plan.json fleet/   # in CI (-detailed-exitcode works too)
  ecsnet observe fleet/ > snapshot.json
  ecsnet plan --observed snapshot.json fleet/              # where there are no credentials
`, `  0  success (with --detailed-exitcode: no changes)
  1  an error, or invalid input
  2  changes present (only with --detailed-exitcode)
`
	case "apply":
		return `  ecsnet apply fleet/                                   # shows the plan, asks for 'yes'
  ecsnet apply --auto-approve --plan plan.json fleet/   # exactly the reviewed plan, in CI
`, `  0  the cloud matches the desired state
  1  an error or a refusal (nothing was changed), or a failed step (the lock
     records what was done: run apply again)
`
	case "unlock":
		return `  ecsnet unlock host-a-4242-0f1e2d3c fleet/   # the ID the refusal names
`, `  0  the lease was broken
  1  an error, or the lease has another ID or there is none (nothing was changed)
`
	case "failover":
		return `  ecsnet failover vip --to lb-2 fleet/           # the cloud only
  ecsnet failover vip --to lb-2 --hosts fleet/   # and the two hosts, as apply --hosts
`, `  0  the ENI moved and the file says so (commit it with the git commands shown)
  1  an error or a refusal (nothing was changed); or a step that failed or
     did not run, such as a stopped source's host-remove (the file was
     edited: the output names the apply or push that finishes the job)
`
	case "push":
		return `  ecsnet push fleet/
  ecsnet push --instance web-1 fleet/
  ecsnet push --canary 1 --max-failures 2 fleet/
`, `  0  every host applied and verified its configuration
  1  an error, or a host failed, was refused or was not run
`
	case "verify":
		return `  ecsnet verify fleet/
  ecsnet verify --format json fleet/ > verify.json
`, `  0  every host is as rendered
  2  some host drifted
  1  an error (a host did not answer or could not be checked); wins over 2
`
	case "render":
		return `  ecsnet render --out rendered/ fleet/
  ecsnet render --check --out rendered/ fleet/   # in CI: is the committed render current?
`, `  0  written (with --check: current)
  1  an error, or invalid input
  2  with --check: the directory is out of date
`
	case "import":
		return `  ecsnet import eni-bp1xxxxxxxx --as pod-pool fleet/ > fleet/pod-pool.cue
  ecsnet import --all --region cn-hangzhou --vpc vpc-bp1xxxxxxxx > fleet/fleet.cue
`, `  0  adopted (with --all: the desired state written)
  1  an error
`
	case "show":
		return `  ecsnet plan --save plan.json fleet/
  ecsnet show --format markdown plan.json > plan.md   # a pull-request comment
`, `  0  shown
  1  an error (the file is not a saved plan)
`
	case "observe":
		return `  ecsnet observe fleet/ > snapshot.json
  ecsnet plan --observed snapshot.json fleet/
`, `  0  written
  1  an error; what was written is then no snapshot: do not plan from it
`
	case "emulator":
		return `  ecsnet emulator --listen 127.0.0.1:8080
  ecsnet plan --endpoint http://127.0.0.1:8080 fleet/   # with the access key the emulator prints
`, `  0  stopped by an interrupt
  1  an error (a bad world, an address in use)
`
	case "demo":
		return `  ecsnet demo
  ecsnet demo --keep   # keep the fleet, its lock and the rendered hosts, and say where
`, `  0  the demo ran and the cloud converged
  1  an error
`
	case "completion":
		return `  source <(ecsnet completion bash)
  ecsnet completion fish | source
`, `  0  printed
  1  no shell named, or one that is not supported
`
	case "version":
		return `  ecsnet version
`, `  0  always
`
	case "help":
		return `  ecsnet help plan
  ecsnet help os
`, `  0  shown
  1  no such command
`
	}
	return "", ""
}
