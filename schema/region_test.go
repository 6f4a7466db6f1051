package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const regionFleet = `fleet: shop-test
region: REGION
vswitches:
  app-a: {id: vsw-bp1app0000a, zone: ZONE, cidr: 172.16.0.0/24}
securityGroups:
  web: {id: sg-bp1web000001}
instances:
  web-1:
    id: i-bp1web000001
    type: ecs.g7.large
    os: centos7
    primary: {vswitch: app-a, ip: 172.16.0.10, securityGroups: [web]}
`

// TestRegionMessages pins issue 12 item 16: a region ecsnet does not know
// is accepted when the zones are in it (a region newer than ecsnet's
// list), reported once at the region when no zone is, and a known region
// keeps the zone as the error.
func TestRegionMessages(t *testing.T) {
	for _, c := range []struct{ region, zone, want string }{
		{"cn-newcity", "cn-newcity-a", ""},
		{"xx-newcity-1", "xx-newcity-1a", ""},
		{"cn-hangzou", "cn-hangzhou-h", `2:9: region: region "cn-hangzou" is not one ecsnet knows, and no vSwitch's zone is in it`},
		{"cn-shangai", "cn-beijing-a", `2:9: region: region "cn-shangai" is not one ecsnet knows`},
		{"cn-hangzhou", "cn-hangzou-h", `4:38: vswitches."app-a".zone: zone "cn-hangzou-h" is not a zone of region "cn-hangzhou"`},
	} {
		p := filepath.Join(t.TempDir(), "fleet.yaml")
		src := strings.NewReplacer("REGION", c.region, "ZONE", c.zone).Replace(regionFleet)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load([]string{p}, LoadOptions{})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("region %s, zone %s: %v", c.region, c.zone, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("region %s, zone %s: got %v, want %s", c.region, c.zone, err, c.want)
		case c.want != "" && len(err.(Errors)) != 1:
			t.Errorf("region %s, zone %s: %d errors, want 1: %v", c.region, c.zone, len(err.(Errors)), err)
		}
	}
}
