package render_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/internal/hosttest/standin"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// TestWickedKeepsImageBootproto runs the SUSE apply script for real (in a
// network namespace, ROOT pointing at a scratch tree) over an image's
// ifcfg-eth0: the installed file keeps the image's DHCP BOOTPROTO
// ('dhcp4' on Alibaba Cloud's SLES images, which asks for no DHCPv6)
// rather than ecsnet's 'dhcp', and a second apply changes nothing
// (issue 12 item 19). wicked itself cannot run here; with ROOT set the
// script never calls it (ip(8) applies the live state), so a stand-in
// that fails if it is called answers the script's check that wicked is
// installed.
func TestWickedKeepsImageBootproto(t *testing.T) {
	const (
		root    = "/run/sles" // the namespace's private /run
		primary = "etc/sysconfig/network/ifcfg-eth0"
	)
	bin := t.TempDir()
	stand := "#!/bin/sh\necho \"wicked $*: called with ROOT set (test stand-in)\" >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "wicked"), []byte(stand), 0o755); err != nil {
		t.Fatal(err)
	}
	h := rtHosts(t, schema.StackWicked)[0]
	files := standin.Bundle(t, h)
	var rendered string
	for _, f := range files {
		if f.Path == primary {
			rendered = string(f.Data)
		}
	}
	if !strings.Contains(rendered, "\nBOOTPROTO='dhcp'\n") {
		t.Fatalf("the rendered %s has no BOOTPROTO='dhcp' line:\n%s", primary, rendered)
	}
	dir := rtWrite(t, h, files)
	for _, tt := range []struct{ image, want string }{
		{"dhcp4", "dhcp4"},
		{"dhcp", "dhcp"},
	} {
		t.Run(tt.image, func(t *testing.T) {
			ns := standin.Netns(t, h)
			image := "BOOTPROTO='" + tt.image + "'\nSTARTMODE='auto'\n"
			ns.WriteFile(t, root+"/"+primary, []byte(image), 0o644)
			apply := func(what string) string {
				t.Helper()
				out, errOut, err := ns.Exec(nil, "/usr/bin/env", "PATH="+bin+":/usr/sbin:/usr/bin:/sbin:/bin", "ROOT="+root,
					"/bin/bash", filepath.Join(dir, render.ScriptName))
				if err != nil {
					t.Fatalf("%s: %v\n%s%s", what, err, out, errOut)
				}
				return out + errOut
			}
			apply("first apply")
			got, _ := ns.ReadFile(t, root+"/"+primary)
			want := strings.Replace(rendered, "\nBOOTPROTO='dhcp'\n", "\nBOOTPROTO='"+tt.want+"'\n", 1)
			if got != want {
				t.Errorf("installed /%s:\n%s\nwant:\n%s", primary, got, want)
			}
			if kept, ok := ns.ReadFile(t, root+"/var/lib/ecsnet/"+h.Fleet+"/original/"+primary); !ok || kept != image {
				t.Errorf("the image's file was not kept: %q", kept)
			}
			if out := apply("second apply"); strings.Contains(out, "installed /") {
				t.Errorf("the second apply installed files again:\n%s", out)
			}
			if again, _ := ns.ReadFile(t, root+"/"+primary); again != want {
				t.Errorf("after the second apply /%s is:\n%s", primary, again)
			}
		})
	}
}
