package schema

import (
	"slices"
	"strings"
)

// knownRegions lists Alibaba Cloud's public region IDs. It only shapes
// messages: a region missing from it is accepted like any other as long as
// the vSwitches' zones are in it, so a region opened after this list was
// written still works.
var knownRegions = []string{
	"cn-qingdao", "cn-beijing", "cn-zhangjiakou", "cn-huhehaote", "cn-wulanchabu",
	"cn-hangzhou", "cn-shanghai", "cn-nanjing", "cn-fuzhou", "cn-wuhan-lr",
	"cn-shenzhen", "cn-heyuan", "cn-guangzhou", "cn-chengdu", "cn-hongkong",
	"cn-shanghai-finance-1", "cn-shenzhen-finance-1", "cn-beijing-finance-1", "cn-north-2-gov-1",
	"ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ap-south-1",
	"us-east-1", "us-west-1", "na-south-1", "eu-west-1", "eu-central-1", "me-east-1", "me-central-1",
}

func knownRegion(r string) bool { return slices.Contains(knownRegions, r) }

// zoneSep is what separates a region ID from a zone's letter: "-" as in
// cn-hangzhou-h, nothing when the region ends in a digit (ap-southeast-1a).
func zoneSep(region string) string {
	if last := region[len(region)-1]; last >= '0' && last <= '9' {
		return ""
	}
	return "-"
}

// inRegion reports whether zone is a zone of region.
func inRegion(zone, region string) bool {
	rest, ok := strings.CutPrefix(zone, region+zoneSep(region))
	return ok && len(rest) == 1 && rest[0] >= 'a' && rest[0] <= 'z'
}

// zoneRegion returns the region a zone ID names: the zone without its
// letter; "" when zone does not look like a zone ID.
func zoneRegion(zone string) string {
	n := len(zone)
	if n < 3 || zone[n-1] < 'a' || zone[n-1] > 'z' {
		return ""
	}
	switch c := zone[n-2]; {
	case c == '-':
		return zone[:n-2]
	case c >= '0' && c <= '9':
		return zone[:n-1]
	}
	return ""
}
