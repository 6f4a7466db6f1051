package render

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// reconcileFunc returns the text of one bash function of the reconcile
// script's main (scripts/reconcile-main.sh).
func reconcileFunc(t *testing.T, name string) string {
	t.Helper()
	i := strings.Index(reconcileMain, "\n"+name+"() {")
	if i < 0 {
		t.Fatalf("reconcile-main.sh has no %s", name)
	}
	j := strings.Index(reconcileMain[i:], "\n}\n")
	if j < 0 {
		t.Fatalf("reconcile-main.sh: %s does not end", name)
	}
	return reconcileMain[i+1 : i+j+3]
}

// TestReconcileHTTPWithoutCurl: without curl the reconcile asks the
// metadata service with an HTTP/1.0 request over bash's /dev/tcp, and
// reads the answer strictly: the body of a 200 only, whole (as long as
// Content-Length says), never one that is not HTTP, and nothing of the
// answer is run.
func TestReconcileHTTPWithoutCurl(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	const macs = "00:16:3e:00:00:01/\n00:16:3e:00:00:02/"
	marker := filepath.Join(t.TempDir(), "ran")
	for _, tc := range []struct {
		name, answer string
		ok           bool
		want         string
	}{
		{"200", "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 37\r\n\r\n" + macs, true, macs},
		{"200 without length", "HTTP/1.1 200 OK\r\n\r\n" + macs + "\n", true, macs},
		{"404", "HTTP/1.0 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", false, "HTTP status 404"},
		{"cut short", "HTTP/1.0 200 OK\r\nContent-Length: 99\r\n\r\n" + macs, false, "cut short"},
		{"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n\r\n", false, "not HTTP"},
		{"no end of headers", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n", false, "no end of headers"},
		{"status line smuggling", "HTTP/1.0 200 $(touch " + marker + ")\r\n\r\n$(touch " + marker + ")`touch " + marker + "`", true, "$(touch " + marker + ")`touch " + marker + "`"},
		{"nothing", "", false, "no answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			reqs := make(chan string, 4)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					// The whole request, as a server reads it (bash may write
					// it a line at a time).
					var req []byte
					buf := make([]byte, 4096)
					for !strings.Contains(string(req), "\r\n\r\n") {
						n, err := c.Read(buf)
						req = append(req, buf[:n]...)
						if err != nil {
							break
						}
					}
					reqs <- string(req)
					if strings.HasPrefix(string(req), "GET ") {
						c.Write([]byte(tc.answer))
					} else {
						c.Write([]byte("HTTP/1.0 405 Method Not Allowed\r\n\r\n"))
					}
					c.Close()
				}
			}()
			script := "set -euo pipefail\n" + reconcileFunc(t, "reconcile_http") + reconcileFunc(t, "reconcile_get_tcp") +
				"METADATA_URL=\"$1\"\nif out=\"$(reconcile_get_tcp /latest/meta-data/network/interfaces/macs/)\"; then printf 'ok\\n%s' \"$out\"; else printf 'fail\\n%s' \"$out\"; fi\n"
			cmd := exec.Command(bash, "-c", script, "reconcile", "http://"+ln.Addr().String())
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			verdict, body, _ := strings.Cut(string(out), "\n")
			if (verdict == "ok") != tc.ok {
				t.Errorf("verdict %q, want ok=%v: %q", verdict, tc.ok, body)
			}
			if tc.ok && body != tc.want || !tc.ok && !strings.Contains(body, tc.want) {
				t.Errorf("got %q, want %q", body, tc.want)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("something of the answer was run")
			}
			var get string
			for range 2 {
				if r := <-reqs; strings.HasPrefix(r, "GET ") {
					get = r
				}
			}
			if get != "GET /latest/meta-data/network/interfaces/macs/ HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n" {
				t.Errorf("request %q", get)
			}
		})
	}
}
