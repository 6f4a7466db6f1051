package plan

import (
	"bytes"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/golden"
)

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// sample returns an observation whose lists are deliberately out of order.
func sample() *Observed {
	return &Observed{
		Region: "cn-hangzhou",
		VSwitches: []*ObservedVSwitch{
			{ID: "vsw-b", VPC: "vpc-1", Zone: "cn-hangzhou-i", CIDR: netip.MustParsePrefix("172.16.1.0/24"), AvailableIPs: 250},
			{ID: "vsw-a", VPC: "vpc-1", Zone: "cn-hangzhou-h", CIDR: netip.MustParsePrefix("172.16.0.0/24"), AvailableIPs: 240},
		},
		InstanceTypes: []TypeQuota{
			{Name: "ecs.g7.xlarge", MaxENIs: 4, MaxIPsPerENI: 15},
			{Name: "ecs.g7.large", MaxENIs: 3, MaxIPsPerENI: 6},
		},
		Instances: []*ObservedInstance{
			{
				ID: "i-2", Name: "lb-1", Type: "ecs.g7.large", Status: InstanceStopped, Zone: "cn-hangzhou-h", VPC: "vpc-1",
				OSType: "linux", PrimaryENI: "eni-p2", MAC: "00:16:3E:00:00:02", PrimaryIP: netip.MustParseAddr("172.16.0.12"),
			},
			{
				ID: "i-1", Name: "web-1", Type: "ecs.g7.xlarge", Status: InstanceRunning, Zone: "cn-hangzhou-h", VPC: "vpc-1",
				OSType: "windows", PrimaryENI: "eni-p1", MAC: "00:16:3e:00:00:01", PrimaryIP: netip.MustParseAddr("172.16.0.10"),
				SecondaryIPs:   addrs("172.16.0.200", "172.16.0.21", "172.16.0.9"),
				SecurityGroups: []string{"sg-web", "sg-db"},
			},
		},
		ENIs: []*ObservedENI{
			{
				ID: "eni-s1", Name: "vip", Description: `shop "VIP"`, Type: ENISecondary, Status: ENIInUse,
				InstanceID: "i-1", DeviceIndex: 2, VSwitch: "vsw-a", Zone: "cn-hangzhou-h", VPC: "vpc-1",
				MAC: "00:16:3e:00:00:11", PrimaryIP: netip.MustParseAddr("172.16.0.100"),
				SecondaryIPs:   addrs("172.16.0.102", "172.16.0.101"),
				SecurityGroups: []string{"sg-web"},
				Tags:           map[string]string{"ecsnet:name": "vip", "ecsnet:fleet": "shop-prod"},
			},
			{
				ID: "eni-p1", Type: ENIPrimary, Status: ENIInUse, InstanceID: "i-1", VSwitch: "vsw-a",
				Zone: "cn-hangzhou-h", VPC: "vpc-1", MAC: "00:16:3e:00:00:01", PrimaryIP: netip.MustParseAddr("172.16.0.10"),
				SecondaryIPs: addrs("172.16.0.9", "172.16.0.21", "172.16.0.200"), SecurityGroups: []string{"sg-web", "sg-db"},
			},
			{
				ID: "eni-s0", Type: ENISecondary, Status: ENIAttaching, InstanceID: "i-1", DeviceIndex: 1, VSwitch: "vsw-a",
				Zone: "cn-hangzhou-h", VPC: "vpc-1", MAC: "00:16:3e:00:00:10", PrimaryIP: netip.MustParseAddr("172.16.0.50"),
			},
			{
				ID: "eni-spare", Name: "spare", Type: ENISecondary, Status: ENIAvailable, VSwitch: "vsw-b",
				Zone: "cn-hangzhou-i", VPC: "vpc-1", MAC: "00:16:3e:00:00:20", PrimaryIP: netip.MustParseAddr("172.16.1.5"),
				Tags: map[string]string{"team": "other"},
			},
		},
	}
}

func writeSnapshot(t *testing.T, o *Observed) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := o.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSnapshotGolden(t *testing.T) {
	o := sample()
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	got := writeSnapshot(t, o)
	golden.Check(t, "testdata/snapshot.golden", got)

	// The same input gives the same bytes, and so does a round trip.
	again := sample()
	if err := again.Normalize(); err != nil {
		t.Fatal(err)
	}
	if b := writeSnapshot(t, again); !bytes.Equal(b, got) {
		t.Error("a second run wrote different bytes")
	}
	back, err := ReadSnapshot(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if b := writeSnapshot(t, back); !bytes.Equal(b, got) {
		t.Errorf("round trip changed the snapshot:\n%s", b)
	}
}

func TestSnapshotEmpty(t *testing.T) {
	o := &Observed{Region: "cn-beijing"}
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	got := writeSnapshot(t, o)
	want := `{
  "format_version": "1",
  "region": "cn-beijing",
  "vswitches": [],
  "instance_types": [],
  "instances": [],
  "enis": []
}
`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestNormalizeSortsAndIndexes(t *testing.T) {
	o := sample()
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range o.ENIs {
		ids = append(ids, e.ID)
	}
	if got := strings.Join(ids, ","); got != "eni-p1,eni-s0,eni-s1,eni-spare" {
		t.Errorf("ENIs in order %s", got)
	}
	in := o.Instance("i-1")
	if in == nil || in.SecondaryIPs[0] != netip.MustParseAddr("172.16.0.9") || in.SecondaryIPs[2] != netip.MustParseAddr("172.16.0.200") {
		t.Errorf("instance addresses not sorted numerically: %v", in)
	}
	if o.Instance("i-2").MAC != "00:16:3e:00:00:02" {
		t.Error("MAC not lower-cased")
	}
	if o.Instance("i-missing") != nil || o.ENI("eni-missing") != nil || o.VSwitch("vsw-missing") != nil {
		t.Error("look-up of a missing ID returned something")
	}
	var on []string
	for _, e := range o.ENIsOf("i-1") {
		on = append(on, e.ID)
	}
	if got := strings.Join(on, ","); got != "eni-p1,eni-s0,eni-s1" {
		t.Errorf("ENIsOf(i-1) = %s, want by device index", got)
	}
	if len(o.ENIsOf("i-2")) != 0 {
		t.Error("ENIsOf(i-2) should be empty")
	}
	if q, ok := o.InstanceType("ecs.g7.large"); !ok || q.MaxENIs != 3 || q.MaxIPsPerENI != 6 {
		t.Errorf("InstanceType = %+v, %v", q, ok)
	}
	if _, ok := o.InstanceType("ecs.none"); ok {
		t.Error("unknown type found")
	}
	if v := o.VSwitch("vsw-b"); v == nil || v.AvailableIPs != 250 {
		t.Errorf("VSwitch(vsw-b) = %+v", v)
	}
	if got := o.ENIsTagged("ecsnet:fleet", "shop-prod"); len(got) != 1 || got[0].ID != "eni-s1" {
		t.Errorf("ENIsTagged = %v", got)
	}
	if !o.ENI("eni-s0").Attached() || o.ENI("eni-spare").Attached() {
		t.Error("Attached is wrong")
	}
}

func TestLookupsBeforeNormalize(t *testing.T) {
	o := sample()
	if o.ENI("eni-s1") == nil || o.Instance("i-2") == nil || o.VSwitch("vsw-a") == nil {
		t.Fatal("linear look-ups failed")
	}
	if _, ok := o.InstanceType("ecs.g7.xlarge"); !ok {
		t.Fatal("type look-up failed")
	}
	if got := o.ENIsOf("i-1"); len(got) != 3 || got[0].ID != "eni-p1" || got[2].ID != "eni-s1" {
		t.Fatalf("ENIsOf before Normalize = %v", got)
	}
}

func TestNormalizeRejects(t *testing.T) {
	for name, mutate := range map[string]func(o *Observed){
		"duplicate ENI":      func(o *Observed) { o.ENIs = append(o.ENIs, &ObservedENI{ID: "eni-s1"}) },
		"duplicate instance": func(o *Observed) { o.Instances = append(o.Instances, &ObservedInstance{ID: "i-1"}) },
		"duplicate vswitch":  func(o *Observed) { o.VSwitches = append(o.VSwitches, &ObservedVSwitch{ID: "vsw-a"}) },
		"duplicate type":     func(o *Observed) { o.InstanceTypes = append(o.InstanceTypes, TypeQuota{Name: "ecs.g7.large"}) },
		"ENI without ID":     func(o *Observed) { o.ENIs = append(o.ENIs, &ObservedENI{}) },
		"repeated address": func(o *Observed) {
			o.ENIs[0].SecondaryIPs = addrs("172.16.0.5", "172.16.0.5")
		},
		"invalid address": func(o *Observed) { o.ENIs[0].SecondaryIPs = []netip.Addr{{}} },
		"host bits":       func(o *Observed) { o.VSwitches[0].CIDR = netip.MustParsePrefix("172.16.1.1/24") },
	} {
		t.Run(name, func(t *testing.T) {
			o := sample()
			mutate(o)
			if err := o.Normalize(); err == nil {
				t.Error("Normalize accepted it")
			}
		})
	}
}

func TestReadSnapshotStrict(t *testing.T) {
	good, err := os.ReadFile("testdata/snapshot.golden")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"not JSON", "[1,2]", "not a JSON object"},
		{"no version", `{"region":"x"}`, `no "format_version"`},
		{"other version", `{"format_version":"2","region":"x"}`, `format_version "2" is not supported`},
		{"numeric version", `{"format_version":1}`, `format_version 1 is not supported`},
		{"unknown field", strings.Replace(string(good), `"region"`, `"colour": "blue", "region"`, 1), `unknown field "colour"`},
		{"unknown nested field", strings.Replace(string(good), `"zone": "cn-hangzhou-h",`, `"zone": "cn-hangzhou-h", "az": 1,`, 1), `unknown field "az"`},
		{"trailing data", string(good) + "{}", "trailing data"},
		{"bad address", strings.Replace(string(good), `"172.16.0.101"`, `"172.16.0.300"`, 1), "172.16.0.300"},
		{"duplicate ENI", strings.Replace(string(good), `"id": "eni-s0"`, `"id": "eni-p1"`, 1), "ENI eni-p1 is listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSnapshot(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
