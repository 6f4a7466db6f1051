package schema

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file is the one home of the rules for ecsnet's own names and for
// the shapes of the cloud's IDs and MACs. The decoder checks desired
// state with them, render checks every Host again with them before a
// value reaches a file or a script (a Host can be built by hand or from
// a damaged lock), and the CLI and the emulator check arguments and
// worlds with them. What the cloud's API accepts (NetworkInterfaceName
// is 2 to 128 characters, CJK included) is a different rule and stays in
// the emulator.
//
// The rules are regular expressions written out by hand: matching
// regexps was a tenth of the time of rendering a large fleet.
// TestNameRules holds each function to its expression (the ones
// ecsnet.cue spells out too), and FuzzNameRules keeps doing so.

// ValidName reports whether s may name an instance, an ENI, a vSwitch or
// a security group: a DNS label, ^[a-z][a-z0-9-]{0,61}[a-z0-9]$. The name
// becomes a directory name on the hosts and a tag value.
func ValidName(s string) bool {
	if len(s) < 2 || len(s) > 63 || !('a' <= s[0] && s[0] <= 'z') || !lowerOrDigit(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !lowerOrDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

// ValidInstanceID reports whether s looks like an instance ID: ^i-[a-z0-9]{4,40}$.
func ValidInstanceID(s string) bool { return validID(s, "i-") }

// ValidENIID reports whether s looks like an ENI ID: ^eni-[a-z0-9]{4,40}$.
func ValidENIID(s string) bool { return validID(s, "eni-") }

// ValidVSwitchID reports whether s looks like a vSwitch ID: ^vsw-[a-z0-9]{4,40}$.
func ValidVSwitchID(s string) bool { return validID(s, "vsw-") }

// ValidSecurityGroupID reports whether s looks like a security group ID:
// ^sg-[a-z0-9]{4,40}$.
func ValidSecurityGroupID(s string) bool { return validID(s, "sg-") }

// ValidVPCID reports whether s looks like a VPC ID: ^vpc-[a-z0-9]{4,40}$.
func ValidVPCID(s string) bool { return validID(s, "vpc-") }

// ValidMAC reports whether s is a MAC address as the cloud and the lock
// write it, lower-case with colons: ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$.
func ValidMAC(s string) bool {
	if len(s) != 17 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i%3 == 2 {
			if c != ':' {
				return false
			}
		} else if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// validID reports whether s is prefix followed by 4 to 40 lower-case
// letters and digits: the shape the cloud gives every resource's ID.
func validID(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) < 4 || len(rest) > 40 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !lowerOrDigit(rest[i]) {
			return false
		}
	}
	return true
}

// tagSafe is the character rule of a fleet name, ^[a-z0-9][a-z0-9._-]{0,62}$;
// ValidFleetName adds the rule about dots.
func tagSafe(s string) bool {
	if len(s) < 1 || len(s) > 63 || !lowerOrDigit(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !lowerOrDigit(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func lowerOrDigit(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// fleetNameRule is the hint for a fleet name ValidFleetName refuses.
const fleetNameRule = "use up to 63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit, without \"..\" or a '.' at the end (it is written into tags and names files on the hosts)"

// ValidFleetName reports whether s may name a fleet. The name is written
// into tags, and on every host it is a path element and a file name's
// stem (etc/ecsnet/<fleet>/, ecsnet-<fleet>.service): ".." or a trailing
// '.' would put a ".." into a path, which the renderers refuse. Render's
// own check must never be stricter than this one.
func ValidFleetName(s string) bool {
	return tagSafe(s) && !strings.Contains(s, "..") && !strings.HasSuffix(s, ".")
}

// fleetWhy says what makes a fleet name invalid.
func fleetWhy(s string) string {
	switch {
	case tagSafe(s) && strings.Contains(s, ".."):
		return `: it contains ".."`
	case tagSafe(s):
		return ": it ends with '.'"
	}
	return oddRune(s)
}

// nameWhy says what makes a name an invalid DNS label.
func nameWhy(s string) string {
	if why := oddRune(s); why != "" {
		return strings.TrimPrefix(why, ": ")
	}
	switch n := utf8.RuneCountInString(s); {
	case n < 2:
		return "it is shorter than 2 characters"
	case n > 63:
		return fmt.Sprintf("it has %d characters, more than 63", n)
	case s[0] < 'a' || s[0] > 'z':
		return "it does not start with a letter"
	}
	return "it ends with '-'"
}

// oddRune points out the first character that makes a name invalid, which
// matters most for look-alike Unicode letters.
func oddRune(s string) string {
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			return ": it contains white space"
		case r >= utf8.RuneSelf && !unicode.IsGraphic(r) || r == '\u200b' || r == '\ufeff':
			return fmt.Sprintf(": it contains %U, an invisible character", r)
		case r >= utf8.RuneSelf:
			return fmt.Sprintf(": it contains %U, a non-ASCII character that looks like %q", r, lookalike(r))
		}
		if unicode.IsUpper(r) {
			return fmt.Sprintf(": it contains the upper-case letter %q", r)
		}
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Sprintf(": it contains %q", r)
		}
	}
	return ""
}

func lookalike(r rune) string {
	switch r {
	case 'а':
		return "a"
	case 'е':
		return "e"
	case 'о', 'ο':
		return "o"
	case 'р':
		return "p"
	case 'с':
		return "c"
	case 'х':
		return "x"
	case 'і':
		return "i"
	}
	return string(r)
}
