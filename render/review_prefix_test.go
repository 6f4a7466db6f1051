package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// TestReviewPrefixPicks: a review render (plan --rendered, render --check
// before apply) of a host whose ENIs have an ipv4PrefixCount the host
// answers for (ipv4PrefixesOnHost), with a lock that lacks some or all of
// the picks, shows the host with placeholders for the prefixes the cloud
// picks, on every stack (Windows lists each prefix's addresses), instead
// of refusing it as "not rendered".
func TestReviewPrefixPicks(t *testing.T) {
	for _, stack := range schema.Stacks() {
		for _, recorded := range []int{0, 1} {
			t.Run(fmt.Sprintf("%s/recorded-%d", stack, recorded), func(t *testing.T) {
				f, _, _ := exampleBeforeApply(t)
				full, err := schema.ReadLockFile(exampleLock)
				if err != nil {
					t.Fatal(err)
				}
				// db-2-pods has two prefixes the host answers for;
				// db-2's primary ENI gets one.
				in := f.Instance("db-2")
				in.Network = stack
				in.Primary.Prefixes = schema.Prefixes{Count: 1, Counted: true, OnHost: true}
				lock := full.Clone()
				l := *lock.Secondary("db-2-pods")
				rec := l.Prefixes[0].Prefix
				l.Prefixes = l.Prefixes[:recorded]
				lock.Put(&l)
				if _, err := Hosts(f, lock); err == nil || !strings.Contains(err.Error(), "IPv4 prefix") {
					t.Fatalf("Hosts: %v, want the IPv4 prefixes missing", err)
				}
				_, pending, err := ReviewHosts(f, lock)
				if err != nil {
					t.Fatalf("ReviewHosts: %v", err)
				}
				var p *Pending
				for _, x := range pending {
					if x.Name == "db-2" {
						p = x
					}
				}
				if p == nil {
					t.Fatal("db-2 is not pending")
				}
				if !strings.Contains(p.Needs, "IPv4 prefix") {
					t.Errorf("needs %q does not name the IPv4 prefixes", p.Needs)
				}
				files, err := p.Render()
				if err != nil {
					t.Fatal(err)
				}
				all := joinFiles(files)
				var want []string
				for i := recorded + 1; i <= 2; i++ {
					want = append(want, fmt.Sprintf("IPv4 prefix %d of 2 on eni/db-2-pods", i))
				}
				want = append(want, "IPv4 prefix 1 of 1 on instance/db-2")
				for _, w := range want {
					if stack != schema.StackWindows {
						w = "<" + w + ": picked by the cloud>"
					}
					if !strings.Contains(all, w) {
						t.Errorf("the review files lack %q", w)
					}
				}
				if recorded > 0 {
					shown := rec.String()
					if stack == schema.StackWindows {
						shown = "'" + rec.Addr().Next().Next().String() + "'"
					}
					if !strings.Contains(all, shown) {
						t.Errorf("the review files lack the recorded prefix %s", shown)
					}
				}
			})
		}
	}
}
