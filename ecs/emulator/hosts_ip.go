package emulator

import "github.com/ecsnet/ecsnet/internal/iproute"

// The live network state of an emulated host, read with `ip -j` inside its
// namespace and parsed by internal/iproute, which the host tests use too,
// so end-to-end tests can compare the two.

// HostAddr is one IPv4 address of an interface of an emulated host.
type HostAddr = iproute.Addr

// HostLink is one interface of an emulated host (the loopback left out).
type HostLink = iproute.Link

// HostRule is one IPv4 routing rule of an emulated host.
type HostRule = iproute.Rule

// HostRoute is one IPv4 route of a table of an emulated host.
type HostRoute = iproute.Route

func parseLinks(js []byte) ([]HostLink, error) { return iproute.ParseLinks(js) }

func parseAddrs(js []byte) ([]HostAddr, error) { return iproute.ParseAddrs(js) }

func parseRules(js []byte) ([]HostRule, error) { return iproute.ParseRules(js) }

func parseRoutes(js []byte, table string) ([]HostRoute, error) { return iproute.ParseRoutes(js, table) }
