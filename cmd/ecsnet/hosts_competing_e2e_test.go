package main

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestHostsE2ECompeting: a network manager that would undo ecsnet's
// configuration at the next boot (here Alibaba Cloud's multi-nic-util on
// lb-1, which takes over its secondary ENI) makes push refuse the host
// before it changes anything, naming the finding and the fix; push
// --allow-competing and apply --hosts --allow-competing apply it, and push
// warns; verify shows the finding as a
// warning, in text and JSON, and exits 0 unless there is drift (issue 15,
// TestHostsE2ECompeting: a network manager that would undo ecsnet's
// configuration at the next boot (here Alibaba Cloud's multi-nic-util on
// lb-1, which takes over its secondary ENI) makes apply --hosts and push
// refuse the host before it changes anything, naming the finding and the
// fix; push --allow-competing applies it and warns; verify shows the
// finding as a warning, in text, JSON and markdown, and exits 0 unless
// there is drift; a later push that adds nothing new goes ahead with the
// warning (issue 15, "Preflight on the host").
func TestHostsE2ECompeting(t *testing.T) {
	t.Parallel() // hosts mode: each test has its own emulator and namespaces
	c := newHostsE2E(t)
	g := c.guest("lb-1")
	ctx := context.Background()
	if _, stderr, err := g.Exec(ctx, nil, "sh", "-c", "mkdir -p /etc/udev/rules.d && echo '# multi-nic-util (test stand-in)' >/etc/udev/rules.d/99-eni.rules"); err != nil {
		t.Fatalf("install multi-nic-util's rule: %v: %s", err, stderr)
	}
	const refusal = "refused: multi-nic-util would undo ecsnet's configuration at the next boot"
	before := c.liveState("lb-1")
	out, errs := c.must(exitError, "apply", "--auto-approve", "--hosts", c.dir)
	if !regexp.MustCompile(`lb-1 +\S+ +refused`).MatchString(out+errs) || !strings.Contains(out+errs, refusal) {
		t.Fatalf("apply --hosts: lb-1 was not refused\n%s\n%s", out, errs)
	}
	if after := c.liveState("lb-1"); !after.equal(before) {
		t.Errorf("the refused apply changed lb-1:\n--- before\n%s\n--- after\n%s", before, after)
	}

	// verify: lb-1 lacks its VIP (drift) and shows the finding (a fight
	// while no bundle of ecsnet's is kept there to judge it by).
	const warning = "warning: competing: multi-nic-util: Alibaba Cloud's multi-nic-util is installed (/etc/udev/rules.d/99-eni.rules)"
	code, vout := c.verify()
	if code != exitChanges || !strings.Contains(vout, warning) || !strings.Contains(vout, "fix: uninstall multi-nic-util") {
		t.Fatalf("verify with multi-nic-util on lb-1: exit %d, want %d and %q\n%s", code, exitChanges, warning, vout)
	}
	// push refuses lb-1 too, changing nothing, and repeats the finding.
	code, out, errs = c.run("push", "--instance", "lb-1", c.dir)
	if code != exitError || !regexp.MustCompile(`lb-1 +\S+ +refused`).MatchString(out) || !strings.Contains(out+errs, refusal) ||
		!strings.Contains(out+errs, "or push --allow-competing; nothing was changed") {
		t.Fatalf("push to lb-1 with multi-nic-util: exit %d, want %d and a refusal\n%s\n%s", code, exitError, out, errs)
	}
	if !strings.Contains(out, "ecsnet push: lb-1: "+warning) {
		t.Errorf("push does not repeat the finding after its report:\n%s", out)
	}
	if after := c.liveState("lb-1"); !after.equal(before) {
		t.Errorf("the refused push changed lb-1:\n--- before\n%s\n--- after\n%s", before, after)
	}

	// --allow-competing applies, and says what it found.
	code, out, errs = c.run("push", "--allow-competing", "--instance", "lb-1", c.dir)
	if code != exitOK || !regexp.MustCompile(`lb-1 +\S+ +applied`).MatchString(out) || !strings.Contains(out, "ecsnet push: lb-1: "+warning) {
		t.Fatalf("push --allow-competing: exit %d, want %d, applied, with the warning\n%s\n%s", code, exitOK, out, errs)
	}
	c.hostsRight("after push --allow-competing")
	// verify: in sync, with the finding, now judged by the bundle lb-1
	// keeps: it would undo ecsnet at the next boot.
	if code, vout := c.verify(); code != exitOK || !strings.Contains(vout, warning) || strings.Contains(vout, "DRIFT") ||
		!strings.Contains(vout, "(it would undo ecsnet's configuration at the next boot") {
		t.Errorf("verify after push --allow-competing: exit %d, want %d with the warning only\n%s", code, exitOK, vout)
	}
	code, out, errs = c.run("verify", "--format", "json", c.dir)
	var doc struct {
		Hosts []struct {
			Instance  string `json:"instance"`
			Competing []struct {
				Name         string `json:"name"`
				Detail       string `json:"detail"`
				Fix          string `json:"fix"`
				UndoesAtBoot bool   `json:"undoes_at_boot"`
			} `json:"competing"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != exitOK || err != nil {
		t.Fatalf("verify --format json: exit %d, %v\n%s\n%s", code, err, out, errs)
	}
	for _, h := range doc.Hosts {
		want := 0
		if h.Instance == "lb-1" {
			want = 1
		}
		if len(h.Competing) != want {
			t.Errorf("verify --format json: %s: competing %+v, want %d", h.Instance, h.Competing, want)
			continue
		}
		if want == 1 && (h.Competing[0].Name != "multi-nic-util" || !h.Competing[0].UndoesAtBoot || h.Competing[0].Fix == "" || h.Competing[0].Detail == "") {
			t.Errorf("verify --format json: lb-1: competing %+v", h.Competing[0])
		}
	}
	if !strings.Contains(out, `"competing": []`) {
		t.Errorf("verify --format json: a host without findings lacks \"competing\": []\n%s", out)
	}
	code, out, errs = c.run("verify", "--format", "markdown", c.dir)
	if code != exitOK || !strings.Contains(out, "| lb-1 | ") || !strings.Contains(out, "\n**lb-1**\n\n- "+warning) {
		t.Errorf("verify --format markdown: exit %d, want %d with lb-1's warning\n%s\n%s", code, exitOK, out, errs)
	}

	// An address ecsnet wrote, deleted by hand: a push without the flag
	// puts it back, since it adds nothing ecsnet had not configured.
	var gone string
	for _, a := range c.wantState("lb-1").Addrs {
		if strings.HasPrefix(a, "eth1 ") && strings.Contains(a, "172.16.0.101/") {
			gone = strings.TrimPrefix(a, "eth1 ")
		}
	}
	if gone == "" {
		t.Fatalf("lb-1's render has no 172.16.0.101 on eth1: %v", c.wantState("lb-1").Addrs)
	}
	if _, stderr, err := g.Exec(ctx, nil, "ip", "addr", "del", gone, "dev", "eth1"); err != nil {
		t.Fatalf("ip addr del: %v: %s", err, stderr)
	}
	code, out, errs = c.run("push", "--format", "markdown", "--instance", "lb-1", c.dir)
	if code != exitOK || !strings.Contains(out, "**Competing network managers** (warnings)\n\n- lb-1: multi-nic-util: ") {
		t.Errorf("push --format markdown after a hand deletion: exit %d, want %d with the warnings listed\n%s\n%s", code, exitOK, out, errs)
	}
	if !slices.Contains(c.liveState("lb-1").Addrs, "eth1 "+gone) {
		t.Errorf("push did not restore %s: %v", gone, c.liveState("lb-1").Addrs)
	}
}
