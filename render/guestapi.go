package render

import "github.com/ecsnet/ecsnet/schema"

// This file exports what package guest needs to wrap a bundle into a
// payload: the same quoting, header and checks the apply scripts use, so
// that a payload and the script it carries cannot disagree.

// ShellQuote quotes s as one bash word.
func ShellQuote(s string) string { return shq(s) }

// PowerShellQuote quotes s as one PowerShell expression of ASCII only.
func PowerShellQuote(s string) string { return psQuote(s) }

// PowerShellComment reduces s to printable ASCII, at most 120
// characters, for a PowerShell comment.
func PowerShellComment(s string) string { return psComment(s) }

// CheckPowerShellNIC validates what of n reaches a PowerShell script
// unquoted or as a number; primary is true for the primary ENI.
func CheckPowerShellNIC(n NIC, primary bool) error { return psCheckNIC(n, primary) }

// GeneratedBy is the header line every file ecsnet writes for h starts
// with, each line behind prefix.
func GeneratedBy(prefix string, h *Host) string { return generatedBy(prefix, h) }

// CheckPaths makes sure every path is a plain path under etc/ that the
// apply script's own checks accept.
func CheckPaths(paths []string) error {
	files := make([]File, len(paths))
	for i, p := range paths {
		files[i] = File{Path: p}
	}
	return checkPaths(files)
}

// OwnedPaths are the paths h's apply script creates beside its bundle's
// files (applyScript.owned), which a payload backs up too.
func OwnedPaths(h *Host) []string {
	var out []string
	if h.Stack == schema.StackIproute2 || needsPrimaryBoot(h) {
		out = append(out, iproute2WantsPath(h))
	}
	if needsReconcile(h) {
		out = append(out, reconcileWantsPath(h))
	}
	return out
}
