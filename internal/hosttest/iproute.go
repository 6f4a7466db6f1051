package hosttest

import "github.com/ecsnet/ecsnet/internal/iproute"

// What a namespace reads back with `ip -j` (Netns.Addrs, Rules, Routes),
// parsed by internal/iproute, which the emulator's hosts use too.

// Addr is one IPv4 address of an interface.
type Addr = iproute.Addr

// Rule is one routing rule.
type Rule = iproute.Rule

// Route is one route of a table.
type Route = iproute.Route

// ParseAddrs parses `ip -j addr show` output, keeping the IPv4 addresses
// of every interface but the loopback.
func ParseAddrs(js []byte) ([]Addr, error) { return iproute.ParseAddrs(js) }

// ParseRules parses `ip -j rule show` output.
func ParseRules(js []byte) ([]Rule, error) { return iproute.ParseRules(js) }

// ParseRoutes parses `ip -j route show table T` output; table is T, which
// ip leaves out of each entry.
func ParseRoutes(js []byte, table string) ([]Route, error) { return iproute.ParseRoutes(js, table) }
