package plan

import (
	"strings"
	"testing"
)

// TestTarget pins the text forms of a target (issue 13): what plans,
// step IDs and saved plans spell, byte for byte, and that ParseTarget
// reads back exactly what String writes and refuses anything else.
func TestTarget(t *testing.T) {
	for _, tt := range []struct {
		t    Target
		want string
	}{
		{ENITarget("vip"), "eni/vip"},
		{RemovedENITarget("vip", "eni-bp1vip"), "eni/vip@eni-bp1vip"},
		{InstanceTarget("web-1"), "instance/web-1"},
		{HostTarget("web-1"), "host/web-1"},
	} {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.t, got, tt.want)
		}
		back, err := ParseTarget(tt.want)
		if err != nil || back != tt.t {
			t.Errorf("ParseTarget(%q) = %#v, %v; want %#v", tt.want, back, err, tt.t)
		}
		if back.Removal() != strings.Contains(tt.want, "@") {
			t.Errorf("%q: Removal() = %v", tt.want, back.Removal())
		}
	}
	if s := (Target{}).String(); s != "" {
		t.Errorf("the zero Target reads %q", s)
	}
	for _, bad := range []string{"", "eni", "eni/", "eni/x@", "instance/", "host/", "vm/x", "/x"} {
		if got, err := ParseTarget(bad); err == nil {
			t.Errorf("ParseTarget(%q) = %#v, want an error", bad, got)
		}
	}
}

// FuzzParseTarget: whatever ParseTarget accepts, String gives back.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"eni/vip", "eni/vip@eni-1", "instance/web-1", "host/web-1", "eni/a@b@c", "x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			return
		}
		if tg.String() != s {
			t.Errorf("ParseTarget(%q).String() = %q", s, tg.String())
		}
	})
}
