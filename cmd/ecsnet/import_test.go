package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/ecs/emulator"
	"github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

func TestImportArgs(t *testing.T) {
	tests := []struct {
		args []string
		err  string // "" for valid
	}{
		{args: []string{"eni-bp1abcd", "--as", "pool", "dir"}},
		{args: []string{"--all", "--region", "cn-hangzhou", "--vpc", "vpc-bp1abcd"}},
		{args: []string{"--all", "--region", "cn-hangzhou", "--vpc", "vpc-bp1abcd,vpc-bp1efgh", "--fleet", "shop.prod"}},
		{args: nil, err: "name the ENI to adopt"},
		{args: []string{"i-bp1abcd", "--as", "pool", "dir"}, err: "is not an ENI ID"},
		{args: []string{"eni-bp1abcd", "dir"}, err: "--as NAME is required"},
		{args: []string{"eni-bp1abcd", "--as", "Pool", "dir"}, err: "is not a DNS label"},
		{args: []string{"eni-bp1abcd", "--as", "pool-", "dir"}, err: "is not a DNS label"},
		{args: []string{"eni-bp1abcd", "--as", "pool"}, err: "name the desired-state files"},
		{args: []string{"eni-bp1abcd", "--as", "pool", "--fleet", "x", "dir"}, err: "go with --all"},
		{args: []string{"--all", "--as", "x", "--region", "cn-hangzhou", "--vpc", "vpc-bp1abcd"}, err: "use one of them"},
		{args: []string{"--all", "--region", "cn-hangzhou", "--vpc", "vpc-bp1abcd", "dir"}, err: "takes no arguments"},
		{args: []string{"--all", "--vpc", "vpc-bp1abcd"}, err: "needs --region"},
		{args: []string{"--all", "--region", "cn-hangzhou"}, err: "needs --vpc"},
		{args: []string{"--all", "--region", "cn-hangzhou", "--vpc", "vsw-bp1abcd"}, err: "is not a VPC ID"},
		{args: []string{"--all", "--region", "cn-hangzhou", "--vpc", "vpc-bp1abcd", "--fleet", "Shop"}, err: "is not a fleet name"},
		{args: []string{"--all", "--region", "cn-hangzhou", "--vpc", "vpc-bp1abcd", "--fleet", "shop..prod"}, err: "is not a fleet name"},
		{args: []string{"--all", "--region", "cn-hangzhou", "--vpc", "vpc-bp1abcd", "--fleet", "shop."}, err: "is not a fleet name"},
		{args: []string{"--all", "--region", "cn-hangzhou", "--vpc", "vpc-bp1abcd", "--lock", "x.json"}, err: "writes no lock"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var a importArgs
			fs := importFlags(&a)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := checkImportArgs(&a, fs)
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want one containing %q", err, tt.err)
			}
			// Through the CLI: exit 1 and the message, before any call.
			if tt.err != "" {
				code, _, errs := runCLI(t, append([]string{"import"}, tt.args...)...)
				if code != exitError || !strings.Contains(errs, tt.err) {
					t.Errorf("ecsnet import: exit %d, stderr:\n%s", code, errs)
				}
			}
		})
	}
	if code, out, _ := runCLI(t, "help", "import"); code != 0 || !strings.Contains(out, "ecsnet import --all --region") || !strings.Contains(out, "--as NAME") {
		t.Errorf("help import:\n%s", out)
	}
}

// TestImportWorldOSes: every OSName of the example world is one
// schema.OSFromImage is sure of, so import --all of it needs no check:.
func TestImportWorldOSes(t *testing.T) {
	w, err := exampleWorld()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range w.Instances {
		if _, sure := schema.OSFromImage(in.OSName, in.OSType); !sure {
			t.Errorf("%s: %q not recognised", in.InstanceId, in.OSName)
		}
	}
}

// importWorld adds to the example world what the import tests need: an
// ENI of another fleet, an ENI in a vSwitch and a group the fleet does not
// name, and an instance outside the fleet with an ENI attached.
func importWorld(w *emulator.World) {
	vpc := w.Vpcs[0].VpcId
	w.VSwitches = append(w.VSwitches, emulator.VSwitch{VSwitchId: "vsw-bp1extra00000h", VSwitchName: "extra", VpcId: vpc, ZoneId: "cn-hangzhou-h", CidrBlock: "172.16.9.0/24"})
	w.SecurityGroups = append(w.SecurityGroups, emulator.SecurityGroup{SecurityGroupId: "sg-bp1extra000001", SecurityGroupName: "extra", VpcId: vpc})
	w.Instances = append(w.Instances, emulator.Instance{InstanceId: "i-bp1batch000001", InstanceName: "Batch Worker #1 (主)", InstanceType: "ecs.g7.large",
		OSType: "linux", OSName: "Ubuntu 24.04 64 bit", VSwitchId: "vsw-bp1app0000h", PrivateIpAddress: "172.16.0.90", SecurityGroupIds: []string{"sg-bp1web000001"}})
	w.NetworkInterfaces = append(w.NetworkInterfaces,
		emulator.NetworkInterface{NetworkInterfaceId: "eni-bp1otherfleet0001", NetworkInterfaceName: "theirs", VSwitchId: "vsw-bp1data000h",
			SecurityGroupIds: []string{"sg-bp1web000001"}, PrivateIpAddress: "172.16.2.210",
			Tags: []emulator.Tag{{TagKey: plan.TagFleet, TagValue: "payments"}, {TagKey: plan.TagENI, TagValue: "theirs"}}},
		emulator.NetworkInterface{NetworkInterfaceId: "eni-bp1extra00000001", NetworkInterfaceName: "extra", VSwitchId: "vsw-bp1extra00000h",
			SecurityGroupIds: []string{"sg-bp1extra000001", "sg-bp1web000001"}, PrivateIpAddress: "172.16.9.10"},
		emulator.NetworkInterface{NetworkInterfaceId: "eni-bp1batchdata0001", NetworkInterfaceName: "batch data", Description: "https://wiki/batch",
			VSwitchId: "vsw-bp1data000h", SecurityGroupIds: []string{"sg-bp1web000001"}, PrivateIpAddress: "172.16.2.220",
			SecondaryPrivateIpAddresses: []string{"172.16.2.221"}, InstanceId: "i-bp1batch000001"},
		// Eleven addresses on an unbound ENI: more than ecsnet's default
		// unbound cap, which the cloud has since raised.
		emulator.NetworkInterface{NetworkInterfaceId: "eni-bp1bigspare00001", NetworkInterfaceName: "extra", Description: "spare pool",
			VSwitchId: "vsw-bp1data000i", SecurityGroupIds: []string{"sg-bp1db0000001"}, PrivateIpAddress: "172.16.3.100",
			SecondaryPrivateIpAddresses: []string{"172.16.3.101", "172.16.3.102", "172.16.3.103", "172.16.3.104", "172.16.3.105", "172.16.3.106",
				"172.16.3.107", "172.16.3.108", "172.16.3.109", "172.16.3.110", "172.16.3.111"}},
	)
}

// TestImportENI adopts two of the world's ENIs into the applied example,
// one unbound and one attached, and checks the refusals.
func TestImportENI(t *testing.T) {
	c := appliedE2E(t, importWorld)
	lockBefore, _ := os.ReadFile(c.lockPath())

	refusals := []struct {
		args []string
		want string
	}{
		{[]string{"eni-bp1web1primary0001", "--as", "web-1-main"}, "is the primary ENI of instance i-bp1web000001"},
		{[]string{"eni-bp1nosuch0000001", "--as", "ghost"}, "ENI eni-bp1nosuch0000001 was not found in the fleet's VPCs (vpc-bp1shop00000001) in cn-hangzhou"},
		{[]string{"eni-bp1otherfleet0001", "--as", "theirs"}, `carries the tags of fleet "payments"`},
		{[]string{"eni-bp1podpool00000001", "--as", "vip"}, `the desired state already has an ENI called "vip"`},
		{[]string{c.lockedID("eni/spare-1"), "--as", "spare-2"}, `carries this fleet's tags already, as "spare-1"`},
		{[]string{"eni-bp1extra00000001", "--as", "extra"}, "its vSwitch vsw-bp1extra00000h: add to vswitches:\n        \"vsw-bp1extra00000h\": {id: \"vsw-bp1extra00000h\", zone: \"cn-hangzhou-h\", cidr: \"172.16.9.0/24\"}\n" +
			"  - its security group sg-bp1extra000001: add to securityGroups:\n        \"sg-bp1extra000001\": {id: \"sg-bp1extra000001\"}\n"},
		{[]string{"eni-bp1batchdata0001", "--as", "batch"}, "the instance it is attached to, i-bp1batch000001: add it to instances"},
	}
	for _, r := range refusals {
		code, out, errs := c.run("import", append(r.args, c.dir)...)
		if code != exitError || out != "" || !strings.Contains(errs, r.want) {
			t.Errorf("import %s: exit %d, want 1 with %q\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), code, r.want, out, errs)
		}
	}
	c.wantCalls(map[string]int{})
	if lockAfter, _ := os.ReadFile(c.lockPath()); !bytes.Equal(lockBefore, lockAfter) {
		t.Errorf("a refused import changed the lock")
	}

	// Adopt the unbound pod pool: one TagResources call, the lock records
	// its addresses as found (not added by ecsnet), and the snippet, kept
	// as a file of its own, makes the plan empty.
	out, errs := c.must(exitOK, "import", "eni-bp1podpool00000001", "--as", "pod-pool", c.dir)
	want := `enis: "pod-pool": {
	id:             "eni-bp1podpool00000001"
	vswitch:        "data-i"
	securityGroups: ["db"]
	description:    "container pod address pool"
	primaryIp:      "172.16.3.200"
	secondaryIps: ["172.16.3.201", "172.16.3.202"]
}
`
	if out != want {
		t.Errorf("snippet:\n%s\nwant:\n%s", out, want)
	}
	if !strings.Contains(errs, "recorded in "+c.lockPath()+" with its 2 secondary addresses") {
		t.Errorf("stderr:\n%s", errs)
	}
	c.wantCalls(map[string]int{"TagResources": 1})
	if n := eniByID(c.srv.State(), "eni-bp1podpool00000001"); tag(*n, plan.TagFleet) != "shop-prod" || tag(*n, plan.TagENI) != "pod-pool" || tag(*n, "creator") != "terway" {
		t.Errorf("tags after import: %v", n.Tags)
	}
	e := c.lock().Secondary("pod-pool")
	if e == nil || e.ID != "eni-bp1podpool00000001" || e.PrimaryIP.String() != "172.16.3.200" || len(e.Secondary) != 2 || e.Secondary[0].Added || e.Secondary[1].Added {
		t.Errorf("lock entry: %+v", e)
	}
	if err := os.WriteFile(filepath.Join(c.dir, "pod-pool.cue"), []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	c.must(exitOK, "plan", "--detailed-exitcode", c.dir)

	// Adopt the monitoring ENI, attached to db-1, appended to the file.
	out, _ = c.must(exitOK, "import", "eni-bp1monitor00000001", "--as", "monitoring", c.dir)
	if !strings.Contains(out, `attachTo:       "db-1"`) || !strings.Contains(out, `description:    "metrics scraper link"`) {
		t.Errorf("snippet:\n%s", out)
	}
	src, _ := os.ReadFile(c.fleetPath())
	c.writeFleet(string(src) + "\n" + out)
	c.must(exitOK, "plan", "--detailed-exitcode", c.dir)
	c.must(exitError, "import", "eni-bp1monitor00000001", "--as", "monitoring-2", c.dir)
	c.wantCalls(map[string]int{"TagResources": 1})
	c.apply()
	c.wantCalls(map[string]int{})
	c.converged(nil)

	// An adopted ENI is managed like any other: move the pod pool.
	moved := strings.Replace(want, "\n}\n", "\n\tattachTo: \"cache-1\"\n}\n", 1)
	if err := os.WriteFile(filepath.Join(c.dir, "pod-pool.cue"), []byte(moved), 0o644); err != nil {
		t.Fatal(err)
	}
	c.apply()
	c.wantCalls(map[string]int{"AttachNetworkInterface": 1})
}

// TestImportAll writes a desired state for the example world's VPC before
// ecsnet has touched it; the file validates, plans empty, and applies with
// no change. It is pinned as a golden file for review by eye.
func TestImportAll(t *testing.T) {
	c := newE2E(t, func(w *emulator.World) {
		importWorld(w)
		w.InstanceTypes = append(w.InstanceTypes,
			emulator.InstanceType{InstanceTypeId: "ecs.g7.large", EniPrivateIpAddressQuantity: 10},                  // the cloud differs from ecsnet's table
			emulator.InstanceType{InstanceTypeId: "ecs.x9z.large", EniQuantity: 4, EniPrivateIpAddressQuantity: 12}, // not in the table
		)
		w.Instances = append(w.Instances, emulator.Instance{InstanceId: "i-bp1batch000002", InstanceName: "Batch Worker #1 (主)", InstanceType: "ecs.x9z.large",
			OSType: "windows", VSwitchId: "vsw-bp1app0000i", PrivateIpAddress: "172.16.1.90", SecurityGroupIds: []string{"sg-bp1db0000001"},
			SecondaryPrivateIpAddresses: []string{"172.16.1.91"}})
	})
	out, errs := c.must(exitOK, "import", "--all", "--region", "cn-hangzhou", "--vpc", "vpc-bp1shop00000001", "--fleet", "shop-prod")
	if !strings.Contains(errs, "it validates and its plan shows no changes") {
		t.Errorf("stderr:\n%s", errs)
	}
	golden.Check(t, filepath.Join("testdata", "import", "all.cue"), []byte(out))
	c.wantCalls(map[string]int{})
	again, _ := c.must(exitOK, "import", "--all", "--region", "cn-hangzhou", "--vpc", "vpc-bp1shop00000001", "--fleet", "shop-prod")
	if again != out {
		t.Errorf("two imports of the same cloud differ")
	}

	dir := filepath.Join(t.TempDir(), "imported")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, vout, verrs := runCLI(t, "validate", dir); code != exitOK {
		t.Fatalf("validate: exit %d\n%s%s", code, vout, verrs)
	}
	c.must(exitOK, "plan", "--detailed-exitcode", dir)
	c.calls()
	c.must(exitOK, "apply", dir)
	c.wantCalls(map[string]int{})
	l, err := schema.ReadLockFile(filepath.Join(dir, schema.LockFileName))
	if err != nil || l.Fleet != "shop-prod" {
		t.Fatalf("lock after the first apply: %v %+v", err, l)
	}
	for _, e := range l.ENIs {
		for _, a := range e.Secondary {
			if a.Added {
				t.Errorf("%s: %s recorded as added by ecsnet", e.Key(), a.Addr)
			}
		}
	}
	if e := l.Primary("batch-worker-1"); e == nil || e.ID == "" {
		t.Errorf("lock: no batch-worker-1: %+v", l.ENIs)
	}
}

// TestImportAllAfterApply imports a VPC where ecsnet already manages the
// example fleet: its ENIs keep their names, and the plan is empty.
func TestImportAllAfterApply(t *testing.T) {
	c := appliedE2E(t, nil)
	out, _ := c.must(exitOK, "import", "--all", "--region", "cn-hangzhou", "--vpc", "vpc-bp1shop00000001", "--fleet", "shop-prod")
	for _, name := range []string{`"vip": {`, `"api-1-pool": {`, `"spare-1": {`, `"legacy-nfs": {`, `"eni-bp1podpool00000001": {`} {
		if !strings.Contains(out, name) {
			t.Errorf("the written file has no %s", name)
		}
	}
	// Another fleet's name leaves the example's ENIs out.
	out, _ = c.must(exitOK, "import", "--all", "--region", "cn-hangzhou", "--vpc", "vpc-bp1shop00000001", "--fleet", "other")
	if strings.Contains(out, `"vip": {`) || !strings.Contains(out, `carries the tags of fleet "shop-prod"`) {
		t.Errorf("--fleet other:\n%s", out)
	}
	c.wantCalls(map[string]int{})
}
