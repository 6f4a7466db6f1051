package guest

import (
	"bufio"
	"fmt"
	"strings"
)

// Competing is a network manager on a host that competes with ecsnet's
// configuration, as the payload's preflight finds it on the host's files
// (scripts/preflight.sh, pf_scan): cloud-init rendering the network at
// every boot, nm-cloud-setup, Alibaba Cloud's multi-nic-util, a netplan
// file that sorts after ecsnet's, NetworkManager's automatic DHCP
// profiles. The apply payload prints each before it changes anything and
// refuses a host with one that would undo ecsnet at the next boot, unless
// PayloadOptions.AllowCompeting; the verify payload reports them all, and
// verify shows them as warnings.
type Competing struct {
	// Name is preflight's: cloud-init, nm-cloud-setup, multi-nic-util,
	// netplan or networkmanager-auto-default.
	Name string
	// Detail says what it does here, naming the file that shows it.
	Detail string
	// Fix says how to stop it.
	Fix string
	// Undo: it would undo ecsnet's configuration at the next boot, so an
	// apply refuses the host unless --allow-competing. Otherwise it only
	// fights at runtime or when an ENI is hot-plugged.
	Undo bool
}

// String is the finding in one sentence, as verify prints it.
func (c Competing) String() string {
	s := c.Name + ": " + c.Detail + "; fix: " + c.Fix
	if c.Undo {
		s += " (it would undo ecsnet's configuration at the next boot: push and apply --hosts refuse this host unless --allow-competing)"
	}
	return s
}

// parseCompeting reads one of pf_emit's lines: SEVERITY, NAME, DETAIL and
// FIX, tab-separated; SEVERITY is undo or fight.
func parseCompeting(line string) (Competing, error) {
	f := strings.Split(line, "\t")
	if len(f) != 4 || f[1] == "" || (f[0] != "undo" && f[0] != "fight") {
		return Competing{}, fmt.Errorf("live state: competing line %q: want SEVERITY (undo or fight), NAME, DETAIL and FIX, tab-separated", line)
	}
	return Competing{Undo: f[0] == "undo", Name: f[1], Detail: f[2], Fix: f[3]}, nil
}

// CompetingLines returns the findings an apply payload printed before it
// changed anything ("ecsnet: <instance>: competing: <name>: <detail>;
// fix: <fix>"), each as its text after "competing: ", in order.
func CompetingLines(output string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		rest, ok := strings.CutPrefix(line, "ecsnet: ")
		if !ok {
			continue
		}
		// The instance's name, then the finding: a "warning:" line that
		// quotes one is not one.
		if inst, finding, ok := strings.Cut(rest, ": competing: "); ok && !strings.ContainsAny(inst, " :") {
			out = append(out, finding)
		}
	}
	return out
}

// preflightMarker is the line of scripts/verify.sh that shVerify replaces
// with preflight.sh, so that the verify payload finds what the apply
// payload's preflight finds with the same code.
const preflightMarker = "# @PREFLIGHT@\n"

// shVerify is the Linux verify payload: verify.sh with preflight.sh's
// functions in it.
func shVerify() string {
	return strings.Replace(shVerifyPayload, preflightMarker, shPreflight, 1)
}
