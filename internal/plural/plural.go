// Package plural writes a count with the noun that agrees with it, so
// that no output says "1 hosts changed".
package plural

import "strconv"

// Count returns n followed by one when n is 1 and by many otherwise:
// Count(1, "host", "hosts") is "1 host", Count(0, "host", "hosts") is
// "0 hosts". English forms its plurals too irregularly ("address",
// "addresses"; "vSwitch", "vSwitches") for a rule, so the caller names
// both.
func Count(n int, one, many string) string {
	return strconv.Itoa(n) + " " + Word(n, one, many)
}

// Word returns one when n is 1 and many otherwise: the form of a word
// that agrees with a count printed elsewhere, such as a verb ("1 address
// counts", "2 addresses count").
func Word(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
