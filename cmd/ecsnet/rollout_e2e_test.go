package main

// End-to-end tests of apply --hosts's rollout across both layers and of a
// failover away from a dead source (issue 16), through the real SDK over
// HTTP against the emulator, whose Cloud Assistant answers through the
// Runner seam (newRunnerE2E): no root needed. The hosts-mode test with
// real guests is TestHostsE2EDeadSource.

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	ecssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/plan"
)

const (
	lb1ID = "i-bp1lb0000001"
	db1ID = "i-bp1db0000001"
)

// power calls StartInstance or StopInstance with the Alibaba Cloud SDK,
// as an operator's console would, and waits until DescribeInstances
// reports want.
func (c *e2e) power(action, instanceID string, want plan.InstanceStatus) {
	c.t.Helper()
	u, err := url.Parse(c.url)
	if err != nil {
		c.t.Fatal(err)
	}
	cl, err := ecssdk.NewClientWithAccessKey("cn-hangzhou", c.keyID, c.secret)
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Shutdown()
	switch action {
	case "StopInstance":
		r := ecssdk.CreateStopInstanceRequest()
		r.Domain, r.Scheme, r.InstanceId = u.Host, "http", instanceID
		_, err = cl.StopInstance(r)
	case "StartInstance":
		r := ecssdk.CreateStartInstanceRequest()
		r.Domain, r.Scheme, r.InstanceId = u.Host, "http", instanceID
		_, err = cl.StartInstance(r)
	default:
		c.t.Fatalf("power: %s", action)
	}
	if err != nil {
		c.t.Fatalf("%s %s: %v", action, instanceID, err)
	}
	ecl := c.client()
	for deadline := time.Now().Add(30 * time.Second); ; {
		ins, err := ecl.DescribeInstances(context.Background(), []string{instanceID})
		if err != nil {
			c.t.Fatal(err)
		}
		if len(ins) == 1 && ins[0].Status == want {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s %s: still %v after 30s", action, instanceID, ins)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestApplyHostsOneFailsOthersConfigured: a change to every host in which
// db-1's host step fails, with --max-failures 0 (the default): the hosts
// admitted with it (all of them, in one batch) are finished and end
// applied, db-1 is reported rolled back, and the run ends with the one
// push that finishes the job (issue 16: one failure stranded hosts whose
// cloud steps had run).
func TestApplyHostsOneFailsOthersConfigured(t *testing.T) {
	c, ran := newRunnerE2E(t, func(id string) bool { return id == db1ID })
	code, out, errs := c.run("apply", "--auto-approve", "--hosts", c.dir)
	if code != exitError {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if n := len(ran()); n != 9 {
		t.Errorf("%d hosts got a command, want all 9", n)
	}
	applied := regexp.MustCompile(`(?m)^  \S+ +i-\S+ +applied `)
	if n := len(applied.FindAllString(errs, -1)); n != 8 {
		t.Errorf("%d hosts applied, want 8:\n%s", n, errs)
	}
	if !regexp.MustCompile(`(?m)^  db-1 +i-bp1db0000001 +rolled back `).MatchString(errs) || !strings.Contains(errs, "Apply: 37 done, 1 failed, 0 skipped") {
		t.Errorf("db-1's failure:\n%s", errs)
	}
	want := "\nHosts to configure: db-1 was not configured in this run (the reason is on each host's line above). Once the cause is dealt with, run:\n" +
		"  ecsnet push --instance db-1 --endpoint " + c.url + " " + c.dir + "\n"
	if !strings.HasSuffix(errs, want) || strings.Contains(errs, "To finish:") {
		t.Errorf("apply does not end with the push that finishes the job:\n%s", errs)
	}
	c.must(exitOK, "plan", "--detailed-exitcode", c.dir)
}

// TestApplyHostsFormats: apply --hosts --format json and markdown report
// each host's outcome as push does, with the cloud steps' counts and the
// commands that finish the job (a canary that failed: the hosts not
// admitted are left to the same apply).
func TestApplyHostsFormats(t *testing.T) {
	for _, format := range []string{"json", "markdown"} {
		t.Run(format, func(t *testing.T) {
			c, _ := newRunnerE2E(t, func(id string) bool { return id == db1ID })
			code, out, errs := c.run("apply", "--auto-approve", "--hosts", "--canary", "2", "--format", format, c.dir)
			if code != exitError {
				t.Fatalf("exit %d\n%s\n%s", code, out, errs)
			}
			if !strings.Contains(errs, "instances to reconfigure with Cloud Assistant") {
				t.Errorf("the plan is not on stderr:\n%s", errs)
			}
			got := strings.NewReplacer(c.url, "URL", c.dir, "DIR").Replace(out)
			got = regexp.MustCompile(`"took_ms": \d+`).ReplaceAllString(got, `"took_ms": 0`)
			if format == "json" {
				var doc applyDoc
				if err := json.Unmarshal([]byte(out), &doc); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				if doc.Done != 1 || doc.Summary["rolled_back"] != 1 || doc.Summary["not_executed"] != 7 || doc.Converged || len(doc.ToFinish) != 2 {
					t.Errorf("report %+v", doc)
				}
			}
			golden.Check(t, filepath.Join("testdata", "apply-hosts", "canary."+map[string]string{"json": "json", "markdown": "md"}[format]), []byte(got))
		})
	}
}

// TestApplyHostsDeadSource: lb-1, which holds the VIP, is stopped
// through the API; the VIP moves to lb-2 with apply --hosts. The plan
// says lb-1's host-remove cannot run and what lb-1 keeps; apply skips it
// (not reachable, never done), moves the VIP in the cloud and configures
// lb-2; it exits 1 (the skipped step is not success) and ends with the
// push that cleans lb-1 once it is back, which then does (issue 16).
func TestApplyHostsDeadSource(t *testing.T) {
	c, ran := newRunnerE2E(t, nil)
	c.must(exitOK, "apply", "--auto-approve", "--hosts", c.dir)
	c.power("StopInstance", lb1ID, plan.InstanceStopped)
	c.edit(`attachTo: "lb-1"`, `attachTo: "lb-2"`)
	// The plan says so, in text, JSON and markdown.
	note := "host-remove host/lb-1 cannot run: lb-1 (i-bp1lb0000001) is Stopped. apply --hosts skips it (outcome: not reachable, not done) and goes on: the cloud detaches ENI vip anyway"
	for _, format := range []string{"text", "json", "markdown"} {
		if pout, _ := c.must(exitOK, "plan", "--hosts", "--format", format, c.dir); !strings.Contains(pout, note) {
			t.Errorf("plan --hosts --format %s does not say lb-1's host-remove cannot run:\n%s", format, pout)
		}
	}

	code, out, errs := c.run("apply", "--auto-approve", "--hosts", c.dir)
	if code != exitError {
		t.Fatalf("exit %d, want 1 (the host-remove did not run)\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, note) || !strings.Contains(out, "When lb-1 is back it still holds the configuration for 172.16.0.100, 172.16.0.101, 172.16.0.102: run ecsnet push --instance lb-1") {
		t.Errorf("the plan does not warn about lb-1:\n%s", out)
	}
	if !strings.Contains(errs, "  skipped  host-remove host/lb-1 ") || !strings.Contains(errs, "not reachable: lb-1 (i-bp1lb0000001) is Stopped; skipped") {
		t.Errorf("the skipped host-remove is not shown:\n%s", errs)
	}
	for _, s := range []string{"detach eni/vip", "attach eni/vip", "host-apply host/lb-2"} {
		if !strings.Contains(errs, "  done     "+s+" ") {
			t.Errorf("%s is not done:\n%s", s, errs)
		}
	}
	if !regexp.MustCompile(`(?m)^  lb-1 +i-bp1lb0000001 +not reachable +\d+\.\ds  lb-1 \(i-bp1lb0000001\) is Stopped$`).MatchString(errs) ||
		!regexp.MustCompile(`(?m)^  lb-2 +i-bp1lb0000002 +applied `).MatchString(errs) {
		t.Errorf("the host outcomes:\n%s", errs)
	}
	push := "ecsnet push --instance lb-1 --endpoint " + c.url + " " + c.dir
	if !strings.HasSuffix(errs, "When it is back (Running, with Cloud Assistant up), run:\n  "+push+"\n") {
		t.Errorf("apply does not end with the push that cleans lb-1:\n%s", errs)
	}
	if on := c.lock().Secondary("vip").AttachedTo; on != "lb-2" {
		t.Errorf("the VIP is on %q, want lb-2", on)
	}
	c.must(exitOK, "plan", "--detailed-exitcode", c.dir)

	// lb-1 comes back; the push cleans it.
	c.power("StartInstance", lb1ID, plan.InstanceRunning)
	if pout, perr := c.must(exitOK, strings.Fields(push)[1], strings.Fields(push)[2:]...); !strings.Contains(pout, "Push: 1 host done of 1: 1 applied") {
		t.Errorf("push lb-1:\n%s\n%s", pout, perr)
	}
	if !slices.Contains(ran(), lb1ID) {
		t.Errorf("lb-1 never got a command")
	}
}

// TestApplyHostsAgentDown: lb-1 runs, but its Cloud Assistant agent is
// not installed (DescribeCloudAssistantStatus says false). The plan says
// so; the failover goes on as for a stopped source, and lb-1 gets no
// command.
func TestApplyHostsAgentDown(t *testing.T) {
	c, ran := newRunnerE2E(t, nil)
	c.must(exitOK, "apply", "--auto-approve", "--hosts", c.dir)
	if err := c.srv.SetAgent(lb1ID, "NotInstalled"); err != nil {
		t.Fatal(err)
	}
	c.edit(`attachTo: "lb-1"`, `attachTo: "lb-2"`)
	n := len(ran())
	code, out, errs := c.run("apply", "--auto-approve", "--hosts", c.dir)
	if code != exitError {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "host-remove host/lb-1 cannot run: the Cloud Assistant agent of lb-1 (i-bp1lb0000001) is not running") {
		t.Errorf("the plan does not say lb-1's agent is down:\n%s", out)
	}
	if !strings.Contains(errs, "  done     attach eni/vip ") || !regexp.MustCompile(`(?m)^  lb-2 +i-bp1lb0000002 +applied `).MatchString(errs) {
		t.Errorf("the VIP did not move to a configured lb-2:\n%s", errs)
	}
	if !strings.Contains(errs, "  skipped  host-remove host/lb-1 ") {
		t.Errorf("lb-1's host-remove was not skipped:\n%s", errs)
	}
	if got := ran(); len(got) != n+1 || !slices.Contains(got, "i-bp1lb0000002") {
		t.Errorf("hosts with a command: %v, want those before (%d) and lb-2", got, n)
	}
}
