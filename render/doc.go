// Package render writes each host's network configuration for its OS, from
// the desired state and the lock (which records what the cloud picked, the
// counted addresses and MACs, and the slot ecsnet gave each ENI).
//
// Rendering is pure: ForHost returns files and never touches the disk, runs
// tools or reads the environment, so the same input always gives the same
// bytes. Writing a tree and checking one against a render (render --check)
// are separate functions. Out.Update, which ecsnet render uses, takes a
// file as current when its bytes and mode are the bundle's, or, without
// reading it, when the stat cache (StatCacheName, like git's index) holds
// the host's manifest and the file's exact lstat (inode, size, mtime and
// ctime) from when render last wrote it or read it back; Check compares
// every byte.
//
// Every format lives in a file of its own (ifcfg.go, nmkeyfile.go,
// ifupdown.go, netplan.go, wicked.go, networkd.go, iproute2.go,
// powershell.go) behind one switch in render.go, and owns the quoting of
// its syntax. Facts that several formats need (gateway, prefix, route
// table, rule priority) are computed once, in Host.
//
// Policy routing: each secondary ENI gets route table 1000+d and rule
// priority 1000+d, where d is its device index (eth1: table and priority
// 1001, the numbers Alibaba's own documents use). The table holds the ENI's
// subnet route and a default route via its gateway; one rule per address
// of the ENI sends traffic from that address to the table. The ENI's
// gateway never enters the main table. The primary ENI keeps the main
// table: DHCP and cloud-init own its primary address and default route.
//
// Reboots: cloud-init rewrites the primary ENI's configuration at every
// boot on Alibaba Cloud. Where the primary's secondary addresses live in
// it (NetworkManager's profile, wicked's ifcfg-eth0), the bundle also
// installs a boot unit that adds them again after cloud-init
// (primaryboot.go); the other formats' files are ecsnet's own. A bundle
// with a secondary ENI also installs a boot unit that removes, when the
// host comes back after that ENI moved away, what ecsnet wrote for it
// (reconcile.go).
//
// Delivery (bundle.go, bundleps.go): Payload packs a bundle into one
// self-contained script for Cloud Assistant that backs up, applies,
// verifies and rolls itself back on the host; Invocations splits it for
// RunCommand's size limit. LockedHost resolves a host as the lock has it
// (what the cloud routes to it right now). ParseLive and Drift (live.go)
// compare a host's reported live state with its render.
package render
