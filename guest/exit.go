package guest

import (
	"fmt"
	"slices"
	"strings"
)

// Exit is how an apply payload ended on the host: its exit code. This is
// the one place the codes are named; the payload scripts under scripts/
// exit with them, and cmd/ecsnet explains a host's code with String.
type Exit int

// The exit codes of an apply payload.
const (
	// Applied: the bundle is applied and verified.
	Applied Exit = 0
	// Failed: the payload itself could not run; nothing was changed.
	Failed Exit = 1
	// Refused: refused before changing anything (the host is not one the
	// bundle can be applied to as it stands: among others, a secondary
	// ENI's interface that did not appear within the payload's wait).
	Refused Exit = 3
	// RolledBack: the apply, its verification or a probe after it (an
	// ENI's gateway, the metadata service) failed and the host was put
	// back as it was.
	RolledBack Exit = 5
	// Stranded: the apply failed and the rollback left differences, which
	// the output lists: fix them by hand.
	Stranded Exit = 6
)

// Exits returns every code above, in order.
func Exits() []Exit { return []Exit{Applied, Failed, Refused, RolledBack, Stranded} }

// ExitCodes lists every code with what it means, one a line behind
// indent ("  0  applied and verified"), for help text: the codes are
// spelled out here and nowhere else.
func ExitCodes(indent string) string {
	var b strings.Builder
	for _, e := range Exits() {
		fmt.Fprintf(&b, "%s%d  %s\n", indent, int(e), e)
	}
	return b.String()
}

// Known reports whether e is one of the codes above; any other code
// comes from something else on the host (a signal, the shell).
func (e Exit) Known() bool {
	return slices.Contains(Exits(), e)
}

// String says what e means for the host, as the report of a host step
// prints it after the code.
func (e Exit) String() string {
	switch e {
	case Applied:
		return "applied and verified"
	case Failed:
		return "could not run; nothing changed"
	case Refused:
		return "refused; nothing changed"
	case RolledBack:
		return "failed and rolled back; the host is as it was"
	case Stranded:
		return "failed, and the rollback left differences: fix by hand"
	}
	return fmt.Sprintf("exit code %d, not one of ecsnet's", int(e))
}

// ExitMeaning explains a host's exit code, or returns "" for a code that
// is not a payload's: plan.HostOptions.ExitMeaning takes it, since plan
// may not import guest.
func ExitMeaning(code int) string {
	if e := Exit(code); e.Known() {
		return e.String()
	}
	return ""
}
