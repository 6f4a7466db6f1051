package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

func TestDNSName(t *testing.T) {
	for in, want := range map[string]string{
		"web-1":                  "web-1",
		"Web Server #1 (主)":      "web-server-1",
		"__db__primary__":        "db-primary",
		"1st-node":               "st-node",
		"主机":                     "",
		"a":                      "",
		"x-":                     "",
		strings.Repeat("ab", 40): strings.Repeat("ab", 31) + "a",
		"eni-bp1podpool00000001": "eni-bp1podpool00000001",
	} {
		if got := dnsName(in); got != want {
			t.Errorf("dnsName(%q) = %q, want %q", in, got, want)
		}
		if got := dnsName(in); got != "" && !schema.ValidName(got) {
			t.Errorf("dnsName(%q) = %q is no DNS label", in, got)
		}
	}
	u := namer{}
	got := []string{u.name("web", "i-1"), u.name("Web", "i-2"), u.name("web", "i-3"), u.name("主机", "i-bp1abc"), u.name(strings.Repeat("z", 70), "i-4"), u.name(strings.Repeat("z", 70), "i-5")}
	want := []string{"web", "web-2", "web-3", "i-bp1abc", strings.Repeat("z", 63), strings.Repeat("z", 61) + "-2"}
	if !slices.Equal(got, want) {
		t.Errorf("namer: %q, want %q", got, want)
	}
}
