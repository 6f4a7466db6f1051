package render

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// exampleBeforeApply returns the example fleet, its committed lock (what
// the cloud picked) and a copy of the lock as it was before that apply
// made the ENIs and picked the addresses: every secondary ENI missing,
// except cache-1-data, which is recorded attached to lb-2 (a failover
// to cache-1: its ID, MAC and addresses are known, its device index on
// cache-1 is not); db-2's and app-1's counted addresses not picked yet;
// and api-1 holding one of its two (a count that grows).
func exampleBeforeApply(t *testing.T) (*schema.Fleet, *schema.Lock, *schema.Lock) {
	t.Helper()
	f, err := schema.Load([]string{exampleFleet}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	full, err := schema.ReadLockFile(exampleLock)
	if err != nil {
		t.Fatal(err)
	}
	before := full.Clone()
	for _, e := range []string{"web-1-data", "api-1-pool", "vip", "edge-1-data", "app-1-data", "db-1-repl", "win-1-data"} {
		before.ENIs = slices.DeleteFunc(before.ENIs, func(l *schema.LockedENI) bool { return l.Key() == "eni/"+e })
	}
	moved := *before.Secondary("cache-1-data")
	moved.AttachedTo, moved.DeviceIndex = "lb-2", 1
	before.Put(&moved)
	for _, in := range []string{"db-2", "app-1"} {
		l := *before.Primary(in)
		l.Secondary = nil
		before.Put(&l)
	}
	l := *before.Primary("api-1")
	l.Secondary = l.Secondary[:1] // the lower one: the cloud's pick sorts after it
	before.Put(&l)
	return f, full, before
}

// TestReviewIsTheRenderWithPicksHidden: for a fleet the cloud has not
// caught up with, every host of every stack renders for review, with a
// placeholder wherever a value the cloud picks goes and no sentinel left;
// and the review files are exactly the files render writes once the lock
// records the picks, with those values (and the sha256 of the files that
// hold them) replaced by the same placeholders. Both hold because the
// check Render makes, that two renders with different sentinels agree, is
// made here between a sentinel render and the real one.
func TestReviewIsTheRenderWithPicksHidden(t *testing.T) {
	f, full, before := exampleBeforeApply(t)
	real := map[string]*Host{}
	hosts, err := Hosts(f, full)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		real[h.Name] = h
	}
	ready, pending, err := ReviewHosts(f, before)
	if err != nil {
		t.Fatal(err)
	}
	if len(ready) != 1 || ready[0].Name != "lb-2" {
		t.Errorf("hosts that need no pick: %v, want lb-2 alone", ready)
	}
	stacks := map[schema.Stack]bool{}
	for _, p := range pending {
		t.Run(p.Name, func(t *testing.T) {
			stacks[p.base.Stack] = true
			got, err := p.Render()
			if err != nil {
				t.Fatal(err)
			}
			again, _ := p.Render()
			if !sameFiles(got, again) {
				t.Error("two review renders differ")
			}
			all := joinFiles(got)
			for _, sentinel := range []string{"02:ec:5e", "02:EC:5E", "02-EC-5E", "02-ec-5e", "zzzzecsnetpick", "eth99", "eth98", "1099", "1098"} {
				if strings.Contains(all, sentinel) {
					t.Errorf("a sentinel (%s) is left in the review files", sentinel)
				}
			}
			if !strings.Contains(all, ": picked") {
				t.Errorf("no placeholder in the review files:\n%s", all)
			}

			vals, err := p.allocate()
			if err != nil {
				t.Fatal(err)
			}
			h := real[p.Name]
			for i, pk := range p.picks {
				n := nicOf(h, pk.eni)
				switch pk.kind {
				case pickID:
					vals[i].id[0] = n.ENIID
				case pickMAC:
					vals[i].mac[0] = n.MAC
				case pickIndex:
					vals[i].index[0] = n.DeviceIndex
				case pickAddress:
					vals[i].addr[0] = n.Address
				case pickSecondary:
					known := p.nic(pk.eni).Secondary
					picked := slices.DeleteFunc(slices.Clone(n.Secondary), func(a netip.Addr) bool { return slices.Contains(known, a) })
					vals[i].addr[0] = picked[pk.i-len(known)-1]
				}
			}
			fromReal, err := p.renderPair(vals)
			if err != nil {
				t.Fatalf("the real render with its picks hidden is not the review render: %v", err)
			}
			if !sameFiles(fromReal, got) {
				t.Error("the review render depends on its sentinels")
			}
		})
	}
	for _, s := range []schema.Stack{schema.StackIfcfg, schema.StackNetworkManager, schema.StackIfupdown, schema.StackNetplan,
		schema.StackWicked, schema.StackNetworkd, schema.StackIproute2, schema.StackWindows} {
		if !stacks[s] {
			t.Errorf("no pending host of stack %s was checked", s)
		}
	}
}

// TestReviewPlaceholders pins what a reviewer reads for a new ENI with
// counted addresses (edge-1-data on edge-1, iproute2) and a grown count
// (api-1's primary ENI, NetworkManager).
func TestReviewPlaceholders(t *testing.T) {
	f, _, before := exampleBeforeApply(t)
	_, pending, err := ReviewHosts(f, before)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"edge-1": {
			"'<MAC of eni/edge-1-data: picked at apply> <MAC of eni/edge-1-data: picked at apply> eth<device index of eni/edge-1-data> <primary address of eni/edge-1-data: picked by the cloud>/24 172.16.2.253 <1000 + device index of eni/edge-1-data> 0 edge-1-data <ID of eni/edge-1-data: picked at apply>'",
			"'<MAC of eni/edge-1-data: picked at apply> <address 2 of 2 on eni/edge-1-data: picked by the cloud>/24 <alias number of address 2 of 2 on eni/edge-1-data>'",
			"'etc/ecsnet/shop-prod/ecsnet-ip.sh 0755 <sha256: known at apply>'",
			`"path": "ecsnet-apply.sh",
      "mode": "0755",
      "sha256": "<sha256: known at apply>",
      "size": "<size: known at apply>"`,
		},
		"api-1": {
			"'primary <address 2 of 2 on instance/api-1: picked by the cloud>/24 <alias number of address 2 of 2 on instance/api-1>'",
			"address13=<address 12 of 12 on eni/api-1-pool: picked by the cloud>/24",
			"mac-address=<MAC of eni/api-1-pool: picked at apply>",
		},
	}
	if got := pendingNeeds(pending); got["edge-1"] != "eni/edge-1-data: ID, MAC, device index, primary address, addresses 1-2 of 2" ||
		got["api-1"] != "instance/api-1: address 2 of 2; eni/api-1-pool: ID, MAC, device index, primary address, addresses 1-12 of 12" ||
		got["cache-1"] != "eni/cache-1-data: device index" {
		t.Errorf("Needs: %q", got)
	}
	for _, p := range pending {
		lines, ok := want[p.Name]
		if !ok {
			continue
		}
		files, err := p.Render()
		if err != nil {
			t.Fatal(err)
		}
		all := joinFiles(files)
		for _, l := range lines {
			if !strings.Contains(all, l) {
				t.Errorf("%s: no line %q in\n%s", p.Name, l, all)
			}
		}
	}
}

func pendingNeeds(ps []*Pending) map[string]string {
	m := map[string]string{}
	for _, p := range ps {
		m[p.Name] = p.Needs
	}
	return m
}

// TestReviewRefusesACollision: a real value that reads like a sentinel
// (here a description holding the MAC a new ENI stands in with) is
// refused rather than shown as a placeholder.
func TestReviewRefusesACollision(t *testing.T) {
	f, _, before := exampleBeforeApply(t)
	_, pending, err := ReviewHosts(f, before)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pending {
		if p.Name != "web-1" {
			continue
		}
		vals, err := p.allocate()
		if err != nil {
			t.Fatal(err)
		}
		for i, pk := range p.picks {
			if pk.kind == pickMAC {
				p.nic(pk.eni).Description = "moved from " + vals[i].mac[0]
			}
		}
		if _, err := p.Render(); err == nil || !strings.Contains(err.Error(), "cannot be shown as a placeholder") {
			t.Errorf("a description holding a sentinel MAC: err %v", err)
		}
		return
	}
	t.Fatal("web-1 is not pending")
}

// TestReviewReplacesWholeTokens: a sentinel is replaced only as a whole
// address, MAC or number, never inside a longer one.
func TestReviewReplacesWholeTokens(t *testing.T) {
	r := &replacer{}
	r.add("172.16.2.25", "<A>", boundAddr)
	r.add("1098", "<T>", boundNumber)
	r.add("02:ec:5e:00:00:01", "<M>", boundMAC)
	r.add("eth98", "eth<D>", boundName)
	in := "172.16.2.25/24 172.16.2.250 10.172.16.2.25 172.16.2.25.1 table 1098 eth0:1098 IPADDR_1098 10980 " +
		"02:ec:5e:00:00:01 02:ec:5e:00:00:012 eth98:21 eth981 xeth98 (172.16.2.25)"
	want := "<A>/24 172.16.2.250 10.172.16.2.25 172.16.2.25.1 table <T> eth0:1098 IPADDR_1098 10980 " +
		"<M> 02:ec:5e:00:00:012 eth<D>:21 eth981 xeth98 (<A>)"
	if got := r.replace(in); got != want {
		t.Errorf("replace:\n got %s\nwant %s", got, want)
	}
}

func joinFiles(files []File) string {
	var b bytes.Buffer
	for _, f := range files {
		b.WriteString("== " + f.Path + "\n")
		b.Write(f.Data)
	}
	return b.String()
}

// TestReviewReplacedENI: an ENI whose vSwitch changes is replaced by a
// new one at apply; the lock's ID, MAC and addresses are the old ENI's,
// so a review shows all of them as picked, in the new block.
func TestReviewReplacedENI(t *testing.T) {
	src, err := os.ReadFile(exampleFleet)
	if err != nil {
		t.Fatal(err)
	}
	old := "\t\tvswitch:          \"data-h\"\n\t\tsecurityGroups:   [\"web\"]\n\t\tsecondaryIpCount: 2\n\t\tattachTo:         \"edge-1\""
	if strings.Count(string(src), old) != 1 {
		t.Fatalf("edge-1-data not found in %s", exampleFleet)
	}
	path := filepath.Join(t.TempDir(), "fleet.cue")
	if err := os.WriteFile(path, []byte(strings.Replace(string(src), old, strings.Replace(old, "data-h", "app-h", 1), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := schema.Load([]string{path}, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lock, err := schema.ReadLockFile(exampleLock)
	if err != nil {
		t.Fatal(err)
	}
	_, pending, err := ReviewHosts(f, lock)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].Name != "edge-1" || pending[0].Needs != "eni/edge-1-data: ID, MAC, device index, primary address, addresses 1-2 of 2" {
		t.Fatalf("pending: %+v", pending)
	}
	files, err := pending[0].Render()
	if err != nil {
		t.Fatal(err)
	}
	all := joinFiles(files)
	oldENI := lock.Secondary("edge-1-data")
	for _, gone := range []string{oldENI.ID, oldENI.MAC, oldENI.PrimaryIP.String(), "172.16.2.0/24"} {
		if strings.Contains(all, gone) {
			t.Errorf("the review of a replaced ENI still has the old one's %s", gone)
		}
	}
	if !strings.Contains(all, "<primary address of eni/edge-1-data: picked by the cloud>/24 172.16.0.253 ") {
		t.Errorf("the replacement is not in the new block:\n%s", all)
	}
}

// TestReviewIPv6Picks: an ENI whose IPv6 addresses the cloud picks
// (ipv6IpCount) and the lock does not record yet renders for review with
// a placeholder for each (in the apply script's data, its rules), its
// table's IPv6 block and default route as they will be, and no sentinel
// left; with the lock's one of two recorded, only the second is a
// placeholder. Before, such a host was not reviewable (a MissingError).
func TestReviewIPv6Picks(t *testing.T) {
	f, _, _ := exampleBeforeApply(t)
	full, err := schema.ReadLockFile(exampleLock)
	if err != nil {
		t.Fatal(err)
	}
	e := f.ENI("edge-1-data")
	if e == nil {
		t.Fatal("the example has no ENI edge-1-data")
	}
	e.IPv6 = schema.IPv6{Count: 2, Counted: true}
	f.VSwitch(e.VSwitch).IPv6CIDR = netip.MustParsePrefix("2408:4005:3aa:1b02::/64")
	e.Prefixes = schema.Prefixes{Count: 1, Counted: true} // not on the host: no file has them, nothing to pick
	for _, c := range []struct {
		recorded int
		want     []string
	}{
		{0, []string{"<IPv6 address 1 of 2 on eni/edge-1-data: picked by the cloud>", "<IPv6 address 2 of 2 on eni/edge-1-data: picked by the cloud>"}},
		{1, []string{"2408:4005:3aa:1b02::9/64", "<IPv6 address 2 of 2 on eni/edge-1-data: picked by the cloud>"}},
	} {
		lock := full.Clone()
		l := *lock.Secondary("edge-1-data")
		l.IPv6 = nil
		if c.recorded > 0 {
			l.IPv6 = []schema.LockedAddr{{Addr: netip.MustParseAddr("2408:4005:3aa:1b02::9"), Added: true}}
		}
		lock.Put(&l)
		if _, err := Hosts(f, lock); err == nil || !strings.Contains(err.Error(), "IPv6 address") {
			t.Errorf("recorded %d: Hosts: %v, want the IPv6 addresses missing", c.recorded, err)
		}
		_, pending, err := ReviewHosts(f, lock)
		if err != nil {
			t.Fatalf("recorded %d: %v", c.recorded, err)
		}
		var p *Pending
		for _, x := range pending {
			if x.Name == "edge-1" {
				p = x
			}
		}
		if p == nil {
			t.Fatalf("recorded %d: edge-1 is not pending", c.recorded)
		}
		if !strings.Contains(p.Needs, "IPv6 address") {
			t.Errorf("recorded %d: needs %q does not name the IPv6 addresses", c.recorded, p.Needs)
		}
		files, err := p.Render()
		if err != nil {
			t.Fatalf("recorded %d: %v", c.recorded, err)
		}
		all := joinFiles(files)
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("recorded %d: the review files lack %q", c.recorded, w)
			}
		}
		for _, w := range []string{"'1001 fa:16:3e:54:24:35 2408:4005:3aa:1b02::/64 -'", "default 2408:4005:3aa:1b02:ffff:ffff:ffff:fff7'"} {
			w = strings.Replace(w, "fa:16:3e:54:24:35", lock.Secondary("edge-1-data").MAC, 1)
			if !strings.Contains(all, w) {
				t.Errorf("recorded %d: the review files lack %q", c.recorded, w)
			}
		}
		if strings.Contains(all, ":ffff:ffff:ffff:fff6") || strings.Contains(all, ":ffff:ffff:ffff:fff5") {
			t.Errorf("recorded %d: a sentinel IPv6 address is left in the review files", c.recorded)
		}
	}
}
