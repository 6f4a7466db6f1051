package schema

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The rules of names.go as regular expressions: the specification the
// hand-written functions are held to, and the one ecsnet.cue spells out
// (TestCUESchemaMatchesGo).
var (
	reName       = regexp.MustCompile(`^[a-z][a-z0-9-]{0,61}[a-z0-9]$`)
	reFleet      = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	reFleetDots  = regexp.MustCompile(`\.\.|\.$`)
	reInstanceID = regexp.MustCompile(`^i-[a-z0-9]{4,40}$`)
	reENIID      = regexp.MustCompile(`^eni-[a-z0-9]{4,40}$`)
	reVSwitchID  = regexp.MustCompile(`^vsw-[a-z0-9]{4,40}$`)
	reGroupID    = regexp.MustCompile(`^sg-[a-z0-9]{4,40}$`)
	reVPCID      = regexp.MustCompile(`^vpc-[a-z0-9]{4,40}$`)
	reMAC        = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){5}$`)
)

// nameRules are the functions of names.go beside the expressions they
// implement.
var nameRules = []struct {
	name  string
	valid func(string) bool
	want  func(string) bool
}{
	{"ValidName", ValidName, reName.MatchString},
	{"ValidFleetName", ValidFleetName, func(s string) bool { return reFleet.MatchString(s) && !reFleetDots.MatchString(s) }},
	{"tagSafe", tagSafe, reFleet.MatchString},
	{"ValidInstanceID", ValidInstanceID, reInstanceID.MatchString},
	{"ValidENIID", ValidENIID, reENIID.MatchString},
	{"ValidVSwitchID", ValidVSwitchID, reVSwitchID.MatchString},
	{"ValidSecurityGroupID", ValidSecurityGroupID, reGroupID.MatchString},
	{"ValidVPCID", ValidVPCID, reVPCID.MatchString},
	{"ValidMAC", ValidMAC, reMAC.MatchString},
}

// TestNameRules holds each rule to its regular expression: on every short
// string over an alphabet of the characters that matter, and on valid
// values of every length around the limits with each byte replaced in
// turn.
func TestNameRules(t *testing.T) {
	alphabet := []string{"a", "f", "g", "z", "0", "9", "A", ":", ".", "_", "-", "/", "i", "e", "\xff", "\n", "é"}
	var inputs []string
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		inputs = append(inputs, prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(prefix+c, n-1)
		}
	}
	gen("", 3)
	inputs = append(inputs, "00:16:3e:0a:0b:0c", "web-1", "shop-prod", "a.b_c-d", "a..b", "a.", "i-bp1web000001", "eni-bp1data0001",
		"vsw-bp1s5fnvk4gn2tws03624", "sg-bp67acfmxazb4ph6a9v1", "eni-", "i-", "vsw-", "sg-", "vpc-", "vpc-bp1xxxxxxxx")
	for _, n := range []int{1, 2, 3, 4, 5, 39, 40, 41, 42, 61, 62, 63, 64, 65} {
		for _, base := range []string{"a", "0", "i-", "eni-", "vsw-", "sg-"} {
			inputs = append(inputs, base+strings.Repeat("a", n), base+strings.Repeat("0", n-1)+"a", base+strings.Repeat("a-", n/2)+"b")
		}
	}
	for _, s := range slices.Clone(inputs) {
		for i := 0; i < len(s) && len(s) > 8; i++ {
			for _, c := range []byte{'-', ':', 'G', 'g', '.', '/', 0} {
				b := []byte(s)
				b[i] = c
				inputs = append(inputs, string(b))
			}
		}
	}
	for _, r := range nameRules {
		for _, s := range inputs {
			if got, want := r.valid(s), r.want(s); got != want {
				t.Errorf("%s(%q) = %v, the expression says %v", r.name, s, got, want)
			}
		}
	}
}

// FuzzNameRules holds the rules to their expressions on any input.
func FuzzNameRules(f *testing.F) {
	for _, s := range []string{"00:16:3e:0a:0b:0c", "web-1", "a.b_c-d", "a..b", "i-bp1web000001", "eni-bp1data0001", "vsw-bp1s5fnvk4", "sg-bp67acfm"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range nameRules {
			if got, want := r.valid(s), r.want(s); got != want {
				t.Errorf("%s(%q) = %v, the expression says %v", r.name, s, got, want)
			}
		}
	})
}
