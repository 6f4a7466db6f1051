package emulator

import "testing"

// TestDescribeInstanceTypesHasNoRegion: DescribeInstanceTypes has no
// RegionId parameter (the endpoint names the region), so the official SDK
// sends none and must be answered; the legacy SDK adds one, which must
// still be the world's.
func TestDescribeInstanceTypesHasNoRegion(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{})
	m := ok(t, e.cl.ecs(t, "DescribeInstanceTypes", "RegionId", "\x00", "InstanceTypes.1", "ecs.g7.large"))
	if n := len(list(m, "InstanceTypes", "InstanceType")); n != 1 {
		t.Errorf("%d instance types, want 1", n)
	}
	ok(t, e.cl.ecs(t, "DescribeInstanceTypes"))
	wantErr(t, e.cl.ecs(t, "DescribeInstanceTypes", "RegionId", "cn-beijing"), 404, "InvalidRegionId.NotFound")
	// Actions that have a RegionId still need it.
	wantErr(t, e.cl.ecs(t, "DescribeInstances", "RegionId", "\x00"), 400, "MissingParameter")
}
