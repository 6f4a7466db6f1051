package emulator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadWorldErrors: a broken world names what is wrong and where.
func TestReadWorldErrors(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(testWorldJSON, old) {
			t.Fatalf("test world lacks %q", old)
		}
		return strings.Replace(testWorldJSON, old, new, 1)
	}
	for _, c := range []struct {
		name, doc, want string
	}{
		{"unknown key", replace(`"Seed": 7,`, `"Seed": 7, "Sead": 8,`), `3:15: unknown key "Sead"`},
		{"unknown nested key", replace(`"VSwitchName": "a"`, `"Name": "a"`), `unknown key "Name"`},
		{"syntax", replace(`"Seed": 7,`, `"Seed": 7,,`), "3:14: invalid character"},
		{"type", replace(`"Seed": 7,`, `"Seed": "7",`), "field Seed: cannot use JSON string"},
		{"trailing data", testWorldJSON + "{}", "unexpected data after the top-level object"},
		{"no region", replace(`"RegionId": "cn-hangzhou",`, ``), "RegionId is required"},
		{"duplicate id", replace(`"SecurityGroupId": "sg-b"`, `"SecurityGroupId": "sg-a"`), `duplicate ID "sg-a"`},
		{"duplicate across kinds", replace(`"SecurityGroupId": "sg-b"`, `"SecurityGroupId": "vsw-a"`), `duplicate ID "vsw-a" (also VSwitches[0])`},
		{"duplicate ENI id", replace(`"NetworkInterfaceId": "eni-used"`, `"NetworkInterfaceId": "eni-prim-run"`), `duplicate ID "eni-prim-run"`},
		{"duplicate key id", replace(`"AccessKeyId": "STS.stsid"`, `"AccessKeyId": "testid"`), `duplicate AccessKeyId "testid"`},
		{"dangling vpc", replace(`{"VSwitchId": "vsw-b", "VpcId": "vpc-test"`, `{"VSwitchId": "vsw-b", "VpcId": "vpc-x"`), `VpcId "vpc-x" is not in Vpcs`},
		{"dangling vswitch", replace(`"VSwitchId": "vsw-b", "PrivateIpAddress": "10.0.2.10"`, `"VSwitchId": "vsw-x", "PrivateIpAddress": "10.0.2.10"`), `VSwitchId "vsw-x" is not in VSwitches`},
		{"dangling group", replace(`"SecurityGroupIds": ["sg-b"]}`, `"SecurityGroupIds": ["sg-x"]}`), `security group "sg-x" is not in SecurityGroups`},
		{"group of another vpc", replace(`"SecurityGroupIds": ["sg-b"]}`, `"SecurityGroupIds": ["sg-o"]}`), "security group sg-o is in VPC vpc-other, not vpc-test"},
		{"no group", replace(`"SecurityGroupIds": ["sg-b"]}`, `"SecurityGroupIds": []}`), "must name at least one group"},
		{"unknown type", replace(`"InstanceType": "ecs.e-c1m2.large"`, `"InstanceType": "ecs.zz.large"`), `InstanceType "ecs.zz.large" is neither built in nor in InstanceTypes`},
		{"bad status", replace(`"Status": "Pending"`, `"Status": "Asleep"`), `Status "Asleep" is not one of`},
		{"bad os", replace(`"OSType": "windows"`, `"OSType": "plan9"`), `OSType "plan9" is not linux or windows`},
		{"zone mismatch", replace(`"InstanceName": "far", "InstanceType": "ecs.g7.large", "Status": "Running",`,
			`"InstanceName": "far", "InstanceType": "ecs.g7.large", "Status": "Running", "ZoneId": "cn-hangzhou-h",`), "differs from vSwitch vsw-b's zone"},
		{"address outside", replace(`"PrivateIpAddress": "10.0.1.100"`, `"PrivateIpAddress": "10.0.9.100"`), "10.0.9.100 is outside vSwitch vsw-a"},
		{"address reserved", replace(`"PrivateIpAddress": "10.0.1.100"`, `"PrivateIpAddress": "10.0.1.254"`), "10.0.1.254 is reserved in vSwitch vsw-a"},
		{"address twice", replace(`"PrivateIpAddress": "10.0.1.100"`, `"PrivateIpAddress": "10.0.1.11"`), "10.0.1.11 is already held by i-run"},
		{"address malformed", replace(`"PrivateIpAddress": "10.0.1.100"`, `"PrivateIpAddress": "ten"`), `"ten" is not an IPv4 address`},
		{"mac malformed", replace(`"00:16:3e:00:01:01"`, `"00-16-3E-00-01-01"`), "is not a lower-case MAC"},
		{"mac twice", replace(`"00:16:3e:00:01:01"`, `"00:16:3e:00:00:01"`), "MacAddress 00:16:3e:00:00:01 is used twice"},
		{"vswitch outside vpc", replace(`"CidrBlock": "10.0.2.0/24"`, `"CidrBlock": "10.1.2.0/24"`), "is outside VPC vpc-test"},
		{"vswitch overlap", replace(`"CidrBlock": "10.0.2.0/24"`, `"CidrBlock": "10.0.1.128/25"`), "overlaps vSwitch vsw-a"},
		{"vswitch too small", replace(`"CidrBlock": "10.0.3.0/29"`, `"CidrBlock": "10.0.3.0/30"`), "must be /16 to /29"},
		{"cidr not canonical", replace(`"CidrBlock": "10.0.2.0/24"`, `"CidrBlock": "10.0.2.7/24"`), "is not an IPv4 block"},
		{"attached to unknown instance", replace(`"InstanceId": "i-run"}`, `"InstanceId": "i-x"}`), `InstanceId "i-x" is not in Instances`},
		{"available with instance", replace(`"InstanceId": "i-run"}`, `"InstanceId": "i-run", "Status": "Available"}`), "a Available ENI has no InstanceId"},
		{"attached across zones", replace(`"InstanceId": "i-run"}`, `"InstanceId": "i-zone"}`), "instance i-zone is in zone cn-hangzhou-i, the ENI in cn-hangzhou-h"},
		{"bad eni status", replace(`"InstanceId": "i-run"}`, `"InstanceId": "i-run", "Status": "Flying"}`), `Status "Flying" is not one of`},
		{"duplicate tag", replace(`"Tags": [{"TagKey": "team", "TagValue": "db"}]`, `"Tags": [{"TagKey": "team"}, {"TagKey": "team"}]`), "tag keys must be non-empty and unique"},
		{"device index twice", replace(`"InstanceId": "i-run"}`, `"InstanceId": "i-run", "DeviceIndex": 1}, {"VSwitchId": "vsw-a", "SecurityGroupIds": ["sg-a"], "InstanceId": "i-run", "DeviceIndex": 1}`), "DeviceIndex 1 is used twice on i-run"},
		{"negative quota", replace(`"Seed": 7,`, `"Seed": 7, "Quotas": {"SecurityGroupMaxIps": -1},`), "must not be negative"},
		{"new type without quantities", replace(`"Seed": 7,`, `"Seed": 7, "InstanceTypes": [{"InstanceTypeId": "ecs.new.large"}],`), "EniQuantity and EniPrivateIpAddressQuantity are required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadWorld(strings.NewReader(c.doc))
			if err == nil {
				t.Fatalf("accepted; want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// TestWorldDerivedValues: left-out IDs, MACs, addresses and device indexes
// are filled from the seed, consistently.
func TestWorldDerivedValues(t *testing.T) {
	doc := `{"RegionId": "cn-hangzhou", "Seed": 5,
	  "AccessKeys": [{"AccessKeyId": "testid", "AccessKeySecret": "testsecret"}],
	  "InstanceTypes": [{"InstanceTypeId": "ecs.g7.large", "EniQuantity": 5}, {"InstanceTypeId": "ecs.custom.large", "EniQuantity": 2, "EniPrivateIpAddressQuantity": 3, "AttachNeedsStopped": true}],
	  "Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "192.168.0.0/16"}],
	  "VSwitches": [{"VSwitchId": "vsw-1", "VpcId": "vpc-1", "ZoneId": "z", "CidrBlock": "192.168.0.0/29"}],
	  "SecurityGroups": [{"SecurityGroupId": "sg-1", "VpcId": "vpc-1"}],
	  "Instances": [{"InstanceId": "i-1", "InstanceType": "ecs.g7.large", "VSwitchId": "vsw-1", "SecurityGroupIds": ["sg-1"]}],
	  "NetworkInterfaces": [
	    {"VSwitchId": "vsw-1", "SecurityGroupIds": ["sg-1"], "InstanceId": "i-1", "DeviceIndex": 1},
	    {"VSwitchId": "vsw-1", "SecurityGroupIds": ["sg-1"], "InstanceId": "i-1"},
	    {"VSwitchId": "vsw-1", "SecurityGroupIds": ["sg-1"], "Status": "Deleting"}]}`
	w, err := ReadWorld(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := s.State()
	in := st.Instances[0]
	if in.Status != "Running" || in.OSType != "linux" || in.ZoneId != "z" || !strings.HasPrefix(in.NetworkInterfaceId, "eni-") ||
		!strings.HasPrefix(in.MacAddress, "00:16:3e:") || !strings.HasPrefix(in.PrivateIpAddress, "192.168.0.") {
		t.Errorf("instance defaults: %+v", in)
	}
	// The Deleting ENI is gone on the first look (AsyncDelay 0).
	if len(st.NetworkInterfaces) != 2 {
		t.Fatalf("ENIs: %+v", st.NetworkInterfaces)
	}
	idx := map[int]bool{}
	addrs := map[string]bool{in.PrivateIpAddress: true}
	for _, n := range st.NetworkInterfaces {
		idx[n.DeviceIndex] = true
		if n.Status != "InUse" || addrs[n.PrivateIpAddress] {
			t.Errorf("ENI %+v", n)
		}
		addrs[n.PrivateIpAddress] = true
	}
	if !idx[1] || !idx[2] {
		t.Errorf("device indexes %v, want 1 and 2", idx)
	}
	// A /29 has four usable addresses and three are held.
	if n := s.cloud.vswitches["vsw-1"].free(); n != 1 {
		t.Errorf("%d free, want 1", n)
	}
	if ty, _ := s.cloud.instanceType("ecs.g7.large"); ty.maxENIs != 5 || ty.maxIPs != 6 {
		t.Errorf("override: %+v", ty)
	}
	if ty, _ := s.cloud.instanceType("ecs.custom.large"); !ty.needsStopped || ty.maxIPs != 3 {
		t.Errorf("addition: %+v", ty)
	}
	// Same world, same values.
	s2, _ := New(w, Options{})
	if d := stateDiff(st, s2.State()); d != "" {
		t.Errorf("derived values differ between servers: %s", d)
	}
}

func TestNewNeedsAccessKeys(t *testing.T) {
	w := testWorld(t)
	w.AccessKeys = nil
	if _, err := New(w, Options{}); err == nil || !strings.Contains(err.Error(), "AccessKeys is empty") {
		t.Errorf("New without keys: %v", err)
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil) succeeded")
	}
}

// TestNewCopiesWorld: later edits to the world do not reach the server.
func TestNewCopiesWorld(t *testing.T) {
	w := testWorld(t)
	s, err := New(w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Instances[0].SecurityGroupIds[0] = "sg-b"
	w.NetworkInterfaces[0].Tags[0].TagValue = "changed"
	st := s.State()
	if st.Instances[1].SecurityGroupIds[0] != "sg-a" {
		t.Errorf("instance groups changed: %v", st.Instances[1])
	}
	for _, n := range st.NetworkInterfaces {
		for _, tg := range n.Tags {
			if tg.TagValue == "changed" {
				t.Error("tags shared with the caller's world")
			}
		}
	}
}

// TestExampleWorld: the bundled world loads, and ecsnet owns none of its
// ENIs yet.
func TestExampleWorld(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "fixtures", "world", "example.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := ReadWorld(f)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := s.State()
	if len(st.Instances) != 10 || len(st.VSwitches) != 4 || len(st.SecurityGroups) != 2 {
		t.Errorf("example world: %d instances, %d vSwitches, %d groups", len(st.Instances), len(st.VSwitches), len(st.SecurityGroups))
	}
	if len(st.NetworkInterfaces) < 2 || len(st.NetworkInterfaces) > 3 {
		t.Errorf("%d foreign ENIs, want 2-3", len(st.NetworkInterfaces))
	}
	for _, n := range st.NetworkInterfaces {
		for _, tg := range n.Tags {
			if strings.HasPrefix(strings.ToLower(tg.TagKey), "ecsnet") {
				t.Errorf("foreign ENI %s carries an ecsnet tag %q", n.NetworkInterfaceId, tg.TagKey)
			}
		}
	}
	found := false
	for _, k := range w.AccessKeys {
		found = found || k.AccessKeyId == "demo-access-key-id" && k.AccessKeySecret == "demo-access-key-secret"
	}
	if !found {
		t.Error("the demo access key is missing")
	}
}
