// Package sdkcompat drives the ECS API emulator with the official Alibaba
// Cloud Go SDK (github.com/alibabacloud-go/ecs-20140526/v7 and
// vpc-20160428/v6), in its default signature v3 mode and in v2 mode,
// through the whole ENI lifecycle ecsnet uses. A client ecsnet did not
// write is the check that the emulator speaks the wire protocol and not
// just what ecsnet's own client expects.
//
// It is a module of its own, so that the official SDK and its dependencies
// never enter ecsnet's module graph: `go install` of ecsnet stays lean,
// and `go test ./...` at the root does not reach this directory. `make
// test` runs it (the sdkcompat target).
package sdkcompat
