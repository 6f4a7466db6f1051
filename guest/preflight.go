package guest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
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

// verifyWrapper runs the verify script it carries, gzip-compressed and
// Base64-encoded in place of verifyScriptMarker: verify.sh with
// preflight.sh is longer than one RunCommand call takes (16 KiB of
// Base64), and verify sends one script to every host.
//
//go:embed scripts/verify-wrapper.sh
var verifyWrapper string

const verifyScriptMarker = "@VERIFY_SCRIPT@\n"

// shVerify is the Linux verify payload: verify.sh with preflight.sh's
// functions in it, compressed into verifyWrapper. The same every time
// (gzip's header carries no name or time).
func shVerify() string {
	return strings.Replace(verifyWrapper, verifyScriptMarker, base64Lines(gzipBytes([]byte(shVerifyScript()))), 1)
}

// shVerifyScript is the verify script itself: verify.sh with
// preflight.sh's functions in it.
func shVerifyScript() string {
	return strings.Replace(shVerifyPayload, preflightMarker, shPreflight, 1)
}

func gzipBytes(data []byte) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // a valid level: no error
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}
