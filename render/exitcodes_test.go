package render_test

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
)

// TestScriptExitCodesListed holds the "Exit codes:" sentence at the top of
// every shell script of every example bundle (ecsnet-apply.sh, the
// iproute2 boot script) to the codes the script exits with: a code used
// and not listed, or listed and never used, fails here. (The host exit
// codes the apply script's header names after its own are guest's:
// guest's TestExitCodesDocumented.)
func TestScriptExitCodesListed(t *testing.T) {
	exits := regexp.MustCompile(`\bexit ([0-9]+)\b`)
	item := regexp.MustCompile(`^\s*([0-9]+)\b`)
	for _, h := range standin.ExampleHosts(t) {
		for _, f := range standin.Bundle(t, h) {
			if !strings.HasSuffix(f.Path, ".sh") {
				continue
			}
			text := string(f.Data)
			_, rest, ok := strings.Cut(text, "# Exit codes:")
			if !ok {
				t.Errorf("%s/%s has no Exit codes: line", h.Name, f.Path)
				continue
			}
			sentence, _, _ := strings.Cut(strings.ReplaceAll(rest, "\n#", ""), ".")
			var listed []int
			for _, it := range strings.Split(sentence, ";") {
				if m := item.FindStringSubmatch(it); m != nil {
					n, _ := strconv.Atoi(m[1])
					listed = append(listed, n)
				}
			}
			used := []int{0} // a script that ends normally
			for _, m := range exits.FindAllStringSubmatch(text, -1) {
				n, _ := strconv.Atoi(m[1])
				used = append(used, n)
			}
			slices.Sort(used)
			used = slices.Compact(used)
			if !slices.Equal(listed, used) {
				t.Errorf("%s/%s lists exit codes %v and exits with %v", h.Name, f.Path, listed, used)
			}
		}
	}
}
