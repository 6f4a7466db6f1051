package schema

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A version 1 lock (an object per address) reads into the same lock as its
// version 2 form, the flag of an address ecsnet found rather than added
// survives as found_ips, and writing always gives version 2.
func TestReadLockVersions(t *testing.T) {
	v1 := `{"format_version":1,"fleet":"x","enis":[
	  {"name":"b-eth1","id":"eni-2","attached_to":"b","device_index":1,"primary_ip":"10.0.0.9","secondary_ips":[],"generation":0},
	  {"instance":"a","id":"eni-1","device_index":0,"primary_ip":"10.0.0.1","secondary_ips":[
	    {"ip":"10.0.0.3","added_by_ecsnet":true},{"ip":"10.0.0.2","added_by_ecsnet":false}],"generation":3,"adopted":true}]}`
	l1, err := ReadLock(strings.NewReader(v1), "v1.json")
	if err != nil {
		t.Fatal(err)
	}
	want := &Lock{Fleet: "x", ENIs: []*LockedENI{
		{Name: "b-eth1", ID: "eni-2", AttachedTo: "b", DeviceIndex: 1, PrimaryIP: netip.MustParseAddr("10.0.0.9"), Secondary: []LockedAddr{}},
		{Instance: "a", ID: "eni-1", PrimaryIP: netip.MustParseAddr("10.0.0.1"), Generation: 3, Adopted: true, Secondary: []LockedAddr{
			{Addr: netip.MustParseAddr("10.0.0.2")}, {Addr: netip.MustParseAddr("10.0.0.3"), Added: true}}},
	}}
	// Sorted by key: eni/... before instance/...
	if diff := cmp.Diff(want, l1, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Fatalf("version 1 read (-want +got):\n%s", diff)
	}
	out := MarshalLock(l1)
	for _, s := range []string{`"format_version": 2`, `"found_ips": [
        "10.0.0.2"
      ]`, `"secondary_ips": [
        "10.0.0.2",
        "10.0.0.3"
      ]`} {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("the written lock lacks %s:\n%s", s, out)
		}
	}
	if bytes.Count(out, []byte("found_ips")) != 1 {
		t.Errorf("found_ips must be written only where an address was found:\n%s", out)
	}
	l2, err := ReadLock(bytes.NewReader(out), "v2.json")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(l1, l2, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Fatalf("version 2 round trip (-v1 +v2):\n%s", diff)
	}
}

func TestReadLockRefuses(t *testing.T) {
	head := `{"format_version":2,"fleet":"x","enis":[{"instance":"a","id":"eni-1","device_index":0,`
	for _, tc := range []struct{ name, src, want string }{
		{"bad address", head + `"secondary_ips":["10.0.0.2","10.0.0.300"],"generation":0}]}`, `instance/a: bad address "10.0.0.300" in secondary_ips`},
		{"IPv6", head + `"secondary_ips":["::1"],"generation":0}]}`, `bad address "::1"`},
		{"twice", head + `"secondary_ips":["10.0.0.2","10.0.0.2"],"generation":0}]}`, "10.0.0.2 is listed twice"},
		{"found not listed", head + `"secondary_ips":["10.0.0.2"],"found_ips":["10.0.0.3"],"generation":0}]}`, "found_ips lists 10.0.0.3"},
		{"objects in v2", head + `"secondary_ips":[{"ip":"10.0.0.2","added_by_ecsnet":true}],"generation":0}]}`, "list of address strings"},
		{"found in v1", `{"format_version":1,"fleet":"x","enis":[{"instance":"a","id":"eni-1","device_index":0,"secondary_ips":[],"found_ips":[],"generation":0}]}`, "format_version 2"},
		{"number", head + `"secondary_ips":[1],"generation":0}]}`, "quoted address"},
		{"escaped", head + `"secondary_ips":["10.0.0.\u0032"],"generation":0}]}`, "bad address"},
		{"unknown field", head + `"secondary_ips":[],"generation":0,"color":"red"}]}`, "unknown field"},
		{"newer", `{"format_version":3,"fleet":"x","enis":[]}`, "reads versions 1 and 2"},
		{"entry twice", `{"format_version":2,"fleet":"x","enis":[{"instance":"a","id":"eni-1","device_index":0,"secondary_ips":[],"generation":0},{"instance":"a","id":"eni-1","device_index":0,"secondary_ips":[],"generation":0}]}`, "instance/a is listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadLock(strings.NewReader(tc.src), "bad.lock.json")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.lock.json") {
				t.Fatalf("got %v, want an error naming the file and saying %q", err, tc.want)
			}
		})
	}
}
